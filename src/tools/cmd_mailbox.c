/*
 * cmd_mailbox.c - `coldpost domain` and `coldpost mailbox`: sending domains
 * with their DKIM keys, and the submission logins.
 *
 *   coldpost domain add DOMAIN --tenant T [--selector S]
 *                   [--key FILE.pem | --generate [rsa|ed25519]]
 *                   | list [--tenant T] | show DOMAIN | rm DOMAIN [--force]
 *   coldpost mailbox add ADDRESS --tenant T [--password-stdin | --password P]
 *                   [--tz ZONE] [--daily-cap N] [--send-as-domain]
 *                   | list [--tenant T] | show ADDRESS | rm ADDRESS
 *                   | passwd ADDRESS | check-password ADDRESS
 *
 * DKIM keys are made (RSA 2048 by default, or Ed25519) or loaded, and
 * turned into the key record to publish (RFC 6376 3.6.1) at
 * SELECTOR._domainkey.DOMAIN (RFC 6376 3.6.2.1), split into 255-byte
 * strings (RFC 1035 3.3.14), by dkim.h. Passwords are read, handed to the
 * store (Argon2id) and wiped; they and their hashes are never printed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coldpost/buf.h"
#include "coldpost/dkim.h"
#include "coldpost/conf.h"
#include "coldpost/policy.h"
#include "coldpost/store.h"
#include "model.h"
#include "provision_cli.h"
#include "tools.h"

/* ---- domain ----------------------------------------------------------- */

static void
domain_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost domain add DOMAIN --tenant T [--selector S]\n"
	    "                           [--key FILE.pem | --generate "
	    "[rsa|ed25519]]\n"
	    "                           [--provision [--server HOST:PORT "
	    "--tsig NAME:ALG:SECRET]]\n"
	    "       coldpost domain list [--tenant T]\n"
	    "       coldpost domain show DOMAIN\n"
	    "       coldpost domain rm DOMAIN [--force]\n\n"
	    "A sending domain of a tenant, with its DKIM key. add and show "
	    "print the\nTXT record to publish at S._domainkey.DOMAIN.\n\n"
	    "  --tenant T       the tenant that sends as this domain\n"
	    "  --selector S     DKIM selector (default sYYYYMM, this month)\n"
	    "  --key FILE.pem   use this private key (RSA or Ed25519); the "
	    "store\n"
	    "                   keeps its absolute path\n"
	    "  --generate [T]   make a key: rsa (2048 bits, the default) or "
	    "ed25519;\n"
	    "                   the store keeps it\n"
	    "  --provision      add: then write its DNS records as coldpost "
	    "provision does\n"
	    "                   (table; with --server HOST:PORT --tsig "
	    "NAME:ALG:SECRET:\n"
	    "                   applied; --dns-server S, --bounce-domain D)\n"
	    "  --force          rm: remove its mailboxes too\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 refused or not found, 2 usage, 3 system error\n");
}

/* The DKIM key record of d into rec; prints the error. */
static int
domain_record(const mopts *o, const cp_domain *d, cp_buf *rec)
{
	cp_dkim_key *k = NULL;
	cp_err err;
	int rc;

	if (d->key_pem != NULL)
		rc = cp_dkim_key_from_pem(d->key_pem, strlen(d->key_pem), &k,
		    &err);
	else
		rc = cp_dkim_key_load(d->key_path, &k, &err);
	if (rc == CP_OK)
		rc = cp_dkim_key_record(k, rec, &err);
	cp_dkim_key_free(k);
	if (rc != CP_OK)
		return model_failf(o, model_exit(rc), "domain %s: cannot read its "
		    "DKIM key: %s", d->name, err.msg);
	return CP_EXIT_OK;
}

/* The zone-file line: a TXT value over 255 bytes is split in strings
 * (RFC 1035 3.3.14, RFC 6376 3.6.2.2). */
