/*
 * conf_file.c - the configuration file: reading it over the defaults, and
 * writing a configuration back as a file (`coldpost config show`).
 *
 * The file is INI, split into sections and keys by libinih; this file adds
 * what inih leaves to its caller: line numbers in every message, unknown
 * sections and keys as errors (with the key meant when it is a near miss or
 * lives in another section), a key set twice, quotes and trailing comments,
 * the file and line limits, relative paths taken from the file's folder,
 * and the rules between keys reported at the line that set them. A file is
 * loaded completely or not at all, so SIGHUP can load the new file beside
 * the old and keep the old one when the new one is wrong.
 *
 * The dump writes every key in table order as the reader reads it, so
 * load(dump(c)) == c (tested, and checked by fuzz_conf on every input that
 * loads).
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "coldpost/alloc.h"
#include "core/conf_int.h"

#define SECTION_MAX 64

/* ---- the file reader -------------------------------------------------- */

typedef struct diag {
	int line; /* 0: not tied to a line */
	char msg[400];
} diag;

typedef struct loader {
	cp_conf conf;	     /* being built */
	const char *name;    /* of the file, for messages */
	const char *basedir; /* for relative paths, or NULL */
	const char *data;
	size_t len, pos;
	int lineno;		 /* of the line inih has */
	int section_line;	 /* of the last [section] header */
	int *lines;		 /* per row: the line that set it, 0 if none */
	int *route_lines;	 /* per route, in conf.routes order */
	char bad_section[SECTION_MAX]; /* reported already */
	diag *diags;
	size_t ndiags, dropped;
	int nomem;
} loader;

static void
add_diag(loader *L, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add_diag(loader *L, int line, const char *fmt, ...)
{
	va_list ap;
	diag *d;
	size_t at;

	if (L->ndiags >= CP_CONF_DIAG_MAX) {
		L->dropped++;
		return;
	}
	/* keep them in line order (inih's syntax error comes last) */
	for (at = L->ndiags; at > 0 && line != 0 &&
	     (L->diags[at - 1].line > line || L->diags[at - 1].line == 0);
	     at--)
		;
	memmove(&L->diags[at + 1], &L->diags[at],
	    (L->ndiags - at) * sizeof(*d));
	d = &L->diags[at];
	d->line = line;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	L->ndiags++;
}

/* "file:12: " or "file: " */
#define AT_LINE(L, line) (L)->name, (line) ? ":" : "", (line) ? (line) : 0
#define LINE_FMT "%s%s%.0d: "

/* inih's reader: one line of L->data per call, as fgets would. A line too
   long or holding a NUL is reported here and handed to inih as blank. */
static char *
load_reader(char *str, int num, void *stream)
{
	loader *L = stream;
	const char *p, *nl;
	size_t n;

	if (L->pos >= L->len)
		return NULL;
	p = L->data + L->pos;
	nl = memchr(p, '\n', L->len - L->pos);
	n = nl ? (size_t)(nl - p) + 1 : L->len - L->pos;
	L->pos += n;
	L->lineno++;
	if (n > (size_t)num - 2 || memchr(p, '\0', n) != NULL) {
		if (memchr(p, '\0', n) != NULL)
			add_diag(L, L->lineno, LINE_FMT "holds a NUL byte",
			    AT_LINE(L, L->lineno));
		else
			add_diag(L, L->lineno,
			    LINE_FMT "line is longer than %d bytes",
			    AT_LINE(L, L->lineno), CP_CONF_LINE_MAX);
		memcpy(str, "\n", 2);
		return str;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	if (str[strspn(str, " \t")] == '[')
		L->section_line = L->lineno;
	return str;
}

/* Edit distance, for "did you mean"; 99 when the names are far apart. */
static int
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0], cur;

		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			cur = row[j];
			row[j] = CP_MIN(CP_MIN(row[j], row[j - 1]) + 1,
			    prev + (tolower((unsigned char)a[i - 1]) !=
				tolower((unsigned char)b[j - 1])));
			prev = cur;
		}
	}
	return row[lb];
}

