/*
 * backoff.c - jittered exponential backoff (see backoff.h).
 */
#include "adapters/backoff.h"

#include <unistd.h>

#include "bot/util.h"

void
backoff_init(struct backoff *b, uint64_t base_ms, uint64_t max_ms, unsigned jitter_pct)
{
	b->base_ms = base_ms > 0 ? base_ms : 1;
	b->max_ms = max_ms >= b->base_ms ? max_ms : b->base_ms;
	b->jitter_pct = jitter_pct > 100 ? 100 : jitter_pct;
	b->attempt = 0;
}

uint64_t
backoff_next(struct backoff *b, uint32_t rnd)
{
	uint64_t d = b->base_ms, span;
	unsigned i;

	for (i = 0; i < b->attempt && d < b->max_ms; i++)
		d *= 2;
	if (d > b->max_ms)
		d = b->max_ms;
	if (b->attempt < 64)
		b->attempt++;
	span = d * b->jitter_pct / 100;
	if (span > 0)
		d -= (uint64_t)rnd % (span + 1);
	return d;
}

void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}

uint32_t
backoff_random(void)
{
	static uint64_t s;

	if (s == 0)
		s = (ack_now_us() ^ ((uint64_t)getpid() << 32)) | 1;
	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 16);
}
