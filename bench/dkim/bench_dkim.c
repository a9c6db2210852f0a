/*
 * bench_dkim.c - DKIM messages signed or verified per second by coldpost,
 * the whole streaming path per message (signer or verifier created, the
 * raw message written, finish, freed), on one thread.
 *
 *   cp-bench-dkim sign KEY.pem SELECTOR DOMAIN SECONDS < message
 *   cp-bench-dkim verify ZONEFILE SECONDS < signed-message
 *
 * sign also measures, interleaved with it in slices of a tenth of the
 * time, the raw signature rate of the same key through OpenSSL (one
 * EVP_PKEY_sign of a SHA-256 digest, the context reused, as `openssl
 * speed` does), so the ratio holds even when the machine is busy.
 *
 * Keys for verify come from the fake resolver loaded with ZONEFILE, so the
 * figure is DKIM's cost without network DNS (a warm cache). Time is the
 * process's CPU time, as `openssl speed` counts it, so that other work on
 * the machine does not skew the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "coldpost/dkim.h"
#include "coldpost/dns.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
read_stdin(size_t *len)
{
	size_t cap = 1 << 16, n = 0, r;
	char *b = malloc(cap);

	while (b && (r = fread(b + n, 1, cap - n, stdin)) > 0) {
		n += r;
		if (n == cap)
			b = realloc(b, cap *= 2);
	}
	*len = n;
	return b;
}

int
main(int argc, char **argv)
{
	cp_err err = { 0 };
	size_t len, done = 0;
	char *msg = read_stdin(&len);
	double secs, t0, t;

	if (argc == 6 && strcmp(argv[1], "sign") == 0) {
		cp_dkim_key *key;
		cp_dkim_sign_opts o = { 0 };
		cp_buf out;
		FILE *f = fopen(argv[2], "r");
		EVP_PKEY *pk = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
		EVP_PKEY_CTX *pctx = NULL;
		EVP_MD_CTX *mctx = NULL;
		unsigned char dg[32] = { 1 }, sig[1024];
		size_t raw = 0, siglen;
		double t_cp = 0, t_raw = 0;

		if (f)
			fclose(f);
		if (pk == NULL || cp_dkim_key_load(argv[2], &key, &err) != CP_OK) {
			fprintf(stderr, "%s: %s\n", argv[2], err.msg);
			return 1;
		}
		if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
			pctx = EVP_PKEY_CTX_new(pk, NULL);
			EVP_PKEY_sign_init(pctx);
			EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING);
			EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256());
		} else {
			mctx = EVP_MD_CTX_new();
		}
		o.key = key;
		o.selector = argv[3];
		o.domain = argv[4];
		o.hcanon = o.bcanon = CP_DKIM_RELAXED;
		secs = atof(argv[5]) / 10;
		cp_buf_init(&out, 1 << 20);
		for (int slice = 0; slice < 10; slice++) {
			t0 = now_s();
			do {
				for (int i = 0; i < 10; i++) {
					cp_dkim_signer *s;

					cp_buf_reset(&out);
					if (cp_dkim_signer_new(&o, 1, &s, &err) != CP_OK ||
					    cp_dkim_signer_write(s, msg, len, &err) !=
						CP_OK ||
					    cp_dkim_signer_finish(s, "\r\n", &out,
						&err) != CP_OK) {
						fprintf(stderr, "%s\n", err.msg);
						return 1;
					}
					cp_dkim_signer_free(s);
					done++;
				}
				t = now_s() - t0;
			} while (t < secs);
			t_cp += t;
			t0 = now_s();
			do {
				for (int i = 0; i < 10; i++) {
					siglen = sizeof(sig);
					if (pctx)
						EVP_PKEY_sign(pctx, sig, &siglen, dg, 32);
					else if (EVP_DigestSignInit(mctx, NULL, NULL,
						     NULL, pk) > 0)
						EVP_DigestSign(mctx, sig, &siglen, dg, 32);
					raw++;
				}
				t = now_s() - t0;
			} while (t < secs);
			t_raw += t;
		}
		printf("coldpost sign (%s, %d bits): %zu messages in %.2f s = "
		       "%.0f msg/s; raw signatures interleaved: %.0f/s; "
		       "ratio %.1f%%\n", cp_dkim_alg_name(cp_dkim_key_alg(key)),
		    cp_dkim_key_bits(key), done, t_cp, (double)done / t_cp,
		    (double)raw / t_raw,
		    100.0 * ((double)done / t_cp) / ((double)raw / t_raw));
		cp_buf_free(&out);
		cp_dkim_key_free(key);
		EVP_PKEY_CTX_free(pctx);
		EVP_MD_CTX_free(mctx);
		EVP_PKEY_free(pk);
	} else if (argc == 4 && strcmp(argv[1], "verify") == 0) {
		cp_dns *dns = cp_dns_new_fake();
		cp_dkim_verify_opts o = { 0 };

		if (cp_dns_fake_load(dns, argv[2], &err) != CP_OK) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		o.dns = dns;
		secs = atof(argv[3]);
		t0 = now_s();
		do {
			for (int i = 0; i < 20; i++) {
				cp_dkim_verifier *v;

				if (cp_dkim_verifier_new(&o, &v, &err) != CP_OK ||
				    cp_dkim_verifier_write(v, msg, len, &err) != CP_OK ||
				    cp_dkim_verifier_finish(v, &err) != CP_OK ||
				    cp_dkim_verifier_status(v) != CP_DKIM_PASS) {
					fprintf(stderr, "verify failed: %s\n",
					    v && cp_dkim_verifier_count(v)
						? cp_dkim_verifier_result(v, 0)->why
						: err.msg);
					return 1;
				}
				cp_dkim_verifier_free(v);
				done++;
			}
			t = now_s() - t0;
		} while (t < secs);
		printf("coldpost verify: %zu messages in %.2f s = %.0f msg/s\n",
		    done, t, (double)done / t);
		cp_dns_free(dns);
	} else {
		fprintf(stderr, "usage: cp-bench-dkim sign KEY SELECTOR DOMAIN SECONDS"
				" < msg | verify ZONE SECONDS < signed\n");
		return 2;
	}
	free(msg);
	return 0;
}