static void
print_txt(const char *owner, const char *value)
{
	size_t len = strlen(value);

	printf("%s. IN TXT", owner);
	for (size_t i = 0; i < len; i += 255)
		printf(" \"%.*s\"", (int)CP_MIN(255, len - i), value + i);
	if (len == 0)
		printf(" \"\"");
	putchar('\n');
}

static int
domain_print(const mopts *o, cp_store *st, const char *name, int added)
{
	cp_domain *d;
	cp_tenant *t;
	cp_buf rec, owner;
	char b[32];
	cp_err err;
	int rc;

	if ((rc = cp_store_get_domain(st, name, &d, &err)) != CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "no sending domain "
			    "'%s'", name);
		return model_fail(o, rc, &err);
	}
	if ((rc = cp_store_get_tenant_by_id(st, d->tenant, &t, &err)) !=
	    CP_OK) {
		cp_domain_free(d);
		return model_fail(o, rc, &err);
	}
	cp_buf_init(&rec, 1 << 16);
	cp_buf_init(&owner, 1024);
	cp_buf_addf(&owner, "%s._domainkey.%s", d->selector, d->name);
	rc = domain_record(o, d, &rec);
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer(d->id));
		json_object_set_new(j, "domain", out_jstr(d->name));
		json_object_set_new(j, "tenant", out_jstr(t->name));
		json_object_set_new(j, "selector", out_jstr(d->selector));
		json_object_set_new(j, "alg", out_jstr(d->alg));
		json_object_set_new(j, "key_path", out_jstr(d->key_path));
		json_object_set_new(j, "created", json_integer(d->created));
		json_object_set_new(j, "dkim_name", out_jstr(owner.data));
		json_object_set_new(j, "dkim_record", rc == CP_EXIT_OK ?
		    out_jstr(rec.data) : json_null());
		model_json_done(j);
	} else {
		if (added)
			printf("domain %s added for tenant %s\n", d->name,
			    t->name);
		else {
			model_field("domain", d->name);
			model_field("tenant", t->name);
			model_field("selector", d->selector);
			model_field("alg", d->alg);
			model_field("key", d->key_path ? d->key_path :
			    "(kept in the store)");
			model_field("created", model_fmt_time(d->created, b));
		}
		if (rc == CP_EXIT_OK) {
			printf("\nPublish this DKIM record (TXT at %s):\n",
			    owner.data);
			print_txt(owner.data, rec.data);
		}
	}
	cp_buf_free(&rec);
	cp_buf_free(&owner);
	cp_domain_free(d);
	cp_tenant_free(t);
	return rc;
}

/* domain add --provision: the tenant's pool and the new key, written
 * (with --server) or shown, as `coldpost provision` does (cmd_provision.c). */
static int
domain_provision(mopts *o, cp_store *st)
{
	prov_args a;

	memset(&a, 0, sizeof(a));
	a.cmd = "domain";
	a.domain = o->pos[0];
	a.bounce = o->bounce;
	a.server = o->server;
	a.tsig = o->tsig;
	a.dns_server = o->dns_server;
	a.apply = o->server != NULL;
	a.json = o->json;
	if (!o->json)
		printf("\nDNS records:\n");
	return prov_run(&a, st);
}

