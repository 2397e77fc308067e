/*
 * bench_confirm.c - figures for the confirmation tracker with 1,000,000
 * pending entries: memory per entry, insert / approve / expire throughput,
 * and the id generation rate (OpenSSL RAND_bytes).
 *
 * Memory is measured two ways: the heap delta from mallinfo2() (arena bytes
 * in use plus mmap'ed blocks, so malloc headers and the table/heap arrays are
 * included) and the resident set size delta from /proc/self/statm. Payloads
 * are NULL: what the router stores there is its own.
 *
 * Usage: bench_confirm [N]   (default 1000000)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/confirm.h"
#include "bot/util.h"

static uint64_t now_ms;

static uint64_t
bench_clock(void *arg)
{
	(void)arg;
	return now_ms;
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

static size_t
heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static size_t
rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, res = 0;

	if (f != NULL) {
		if (fscanf(f, "%lu %lu", &size, &res) != 2)
			res = 0;
		fclose(f);
	}
	return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static const struct confirm_who approver = { "slack", "U0APPROVER", "bob", NULL, 0 };

/* A request with typical short values; i varies the user and parameters. */
static void
add_one(struct confirm *t, size_t i, char ids[][CONFIRM_ID_SIZE])
{
	char user_id[16], what[64];
	const struct confirm_entry *e;
	struct confirm_request r = {
		.requester = { "slack", user_id, "alice", NULL, 0 },
		.channel = "C0123ABCDE",
		.thread = "1718900000.123456",
		.alias = "restart-service",
		.what = what,
		.timeout_ms = 60000 + rnd(540000),
	};

	snprintf(user_id, sizeof(user_id), "U%09zu", i % 1000);
	snprintf(what, sizeof(what), "restart-service host=web-%zu env=prod", i % 100);
	if (confirm_add(t, &r, &e, NULL, 0) < 0) {
		fprintf(stderr, "confirm_add failed at %zu\n", i);
		exit(1);
	}
	memcpy(ids[i], e->id, CONFIRM_ID_SIZE);
}

static size_t expired;

static void
on_expired(struct confirm_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	expired++;
}

static double
secs(uint64_t us)
{
	return (double)us / 1e6;
}

int
main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000000;
	size_t napprove = n / 5, i, h0, r0, h1, r1, ready = 0;
	struct confirm_opts o = { .now_ms = bench_clock, .max_pending = n };
	char (*ids)[CONFIRM_ID_SIZE];
	struct confirm *t;
	uint64_t t0, dt, at;
	char id[CONFIRM_ID_SIZE];

	if (n < 10) {
		fprintf(stderr, "usage: bench_confirm [N >= 10]\n");
		return 2;
	}
	ids = xcalloc(n, sizeof(*ids));
	memset(ids, 0, n * sizeof(*ids));       /* touch the pages now */
	now_ms = 1000000;
	t = confirm_new(&o);
	/* Warm the RAND_bytes state so its allocations are not counted. */
	confirm_gen_id(t, id);

	h0 = heap_bytes();
	r0 = rss_bytes();
	t0 = ack_now_us();
	for (i = 0; i < n; i++)
		add_one(t, i, ids);
	dt = ack_now_us() - t0;
	h1 = heap_bytes();
	r1 = rss_bytes();
	printf("pending: %zu confirmations (typical short strings, NULL payload)\n", n);
	printf("memory per pending confirmation: %.1f bytes (mallinfo2 heap delta), "
	    "%.1f bytes (RSS delta)\n", (double)(h1 - h0) / (double)n,
	    (double)(r1 > r0 ? r1 - r0 : 0) / (double)n);
	printf("insert: %.0f ops/s (%zu in %.3f s)\n", (double)n / secs(dt), n, secs(dt));

	/* Approve -> READY for a fifth of them, in random order, with ~N pending. */
	t0 = ack_now_us();
	for (i = 0; i < napprove; i++) {
		size_t k = rnd((uint32_t)n);
		struct confirm_who who = { "slack", NULL, "alice", NULL, 0 };
		struct confirm_entry *out;
		char user_id[16];

		if (ids[k][0] == '\0')
			continue;
		snprintf(user_id, sizeof(user_id), "U%09zu", k % 1000);
		who.user_id = user_id;
		if (confirm_approve(t, ids[k], &who, "C0123ABCDE", &out) == CONFIRM_READY) {
			confirm_entry_free(out);
			ready++;
		}
		ids[k][0] = '\0';
	}
	dt = ack_now_us() - t0;
	printf("confirm (approve -> READY): %.0f ops/s (%zu ready of %zu tries, "
	    "%zu -> %zu pending, %.3f s)\n", (double)napprove / secs(dt), ready,
	    napprove, n, confirm_count(t), secs(dt));
	/* A wrong approver: the rejection path. */
	t0 = ack_now_us();
	for (i = 0; i < napprove; i++) {
		size_t k = rnd((uint32_t)n);
		struct confirm_entry *out;

		if (ids[k][0] != '\0')
			(void)confirm_approve(t, ids[k], &approver, "C0123ABCDE", &out);
	}
	dt = ack_now_us() - t0;
	printf("confirm by a wrong person (NOT_ALLOWED): %.0f ops/s\n",
	    (double)napprove / secs(dt));

	/* Refill to N, then expire: first ~10% (with ~N pending), then the rest. */
	for (i = 0; i < n; i++)
		if (ids[i][0] == '\0' && confirm_count(t) < n)
			add_one(t, i, ids);
	now_ms += 60000 + 54000;
	expired = 0;
	t0 = ack_now_us();
	confirm_expire_due(t, on_expired, NULL);
	dt = ack_now_us() - t0;
	printf("expire (first 10%%, %zu pending before): %.0f ops/s (%zu in %.3f s)\n",
	    n, (double)expired / secs(dt), expired, secs(dt));
	now_ms += 600000;
	expired = 0;
	t0 = ack_now_us();
	confirm_expire_due(t, on_expired, NULL);
	dt = ack_now_us() - t0;
	printf("expire (the rest): %.0f ops/s (%zu in %.3f s)\n",
	    (double)expired / secs(dt), expired, secs(dt));
	if (confirm_next_deadline(t, &at) || confirm_count(t) != 0) {
		fprintf(stderr, "entries left after expiring all\n");
		return 1;
	}

	/* Id generation: RAND_bytes read ahead, plus the uniqueness lookup. */
	t0 = ack_now_us();
	for (i = 0; i < n; i++)
		if (confirm_gen_id(t, id) < 0)
			return 1;
	dt = ack_now_us() - t0;
	printf("id generation: %.0f ids/s (%s, e.g. %s)\n", (double)n / secs(dt),
	    "RAND_bytes in 256-byte blocks", id);

	confirm_free(t);
	free(ids);
	return 0;
}
