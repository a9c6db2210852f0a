/*
 * opendkim_driver.c - a small driver of libopendkim (OpenDKIM's library,
 * Debian libopendkim-dev) for the DKIM interoperability test and the
 * benchmark. Not part of coldpost: built by tests/integration/
 * dkim_interop.sh and bench/dkim/run.sh with
 *   cc -O2 -o opendkim_driver opendkim_driver.c $(pkg-config --cflags --libs opendkim)
 *
 *   opendkim_driver sign KEYFILE SELECTOR DOMAIN ALG HCANON BCANON < msg
 *       ALG rsa-sha256|ed25519-sha256, CANON simple|relaxed: the signed
 *       message on stdout (signature field first, CRLF line ends)
 *   opendkim_driver verify [KEYFILE_TABLE] < msg
 *       checks every signature; prints one line per signature; exit 0
 *       when all pass. Keys from DNS (the system resolver), or, with
 *       KEYFILE_TABLE, from a file of "NAME RECORD" lines (libopendkim's
 *       DKIM_QUERY_FILE), which the benchmark uses.
 *   opendkim_driver bench-sign N KEYFILE SELECTOR DOMAIN ALG < msg
 *   opendkim_driver bench-verify N KEYFILE_TABLE < msg
 *       N messages; prints "N SECONDS".
 *
 * The message must have CRLF line ends.
 */
#include <opendkim/dkim.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static unsigned char *msg;
static size_t msglen, hdrend; /* hdrend: offset of the body */

static void
die(const char *what, DKIM_STAT st)
{
	fprintf(stderr, "opendkim_driver: %s: %s\n", what, dkim_getresultstr(st));
	exit(2);
}

static void
read_msg(void)
{
	size_t cap = 1 << 16, n;

	msg = malloc(cap);
	while ((n = fread(msg + msglen, 1, cap - msglen, stdin)) > 0) {
		msglen += n;
		if (msglen == cap)
			msg = realloc(msg, cap *= 2);
	}
	for (hdrend = 0; hdrend + 1 < msglen; hdrend++) {
		if (hdrend + 3 < msglen && memcmp(msg + hdrend, "\r\n\r\n", 4) == 0) {
			hdrend += 4;
			return;
		}
	}
	hdrend = msglen;
}

/* Feed header fields (without their final CRLF), eoh, body, eom. */
static DKIM_STAT
feed(DKIM *d)
{
	size_t s = 0, i;
	DKIM_STAT st;

	while (s < hdrend) {
		if (msg[s] == '\r' && s + 1 < msglen && msg[s + 1] == '\n')
			break; /* the empty line */
		for (i = s; i + 1 < hdrend; i++)
			if (msg[i] == '\r' && msg[i + 1] == '\n' &&
			    (i + 2 >= hdrend || (msg[i + 2] != ' ' &&
						    msg[i + 2] != '\t')))
				break;
		st = dkim_header(d, msg + s, i - s);
		if (st != DKIM_STAT_OK)
			return st;
		s = i + 2;
	}
	st = dkim_eoh(d);
	if (st != DKIM_STAT_OK && st != DKIM_STAT_NOSIG)
		return st;
	if (msglen > hdrend && (st = dkim_body(d, msg + hdrend,
				    msglen - hdrend)) != DKIM_STAT_OK)
		return st;
	return dkim_eom(d, NULL);
}

static unsigned char *
read_key(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *k = calloc(1, 65536);
	size_t n;

	if (f == NULL || k == NULL) {
		perror(path);
		exit(2);
	}
	n = fread(k, 1, 65535, f);
	fclose(f);
	/* a bare base64 ed25519 seed: drop the newline */
	while (n > 0 && (k[n - 1] == '\n' || k[n - 1] == '\r'))
		k[--n] = '\0';
	return k;
}

static DKIM_LIB *
lib_new(const char *keytable)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);

	if (lib == NULL)
		die("dkim_init", DKIM_STAT_NORESOURCE);
	if (keytable != NULL) {
		dkim_query_t q = DKIM_QUERY_FILE;

		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &q,
		    sizeof(q));
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
		    (void *)keytable, strlen(keytable));
	}
	return lib;
}

