/*
 * outq.c - ordered outgoing queue per key with 429 and 5xx handling (see
 * outq.h).
 *
 * One uv timer wakes the queue at the earliest moment some key may send
 * again (end of a Retry-After, of a backoff, a token, or the close
 * deadline). All the decisions are taken in outq_pump(), which is
 * re-entrancy safe: send and done callbacks may push, complete or close.
 */
#include "adapters/outq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "adapters/backoff.h"
#include "bot/log.h"
#include "bot/util.h"

struct outq_key;

struct outq_job {
	TAILQ_ENTRY(outq_job) entry;
	struct outq_key *key;
	void *data;
	unsigned attempts;      /* sends started */
	unsigned limited;       /* 429s seen */
	uint64_t first_at;      /* first send, ms */
};
TAILQ_HEAD(outq_jobq, outq_job);

struct outq_key {
	TAILQ_ENTRY(outq_key) entry;
	struct outq *q;
	char *name;
	struct outq_jobq jobs;
	struct outq_job *inflight;
	uint64_t not_before;    /* backoff or Retry-After */
	double tokens;
	uint64_t refill_at;
};
TAILQ_HEAD(outq_keyq, outq_key);

struct outq {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct outq_opts o;
	char *name;
	struct outq_ops ops;
	void *arg;
	struct outq_keyq keys;
	size_t njobs;
	uint64_t all_not_before;        /* rate_limit_all */
	bool pumping;
	bool repump;
	bool closing;
	bool closed;
	uint64_t deadline_at;
	void (*closed_cb)(void *);
	void *closed_arg;
};

static void outq_pump(struct outq *q);

static uint64_t
now_ms(struct outq *q)
{
	uv_update_time(q->loop);
	return uv_now(q->loop);
}

struct outq *
outq_new(uv_loop_t *loop, const struct outq_opts *opts, const struct outq_ops *ops,
    void *arg)
{
	struct outq *q = xcalloc(1, sizeof *q);

	q->loop = loop;
	q->o = *opts;
	q->name = xstrdup(opts->name ? opts->name : "outq");
	q->o.name = NULL;
	if (q->o.max_jobs == 0)
		q->o.max_jobs = 10000;
	if (q->o.retry_base_ms == 0)
		q->o.retry_base_ms = 1000;
	if (q->o.retry_max_ms == 0)
		q->o.retry_max_ms = 60000;
	if (q->o.give_up_ms == 0)
		q->o.give_up_ms = 10 * 60 * 1000;
	if (q->o.default_retry_after_ms == 0)
		q->o.default_retry_after_ms = 5000;
	if (q->o.max_retry_after_ms == 0)
		q->o.max_retry_after_ms = 10 * 60 * 1000;
	if (q->o.burst > 0 && q->o.per_sec == 0)
		q->o.per_sec = 1;
	q->ops = *ops;
	q->arg = arg;
	TAILQ_INIT(&q->keys);
	uv_timer_init(loop, &q->timer);
	q->timer.data = q;
	return q;
}

static struct outq_key *
key_get(struct outq *q, const char *name)
{
	struct outq_key *k;

	TAILQ_FOREACH(k, &q->keys, entry)
		if (strcmp(k->name, name) == 0)
			return k;
	k = xcalloc(1, sizeof *k);
	k->q = q;
	k->name = xstrdup(name);
	TAILQ_INIT(&k->jobs);
	k->tokens = q->o.burst;
	k->refill_at = now_ms(q);
	TAILQ_INSERT_TAIL(&q->keys, k, entry);
	return k;
}

static void
key_free(struct outq_key *k)
{
	TAILQ_REMOVE(&k->q->keys, k, entry);
	free(k->name);
	free(k);
}

