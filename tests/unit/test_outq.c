/*
 * test_outq.c - the ordered outgoing queue (adapters/outq.c) on a real
 * libuv loop with a scripted sender: order per key, 429 with Retry-After
 * (one channel and all channels), retries after transient errors, permanent
 * failures, pacing, a full queue, and closing with and without a deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "adapters/outq.h"
#include "bot/log.h"
#include "bot/util.h"

/* What the scripted server answers, per send, in order; then DONE. */
struct script {
	enum outq_result r[16];
	uint64_t retry_after[16];
	size_t n, next;
};

struct item {
	char key[16];
	int seq;
	struct T *t;
};

struct reply {
	uv_timer_t timer;               /* answers a send after a delay */
	struct outq_job *job;
	struct T *t;
	struct reply *next;
};

struct T {
	uv_loop_t loop;
	struct outq *q;
	struct script s;
	struct reply *replies;          /* in flight */
	unsigned delay_ms;
	char log[4096];                 /* "send a1;done a1;..." */
	uint64_t t0;
	uint64_t sent_at[64];
	int nsent;
	int dones, fails, cancels;
	bool closed;
};

static void logf_(struct T *t, const char *fmt, ...) ACK_PRINTF(2, 3);

static void
logf_(struct T *t, const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(t->log);

	va_start(ap, fmt);
	vsnprintf(t->log + n, sizeof t->log - n, fmt, ap);
	va_end(ap);
}

static void
free_reply(uv_handle_t *h)
{
	free(h->data);
}

