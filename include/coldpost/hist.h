/*
 * hist.h - a latency histogram with fixed buckets, for /metrics (the
 * Prometheus histogram type: cumulative buckets by upper bound `le`,
 * plus _sum and _count).
 *
 * The bounds are the same for every histogram (0.5 ms .. 10 s, then
 * +Inf): what coldpost times (a store commit's sync, a DNS round trip)
 * lands in that range, and one set keeps dashboards comparable. Adding is
 * lock-free (atomic increments), so any thread may add while another
 * reads; a read is not one instant's snapshot, which Prometheus allows.
 */
#ifndef COLDPOST_HIST_H
#define COLDPOST_HIST_H

#include <stdint.h>

#include "coldpost/buf.h"

#define CP_HIST_NBUCKETS 14 /* the last one is +Inf */

/* Upper bounds in seconds; [CP_HIST_NBUCKETS - 1] is +Inf. */
extern const double cp_hist_bounds[CP_HIST_NBUCKETS];

typedef struct cp_hist {
	uint64_t n[CP_HIST_NBUCKETS]; /* observations in each bucket (not
	                                 cumulative) */
	uint64_t count;
	uint64_t sum_ns;
} cp_hist;

/* Count one observation of ns nanoseconds (negative counts as 0). */
void cp_hist_add(cp_hist *h, int64_t ns);
/* Copy h into out with atomic loads. */
void cp_hist_read(const cp_hist *h, cp_hist *out);
/* Monotonic clock in nanoseconds, for the caller's start and end. */
int64_t cp_hist_now_ns(void);
/*
 * The histogram's samples in the text format: name_bucket{labels,le="..."}
 * for each bound (cumulative), name_sum (seconds) and name_count. labels
 * is "" or `key="value"` pairs without braces. The HELP/TYPE lines are the
 * caller's (one per family).
 */
int cp_hist_render(cp_buf *b, const char *name, const char *labels,
    const cp_hist *h);

#endif
