/*
 * test_confirm.c - the confirmation tracker with an injected clock and id
 * source: expiry to the millisecond, single use, who may confirm, ids,
 * approvals with a quorum, listing, and a long random run checked against a
 * simple model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/confirm.h"

/* ---- fixtures ----------------------------------------------------------- */

static uint64_t fake_now;

static uint64_t
fake_clock(void *arg)
{
	(void)arg;
	return fake_now;
}

struct script {
	const uint32_t *v;
	size_t n, pos;
	size_t draws;
};

static int
script_source(void *arg, uint32_t *out)
{
	struct script *s = arg;

	s->draws++;
	if (s->pos >= s->n)
		return -1;
	*out = s->v[s->pos++];
	return 0;
}

static int payload_frees;

static void
payload_free_cb(void *p)
{
	payload_frees++;
	free(p);
}

static void *
new_payload(void)
{
	return malloc(16);
}

#define WHO(plat, uid, name) \
	((struct confirm_who){ .platform = (plat), .user_id = (uid), .user = (name) })

static const struct confirm_who alice = { "slack", "U1", "alice", NULL, 0 };
static const struct confirm_who bob = { "slack", "U2", "bob", NULL, 0 };
static const struct confirm_who carol = { "slack", "U3", "carol", NULL, 0 };
/* alice's second account on the same platform */
static const struct confirm_who alice_alt = { "slack", "U9", "alice", NULL, 0 };
static const char *const dave_groups[] = { "dev", "sre" };
static const struct confirm_who dave = { "slack", "U4", "dave", dave_groups, 2 };

static struct confirm *
new_tracker(struct script *s)
{
	struct confirm_opts o = { .now_ms = fake_clock };

	if (s != NULL) {
		o.id_source = script_source;
		o.id_arg = s;
	}
	fake_now = 1000;
	payload_frees = 0;
	return confirm_new(&o);
}

static struct confirm_request
req(const struct confirm_who *who, const char *channel, uint64_t timeout)
{
	struct confirm_request r = {
		.requester = *who,
		.channel = channel,
		.thread = "1700000000.000100",
		.alias = "restart",
		.what = "systemctl restart web",
		.timeout_ms = timeout,
		.payload = new_payload(),
		.payload_free = payload_free_cb,
	};
	return r;
}

static const char *
add(struct confirm *t, struct confirm_request r)
{
	const struct confirm_entry *e = NULL;
	char err[256] = "";

	assert_int_equal(confirm_add(t, &r, &e, err, sizeof(err)), 0);
	assert_non_null(e);
	return e->id;
}

/* Copies an id out of the tracker (entries may move or go away). */
#define ID(t, r, buf) (strcpy((buf), add((t), (r))), (buf))

/* ---- basics ------------------------------------------------------------- */

static void
test_add_copies_everything(void **state)
{
	struct confirm *t = new_tracker(NULL);
	char channel[] = "C1", what[] = "systemctl restart web", id[8];
	struct confirm_request r = req(&alice, channel, 5000);
	const struct confirm_entry *e;

	r.what = what;
	ID(t, r, id);
	/* The caller's buffers may change afterwards. */
	channel[0] = 'X';
	what[0] = 'X';
	e = confirm_get(t, id);
	assert_non_null(e);
	assert_string_equal(e->id, id);
	assert_int_equal(strlen(e->id), 6);
	assert_string_equal(e->platform, "slack");
	assert_string_equal(e->user_id, "U1");
	assert_string_equal(e->user, "alice");
	assert_string_equal(e->channel, "C1");
	assert_string_equal(e->thread, "1700000000.000100");
	assert_string_equal(e->alias, "restart");
	assert_string_equal(e->what, "systemctl restart web");
	assert_int_equal(e->created_ms, 1000);
	assert_int_equal(e->expires_ms, 6000);
	assert_int_equal(e->needed, 1);
	assert_int_equal(e->napproved, 0);
	assert_null(e->approvers);
	assert_int_equal(confirm_count(t), 1);
	confirm_free(t);
	assert_int_equal(payload_frees, 1);
	(void)state;
}

static void
test_null_thread_and_strings(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_request r = req(&alice, "C1", 10);
	const struct confirm_entry *e;
	char id[8];

	r.thread = NULL;
	r.what = NULL;
	r.payload_free = NULL;
	free(r.payload);
	r.payload = NULL;
	ID(t, r, id);
	e = confirm_get(t, id);
	assert_null(e->thread);
	assert_string_equal(e->what, "");
	confirm_free(t);
	assert_int_equal(payload_frees, 0);
	(void)state;
}

