/* Unit tests: VERP return paths and the retry schedule (src/queue/verp.c). */
#include <stdint.h>
#include <string.h>

#include "coldpost/verp.h"
#include "cptest.h"

static const unsigned char secret[] = "s3cret";
#define SECRET_LEN (sizeof(secret) - 1)

/* Tags from `echo -n ID | openssl dgst -sha256 -hmac s3cret`, first 8. */
static const struct {
	int64_t id;
	const char *addr;
} vectors[] = {
	{ 0, "bounce+0-45777a81@b.example" },
	{ 1, "bounce+1-c4ab428b@b.example" },
	{ 42, "bounce+42-982005f6@b.example" },
	{ 123456, "bounce+123456-237647f7@b.example" },
	{ INT64_MAX, "bounce+9223372036854775807-2358c018@b.example" },
};

CP_TEST(verp_encode_vectors)
{
	for (size_t i = 0; i < CP_NELEM(vectors); i++) {
		char out[128];
		cp_err err = { 0 };
		int rc = cp_verp_encode("bounce", "b.example", vectors[i].id,
		    secret, SECRET_LEN, out, sizeof(out), &err);

		CP_CHECK(rc == CP_OK, "case %zu: %s", i, err.msg);
		CP_CHECK_STR(out, vectors[i].addr);
	}
}

CP_TEST(verp_round_trip)
{
	static const int64_t ids[] = { 0, 7, 99, 1000000007, INT64_MAX - 1 };

	for (size_t i = 0; i < CP_NELEM(ids); i++) {
		char out[128];
		int64_t got = -1;
		cp_err err = { 0 };

		CP_CHECK_INT(cp_verp_encode("rp", "bounces.example.net", ids[i],
		    secret, SECRET_LEN, out, sizeof(out), &err), CP_OK);
		CP_CHECK_INT(cp_verp_decode("rp", "bounces.example.net", out,
		    secret, SECRET_LEN, &got, &err), CP_OK);
		CP_CHECK_INT(got, ids[i]);
	}
}

CP_TEST(verp_decode_accepts)
{
	static const char *const ok[] = {
		"bounce+42-982005f6@b.example",
		"<bounce+42-982005f6@b.example>",   /* as in MAIL FROM */
		"BOUNCE+42-982005F6@B.EXAMPLE",     /* case folded on the way */
		"Bounce+42-982005f6@b.Example",
	};

	for (size_t i = 0; i < CP_NELEM(ok); i++) {
		int64_t got = -1;
		cp_err err = { 0 };
		int rc = cp_verp_decode("bounce", "b.example", ok[i], secret,
		    SECRET_LEN, &got, &err);

		CP_CHECK(rc == CP_OK && got == 42, "case %zu (%s): rc %d id %lld"
		    " (%s)", i, ok[i], rc, (long long)got, err.msg);
	}
}

CP_TEST(verp_decode_refuses)
{
	static const char *const bad[] = {
		"bounce+42-982005f7@b.example",      /* bad tag */
		"bounce+43-982005f6@b.example",      /* tag of another id */
		"bounce+42-982005f6@c.example",      /* other domain */
		"bounce+42-982005f6@b.example.org",  /* other domain, longer */
		"bounce+42-982005f6@example",        /* suffix of ours */
		"bouncer+42-982005f6@b.example",     /* other prefix */
		"other+42-982005f6@b.example",
		"bounce-42-982005f6@b.example",      /* no '+' */
		"bounce+42982005f6@b.example",       /* no '-' */
		"bounce+042-982005f6@b.example",     /* leading zero */
		"bounce+-982005f6@b.example",        /* empty id */
		"bounce+4x2-982005f6@b.example",     /* not a number */
		"bounce+9223372036854775808-00000000@b.example", /* overflow */
		"bounce+42-982005f@b.example",       /* short tag */
		"bounce+42-982005f6a@b.example",     /* long tag */
		"bounce+42-98200gf6@b.example",      /* not hex */
		"bounce+42-982005f6",                /* no domain */
		"bounce@b.example",
		"",
		"@b.example",
		"<>",
	};

	for (size_t i = 0; i < CP_NELEM(bad); i++) {
		int64_t got = -1;
		cp_err err = { 0 };
		int rc = cp_verp_decode("bounce", "b.example", bad[i], secret,
		    SECRET_LEN, &got, &err);

		CP_CHECK(rc == CP_ENOTFOUND, "case %zu (%s): rc %d", i, bad[i],
		    rc);
		CP_CHECK(got == -1, "case %zu: id written on failure", i);
		CP_CHECK(err.msg[0] != '\0', "case %zu: no message", i);
	}
}

CP_TEST(verp_other_secret)
{
	int64_t got = -1;
	static const unsigned char other[] = "s3cre7";

	CP_CHECK_INT(cp_verp_decode("bounce", "b.example",
	    "bounce+42-982005f6@b.example", other, sizeof(other) - 1, &got,
	    NULL), CP_ENOTFOUND);
}

CP_TEST(verp_encode_errors)
{
	char out[64];
	cp_err err = { 0 };

	memset(out, 'x', sizeof(out));
	CP_CHECK_INT(cp_verp_encode("bounce", "b.example", 42, secret,
	    SECRET_LEN, out, 20, &err), CP_ETOOBIG);
	CP_CHECK_STR(out, "");
	/* exactly the length plus the NUL fits */
	CP_CHECK_INT(cp_verp_encode("bounce", "b.example", 42, secret,
	    SECRET_LEN, out, strlen(vectors[2].addr) + 1, &err), CP_OK);
	CP_CHECK_STR(out, vectors[2].addr);
	CP_CHECK_INT(cp_verp_encode("bounce", "b.example", 42, secret,
	    SECRET_LEN, out, strlen(vectors[2].addr), &err), CP_ETOOBIG);
	CP_CHECK_INT(cp_verp_encode("bounce", "b.example", -1, secret,
	    SECRET_LEN, out, sizeof(out), &err), CP_EINVAL);
	CP_CHECK_INT(cp_verp_encode("", "b.example", 1, secret, SECRET_LEN,
	    out, sizeof(out), &err), CP_EINVAL);
	CP_CHECK_INT(cp_verp_encode("bounce", "", 1, secret, SECRET_LEN, out,
	    sizeof(out), &err), CP_EINVAL);
}

CP_TEST(retry_delay_schedule)
{
	static const int64_t sched[] = { 1000, 2000, 5000 };
	static const int64_t one[] = { 60000 };

	CP_CHECK_INT(cp_retry_delay_ms(sched, 3, 1), 1000);
	CP_CHECK_INT(cp_retry_delay_ms(sched, 3, 2), 2000);
	CP_CHECK_INT(cp_retry_delay_ms(sched, 3, 3), 5000);
	CP_CHECK_INT(cp_retry_delay_ms(sched, 3, 4), 5000);  /* last repeats */
	CP_CHECK_INT(cp_retry_delay_ms(sched, 3, 1000), 5000);
	CP_CHECK_INT(cp_retry_delay_ms(sched, 3, 0), 1000);  /* not yet failed */
	CP_CHECK_INT(cp_retry_delay_ms(one, 1, 7), 60000);
}
