/*
 * lint_html.c - what a reader sees of an HTML part: its visible text, its
 * links with their anchor text, and its images with the size and
 * visibility they are given.
 *
 * libxml2's HTML parser does the parsing (in recovery mode: mail HTML is
 * rarely well-formed; no network, no error output). The tree is then walked
 * without recursion, so nesting depth costs no stack. Text inside script,
 * style, head, title, noscript and template elements is not visible and
 * is skipped; block elements separate words. Only inline CSS is read
 * (style="display:none", "width:1px"): a tracking pixel is an <img> whose
 * width and height are at most 1, or one hidden by its style.
 */
#include <ctype.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>

#include "coldpost/alloc.h"
#include "lint/lint_int.h"

#define LINT_ANCHOR_TEXT_MAX 512

typedef struct html_walk {
	lint_msg *m;
	xmlNodePtr anchor;    /* the <a> being read, or NULL */
	size_t anchor_link;   /* its index in m->links */
	size_t anchor_start;  /* where its text starts in m->html_text */
	int rc;
} html_walk;

static pthread_once_t html_once = PTHREAD_ONCE_INIT;

static void
html_init(void)
{
	xmlInitParser();
}

static int
html_is(xmlNodePtr n, const char *const *names)
{
	for (; *names; names++)
		if (strcasecmp((const char *)n->name, *names) == 0)
			return 1;
	return 0;
}

static const char *const html_invisible[] = { "script", "style", "head",
	"title", "noscript", "template", NULL };
static const char *const html_blocks[] = { "p", "div", "br", "tr", "td",
	"th", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
	"blockquote", "hr", "section", "article", "header", "footer",
	"center", "pre", NULL };

/* A word break in the visible text (one space, never two). */
static void
html_space(html_walk *w)
{
	cp_buf *b = &w->m->html_text;

	if (b->len > 0 && b->data[b->len - 1] != ' ' &&
	    cp_buf_addc(b, ' ') == CP_ENOMEM)
		w->rc = CP_ENOMEM;
}

/* Text as a reader sees it: runs of white space (NBSP too) collapse. A
 * buffer at its ceiling keeps what it has. */
static void
html_add_text(html_walk *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int rc = CP_OK;

	for (; *p && rc == CP_OK; p++) {
		if (isspace(*p) || (p[0] == 0xc2 && p[1] == 0xa0)) {
			if (p[0] == 0xc2)
				p++;
			html_space(w);
			continue;
		}
		rc = cp_buf_addc(&w->m->html_text, (char)*p);
	}
	if (rc == CP_ENOMEM)
		w->rc = rc;
}

/* "1", "1px", " 0 " -> the number; -1 when absent or not a number. */
static int
html_px(const char *s)
{
	int v = 0, digits = 0;

	if (s == NULL)
		return -1;
	while (*s == ' ')
		s++;
	for (; *s >= '0' && *s <= '9' && v < 100000; s++, digits++)
		v = v * 10 + (*s - '0');
	return digits ? v : -1;
}