int
outq_push(struct outq *q, const char *key, void *data)
{
	struct outq_job *j;
	struct outq_key *k;

	if (q->closing || q->closed)
		return -1;
	if (q->njobs >= q->o.max_jobs) {
		log_warn("%s: outgoing queue full (%zu messages): message dropped", q->name,
		    q->njobs);
		return -1;
	}
	k = key_get(q, key ? key : "");
	j = xcalloc(1, sizeof *j);
	j->key = k;
	j->data = data;
	TAILQ_INSERT_TAIL(&k->jobs, j, entry);
	q->njobs++;
	outq_pump(q);
	return 0;
}

size_t
outq_pending(const struct outq *q)
{
	return q->njobs;
}

unsigned
outq_job_attempt(const struct outq_job *job)
{
	return job->attempts;
}

/* Removes job from its key and reports it. */
static void
job_finish(struct outq *q, struct outq_job *j, bool ok, const char *error)
{
	struct outq_key *k = j->key;
	void *data = j->data;

	if (k->inflight == j)
		k->inflight = NULL;
	TAILQ_REMOVE(&k->jobs, j, entry);
	q->njobs--;
	free(j);
	q->ops.done(q->arg, data, ok, error);
}

void
outq_complete(struct outq_job *j, enum outq_result r, uint64_t retry_after_ms,
    const char *error)
{
	struct outq_key *k = j->key;
	struct outq *q = k->q;
	uint64_t now = now_ms(q), d;
	char why[512];

	if (k->inflight != j)
		return;                 /* not in flight: a bug in the owner */
	k->inflight = NULL;
	switch (r) {
	case OUTQ_DONE:
		job_finish(q, j, true, NULL);
		break;
	case OUTQ_FAILED:
		job_finish(q, j, false, error ? error : "failed");
		break;
	case OUTQ_RETRY:
		if (now - j->first_at >= q->o.give_up_ms) {
			snprintf(why, sizeof why, "gave up after %u attempts: %s", j->attempts,
			    error ? error : "failed");
			log_error("%s: %s: %s", q->name, k->name, why);
			job_finish(q, j, false, why);
			break;
		}
		{
			struct backoff b;
			unsigned i;

			backoff_init(&b, q->o.retry_base_ms, q->o.retry_max_ms, 50);
			for (i = 1; i < j->attempts; i++)
				(void)backoff_next(&b, 0);
			d = backoff_next(&b, backoff_random());
		}
		log_warn("%s: %s: %s; retrying in %llu ms (attempt %u)", q->name, k->name,
		    error ? error : "failed", (unsigned long long)d, j->attempts + 1);
		k->not_before = now + d;
		break;
	case OUTQ_RATE_LIMITED:
		j->limited++;
		if (now - j->first_at >= q->o.give_up_ms) {
			snprintf(why, sizeof why, "gave up after %u rate-limited attempts",
			    j->attempts);
			log_error("%s: %s: %s", q->name, k->name, why);
			job_finish(q, j, false, why);
			break;
		}
		d = retry_after_ms > 0 ? retry_after_ms : q->o.default_retry_after_ms;
		if (d > q->o.max_retry_after_ms)
			d = q->o.max_retry_after_ms;
		log_warn("%s: %s: rate limited; waiting %llu ms%s", q->name, k->name,
		    (unsigned long long)d, q->o.rate_limit_all ? " (all channels)" : "");
		k->not_before = now + d;
		if (q->o.rate_limit_all && now + d > q->all_not_before)
			q->all_not_before = now + d;
		break;
	}
	outq_pump(q);
}

static void
on_timer(uv_timer_t *t)
{
	outq_pump(t->data);
}

static void
on_closed(uv_handle_t *h)
{
	struct outq *q = h->data;
	void (*cb)(void *) = q->closed_cb;
	void *arg = q->closed_arg;
	struct outq_key *k;

	while ((k = TAILQ_FIRST(&q->keys)) != NULL)
		key_free(k);    /* idle keys still waiting for tokens */
	free(q->name);
	free(q);
	if (cb != NULL)
		cb(arg);
}