static int
domain_add(mopts *o, cp_store *st)
{
	cp_tenant *t;
	cp_domain d = { 0 };
	cp_dkim_key *k = NULL;
	cp_buf pem;
	char sel[32], *abs = NULL;
	cp_err err;
	int rc;

	if (o->tenant == NULL)
		return model_failf(o, CP_EXIT_USAGE, "add needs --tenant T");
	if (!o->provision && (o->server || o->tsig || o->dns_server ||
	    o->bounce))
		return model_failf(o, CP_EXIT_USAGE, "--server, --tsig, "
		    "--dns-server and --bounce-domain go with --provision");
	if (o->provision && o->json)
		return model_failf(o, CP_EXIT_USAGE, "--provision prints a table: "
		    "for JSON, run coldpost provision DOMAIN --json after add");
	if (o->key != NULL && o->generate)
		return model_failf(o, CP_EXIT_USAGE, "--key and --generate: give "
		    "one of both");
	if (o->gentype != NULL && strcmp(o->gentype, "rsa") != 0 &&
	    strcmp(o->gentype, "ed25519") != 0)
		return model_failf(o, CP_EXIT_USAGE, "--generate '%s': rsa or "
		    "ed25519", o->gentype);
	if ((rc = model_get_tenant(o, st, o->tenant, &t)) != CP_EXIT_OK)
		return rc;
	cp_buf_init(&pem, CP_STORE_PEM_MAX);
	if (o->key != NULL) {
		if ((rc = cp_dkim_key_load(o->key, &k, &err)) != CP_OK) {
			cp_tenant_free(t);
			return model_failf(o, model_exit(rc), "--key %s: %s", o->key,
			    err.msg);
		}
		if ((abs = realpath(o->key, NULL)) == NULL) {
			cp_tenant_free(t);
			cp_dkim_key_free(k);
			return model_failf(o, CP_EXIT_SYS, "--key %s: %s", o->key,
			    strerror(errno));
		}
		d.key_path = abs;
	} else {
		int ed = o->gentype && strcmp(o->gentype, "ed25519") == 0;

		rc = cp_dkim_key_generate(ed ? CP_DKIM_KEY_ED25519 :
		    CP_DKIM_KEY_RSA, 2048, &k, &err);
		if (rc == CP_OK)
			rc = cp_dkim_key_pem(k, &pem, &err);
		if (rc != CP_OK) {
			cp_tenant_free(t);
			cp_dkim_key_free(k);
			cp_buf_wipe(&pem);
			return model_fail(o, rc, &err);
		}
		d.key_pem = pem.data;
	}
	if (o->selector == NULL) {
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(sel, sizeof(sel), "s%Y%m", &tm);
	}
	d.tenant = t->id;
	d.name = o->pos[0];
	d.selector = o->selector ? o->selector : sel;
	d.alg = cp_dkim_alg_name(cp_dkim_key_alg(k));
	rc = cp_store_add_domain(st, &d, &err);
	cp_dkim_key_free(k);
	cp_buf_wipe(&pem);
	free(abs); /* realpath's */
	cp_tenant_free(t);
	if (rc != CP_OK)
		return model_fail(o, rc, &err);
	if ((rc = domain_print(o, st, o->pos[0], 1)) != CP_EXIT_OK ||
	    !o->provision)
		return rc;
	return domain_provision(o, st);
}

static int
domain_list(mopts *o, cp_store *st)
{
	model_names nm;
	model_show c = { 0 };
	int64_t tid = 0;
	tbl t;
	cp_err err;
	int rc;

	if (o->tenant != NULL) {
		cp_tenant *ten;

		if ((rc = model_get_tenant(o, st, o->tenant, &ten)) != CP_EXIT_OK)
			return rc;
		tid = ten->id;
		cp_tenant_free(ten);
	}
	if ((rc = model_load_names(o, st, &nm)) != CP_EXIT_OK)
		return rc;
	c.nm = &nm;
	tbl_init(&t, 6);
	tbl_add(&t, "DOMAIN"); tbl_add(&t, "TENANT"); tbl_add(&t, "SELECTOR");
	tbl_add(&t, "ALG"); tbl_add(&t, "KEY"); tbl_add(&t, "CREATED");
	c.t = &t;
	if (o->json)
		c.a = json_array();
	rc = cp_store_list_domains(st, tid, model_show_domain_cb, &c, &err);
	model_names_free(&nm);
	return model_list_end(o, rc, &err, c.a, &t, "no domains");
}

