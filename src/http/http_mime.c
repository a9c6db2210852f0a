/*
 * http_mime.c - the structured message of POST /v1/messages built into
 * an Internet message (RFC 5322) with MIME (RFC 2045, 2046): From, To, Cc,
 * Reply-To, Subject (encoded words, RFC 2047, when not ASCII), extra
 * header fields, and a text/plain and/or text/html body (both:
 * multipart/alternative, plain first, RFC 2046 section 5.1.4), with
 * content transfer encodings chosen by GMime so every line stays within
 * the limits of RFC 5322 section 2.1.1. Bcc recipients are envelope only:
 * never written. Date and Message-ID are left to the submission server's
 * header completion, as for SMTP.
 *
 * Input is checked here, not trusted to GMime: a header value with CR or
 * LF (header injection), a field name outside RFC 5322's ftext, or a
 * field that decides the MIME structure is refused with the field named.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "coldpost/buf.h"
#include "coldpost/mime.h"
#include "http/http_int.h"

#define SUBJECT_MAX 998
#define BODY_MAX (20u * 1024 * 1024)
#define HEADERS_MAX 50

/* Fields the builder owns: a caller may not set them through "headers". */
static const char *const owned[] = { "from", "to", "cc", "bcc", "subject",
	"reply-to", "mime-version", "content-type",
	"content-transfer-encoding", "content-disposition", "date",
	"message-id", "received", "return-path", "dkim-signature", "sender" };

static int
is_owned(const char *name)
{
	for (size_t i = 0; i < CP_NELEM(owned); i++)
		if (strcasecmp(name, owned[i]) == 0)
			return 1;
	return 0;
}

/* RFC 5322 3.6.8: ftext is printable ASCII except ':'. */
static int
field_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 76)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 33 || s[i] > 126 || s[i] == ':')
			return 0;
	return 1;
}

/* No CR, LF or other control bytes but TAB; valid UTF-8 is jansson's. */
static int
value_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
			return 0;
	return 1;
}

static int
fail(cp_err *err, const char **field, const char *f, const char *msg)
{
	*field = f;
	return cp_err_set(err, CP_EINVAL, "%s: %s", f, msg);
}

/* A string member (NULL when absent); CP_EINVAL when not a string. */
static int
member_str(json_t *msg, const char *name, const char **out,
    const char **field, cp_err *err)
{
	json_t *v = json_object_get(msg, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return CP_OK;
	if (!json_is_string(v))
		return fail(err, field, name, "want a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, field, name, "contains a NUL character");
	*out = json_string_value(v);
	return CP_OK;
}

/* Parse addresses (a string or an array of strings) into list. */
static int
add_addresses(json_t *msg, const char *name, InternetAddressList *list,
    int want_one, const char **field, cp_err *err)
{
	json_t *v = json_object_get(msg, name), *x;
	size_t i;

	if (v == NULL || json_is_null(v))
		return CP_OK;
	if (json_is_string(v)) {
		json_t *a = json_array();
		int rc;

		json_array_append(a, v);
		json_t *tmp = json_pack("{s:o}", name, a);
		rc = add_addresses(tmp, name, list, want_one, field, err);
		json_decref(tmp);
		return rc;
	}
	if (!json_is_array(v))
		return fail(err, field, name, "want an address or an array of "
		    "addresses");
	json_array_foreach(v, i, x) {
		InternetAddressList *l;
		const char *s;

		if (!json_is_string(x))
			return fail(err, field, name, "want strings");
		s = json_string_value(x);
		if (strlen(s) != json_string_length(x) || !value_ok(s) ||
		    strlen(s) > 998)
			return fail(err, field, name, "control character or "
			    "too long");
		l = internet_address_list_parse(NULL, s);
		if (l == NULL || internet_address_list_length(l) != 1 ||
		    !INTERNET_ADDRESS_IS_MAILBOX(
		    internet_address_list_get_address(l, 0)) ||
		    strchr(internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(internet_address_list_get_address(
		    l, 0))), '@') == NULL) {
			if (l != NULL)
				g_object_unref(l);
			return fail(err, field, name, "not one address "
			    "(\"Name <user@example.org>\" or "
			    "\"user@example.org\")");
		}
		internet_address_list_append(list, l);
		g_object_unref(l);
	}
	if (want_one && internet_address_list_length(list) != 1)
		return fail(err, field, name, "want exactly one address");
	return CP_OK;
}

static GMimeObject *
text_part(const char *subtype, const char *text)
{
	GMimeTextPart *t = g_mime_text_part_new_with_subtype(subtype);

	size_t col = 0;
	int plain = 1;

	g_mime_text_part_set_text(t, text); /* charset from the text */
	/* 7bit only for short ASCII lines (RFC 5322 2.1.1); else quoted-
	 * printable (RFC 2045 6.7), readable and line-safe */
	for (const char *p = text; *p != '\0' && plain; p++) {
		col = *p == '\n' ? 0 : col + 1;
		if ((unsigned char)*p >= 0x80 || col > 76 || (*p == '\r' &&
		    p[1] != '\n'))
			plain = 0;
	}
	g_mime_part_set_content_encoding(GMIME_PART(t), plain ?
	    GMIME_CONTENT_ENCODING_7BIT :
	    GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_OBJECT(t);
}

static int
add_headers(json_t *msg, GMimeMessage *m, const char **field, cp_err *err)
{
	json_t *h = json_object_get(msg, "headers"), *v;
	const char *name;

	if (h == NULL || json_is_null(h))
		return CP_OK;
	if (!json_is_object(h))
		return fail(err, field, "headers", "want an object of "
		    "\"Name\": \"value\"");
	if (json_object_size(h) > HEADERS_MAX)
		return fail(err, field, "headers", "too many fields");
	json_object_foreach(h, name, v) {
		const char *s;

		if (!field_name_ok(name))
			return fail(err, field, "headers", "a field name is "
			    "not printable ASCII without ':'");
		if (is_owned(name))
			return fail(err, field, "headers", "that field is set "
			    "by its own member or by the server");
		if (!json_is_string(v))
			return fail(err, field, "headers", "values must be "
			    "strings");
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v) || !value_ok(s) ||
		    strlen(s) > 998)
			return fail(err, field, "headers", "a value has a "
			    "control character (CR/LF) or is too long");
		g_mime_object_append_header(GMIME_OBJECT(m), name, s, "utf-8");
	}
	return CP_OK;
}

