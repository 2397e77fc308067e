/*
 * test_audit.c - the audit log: lines written to a temporary file and read
 * back with jansson (fields, order of events, time format), masking of
 * secret parameters and secret strings anywhere in a line, file mode 0600,
 * append-only behaviour and reopening after rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "bot/audit.h"
#include "bot/util.h"

struct tmp {
	char dir[64];
	char path[128];
};

static int
setup(void **state)
{
	struct tmp *t = xcalloc(1, sizeof(*t));

	strcpy(t->dir, "/tmp/test_audit.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/audit.log", t->dir);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct tmp *t = *state;
	char p[160];

	unlink(t->path);
	snprintf(p, sizeof(p), "%s.1", t->path);
	unlink(p);
	rmdir(t->dir);
	free(t);
	return 0;
}

static uint64_t
fixed_clock(void *arg)
{
	return *(uint64_t *)arg;
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

/* Parses every line of the file; returns an array of objects. */
static json_t *
read_lines(const char *path)
{
	char *data = slurp(path), *p = data, *nl;
	json_t *arr = json_array();

	while ((nl = strchr(p, '\n')) != NULL) {
		json_error_t e;
		json_t *j = json_loadb(p, (size_t)(nl - p), 0, &e);

		if (j == NULL)
			fail_msg("bad JSON line: %s: %.*s", e.text, (int)(nl - p), p);
		assert_true(json_is_object(j));
		json_array_append_new(arr, j);
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');     /* every line is complete */
	free(data);
	return arr;
}

static const char *
sget(const json_t *o, const char *path)
{
	char key[64];
	const char *dot = strchr(path, '.');

	if (dot != NULL) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		return sget(json_object_get(o, key), dot + 1);
	}
	return json_string_value(json_object_get(o, path));
}

static void
test_fields_and_mode(void **state)
{
	struct tmp *t = *state;
	uint64_t now = 1714567890123ull;       /* 2024-05-01T12:51:30.123Z */
	json_t *params = json_pack("{s:s, s:i, s:s}", "host", "web1", "count", 3,
	    "env", "prod");
	struct audit_record r = {
		.event = AUDIT_FINISHED,
		.command_id = "r42",
		.confirm_id = "7KQ2MX",
		.platform = "slack",
		.user_id = "U123",
		.user_name = "alice.s",
		.user = "alice",
		.channel = "C9",
		.thread = "1714567890.000100",
		.alias = "restart",
		.params = params,
		.outcome = "succeeded",
		.has_exit_code = true,
		.exit_code = 0,
		.has_duration = true,
		.duration_ms = 1234,
		.detail = "line one\nline two \"quoted\"",
	};
	struct audit *a;
	struct stat st;
	json_t *lines, *l;
	char err[256];
	const char *k;
	json_t *v;
	static const char *const order[] = { "time", "event", "command_id",
		"confirm_id", "who", "where", "alias", "params", "outcome",
		"exit_code", "duration_ms", "detail" };
	size_t i = 0;

	umask(022);
	a = audit_open(t->path, err, sizeof(err));
	assert_non_null(a);
	audit_set_clock(a, fixed_clock, &now);
	assert_int_equal(audit_write(a, &r, err, sizeof(err)), 0);
	audit_close(a);

	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	lines = read_lines(t->path);
	assert_int_equal(json_array_size(lines), 1);
	l = json_array_get(lines, 0);
	assert_string_equal(sget(l, "time"), "2024-05-01T12:51:30.123Z");
	assert_string_equal(sget(l, "event"), "finished");
	assert_string_equal(sget(l, "command_id"), "r42");
	assert_string_equal(sget(l, "confirm_id"), "7KQ2MX");
	assert_string_equal(sget(l, "who.platform"), "slack");
	assert_string_equal(sget(l, "who.user_id"), "U123");
	assert_string_equal(sget(l, "who.user_name"), "alice.s");
	assert_string_equal(sget(l, "who.user"), "alice");
	assert_string_equal(sget(l, "where.channel"), "C9");
	assert_string_equal(sget(l, "where.thread"), "1714567890.000100");
	assert_string_equal(sget(l, "alias"), "restart");
	assert_string_equal(sget(l, "params.host"), "web1");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(l,
	    "params"), "count")), 3);
	assert_string_equal(sget(l, "outcome"), "succeeded");
	assert_int_equal(json_integer_value(json_object_get(l, "exit_code")), 0);
	assert_int_equal(json_integer_value(json_object_get(l, "duration_ms")), 1234);
	assert_string_equal(sget(l, "detail"), "line one\nline two \"quoted\"");
	/* keys in the documented order */
	json_object_foreach(l, k, v) {
		assert_true(i < ACK_ARRAY_LEN(order));
		assert_string_equal(k, order[i]);
		i++;
	}
	assert_int_equal(i, ACK_ARRAY_LEN(order));
	json_decref(lines);
	json_decref(params);
}