static int
domain_show(mopts *o, cp_store *st)
{
	return domain_print(o, st, o->pos[0], 0);
}

static int
domain_rm(mopts *o, cp_store *st)
{
	cp_err err;
	int rc;

	if ((rc = cp_store_remove_domain(st, o->pos[0], o->force, &err)) !=
	    CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "no sending domain "
			    "'%s'", o->pos[0]);
		if (rc == CP_EINVAL && strstr(err.msg, "mailbox") != NULL)
			return model_failf(o, CP_EXIT_FAIL, "%s (rm --force removes "
			    "them too)", err.msg + (strncmp(err.msg,
			    "store: ", 7) == 0 ? 7 : 0));
		return model_fail(o, rc, &err);
	}
	return model_removed(o, "domain", o->pos[0]);
}

int
cmd_domain(int argc, char **argv)
{
	static const msub subs[] = {
		{ "add", OBIT(O_TENANT) | OBIT(O_SELECTOR) | OBIT(O_KEY) |
		    OBIT(O_GENERATE) | OBIT(O_PROVISION) | OBIT(O_SERVER) |
		    OBIT(O_TSIG) | OBIT(O_DNSSRV) | OBIT(O_BOUNCE), 1, 1,
		    domain_add },
		{ "list", OBIT(O_TENANT), 0, 0, domain_list },
		{ "show", 0, 1, 1, domain_show },
		{ "rm", OBIT(O_FORCE), 1, 1, domain_rm },
	};

	return model_run(argc, argv, "domain", subs, CP_NELEM(subs),
	    domain_usage);
}

/* ---- mailbox ---------------------------------------------------------- */

static void
mailbox_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost mailbox add ADDRESS --tenant T [--password-stdin "
	    "| --password P]\n"
	    "                            [--tz ZONE] [--daily-cap N] "
	    "[--send-as-domain]\n"
	    "       coldpost mailbox list [--tenant T]\n"
	    "       coldpost mailbox show ADDRESS\n"
	    "       coldpost mailbox rm ADDRESS\n"
	    "       coldpost mailbox passwd ADDRESS [--password-stdin | "
	    "--password P]\n"
	    "       coldpost mailbox check-password ADDRESS [--password-stdin "
	    "| --password P]\n\n"
	    "A submission login of a tenant; its address's domain must be one "
	    "of the\ntenant's sending domains. Passwords are kept as Argon2id "
	    "hashes and\nnever printed. passwd reads the new password from "
	    "stdin unless --password\nis given; check-password exits 0 if it "
	    "matches, 1 if not.\n\n"
	    "  --tenant T         the tenant (add; list: only its mailboxes)\n"
	    "  --password-stdin   read the password from the first line of "
	    "stdin\n"
	    "  --password P       the password (visible in ps: prefer stdin)\n"
	    "  --tz ZONE          IANA time zone (default UTC)\n"
	    "  --daily-cap N      daily sending cap (0: none; default: the "
	    "tenant's)\n"
	    "  --send-as-domain   may send as any address of its domain\n"
	    "  --config FILE      read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN        the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json             machine output\n\n"
	    "exit: 0 done, 1 refused, not found or wrong password, 2 usage, "
	    "3 system error\n");
}

/* The password from --password or one line of stdin into *pw (wipe it). */
static int
read_password(const mopts *o, cp_buf *pw)
{
	cp_buf_init(pw, CP_STORE_PASSWORD_MAX + 2);
	if (o->password != NULL && o->pwstdin)
		return model_failf(o, CP_EXIT_USAGE, "--password and "
		    "--password-stdin: give one of both");
	if (o->password != NULL) {
		if (cp_buf_adds(pw, o->password) != CP_OK)
			return model_failf(o, CP_EXIT_FAIL, "password longer than "
			    "%d bytes", CP_STORE_PASSWORD_MAX);
	} else {
		int c;

		while ((c = getchar()) != EOF && c != '\n')
			if (cp_buf_addc(pw, (char)c) != CP_OK) {
				cp_buf_wipe(pw);
				return model_failf(o, CP_EXIT_FAIL, "password longer "
				    "than %d bytes", CP_STORE_PASSWORD_MAX);
			}
		if (pw->len > 0 && pw->data[pw->len - 1] == '\r')
			pw->data[--pw->len] = '\0';
	}
	if (pw->len == 0)
		return model_failf(o, CP_EXIT_FAIL, "empty password");
	return CP_EXIT_OK;
}

