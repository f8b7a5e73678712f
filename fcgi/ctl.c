/* SPDX-License-Identifier: MIT */
/*
 * ctl.c: mpbindctl, the operator's tool. Each command is a row in
 * ctl_commands[]: name, usage, handler. Commands that touch the database
 * use the workers' configuration, statements and modules, so an operator
 * changes state exactly as a request would (transactions, audit events).
 *
 * reconcile reads everything in the range, filtered by org in SQL and a
 * page at a time (no cap): each closed org-hour against its usage, its
 * ledger row's units and carries against the money of the org-hours its
 * subscription pays that hour, each carry_in against the previous row's
 * carry_out, and the marketplace's answer; usage hours and bound hours
 * that were never closed (a bound hour always gets a ledger row, zero when
 * idle). Prices have no history (sql/006_metering.sql keeps one price per
 * dimension): a usage record's cost is fixed with the price in force when
 * it arrived, and reconcile checks those stored costs without re-pricing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <mysql.h>
#include <sodium.h>

#include "binding.h"
#include "config.h"
#include "db.h"
#include "error.h"
#include "events.h"
#include "fields.h"
#include "log.h"
#include "marketplace.h"
#include "meter.h"
#include "migrate.h"
#include "notify.h"
#include "orgs.h"
#include "subscriptions.h"
#include "text.h"
#include "ticket.h"
#include "worker.h"
#include "banned.h"

struct ctl {
	struct app app;
	struct worker w;
	const char *config_path;
};

struct ctl_command {
	const char *name;
	const char *usage;
	int (*run)(struct ctl *c, int argc, char **argv);
	bool needs_db;
	bool needs_config;	/* refuse to run on a configuration with errors */
};

static int
ctl_fail(const char *what, int rc)
{
	fprintf(stderr, "mpbindctl: %s: %s\n", what, error_message(rc, LANG_EN));
	return 1;
}

static void
ctl_print_money(FILE *out, const char *label, unsigned __int128 pico)
{
	unsigned long long micros = (unsigned long long)(pico / 1000000);

	fprintf(out, "%s%llu.%06llu", label, micros / 1000000, micros % 1000000);
}

/* "2026-11-22", "2026-11-22T05" or "2026-11-22T05:00:00Z", UTC. */
static bool
ctl_time(const char *s, time_t *t)
{
	static const char *const formats[] = { "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H", "%Y-%m-%d" };
	struct tm tm;
	const char *end;
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, formats[i], &tm);
		if (end != NULL && *end == '\0') {
			*t = timegm(&tm);
			return *t != (time_t)-1;
		}
	}
	return false;
}

