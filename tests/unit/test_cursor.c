/* Unit tests: src/util/cursor.c (bounded reading for parsers). */
#include <string.h>

#include "coldpost/cursor.h"
#include "coldpost/err.h"
#include "cptest.h"

static int
is_digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

CP_TEST(cursor_take_until_and_ws)
{
	static const char s[] = "  tag = value ;rest";
	cp_cursor c;
	cp_slice a;

	cp_cursor_init(&c, s, strlen(s));
	cp_cursor_skip_ws(&c);
	CP_CHECK_INT((long long)cp_cursor_pos(&c), 2);
	CP_CHECK_INT(cp_cursor_take_until(&c, '=', &a), CP_OK);
	CP_CHECK(cp_slice_eq(cp_slice_trim(a), "tag"), "tag");
	CP_CHECK_INT(cp_cursor_take_until(&c, ';', &a), CP_OK);
	CP_CHECK(cp_slice_eq(cp_slice_trim(a), "value"), "value");
	CP_CHECK_INT(cp_cursor_peek(&c), 'r');
	/* no delimiter: the rest, and CP_ENOTFOUND */
	CP_CHECK_INT(cp_cursor_take_until(&c, ';', &a), CP_ENOTFOUND);
	CP_CHECK(cp_slice_eq(a, "rest"), "rest");
	CP_CHECK(cp_cursor_eof(&c), "at the end");
	CP_CHECK_INT(cp_cursor_peek(&c), -1);
	CP_CHECK_INT(cp_cursor_take_until(&c, ';', &a), CP_ENOTFOUND);
	CP_CHECK_INT((long long)a.len, 0);
	CP_CHECK_INT(cp_cursor_take_char(&c, 'x'), 0);
}

CP_TEST(cursor_bounds_without_nul)
{
	static const char s[] = "12ab;";
	cp_cursor c;
	cp_slice a;

	cp_cursor_init(&c, s, 3); /* "12a": the ';' is out of bounds */
	cp_cursor_take_while(&c, is_digit, &a);
	CP_CHECK(cp_slice_eq(a, "12"), "digits");
	CP_CHECK_INT((long long)cp_cursor_left(&c), 1);
	CP_CHECK_INT(cp_cursor_take_until(&c, ';', &a), CP_ENOTFOUND);
	CP_CHECK(cp_slice_eq(a, "a"), "bounded");
	cp_cursor_init(&c, NULL, 10);
	CP_CHECK(cp_cursor_eof(&c), "NULL is empty");
	CP_CHECK(cp_slice_eqi(cp_slice_from("DMARC1"), "dmarc1"), "eqi");
	CP_CHECK(!cp_slice_eq(cp_slice_from("DMARC1"), "dmarc1"), "eq");
	CP_CHECK(!cp_slice_eqi(cp_slice_from("abc"), "ab"), "length");
	CP_CHECK(cp_slice_eq(cp_slice_trim(cp_slice_from(" \t ")), ""), "trim");
}