static void
test_exact_expiry(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8], b[8];
	uint64_t at;

	ID(t, req(&alice, "C1", 5000), a);
	ID(t, req(&alice, "C1", 5000), b);
	assert_true(confirm_next_deadline(t, &at));
	assert_int_equal(at, 6000);

	/* One millisecond before: still valid. */
	fake_now = 5999;
	assert_non_null(confirm_get(t, a));
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_READY);
	assert_non_null(out);
	assert_string_equal(out->id, a);
	confirm_entry_free(out);

	/* At expires_at: expired, even though no timer has fired. */
	fake_now = 6000;
	assert_null(confirm_get(t, b));
	assert_int_equal(confirm_approve(t, b, &alice, "C1", &out), CONFIRM_EXPIRED);
	assert_non_null(out);
	assert_string_equal(out->id, b);
	confirm_entry_free(out);
	assert_int_equal(confirm_count(t), 0);
	assert_false(confirm_next_deadline(t, &at));
	/* And it is gone: a second try says so. */
	assert_int_equal(confirm_approve(t, b, &alice, "C1", &out), CONFIRM_NOT_FOUND);
	assert_null(out);
	confirm_free(t);
	assert_int_equal(payload_frees, 2);
	(void)state;
}

static void
test_expired_cancel_and_deny(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8], b[8];

	ID(t, req(&alice, "C1", 100), a);
	ID(t, req(&alice, "C1", 100), b);
	fake_now += 100;
	assert_int_equal(confirm_cancel(t, a, &alice, "C1", &out), CONFIRM_EXPIRED);
	confirm_entry_free(out);
	assert_int_equal(confirm_deny(t, b, &alice, "C1", &out), CONFIRM_EXPIRED);
	confirm_entry_free(out);
	assert_int_equal(confirm_count(t), 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 2);
	(void)state;
}

struct expired_log {
	char ids[16][8];
	uint64_t at[16];
	size_t n;
	struct confirm *t;
	bool readd;
};

static void
on_expired(struct confirm_entry *e, void *arg)
{
	struct expired_log *l = arg;

	assert_true(l->n < 16);
	strcpy(l->ids[l->n], e->id);
	l->at[l->n] = e->expires_ms;
	l->n++;
	if (l->readd) {
		/* The callback may call back into the tracker. */
		struct confirm_request r = req(&alice, "C1", 0);

		assert_int_equal(confirm_add(l->t, &r, NULL, NULL, 0), 0);
	}
}

static void
test_expire_due_order(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct expired_log log = { .t = t };
	static const uint64_t timeouts[] = { 500, 100, 300, 100, 900, 300, 50 };
	/* expected order: by expiry, ties in the order added */
	static const int order[] = { 6, 1, 3, 2, 5, 0 };
	char ids[7][8];
	uint64_t at;
	size_t i;

	for (i = 0; i < 7; i++)
		ID(t, req(&alice, "C1", timeouts[i]), ids[i]);
	assert_true(confirm_next_deadline(t, &at));
	assert_int_equal(at, 1050);

	fake_now = 1049;
	assert_int_equal(confirm_expire_due(t, on_expired, &log), 0);
	fake_now = 1500;                /* everything but the 900 ms one */
	assert_int_equal(confirm_expire_due(t, on_expired, &log), 6);
	assert_int_equal(log.n, 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(log.ids[i], ids[order[i]]);
	for (i = 1; i < 6; i++)
		assert_true(log.at[i - 1] <= log.at[i]);
	assert_int_equal(payload_frees, 6);
	assert_int_equal(confirm_count(t), 1);
	assert_true(confirm_next_deadline(t, &at));
	assert_int_equal(at, 1900);

	/* A callback that adds an entry already due: it is not expired in the
	 * same pass (no endless loop), but in the next. */
	log.n = 0;
	log.readd = true;
	fake_now = 1900;
	assert_int_equal(confirm_expire_due(t, on_expired, &log), 1);
	assert_int_equal(confirm_count(t), 1);
	log.readd = false;
	assert_int_equal(confirm_expire_due(t, on_expired, &log), 1);
	assert_int_equal(confirm_count(t), 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 8);
	(void)state;
}

static void
test_single_use(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8];

	ID(t, req(&alice, "C1", 5000), a);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_READY);
	/* The payload goes to the caller, exactly once. */
	assert_non_null(out->payload);
	free(out->payload);
	out->payload = NULL;
	confirm_entry_free(out);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_NOT_FOUND);
	assert_null(out);
	assert_int_equal(confirm_cancel(t, a, &alice, "C1", &out), CONFIRM_NOT_FOUND);
	assert_int_equal(confirm_deny(t, a, &alice, "C1", &out), CONFIRM_NOT_FOUND);
	assert_null(confirm_get(t, a));
	confirm_free(t);
	assert_int_equal(payload_frees, 0);
	(void)state;
}

