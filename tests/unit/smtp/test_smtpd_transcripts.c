/*
 * Unit tests: the smtpd core against what real clients send. Each file of
 * tests/data/smtpd/ is a session recorded from swaks or Python's smtplib
 * (see SOURCE.md there): the client's reads, the server's replies, the
 * TLS handshake and the messages. Replayed read by read, every reply and
 * message must come out the same; replayed byte by byte, the whole
 * reply stream and the messages too.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cptest.h"
#include "smtpd_harness.h"

/* Undo the transcript escapes (\r \n \\ \xHH) of s into out. */
static void
unescape(const char *s, cp_buf *out)
{
	cp_buf_reset(out);
	for (; *s && *s != '\n'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			cp_buf_addc(out, *s);
			continue;
		}
		s++;
		if (*s == 'r') {
			cp_buf_addc(out, '\r');
		} else if (*s == 'n') {
			cp_buf_addc(out, '\n');
		} else if (*s == 'x' && s[1] && s[2]) {
			char hex[3] = { s[1], s[2], 0 };

			cp_buf_addc(out, (char)strtol(hex, NULL, 16));
			s += 2;
		} else {
			cp_buf_addc(out, *s);
		}
	}
}

typedef struct tr_stats {
	unsigned reads, replies, messages, tls;
} tr_stats;

static void
check_replies(h_session *h, cp_buf *want, const char *file, int lineno)
{
	const char *got = h_replies(h);
	const char *w = want->data ? want->data : "";

	if (strcmp(got, w) != 0)
		cptest_fail(__FILE__, __LINE__, "%s:%d: replies\n      got  "
		    "'%s'\n      want '%s'", file, lineno, h_esc(got), h_esc(w));
	cp_buf_reset(want);
}

/*
 * Replay one transcript. bytewise: feed every client byte on its own and
 * compare the reply stream as a whole (reads no longer line up).
 */
static void
replay(const char *path, const char *name, int bytewise, tr_stats *st)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0;
	h_session h;
	cp_buf arg, want;

	CP_CHECK(f != NULL, "cannot open %s", path);
	if (f == NULL)
		return;
	h_init(&h);
	h.peer.addr = "127.0.0.1";
	h.peer.name = NULL;
	h.peer.loopback = 1;
	h.auto_tls = 0;
	h_rule_add(&h, CP_SMTPD_EV_RCPT, "nobody", CP_SMTPD_REJECT, 550, "5.1.1",
	    "Recipient address rejected: suppressed");
	cp_buf_init(&arg, 1 << 22);
	cp_buf_init(&want, 1 << 22);
	while ((n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		unescape(line[1] ? line + 2 : "", &arg);
		switch (line[0]) {
		case 'O':
			if (strstr(line, "cleartext"))
				h.conf.auth_cleartext = CP_SMTPD_CLEAR_LOOPBACK;
			h_start(&h);
			break;
		case 'S':
			cp_buf_add(&want, arg.data, arg.len);
			st->replies++;
			break;
		case 'C':
			if (!bytewise)
				check_replies(&h, &want, name, lineno);
			if (bytewise)
				for (size_t k = 0; k < arg.len; k++)
					h_feedn(&h, arg.data + k, 1);
			else
				h_feedn(&h, arg.data, arg.len);
			st->reads++;
			break;
		case 'T': {
			char ver[64] = "", ciph[128] = "";

			if (!bytewise)
				check_replies(&h, &want, name, lineno);
			CP_CHECK(sscanf(line + 2, "%63s %127s", ver, ciph) == 2,
			    "%s:%d: T line", name, lineno);
			cp_smtpd_conn_tls_started(h.c, ver, ciph);
			h_pump(&h);
			st->tls++;
			break;
		}
		case 'M':
			if (h.last.len != arg.len ||
			    memcmp(h.last.data, arg.data, arg.len) != 0)
				cptest_fail(__FILE__, __LINE__, "%s:%d: message "
				    "differs (%zu vs %zu bytes)", name, lineno,
				    h.last.len, arg.len);
			cp_buf_reset(&h.last);
			st->messages++;
			break;
		case 'E':
			cp_smtpd_conn_eof(h.c);
			h_pump(&h);
			break;
		default:
			CP_CHECK(0, "%s:%d: unknown line", name, lineno);
		}
	}
	check_replies(&h, &want, name, lineno);
	CP_CHECK(cp_smtpd_conn_closed(h.c), "%s: session not closed", name);
	free(line);
	fclose(f);
	cp_buf_free(&arg);
	cp_buf_free(&want);
	h_free(&h);
}

static void
replay_all(int bytewise)
{
	char dir[1024], path[2048];
	struct dirent *e;
	DIR *d;
	tr_stats st = { 0 };
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/smtpd", cptest_data_dir());
	d = opendir(dir);
	CP_CHECK(d != NULL, "no %s", dir);
	while (d && (e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".txt") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		replay(path, e->d_name, bytewise, &st);
		files++;
	}
	if (d)
		closedir(d);
	/* what the checked-in sessions hold: all of them must be seen */
	CP_CHECK(files >= 8, "%d transcripts", files);
	CP_CHECK(st.messages >= 6 && st.tls >= 3 && st.reads >= 60,
	    "replayed %d files: %u reads, %u replies, %u messages, %u TLS",
	    files, st.reads, st.replies, st.messages, st.tls);
}

CP_TEST(smtpd_transcripts)
{
	replay_all(0);
}

CP_TEST(smtpd_transcripts_bytewise)
{
	replay_all(1);
}