static int
ctl_keygen(struct ctl *c, int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : c->app.cfg.ticket_keys;
	const char *kid = argc > 2 ? argv[2] : NULL;
	char generated[TICKET_KID_MAX + 1];
	unsigned char rnd[4];

	if (kid == NULL) {
		randombytes_buf(rnd, sizeof(rnd));
		snprintf(generated, sizeof(generated), "k%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
		kid = generated;
	}
	if (ticket_keys_rotate(path, kid) != 0) {
		fprintf(stderr, "mpbindctl: keygen \"%s\": %s\n", path, log_strerror(errno));
		return 1;
	}
	printf("new signing key \"%s\" in %s\n", kid, path);
	return 0;
}

static int
ctl_migrate(struct ctl *c, int argc, char **argv)
{
	return migrate_run(&c->app.cfg, argc > 1 ? argv[1] : "sql", stdout, stderr);
}

static int
ctl_config(struct ctl *c, int argc, char **argv)
{
	struct ticket_keys keys;

	(void)argc;
	(void)argv;
	if (ticket_keys_load(&keys, c->app.cfg.ticket_keys, stderr) != 0)
		return 1;
	ticket_keys_clear(&keys);
	config_dump(&c->app.cfg, stdout);
	return 0;
}

static int
ctl_config_reference(struct ctl *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	config_reference(stdout);
	return 0;
}

static int
ctl_config_example(struct ctl *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	config_example(stdout);
	return 0;
}

static int
ctl_org_show(struct ctl *c, int argc, char **argv)
{
	struct db_result org, members, bound;
	size_t i;
	int rc;

	if (argc != 2)
		return 2;
	rc = db_run(&c->w.db, &c->w.pool, STMT_ORG_BILLING_GET, &org, DB_ARGS(DB_TEXT(argv[1])));
	if (rc == ERR_OK)
		rc = db_run(&c->w.db, &c->w.pool, STMT_MEMBER_LIST, &members, DB_ARGS(DB_TEXT(argv[1])));
	if (rc == ERR_OK)
		rc = db_run(&c->w.db, &c->w.pool, STMT_BINDING_OF_ORG, &bound, DB_ARGS(DB_TEXT(argv[1])));
	if (rc != ERR_OK)
		return ctl_fail("org", rc);
	if (org.nrows == 0)
		return ctl_fail(argv[1], ERR_NOT_FOUND);
	printf("org %s \"%s\"\nbilling: %s", argv[1], db_text(&org, 0, 0), db_text(&org, 0, 1));
	if (db_text(&org, 0, 2) != NULL)
		printf(" until %s", db_text(&org, 0, 2));
	printf("\n");
	if (bound.nrows == 1)
		printf("bound to: %s account %s (subscription %s), since %s by %s\n", db_text(&bound, 0, 0),
		    db_text(&bound, 0, 1), db_text(&bound, 0, 2), db_text(&bound, 0, 3),
		    db_text(&bound, 0, 4) != NULL ? db_text(&bound, 0, 4) : "-");
	for (i = 0; i < members.nrows; i++)
		printf("member: %-40s %-8s since %s\n", db_text(&members, i, 1), db_text(&members, i, 2),
		    db_text(&members, i, 3));
	return 0;
}

static int
ctl_user(struct ctl *c, int argc, char **argv)
{
	struct db_result user, orgs;
	char email[256];
	size_t i;
	int rc;

	if (argc != 2 || snprintf(email, sizeof(email), "%s", argv[1]) >= (int)sizeof(email) ||
	    !fields_email_normalize(email))
		return 2;
	rc = db_run(&c->w.db, &c->w.pool, STMT_USER_BY_EMAIL, &user, DB_ARGS(DB_TEXT(email)));
	if (rc == ERR_OK && user.nrows == 1)
		rc = db_run(&c->w.db, &c->w.pool, STMT_ORG_LIST, &orgs, DB_ARGS(DB_INT(db_int(&user, 0, 0))));
	if (rc != ERR_OK)
		return ctl_fail("user", rc);
	if (user.nrows == 0)
		return ctl_fail(email, ERR_NOT_FOUND);
	printf("user %s: id %s\n", email, db_text(&user, 0, 0));
	for (i = 0; i < orgs.nrows; i++)
		printf("org: %s \"%s\" as %s (%s members)\n", db_text(&orgs, i, 0), db_text(&orgs, i, 1),
		    db_text(&orgs, i, 2), db_text(&orgs, i, 3));
	return 0;
}

struct ctl_org_create_tx {
	struct ctl *c;
	long long user_id;
	const char *name;
	char id[ORG_ID_LEN + 1];
};

static int
ctl_org_create_tx(void *arg)
{
	struct ctl_org_create_tx *tx = arg;

	return orgs_insert(&tx->c->w.db, &tx->c->w.pool, tx->user_id, tx->name, "operator", tx->id);
}

/* For support tickets when org creation is switched off: the user becomes Org Admin. */
static int
ctl_org_create(struct ctl *c, int argc, char **argv)
{
	struct ctl_org_create_tx tx = { .c = c };
	struct db_result user;
	char email[256];
	int rc;

	if (argc != 3 || snprintf(email, sizeof(email), "%s", argv[1]) >= (int)sizeof(email) ||
	    !fields_email_normalize(email) || strlen(argv[2]) == 0 || strlen(argv[2]) > 100 ||
	    !text_valid_utf8(argv[2], strlen(argv[2])))
		return 2;
	rc = db_run(&c->w.db, &c->w.pool, STMT_USER_BY_EMAIL, &user, DB_ARGS(DB_TEXT(email)));
	if (rc != ERR_OK)
		return ctl_fail("user", rc);
	if (user.nrows == 0)
		return ctl_fail(email, ERR_NOT_FOUND);
	tx.user_id = db_int(&user, 0, 0);
	tx.name = argv[2];
	rc = db_transaction(&c->w.db, ctl_org_create_tx, &tx);
	if (rc != ERR_OK)
		return ctl_fail("org create", rc);
	printf("created %s \"%s\" with %s as Org Admin\n", tx.id, tx.name, email);
	return 0;
}

static int
ctl_unbind_tx(void *arg)
{
	struct ctl *c = ((void **)arg)[0];
	const char *org_id = ((void **)arg)[1];
	struct subscription sub;
	int rc;

	/* Lock order (db.h): subscription, org, binding. */
	rc = binding_unbind_lock(&c->w.db, &c->w.pool, org_id, &sub);
	if (rc != ERR_OK)
		return rc;
	return binding_unbind_end(&c->w.db, &c->w.pool, org_id, &sub, "unbound by an operator",
	    c->app.cfg.grace_seconds, "operator", 0);
}

static int
ctl_unbind(struct ctl *c, int argc, char **argv)
{
	void *arg[2] = { c, argv[1] };
	int rc;

	if (argc != 2)
		return 2;
	rc = db_transaction(&c->w.db, ctl_unbind_tx, arg);
	if (rc != ERR_OK)
		return ctl_fail(argv[1], rc);
	printf("%s unbound; its grace window has started\n", argv[1]);
	return 0;
}

static int
ctl_credits(struct ctl *c, int argc, char **argv)
{
	long long micros;
	char *end;
	long days;
	int rc;

	if (argc < 4 || !orgs_valid_id(argv[1]))
		return 2;
	if (!text_decimal_micros(argv[2], TEXT_DECIMAL_WHOLE_MAX, &micros) || micros <= 0) {
		fprintf(stderr, "mpbindctl: credits: \"%s\" is not an amount from 0.000001 to %lld.999999\n", argv[2],
		    TEXT_DECIMAL_WHOLE_MAX);
		return 2;
	}
	days = strtol(argv[3], &end, 10);
	if (*end != '\0' || days < 1 || days > 3650)
		return 2;
	rc = db_begin(&c->w.db);
	if (rc == ERR_OK)
		rc = db_run(&c->w.db, &c->w.pool, STMT_CREDIT_GRANT, NULL, DB_ARGS(DB_TEXT(argv[1]), DB_INT(micros),
		    DB_INT(days), DB_TEXT(argc > 4 ? argv[4] : "granted by an operator")));
	if (rc == ERR_OK)
		rc = events_record(&c->w.db, &c->w.pool, argv[1], 0, "operator", "credits.granted",
		    "amount", argv[2], "days", argv[3], NULL);
	if (rc == ERR_OK)
		rc = db_commit(&c->w.db);
	else
		db_rollback(&c->w.db);
	if (rc != ERR_OK)
		return ctl_fail("credits", rc == ERR_DB ? ERR_NOT_FOUND : rc);
	printf("granted %s to %s for %ld days\n", argv[2], argv[1], days);
	return 0;
}

static int
ctl_ledger(struct ctl *c, int argc, char **argv)
{
	struct db_result res;
	long limit = argc > 2 ? strtol(argv[2], NULL, 10) : 48;
	size_t i;
	int rc;

	if (argc < 2 || limit < 1 || limit > 10000)
		return 2;
	rc = db_run(&c->w.db, &c->w.pool, STMT_LEDGER_OF_ORG, &res, DB_ARGS(DB_TEXT(argv[1]), DB_INT(limit)));
	if (rc != ERR_OK)
		return ctl_fail("ledger", rc);
	printf("%-8s %-17s %-7s %-14s %10s %-9s %s\n", "id", "hour", "market", "account", "quantity", "state",
	    "result");
	for (i = 0; i < res.nrows; i++)
		printf("%-8s %-17s %-7s %-14s %10s %-9s %s (%s attempts)\n", db_text(&res, i, 0),
		    db_text(&res, i, 1), db_text(&res, i, 2), db_text(&res, i, 3), db_text(&res, i, 4),
		    db_text(&res, i, 5), db_text(&res, i, 6) != NULL ? db_text(&res, i, 6) : "-",
		    db_text(&res, i, 7));
	return 0;
}

/* An operator who checked the marketplace's bill settles an unknown send. */
static int
ctl_ledger_resolve(struct ctl *c, int argc, char **argv)
{
	struct db_result res;
	char *end;
	long long id;
	int rc;

	if (argc != 3 || (strcmp(argv[2], "accepted") != 0 && strcmp(argv[2], "resend") != 0))
		return 2;
	id = strtoll(argv[1], &end, 10);
	if (*end != '\0' || id <= 0)
		return 2;
	rc = db_run(&c->w.db, &c->w.pool, strcmp(argv[2], "accepted") == 0 ? STMT_LEDGER_RESOLVE_ACCEPTED :
	    STMT_LEDGER_RESOLVE_RESEND, &res, DB_ARGS(DB_INT(id)));
	if (rc != ERR_OK)
		return ctl_fail("ledger-resolve", rc);
	if (res.affected == 0)
		return ctl_fail("ledger row (not unknown, or no such row)", ERR_NOT_FOUND);
	printf("ledger row %lld: %s\n", id, argv[2]);
	return 0;
}

static int
ctl_replay(struct ctl *c, int argc, char **argv)
{
	const char *state = NULL, *note = NULL;
	char *end;
	long long id;
	int rc;

	if (argc != 2)
		return 2;
	id = strtoll(argv[1], &end, 10);
	if (*end != '\0' || id <= 0)
		return 2;
	rc = notify_replay(&c->w, id, &state, &note);
	if (rc == ERR_CONFLICT && state != NULL) {
		fprintf(stderr, "mpbindctl: replay: inbox %lld is %s: only unmatched messages and failed "
		    "entitlement updates are replayed\n", id, state);
		return 1;
	}
	if (rc != ERR_OK) {
		fprintf(stderr, "mpbindctl: replay: inbox %lld: %s%s%s\n", id, error_message(rc, LANG_EN),
		    note != NULL ? ": " : "", note != NULL ? note : "");
		return 1;
	}
	printf("inbox %lld: %s%s%s%s\n", id, state, note != NULL ? " (" : "", note != NULL ? note : "",
	    note != NULL ? ")" : "");
	return 0;
}

#define CTL_ORGS_MAX 64
#define CTL_PAGE 1000				/* rows a reconcile query returns at a time */
#define CTL_BOUND_WINDOW (168 * METER_HOUR)	/* hours one bound-hours query spans */

/* One reconcile run: its range and what it found. */
struct ctl_reconcile {
	struct ctl *c;
	time_t from, to;			/* [from, to) */
	time_t closed_before;			/* hours before this should all be closed */
	bool verbose;
	size_t checked;
	long long unbilled, differences;
};

/* Where a paged query stopped: the last (org, hour) it returned. */
struct ctl_cursor {
	char org[ORG_ID_LEN + 1];
	long long hour;
};

/* Moves cursor to row i of res (org, epoch hour); ERR_INTERNAL for an org id that cannot be one. */
static int
ctl_cursor_move(struct ctl_cursor *cursor, const struct db_result *res, size_t i)
{
	const char *org = db_text(res, i, 0);

	if (org == NULL || strlen(org) > ORG_ID_LEN)
		return ERR_INTERNAL;
	memcpy(cursor->org, org, strlen(org) + 1);
	cursor->hour = db_int(res, i, 1);
	return ERR_OK;
}

static void
ctl_print_hour(FILE *out, time_t hour)
{
	char when[32];
	struct tm tm;

	gmtime_r(&hour, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:00Z", &tm);
	fputs(when, out);
}

/*
 * One closed org-hour checked against its usage and its ledger row: the
 * row's units and carries against the money of every org-hour its
 * subscription pays that hour, its carry_in against what the
 * subscription's previous row left, and the marketplace's answer.
 */
static int
ctl_reconcile_hour(struct ctl_reconcile *r, struct db_result *res, size_t i)
{
	const struct marketplace *mp = db_text(res, i, 6) != NULL ? marketplace_find(db_text(res, i, 6)) : NULL;
	unsigned __int128 cost, billable, usage, paid, carry_in = 0, carry_out = 0, left = 0, unit;
	const char *diff = NULL, *state = db_text(res, i, 11);
	long long credit = db_int(res, i, 3), quantity = db_int(res, i, 8);

	if (!meter_parse_pico(db_text(res, i, 2), &cost) || !meter_parse_pico(db_text(res, i, 4), &billable) ||
	    !meter_parse_pico(db_text(res, i, 7), &usage))
		diff = "unreadable amounts";
	else if (usage != cost)
		diff = "the hour's cost differs from its usage";
	else if (billable + (unsigned __int128)credit * 1000000 != cost)
		diff = "cost, credit and billable do not add up";
	else if (db_is_null(res, i, 5)) {
		if (cost > 0)
			r->unbilled++;
	} else if (mp != NULL && mp->meter_unit_micros != NULL) {
		unit = (unsigned __int128)mp->meter_unit_micros(&r->c->app.cfg) * 1000000;
		if (db_is_null(res, i, 8))
			diff = "no ledger row for a paid hour";
		else if (!meter_parse_pico(db_text(res, i, 9), &carry_in) ||
		    !meter_parse_pico(db_text(res, i, 10), &carry_out) || !meter_parse_pico(db_text(res, i, 13), &paid) ||
		    (unsigned __int128)quantity * unit + carry_out != paid + carry_in)
			diff = "the ledger's units do not match the money";
		else if (!db_is_null(res, i, 14) && !meter_parse_pico(db_text(res, i, 14), &left))
			diff = "unreadable amounts";
		else if (carry_in != left)
			diff = "the ledger's carry_in is not what the subscription's previous row left (carry_out)";
		else if (strcmp(state, "accepted") != 0)
			diff = "not accepted by the marketplace";
	}
	if (diff == NULL && !r->verbose && !(db_is_null(res, i, 5) && cost > 0))
		return 0;
	printf("%s ", db_text(res, i, 0));
	ctl_print_hour(stdout, (time_t)db_int(res, i, 1));
	ctl_print_money(stdout, " cost ", cost);
	printf(" credit %lld.%06lld", credit / 1000000, credit % 1000000);
	if (db_is_null(res, i, 5))
		printf(" unbilled (no marketplace bound)");
	else
		printf(" -> %s %lld units %s%s%s", db_text(res, i, 6), db_is_null(res, i, 8) ? 0 : quantity,
		    state != NULL ? state : "-", db_text(res, i, 12) != NULL ? " " : "",
		    db_text(res, i, 12) != NULL ? db_text(res, i, 12) : "");
	printf("%s%s\n", diff != NULL ? "  DIFFERENCE: " : "", diff != NULL ? diff : "");
	return diff != NULL ? 1 : 0;
}

/*
 * One reconcile query for org ("" for all) over [from, to), a page at a
 * time: closed org-hours (STMT_RECONCILE_HOURS) are each checked; the rows
 * of the others are hours that should be closed and are not, a difference
 * described by what.
 */
static int
ctl_reconcile_pages(struct ctl_reconcile *r, const char *org, enum stmt_id id, time_t from, time_t to,
    const char *what)
{
	struct ctl_cursor cursor = { "", 0 };
	struct db_param args[9];
	struct db_result res;
	size_t i, n;
	int rc;

	do {
		n = 0;
		args[n++] = DB_INT(from);
		args[n++] = DB_INT(to);
		if (id != STMT_RECONCILE_HOURS)
			args[n++] = DB_INT(r->closed_before);
		args[n++] = DB_TEXT(org);
		args[n++] = DB_TEXT(org);
		args[n++] = DB_TEXT(cursor.org);
		args[n++] = DB_TEXT(cursor.org);
		args[n++] = DB_INT(cursor.hour);
		args[n++] = DB_INT(CTL_PAGE);
		pool_reset(&r->c->w.pool);
		rc = db_run(&r->c->w.db, &r->c->w.pool, id, &res, args, n);
		for (i = 0; rc == ERR_OK && i < res.nrows; i++) {
			if (id == STMT_RECONCILE_HOURS) {
				r->checked++;
				r->differences += ctl_reconcile_hour(r, &res, i);
				continue;
			}
			r->differences++;
			printf("%s ", db_text(&res, i, 0));
			ctl_print_hour(stdout, (time_t)db_int(&res, i, 1));
			printf("  DIFFERENCE: %s\n", what);
		}
		if (rc == ERR_OK && res.nrows > 0)
			rc = ctl_cursor_move(&cursor, &res, res.nrows - 1);
	} while (rc == ERR_OK && res.nrows == CTL_PAGE);
	return rc;
}

/* Everything reconcile checks for org ("" for all). */
static int
ctl_reconcile_org(struct ctl_reconcile *r, const char *org)
{
	time_t first = r->from % METER_HOUR == 0 ? r->from : meter_hour_of(r->from) + METER_HOUR;
	time_t end = r->to < r->closed_before ? r->to : r->closed_before, window;
	int rc;

	rc = ctl_reconcile_pages(r, org, STMT_RECONCILE_HOURS, r->from, r->to, NULL);
	if (rc == ERR_OK)
		rc = ctl_reconcile_pages(r, org, STMT_RECONCILE_OPEN, r->from, r->to,
		    "usage of a past hour not closed yet");
	for (window = first; rc == ERR_OK && window < end; window += CTL_BOUND_WINDOW)
		rc = ctl_reconcile_pages(r, org, STMT_RECONCILE_BOUND_OPEN, window,
		    window + CTL_BOUND_WINDOW < end ? window + CTL_BOUND_WINDOW : end,
		    "a bound hour never closed: no ledger row, not even a zero record");
	return rc;
}

/* Usage vs closed hours vs ledger vs the marketplace's answers. */
static int
ctl_reconcile(struct ctl *c, int argc, char **argv)
{
	struct ctl_reconcile r = { .c = c };
	const char *orgs[CTL_ORGS_MAX];
	size_t norgs = 0, k, seen;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc && ctl_time(argv[i + 1], &r.from))
			i++;
		else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc && ctl_time(argv[i + 1], &r.to))
			i++;
		else if (strcmp(argv[i], "--org") == 0 && i + 1 < argc && norgs < CTL_ORGS_MAX &&
		    orgs_valid_id(argv[i + 1]))
			orgs[norgs++] = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			r.verbose = true;
		else
			return 2;
	}
	if (r.from == 0 || r.to <= r.from)
		return 2;
	r.closed_before = meter_hour_of(time(NULL) - c->app.cfg.metering_settle) - METER_HOUR;
	rc = norgs == 0 ? ctl_reconcile_org(&r, "") : ERR_OK;
	for (k = 0; rc == ERR_OK && k < norgs; k++) {
		for (seen = 0; seen < k && strcmp(orgs[seen], orgs[k]) != 0; seen++)
			continue;
		if (seen == k)
			rc = ctl_reconcile_org(&r, orgs[k]);
	}
	if (rc != ERR_OK)
		return ctl_fail("reconcile", rc);
	printf("checked %zu org-hours: %lld unbilled, %lld differences\n", r.checked, r.unbilled, r.differences);
	return r.differences > 0 ? 1 : 0;
}

