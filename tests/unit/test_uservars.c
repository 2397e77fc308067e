/*
 * test_uservars.c - the per-user variable store (bot/uservars.c): atomic
 * writes with mode 0600, reload, corrupt files refused with a clear message,
 * limits, secrets, and masking of secrets in what the bot posts
 * (router_mask_text) and in templates' user context (identity.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/identity.h"
#include "bot/router.h"
#include "bot/uservars.h"
#include "config/config.h"

struct tmp {
	char dir[64];
	char path[128];
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof t->dir, "/tmp/ackbot-uv-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/vars.json", t->dir);
}

/* Files in the directory (to catch a temp file left behind). */
static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
tmp_clean(struct tmp *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	char p[600];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(t->dir);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	n = fread(b, 1, (1 << 20) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void
test_set_writes_atomically_0600_and_reloads(void **state)
{
	struct tmp t;
	struct uservars *s;
	const struct uservars_item *it;
	char err[512];
	struct stat st;
	char *text;

	(void)state;
	tmp_make(&t);
	s = uservars_open(t.path, NULL, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(count_files(t.dir), 0);        /* nothing written yet */
	assert_int_equal(uservars_set(s, "alice", "region", "eu-west-1", false, err,
	    sizeof err), 0);
	assert_int_equal(uservars_set(s, "alice", "token", "tok-123456", true, err,
	    sizeof err), 0);
	assert_int_equal(uservars_set(s, "bob", "color", "blue", false, err, sizeof err), 0);
	assert_int_equal(stat(t.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_files(t.dir), 1);        /* no temp file left */
	text = read_all(t.path);
	assert_non_null(strstr(text, "\"version\": 1"));
	free(text);
	uservars_free(s);

	s = uservars_open(t.path, NULL, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(uservars_count(s, "alice"), 2);
	assert_int_equal(uservars_count(s, "bob"), 1);
	assert_int_equal(uservars_count(s, "carol"), 0);
	it = uservars_get(s, "alice", "token");
	assert_non_null(it);
	assert_string_equal(it->value, "tok-123456");
	assert_true(it->secret);
	it = uservars_get(s, "alice", "region");
	assert_false(it->secret);

	/* replacing keeps one entry and takes the new secret flag */
	assert_int_equal(uservars_set(s, "alice", "region", "us-east-1", true, err,
	    sizeof err), 0);
	assert_int_equal(uservars_count(s, "alice"), 2);
	assert_true(uservars_get(s, "alice", "region")->secret);

	/* unset: gone from memory and from the file; the last one removes
	 * the user */
	{
		bool found;

		assert_int_equal(uservars_unset(s, "bob", "color", &found, err, sizeof err), 0);
		assert_true(found);
		assert_int_equal(uservars_unset(s, "bob", "color", &found, err, sizeof err), 0);
		assert_false(found);
	}
	uservars_free(s);
	s = uservars_open(t.path, NULL, err, sizeof err);
	assert_int_equal(uservars_count(s, "bob"), 0);
	text = read_all(t.path);
	assert_null(strstr(text, "bob"));
	free(text);
	uservars_free(s);
	tmp_clean(&t);
}

static void
test_failed_write_changes_nothing(void **state)
{
	struct uservars *s;
	char err[512];

	(void)state;
	/* the directory does not exist: every write fails */
	s = uservars_open("/nonexistent-dir-ackbot/vars.json", NULL, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(uservars_set(s, "alice", "x", "value", false, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(uservars_count(s, "alice"), 0);
	uservars_free(s);
}

static void
expect_corrupt(const char *content, const char *needle)
{
	struct tmp t;
	char err[512];

	tmp_make(&t);
	write_file(t.path, content);
	err[0] = '\0';
	assert_null(uservars_open(t.path, NULL, err, sizeof err));
	if (strstr(err, needle) == NULL || strstr(err, t.path) == NULL)
		fail_msg("for %s: expected \"%s\" and the path in: %s", content, needle, err);
	assert_int_equal(uservars_check_file(t.path, err, sizeof err), -1);
	tmp_clean(&t);
}

static void
test_corrupt_files_are_refused(void **state)
{
	(void)state;
	expect_corrupt("", "empty");
	expect_corrupt("{\"version\": 1, \"users\": {", "not valid JSON (line 1");
	expect_corrupt("[1, 2]", "expected a JSON object");
	expect_corrupt("{\"version\": 2}", "\"version\" must be 1");
	expect_corrupt("{\"version\": 1, \"users\": []}", "\"users\" must be an object");
	expect_corrupt("{\"version\": 1, \"users\": {\"al\": {\"x\": \"v\"}}}",
	    "users.al.x must be");
	expect_corrupt("{\"version\": 1, \"users\": {\"al\": {\"1x\": {\"value\": \"v\"}}}}",
	    "bad variable name");
	expect_corrupt("{\"version\": 1, \"users\": {\"a l\": {}}}", "bad user name");
	expect_corrupt("{\"version\": 1, \"users\": {\"al\": {\"x\": {\"value\": \"a\\nb\"}}}}",
	    "control character");
	expect_corrupt("{\"version\": 1, \"users\": {\"al\": {\"x\": {\"value\": \"v\"},"
	    " \"x\": {\"value\": \"w\"}}}}", "not valid JSON");     /* duplicate key */
}

static void
test_limits(void **state)
{
	struct uservars_limits lim = { .max_vars = 2, .max_value = 16, .max_users = 2 };
	struct uservars *s;
	char err[512], big[64];

	(void)state;
	s = uservars_open(NULL, &lim, err, sizeof err);
	assert_non_null(s);
	assert_null(uservars_path(s));
	assert_int_equal(uservars_set(s, "al", "a", "1", false, err, sizeof err), 0);
	assert_int_equal(uservars_set(s, "al", "b", "2", false, err, sizeof err), 0);
	assert_int_equal(uservars_set(s, "al", "c", "3", false, err, sizeof err), -1);
	assert_non_null(strstr(err, "unset one first"));
	assert_int_equal(uservars_set(s, "al", "a", "replaced", false, err, sizeof err), 0);
	memset(big, 'x', 17);
	big[17] = '\0';
	assert_int_equal(uservars_set(s, "al", "a", big, false, err, sizeof err), -1);
	assert_non_null(strstr(err, "at most 16"));
	assert_null(strstr(err, big));                  /* the value is not echoed */
	assert_string_equal(uservars_get(s, "al", "a")->value, "replaced");
	assert_int_equal(uservars_set(s, "al", "a", "", false, err, sizeof err), -1);
	assert_int_equal(uservars_set(s, "al", "a", "x\ty", false, err, sizeof err), -1);
	assert_int_equal(uservars_set(s, "al", "a", "\xff\xfe", false, err, sizeof err), -1);
	assert_int_equal(uservars_set(s, "al", "a", "abc", true, err, sizeof err), -1);
	assert_non_null(strstr(err, "at least 4"));
	assert_int_equal(uservars_set(s, "al", "9a", "v", false, err, sizeof err), -1);
	assert_int_equal(uservars_set(s, "al", "a-b", "v", false, err, sizeof err), -1);
	assert_int_equal(uservars_set(s, "bo", "a", "v", false, err, sizeof err), 0);
	assert_int_equal(uservars_set(s, "cy", "a", "v", false, err, sizeof err), -1);
	assert_non_null(strstr(err, "full"));
	assert_true(uservars_name_ok("_x9"));
	assert_false(uservars_name_ok(""));
	{
		char longname[USERVARS_MAX_NAME + 2];

		memset(longname, 'n', sizeof longname - 1);
		longname[sizeof longname - 1] = '\0';
		assert_false(uservars_name_ok(longname));
		longname[USERVARS_MAX_NAME] = '\0';
		assert_true(uservars_name_ok(longname));
	}
	uservars_free(s);

	/* a file over the limits is refused at load */
	{
		struct tmp t;

		tmp_make(&t);
		write_file(t.path, "{\"version\": 1, \"users\": {\"al\": {\"a\": {\"value\": "
		    "\"1\"}, \"b\": {\"value\": \"2\"}, \"c\": {\"value\": \"3\"}}}}");
		assert_null(uservars_open(t.path, &lim, err, sizeof err));
		assert_non_null(strstr(err, "more than the limit"));
		tmp_clean(&t);
	}
}

static void
collect_secret(const char *v, void *arg)
{
	int *n = arg;

	(void)v;
	(*n)++;
}

/* Secrets: listed for masking, masked in posts, present in templates'
 * user context (so actions get them), config values win over the store. */
static void
test_secrets_and_masking(void **state)
{
	static const char cfgtext[] =
	    "[users.alice]\nconsole = \"alice\"\n[users.alice.vars]\nregion = \"eu\"\n"
	    "[[alias]]\nname = \"ok\"\nformats = [\"ok\"]\nexec = { argv = [\"true\"] }\n";
	struct tmp t;
	struct uservars *s;
	struct cfg *c = NULL;
	struct diag d;
	struct identity id;
	char err[512], *masked;
	json_t *u;
	int n = 0;

	(void)state;
	tmp_make(&t);
	s = uservars_shared_open(t.path, err, sizeof err);
	assert_non_null(s);
	assert_ptr_equal(uservars_shared(), s);
	assert_int_equal(uservars_set(s, "alice", "api_token", "s3cr3t-tok", true, err,
	    sizeof err), 0);
	assert_int_equal(uservars_set(s, "alice", "region", "us", false, err, sizeof err), 0);
	assert_int_equal(uservars_set(s, "alice", "color", "blue", false, err, sizeof err), 0);
	uservars_foreach_secret(s, collect_secret, &n);
	assert_int_equal(n, 1);

	diag_init(&d);
	assert_int_equal(cfg_load_buffer("t.toml", cfgtext, strlen(cfgtext), true, &c, &d), 0);
	masked = router_mask_text(c, "token s3cr3t-tok, again:s3cr3t-toks3cr3t-tok.");
	assert_string_equal(masked, "token ***, again:***.");
	free(masked);

	assert_int_equal(identity_resolve(c, "console", "alice", "alice", &id), 0);
	u = identity_to_json(&id);
	assert_string_equal(json_string_value(json_object_get(u, "api_token")), "s3cr3t-tok");
	assert_string_equal(json_string_value(json_object_get(u, "color")), "blue");
	/* the configuration wins over what the person set */
	assert_string_equal(json_string_value(json_object_get(u, "region")), "eu");
	assert_string_equal(json_string_value(json_object_get(json_object_get(u, "vars"),
	    "region")), "eu");
	json_decref(u);
	identity_free(&id);

	/* guests (unknown speakers) share one name and get no store */
	identity_resolve(c, "console", "mallory", "mallory", &id);
	assert_null(id.vars);
	identity_free(&id);

	cfg_free(c);
	diag_free(&d);
	uservars_shared_close();
	assert_null(uservars_shared());
	tmp_clean(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_writes_atomically_0600_and_reloads),
		cmocka_unit_test(test_failed_write_changes_nothing),
		cmocka_unit_test(test_corrupt_files_are_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_secrets_and_masking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