static void
unlink_reply(struct T *t, struct reply *r)
{
	struct reply **pp;

	for (pp = &t->replies; *pp != NULL; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
}

static void
answer(struct T *t, struct outq_job *j)
{
	enum outq_result r = OUTQ_DONE;
	uint64_t ra = 0;

	if (t->s.next < t->s.n) {
		r = t->s.r[t->s.next];
		ra = t->s.retry_after[t->s.next];
		t->s.next++;
	}
	outq_complete(j, r, ra, r == OUTQ_FAILED ? "channel_not_found" : "HTTP 503");
}

static void
on_reply(uv_timer_t *h)
{
	struct reply *r = h->data;
	struct outq_job *j = r->job;

	unlink_reply(r->t, r);
	uv_close((uv_handle_t *)&r->timer, free_reply);
	answer(r->t, j);
}

static void
q_send(void *arg, struct outq_job *job, void *data)
{
	struct T *t = arg;
	struct item *it = data;
	struct reply *r;

	logf_(t, "send %s%d;", it->key, it->seq);
	if (t->nsent < 64)
		t->sent_at[t->nsent++] = uv_now(&t->loop) - t->t0;
	if (t->delay_ms == 0) {
		answer(t, job);         /* synchronous completion must work too */
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->job = job;
	r->t = t;
	r->next = t->replies;
	t->replies = r;
	uv_timer_init(&t->loop, &r->timer);
	r->timer.data = r;
	uv_timer_start(&r->timer, on_reply, t->delay_ms, 0);
}

static void
q_cancel(void *arg, struct outq_job *job, void *data)
{
	struct T *t = arg;
	struct reply *r;

	(void)data;
	for (r = t->replies; r != NULL; r = r->next)
		if (r->job == job)
			break;
	assert_non_null(r);
	unlink_reply(t, r);
	uv_close((uv_handle_t *)&r->timer, free_reply);
	t->cancels++;
}

static void
q_done(void *arg, void *data, bool ok, const char *error)
{
	struct T *t = arg;
	struct item *it = data;

	logf_(t, "%s %s%d;", ok ? "done" : "fail", it->key, it->seq);
	if (ok)
		t->dones++;
	else {
		t->fails++;
		assert_non_null(error);
	}
	free(it);
}

static const struct outq_ops ops = { q_send, q_cancel, q_done };

static void
setup(struct T *t, const struct outq_opts *o)
{
	memset(t, 0, sizeof *t);
	uv_loop_init(&t->loop);
	t->q = outq_new(&t->loop, o, &ops, t);
	t->t0 = uv_now(&t->loop);
}

static void
push(struct T *t, const char *key, int seq)
{
	struct item *it = xcalloc(1, sizeof *it);

	snprintf(it->key, sizeof it->key, "%s", key);
	it->seq = seq;
	it->t = t;
	assert_int_equal(outq_push(t->q, key, it), 0);
}

static void
on_q_closed(void *arg)
{
	struct T *t = arg;

	t->closed = true;
}

static void
close_and_run(struct T *t, uint64_t deadline)
{
	outq_close(t->q, deadline, on_q_closed, t);
	uv_run(&t->loop, UV_RUN_DEFAULT);
	assert_true(t->closed);
	assert_int_equal(uv_loop_close(&t->loop), 0);
}

static void
test_order_and_retries(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test", .retry_base_ms = 20, .retry_max_ms = 100 };

	(void)state;
	setup(&t, &o);
	t.delay_ms = 5;
	/* a1: 503 twice, then ok; a2 must wait behind it; b1 goes on */
	t.s.r[0] = OUTQ_RETRY;
	t.s.r[1] = OUTQ_RETRY;
	t.s.n = 2;
	push(&t, "a", 1);
	push(&t, "a", 2);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	assert_string_equal(t.log, "send a1;send a1;send a1;done a1;send a2;done a2;");
	assert_int_equal(outq_pending(t.q), 0);
	close_and_run(&t, 1000);
}

static void
test_rate_limit_one_key(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test" };

	(void)state;
	setup(&t, &o);
	t.delay_ms = 1;
	t.s.r[0] = OUTQ_RATE_LIMITED;
	t.s.retry_after[0] = 300;
	t.s.n = 1;
	push(&t, "a", 1);
	push(&t, "a", 2);
	push(&t, "b", 1);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	/* b is not held up by a's limit; a1 is resent first, after the wait */
	assert_string_equal(t.log, "send a1;send b1;done b1;send a1;done a1;send a2;done a2;");
	assert_true(t.sent_at[3] >= 295);
	close_and_run(&t, 1000);
}

static void
test_rate_limit_all(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test", .rate_limit_all = true };

	(void)state;
	setup(&t, &o);
	t.delay_ms = 20;
	t.s.r[0] = OUTQ_RATE_LIMITED;
	t.s.retry_after[0] = 200;
	t.s.n = 1;
	push(&t, "a", 1);
	push(&t, "b", 1);       /* both in flight; a1 is limited, b1 goes through */
	uv_run(&t.loop, UV_RUN_DEFAULT);
	assert_string_equal(t.log, "send a1;send b1;done b1;send a1;done a1;");
	/* a2 and b2 pushed during a pause both wait for its end */
	memset(t.log, 0, sizeof t.log);
	t.nsent = 0;
	t.t0 = uv_now(&t.loop);
	t.s.r[1] = OUTQ_RATE_LIMITED;
	t.s.retry_after[1] = 200;
	t.s.n = 2;
	push(&t, "a", 2);
	uv_run(&t.loop, UV_RUN_ONCE);   /* a2's 429 arrives: all paused */
	while (t.s.next < 2)
		uv_run(&t.loop, UV_RUN_ONCE);
	push(&t, "b", 2);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	assert_string_equal(t.log, "send a2;send a2;send b2;done a2;done b2;");
	assert_true(t.sent_at[1] >= 195 && t.sent_at[2] >= 195);
	close_and_run(&t, 1000);
}

static void
test_failure_and_give_up(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test", .retry_base_ms = 10, .retry_max_ms = 10,
	    .give_up_ms = 100 };
	size_t i;

	(void)state;
	setup(&t, &o);
	t.delay_ms = 1;
	t.s.r[0] = OUTQ_FAILED;
	for (i = 1; i < 16; i++)
		t.s.r[i] = OUTQ_RETRY;
	t.s.n = 16;
	push(&t, "a", 1);
	push(&t, "a", 2);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	assert_int_equal(t.fails, 2);
	assert_non_null(strstr(t.log, "fail a1;send a2;"));
	assert_non_null(strstr(t.log, "fail a2;"));
	close_and_run(&t, 1000);
}

static void
test_pacing(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test", .burst = 2, .per_sec = 10 };
	int i;

	(void)state;
	setup(&t, &o);
	for (i = 1; i <= 5; i++)
		push(&t, "a", i);
	uv_run(&t.loop, UV_RUN_DEFAULT);
	assert_int_equal(t.dones, 5);
	/* two at once, then one per 100 ms */
	assert_true(t.sent_at[1] < 50);
	assert_true(t.sent_at[2] >= 95);
	assert_true(t.sent_at[4] >= 295);
	close_and_run(&t, 1000);
}

static void
test_full_and_close(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test", .max_jobs = 3 };
	struct item *extra = xcalloc(1, sizeof *extra);

	(void)state;
	setup(&t, &o);
	t.delay_ms = 10000;             /* the server never answers in time */
	push(&t, "a", 1);
	push(&t, "a", 2);
	push(&t, "b", 1);
	assert_int_equal(outq_push(t.q, "b", extra), -1);       /* full */
	free(extra);
	close_and_run(&t, 50);
	assert_int_equal(t.cancels, 2);
	assert_int_equal(t.fails, 3);
	assert_int_equal(t.dones, 0);
}

static void
test_close_flushes(void **state)
{
	struct T t;
	struct outq_opts o = { .name = "test" };

	(void)state;
	setup(&t, &o);
	t.delay_ms = 5;
	push(&t, "a", 1);
	push(&t, "a", 2);
	close_and_run(&t, 5000);
	assert_int_equal(t.dones, 2);
	assert_int_equal(t.cancels, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_retries),
		cmocka_unit_test(test_rate_limit_one_key),
		cmocka_unit_test(test_rate_limit_all),
		cmocka_unit_test(test_failure_and_give_up),
		cmocka_unit_test(test_pacing),
		cmocka_unit_test(test_full_and_close),
		cmocka_unit_test(test_close_flushes),
	};

	log_setup(LOG_ERROR + 1, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
