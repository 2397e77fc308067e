/*
 * bench_match.c - cost of matching one chat command against 10, 100, 1,000
 * and 10,000 generated aliases.
 *
 * Each alias has a distinct leading word and one of a few realistic shapes
 * (a parameter or two, an optional one with a default, a second format).
 * Two "try always" formats that start with a placeholder are added, as a
 * real config might have. Commands are half matching (some with trailing
 * key=value pairs), half not (unknown first word, known word with the wrong
 * shape, chit-chat). Prints the build time and the median and 99th
 * percentile cost per command, overall and per kind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/alias.h"
#include "config/config.h"

#define MESSAGES 20000

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
word(size_t i, char *out)
{
	static const char *const stems[] = { "deploy", "restart", "status", "scale",
		"rollback", "purge", "backup", "rotate" };
	char suffix[16];
	size_t k = 0, n = i / 8;

	do {
		suffix[k++] = (char)('a' + n % 26);
		n /= 26;
	} while (n > 0);
	suffix[k] = '\0';
	sprintf(out, "%s%s", stems[i % 8], suffix);
}

static void
strv_add(struct cfg_strv *v, const char *s)
{
	v->v = xrealloc(v->v, (v->n + 1) * sizeof *v->v);
	v->v[v->n].s = xstrdup(s);
	v->v[v->n].pos.line = 1;
	v->v[v->n].pos.col = 1;
	v->n++;
}

static void
add_format(struct cfg_alias *a, const char *s)
{
	struct cfg_format *f;

	a->formats = xrealloc(a->formats, (a->nformats + 1) * sizeof *a->formats);
	f = &a->formats[a->nformats++];
	memset(f, 0, sizeof *f);
	f->display.s = xstrdup(s);
	strv_add(&f->representations, s);
}

static struct cfg *
make_cfg(size_t n)
{
	struct cfg *c = xcalloc(1, sizeof *c);
	size_t i;
	char w[64], s[256];

	c->path = xstrdup("bench");
	c->naliases = n + 2;
	c->aliases = xcalloc(c->naliases, sizeof *c->aliases);
	for (i = 0; i < c->naliases; i++) {
		struct cfg_alias *a = &c->aliases[i];

		a->name = xasprintf("alias%zu", i);
		a->enabled = true;
		a->category = xstrdup("general");
		a->ack.enabled = a->result.enabled = true;
		if (i == n) {
			add_format(a, "{{who}} cross the {{what}}");
			continue;
		}
		if (i == n + 1) {
			add_format(a, "{{thing}} is broken");
			continue;
		}
		word(i, w);
		switch (i % 4) {
		case 0:
			snprintf(s, sizeof s, "%s {{app}}", w);
			add_format(a, s);
			break;
		case 1:
			snprintf(s, sizeof s, "%s {{app}} to {{env=staging}}", w);
			add_format(a, s);
			snprintf(s, sizeof s, "%s {{app}}", w);
			add_format(a, s);
			break;
		case 2:
			snprintf(s, sizeof s, "%s status of {{svc}} on {{host=localhost}}", w);
			add_format(a, s);
			break;
		default:
			snprintf(s, sizeof s, "%s {{count}} pods of {{app}} in {{ns=default}}", w);
			add_format(a, s);
			break;
		}
	}
	return c;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
report(const char *what, uint64_t *v, size_t n)
{
	if (n == 0)
		return;
	qsort(v, n, sizeof *v, cmp_u64);
	printf("  %-10s median %7.2f us   p99 %7.2f us   (%zu commands)\n", what,
	    v[n / 2] / 1000.0, v[n * 99 / 100] / 1000.0, n);
}

static void
run(size_t n)
{
	struct cfg *c = make_cfg(n);
	struct diag d;
	struct alias_set *set;
	uint64_t t0, *all, *hit, *miss;
	size_t i, nh = 0, nm = 0, matched = 0;
	char msg[256], w[64];
	unsigned seed = 12345;

	diag_init(&d);
	t0 = now_ns();
	set = alias_set_build(c, &d);
	printf("%zu aliases: build %.1f ms (%zu errors, %zu warnings)\n", n,
	    (now_ns() - t0) / 1e6, d.nerrors, d.nwarnings);
	all = xcalloc(MESSAGES, sizeof *all);
	hit = xcalloc(MESSAGES, sizeof *hit);
	miss = xcalloc(MESSAGES, sizeof *miss);
	for (i = 0; i < MESSAGES + 1000; i++) {
		struct alias_match m;
		size_t r;
		uint64_t dt;
		bool want;

		seed = seed * 1103515245u + 12345u;
		r = (seed >> 8) % n;
		word(r, w);
		want = (i % 2) == 0;
		if (want) {
			switch (r % 4) {
			case 0: snprintf(msg, sizeof msg, "%s web-frontend", w); break;
			case 1: snprintf(msg, sizeof msg, "%s api to prod timeout=30", w); break;
			case 2: snprintf(msg, sizeof msg, "%s status of nginx on h1", w); break;
			default: snprintf(msg, sizeof msg, "%s 3 pods of api in kube-system", w); break;
			}
		} else {
			switch ((seed >> 4) % 3) {
			case 0: snprintf(msg, sizeof msg, "%sx web", w); break;
			case 1: snprintf(msg, sizeof msg, "%s", w); break;
			default: snprintf(msg, sizeof msg, "hello there, how are you today?"); break;
			}
		}
		t0 = now_ns();
		alias_set_match(set, msg, strlen(msg), &m);
		dt = now_ns() - t0;
		if (want && m.kind != ALIAS_MATCHED) {
			fprintf(stderr, "bench: \"%s\" did not match: %s\n", msg, m.message);
			exit(1);
		}
		matched += m.kind == ALIAS_MATCHED;
		alias_match_clear(&m);
		if (i < 1000)
			continue;       /* warm-up */
		all[nh + nm] = dt;
		if (want)
			hit[nh++] = dt;
		else
			miss[nm++] = dt;
	}
	report("all", all, nh + nm);
	report("matching", hit, nh);
	report("no match", miss, nm);
	printf("  (%zu of %zu messages matched an alias)\n", matched, (size_t)MESSAGES + 1000);
	free(all);
	free(hit);
	free(miss);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 10, 100, 1000, 10000 };
	size_t i;

	if (argc > 1) {
		run((size_t)strtoul(argv[1], NULL, 10));
		return 0;
	}
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		run(sizes[i]);
	return 0;
}
