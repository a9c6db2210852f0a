/*
 * cmd_tenant.c - `coldpost tenant` and `coldpost pool`: tenants and the IP
 * pools (source addresses, each with its EHLO name) their mail leaves from.
 *
 *   coldpost tenant add NAME [--daily-cap N] | list | show NAME
 *                   | rm NAME [--force]
 *   coldpost pool add TENANT IP --ehlo NAME | list [TENANT] | show IP | rm IP
 *
 * The records live in the store (store.h); a tenant with mailboxes is only
 * removed with --force, which takes its mailboxes, domains and pool too and
 * cancels its waiting messages. Options, tables and exit codes: model.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coldpost/conf.h"
#include "coldpost/store.h"
#include "model.h"
#include "tools.h"

/* ---- tenant ----------------------------------------------------------- */

static void
tenant_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost tenant add NAME [--daily-cap N] [--unsubscribe "
	    "on|off]\n"
	    "       coldpost tenant set NAME --unsubscribe on|off\n"
	    "       coldpost tenant list\n"
	    "       coldpost tenant show NAME\n"
	    "       coldpost tenant rm NAME [--force]\n\n"
	    "A tenant owns IP pools, sending domains and mailboxes.\n\n"
	    "  --daily-cap N    default daily cap of its mailboxes (0: none)\n"
	    "  --unsubscribe on|off  add List-Unsubscribe (mailto on "
	    "bounce.domain)\n"
	    "                   and List-Unsubscribe-Post to its messages\n"
	    "  --force          rm: remove its mailboxes, domains and pool "
	    "too,\n"
	    "                   and cancel its waiting messages\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 refused or not found, 2 usage, 3 system error\n");
}

static json_t *
tenant_json(const cp_tenant *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "name", out_jstr(t->name));
	json_object_set_new(o, "daily_cap", json_integer(t->mailbox_cap));
	json_object_set_new(o, "created", json_integer(t->created));
	return o;
}

/* --unsubscribe on|off: 1, 0, or -1 (not given); -2 bad value. */
static int
tenant_unsub_arg(const mopts *o)
{
	if (o->unsub == NULL)
		return -1;
	if (strcmp(o->unsub, "on") == 0)
		return 1;
	if (strcmp(o->unsub, "off") == 0)
		return 0;
	fprintf(stderr, "coldpost tenant: --unsubscribe '%s': want on or "
	    "off\n", o->unsub);
	return -2;
}

static int
tenant_set(mopts *o, cp_store *st)
{
	cp_tenant *t;
	cp_err err;
	int on = tenant_unsub_arg(o), rc;

	if (on == -2 || on == -1) {
		if (on == -1)
			fprintf(stderr, "coldpost tenant set: nothing to set "
			    "(--unsubscribe on|off)\n");
		return CP_EXIT_USAGE;
	}
	if ((rc = model_get_tenant(o, st, o->pos[0], &t)) != CP_EXIT_OK)
		return rc;
	rc = cp_store_set_tenant_unsubscribe(st, t->id, on, &err);
	if (rc != CP_OK) {
		cp_tenant_free(t);
		return model_fail(o, rc, &err);
	}
	if (o->json) {
		json_t *j = tenant_json(t);

		json_object_set_new(j, "unsubscribe", json_boolean(on));
		model_json_done(j);
	} else
		printf("tenant %s: unsubscribe %s\n", t->name, on ? "on" :
		    "off");
	cp_tenant_free(t);
	return CP_EXIT_OK;
}

static int
tenant_add(mopts *o, cp_store *st)
{
	cp_tenant t = { 0 };
	cp_err err;
	int rc;

	t.name = o->pos[0];
	t.mailbox_cap = o->cap < 0 ? 0 : (int32_t)o->cap;
	if (tenant_unsub_arg(o) == -2)
		return CP_EXIT_USAGE;
	if ((rc = cp_store_add_tenant(st, &t, &err)) != CP_OK)
		return model_fail(o, rc, &err);
	if (tenant_unsub_arg(o) == 1 && (rc = cp_store_set_tenant_unsubscribe(
	    st, t.id, 1, &err)) != CP_OK)
		return model_fail(o, rc, &err);
	if (o->json) {
		cp_tenant *got;

		if ((rc = cp_store_get_tenant(st, t.name, &got, &err)) !=
		    CP_OK)
			return model_fail(o, rc, &err);
		model_json_done(tenant_json(got));
		cp_tenant_free(got);
	} else {
		printf("tenant %s added (id %" PRId64 ")\n", t.name, t.id);
	}
	return CP_EXIT_OK;
}