/* Does the table have section s? */
static int
section_known(const char *s)
{
	size_t n, sl = strlen(s);
	const cp_conf_key *keys = cp_conf_keys(&n);

	for (size_t i = 0; i < n; i++)
		if (strncmp(keys[i].name, s, sl) == 0 &&
		    (keys[i].name[sl] == '.' || keys[i].name[sl] == '\0'))
			return 1;
	return 0;
}

/* The nearest section name within 2 edits, into buf; 0 if none. */
static int
near_section(const char *s, char *buf, size_t cap)
{
	size_t n;
	const cp_conf_key *keys = cp_conf_keys(&n);
	int best = 3;

	for (size_t i = 0; i < n; i++) {
		char sec[SECTION_MAX];
		size_t sl = strcspn(keys[i].name, ".");
		int d;

		snprintf(sec, sizeof(sec), "%.*s", (int)sl, keys[i].name);
		if ((d = distance(s, sec)) < best) {
			best = d;
			snprintf(buf, cap, "%s", sec);
		}
	}
	return best < 3;
}

/* Why name is not a key of section: a near key there, or the section
   that has it. */
static void
unknown_key_hint(const char *section, const char *name, char *buf,
    size_t cap)
{
	size_t n, sl = strlen(section);
	const cp_conf_key *keys = cp_conf_keys(&n);
	int best = 3;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(keys[i].name, '.');
		int d;

		if (dot == NULL)
			continue;
		if ((size_t)(dot - keys[i].name) == sl &&
		    strncmp(keys[i].name, section, sl) == 0) {
			if ((d = distance(name, dot + 1)) < best) {
				best = d;
				snprintf(buf, cap, " (did you mean %s?)",
				    dot + 1);
			}
		}
	}
	if (buf[0] != '\0')
		return;
	for (size_t i = 0; i < n; i++) {
		const char *dot = strchr(keys[i].name, '.');

		if (dot != NULL && strcmp(dot + 1, name) == 0) {
			snprintf(buf, cap, " (%s is in [%.*s])", name,
			    (int)(dot - keys[i].name), keys[i].name);
			return;
		}
	}
}

/*
 * The value as written, without a trailing comment and outer quotes:
 *   25M ; comment        -> 25M     (';' or '#' after a blank)
 *   "a ; b"  # comment   -> a ; b
 * Writes into buf (as large as the line); returns NULL with why set when
 * the quotes are wrong.
 */
static const char *
unquote(const char *v, char *buf, size_t cap, const char **why)
{
	size_t len;

	if (*v == '"') {
		const char *close = strchr(v + 1, '"'), *rest;

		if (close == NULL) {
			*why = "no closing '\"'";
			return NULL;
		}
		rest = close + 1;
		rest += strspn(rest, " \t");
		if (*rest != '\0' && *rest != ';' && *rest != '#') {
			*why = "text after the closing '\"' (put it inside "
			       "the quotes or after ';')";
			return NULL;
		}
		len = (size_t)(close - v - 1);
		snprintf(buf, cap, "%.*s", (int)len, v + 1);
		return buf;
	}
	len = 0;
	if (*v != ';' && *v != '#') {
		for (const char *p = v; *p; p++) {
			if ((*p == ';' || *p == '#') && p > v &&
			    (p[-1] == ' ' || p[-1] == '\t'))
				break;
			len = (size_t)(p - v) + 1;
		}
	}
	while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	snprintf(buf, cap, "%.*s", (int)len, v);
	return buf;
}

static void
load_route(loader *L, const char *name, const char *value)
{
	char d[CONF_DOMAIN_MAX + 2];
	cp_err e;
	ssize_t at;
	int rc;

	if (conf_route_domain(name, d, &e) != CP_OK) {
		add_diag(L, L->lineno, LINE_FMT "[routes] %.60s: %s",
		    AT_LINE(L, L->lineno), name, e.msg);
		return;
	}
	if ((at = conf_route_index(&L->conf.routes, d)) >= 0) {
		add_diag(L, L->lineno,
		    LINE_FMT "[routes] %s: set twice (first on line %d)",
		    AT_LINE(L, L->lineno), d, L->route_lines[at]);
		return;
	}
	{ /* room for its line number before the route exists */
		int *lines = cp_realloc(L->route_lines,
		    (L->conf.routes.n + 1) * sizeof(int));

		if (lines == NULL) {
			L->nomem = 1;
			return;
		}
		L->route_lines = lines;
	}
	rc = conf_route_set(&L->conf, d, value, &e);
	if (rc == CP_ENOMEM)
		L->nomem = 1;
	else if (rc != CP_OK)
		add_diag(L, L->lineno, LINE_FMT "[routes] %s: %s",
		    AT_LINE(L, L->lineno), d, e.msg);
	else
		L->route_lines[L->conf.routes.n - 1] = L->lineno;
}

