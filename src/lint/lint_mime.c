/*
 * lint_mime.c - turns a message into the lint_msg the rules read, with
 * GMime: the decoded Subject (RFC 2047), the From and Reply-To mailboxes
 * (RFC 5322 3.4), the threading and list headers (RFC 5322 3.6.4, RFC 2369,
 * RFC 8058), and a walk over the MIME tree (RFC 2045, 2046) that collects
 * text/plain parts converted to UTF-8, hands text/html parts to
 * lint_html.c, and records everything else as an image or an attachment
 * (RFC 2183 Content-Disposition; inline images of multipart/related, RFC
 * 2387, count as images, not attachments).
 *
 * GMime parses whatever it is given; "not a message" here means no header
 * field at all. Its parser and walker recurse per multipart level, so a
 * message with more multipart containers than LINT_MULTIPART_MAX is
 * refused before GMime sees it.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "coldpost/alloc.h"
#include "coldpost/mime.h"
#include "lint/lint_int.h"

#define LINT_MULTIPART_MAX 200

typedef struct mime_walk {
	lint_msg *m;
	cp_err *err;
	int rc;
} mime_walk;

void
lint_msg_init(lint_msg *m)
{
	memset(m, 0, sizeof(*m));
	cp_buf_init(&m->text, LINT_TEXT_MAX);
	cp_buf_init(&m->html_text, LINT_TEXT_MAX);
}

void
lint_msg_clear(lint_msg *m)
{
	size_t i;

	cp_free(m->subject);
	cp_free(m->from_addr);
	cp_free(m->from_domain);
	cp_free(m->reply_to_addr);
	cp_free(m->reply_to_domain);
	cp_free(m->list_unsub);
	cp_free(m->list_unsub_post);
	cp_buf_free(&m->text);
	cp_buf_free(&m->html_text);
	for (i = 0; i < m->nlinks; i++) {
		cp_free(m->links[i].href);
		cp_free(m->links[i].host);
		cp_free(m->links[i].text);
	}
	cp_free(m->links);
	for (i = 0; i < m->nimages; i++)
		cp_free(m->images[i].src);
	cp_free(m->images);
	for (i = 0; i < m->natts; i++) {
		cp_free(m->atts[i].name);
		cp_free(m->atts[i].type);
	}
	cp_free(m->atts);
	lint_msg_init(m);
}

/* A copy of s cut at LINT_FIELD_MAX bytes; NULL stays NULL. *rc gets
 * CP_ENOMEM when the copy fails. */
static char *
mime_dup(const char *s, int *rc)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = cp_strndup(s, strnlen(s, LINT_FIELD_MAX));
	if (d == NULL)
		*rc = CP_ENOMEM;
	return d;
}

