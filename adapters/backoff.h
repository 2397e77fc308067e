/*
 * backoff.h - jittered exponential backoff, shared by the websocket client
 * (reconnects) and the outgoing queue (retries after 5xx and network
 * errors).
 *
 * Pure: no clock, no randomness of its own. The caller passes a random
 * 32-bit value to each backoff_next() (tests pass fixed ones) and decides
 * when a connection has been healthy long enough to call backoff_reset().
 *
 * Delay n (n = 0, 1, ...) is base * 2^n capped at max, then "equal jitter":
 * a value drawn uniformly from [d - d*jitter/100, d]. So the first retry
 * comes soon, later ones spread out, and many clients that failed together
 * do not come back together.
 */
#ifndef ACKBOT_BACKOFF_H
#define ACKBOT_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint64_t base_ms;       /* first delay (before jitter) */
	uint64_t max_ms;        /* cap */
	unsigned jitter_pct;    /* 0..100: how much may be taken off */
	unsigned attempt;       /* failures since the last reset */
};

/* Sets the parameters and resets. */
void backoff_init(struct backoff *b, uint64_t base_ms, uint64_t max_ms, unsigned jitter_pct);
/* The delay before the next attempt; counts one more failure. */
uint64_t backoff_next(struct backoff *b, uint32_t rnd);
/* Forget past failures (after a healthy period). */
void backoff_reset(struct backoff *b);
/* A cheap non-cryptographic random value for jitter (xorshift, seeded from
 * the clock and the pid on first use). */
uint32_t backoff_random(void);

#endif