static const struct ctl_command ctl_commands[] = {
	{ "keygen", "keygen [path [kid]]          add a ticket signing key (older ones keep verifying)", ctl_keygen, false, false },
	{ "migrate", "migrate [dir]                apply the schema files in dir (default sql)", ctl_migrate, false, false },
	{ "config", "config                       check and print the configuration (secrets hidden)", ctl_config, false, true },
	{ "config-reference", "config-reference             every option as a Markdown table", ctl_config_reference, false, false },
	{ "config-example", "config-example               a commented example configuration file", ctl_config_example, false, false },
	{ "user", "user EMAIL                   a user and their organizations", ctl_user, true, true },
	{ "org", "org ORG-ID                   an organization: billing, binding, members", ctl_org_show, true, true },
	{ "org-create", "org-create EMAIL NAME        create an org with that user as Org Admin", ctl_org_create, true, true },
	{ "unbind", "unbind ORG-ID                end an org's binding (its grace window starts)", ctl_unbind, true, true },
	{ "credits", "credits ORG-ID AMOUNT DAYS [NOTE]  grant free credit", ctl_credits, true, true },
	{ "ledger", "ledger ORG-ID [N]            an org's last N metering ledger rows", ctl_ledger, true, true },
	{ "ledger-resolve", "ledger-resolve ID accepted|resend  settle a send whose outcome was unknown", ctl_ledger_resolve, true, true },
	{ "replay", "replay INBOX-ID              try an unmatched notification or a failed entitlement update again", ctl_replay, true, true },
	{ "reconcile", "reconcile --from T --to T [--org ORG-ID]... [-v]\n"
	  "                               usage vs ledger vs marketplace, per org and hour; exit 1 on a difference",
	  ctl_reconcile, true, true },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: mpbindctl [-c config] command [arguments]\n\ncommands:\n");
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		fprintf(stderr, "  %s\n", ctl_commands[i].usage);
	fprintf(stderr, "\ntimes (T) are UTC: 2026-11-22, 2026-11-22T05 or 2026-11-22T05:00:00Z\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	const struct ctl_command *cmd = NULL;
	struct ctl c;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		c.config_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		usage();
	for (i = 0; i < sizeof(ctl_commands) / sizeof(ctl_commands[0]); i++)
		if (strcmp(argv[1], ctl_commands[i].name) == 0)
			cmd = &ctl_commands[i];
	if (cmd == NULL)
		usage();
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    mysql_library_init(0, NULL, NULL) != 0) {
		fprintf(stderr, "mpbindctl: library initialisation failed\n");
		return 1;
	}
	if (config_load(&c.app.cfg, c.config_path, stderr) != 0 && cmd->needs_config) {
		config_release(&c.app.cfg);
		return 1;
	}
	log_init("-", LOG_LEVEL_WARN, "mpbindctl");
	config_apply_timezone(&c.app.cfg);
	worker_init(&c.w, &c.app, 0);
	if (cmd->needs_db && db_connect(&c.w.db) != ERR_OK) {
		fprintf(stderr, "mpbindctl: cannot reach the database\n");
		rc = 1;
	} else {
		rc = cmd->run(&c, argc - 1, argv + 1);
		if (rc == 2)
			usage();
	}
	worker_release(&c.w);
	config_release(&c.app.cfg);
	mysql_library_end();
	return rc;
}