/* The domain of addr ("user@Example.COM." -> "example.com"), or NULL. */
static char *
mime_addr_domain(const char *addr, int *rc)
{
	const char *at = strrchr(addr, '@');
	size_t len;
	char *d;

	if (at == NULL || at[1] == '\0')
		return NULL;
	len = strnlen(at + 1, 255);
	while (len > 0 && at[len] == '.')
		len--;
	if (len == 0)
		return NULL;
	d = cp_strndup(at + 1, len);
	if (d == NULL) {
		*rc = CP_ENOMEM;
		return NULL;
	}
	for (char *p = d; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* The first mailbox of an address list: its address and domain; the
 * number of mailboxes (group members count too). */
static size_t
mime_first_mailbox(InternetAddressList *list, char **addr, char **domain,
    int *rc)
{
	InternetAddress *ia;
	const char *a;
	size_t n = 0;
	int i, len;

	len = list ? internet_address_list_length(list) : 0;
	for (i = 0; i < len; i++) {
		ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			n += (size_t)CP_MAX(0, internet_address_list_length(
			    internet_address_group_get_members(
			    (InternetAddressGroup *)ia)));
			continue;
		}
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		n++;
		a = internet_address_mailbox_get_addr(
		    (InternetAddressMailbox *)ia);
		if (*addr != NULL || a == NULL || *a == '\0')
			continue;
		*addr = mime_dup(a, rc);
		*domain = mime_addr_domain(a, rc);
	}
	return n;
}

static int
mime_add_item(void **v, size_t *n, size_t size)
{
	void *nv;

	if (*n >= LINT_ITEMS_MAX)
		return CP_ETOOBIG;
	nv = cp_realloc(*v, (*n + 1) * size);
	if (nv == NULL)
		return CP_ENOMEM;
	memset((char *)nv + *n * size, 0, size);
	*v = nv;
	(*n)++;
	return CP_OK;
}

/* Text of a text part in UTF-8, appended with a line end. A part over
 * the text ceiling is cut there: the rules still see the start. */
static int
mime_add_text(cp_buf *b, GMimeObject *part)
{
	char *t;
	size_t len, room;
	int rc = CP_OK;

	if (!GMIME_IS_TEXT_PART(part))
		return CP_OK;
	t = g_mime_text_part_get_text((GMimeTextPart *)part);
	if (t == NULL)
		return CP_OK;
	len = strlen(t);
	room = b->max > b->len + 1 ? b->max - b->len - 1 : 0;
	if (len > room)
		len = room;
	if (len > 0)
		rc = cp_buf_add(b, t, len);
	if (rc == CP_OK && room > len)
		rc = cp_buf_addc(b, '\n');
	g_free(t);
	return rc;
}

static int
mime_add_html(lint_msg *m, GMimeObject *part, cp_err *err)
{
	char *t;
	int rc;

	if (!GMIME_IS_TEXT_PART(part))
		return CP_OK;
	t = g_mime_text_part_get_text((GMimeTextPart *)part);
	if (t == NULL)
		return CP_OK;
	rc = lint_html_parse(t, strnlen(t, LINT_TEXT_MAX), m, err);
	g_free(t);
	return rc;
}

static int
mime_add_image_part(lint_msg *m, GMimeObject *part)
{
	const char *cid = g_mime_object_get_content_id(part);
	lint_image *im;
	cp_buf src;
	int rc;

	rc = mime_add_item((void **)&m->images, &m->nimages,
	    sizeof(*m->images));
	if (rc != CP_OK)
		return rc == CP_ETOOBIG ? CP_OK : rc;
	im = &m->images[m->nimages - 1];
	im->width = im->height = -1;
	im->part = 1;
	cp_buf_init(&src, LINT_FIELD_MAX);
	rc = cp_buf_adds(&src, "cid:");
	if (rc == CP_OK && cid != NULL)
		rc = cp_buf_add(&src, cid, strnlen(cid, LINT_FIELD_MAX - 8));
	if (rc == CP_OK)
		im->src = cp_buf_steal(&src);
	cp_buf_free(&src);
	return rc == CP_ENOMEM || im->src == NULL ? CP_ENOMEM : CP_OK;
}

static int
mime_add_attachment(lint_msg *m, GMimeObject *part)
{
	GMimeContentType *ct = g_mime_object_get_content_type(part);
	lint_attach *a;
	char *type;
	int rc = CP_OK;

	rc = mime_add_item((void **)&m->atts, &m->natts, sizeof(*m->atts));
	if (rc != CP_OK)
		return rc == CP_ETOOBIG ? CP_OK : rc;
	a = &m->atts[m->natts - 1];
	if (GMIME_IS_PART(part))
		a->name = mime_dup(g_mime_part_get_filename((GMimePart *)part),
		    &rc);
	type = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
	a->type = mime_dup(type ? type : "application/octet-stream", &rc);
	g_free(type);
	return rc;
}

static void
mime_on_part(GMimeObject *parent, GMimeObject *part, gpointer arg)
{
	mime_walk *w = arg;
	GMimeContentType *ct;
	int attached;

	(void)parent;
	if (w->rc != CP_OK || GMIME_IS_MULTIPART(part))
		return;
	if (GMIME_IS_MESSAGE_PART(part)) { /* a forwarded message */
		w->rc = mime_add_attachment(w->m, part);
		return;
	}
	if (!GMIME_IS_PART(part))
		return;
	ct = g_mime_object_get_content_type(part);
	attached = g_mime_part_is_attachment((GMimePart *)part);
	if (!attached && ct && g_mime_content_type_is_type(ct, "text", "plain")) {
		w->m->has_text = 1;
		w->rc = mime_add_text(&w->m->text, part);
	} else if (!attached && ct &&
	    g_mime_content_type_is_type(ct, "text", "html")) {
		w->m->has_html = 1;
		w->rc = mime_add_html(w->m, part, w->err);
	} else if (!attached && ct &&
	    g_mime_content_type_is_type(ct, "image", "*")) {
		w->rc = mime_add_image_part(w->m, part);
	} else {
		w->rc = mime_add_attachment(w->m, part);
	}
}

static int
mime_read_headers(GMimeMessage *msg, lint_msg *m)
{
	GMimeObject *o = (GMimeObject *)msg;
	int rc = CP_OK;

	m->has_header =
	    g_mime_header_list_get_count(g_mime_object_get_header_list(o)) > 0;
	m->subject = mime_dup(g_mime_message_get_subject(msg), &rc);
	m->nfrom = mime_first_mailbox(g_mime_message_get_from(msg),
	    &m->from_addr, &m->from_domain, &rc);
	(void)mime_first_mailbox(g_mime_message_get_reply_to(msg),
	    &m->reply_to_addr, &m->reply_to_domain, &rc);
	m->has_in_reply_to = g_mime_object_get_header(o, "In-Reply-To") != NULL;
	m->has_references = g_mime_object_get_header(o, "References") != NULL;
	m->has_message_id = g_mime_object_get_header(o, "Message-ID") != NULL;
	m->has_date = g_mime_object_get_header(o, "Date") != NULL;
	m->list_unsub = mime_dup(g_mime_object_get_header(o,
	    "List-Unsubscribe"), &rc);
	m->list_unsub_post = mime_dup(g_mime_object_get_header(o,
	    "List-Unsubscribe-Post"), &rc);
	return rc;
}

/* How many times "multipart/" occurs (any case): an upper bound on the
 * multipart containers GMime would build, hence on its recursion. */
static size_t
mime_count_multiparts(const char *p, size_t len)
{
	static const char needle[] = "multipart/";
	size_t n = 0, i, k;

	for (i = 0; i + sizeof(needle) - 1 <= len; i++) {
		for (k = 0; k < sizeof(needle) - 1; k++)
			if (tolower((unsigned char)p[i + k]) != needle[k])
				break;
		if (k == sizeof(needle) - 1)
			n++;
	}
	return n;
}

/* Image parts an <img src="cid:..."> shows are counted once, as the
 * <img>: drop the part entries the HTML refers to. */
static void
mime_merge_cid_images(lint_msg *m)
{
	size_t i, j, k = 0;
	int dup;

	for (i = 0; i < m->nimages; i++) {
		dup = 0;
		if (m->images[i].part && strlen(m->images[i].src) > 4)
			for (j = 0; j < m->nimages && !dup; j++)
				dup = !m->images[j].part &&
				    m->images[j].src != NULL &&
				    strcasecmp(m->images[j].src,
				    m->images[i].src) == 0;
		if (dup) {
			cp_free(m->images[i].src);
			continue;
		}
		m->images[k++] = m->images[i];
	}
	m->nimages = k;
}

int
lint_mime_parse(const char *msg, size_t len, lint_msg *m, cp_err *err)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *gm;
	mime_walk w = { m, err, CP_OK };
	int rc;

	if (mime_count_multiparts(msg, len) > LINT_MULTIPART_MAX)
		return cp_err_set(err, CP_ESYNTAX, "lint: more than %d "
		    "multipart containers", LINT_MULTIPART_MAX);
	cp_mime_init();
	stream = g_mime_stream_mem_new_with_buffer(msg, len);
	parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	gm = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (gm == NULL)
		return cp_err_set(err, CP_ESYNTAX, "lint: not a MIME message");
	rc = mime_read_headers(gm, m);
	if (rc == CP_OK && !m->has_header)
		rc = cp_err_set(err, CP_ESYNTAX,
		    "lint: no header fields: not a message");
	if (rc == CP_OK) {
		g_mime_message_foreach(gm, mime_on_part, &w);
		rc = w.rc;
	}
	if (rc == CP_OK)
		mime_merge_cid_images(m);
	g_object_unref(gm);
	if (rc == CP_ENOMEM)
		return cp_err_set(err, CP_ENOMEM, "lint: out of memory");
	return rc;
}
