/*
 * fuzz_template.c - libFuzzer target for the template engine: compiles the
 * input as a template and renders it against a fixed context, with a small
 * output cap. Checks that a literal template renders as itself and that
 * rendering twice gives the same output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char context_json[] =
    "{\"execution\": {\"id\": \"5f3a9c\", \"status\": \"succeeded\","
    " \"result\": {\"stdout\": \"line one\\nline two\\n  indented\\n\","
    " \"stderr\": \"\", \"exit_code\": 0, \"items\": [1, 2.5, \"x\", null,"
    " true, [3, 4], {\"k\": \"v\"}]},"
    " \"parameters\": {\"host\": \"web-1\", \"count\": 3, \"tags\": [\"a\","
    " \"b\"], \"opts\": {\"force\": false, \"ratio\": 0.25}},"
    " \"elapsed\": 1.5},"
    " \"actionalias\": {\"name\": \"deploy\"},"
    " \"user\": {\"name\": \"b\\u00f6b\", \"id\": \"U1\"},"
    " \"channel\": \"#ops\", \"system\": {\"region\": \"eu\"},"
    " \"xs\": [\"\\u65e5\\u672c\", \"\", \"a b c d e f g\"],"
    " \"pairs\": [[\"a\", 1], [\"b\", 2]], \"empty\": [], \"obj\": {},"
    " \"big\": 9223372036854775807, \"neg\": -9223372036854775807,"
    " \"n\": null, \"t\": true, \"f\": false, \"r\": 1e300}";

static json_t *ctx;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tmpl_error te;
	struct tmpl *t;
	struct buf out, out2;
	char err[ACK_ERR_LEN], err2[ACK_ERR_LEN];
	int rc, rc2;

	if (ctx == NULL) {
		ctx = json_loads(context_json, 0, NULL);
		if (ctx == NULL)
			abort();
	}
	if (size > 4096)
		return 0;
	t = tmpl_compile((const char *)data, size, &te);
	if (t == NULL) {
		if (te.msg[0] == '\0' || te.offset > size || te.line < 1 || te.col < 1)
			abort();
		if (tmpl_is_literal((const char *)data, size))
			abort();        /* a literal always compiles */
		return 0;
	}
	buf_init(&out, 1 << 16);
	buf_init(&out2, 1 << 16);
	rc = tmpl_render(t, ctx, &out, err, sizeof err);
	rc2 = tmpl_render(t, ctx, &out2, err2, sizeof err2);
	if (rc != rc2 || (rc == 0 && (out.len != out2.len ||
	    memcmp(out.data ? out.data : "", out2.data ? out2.data : "", out.len) != 0)))
		abort();
	if (rc < 0 && err[0] == '\0')
		abort();
	if (tmpl_is_literal((const char *)data, size) && (rc != 0 ||
	    out.len != size || (size && memcmp(out.data, data, size) != 0)))
		abort();
	buf_free(&out);
	buf_free(&out2);
	tmpl_free(t);
	return 0;
}
