/*
 * bench_toml.c - parse throughput of the TOML parser.
 *
 * Generates a document of about 8 MB (or argv[1] MB) that mixes what real
 * configs hold: many tables under one parent (so the hash index is used),
 * basic strings with escapes, literal and multi-line strings, integers,
 * floats, booleans, offset and local date-times, arrays, inline tables with
 * dotted keys, arrays of tables and comments. Parses it RUNS times
 * (toml_parse + toml_free, input in memory) and prints the median and best
 * throughput, by wall clock and by CPU time (user + system) of the process:
 * on a loaded machine the wall clock also counts time spent waiting for a
 * core, the CPU time does not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/util.h"
#include "config/toml.h"

#define RUNS 9

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;         /* xorshift32: a fixed, reproducible document */
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
generate(struct buf *b, size_t target)
{
	uint32_t seed = 2463534242u;
	size_t i;

	buf_puts(b, "# generated benchmark document\ntitle = \"bench\"\n"
	    "[aliases]\n");
	for (i = 0; i < 1000; i++)
		buf_printf(b, "alias_%zu = \"deploy %zu to prod\"\n", i, i);
	for (i = 0; b->len < target; i++) {
		uint32_t r = rnd(&seed);

		buf_printf(b, "\n[service.s%zu]  # service number %zu\n", i, i);
		buf_printf(b, "name = \"service \\\"%zu\\\" caf\\u00e9\\tok\\n\"\n", i);
		buf_printf(b, "path = 'C:\\data\\svc%u'\n", r % 1000);
		buf_printf(b, "port = %u\n", 1024 + r % 60000);
		buf_printf(b, "weight = 0x%x\nmask = 0b1010_1010\n", r & 0xffff);
		buf_printf(b, "ratio = %u.%03ue-2\nscale = -%u_000.5\n", r % 100,
		    r % 1000, 1 + r % 9);
		buf_printf(b, "enabled = %s\n", r & 1 ? "true" : "false");
		buf_printf(b, "started = 2024-%02u-%02uT%02u:%02u:%02u.%03uZ\n",
		    1 + r % 12, 1 + r % 28, r % 24, r % 60, (r >> 8) % 60, r % 1000);
		buf_printf(b, "window = 1979-05-27 07:%02u:00-07:00\n", r % 60);
		buf_printf(b, "local = %02u:30:00\n", r % 24);
		buf_printf(b, "tags = [\"t%u\", \"blue\", \"\u00fcber\", 1, 2.5, "
		    "[true, false]]\n", r % 97);
		buf_printf(b, "limits = { cpu = %u, mem = \"512Mi\", burst.max = 10, "
		    "burst.min = 1 }\n", 1 + r % 16);
		buf_printf(b, "hosts = [\n  \"a%zu.example.org\",  # primary\n"
		    "  \"b%zu.example.org\",\n]\n", i, i);
		buf_printf(b, "motd = \"\"\"\nWelcome to service %zu.\n"
		    "  Second line with \\\"quotes\\\" and a tab\\t.\"\"\"\n", i);
		buf_printf(b, "[[service.s%zu.endpoint]]\nurl = "
		    "\"https://s%zu.example.org/api/v1\"\ntimeout = 30\n", i, i);
		buf_printf(b, "[[service.s%zu.endpoint]]\nurl = "
		    "'https://s%zu.example.org/api/v2'\nretries = [1, 2, 4, 8]\n",
		    i, i);
	}
}

static uint64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct buf doc;
	struct toml_error err;
	uint64_t us[RUNS], cpu[RUNS];
	size_t mb = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 8;
	double len;
	int i;

	if (mb == 0)
		mb = 8;
	buf_init(&doc, 0);
	generate(&doc, mb * 1000 * 1000);
	len = (double)doc.len;
	for (i = 0; i < RUNS; i++) {
		uint64_t t0 = ack_now_us(), c0 = cpu_us();
		struct toml_doc *d = toml_parse(doc.data, doc.len, &err);

		if (d == NULL) {
			fprintf(stderr, "bench_toml: generated document rejected: "
			    "%d:%d: %s\n", err.pos.line, err.pos.col, err.msg);
			return 1;
		}
		toml_free(d);
		us[i] = ack_now_us() - t0;
		cpu[i] = cpu_us() - c0;
		if (us[i] == 0)
			us[i] = 1;
		if (cpu[i] == 0)
			cpu[i] = 1;
	}
	qsort(us, RUNS, sizeof us[0], cmp_u64);
	qsort(cpu, RUNS, sizeof cpu[0], cmp_u64);
	printf("toml_parse: %.2f MB document, %d runs\n", len / 1e6, RUNS);
	printf("  wall clock: median %.1f ms = %.1f MB/s, best %.1f ms = %.1f MB/s\n",
	    (double)us[RUNS / 2] / 1e3, len / (double)us[RUNS / 2],
	    (double)us[0] / 1e3, len / (double)us[0]);
	printf("  CPU time:   median %.1f ms = %.1f MB/s, best %.1f ms = %.1f MB/s\n",
	    (double)cpu[RUNS / 2] / 1e3, len / (double)cpu[RUNS / 2],
	    (double)cpu[0] / 1e3, len / (double)cpu[0]);
	buf_free(&doc);
	return 0;
}
