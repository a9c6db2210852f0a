/*
 * bounce_json.c - Amazon SES event notifications delivered by email
 * through SNS: a JSON body ("notificationType": Bounce, Complaint or
 * Delivery), either bare or wrapped in an SNS envelope whose "Message" is
 * the same JSON as a string. Parsed with jansson.
 *
 * Bounce: one record per bouncedRecipients[] entry with its action,
 * status and diagnosticCode. Complaint: reason "feedback" with the
 * complaintFeedbackType. Delivery: reason "delivered" with the
 * smtpResponse. SNS mail wraps long lines with a "!" at the cut; those
 * cuts are joined before parsing.
 */
#include <string.h>

#include <jansson.h>

#include "bounce/bounce_int.h"

static const char *
jstr(cp_bounce_parser *p, json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL ? bnc_clean(p, bnc_slice(s, strlen(s))) : "";
}

/* "smtp; 550 5.1.1 text" -> the reply after the type. */
static const char *
untyped(const char *s)
{
	const char *semi = strchr(s, ';');

	if (semi != NULL && semi - s < 10) {
		s = semi + 1;
		while (*s == ' ')
			s++;
	}
	return s;
}

static int
reply_code(const char *s)
{
	if ((s[0] == '2' || s[0] == '4' || s[0] == '5') && s[1] >= '0' &&
	    s[1] <= '9' && s[2] >= '0' && s[2] <= '9' &&
	    (s[3] == ' ' || s[3] == '-' || s[3] == '\0'))
		return (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	return 0;
}

static void
ses_bounce(cp_bounce_parser *p, json_t *n)
{
	json_t *b = json_object_get(n, "bounce");
	json_t *list = json_object_get(b, "bouncedRecipients");
	const char *mta = jstr(p, b, "reportingMTA");
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		bnc_rcpt *r = bnc_add_rcpt(p);

		if (r == NULL)
			return;
		r->recipient = jstr(p, e, "emailAddress");
		r->action = jstr(p, e, "action");
		r->status = jstr(p, e, "status");
		r->diagnostic = untyped(jstr(p, e, "diagnosticCode"));
		r->replycode = reply_code(r->diagnostic);
		r->reporting_mta = untyped(mta);
		r->date = jstr(p, b, "timestamp");
	}
}

static void
ses_complaint(cp_bounce_parser *p, json_t *n)
{
	json_t *c = json_object_get(n, "complaint");
	json_t *list = json_object_get(c, "complainedRecipients");
	const char *type = jstr(p, c, "complaintFeedbackType");
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		bnc_rcpt *r = bnc_add_rcpt(p);

		if (r == NULL)
			return;
		r->recipient = jstr(p, e, "emailAddress");
		r->reason = "feedback";
		r->feedback_type = type[0] ? type : "abuse";
		r->rule = "bounce:ses.complaint";
		r->date = jstr(p, c, "timestamp");
	}
}

static void
ses_delivery(cp_bounce_parser *p, json_t *n)
{
	json_t *d = json_object_get(n, "delivery");
	json_t *list = json_object_get(d, "recipients");
	const char *resp = jstr(p, d, "smtpResponse");
	size_t i;
	json_t *e;

	json_array_foreach(list, i, e) {
		bnc_rcpt *r;

		if (!json_is_string(e) || (r = bnc_add_rcpt(p)) == NULL)
			return;
		r->recipient = bnc_clean(p, bnc_slice(json_string_value(e),
		    strlen(json_string_value(e))));
		r->action = "delivered";
		r->diagnostic = resp;
		r->replycode = reply_code(resp);
		r->remote_mta = jstr(p, d, "remoteMtaIp");
		r->date = jstr(p, d, "timestamp");
	}
}

static void
ses_mail(cp_bounce_parser *p, json_t *n)
{
	json_t *m = json_object_get(n, "mail");
	const char *id = jstr(p, m, "messageId");
	const char *src = jstr(p, m, "source");

	if (id[0])
		p->out.message_id = id;
	if (src[0])
		p->out.return_path = src;
}

static json_t *
load(cp_bounce_parser *p, cp_slice body)
{
	char *j = bnc_strdup(p, NULL, body.len);
	size_t o = 0;
	json_error_t e;

	if (j == NULL)
		return NULL;
	for (size_t i = 0; i < body.len; i++) {
		if (body.p[i] == '!' && i + 2 < body.len &&
		    body.p[i + 1] == '\n' && body.p[i + 2] == ' ') {
			i += 2;
			continue;
		}
		if (body.p[i] != '\n')
			j[o++] = body.p[i];
	}
	return json_loadb(j, o, JSON_DISABLE_EOF_CHECK, &e);
}

size_t
bnc_json_read(cp_bounce_parser *p)
{
	const bnc_part *txt = bnc_part_text(p);
	cp_slice b;
	json_t *root, *n, *msg;
	const char *type;
	size_t before = p->n;

	if (txt == NULL)
		return 0;
	b = txt->body;
	while (b.len > 0 && (b.p[0] == '\n' || b.p[0] == ' '))
		b = bnc_slice(b.p + 1, b.len - 1);
	if (b.len == 0 || b.p[0] != '{' ||
	    bnc_isearch(b, "notificationType") == NULL)
		return 0;
	root = load(p, b);
	if (root == NULL)
		return 0;
	n = root;
	msg = json_object_get(root, "Message");
	if (json_is_string(msg)) {
		n = json_loads(json_string_value(msg), 0, NULL);
		if (n == NULL) {
			json_decref(root);
			return 0;
		}
	}
	type = json_string_value(json_object_get(n, "notificationType"));
	if (type != NULL && strcmp(type, "Bounce") == 0)
		ses_bounce(p, n);
	else if (type != NULL && strcmp(type, "Complaint") == 0)
		ses_complaint(p, n);
	else if (type != NULL && strcmp(type, "Delivery") == 0)
		ses_delivery(p, n);
	if (p->n > before) {
		ses_mail(p, n);
		p->family = "amazonses";
	}
	if (n != root)
		json_decref(n);
	json_decref(root);
	return p->n - before;
}
