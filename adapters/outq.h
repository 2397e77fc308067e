/*
 * outq.h - an ordered outgoing queue per key (a channel), for chat adapters
 * that post through an HTTP API (Slack, Mattermost).
 *
 * Jobs with the same key are sent one at a time, in the order they were
 * pushed: a later post never overtakes an earlier one in the same channel,
 * whatever happens to the earlier one. The owner does the sending (send
 * callback) and reports how it went with outq_complete():
 *   - OUTQ_DONE: delivered;
 *   - OUTQ_RATE_LIMITED (HTTP 429): the key waits Retry-After (and with
 *     rate_limit_all, every key does: the platform's limits are per method
 *     and workspace too), then the same job is sent again;
 *   - OUTQ_RETRY (5xx, network, timeout): sent again after a jittered
 *     exponential backoff, until give_up_ms after its first attempt;
 *   - OUTQ_FAILED: never going to work (bad channel, ...).
 * Each job ends with exactly one done(ok, error) call. A token bucket per
 * key can pace sends (burst, then per_sec). Nothing here knows HTTP.
 *
 * Ownership: the queue never looks inside data; done() is where the owner
 * frees it. outq_close() ends the queue: it keeps sending for up to
 * deadline_ms, then cancels what is left (cancel() for a job in flight,
 * then done(false, "canceled: ...") for every remaining job), and frees
 * the queue before calling closed().
 */
#ifndef ACKBOT_OUTQ_H
#define ACKBOT_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct outq;
struct outq_job;

enum outq_result {
	OUTQ_DONE,
	OUTQ_FAILED,
	OUTQ_RETRY,
	OUTQ_RATE_LIMITED,
};

struct outq_ops {
	/* Start sending; report later (or now) with outq_complete(job, ...). */
	void (*send)(void *arg, struct outq_job *job, void *data);
	/* Only at the close deadline, for the job in flight: stop it; do not
	 * call outq_complete for it afterwards. */
	void (*cancel)(void *arg, struct outq_job *job, void *data);
	/* The job is over; error is NULL when ok. Free data here. */
	void (*done)(void *arg, void *data, bool ok, const char *error);
};

struct outq_opts {
	const char *name;               /* for logs: "slack" */
	size_t max_jobs;                /* queued + in flight; 0 = 10000 */
	uint64_t retry_base_ms;         /* 0 = 1000 */
	uint64_t retry_max_ms;          /* 0 = 60000 */
	uint64_t give_up_ms;            /* 0 = 10 minutes */
	uint64_t default_retry_after_ms;/* a 429 without Retry-After; 0 = 5000 */
	uint64_t max_retry_after_ms;    /* cap on Retry-After; 0 = 10 minutes */
	unsigned burst;                 /* token bucket per key; 0 = no pacing */
	unsigned per_sec;               /* refill rate when burst > 0; 0 = 1 */
	bool rate_limit_all;            /* a 429 pauses every key */
};

/* Creates a queue on loop; opts (name copied) and ops are copied. */
struct outq *outq_new(uv_loop_t *loop, const struct outq_opts *opts,
    const struct outq_ops *ops, void *arg);
/* Appends a job under key (copied). Returns 0, or -1 if the queue is full
 * or closing (then done is not called: the caller still owns data). */
int outq_push(struct outq *q, const char *key, void *data);
/* How the send of job went. retry_after_ms is for OUTQ_RATE_LIMITED (0 =
 * the default). error describes a failure (copied into logs). */
void outq_complete(struct outq_job *job, enum outq_result r, uint64_t retry_after_ms,
    const char *error);
/* Jobs queued or in flight. */
size_t outq_pending(const struct outq *q);
/* Which attempt this is (1 for the first send). */
unsigned outq_job_attempt(const struct outq_job *job);
/* See above. closed may be NULL. Calling it twice is a bug. */
void outq_close(struct outq *q, uint64_t deadline_ms, void (*closed)(void *arg), void *arg);

#endif
