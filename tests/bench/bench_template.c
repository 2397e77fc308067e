/*
 * bench_template.c - median time per render of a typical ack template and
 * a typical result template (a loop with filters), and of compiling them.
 * Renders reuse one output buffer, as the router does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/template.h"

#define BATCH 1000
#define ROUNDS 101

static const char ack_src[] =
    "{{ actionalias.name }} started as {{ execution.id }} for {{ user.name }}";

static const char result_src[] =
    "Action {{ actionalias.name }} {{ execution.status }} "
    "in {{ execution.elapsed }}s:\n"
    "{% for k, v in execution.parameters.items() %}"
    "  {{ loop.index }}. {{ k|upper }} = {{ v|tojson|truncate(40) }}\n"
    "{% endfor %}"
    "{% if execution.result.exit_code != 0 %}stderr: "
    "{{ execution.result.stderr|default('(none)', true)|trim|indent(4) }}"
    "{% else %}stdout: {{ execution.result.stdout|trim|truncate(200)|indent(4) }}"
    "{% endif %}\ntags: {{ execution.parameters.tags|join(', ') }}";

static const char ctx_json[] =
    "{\"execution\": {\"id\": \"5f3a9c0e2b1d4a7f8e6c5b4a\", \"status\": "
    "\"succeeded\", \"elapsed\": 2.25, \"result\": {\"stdout\": "
    "\"deployed web-1\\nrestarted nginx\\nall checks passed\\n\", \"stderr\": "
    "\"\", \"exit_code\": 0}, \"parameters\": {\"host\": \"web-1\", \"count\": 3,"
    " \"tags\": [\"blue\", \"canary\"], \"force\": false, \"ref\": \"main\"}},"
    " \"actionalias\": {\"name\": \"deploy\"}, \"user\": {\"name\": \"bob\","
    " \"id\": \"U123\"}, \"channel\": \"#ops\", \"system\": {}}";

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
bench_render(const char *name, const char *src, const json_t *ctx)
{
	uint64_t t[ROUNDS];
	struct tmpl_error e;
	struct tmpl *tp = tmpl_compile(src, strlen(src), &e);
	struct buf out;
	char err[ACK_ERR_LEN];
	int r, i;

	if (tp == NULL) {
		fprintf(stderr, "%s: %s\n", name, e.msg);
		exit(1);
	}
	buf_init(&out, 1 << 16);
	for (r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();

		for (i = 0; i < BATCH; i++) {
			buf_reset(&out);
			if (tmpl_render(tp, ctx, &out, err, sizeof err) < 0) {
				fprintf(stderr, "%s: %s\n", name, err);
				exit(1);
			}
		}
		t[r] = now_ns() - t0;
	}
	qsort(t, ROUNDS, sizeof t[0], cmp_u64);
	printf("%-8s render  median %8.1f ns  (%zu bytes out)\n", name,
	    (double)t[ROUNDS / 2] / BATCH, out.len);
	buf_free(&out);
	tmpl_free(tp);
	return (double)t[ROUNDS / 2] / BATCH;
}

static void
bench_compile(const char *name, const char *src)
{
	uint64_t t[ROUNDS];
	int r, i;

	for (r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();

		for (i = 0; i < BATCH / 10; i++)
			tmpl_free(tmpl_compile(src, strlen(src), NULL));
		t[r] = now_ns() - t0;
	}
	qsort(t, ROUNDS, sizeof t[0], cmp_u64);
	printf("%-8s compile median %8.1f ns\n", name,
	    (double)t[ROUNDS / 2] / (BATCH / 10));
}

int
main(void)
{
	json_t *ctx = json_loads(ctx_json, 0, NULL);

	if (ctx == NULL)
		return 1;
	bench_render("ack", ack_src, ctx);
	bench_render("result", result_src, ctx);
	bench_compile("ack", ack_src);
	bench_compile("result", result_src);
	json_decref(ctx);
	return 0;
}
