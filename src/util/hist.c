/*
 * hist.c - fixed-bucket latency histograms (see hist.h).
 *
 * Buckets are searched linearly: there are 14 and most observations fall
 * in the first few, so a binary search would not be faster.
 */
#include <time.h>

#include "coldpost/err.h"
#include "coldpost/hist.h"

const double cp_hist_bounds[CP_HIST_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 10, 0 /* +Inf */
};

void
cp_hist_add(cp_hist *h, int64_t ns)
{
	double s;
	int i = 0;

	if (ns < 0)
		ns = 0;
	s = (double)ns / 1e9;
	while (i < CP_HIST_NBUCKETS - 1 && s > cp_hist_bounds[i])
		i++;
	__atomic_fetch_add(&h->n[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->count, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum_ns, (uint64_t)ns, __ATOMIC_RELAXED);
}

void
cp_hist_read(const cp_hist *h, cp_hist *out)
{
	for (int i = 0; i < CP_HIST_NBUCKETS; i++)
		out->n[i] = __atomic_load_n(&h->n[i], __ATOMIC_RELAXED);
	out->count = __atomic_load_n(&h->count, __ATOMIC_RELAXED);
	out->sum_ns = __atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED);
}

int64_t
cp_hist_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
cp_hist_render(cp_buf *b, const char *name, const char *labels,
    const cp_hist *h)
{
	const char *sep = labels[0] != '\0' ? "," : "";
	cp_hist v;
	uint64_t cum = 0;
	int rc = CP_OK;

	cp_hist_read(h, &v);
	for (int i = 0; rc == CP_OK && i < CP_HIST_NBUCKETS; i++) {
		cum += v.n[i];
		if (i == CP_HIST_NBUCKETS - 1)
			rc = cp_buf_addf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n",
			    name, labels, sep, (unsigned long long)cum);
		else
			rc = cp_buf_addf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n",
			    name, labels, sep, cp_hist_bounds[i],
			    (unsigned long long)cum);
	}
	if (rc == CP_OK)
		rc = cp_buf_addf(b, "%s_sum%s%s%s %.9f\n%s_count%s%s%s %llu\n",
		    name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
		    (double)v.sum_ns / 1e9, name, labels[0] ? "{" : "", labels,
		    labels[0] ? "}" : "", (unsigned long long)v.count);
	return rc;
}