static void
test_absent_fields_left_out(void **state)
{
	struct tmp *t = *state;
	struct audit_record r = { .event = AUDIT_EXPIRED, .confirm_id = "ABC123" };
	struct audit *a = audit_open(t->path, NULL, 0);
	json_t *lines, *l;
	const char *ts;

	assert_non_null(a);
	assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	audit_close(a);
	lines = read_lines(t->path);
	l = json_array_get(lines, 0);
	assert_int_equal(json_object_size(l), 3);       /* time, event, confirm_id */
	assert_string_equal(sget(l, "event"), "expired");
	assert_null(json_object_get(l, "who"));
	assert_null(json_object_get(l, "exit_code"));
	/* real clock: YYYY-MM-DDTHH:MM:SS.mmmZ */
	ts = sget(l, "time");
	assert_int_equal(strlen(ts), 24);
	assert_int_equal(ts[4], '-');
	assert_int_equal(ts[10], 'T');
	assert_int_equal(ts[19], '.');
	assert_int_equal(ts[23], 'Z');
	json_decref(lines);
}

static void
test_every_event_appends(void **state)
{
	struct tmp *t = *state;
	static const char *const names[] = { "requested", "confirmation_asked",
		"confirmed", "approved", "canceled", "expired", "denied",
		"refused", "started", "finished" };
	struct audit *a = audit_open(t->path, NULL, 0);
	json_t *lines;
	size_t i;

	for (i = 0; i < 10; i++) {
		struct audit_record r = { .event = (enum audit_event)i,
			.command_id = "c1" };

		assert_string_equal(audit_event_name(r.event), names[i]);
		assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	}
	audit_close(a);
	/* a second open appends, it does not truncate */
	a = audit_open(t->path, NULL, 0);
	{
		struct audit_record r = { .event = AUDIT_REQUESTED };

		assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	}
	audit_close(a);
	lines = read_lines(t->path);
	assert_int_equal(json_array_size(lines), 11);
	for (i = 0; i < 10; i++)
		assert_string_equal(sget(json_array_get(lines, i), "event"), names[i]);
	assert_string_equal(audit_event_name((enum audit_event)77), "unknown");
	json_decref(lines);
	/* no audit log configured: writing is a no-op */
	{
		struct audit_record r = { .event = AUDIT_REQUESTED };

		assert_int_equal(audit_write(NULL, &r, NULL, 0), 0);
	}
}

static void
test_masking(void **state)
{
	struct tmp *t = *state;
	static const char *const secret_params[] = { "password", "api_key" };
	static const char *const secrets[] = {
		"xoxb-SECRET-TOKEN", "hunter2", "", NULL, "s3\"cr\\et", "987654321",
	};
	json_t *params = json_pack("{s:s, s:s, s:s, s:[s, {s:s}], s:i, s:s, s:i}",
	    "password", "hunter2",
	    "api_key", "not-listed-but-named",
	    "url", "https://x/?token=xoxb-SECRET-TOKEN&a=1",
	    "list", "hunter2hunter2", "deep", "pre s3\"cr\\et post",
	    "pin", 987654321,
	    "xoxb-SECRET-TOKEN", "the name itself",
	    "safe", 42);
	struct audit_record r = {
		.event = AUDIT_STARTED,
		.user_name = "eve hunter2",
		.alias = "deploy",
		.params = params,
		.secret_params = secret_params,
		.nsecret_params = 2,
		.secrets = secrets,
		.nsecrets = ACK_ARRAY_LEN(secrets),
		.detail = "curl -H 'Authorization: Bearer xoxb-SECRET-TOKEN' hunter2",
	};
	struct audit *a = audit_open(t->path, NULL, 0);
	char *raw;
	json_t *lines, *l, *p;

	assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	audit_close(a);
	raw = slurp(t->path);
	/* never in the file, in any form */
	assert_null(strstr(raw, "xoxb-SECRET"));
	assert_null(strstr(raw, "hunter2"));
	assert_null(strstr(raw, "s3\\\"cr\\\\et"));
	assert_null(strstr(raw, "987654321"));
	assert_null(strstr(raw, "not-listed-but-named"));
	free(raw);

	lines = read_lines(t->path);
	l = json_array_get(lines, 0);
	p = json_object_get(l, "params");
	assert_string_equal(sget(p, "password"), "***");
	assert_string_equal(sget(p, "api_key"), "***");
	assert_string_equal(sget(p, "url"), "https://x/?token=***&a=1");
	/* two touching occurrences are one mask */
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(p, "list"), 0)), "***");
	assert_string_equal(sget(json_array_get(json_object_get(p, "list"), 1),
	    "deep"), "pre *** post");
	assert_string_equal(sget(p, "pin"), "***");
	assert_string_equal(sget(p, "***"), "the name itself");
	assert_int_equal(json_integer_value(json_object_get(p, "safe")), 42);
	assert_string_equal(sget(l, "who.user_name"), "eve ***");
	assert_string_equal(sget(l, "detail"),
	    "curl -H 'Authorization: Bearer ***' ***");
	json_decref(lines);
	json_decref(params);
}