static int
load_handler(void *user, const char *section, const char *name,
    const char *value)
{
	loader *L = user;
	char sec[SECTION_MAX], full[160], hint[96], *buf;
	const char *v, *why = NULL;
	const cp_conf_key *k;
	size_t n, slen;
	const cp_conf_key *keys = cp_conf_keys(&n);
	cp_err e;
	int rc;

	while (*section == ' ' || *section == '\t')
		section++;
	slen = strlen(section);
	while (slen > 0 && (section[slen - 1] == ' ' || section[slen - 1] == '\t'))
		slen--;
	snprintf(sec, sizeof(sec), "%.*s", (int)slen, section);
	if (*name == '\0') {
		add_diag(L, L->lineno, LINE_FMT "no key before '='",
		    AT_LINE(L, L->lineno));
		return 1;
	}
	if (sec[0] == '\0') {
		unknown_key_hint("", name, hint, sizeof(hint));
		add_diag(L, L->lineno,
		    LINE_FMT "%.60s: outside a section (put it under "
			     "[section])%s", AT_LINE(L, L->lineno), name, hint);
		return 1;
	}
	if (!section_known(sec)) {
		if (strcmp(sec, L->bad_section) != 0) {
			char near[SECTION_MAX];

			snprintf(L->bad_section, sizeof(L->bad_section), "%s",
			    sec);
			if (near_section(sec, near, sizeof(near)))
				add_diag(L, L->section_line,
				    LINE_FMT "[%s]: unknown section (did you "
					     "mean [%s]?)",
				    AT_LINE(L, L->section_line), sec, near);
			else
				add_diag(L, L->section_line,
				    LINE_FMT "[%s]: unknown section",
				    AT_LINE(L, L->section_line), sec);
		}
		return 1;
	}
	buf = cp_malloc(strlen(value) + 1);
	if (buf == NULL) {
		L->nomem = 1;
		return 1;
	}
	v = unquote(value, buf, strlen(value) + 1, &why);
	if (v == NULL) {
		add_diag(L, L->lineno, LINE_FMT "[%s] %.60s: %s",
		    AT_LINE(L, L->lineno), sec, name, why);
		goto out;
	}
	if (strcmp(sec, "routes") == 0) {
		load_route(L, name, v);
		goto out;
	}
	snprintf(full, sizeof(full), "%s.%.100s", sec, name);
	k = cp_conf_find_key(full);
	if (k == NULL) {
		unknown_key_hint(sec, name, hint, sizeof(hint));
		add_diag(L, L->lineno, LINE_FMT "[%s] %.60s: unknown key%s",
		    AT_LINE(L, L->lineno), sec, name, hint);
		goto out;
	}
	if (L->lines[k - keys] != 0) {
		add_diag(L, L->lineno,
		    LINE_FMT "[%s] %s: set twice (first on line %d)",
		    AT_LINE(L, L->lineno), sec, name, L->lines[k - keys]);
		goto out;
	}
	L->lines[k - keys] = L->lineno; /* a second one is an error */
	rc = conf_key_set(&L->conf, k, v, &e);
	if (rc == CP_ENOMEM)
		L->nomem = 1;
	else if (rc != CP_OK)
		add_diag(L, L->lineno, LINE_FMT "[%s] %s: %s",
		    AT_LINE(L, L->lineno), sec, name, e.msg);
out:
	cp_free(buf);
	return 1;
}