static int
mailbox_add(mopts *o, cp_store *st)
{
	cp_tenant *t;
	cp_mailbox m = { 0 };
	cp_buf pw;
	int setpw = o->pwstdin || o->password != NULL;
	cp_err err;
	int rc;

	if (o->tenant == NULL)
		return model_failf(o, CP_EXIT_USAGE, "add needs --tenant T");
	if (setpw && (rc = read_password(o, &pw)) != CP_EXIT_OK) {
		cp_buf_wipe(&pw);
		return rc;
	}
	if ((rc = model_get_tenant(o, st, o->tenant, &t)) != CP_EXIT_OK)
		goto out;
	/* a clearer refusal than the store's for another tenant's domain */
	{
		const char *at = strrchr(o->pos[0], '@');
		cp_domain *d;

		if (at != NULL && cp_store_get_domain(st, at + 1, &d, NULL) ==
		    CP_OK) {
			if (d->tenant != t->id) {
				cp_tenant *other;
				char on[CP_STORE_NAME_MAX + 1] = "another";

				if (cp_store_get_tenant_by_id(st, d->tenant,
				    &other, NULL) == CP_OK) {
					snprintf(on, sizeof(on), "'%s'",
					    other->name);
					cp_tenant_free(other);
				}
				rc = model_failf(o, CP_EXIT_FAIL, "mailbox %s: domain "
				    "%s belongs to tenant %s, not '%s'",
				    o->pos[0], d->name, on, t->name);
			}
			cp_domain_free(d);
			if (rc != CP_EXIT_OK) {
				cp_tenant_free(t);
				goto out;
			}
		}
	}
	m.tenant = t->id;
	m.address = o->pos[0];
	m.tz = o->tz ? o->tz : "UTC";
	m.daily_cap = o->cap < 0 ? -1 : (int32_t)o->cap;
	m.send_as_domain = o->sendas;
	rc = cp_store_add_mailbox(st, &m, &err);
	cp_tenant_free(t);
	if (rc != CP_OK) {
		rc = model_fail(o, rc, &err);
		goto out;
	}
	if (setpw && (rc = cp_store_set_password(st, m.address, pw.data,
	    pw.len, &err)) != CP_OK) {
		int ec = model_fail(o, rc, &err);

		/* no half-made login: the mailbox goes again */
		cp_store_remove_mailbox(st, m.address, NULL);
		rc = ec;
		goto out;
	}
	rc = CP_EXIT_OK;
	if (o->json) {
		cp_mailbox *got;

		if ((rc = cp_store_get_mailbox(st, m.address, &got, &err)) !=
		    CP_OK) {
			rc = model_fail(o, rc, &err);
			goto out;
		}
		model_json_done(model_mailbox_json(got, o->tenant));
		cp_mailbox_free(got);
	} else {
		printf("mailbox %s added for tenant %s (%s)\n", m.address,
		    o->tenant, setpw ? "password set" : "no password yet: "
		    "coldpost mailbox passwd");
	}
out:
	if (setpw)
		cp_buf_wipe(&pw);
	return rc;
}

