/* Unit tests: src/util (buffers with ceilings, error records). */
#include <string.h>

#include "coldpost/alloc.h"
#include "coldpost/buf.h"
#include "coldpost/err.h"
#include "cptest.h"

CP_TEST(buf_add_and_ceiling)
{
	cp_buf b;

	cp_buf_init(&b, 10);
	CP_CHECK_INT(cp_buf_adds(&b, "hello"), CP_OK);
	CP_CHECK_INT(cp_buf_addf(&b, "%d", 1234), CP_OK);
	CP_CHECK_STR(b.data, "hello1234");
	/* past max: refused, buffer unchanged */
	CP_CHECK_INT(cp_buf_adds(&b, "xy"), CP_ETOOBIG);
	CP_CHECK_STR(b.data, "hello1234");
	CP_CHECK_INT(cp_buf_addc(&b, '!'), CP_OK);
	CP_CHECK_INT((long long)b.len, 10);
	cp_buf_wipe(&b);
	CP_CHECK(b.data == NULL && b.len == 0, "wipe resets");
}

CP_TEST(buf_enomem_leaves_buffer)
{
	cp_buf b;

	cp_buf_init(&b, 1 << 20);
	CP_CHECK_INT(cp_buf_adds(&b, "abc"), CP_OK);
	cp_alloc_fail_at(1);
	CP_CHECK_INT(cp_buf_add(&b, "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789", 80), CP_ENOMEM);
	CP_CHECK_STR(b.data, "abc");
	cp_buf_free(&b);
}

CP_TEST(err_set_formats)
{
	cp_err err = { 0 };

	CP_CHECK_INT(cp_err_set(&err, CP_ESYNTAX, "dmarc: %s at %d", "x", 3),
	    CP_ESYNTAX);
	CP_CHECK_STR(err.msg, "dmarc: x at 3");
	CP_CHECK_INT(cp_err_set(NULL, CP_EIO, "ignored"), CP_EIO);
	CP_CHECK_STR(cp_err_name(CP_ETOOBIG), "too big");
}
