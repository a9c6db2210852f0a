/* Unit tests: the streaming header splitter (src/msg/msg_split.c). */
#include <string.h>

#include "coldpost/msg.h"
#include "cptest.h"

typedef struct seen {
	char text[4096]; /* fields joined by '|' */
	size_t len;
	int n;
} seen;

static int
on_field(void *arg, const char *f, size_t len)
{
	seen *s = arg;

	if (s->len + len + 2 < sizeof(s->text)) {
		memcpy(s->text + s->len, f, len);
		s->len += len;
		s->text[s->len++] = '|';
		s->text[s->len] = '\0';
	}
	s->n++;
	return 0;
}

/* Split msg fed in pieces of chunk bytes; body offset in the whole. */
static size_t
split(const char *msg, size_t chunk, seen *s)
{
	cp_msg_split sp;
	cp_err err = { 0 };
	size_t len = strlen(msg), body = len, off;

	memset(s, 0, sizeof(*s));
	cp_msg_split_init(&sp, 0);
	if (chunk == 0)
		chunk = len ? len : 1;
	for (size_t i = 0; i < len && !sp.done; i += chunk) {
		size_t n = CP_MIN(chunk, len - i);

		CP_CHECK_INT(cp_msg_split_feed(&sp, msg + i, n, &off, on_field, s,
				 &err), CP_OK);
		if (sp.done)
			body = i + off;
	}
	if (!sp.done)
		cp_msg_split_end(&sp, on_field, s, &err);
	cp_msg_split_clear(&sp);
	return body;
}

CP_TEST(msg_split_fields)
{
	static const struct {
		const char *msg, *fields;
		int n;
		size_t body;
	} cases[] = {
		{ "A: 1\r\nB: 2\r\n\r\nbody\r\n", "A: 1\r\n|B: 2\r\n|", 2, 14 },
		{ "A: 1\r\n folded\r\n\tagain\r\nB: 2\r\n\r\n",
		    "A: 1\r\n folded\r\n\tagain\r\n|B: 2\r\n|", 2, 31 },
		{ "A: 1\nB: 2\n\nbody\n", "A: 1\n|B: 2\n|", 2, 11 },
		{ "A: 1\r\nB: 2\r\n", "A: 1\r\n|B: 2\r\n|", 2, 12 }, /* no body */
		{ "A: 1", "A: 1|", 1, 4 },
		{ "\r\nbody", "", 0, 2 },
		{ "\nbody", "", 0, 1 },
		{ "A: x\ry\r\n\r\n", "A: x\ry\r\n|", 1, 10 }, /* bare CR is data */
		{ "A: 1\r\n\rB\r\n\r\n", "A: 1\r\n|\rB\r\n|", 2, 12 },
	};

	for (size_t i = 0; i < CP_NELEM(cases); i++) {
		for (size_t chunk = 0; chunk <= 3; chunk++) {
			seen s;
			size_t body = split(cases[i].msg, chunk, &s);

			CP_CHECK(strcmp(s.text, cases[i].fields) == 0 &&
			    s.n == cases[i].n, "case %zu chunk %zu: fields '%s'",
			    i, chunk, s.text);
			CP_CHECK(body == cases[i].body,
			    "case %zu chunk %zu: body at %zu, want %zu", i, chunk,
			    body, cases[i].body);
		}
	}
}

CP_TEST(msg_split_limits_and_names)
{
	cp_msg_split sp;
	cp_err err = { 0 };
	seen s;
	char big[300];
	size_t off;

	memset(big, 'x', sizeof(big));
	memcpy(big, "X-Big: ", 7);
	memset(&s, 0, sizeof(s));
	cp_msg_split_init(&sp, 100);
	CP_CHECK_INT(cp_msg_split_feed(&sp, big, sizeof(big), &off, on_field, &s,
			 &err), CP_ETOOBIG);
	CP_CHECK(strstr(err.msg, "longer than 100") != NULL, "%s", err.msg);
	cp_msg_split_clear(&sp);
	CP_CHECK_INT(cp_msg_field_name("Subject: hi", 11), 7);
	CP_CHECK_INT(cp_msg_field_name("Subject \t: hi", 13), 7);
	CP_CHECK_INT(cp_msg_field_name("no colon", 8), 0);
	CP_CHECK_INT(cp_msg_field_name(": empty", 7), 0);
}