static DKIM *
sign_one(DKIM_LIB *lib, unsigned char *key, const char *sel, const char *dom,
    const char *alg, dkim_canon_t hc, dkim_canon_t bc)
{
	DKIM_STAT st;
	DKIM *d = dkim_sign(lib, (const unsigned char *)"driver", NULL, key,
	    (const unsigned char *)sel, (const unsigned char *)dom, hc, bc,
	    strcmp(alg, "ed25519-sha256") == 0 ? DKIM_SIGN_ED25519SHA256
					       : DKIM_SIGN_RSASHA256,
	    -1, &st);

	if (d == NULL)
		die("dkim_sign", st);
	/*
	 * libopendkim 2.11.0~beta2 folds its ed25519 DKIM-Signature field one
	 * way when hashing it (b= still empty) and another way when writing
	 * it, so with simple header canonicalization its own signatures do
	 * not verify (neither OpenDKIM nor dkimpy accept them). Without
	 * folding the two agree.
	 */
	if (strcmp(alg, "ed25519-sha256") == 0 && hc == DKIM_CANON_SIMPLE)
		dkim_set_margin(d, 0);
	if ((st = feed(d)) != DKIM_STAT_OK)
		die("signing", st);
	return d;
}

static dkim_canon_t
canon(const char *s)
{
	return strcmp(s, "relaxed") == 0 ? DKIM_CANON_RELAXED : DKIM_CANON_SIMPLE;
}

static int
verify_one(DKIM_LIB *lib, int print)
{
	DKIM_STAT st;
	DKIM *d = dkim_verify(lib, (const unsigned char *)"driver", NULL, &st);
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0, bad = 0;

	if (d == NULL)
		die("dkim_verify", st);
	st = feed(d);
	if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK || nsigs == 0) {
		if (print)
			printf("none: %s\n", dkim_getresultstr(st));
		dkim_free(d);
		return 1;
	}
	for (int i = 0; i < nsigs; i++) {
		int ok = (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_PASSED) &&
		    dkim_sig_getbh(sigs[i]) == DKIM_SIGBH_MATCH;

		if (print)
			printf("%s d=%s: %s\n", ok ? "pass" : "fail",
			    dkim_sig_getdomain(sigs[i]),
			    dkim_sig_geterrorstr(dkim_sig_geterror(sigs[i])));
		bad += !ok;
	}
	dkim_free(d);
	return bad ? 1 : 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	DKIM_LIB *lib;

	if (argc >= 8 && strcmp(argv[1], "sign") == 0) {
		unsigned char *hdr;
		size_t len;
		DKIM *d;
		DKIM_STAT st;

		read_msg();
		lib = lib_new(NULL);
		d = sign_one(lib, read_key(argv[2]), argv[3], argv[4], argv[5],
		    canon(argv[6]), canon(argv[7]));
		st = dkim_getsighdr_d(d, strlen(DKIM_SIGNHEADER) + 2, &hdr, &len);
		if (st != DKIM_STAT_OK)
			die("dkim_getsighdr_d", st);
		printf("%s: ", DKIM_SIGNHEADER);
		/* its folding uses bare LF: CRLF like the message */
		for (size_t i = 0; i < len; i++) {
			if (hdr[i] == '\n' && (i == 0 || hdr[i - 1] != '\r'))
				putchar('\r');
			putchar(hdr[i]);
		}
		printf("\r\n");
		fwrite(msg, 1, msglen, stdout);
		dkim_free(d);
		dkim_close(lib);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
		int rc;

		read_msg();
		lib = lib_new(argc >= 3 ? argv[2] : NULL);
		rc = verify_one(lib, 1);
		dkim_close(lib);
		return rc;
	}
	if (argc >= 7 && strcmp(argv[1], "bench-sign") == 0) {
		long n = atol(argv[2]);
		unsigned char *key = read_key(argv[3]);
		double t0;

		read_msg();
		lib = lib_new(NULL);
		t0 = now_s();
		for (long i = 0; i < n; i++) {
			unsigned char *hdr;
			size_t len;
			DKIM *d = sign_one(lib, key, argv[4], argv[5], argv[6],
			    DKIM_CANON_RELAXED, DKIM_CANON_RELAXED);

			if (dkim_getsighdr_d(d, 16, &hdr, &len) != DKIM_STAT_OK)
				die("dkim_getsighdr_d", DKIM_STAT_INTERNAL);
			dkim_free(d);
		}
		printf("%ld %.6f\n", n, now_s() - t0);
		dkim_close(lib);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "bench-verify") == 0) {
		long n = atol(argv[2]);
		double t0;

		read_msg();
		lib = lib_new(argv[3]);
		t0 = now_s();
		for (long i = 0; i < n; i++)
			if (verify_one(lib, 0) != 0) {
				verify_one(lib, 1);
				fprintf(stderr, "opendkim_driver: verify failed\n");
				return 1;
			}
		printf("%ld %.6f\n", n, now_s() - t0);
		dkim_close(lib);
		return 0;
	}
	fprintf(stderr, "usage: opendkim_driver sign KEY SEL DOM ALG HCANON "
			"BCANON | verify [TABLE] | bench-sign N KEY SEL DOM ALG |"
			" bench-verify N TABLE  (message on stdin)\n");
	return 2;
}
