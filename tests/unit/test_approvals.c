/*
 * test_approvals.c - approvals end to end below the router: an alias's
 * [alias.confirm] (approvers, approver_groups, allow_self, approvals) as the
 * config loads it, speakers resolved by identity.c (groups from both
 * [users].groups and [groups].members), and the tracker (confirm.c) with an
 * injected clock: quorum, self-approval, duplicates, denial, expiry, single
 * use, same channel. (test_confirm.c covers the tracker's own corners.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/confirm.h"
#include "bot/identity.h"
#include "config/config.h"

static const char cfg_text[] =
    "[users.alice]\nconsole = \"alice\"\ngroups = [\"sre\"]\n"
    "[users.bob]\nconsole = [\"bob\", \"bob-alt\"]\n"
    "[users.carol]\nconsole = \"carol\"\n"
    "[users.dave]\nconsole = \"dave\"\ngroups = [\"sre\"]\n"
    "[users.erin]\nconsole = \"erin\"\n"
    "[groups.sre]\nmembers = [\"carol\"]\n"
    "[[alias]]\nname = \"deploy\"\nformats = [\"deploy\"]\nexec = { argv = [\"true\"] }\n"
    "[alias.confirm]\napprover_groups = [\"sre\"]\nallow_self = false\napprovals = 2\n"
    "timeout = \"10s\"\n"
    "[[alias]]\nname = \"rotate\"\nformats = [\"rotate\"]\nexec = { argv = [\"true\"] }\n"
    "[alias.confirm]\napprovers = [\"alice\", \"bob\"]\nallow_self = true\n"
    "[[alias]]\nname = \"named\"\nformats = [\"named\"]\nexec = { argv = [\"true\"] }\n"
    "[alias.confirm]\napprovers = [\"erin\"]\n"
    "[[alias]]\nname = \"plain\"\nformats = [\"plain\"]\nexec = { argv = [\"true\"] }\n"
    "confirm = true\n";

static uint64_t now;

static uint64_t
clock_cb(void *arg)
{
	(void)arg;
	return now;
}

struct fx {
	struct cfg *cfg;
	struct confirm *t;
	struct identity ids[8];
	size_t nids;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct confirm_opts o = { .now_ms = clock_cb };
	struct diag d;

	diag_init(&d);
	if (cfg_load_buffer("a.toml", cfg_text, strlen(cfg_text), true, &f->cfg, &d) != 0)
		diag_print(&d, stderr);
	diag_free(&d);
	assert_non_null(f->cfg);
	f->t = confirm_new(&o);
	now = 1000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < f->nids; i++)
		identity_free(&f->ids[i]);
	confirm_free(f->t);
	cfg_free(f->cfg);
	free(f);
	return 0;
}

/* The speaker as the router hands it to the tracker. */
static struct confirm_who
who(struct fx *f, const char *console_name)
{
	struct identity *id = &f->ids[f->nids++];
	struct confirm_who w;

	identity_resolve(f->cfg, "console", console_name, console_name, id);
	w.platform = id->platform;
	w.user_id = id->chat_id;
	w.user = id->name;
	w.groups = (const char *const *)id->groups;
	w.ngroups = id->ngroups;
	return w;
}

/* Adds a request for alias by requester in channel, the way the router
 * maps [alias.confirm]; returns its id. */
static void
ask(struct fx *f, const char *alias, const struct confirm_who *req, const char *chan,
    char id[CONFIRM_ID_SIZE])
{
	const struct cfg_alias *a = cfg_find_alias(f->cfg, alias);
	const char *ap[8], *apg[8];
	struct confirm_request r;
	const struct confirm_entry *e;
	char err[256];
	size_t i;

	assert_non_null(a);
	assert_true(a->confirm.required);
	for (i = 0; i < a->confirm.approvers.n; i++)
		ap[i] = a->confirm.approvers.v[i].s;
	for (i = 0; i < a->confirm.approver_groups.n; i++)
		apg[i] = a->confirm.approver_groups.v[i].s;
	memset(&r, 0, sizeof r);
	r.requester = *req;
	r.channel = chan;
	r.alias = alias;
	r.what = "true";
	r.timeout_ms = a->confirm.timeout_ms;
	r.policy.approvers = ap;
	r.policy.napprovers = a->confirm.approvers.n;
	r.policy.approver_groups = apg;
	r.policy.napprover_groups = a->confirm.approver_groups.n;
	r.policy.allow_self = a->confirm.allow_self;
	r.policy.approvals = a->confirm.approvals;
	assert_int_equal(confirm_add(f->t, &r, &e, err, sizeof err), 0);
	memcpy(id, e->id, CONFIRM_ID_SIZE);
}

