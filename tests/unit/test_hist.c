/* Unit tests: src/util/hist.c (latency histograms for /metrics). */
#include <string.h>

#include "coldpost/buf.h"
#include "coldpost/err.h"
#include "coldpost/hist.h"
#include "cptest.h"

CP_TEST(hist_buckets_cumulative_and_sum)
{
	cp_hist h;
	cp_buf b;

	memset(&h, 0, sizeof(h));
	cp_hist_add(&h, 300000);      /* 0.3 ms: le 0.0005 */
	cp_hist_add(&h, 500000);      /* 0.5 ms exactly: still le 0.0005 */
	cp_hist_add(&h, 7000000);     /* 7 ms: le 0.01 */
	cp_hist_add(&h, 60000000000); /* 60 s: only +Inf */
	cp_hist_add(&h, -5);          /* a clock step back counts as 0 */
	CP_CHECK_INT((long long)h.count, 5);
	CP_CHECK_INT((long long)h.n[0], 3);
	CP_CHECK_INT((long long)h.n[4], 1);
	CP_CHECK_INT((long long)h.n[CP_HIST_NBUCKETS - 1], 1);
	cp_buf_init(&b, 1 << 16);
	CP_CHECK_INT(cp_hist_render(&b, "x_seconds", "kind=\"a\"", &h), CP_OK);
	CP_CHECK_INT(cp_buf_addc(&b, '\0'), CP_OK);
	CP_CHECK(strstr(b.data, "x_seconds_bucket{kind=\"a\",le=\"0.0005\"} 3\n")
	    != NULL, "first bucket");
	CP_CHECK(strstr(b.data, "x_seconds_bucket{kind=\"a\",le=\"0.005\"} 3\n")
	    != NULL, "cumulative before 7 ms");
	CP_CHECK(strstr(b.data, "x_seconds_bucket{kind=\"a\",le=\"0.01\"} 4\n")
	    != NULL, "cumulative with 7 ms");
	CP_CHECK(strstr(b.data, "x_seconds_bucket{kind=\"a\",le=\"10\"} 4\n")
	    != NULL, "60 s is above the last bound");
	CP_CHECK(strstr(b.data, "x_seconds_bucket{kind=\"a\",le=\"+Inf\"} 5\n")
	    != NULL, "+Inf holds all");
	CP_CHECK(strstr(b.data, "x_seconds_sum{kind=\"a\"} 60.007800000\n") !=
	    NULL, "sum in seconds");
	CP_CHECK(strstr(b.data, "x_seconds_count{kind=\"a\"} 5\n") != NULL,
	    "count");
	b.len = 0;
	CP_CHECK_INT(cp_hist_render(&b, "y", "", &h), CP_OK);
	CP_CHECK_INT(cp_buf_addc(&b, '\0'), CP_OK);
	CP_CHECK(strstr(b.data, "y_bucket{le=\"1\"} 4\ny_bucket{le=\"2.5\"}") !=
	    NULL, "no labels");
	CP_CHECK(strstr(b.data, "y_count 5\n") != NULL, "bare count");
	cp_buf_free(&b);
}