/* The close deadline passed: everything left is canceled. */
static void
cancel_all(struct outq *q)
{
	struct outq_key *k;
	struct outq_job *j;
	size_t n = q->njobs;

	if (n > 0)
		log_warn("%s: %zu outgoing message%s not delivered before shutdown", q->name, n,
		    n == 1 ? "" : "s");
	while ((k = TAILQ_FIRST(&q->keys)) != NULL) {
		if (k->inflight != NULL) {
			j = k->inflight;
			k->inflight = NULL;
			if (q->ops.cancel != NULL)
				q->ops.cancel(q->arg, j, j->data);
		}
		while ((j = TAILQ_FIRST(&k->jobs)) != NULL)
			job_finish(q, j, false, "canceled: the bot is shutting down");
		key_free(k);
	}
}

static uint64_t
key_ready_at(struct outq *q, struct outq_key *k, uint64_t now)
{
	uint64_t at = k->not_before;

	if (q->o.rate_limit_all && q->all_not_before > at)
		at = q->all_not_before;
	if (q->o.burst > 0) {
		uint64_t per = 1000 / q->o.per_sec;

		if (now > k->refill_at) {
			k->tokens += (double)(now - k->refill_at) / (double)per;
			if (k->tokens > q->o.burst)
				k->tokens = q->o.burst;
			k->refill_at = now;
		}
		if (k->tokens < 1.0) {
			uint64_t t = now + (uint64_t)((1.0 - k->tokens) * (double)per) + 1;

			if (t > at)
				at = t;
		}
	}
	return at;
}

static void
outq_pump(struct outq *q)
{
	struct outq_key *k, *next;
	uint64_t now, wake;

	if (q->closed)
		return;
	if (q->pumping) {
		q->repump = true;
		return;
	}
	q->pumping = true;
	do {
		q->repump = false;
		now = now_ms(q);
		wake = UINT64_MAX;
		if (q->closing && now >= q->deadline_at) {
			cancel_all(q);
			break;
		}
		TAILQ_FOREACH(k, &q->keys, entry) {
			struct outq_job *j;
			uint64_t at;

			if (k->inflight != NULL || TAILQ_EMPTY(&k->jobs))
				continue;
			at = key_ready_at(q, k, now);
			if (at > now) {
				if (at < wake)
					wake = at;
				continue;
			}
			if (q->o.burst > 0)
				k->tokens -= 1.0;
			j = TAILQ_FIRST(&k->jobs);
			k->inflight = j;
			if (j->attempts++ == 0)
				j->first_at = now;
			q->ops.send(q->arg, j, j->data);
			if (q->repump || q->closed)
				break;  /* the lists may have changed: start over */
		}
	} while (q->repump && !q->closed);
	/* forget idle keys */
	for (k = TAILQ_FIRST(&q->keys); k != NULL; k = next) {
		next = TAILQ_NEXT(k, entry);
		if (k->inflight == NULL && TAILQ_EMPTY(&k->jobs) && k->not_before <= now &&
		    (q->o.burst == 0 || k->tokens >= q->o.burst))
			key_free(k);
	}
	q->pumping = false;
	if (q->closing && q->njobs == 0) {
		if (!q->closed) {
			q->closed = true;
			uv_close((uv_handle_t *)&q->timer, on_closed);
		}
		return;
	}
	if (q->closing && q->deadline_at < wake)
		wake = q->deadline_at;
	if (wake != UINT64_MAX)
		uv_timer_start(&q->timer, on_timer, wake > now ? wake - now : 0, 0);
	else
		uv_timer_stop(&q->timer);
}

void
outq_close(struct outq *q, uint64_t deadline_ms, void (*closed)(void *), void *arg)
{
	if (q->closing)
		return;
	q->closing = true;
	q->closed_cb = closed;
	q->closed_arg = arg;
	q->deadline_at = now_ms(q) + deadline_ms;
	outq_pump(q);
}