static int
tenant_list(mopts *o, cp_store *st)
{
	model_names nm;
	tbl t;
	json_t *a = json_array();
	cp_err err;
	int rc;

	if ((rc = model_load_names(o, st, &nm)) != CP_EXIT_OK) {
		json_decref(a);
		return rc;
	}
	tbl_init(&t, 7);
	tbl_add(&t, "NAME"); tbl_add(&t, "ID"); tbl_add(&t, "DAILY-CAP");
	tbl_add(&t, "IPS"); tbl_add(&t, "DOMAINS"); tbl_add(&t, "MAILBOXES");
	tbl_add(&t, "CREATED");
	for (size_t i = 0; i < nm.n; i++) {
		cp_tenant *ten = NULL;
		model_tcounts c;
		char b1[32], b2[32];

		if ((rc = cp_store_get_tenant_by_id(st, nm.id[i], &ten,
		    &err)) != CP_OK)
			break;
		if ((rc = model_tenant_counts(st, nm.id[i], &c, &err)) != CP_OK) {
			cp_tenant_free(ten);
			break;
		}
		if (o->json) {
			json_t *j = tenant_json(ten);

			json_object_set_new(j, "ips", json_integer(c.pools));
			json_object_set_new(j, "domains",
			    json_integer(c.domains));
			json_object_set_new(j, "mailboxes",
			    json_integer(c.mailboxes));
			json_array_append_new(a, j);
		} else {
			tbl_add(&t, ten->name);
			tbl_addf(&t, "%" PRId64, ten->id);
			tbl_add(&t, ten->mailbox_cap ?
			    model_fmt_cap(ten->mailbox_cap, b1) : "none");
			tbl_addf(&t, "%" PRId64, c.pools);
			tbl_addf(&t, "%" PRId64, c.domains);
			tbl_addf(&t, "%" PRId64, c.mailboxes);
			tbl_add(&t, model_fmt_time(ten->created, b2));
		}
		cp_tenant_free(ten);
	}
	model_names_free(&nm);
	if (rc != CP_OK) {
		tbl_free(&t);
		json_decref(a);
		return model_fail(o, rc, &err);
	}
	if (o->json) {
		model_json_done(a);
		tbl_free(&t);
	} else {
		json_decref(a);
		tbl_print(&t, "no tenants");
	}
	return CP_EXIT_OK;
}


static int
tenant_show(mopts *o, cp_store *st)
{
	cp_tenant *t;
	model_show c = { 0 };
	tbl tp, td, tm;
	char b[32];
	cp_err err;
	int rc;

	if ((rc = model_get_tenant(o, st, o->pos[0], &t)) != CP_EXIT_OK)
		return rc;
	if (o->json) {
		json_t *j = tenant_json(t);
		json_t *ap = json_array(), *ad = json_array(),
		    *am = json_array();

		c.a = ap;
		rc = cp_store_list_pools(st, t->id, model_show_pool_cb, &c, &err);
		c.a = ad;
		if (rc == CP_OK)
			rc = cp_store_list_domains(st, t->id, model_show_domain_cb, &c,
			    &err);
		c.a = am;
		if (rc == CP_OK)
			rc = cp_store_list_mailboxes(st, t->id, model_show_mailbox_cb, &c,
			    &err);
		json_object_set_new(j, "pool", ap);
		json_object_set_new(j, "domains", ad);
		json_object_set_new(j, "mailboxes", am);
		if (rc == CP_OK)
			model_json_done(j);
		else
			json_decref(j);
		cp_tenant_free(t);
		return rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
	}
	tbl_init(&tp, 3);
	tbl_add(&tp, "IP"); tbl_add(&tp, "EHLO"); tbl_add(&tp, "CREATED");
	tbl_init(&td, 5);
	tbl_add(&td, "DOMAIN"); tbl_add(&td, "SELECTOR"); tbl_add(&td, "ALG");
	tbl_add(&td, "KEY"); tbl_add(&td, "CREATED");
	tbl_init(&tm, 5);
	tbl_add(&tm, "ADDRESS"); tbl_add(&tm, "TZ"); tbl_add(&tm, "DAILY-CAP");
	tbl_add(&tm, "PASSWORD"); tbl_add(&tm, "CREATED");
	c.t = &tp;
	rc = cp_store_list_pools(st, t->id, model_show_pool_cb, &c, &err);
	c.t = &td;
	if (rc == CP_OK)
		rc = cp_store_list_domains(st, t->id, model_show_domain_cb, &c, &err);
	c.t = &tm;
	if (rc == CP_OK)
		rc = cp_store_list_mailboxes(st, t->id, model_show_mailbox_cb, &c, &err);
	if (rc == CP_OK) {
		char bc[32];

		model_field("tenant", t->name);
		snprintf(bc, sizeof(bc), "%" PRId64, t->id);
		model_field("id", bc);
		model_field("daily cap", t->mailbox_cap ?
		    model_fmt_cap(t->mailbox_cap, bc) : "none");
		{
			int on = 0;

			if (cp_store_get_tenant_unsubscribe(st, t->id, &on,
			    NULL) == CP_OK)
				model_field("unsubscribe", on ? "on" : "off");
		}
		model_field("created", model_fmt_time(t->created, b));
		printf("\nIP pool (%zu):\n", tbl_rows(&tp) - 1);
		tbl_print(&tp, "  none");
		printf("\ndomains (%zu):\n", tbl_rows(&td) - 1);
		tbl_print(&td, "  none");
		printf("\nmailboxes (%zu):\n", tbl_rows(&tm) - 1);
		tbl_print(&tm, "  none");
	} else {
		tbl_free(&tp);
		tbl_free(&td);
		tbl_free(&tm);
	}
	cp_tenant_free(t);
	return rc == CP_OK ? CP_EXIT_OK : model_fail(o, rc, &err);
}