static int
mailbox_list(mopts *o, cp_store *st)
{
	model_names nm;
	model_show c = { 0 };
	int64_t tid = 0;
	tbl t;
	cp_err err;
	int rc;

	if (o->tenant != NULL) {
		cp_tenant *ten;

		if ((rc = model_get_tenant(o, st, o->tenant, &ten)) != CP_EXIT_OK)
			return rc;
		tid = ten->id;
		cp_tenant_free(ten);
	}
	if ((rc = model_load_names(o, st, &nm)) != CP_EXIT_OK)
		return rc;
	c.nm = &nm;
	tbl_init(&t, 6);
	tbl_add(&t, "ADDRESS"); tbl_add(&t, "TENANT"); tbl_add(&t, "TZ");
	tbl_add(&t, "DAILY-CAP"); tbl_add(&t, "PASSWORD");
	tbl_add(&t, "CREATED");
	c.t = &t;
	if (o->json)
		c.a = json_array();
	rc = cp_store_list_mailboxes(st, tid, model_show_mailbox_cb, &c, &err);
	model_names_free(&nm);
	return model_list_end(o, rc, &err, c.a, &t, "no mailboxes");
}

static int
get_mailbox(const mopts *o, cp_store *st, cp_mailbox **m)
{
	cp_err err;
	int rc = cp_store_get_mailbox(st, o->pos[0], m, &err);

	if (rc == CP_ENOTFOUND)
		return model_failf(o, CP_EXIT_FAIL, "no mailbox '%s'", o->pos[0]);
	return rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
}

/*
 * Today's use of the mailbox's daily cap and its ramp stage, as the
 * sending policy counts them under the configuration (--config; the
 * defaults with --store alone). 0 when it cannot be told (then nothing is
 * shown: the rest of show still is).
 */
static int
mailbox_cap_usage(const mopts *o, cp_store *st, const cp_mailbox *m,
    cp_policy_usage *u)
{
	cp_conf conf;
	cp_policy_opts po = { .conf = &conf, .store = st };
	cp_policy *p;
	int ok = 0;

	if (o->config != NULL ? cp_conf_load_file(&conf, o->config, NULL,
	    NULL) != CP_OK : cp_conf_init(&conf, NULL) != CP_OK)
		return 0;
	if ((p = cp_policy_new(&po, NULL)) != NULL) {
		ok = cp_policy_get_usage(p, m->tenant, m->id, 0, u, NULL) ==
		    CP_OK;
		cp_policy_free(p);
	}
	cp_conf_clear(&conf);
	return ok;
}

static void
mailbox_usage_print(const cp_policy_usage *u)
{
	char line[160];

	if (u->cap == 0)
		snprintf(line, sizeof(line), "%" PRId64 " sent, no cap",
		    u->used);
	else
		snprintf(line, sizeof(line), "%" PRId64 " of %" PRId64 "%s",
		    u->used, u->cap, u->ramping ? " (ramping up)" : "");
	model_field("today", line);
	snprintf(line, sizeof(line), "day %" PRId64 "; %s", u->age_days + 1,
	    u->ramping ? "ramp: its cap grows with its age" : "full cap");
	model_field("ramp stage", line);
}

static int
mailbox_show(mopts *o, cp_store *st)
{
	cp_policy_usage u;
	int have_usage;
	cp_mailbox *m;
	cp_tenant *t;
	char b[32], b2[32];
	cp_err err;
	int rc;

	if ((rc = get_mailbox(o, st, &m)) != CP_EXIT_OK)
		return rc;
	if ((rc = cp_store_get_tenant_by_id(st, m->tenant, &t, &err)) !=
	    CP_OK) {
		cp_mailbox_free(m);
		return model_fail(o, rc, &err);
	}
	have_usage = mailbox_cap_usage(o, st, m, &u);
	if (o->json) {
		json_t *j = model_mailbox_json(m, t->name);

		if (have_usage)
			json_object_set_new(j, "usage", json_pack("{s:I,s:I,s:I,"
			    "s:b,s:I,s:I}", "cap_today", (json_int_t)u.cap,
			    "full_cap", (json_int_t)u.full_cap, "used_today",
			    (json_int_t)u.used, "ramping", u.ramping, "age_days",
			    (json_int_t)u.age_days, "resets_at",
			    (json_int_t)u.resets_at));
		model_json_done(j);
	} else {
		model_field("mailbox", m->address);
		model_field("tenant", t->name);
		model_field("tz", m->tz);
		model_field("daily cap", m->daily_cap < 0 ? "tenant default" :
		    model_fmt_cap(m->daily_cap, b2));
		model_field("send as", m->send_as_domain ? "any address of its "
		    "domain" : "its own address");
		model_field("password", m->pwhash && m->pwhash[0] ? "set" :
		    "not set");
		model_field("created", model_fmt_time(m->created, b));
		if (have_usage)
			mailbox_usage_print(&u);
	}
	cp_mailbox_free(m);
	cp_tenant_free(t);
	return CP_EXIT_OK;
}