/* The value of CSS property prop ("width") in an inline style, or -1. */
static int
html_style_px(const char *style, const char *prop)
{
	size_t plen = strlen(prop);
	const char *p;

	for (p = style; (p = strcasestr(p, prop)) != NULL; p += plen) {
		const char *q = p + plen;

		if (p != style && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue; /* max-width, line-height */
		while (*q == ' ')
			q++;
		if (*q == ':')
			return html_px(q + 1);
	}
	return -1;
}

static int
html_style_hidden(const char *style)
{
	char flat[256];
	size_t i, k = 0;

	for (i = 0; style[i] && k < sizeof(flat) - 1; i++)
		if (style[i] != ' ' && style[i] != '\t')
			flat[k++] = (char)tolower((unsigned char)style[i]);
	flat[k] = '\0';
	return strstr(flat, "display:none") != NULL ||
	    strstr(flat, "visibility:hidden") != NULL;
}

static void
html_on_img(html_walk *w, xmlNodePtr n)
{
	xmlChar *src = xmlGetProp(n, (const xmlChar *)"src");
	xmlChar *wd = xmlGetProp(n, (const xmlChar *)"width");
	xmlChar *ht = xmlGetProp(n, (const xmlChar *)"height");
	xmlChar *st = xmlGetProp(n, (const xmlChar *)"style");
	lint_msg *m = w->m;
	lint_image *im, *nv;

	if (m->nimages < LINT_ITEMS_MAX) {
		nv = cp_realloc(m->images, (m->nimages + 1) * sizeof(*nv));
		if (nv == NULL) {
			w->rc = CP_ENOMEM;
			goto out;
		}
		m->images = nv;
		im = &nv[m->nimages];
		memset(im, 0, sizeof(*im));
		im->width = html_px((const char *)wd);
		im->height = html_px((const char *)ht);
		if (st != NULL) {
			if (im->width < 0)
				im->width = html_style_px((const char *)st,
				    "width");
			if (im->height < 0)
				im->height = html_style_px((const char *)st,
				    "height");
			im->hidden = html_style_hidden((const char *)st);
		}
		im->src = cp_strndup(src ? (const char *)src : "",
		    strnlen(src ? (const char *)src : "", LINT_FIELD_MAX));
		if (im->src == NULL) {
			w->rc = CP_ENOMEM;
			goto out;
		}
		m->nimages++;
	}
out:
	xmlFree(src);
	xmlFree(wd);
	xmlFree(ht);
	xmlFree(st);
}

static void
html_on_anchor(html_walk *w, xmlNodePtr n)
{
	xmlChar *href;
	int rc;

	if (w->anchor != NULL) /* nested <a>: the outer one keeps the text */
		return;
	href = xmlGetProp(n, (const xmlChar *)"href");
	if (href == NULL)
		return;
	rc = lint_msg_add_link(w->m, (const char *)href,
	    strlen((const char *)href), NULL, 1);
	xmlFree(href);
	if (rc == CP_ENOMEM)
		w->rc = rc;
	if (rc != CP_OK)
		return;
	w->anchor = n;
	w->anchor_link = w->m->nlinks - 1;
	w->anchor_start = w->m->html_text.len;
}

/* Leaving the <a>: its anchor text is what was added since it opened. */
static void
html_end_anchor(html_walk *w)
{
	cp_buf *b = &w->m->html_text;
	lint_link *l = &w->m->links[w->anchor_link];
	const char *s = b->data ? b->data + w->anchor_start : "";
	size_t len = b->len - w->anchor_start;

	w->anchor = NULL;
	while (len > 0 && *s == ' ')
		s++, len--;
	while (len > 0 && s[len - 1] == ' ')
		len--;
	l->text = cp_strndup(s, CP_MIN(len, LINT_ANCHOR_TEXT_MAX));
	if (l->text == NULL)
		w->rc = CP_ENOMEM;
}

/* Entering node n; returns 1 to walk its children. */
static int
html_enter(html_walk *w, xmlNodePtr n)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content != NULL)
			html_add_text(w, (const char *)n->content);
		return 0;
	}
	if (n->type != XML_ELEMENT_NODE || n->name == NULL)
		return n->type == XML_DOCUMENT_NODE ||
		    n->type == XML_HTML_DOCUMENT_NODE;
	if (html_is(n, html_invisible))
		return 0;
	if (html_is(n, html_blocks))
		html_space(w);
	if (strcasecmp((const char *)n->name, "a") == 0)
		html_on_anchor(w, n);
	else if (strcasecmp((const char *)n->name, "img") == 0)
		html_on_img(w, n);
	return 1;
}

static void
html_leave(html_walk *w, xmlNodePtr n)
{
	if (n->type != XML_ELEMENT_NODE)
		return;
	if (w->anchor == n)
		html_end_anchor(w);
	if (html_is(n, html_blocks))
		html_space(w);
}

int
lint_html_parse(const char *html, size_t len, lint_msg *m, cp_err *err)
{
	html_walk w = { m, NULL, 0, 0, CP_OK };
	htmlDocPtr doc;
	xmlNodePtr n;

	if (len == 0)
		return CP_OK;
	(void)pthread_once(&html_once, html_init);
	doc = htmlReadMemory(html, (int)CP_MIN(len, LINT_TEXT_MAX), NULL,
	    "UTF-8", HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
	    HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
	if (doc == NULL)
		return CP_OK; /* nothing a reader would see either */
	html_space(&w);
	n = doc->children;
	while (n != NULL && w.rc == CP_OK) {
		int descend = html_enter(&w, n);

		if (descend && n->children != NULL) {
			n = n->children;
			continue;
		}
		if (descend)
			html_leave(&w, n);
		while (n != NULL && n->next == NULL) {
			n = n->parent;
			if (n == NULL || n == (xmlNodePtr)doc)
				n = NULL;
			else
				html_leave(&w, n);
		}
		if (n != NULL)
			n = n->next;
	}
	if (w.anchor != NULL && w.rc == CP_OK)
		html_end_anchor(&w);
	xmlFreeDoc(doc);
	if (w.rc == CP_ENOMEM)
		return cp_err_set(err, CP_ENOMEM, "lint: out of memory");
	return CP_OK;
}