static int
tenant_rm(mopts *o, cp_store *st)
{
	cp_tenant *t;
	model_tcounts c;
	cp_err err;
	int rc;

	if ((rc = model_get_tenant(o, st, o->pos[0], &t)) != CP_EXIT_OK)
		return rc;
	rc = model_tenant_counts(st, t->id, &c, &err);
	cp_tenant_free(t);
	if (rc != CP_OK)
		return model_fail(o, rc, &err);
	if (c.mailboxes > 0 && !o->force)
		return model_failf(o, CP_EXIT_FAIL, "tenant '%s' has %" PRId64
		    " mailbox%s: rm --force removes them too (with its "
		    "domains and IPs, and cancels its waiting messages)",
		    o->pos[0], c.mailboxes, c.mailboxes == 1 ? "" : "es");
	rc = cp_store_remove_tenant(st, o->pos[0], o->force, model_now(), &err);
	if (rc != CP_OK)
		return model_fail(o, rc, &err);
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "removed", out_jstr(o->pos[0]));
		json_object_set_new(j, "mailboxes", json_integer(c.mailboxes));
		json_object_set_new(j, "domains", json_integer(c.domains));
		json_object_set_new(j, "ips", json_integer(c.pools));
		model_json_done(j);
	} else {
		printf("tenant %s removed (with %" PRId64 " mailbox%s, %"
		    PRId64 " domain%s, %" PRId64 " IP%s)\n", o->pos[0],
		    c.mailboxes, c.mailboxes == 1 ? "" : "es", c.domains,
		    c.domains == 1 ? "" : "s", c.pools,
		    c.pools == 1 ? "" : "s");
	}
	return CP_EXIT_OK;
}

int
cmd_tenant(int argc, char **argv)
{
	static const msub subs[] = {
		{ "add", OBIT(O_CAP) | OBIT(O_UNSUB), 1, 1, tenant_add },
		{ "set", OBIT(O_UNSUB), 1, 1, tenant_set },
		{ "list", 0, 0, 0, tenant_list },
		{ "show", 0, 1, 1, tenant_show },
		{ "rm", OBIT(O_FORCE), 1, 1, tenant_rm },
	};

	return model_run(argc, argv, "tenant", subs, CP_NELEM(subs),
	    tenant_usage);
}

/* ---- pool ------------------------------------------------------------- */

static void
pool_usage(FILE *f)
{
	fprintf(f,
	    "usage: coldpost pool add TENANT IP --ehlo NAME\n"
	    "       coldpost pool list [TENANT]\n"
	    "       coldpost pool show IP\n"
	    "       coldpost pool rm IP\n\n"
	    "A tenant's IP pool: the source addresses its mail leaves from, "
	    "each\nwith the host name said in EHLO from it.\n\n"
	    "  --ehlo NAME      EHLO name used from this address "
	    "(required for add)\n"
	    "  --config FILE    read the store DSN from FILE (default "
	    CP_CONF_PATH ")\n"
	    "  --store DSN      the store, e.g. sqlite:/var/lib/coldpost/"
	    "queue.db\n"
	    "  --json           machine output\n\n"
	    "exit: 0 done, 1 refused or not found, 2 usage, 3 system error\n");
}