static int
mailbox_rm(mopts *o, cp_store *st)
{
	cp_err err;
	int rc;

	if ((rc = cp_store_remove_mailbox(st, o->pos[0], &err)) != CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "no mailbox '%s'",
			    o->pos[0]);
		return model_fail(o, rc, &err);
	}
	return model_removed(o, "mailbox", o->pos[0]);
}

static int
mailbox_passwd(mopts *o, cp_store *st)
{
	cp_mailbox *m;
	cp_buf pw;
	cp_err err;
	int rc;

	if ((rc = get_mailbox(o, st, &m)) != CP_EXIT_OK)
		return rc;
	cp_mailbox_free(m);
	if ((rc = read_password(o, &pw)) == CP_EXIT_OK) {
		rc = cp_store_set_password(st, o->pos[0], pw.data, pw.len,
		    &err);
		rc = rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
	}
	cp_buf_wipe(&pw);
	if (rc != CP_EXIT_OK)
		return rc;
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "mailbox", out_jstr(o->pos[0]));
		json_object_set_new(j, "password_set", json_true());
		model_json_done(j);
	} else {
		printf("password of %s set\n", o->pos[0]);
	}
	return CP_EXIT_OK;
}

static int
mailbox_check_password(mopts *o, cp_store *st)
{
	cp_buf pw;
	int ok = 0, rc;
	cp_err err;

	if ((rc = read_password(o, &pw)) == CP_EXIT_OK) {
		rc = cp_store_verify_password(st, o->pos[0], pw.data, pw.len,
		    &ok, &err);
		rc = rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
	}
	cp_buf_wipe(&pw);
	if (rc != CP_EXIT_OK)
		return rc;
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "mailbox", out_jstr(o->pos[0]));
		json_object_set_new(j, "match", json_boolean(ok));
		model_json_done(j);
	} else {
		printf("%s: password %s\n", o->pos[0], ok ? "matches" :
		    "does not match (or no such mailbox)");
	}
	return ok ? CP_EXIT_OK : CP_EXIT_FAIL;
}

int
cmd_mailbox(int argc, char **argv)
{
	static const msub subs[] = {
		{ "add", OBIT(O_TENANT) | OBIT(O_PWSTDIN) | OBIT(O_PW) |
		    OBIT(O_TZ) | OBIT(O_CAP) | OBIT(O_SENDAS), 1, 1,
		    mailbox_add },
		{ "list", OBIT(O_TENANT), 0, 0, mailbox_list },
		{ "show", 0, 1, 1, mailbox_show },
		{ "rm", 0, 1, 1, mailbox_rm },
		{ "passwd", OBIT(O_PWSTDIN) | OBIT(O_PW), 1, 1,
		    mailbox_passwd },
		{ "check-password", OBIT(O_PWSTDIN) | OBIT(O_PW), 1, 1,
		    mailbox_check_password },
	};

	return model_run(argc, argv, "mailbox", subs, CP_NELEM(subs),
	    mailbox_usage);
}