int
http_mime_build(json_t *msg, const char *boundary_seed, cp_buf *out,
    const char **field, cp_err *err)
{
	GMimeMessage *m = NULL;
	GMimeObject *body = NULL;
	GMimeFormatOptions *fo = NULL;
	const char *subject, *text, *html;
	char *s = NULL;
	int rc;

	(void)boundary_seed;
	*field = NULL;
	if (!json_is_object(msg))
		return fail(err, field, "message", "want an object");
	cp_mime_init();
	if ((rc = member_str(msg, "subject", &subject, field, err)) != CP_OK ||
	    (rc = member_str(msg, "text", &text, field, err)) != CP_OK ||
	    (rc = member_str(msg, "html", &html, field, err)) != CP_OK)
		return rc;
	if (subject != NULL && (!value_ok(subject) ||
	    strlen(subject) > SUBJECT_MAX))
		return fail(err, field, "subject", "control character (CR/LF) "
		    "or longer than 998 bytes");
	if (text == NULL && html == NULL)
		return fail(err, field, "text", "give text, html or both");
	if ((text != NULL && strlen(text) > BODY_MAX) ||
	    (html != NULL && strlen(html) > BODY_MAX)) {
		*field = text != NULL && strlen(text) > BODY_MAX ? "text" :
		    "html";
		return cp_err_set(err, CP_ETOOBIG, "%s: more than %u bytes",
		    *field, BODY_MAX);
	}
	m = g_mime_message_new(FALSE);
	if ((rc = add_addresses(msg, "from", g_mime_message_get_from(m), 1,
	    field, err)) != CP_OK ||
	    (rc = add_addresses(msg, "to", g_mime_message_get_to(m), 0, field,
	    err)) != CP_OK ||
	    (rc = add_addresses(msg, "cc", g_mime_message_get_cc(m), 0, field,
	    err)) != CP_OK ||
	    (rc = add_addresses(msg, "reply_to",
	    g_mime_message_get_reply_to(m), 0, field, err)) != CP_OK)
		goto out;
	if (internet_address_list_length(g_mime_message_get_from(m)) == 0) {
		rc = fail(err, field, "from", "required");
		goto out;
	}
	if (subject != NULL)
		g_mime_message_set_subject(m, subject, "utf-8");
	if ((rc = add_headers(msg, m, field, err)) != CP_OK)
		goto out;
	if (text != NULL && html != NULL) {
		GMimeMultipart *alt =
		    g_mime_multipart_new_with_subtype("alternative");
		GMimeObject *p1 = text_part("plain", text);
		GMimeObject *p2 = text_part("html", html);

		g_mime_multipart_add(alt, p1);
		g_mime_multipart_add(alt, p2);
		g_object_unref(p1);
		g_object_unref(p2);
		body = GMIME_OBJECT(alt);
	} else
		body = text_part(text != NULL ? "plain" : "html",
		    text != NULL ? text : html);
	g_mime_message_set_mime_part(m, body);
	fo = g_mime_format_options_clone(NULL);
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	s = g_mime_object_to_string(GMIME_OBJECT(m), fo);
	rc = s != NULL ? cp_buf_add(out, s, strlen(s)) : CP_ENOMEM;
	if (rc == CP_ETOOBIG)
		cp_err_set(err, rc, "message: larger than %zu bytes", out->max);
	else if (rc != CP_OK)
		cp_err_set(err, rc, "message: out of memory");
out:
	g_free(s);
	if (fo != NULL)
		g_mime_format_options_free(fo);
	if (body != NULL)
		g_object_unref(body);
	g_object_unref(m);
	return rc;
}