static void
test_wrong_person(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	struct confirm_who guest1 = WHO("slack", "U7", "guest");
	struct confirm_who guest2 = WHO("slack", "U8", "guest");
	struct confirm_who other_platform = WHO("mattermost", "U1", "alice");
	char a[8], g[8];

	ID(t, req(&alice, "C1", 5000), a);
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_null(out);
	/* the same canonical user from another account is not the requester */
	assert_int_equal(confirm_approve(t, a, &alice_alt, "C1", &out), CONFIRM_NOT_ALLOWED);
	/* nor is the same user id on another platform (wrong channel first) */
	assert_int_equal(confirm_approve(t, a, &other_platform, "C1", &out),
	    CONFIRM_WRONG_CHANNEL);
	/* approvers named nowhere: dave's groups do not matter */
	assert_int_equal(confirm_approve(t, a, &dave, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_count(t), 1);

	/* Unknown speakers share the guest name, but not their requests. */
	ID(t, req(&guest1, "C1", 5000), g);
	assert_int_equal(confirm_approve(t, g, &guest2, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_cancel(t, g, &guest2, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, g, &guest1, "C1", &out), CONFIRM_READY);
	confirm_entry_free(out);

	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_READY);
	confirm_entry_free(out);
	confirm_free(t);
	assert_int_equal(payload_frees, 2);
	(void)state;
}

static void
test_wrong_channel(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	struct confirm_who alice_mm = WHO("mattermost", "U1", "alice");
	char a[8];

	ID(t, req(&alice, "C1", 5000), a);
	assert_int_equal(confirm_approve(t, a, &alice, "C2", &out), CONFIRM_WRONG_CHANNEL);
	assert_null(out);
	assert_int_equal(confirm_approve(t, a, &alice, NULL, &out), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(confirm_cancel(t, a, &alice, "C2", &out), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(confirm_deny(t, a, &alice, "C2", &out), CONFIRM_WRONG_CHANNEL);
	/* same channel id, other platform */
	assert_int_equal(confirm_approve(t, a, &alice_mm, "C1", &out), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(confirm_count(t), 1);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_READY);
	confirm_entry_free(out);
	confirm_free(t);
	(void)state;
}

static void
test_cancel_by_requester_only(void **state)
{
	static const char *const approvers[] = { "bob" };
	struct confirm *t = new_tracker(NULL);
	struct confirm_request r = req(&alice, "C1", 5000);
	struct confirm_entry *out;
	char a[8];

	r.policy.approvers = approvers;
	r.policy.napprovers = 1;
	ID(t, r, a);
	/* not the approver, not the requester's other account */
	assert_int_equal(confirm_cancel(t, a, &bob, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_null(out);
	assert_int_equal(confirm_cancel(t, a, &alice_alt, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_cancel(t, a, &carol, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_count(t), 1);
	assert_int_equal(confirm_cancel(t, a, &alice, "C1", &out), CONFIRM_CANCELED);
	assert_non_null(out);
	assert_string_equal(out->alias, "restart");
	assert_int_equal(confirm_count(t), 0);
	assert_int_equal(payload_frees, 0);     /* the caller has it now */
	confirm_entry_free(out);
	assert_int_equal(payload_frees, 1);
	assert_int_equal(confirm_cancel(t, a, &alice, "C1", &out), CONFIRM_NOT_FOUND);
	confirm_free(t);
	(void)state;
}

/* ---- ids ---------------------------------------------------------------- */

static void
test_id_collisions(void **state)
{
	static const uint32_t vals[] = { 5, 5, 5, 0x40000005u, 7, 7, 9 };
	struct script s = { vals, 7, 0, 0 };
	struct confirm *t = new_tracker(&s);
	struct confirm_request r;
	char e5[8], e7[8], e9[8], id[8], err[256];

	confirm_id_format(5, e5);
	confirm_id_format(7, e7);
	confirm_id_format(9, e9);
	assert_string_equal(e5, "000005");
	assert_string_equal(e7, "000007");

	assert_string_equal(ID(t, req(&alice, "C1", 100), id), e5);
	assert_int_equal(s.draws, 1);
	/* 5, 5 and 0x40000005 (same low 30 bits) collide; 7 is free. */
	assert_string_equal(ID(t, req(&alice, "C1", 100), id), e7);
	assert_int_equal(s.draws, 5);
	assert_string_equal(ID(t, req(&alice, "C1", 100), id), e9);
	assert_int_equal(s.draws, 7);

	/* The source fails: an error, and the payload stays the caller's. */
	r = req(&alice, "C1", 100);
	assert_int_equal(confirm_add(t, &r, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "random source"));
	free(r.payload);
	assert_int_equal(confirm_count(t), 3);
	assert_int_equal(payload_frees, 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 3);
	(void)state;
}

static void
test_id_always_colliding(void **state)
{
	uint32_t vals[200];
	struct script s = { vals, 200, 0, 0 };
	struct confirm *t;
	struct confirm_request r;
	char id[8], err[256];
	size_t i;

	for (i = 0; i < 200; i++)
		vals[i] = 42;
	t = new_tracker(&s);
	ID(t, req(&alice, "C1", 100), id);
	r = req(&alice, "C1", 100);
	assert_int_equal(confirm_add(t, &r, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no free confirmation id"));
	assert_int_equal(s.draws, 1 + 64);
	free(r.payload);
	/* Once the id is free again it can be reused. */
	{
		struct confirm_entry *out;

		assert_int_equal(confirm_cancel(t, id, &alice, "C1", &out), CONFIRM_CANCELED);
		confirm_entry_free(out);
	}
	ID(t, req(&alice, "C1", 100), id);
	confirm_free(t);
	(void)state;
}

static void
test_id_case_insensitive(void **state)
{
	/* 0 1 2 ... with letters that are easy to mistype */
	static const uint32_t vals[] = {
		(0u << 25) | (1u << 20) | (18u << 15) | (20u << 10) | (31u << 5) | 17u,
	};
	struct script s = { vals, 1, 0, 0 };
	struct confirm *t = new_tracker(&s);
	struct confirm_entry *out;
	char id[8], norm[8];

	ID(t, req(&alice, "C1", 100), id);
	assert_string_equal(id, "01JMZH");
	assert_non_null(confirm_get(t, "01jmzh"));
	assert_non_null(confirm_get(t, "oLjMzH"));      /* O -> 0, L -> 1 */
	assert_non_null(confirm_get(t, "OIJMZH"));      /* I -> 1 */
	assert_non_null(confirm_get(t, "  01jmzh\n"));
	assert_null(confirm_get(t, "01JMZ"));
	assert_null(confirm_get(t, "01JMZHH"));
	assert_null(confirm_get(t, "01JMZU"));
	assert_null(confirm_get(t, "01 JMZH"));
	assert_null(confirm_get(t, ""));
	assert_null(confirm_get(t, NULL));
	assert_true(confirm_id_parse(" olJmzh ", norm));
	assert_string_equal(norm, "01JMZH");
	assert_false(confirm_id_parse("01-JMZ", norm));
	assert_false(confirm_id_parse("abc!ef", norm));
	assert_int_equal(confirm_approve(t, "oijmzh", &alice, "C1", &out), CONFIRM_READY);
	confirm_entry_free(out);
	assert_int_equal(confirm_approve(t, "zzzzz!", &alice, "C1", &out), CONFIRM_NOT_FOUND);
	confirm_free(t);
	(void)state;
}

static void
test_id_random_source(void **state)
{
	struct confirm *t = confirm_new(NULL);      /* RAND_bytes, real clock */
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	char ids[2000][8];
	size_t i, j, same = 0;

	payload_frees = 0;
	for (i = 0; i < 2000; i++) {
		struct confirm_request r = req(&alice, "C1", 60000);

		strcpy(ids[i], add(t, r));
		assert_int_equal(strlen(ids[i]), 6);
		for (j = 0; j < 6; j++)
			assert_non_null(strchr(alphabet, ids[i][j]));
	}
	assert_int_equal(confirm_count(t), 2000);
	for (i = 0; i < 2000; i++)
		for (j = i + 1; j < 2000; j++)
			same += strcmp(ids[i], ids[j]) == 0;
	assert_int_equal(same, 0);
	{
		char g[8];

		assert_int_equal(confirm_gen_id(t, g), 0);
		assert_null(confirm_get(t, g));
	}
	confirm_free(t);
	assert_int_equal(payload_frees, 2000);
	(void)state;
}

/* ---- approvals ---------------------------------------------------------- */

static struct confirm_request
approval_req(const char *const *approvers, size_t na, const char *const *groups,
    size_t ng, bool allow_self, uint32_t approvals)
{
	struct confirm_request r = req(&alice, "C1", 60000);

	r.policy.approvers = approvers;
	r.policy.napprovers = na;
	r.policy.approver_groups = groups;
	r.policy.napprover_groups = ng;
	r.policy.allow_self = allow_self;
	r.policy.approvals = approvals;
	return r;
}

static void
test_quorum_two_no_self(void **state)
{
	static const char *const approvers[] = { "bob", "carol" };
	struct confirm *t = new_tracker(NULL);
	struct confirm_who bob_alt = WHO("slack", "U22", "bob");
	struct confirm_entry *out;
	const struct confirm_entry *e;
	char a[8];

	ID(t, approval_req(approvers, 2, NULL, 0, false, 2), a);
	e = confirm_get(t, a);
	assert_int_equal(e->needed, 2);
	assert_int_equal(e->napprovers, 2);
	assert_string_equal(e->approvers[1], "carol");

	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_SELF_NOT_ALLOWED);
	assert_null(out);
	assert_int_equal(confirm_approve(t, a, &alice_alt, "C1", &out), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &dave, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_APPROVED_MORE_NEEDED);
	assert_null(out);
	e = confirm_get(t, a);
	assert_int_equal(e->napproved, 1);
	assert_string_equal(e->approved[0], "bob");
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_DUPLICATE);
	/* distinct canonical users: bob's other account is still bob */
	assert_int_equal(confirm_approve(t, a, &bob_alt, "C1", &out), CONFIRM_DUPLICATE);
	assert_int_equal(confirm_approve(t, a, &carol, "C2", &out), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(confirm_approve(t, a, &carol, "C1", &out), CONFIRM_READY);
	assert_non_null(out);
	assert_int_equal(out->napproved, 2);
	assert_string_equal(out->approved[0], "bob");
	assert_string_equal(out->approved[1], "carol");
	confirm_entry_free(out);
	assert_int_equal(confirm_approve(t, a, &carol, "C1", &out), CONFIRM_NOT_FOUND);
	confirm_free(t);
	assert_int_equal(payload_frees, 1);
	(void)state;
}

static void
test_quorum_two_self_allowed(void **state)
{
	static const char *const approvers[] = { "bob" };
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8];

	ID(t, approval_req(approvers, 1, NULL, 0, true, 2), a);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_APPROVED_MORE_NEEDED);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_DUPLICATE);
	/* self-approval is for the requester's own account only */
	assert_int_equal(confirm_approve(t, a, &alice_alt, "C1", &out), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &carol, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_READY);
	assert_string_equal(out->approved[0], "alice");
	assert_string_equal(out->approved[1], "bob");
	confirm_entry_free(out);
	confirm_free(t);
	(void)state;
}

static void
test_single_approver_default_quorum(void **state)
{
	static const char *const approvers[] = { "bob" };
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8], b[8];

	/* approvals 0 means 1: the first approver is enough */
	ID(t, approval_req(approvers, 1, NULL, 0, false, 0), a);
	assert_int_equal(confirm_get(t, a)->needed, 1);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_READY);
	assert_int_equal(out->napproved, 1);
	confirm_entry_free(out);

	/* with self-approval the requester alone is enough */
	ID(t, approval_req(approvers, 1, NULL, 0, true, 1), b);
	assert_int_equal(confirm_approve(t, b, &alice, "C1", &out), CONFIRM_READY);
	confirm_entry_free(out);
	confirm_free(t);
	(void)state;
}

static void
test_no_approvers_ignores_quorum(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct confirm_request r = req(&alice, "C1", 5000);
	struct confirm_entry *out;
	char a[8];

	r.policy.approvals = 3;
	r.policy.allow_self = false;
	ID(t, r, a);
	assert_int_equal(confirm_get(t, a)->needed, 1);
	assert_int_equal(confirm_approve(t, a, &alice, "C1", &out), CONFIRM_READY);
	confirm_entry_free(out);
	confirm_free(t);
	(void)state;
}

static void
test_group_approvers(void **state)
{
	static const char *const groups[] = { "ops", "sre" };
	static const char *const erin_groups[] = { "sre" };
	static const char *const frank_groups[] = { "dev" };
	struct confirm_who erin = { "slack", "U5", "erin", erin_groups, 1 };
	struct confirm_who frank = { "slack", "U6", "frank", frank_groups, 1 };
	/* alice is in sre too, but self-approval is off */
	struct confirm_who alice_sre = { "slack", "U1", "alice", erin_groups, 1 };
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8];

	/* in the group but without a canonical name: cannot be counted */
	struct confirm_who anon = { "slack", "U7", NULL, erin_groups, 1 };
	struct confirm_who empty = { "slack", "U8", "", erin_groups, 1 };

	ID(t, approval_req(NULL, 0, groups, 2, false, 2), a);
	assert_int_equal(confirm_approve(t, a, &anon, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &empty, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_deny(t, a, &anon, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_list_awaiting(t, &anon, NULL, NULL), 0);
	assert_int_equal(confirm_list_awaiting(t, &dave, NULL, NULL), 1);
	assert_int_equal(confirm_approve(t, a, &alice_sre, "C1", &out), CONFIRM_SELF_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &frank, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_approve(t, a, &dave, "C1", &out), CONFIRM_APPROVED_MORE_NEEDED);
	assert_int_equal(confirm_approve(t, a, &dave, "C1", &out), CONFIRM_DUPLICATE);
	assert_int_equal(confirm_approve(t, a, &erin, "C1", &out), CONFIRM_READY);
	assert_string_equal(out->approved[0], "dave");
	assert_string_equal(out->approved[1], "erin");
	confirm_entry_free(out);
	confirm_free(t);
	(void)state;
}

static void
test_deny(void **state)
{
	static const char *const approvers[] = { "bob", "carol" };
	struct confirm *t = new_tracker(NULL);
	struct confirm_entry *out;
	char a[8], b[8];

	ID(t, approval_req(approvers, 2, NULL, 0, false, 2), a);
	assert_int_equal(confirm_approve(t, a, &bob, "C1", &out), CONFIRM_APPROVED_MORE_NEEDED);
	assert_int_equal(confirm_deny(t, a, &dave, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_deny(t, a, &alice_alt, "C1", &out), CONFIRM_NOT_ALLOWED);
	assert_int_equal(confirm_deny(t, a, &carol, "C2", &out), CONFIRM_WRONG_CHANNEL);
	assert_int_equal(confirm_deny(t, a, &carol, "C1", &out), CONFIRM_DENIED);
	assert_non_null(out);
	assert_int_equal(out->napproved, 1);
	confirm_entry_free(out);
	assert_int_equal(confirm_approve(t, a, &carol, "C1", &out), CONFIRM_NOT_FOUND);

	/* the requester may withdraw with a deny too */
	ID(t, approval_req(approvers, 2, NULL, 0, false, 2), b);
	assert_int_equal(confirm_deny(t, b, &alice, "C1", &out), CONFIRM_DENIED);
	confirm_entry_free(out);
	assert_int_equal(confirm_count(t), 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 2);
	(void)state;
}

/* ---- listing, removal, limits ------------------------------------------- */

struct seen {
	char ids[16][8];
	size_t n;
};

static void
on_view(const struct confirm_entry *e, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	strcpy(s->ids[s->n++], e->id);
}

static void
test_list_for(void **state)
{
	static const char *const approvers[] = { "bob" };
	struct confirm *t = new_tracker(NULL);
	struct seen s = { .n = 0 };
	char a1[8], a2[8], a3[8], b1[8], a4[8];

	ID(t, req(&alice, "C1", 3000), a1);
	ID(t, req(&alice, "C2", 1000), a2);
	ID(t, req(&bob, "C1", 2000), b1);
	ID(t, req(&alice, "C1", 2000), a3);
	ID(t, approval_req(approvers, 1, NULL, 0, false, 1), a4);   /* 60 s */
	ID(t, req(&alice_alt, "C1", 500), (char[8]){ 0 });

	assert_int_equal(confirm_list_for(t, "slack", "U1", on_view, &s), 4);
	assert_string_equal(s.ids[0], a2);
	assert_string_equal(s.ids[1], a3);
	assert_string_equal(s.ids[2], a1);
	assert_string_equal(s.ids[3], a4);
	s.n = 0;
	assert_int_equal(confirm_list_for(t, "mattermost", "U1", on_view, &s), 0);
	/* expired-but-not-fired entries are not listed */
	fake_now += 1000;
	assert_int_equal(confirm_list_for(t, "slack", "U1", on_view, &s), 3);
	s.n = 0;
	assert_int_equal(confirm_list_for(t, "slack", "U2", on_view, &s), 1);
	assert_string_equal(s.ids[0], b1);

	/* what bob could approve: alice's a4 */
	s.n = 0;
	assert_int_equal(confirm_list_awaiting(t, &bob, on_view, &s), 1);
	assert_string_equal(s.ids[0], a4);
	assert_int_equal(confirm_list_awaiting(t, &carol, NULL, NULL), 0);
	assert_int_equal(confirm_list_awaiting(t, &alice, NULL, NULL), 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 6);
	(void)state;
}

static bool
alias_is_old(const struct confirm_entry *e, void *arg)
{
	(void)arg;
	return strcmp(e->alias, "old") == 0;
}

static void
test_remove_if(void **state)
{
	struct confirm *t = new_tracker(NULL);
	struct expired_log log = { .t = t };
	char ids[6][8];
	uint64_t at;
	size_t i;

	for (i = 0; i < 6; i++) {
		struct confirm_request r = req(&alice, "C1", 1000 - i * 100);

		r.alias = (i % 2) ? "old" : "restart";
		ID(t, r, ids[i]);
	}
	assert_int_equal(confirm_remove_if(t, alias_is_old, on_expired, &log), 3);
	assert_int_equal(log.n, 3);
	assert_string_equal(log.ids[0], ids[5]);        /* expiry order */
	assert_string_equal(log.ids[1], ids[3]);
	assert_string_equal(log.ids[2], ids[1]);
	assert_int_equal(payload_frees, 3);
	assert_int_equal(confirm_count(t), 3);
	assert_true(confirm_next_deadline(t, &at));
	assert_int_equal(at, 1000 + 600);
	assert_null(confirm_get(t, ids[1]));
	assert_non_null(confirm_get(t, ids[0]));
	assert_int_equal(confirm_remove_if(t, alias_is_old, NULL, NULL), 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 6);
	(void)state;
}

static void
test_max_pending(void **state)
{
	struct confirm_opts o = { .now_ms = fake_clock, .max_pending = 3 };
	struct confirm *t = confirm_new(&o);
	struct confirm_request r;
	struct confirm_entry *out;
	char id[8], err[256];

	payload_frees = 0;
	ID(t, req(&alice, "C1", 100), id);
	ID(t, req(&alice, "C1", 100), id);
	ID(t, req(&alice, "C1", 100), id);
	r = req(&alice, "C1", 100);
	assert_int_equal(confirm_add(t, &r, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too many pending"));
	assert_int_equal(confirm_cancel(t, id, &alice, "C1", &out), CONFIRM_CANCELED);
	confirm_entry_free(out);
	assert_int_equal(confirm_add(t, &r, NULL, err, sizeof(err)), 0);
	confirm_free(t);
	assert_int_equal(payload_frees, 4);
	(void)state;
}

static void
test_timeout_overflow(void **state)
{
	struct confirm *t = new_tracker(NULL);
	uint64_t at;
	char id[8];

	ID(t, req(&alice, "C1", UINT64_MAX), id);
	assert_true(confirm_next_deadline(t, &at));
	assert_int_equal(at, UINT64_MAX);
	assert_non_null(confirm_get(t, id));
	confirm_free(t);
	(void)state;
}

static void
test_result_names(void **state)
{
	assert_string_equal(confirm_result_name(CONFIRM_READY), "ready");
	assert_string_equal(confirm_result_name(CONFIRM_NOT_FOUND), "not_found");
	assert_string_equal(confirm_result_name(CONFIRM_SELF_NOT_ALLOWED), "self_not_allowed");
	assert_string_equal(confirm_result_name((enum confirm_result)99), "unknown");
	(void)state;
}

/* ---- random run against a model ----------------------------------------- */

#define M_IDS 32768u                    /* a small id space: many collisions */
#define M_OPS 50000

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)((rng_state >> 11) % n);
}

static int
model_source(void *arg, uint32_t *out)
{
	(void)arg;
	/* high bits set at random: only the low 30 bits count */
	*out = rnd(M_IDS) | (rnd(4) << 30);
	return 0;
}

struct m_entry {
	bool alive;
	int requester;                  /* index into m_users */
	int channel;
	bool approvers;                 /* policy: approvers = {dave(group sre), erin}, quorum 2 */
	bool allow_self;
	uint64_t expires, seq;
	int approved[4];                /* canonical user indices */
	int napproved;
};

static const char *const sre[] = { "sre" };
static const struct confirm_who m_users[] = {
	{ "slack", "U1", "alice", NULL, 0 },
	{ "slack", "U2", "bob", NULL, 0 },
	{ "slack", "U9", "alice", NULL, 0 },     /* alice's other account */
	{ "slack", "U4", "dave", sre, 1 },
	{ "slack", "U5", "erin", NULL, 0 },
	{ "mattermost", "U1", "alice", NULL, 0 },
};
#define M_NUSERS 6
static const char *const m_channels[] = { "C1", "C2", "C3" };
static const char *const m_approvers[] = { "erin" };

static struct m_entry model[M_IDS];
static uint64_t m_seq;
static size_t m_count;

struct m_expired {
	uint32_t keys[M_IDS];
	size_t n;
};

static uint32_t
key_of(const char *id)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	uint32_t v = 0;
	int i;

	for (i = 0; i < 6; i++)
		v = (v << 5) | (uint32_t)(strchr(alphabet, id[i]) - alphabet);
	return v;
}

static void
m_on_expired(struct confirm_entry *e, void *arg)
{
	struct m_expired *x = arg;

	x->keys[x->n++] = key_of(e->id);
}

static enum confirm_result
m_approve(struct m_entry *m, int u, int ch)
{
	const struct confirm_who *w = &m_users[u];
	int name, i;

	if (!m->alive)
		return CONFIRM_NOT_FOUND;
	if (fake_now >= m->expires) {
		m->alive = false;
		m_count--;
		return CONFIRM_EXPIRED;
	}
	if (strcmp(w->platform, m_users[m->requester].platform) != 0 || ch != m->channel)
		return CONFIRM_WRONG_CHANNEL;
	if (!m->approvers) {
		if (u != m->requester)
			return CONFIRM_NOT_ALLOWED;
		m->alive = false;
		m_count--;
		return CONFIRM_READY;
	}
	if (u == m->requester) {
		if (!m->allow_self)
			return CONFIRM_SELF_NOT_ALLOWED;
	} else if (strcmp(w->user, m_users[m->requester].user) == 0) {
		return CONFIRM_SELF_NOT_ALLOWED;
	} else if (strcmp(w->user, "dave") != 0 && strcmp(w->user, "erin") != 0) {
		return CONFIRM_NOT_ALLOWED;
	}
	/* canonical names are unique per index here except alice's */
	name = strcmp(w->user, "alice") == 0 ? 0 : u;
	for (i = 0; i < m->napproved; i++)
		if (m->approved[i] == name)
			return CONFIRM_DUPLICATE;
	m->approved[m->napproved++] = name;
	if (m->napproved >= 2) {
		m->alive = false;
		m_count--;
		return CONFIRM_READY;
	}
	return CONFIRM_APPROVED_MORE_NEEDED;
}

static enum confirm_result
m_cancel(struct m_entry *m, int u, int ch)
{
	if (!m->alive)
		return CONFIRM_NOT_FOUND;
	if (fake_now >= m->expires) {
		m->alive = false;
		m_count--;
		return CONFIRM_EXPIRED;
	}
	if (strcmp(m_users[u].platform, m_users[m->requester].platform) != 0 ||
	    ch != m->channel)
		return CONFIRM_WRONG_CHANNEL;
	if (u != m->requester)
		return CONFIRM_NOT_ALLOWED;
	m->alive = false;
	m_count--;
	return CONFIRM_CANCELED;
}

/* The model's due entries, in (expires, seq) order. */
static size_t
m_due(uint32_t *keys)
{
	size_t n = 0, i, j;

	for (i = 0; i < M_IDS; i++)
		if (model[i].alive && model[i].expires <= fake_now)
			keys[n++] = (uint32_t)i;
	for (i = 1; i < n; i++) {       /* insertion sort: n is small */
		uint32_t k = keys[i];

		for (j = i; j > 0; j--) {
			const struct m_entry *a = &model[keys[j - 1]], *b = &model[k];

			if (a->expires < b->expires ||
			    (a->expires == b->expires && a->seq < b->seq))
				break;
			keys[j] = keys[j - 1];
		}
		keys[j] = k;
	}
	for (i = 0; i < n; i++) {
		model[keys[i]].alive = false;
		m_count--;
	}
	return n;
}

static void
test_random_against_model(void **state)
{
	struct confirm_opts o = { .now_ms = fake_clock, .id_source = model_source };
	struct confirm *t;
	static struct m_expired got;
	static uint32_t want[M_IDS];
	static uint32_t recent[1024];       /* ids added lately, to hit live ones */
	size_t op, peak = 0, readies = 0, expiries = 0, collisions_seen = 0;

	memset(model, 0, sizeof(model));
	m_seq = 0;
	m_count = 0;
	fake_now = 1000;
	payload_frees = 0;
	t = confirm_new(&o);

	for (op = 0; op < M_OPS; op++) {
		uint32_t kind = rnd(100);

		if (kind < 40 && m_count < M_IDS / 2) {
			int u = (int)rnd(M_NUSERS), ch = (int)rnd(3);
			struct confirm_request r = req(&m_users[u], m_channels[ch],
			    rnd(2) ? 1 + rnd(3000) : 1 + rnd(600000));
			const struct confirm_entry *e;
			struct m_entry *m;
			bool appr = rnd(4) == 0;

			if (appr) {
				r.policy.approvers = m_approvers;
				r.policy.napprovers = 1;
				r.policy.approver_groups = sre;
				r.policy.napprover_groups = 1;
				r.policy.allow_self = rnd(2) == 0;
				r.policy.approvals = 2;
			}
			assert_int_equal(confirm_add(t, &r, &e, NULL, 0), 0);
			m = &model[key_of(e->id)];
			assert_false(m->alive);
			memset(m, 0, sizeof(*m));
			m->alive = true;
			m->requester = u;
			m->channel = ch;
			m->approvers = appr;
			m->allow_self = r.policy.allow_self;
			m->expires = e->expires_ms;
			m->seq = m_seq++;
			m_count++;
			recent[m->seq % 1024] = key_of(e->id);
		} else if (kind < 85) {
			/* confirm or cancel an id that is, was, or never was pending */
			uint32_t key = rnd(2) ? recent[rnd(1024)] : rnd(M_IDS);
			int u = (int)rnd(M_NUSERS), ch = (int)rnd(3);
			struct m_entry *m = &model[key];
			struct confirm_entry *out = NULL;
			enum confirm_result want_r, got_r;
			char id[8];

			if (rnd(3) == 0 && m->alive) {
				/* mostly the right person and place */
				u = m->requester;
				ch = m->channel;
				if (m->approvers && rnd(2))
					u = 3 + (int)rnd(2);
			}
			confirm_id_format(key, id);
			if (kind < 75) {
				want_r = m_approve(m, u, ch);
				got_r = confirm_approve(t, id, &m_users[u], m_channels[ch], &out);
			} else {
				want_r = m_cancel(m, u, ch);
				got_r = confirm_cancel(t, id, &m_users[u], m_channels[ch], &out);
			}
			assert_int_equal(got_r, want_r);
			if (got_r == CONFIRM_READY || got_r == CONFIRM_EXPIRED ||
			    got_r == CONFIRM_CANCELED) {
				assert_non_null(out);
				assert_string_equal(out->id, id);
				readies += got_r == CONFIRM_READY;
				confirm_entry_free(out);
			} else {
				assert_null(out);
			}
		} else {
			size_t n, i;

			fake_now += rnd(150);
			got.n = 0;
			n = confirm_expire_due(t, m_on_expired, &got);
			assert_int_equal(n, got.n);
			assert_int_equal(m_due(want), n);
			for (i = 0; i < n; i++)
				assert_int_equal(got.keys[i], want[i]);
			expiries += n;
		}
		assert_int_equal(confirm_count(t), m_count);
		if (m_count > peak)
			peak = m_count;
		if (op % 97 == 0) {
			uint64_t at, min = UINT64_MAX;
			size_t i;

			for (i = 0; i < M_IDS; i++)
				if (model[i].alive && model[i].expires < min)
					min = model[i].expires;
			if (m_count == 0) {
				assert_false(confirm_next_deadline(t, &at));
			} else {
				assert_true(confirm_next_deadline(t, &at));
				assert_int_equal(at, min);
			}
		}
	}
	(void)collisions_seen;
	print_message("model run: peak %zu pending, %zu ready, %zu expired, %llu added\n",
	    peak, readies, expiries, (unsigned long long)m_seq);
	/* the run went through the interesting states */
	assert_true(peak > 1000);
	assert_true(readies > 100);
	assert_true(expiries > 1000);
	confirm_free(t);
	assert_int_equal((size_t)payload_frees, (size_t)m_seq);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_copies_everything),
		cmocka_unit_test(test_null_thread_and_strings),
		cmocka_unit_test(test_exact_expiry),
		cmocka_unit_test(test_expired_cancel_and_deny),
		cmocka_unit_test(test_expire_due_order),
		cmocka_unit_test(test_single_use),
		cmocka_unit_test(test_wrong_person),
		cmocka_unit_test(test_wrong_channel),
		cmocka_unit_test(test_cancel_by_requester_only),
		cmocka_unit_test(test_id_collisions),
		cmocka_unit_test(test_id_always_colliding),
		cmocka_unit_test(test_id_case_insensitive),
		cmocka_unit_test(test_id_random_source),
		cmocka_unit_test(test_quorum_two_no_self),
		cmocka_unit_test(test_quorum_two_self_allowed),
		cmocka_unit_test(test_single_approver_default_quorum),
		cmocka_unit_test(test_no_approvers_ignores_quorum),
		cmocka_unit_test(test_group_approvers),
		cmocka_unit_test(test_deny),
		cmocka_unit_test(test_list_for),
		cmocka_unit_test(test_remove_if),
		cmocka_unit_test(test_max_pending),
		cmocka_unit_test(test_timeout_overflow),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