static void
test_mask_function(void **state)
{
	static const char *const s1[] = { "abc", "bcd" };
	static const char *const s2[] = { "aa" };
	char *m;

	m = audit_mask("xabcdx", s1, 2);        /* overlapping: merged */
	assert_string_equal(m, "x***x");
	free(m);
	m = audit_mask("aaa", s2, 1);
	assert_string_equal(m, "***");
	free(m);
	m = audit_mask("nothing here", s1, 2);
	assert_string_equal(m, "nothing here");
	free(m);
	m = audit_mask("abc", NULL, 0);
	assert_string_equal(m, "abc");
	free(m);
	(void)state;
}

static void
test_invalid_utf8_and_long_fields(void **state)
{
	struct tmp *t = *state;
	char *big = xmalloc(10001);
	struct audit_record r = { .event = AUDIT_REFUSED };
	struct audit *a = audit_open(t->path, NULL, 0);
	json_t *lines, *l;
	const char *d;

	memset(big, 'z', 10000);
	big[10000] = '\0';
	r.user_name = "bad \xFF\xC3 name";
	r.detail = big;
	assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	audit_close(a);
	lines = read_lines(t->path);
	l = json_array_get(lines, 0);
	assert_string_equal(sget(l, "who.user_name"),
	    "bad \xEF\xBF\xBD\xEF\xBF\xBD name");
	d = sget(l, "detail");
	assert_true(strlen(d) <= AUDIT_MAX_FIELD);
	assert_true(strlen(d) > AUDIT_MAX_FIELD - 16);
	assert_string_equal(d + strlen(d) - 3, "\xE2\x80\xA6");
	json_decref(lines);
	free(big);
}

static void
test_reopen_after_rotation(void **state)
{
	struct tmp *t = *state;
	struct audit_record r = { .event = AUDIT_REQUESTED, .command_id = "before" };
	struct audit *a = audit_open(t->path, NULL, 0);
	char rotated[160], err[256];
	json_t *lines;
	struct stat st;

	assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	snprintf(rotated, sizeof(rotated), "%s.1", t->path);
	assert_int_equal(rename(t->path, rotated), 0);
	/* until reopened, lines still go to the rotated file */
	r.command_id = "late";
	assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	assert_int_equal(audit_reopen(a, err, sizeof(err)), 0);
	r.command_id = "after";
	assert_int_equal(audit_write(a, &r, NULL, 0), 0);

	lines = read_lines(rotated);
	assert_int_equal(json_array_size(lines), 2);
	assert_string_equal(sget(json_array_get(lines, 1), "command_id"), "late");
	json_decref(lines);
	lines = read_lines(t->path);
	assert_int_equal(json_array_size(lines), 1);
	assert_string_equal(sget(json_array_get(lines, 0), "command_id"), "after");
	json_decref(lines);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* reopening into a directory that is gone fails, the old file stays */
	unlink(t->path);
	unlink(rotated);
	assert_int_equal(rmdir(t->dir), 0);
	assert_int_equal(audit_reopen(a, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open audit log"));
	assert_int_equal(audit_write(a, &r, NULL, 0), 0);
	audit_close(a);
	assert_int_equal(mkdir(t->dir, 0700), 0);
}

static void
test_open_failure(void **state)
{
	char err[256] = "";

	assert_null(audit_open("/nonexistent-dir/audit.log", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/audit.log"));
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fields_and_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_absent_fields_left_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_event_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_masking, setup, teardown),
		cmocka_unit_test(test_mask_function),
		cmocka_unit_test_setup_teardown(test_invalid_utf8_and_long_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_after_rotation, setup, teardown),
		cmocka_unit_test(test_open_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