static enum confirm_result
approve(struct fx *f, const char *id, const struct confirm_who *w, const char *chan)
{
	struct confirm_entry *e = NULL;
	enum confirm_result r = confirm_approve(f->t, id, w, chan, &e);

	confirm_entry_free(e);
	return r;
}

static void
test_quorum_of_two_from_a_group(void **state)
{
	struct fx *f = *state;
	struct confirm_who bob = who(f, "bob"), alice = who(f, "alice"),
	    carol = who(f, "carol"), dave = who(f, "dave"), erin = who(f, "erin");
	struct confirm_entry *e = NULL;
	char id[CONFIRM_ID_SIZE];

	ask(f, "deploy", &bob, "C1", id);
	assert_int_equal(confirm_get(f->t, id)->needed, 2);
	/* not an approver */
	assert_int_equal(approve(f, id, &erin, "C1"), CONFIRM_NOT_ALLOWED);
	/* an approver in another channel */
	assert_int_equal(approve(f, id, &alice, "C2"), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_APPROVED_MORE_NEEDED);
	assert_int_equal(confirm_get(f->t, id)->napproved, 1);
	/* the same approver twice counts once */
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_DUPLICATE);
	/* carol is in sre through [groups.sre].members: the quorum, exactly once */
	assert_int_equal(confirm_approve(f->t, id, &carol, "C1", &e), CONFIRM_READY);
	assert_non_null(e);
	assert_int_equal(e->napproved, 2);
	assert_string_equal(e->approved[0], "alice");
	assert_string_equal(e->approved[1], "carol");
	confirm_entry_free(e);
	assert_int_equal(approve(f, id, &dave, "C1"), CONFIRM_NOT_FOUND);
	assert_int_equal(confirm_count(f->t), 0);
}

static void
test_self_approval(void **state)
{
	struct fx *f = *state;
	struct confirm_who alice = who(f, "alice"), bob = who(f, "bob"),
	    bob_alt = who(f, "bob-alt"), dave = who(f, "dave"), carol = who(f, "carol"),
	    erin = who(f, "erin");
	char id[CONFIRM_ID_SIZE];

	/* deploy: allow_self = false, even for an approver asking */
	ask(f, "deploy", &alice, "C1", id);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(approve(f, id, &dave, "C1"), CONFIRM_APPROVED_MORE_NEEDED);
	assert_int_equal(approve(f, id, &carol, "C1"), CONFIRM_READY);

	/* rotate: allow_self = true, the requester's approval counts */
	ask(f, "rotate", &bob, "C1", id);
	assert_int_equal(approve(f, id, &bob, "C1"), CONFIRM_READY);
	/* ...but not from another chat identity of the same person */
	ask(f, "rotate", &bob, "C1", id);
	assert_int_equal(approve(f, id, &bob_alt, "C1"), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_READY);

	/* named approvers without allow_self: the default is false */
	assert_false(cfg_find_alias(f->cfg, "named")->confirm.allow_self);
	ask(f, "named", &erin, "C1", id);
	assert_int_equal(approve(f, id, &erin, "C1"), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_NOT_ALLOWED);

	/* no approvers: only the requester, once */
	ask(f, "plain", &erin, "C1", id);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_NOT_ALLOWED);
	assert_int_equal(approve(f, id, &erin, "C1"), CONFIRM_READY);
	assert_int_equal(approve(f, id, &erin, "C1"), CONFIRM_NOT_FOUND);
}