static int
pool_add(mopts *o, cp_store *st)
{
	cp_tenant *t;
	cp_pool p = { 0 };
	cp_err err;
	int rc;

	if (o->ehlo == NULL)
		return model_failf(o, CP_EXIT_USAGE, "add needs --ehlo NAME (the "
		    "host name said from this address)");
	if ((rc = model_get_tenant(o, st, o->pos[0], &t)) != CP_EXIT_OK)
		return rc;
	p.tenant = t->id;
	p.addr = o->pos[1];
	p.ehlo = o->ehlo;
	rc = cp_store_add_pool(st, &p, &err);
	cp_tenant_free(t);
	if (rc != CP_OK)
		return model_fail(o, rc, &err);
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer(p.id));
		json_object_set_new(j, "tenant", out_jstr(o->pos[0]));
		json_object_set_new(j, "ip", out_jstr(p.addr));
		json_object_set_new(j, "ehlo", out_jstr(p.ehlo));
		model_json_done(j);
	} else {
		printf("IP %s added to tenant %s's pool (EHLO %s)\n",
		    p.addr, o->pos[0], p.ehlo);
	}
	return CP_EXIT_OK;
}

static int
pool_list(mopts *o, cp_store *st)
{
	model_names nm;
	model_show c = { 0 };
	int64_t tid = 0;
	tbl t;
	cp_err err;
	int rc;

	if (o->npos == 1) {
		cp_tenant *ten;

		if ((rc = model_get_tenant(o, st, o->pos[0], &ten)) != CP_EXIT_OK)
			return rc;
		tid = ten->id;
		cp_tenant_free(ten);
	}
	if ((rc = model_load_names(o, st, &nm)) != CP_EXIT_OK)
		return rc;
	c.nm = &nm;
	tbl_init(&t, 4);
	tbl_add(&t, "IP"); tbl_add(&t, "TENANT"); tbl_add(&t, "EHLO");
	tbl_add(&t, "CREATED");
	c.t = &t;
	if (o->json)
		c.a = json_array();
	rc = cp_store_list_pools(st, tid, model_show_pool_cb, &c, &err);
	model_names_free(&nm);
	return model_list_end(o, rc, &err, c.a, &t, "no IPs");
}

static int
pool_show(mopts *o, cp_store *st)
{
	cp_pool *p;
	cp_tenant *t = NULL;
	char b[32];
	cp_err err;
	int rc;

	if ((rc = cp_store_get_pool(st, o->pos[0], &p, &err)) != CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "IP %s is in no "
			    "tenant's pool", o->pos[0]);
		return model_fail(o, rc, &err);
	}
	if ((rc = cp_store_get_tenant_by_id(st, p->tenant, &t, &err)) !=
	    CP_OK) {
		cp_pool_free(p);
		return model_fail(o, rc, &err);
	}
	if (o->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer(p->id));
		json_object_set_new(j, "ip", out_jstr(p->addr));
		json_object_set_new(j, "tenant", out_jstr(t->name));
		json_object_set_new(j, "ehlo", out_jstr(p->ehlo));
		json_object_set_new(j, "created", json_integer(p->created));
		model_json_done(j);
	} else {
		model_field("ip", p->addr);
		model_field("tenant", t->name);
		model_field("ehlo", p->ehlo);
		model_field("created", model_fmt_time(p->created, b));
	}
	cp_pool_free(p);
	cp_tenant_free(t);
	return CP_EXIT_OK;
}

static int
pool_rm(mopts *o, cp_store *st)
{
	cp_err err;
	int rc;

	if ((rc = cp_store_remove_pool(st, o->pos[0], &err)) != CP_OK) {
		if (rc == CP_ENOTFOUND)
			return model_failf(o, CP_EXIT_FAIL, "IP %s is in no "
			    "tenant's pool", o->pos[0]);
		return model_fail(o, rc, &err);
	}
	return model_removed(o, "IP", o->pos[0]);
}

int
cmd_pool(int argc, char **argv)
{
	static const msub subs[] = {
		{ "add", OBIT(O_EHLO), 2, 2, pool_add },
		{ "list", 0, 0, 1, pool_list },
		{ "show", 0, 1, 1, pool_show },
		{ "rm", 0, 1, 1, pool_rm },
	};

	return model_run(argc, argv, "pool", subs, CP_NELEM(subs),
	    pool_usage);
}