/* base + "/" + rel, with "." and ".." taken out: a new string. */
static char *
path_join(const char *base, const char *rel)
{
	cp_buf b;
	char *out;
	size_t o = 0;

	cp_buf_init(&b, 2 * PATH_MAX);
	if (cp_buf_addf(&b, "%s/%s", base, rel) != CP_OK) {
		cp_buf_free(&b);
		return NULL;
	}
	out = b.data;
	/* clean in place: out[0..o) is the result so far, always "/..." */
	for (size_t i = 0; i < b.len;) {
		size_t seg;

		while (out[i] == '/')
			i++;
		seg = strcspn(out + i, "/");
		if (seg == 0)
			break;
		if (seg == 1 && out[i] == '.') {
			/* nothing */
		} else if (seg == 2 && out[i] == '.' && out[i + 1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			out[o++] = '/';
			memmove(out + o, out + i, seg);
			o += seg;
		}
		i += seg;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return cp_buf_steal(&b);
}

/* Make a relative path (after prefix) absolute from basedir. */
static int
resolve_path(char **field, size_t prefix, const char *basedir)
{
	const char *p = *field + prefix;
	char *abs, *joined;

	if (*p == '\0' || *p == '/')
		return CP_OK;
	abs = path_join(basedir, p);
	if (abs == NULL)
		return CP_ENOMEM;
	if (prefix == 0) {
		cp_free(*field);
		*field = abs;
		return CP_OK;
	}
	joined = cp_malloc(prefix + strlen(abs) + 1);
	if (joined == NULL) {
		cp_free(abs);
		return CP_ENOMEM;
	}
	memcpy(joined, *field, prefix);
	memcpy(joined + prefix, abs, strlen(abs) + 1);
	cp_free(abs);
	cp_free(*field);
	*field = joined;
	return CP_OK;
}

static int
resolve_paths(cp_conf *c, const char *basedir)
{
	int rc = CP_OK;

	if (rc == CP_OK)
		rc = resolve_path(&c->tls.cert, 0, basedir);
	if (rc == CP_OK)
		rc = resolve_path(&c->tls.key, 0, basedir);
	if (rc == CP_OK && strcmp(c->log.file, "stderr") != 0)
		rc = resolve_path(&c->log.file, 0, basedir);
	if (rc == CP_OK && strncmp(c->server.store, "sqlite:", 7) == 0 &&
	    strcmp(c->server.store + 7, ":memory:") != 0)
		rc = resolve_path(&c->server.store, 7, basedir);
	return rc;
}

static void load_rule_report(void *ctx, const char *key, const char *other,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
load_rule_report(void *ctx, const char *key, const char *other,
    const char *fmt, ...)
{
	loader *L = ctx;
	const cp_conf_key *keys, *k = cp_conf_find_key(key);
	const cp_conf_key *o = other ? cp_conf_find_key(other) : NULL;
	size_t n;
	char label[96], msg[300];
	int line;
	va_list ap;

	keys = cp_conf_keys(&n);
	line = k != NULL ? L->lines[k - keys] : 0;
	if (line == 0 && o != NULL)
		line = L->lines[o - keys];
	conf_key_label(key, label, sizeof(label));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	add_diag(L, line, LINE_FMT "%s: %s", AT_LINE(L, line), label, msg);
}

int
cp_conf_load_mem(cp_conf *out, const char *data, size_t len,
    const char *name, const char *basedir, cp_buf *diags, cp_err *err)
{
	loader L;
	size_t nkeys;
	int r, rc = CP_OK;

	memset(&L, 0, sizeof(L));
	L.name = name != NULL ? name : "config";
	L.basedir = basedir;
	L.data = data;
	L.len = data != NULL ? len : 0;
	cp_conf_keys(&nkeys);
	L.lines = cp_calloc(nkeys, sizeof(int));
	L.diags = cp_calloc(CP_CONF_DIAG_MAX, sizeof(diag));
	if (L.lines == NULL || L.diags == NULL) {
		rc = cp_err_set(err, CP_ENOMEM, "%s: out of memory", L.name);
		goto done;
	}
	if ((rc = cp_conf_init(&L.conf, err)) != CP_OK)
		goto done;
	if (L.len > CP_CONF_FILE_MAX) {
		add_diag(&L, 0, "%s: larger than %d bytes", L.name,
		    CP_CONF_FILE_MAX);
		goto report;
	}
	/* inih's options are globals: set every one this reader relies on */
	ini_max_line = CP_CONF_LINE_MAX;
	ini_use_stack = 1;
	ini_allow_multiline = 0;
	ini_allow_inline_comments = 0; /* unquote() handles them */
	ini_allow_no_value = 0;
	ini_stop_on_first_error = 0;
	ini_allow_bom = 1;
	r = ini_parse_stream(load_reader, &L, load_handler, &L);
	if (r > 0)
		add_diag(&L, r,
		    LINE_FMT "syntax error (expected [section] or key = value)",
		    AT_LINE(&L, r));
	else if (r < 0)
		L.nomem = 1;
	if (L.nomem) {
		rc = cp_err_set(err, CP_ENOMEM, "%s: out of memory", L.name);
		goto done;
	}
	if (L.ndiags == 0 && basedir != NULL &&
	    resolve_paths(&L.conf, basedir) != CP_OK) {
		rc = cp_err_set(err, CP_ENOMEM, "%s: out of memory", L.name);
		goto done;
	}
	if (L.ndiags == 0)
		conf_rules(&L.conf, load_rule_report, &L);
report:
	if (L.ndiags > 0) {
		rc = cp_err_set(err, CP_ESYNTAX, "%s", L.diags[0].msg);
		for (size_t i = 0; diags != NULL && i < L.ndiags; i++)
			cp_buf_addf(diags, "%s\n", L.diags[i].msg);
		if (diags != NULL && L.dropped > 0)
			cp_buf_addf(diags, "%s: %zu more problems not shown\n",
			    L.name, L.dropped);
	}
done:
	if (rc == CP_OK) {
		*out = L.conf;
	} else {
		cp_conf_clear(&L.conf);
	}
	cp_free(L.lines);
	cp_free(L.route_lines);
	cp_free(L.diags);
	return rc;
}

int
cp_conf_load_file(cp_conf *out, const char *path, cp_buf *diags, cp_err *err)
{
	cp_buf data;
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	FILE *f;
	int rc = CP_OK;

	cp_buf_init(&data, CP_CONF_FILE_MAX);
	f = fopen(path, "rb");
	if (f == NULL) {
		int sys = errno;

		rc = cp_err_set(err, CP_EIO, "%s: cannot read: %s", path,
		    strerror(sys));
		if (err != NULL)
			err->sys = sys;
		goto fail;
	}
	for (;;) {
		char chunk[8192];
		size_t got = fread(chunk, 1, sizeof(chunk), f);

		if (got > 0 && (rc = cp_buf_add(&data, chunk, got)) != CP_OK)
			break;
		if (got < sizeof(chunk))
			break;
	}
	if (rc == CP_OK && ferror(f)) {
		int sys = errno;

		fclose(f);
		rc = cp_err_set(err, CP_EIO, "%s: cannot read: %s", path,
		    strerror(sys));
		goto fail;
	}
	fclose(f);
	if (rc == CP_ETOOBIG) {
		rc = cp_err_set(err, CP_ESYNTAX, "%s: larger than %d bytes",
		    path, CP_CONF_FILE_MAX);
		goto fail;
	}
	if (rc != CP_OK) {
		rc = cp_err_set(err, rc, "%s: out of memory", path);
		goto fail;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (realpath(dir, real) == NULL) {
		int sys = errno;

		rc = cp_err_set(err, CP_EIO, "%s: cannot resolve its folder: %s",
		    path, strerror(sys));
		goto fail;
	}
	rc = cp_conf_load_mem(out, data.data ? data.data : "", data.len, path,
	    real, diags, err);
	cp_buf_free(&data);
	return rc;
fail:
	if (diags != NULL && err != NULL)
		cp_buf_addf(diags, "%s\n", err->msg);
	cp_buf_free(&data);
	return rc;
}

/* ---- the dump ----------------------------------------------------------- */

/* Strings that the reader would change need quotes: outer blanks, a
   leading quote or comment character, a ';' or '#' after a blank. */
static int
needs_quotes(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return 0;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t' || s[0] == '"' || s[0] == ';' || s[0] == '#')
		return 1;
	for (size_t i = 1; i < n; i++)
		if ((s[i] == ';' || s[i] == '#') &&
		    (s[i - 1] == ' ' || s[i - 1] == '\t'))
			return 1;
	return 0;
}

static int
dump_doc(const cp_conf_key *k, cp_buf *out)
{
	char a[64], b[64];
	int rc = cp_buf_addf(out, "; %s\n; %s", k->summary,
	    cp_conf_type_name(k->type));

	switch (k->type) {
	case CP_CONF_INT:
	case CP_CONF_DURATION:
	case CP_CONF_SIZE:
	case CP_CONF_DURATIONS:
		if (rc == CP_OK)
			rc = cp_buf_addf(out, ", %s..%s",
			    conf_bound_text(k, k->min, a, sizeof(a)),
			    conf_bound_text(k, k->max, b, sizeof(b)));
		break;
	case CP_CONF_ENUM:
	case CP_CONF_ENUMSET:
		if (rc == CP_OK)
			rc = cp_buf_adds(out, ": ");
		if (rc == CP_OK)
			rc = conf_enum_list(k->values, out);
		break;
	case CP_CONF_ADDRS:
	case CP_CONF_CIDRS:
		if (rc == CP_OK)
			rc = cp_buf_addf(out, ", at most %lld", (long long)k->max);
		break;
	default:
		break;
	}
	if (rc == CP_OK)
		rc = cp_buf_addf(out, "; %s\n",
		    (k->flags & CP_CONF_LIVE) ? "live (SIGHUP)" : "restart");
	return rc;
}

int
cp_conf_dump(const cp_conf *conf, unsigned flags, cp_buf *out)
{
	size_t n;
	const cp_conf_key *keys = cp_conf_keys(&n);
	char section[SECTION_MAX] = "";
	cp_conf defaults;
	cp_buf v;
	int rc;

	if ((rc = cp_conf_init(&defaults, NULL)) != CP_OK)
		return rc;
	cp_buf_init(&v, 4 * CP_CONF_LINE_MAX);
	for (size_t i = 0; i < n && rc == CP_OK; i++) {
		const cp_conf_key *k = &keys[i];
		size_t sl = strcspn(k->name, ".");
		const char *key = k->name[sl] ? k->name + sl + 1 : NULL;
		int changed = !cp_conf_key_equal(conf, &defaults, k);

		if (strlen(section) != sl || strncmp(section, k->name, sl) != 0) {
			snprintf(section, sizeof(section), "%.*s", (int)sl,
			    k->name);
			rc = cp_buf_addf(out, "%s[%s]\n",
			    i && !(flags & CP_CONF_DUMP_DOC) ? "\n" : "",
			    section);
		}
		if (rc == CP_OK && (flags & CP_CONF_DUMP_DOC))
			rc = dump_doc(k, out);
		cp_buf_reset(&v);
		if (rc == CP_OK && (flags & CP_CONF_DUMP_CHANGED) && changed) {
			rc = cp_conf_format(&defaults, k, &v);
			if (rc == CP_OK)
				rc = cp_buf_addf(out, "; default: %s\n",
				    v.len ? v.data : "(empty)");
			cp_buf_reset(&v);
		}
		if (rc != CP_OK)
			break;
		if (k->type == CP_CONF_ROUTES) {
			if (conf->routes.n == 0 && (flags & CP_CONF_DUMP_DOC))
				rc = cp_buf_adds(out,
				    "; example.com = smtp.example.net:587 "
				    "tls=verify\n");
			else
				rc = cp_conf_format(conf, k, out);
			continue;
		}
		rc = cp_conf_format(conf, k, &v);
		if (rc == CP_OK && k->type == CP_CONF_STRING &&
		    needs_quotes(v.data ? v.data : ""))
			rc = cp_buf_addf(out, "%s = \"%s\"\n", key, v.data);
		else if (rc == CP_OK)
			rc = cp_buf_addf(out, "%s =%s%s\n", key,
			    v.len ? " " : "", v.len ? v.data : "");
		if (rc == CP_OK && (flags & CP_CONF_DUMP_DOC))
			rc = cp_buf_addc(out, '\n');
	}
	cp_buf_free(&v);
	cp_conf_clear(&defaults);
	return rc;
}