static void
test_denial_ends_it(void **state)
{
	struct fx *f = *state;
	struct confirm_who bob = who(f, "bob"), alice = who(f, "alice"),
	    carol = who(f, "carol"), erin = who(f, "erin");
	struct confirm_entry *e = NULL;
	char id[CONFIRM_ID_SIZE];

	ask(f, "deploy", &bob, "C1", id);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_APPROVED_MORE_NEEDED);
	/* a non-approver cannot deny, nor cancel */
	assert_int_equal(confirm_deny(f->t, id, &erin, "C1", &e), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_cancel(f->t, id, &erin, "C1", &e), CONFIRM_NOT_ALLOWED);
	/* an approver cannot cancel (cancel is the requester's) but can deny */
	assert_int_equal(confirm_cancel(f->t, id, &carol, "C1", &e), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_deny(f->t, id, &carol, "C2", &e), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(confirm_deny(f->t, id, &carol, "C1", &e), CONFIRM_DENIED);
	assert_non_null(e);
	confirm_entry_free(e);
	/* nothing more can happen to it */
	assert_int_equal(approve(f, id, &carol, "C1"), CONFIRM_NOT_FOUND);
	assert_int_equal(confirm_cancel(f->t, id, &bob, "C1", &e), CONFIRM_NOT_FOUND);

	/* the requester withdraws */
	ask(f, "deploy", &bob, "C1", id);
	assert_int_equal(confirm_cancel(f->t, id, &bob, "C1", &e), CONFIRM_CANCELED);
	confirm_entry_free(e);
}

static void
expired_cb(struct confirm_entry *e, void *arg)
{
	(void)e;
	(*(int *)arg)++;
}

static void
test_expiry(void **state)
{
	struct fx *f = *state;
	struct confirm_who bob = who(f, "bob"), alice = who(f, "alice"),
	    carol = who(f, "carol");
	struct confirm_entry *e = NULL;
	char id[CONFIRM_ID_SIZE], id2[CONFIRM_ID_SIZE];
	uint64_t at;
	int n = 0;

	ask(f, "deploy", &bob, "C1", id);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_APPROVED_MORE_NEEDED);
	assert_true(confirm_next_deadline(f->t, &at));
	assert_int_equal(at, 1000 + 10000);
	now = at - 1;
	assert_non_null(confirm_get(f->t, id));
	now = at;
	/* due but its timer has not fired: a late approval is refused */
	assert_null(confirm_get(f->t, id));
	assert_int_equal(confirm_approve(f->t, id, &carol, "C1", &e), CONFIRM_EXPIRED);
	confirm_entry_free(e);
	assert_int_equal(confirm_count(f->t), 0);

	/* the timer path */
	ask(f, "deploy", &bob, "C1", id2);
	now += 10000;
	assert_int_equal(confirm_expire_due(f->t, expired_cb, &n), 1);
	assert_int_equal(n, 1);
	assert_int_equal(approve(f, id2, &carol, "C1"), CONFIRM_NOT_FOUND);
}

static void
test_awaiting_lists_only_eligible_approvers(void **state)
{
	struct fx *f = *state;
	struct confirm_who bob = who(f, "bob"), alice = who(f, "alice"),
	    carol = who(f, "carol"), erin = who(f, "erin");
	char id[CONFIRM_ID_SIZE];

	ask(f, "deploy", &bob, "C1", id);
	assert_int_equal(confirm_list_awaiting(f->t, &alice, NULL, NULL), 1);
	assert_int_equal(confirm_list_awaiting(f->t, &carol, NULL, NULL), 1);
	assert_int_equal(confirm_list_awaiting(f->t, &erin, NULL, NULL), 0);
	assert_int_equal(confirm_list_awaiting(f->t, &bob, NULL, NULL), 0);
	assert_int_equal(approve(f, id, &alice, "C1"), CONFIRM_APPROVED_MORE_NEEDED);
	assert_int_equal(confirm_list_awaiting(f->t, &alice, NULL, NULL), 0);
	assert_int_equal(confirm_list_for(f->t, "console", "bob", NULL, NULL), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quorum_of_two_from_a_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_self_approval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_denial_ends_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_awaiting_lists_only_eligible_approvers,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
