/*
 * test_config.c - the config schema: the example loads, and every kind of
 * mistake is reported with file:line:col, the key and what was expected, all
 * at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

#ifndef ACKBOT_SOURCE_DIR
#define ACKBOT_SOURCE_DIR "."
#endif

#define F "t.toml"

/* The minimum an alias needs, to append to tests that are about other keys. */
#define ALIAS_OK "[[alias]]\nname = \"ok\"\nformats = [\"ok\"]\nexec = { argv = [\"true\"] }\n"

static struct cfg *
load(const char *text, struct diag *d)
{
	struct cfg *c = NULL;

	diag_init(d);
	cfg_load_buffer(F, text, strlen(text), true, &c, d);
	return c;
}

static void
dump(const struct diag *d)
{
	diag_print(d, stderr);
}

/* Finds a diagnostic of severity sev at line:col (0 = any) whose message
 * contains every one of the NULL-terminated substrings. */
static const struct diag_item *
find(const struct diag *d, enum diag_severity sev, int line, int col, ...)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];
		va_list ap;
		const char *s;
		bool ok = it->severity == sev && (line == 0 || it->line == line) &&
		    (col == 0 || it->col == col);

		va_start(ap, col);
		while (ok && (s = va_arg(ap, const char *)) != NULL)
			ok = strstr(it->msg, s) != NULL;
		va_end(ap);
		if (ok)
			return it;
	}
	return NULL;
}

#define expect_diag(d, sev, line, col, ...) do { \
	if (find((d), (sev), (line), (col), __VA_ARGS__, (const char *)NULL) == NULL) { \
		dump(d); \
		fail_msg("no diagnostic at %d:%d with: %s", (line), (col), #__VA_ARGS__); \
	} \
} while (0)

static void
test_example_loads(void **state)
{
	struct cfg *c = NULL;
	const struct cfg_alias *a;
	const struct cfg_user *u;
	const struct cfg_group *g;
	struct diag d;

	(void)state;
	unsetenv("SLACK_BOT_TOKEN");
	unsetenv("SLACK_APP_TOKEN");
	diag_init(&d);
	if (cfg_load(ACKBOT_SOURCE_DIR "/config/examples/ackbot.toml", true, &c, &d) != 0)
		dump(&d);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	assert_int_equal(c->bot.adapter, CFG_ADAPTER_CONSOLE);
	assert_string_equal(c->bot.console_user, "alice");
	assert_int_equal(c->bot.max_concurrent, 8);
	assert_false(c->slack.present);
	assert_int_equal(c->naliases, 7);
	assert_int_equal(c->nusers, 3);
	assert_int_equal(c->ngroups, 2);

	u = cfg_find_user(c, "alice");
	assert_non_null(u);
	assert_int_equal(u->slack_ids.n, 1);
	assert_string_equal(u->vars.v[0].key, "region");
	/* membership written on either side ends up on both */
	g = cfg_find_group(c, "sre");
	assert_non_null(g);
	assert_int_equal(g->members.n, 2);
	u = cfg_find_user(c, "carol");
	assert_int_equal(u->groups.n, 1);
	assert_string_equal(u->groups.v[0].s, "sre");
	assert_int_equal(cfg_find_user(c, "bob")->slack_ids.n, 2);

	a = cfg_find_alias(c, "uptime");
	assert_non_null(a);
	assert_false(a->ack.enabled);
	assert_true(a->result.enabled);
	assert_int_equal(a->timeout_ms, 60000);          /* from [bot] */
	assert_int_equal(a->exec.max_output, 65536);
	assert_false(a->confirm.required);
	/* a string format is both shown and matched */
	assert_string_equal(a->formats[0].display.s, "uptime");
	assert_int_equal(a->formats[0].representations.n, 1);

	a = cfg_find_alias(c, "status");
	assert_string_equal(a->formats[0].display.s, "status <service> on <host>");
	assert_string_equal(a->formats[0].representations.v[0].s,
	    "status {{service}} on {{host=localhost}}");
	assert_true(a->formats[0].representations.v[0].pos.line > 0);

	a = cfg_find_alias(c, "restart");
	assert_true(a->confirm.required);
	assert_true(a->confirm.allow_self);
	assert_int_equal(a->confirm.timeout_ms, 120000);
	assert_true(a->access.present);
	assert_string_equal(a->access.groups.v[0].s, "sre");

	a = cfg_find_alias(c, "deploy");
	assert_int_equal(a->handler, CFG_HANDLER_EXEC);
	assert_true(a->confirm.required);
	assert_false(a->confirm.allow_self);
	assert_int_equal(a->confirm.timeout_ms, 600000);
	assert_int_equal(a->exec.argv.n, 8);
	assert_int_equal(a->exec.max_output, 16384);
	assert_string_equal(a->immutable.v[0].key, "requested_by");
	assert_int_equal(a->exec.env.n, 2);

	a = cfg_find_alias(c, "build");
	assert_false(a->enabled);
	assert_int_equal(a->handler, CFG_HANDLER_HTTP);
	assert_string_equal(a->http.method.s, "POST");
	assert_int_equal(a->http.headers.n, 2);

	assert_string_equal(c->vars.v[2].key, "max_deploys_per_day");
	assert_string_equal(c->vars.v[2].value.s, "20");
	cfg_free(c);
	diag_free(&d);
}

static void
test_defaults(void **state)
{
	struct diag d;
	struct cfg *c = load(ALIAS_OK, &d);
	const struct cfg_alias *a;

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->bot.name, "ackbot");
	assert_string_equal(c->bot.prefix, "!");
	assert_int_equal(c->bot.confirm_timeout_ms, 5 * 60000);
	assert_int_equal(c->bot.shutdown_grace_ms, 30000);
	assert_int_equal(c->bot.default_timeout_ms, 60000);
	assert_int_equal(c->bot.max_concurrent, 16);
	assert_int_equal(c->bot.max_output, 65536);
	assert_int_equal(c->bot.default_policy, CFG_POLICY_ALLOW);
	assert_int_equal(c->bot.unknown_users, CFG_UNKNOWN_GUEST);
	assert_string_equal(c->bot.guest_name, "guest");
	assert_null(c->bot.audit_log);
	assert_string_equal(c->slack.api_url, "https://slack.com/api/");
	assert_int_equal(c->slack.max_message_chars, 4000);
	assert_int_equal(c->mattermost.max_message_chars, 16383);
	a = &c->aliases[0];
	assert_string_equal(a->category, "general");
	assert_true(a->enabled);
	assert_true(a->ack.enabled);
	assert_null(a->ack.text.s);
	assert_int_equal(a->confirm.approvals, 1);
	cfg_free(c);
	diag_free(&d);

	/* no alias at all: loads, with a warning */
	c = load("[bot]\nname = \"x\"\n", &d);
	assert_non_null(c);
	expect_diag(&d, DIAG_WARNING, 0, 0, "no [[alias]]");
	cfg_free(c);
	diag_free(&d);
}

/* The message of the brief, word for word, at the value's position. */
static void
test_error_names_file_line_col_key(void **state)
{
	const char *text =
	    "[[alias]]\n"
	    "name = \"deploy\"\n"
	    "formats = [\"deploy {{app}}\"]\n"
	    "timeout = \"5 minutes\"\n"
	    "[alias.exec]\n"
	    "argv = [\"true\"]\n";
	struct diag d;
	struct cfg *c = load(text, &d);
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;

	(void)state;
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].file, F);
	assert_int_equal(d.items[0].line, 4);
	assert_int_equal(d.items[0].col, 11);
	assert_string_equal(d.items[0].msg, "alias \"deploy\": key \"timeout\": "
	    "expected a duration such as \"30s\", \"5m\", \"1h30m\" or \"250ms\", "
	    "got \"5 minutes\"");
	f = open_memstream(&out, &outlen);
	diag_print(&d, f);
	fclose(f);
	assert_non_null(strstr(out, "t.toml:4:11: error: alias \"deploy\": key \"timeout\""));
	free(out);
	diag_free(&d);

	/* nested keys carry the full path */
	c = load("[[alias]]\nname = \"r\"\nformats = [\"r\"]\nexec.argv = [\"x\"]\n"
	    "confirm = { timeout = 5 }\n", &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 5, 23, "alias \"r\": key \"confirm.timeout\"",
	    "needs a unit", "got an integer (5)");
	diag_free(&d);

	/* top-level tables: the key path starts at the table */
	c = load("[bot]\nmax_concurrent = \"16\"\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 2, 18, "key \"bot.max_concurrent\"",
	    "expected an integer from 1 to 10000", "got \"16\"");
	diag_free(&d);
}

static void
test_did_you_mean(void **state)
{
	const char *text =
	    "[bott]\n"
	    "x = 1\n"
	    "[slack]\n"
	    "bot_tokn = { env = \"X\" }\n"
	    "[[alias]]\n"
	    "name = \"deploy\"\n"
	    "descripton = \"Deploy\"\n"
	    "formats = [\"deploy\"]\n"
	    "[alias.exec]\n"
	    "argv = [\"true\"]\n"
	    "run_as_usr = true\n"
	    "[alias.confirm]\n"
	    "aprovers = []\n"
	    "[messages]\n"
	    "confirm_promt = \"x\"\n";
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 1, 2, "unknown table [bott] (did you mean [bot]?)");
	expect_diag(&d, DIAG_ERROR, 4, 1, "unknown key \"bot_tokn\" in [slack]",
	    "(did you mean \"bot_token\"?)");
	expect_diag(&d, DIAG_ERROR, 7, 1, "unknown key \"descripton\" in "
	    "[[alias]] \"deploy\" (did you mean \"description\"?)");
	expect_diag(&d, DIAG_ERROR, 11, 1, "unknown key \"run_as_usr\" in "
	    "[alias.exec] of alias \"deploy\" (did you mean \"run_as_user\"?)");
	expect_diag(&d, DIAG_ERROR, 13, 1, "unknown key \"aprovers\"",
	    "(did you mean \"approvers\"?)");
	expect_diag(&d, DIAG_ERROR, 15, 1, "unknown key \"confirm_promt\" in "
	    "[messages] (did you mean \"confirm_prompt\"?)");
	diag_free(&d);

	/* values too */
	c = load("[bot]\nlog_level = \"debgu\"\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 2, 13, "key \"bot.log_level\"",
	    "expected one of \"debug\", \"info\", \"warn\" or \"error\"",
	    "(did you mean \"debug\"?)");
	diag_free(&d);

	/* a longer spelling of a short key */
	c = load("[[alias]]\nname = \"e\"\nformats = [\"e\"]\n[alias.exec]\n"
	    "argv = [\"x\"]\nenvironment = { A = \"b\" }\n", &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 6, 1, "unknown key \"environment\"",
	    "(did you mean \"env\"?)");
	diag_free(&d);

	/* nothing close: no suggestion */
	c = load("[bot]\nzzzzzz = 1\n" ALIAS_OK, &d);
	assert_null(c);
	assert_null(strstr(d.items[0].msg, "did you mean"));
	diag_free(&d);

	/* a [bot] key above the [bot] header */
	c = load("prefix = \"!\"\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 1, 1, "\"prefix\"", "belongs in [bot]");
	diag_free(&d);

	/* [alias] instead of [[alias]] */
	c = load("[alias]\nname = \"x\"\n", &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 0, 0, "write [[alias]] with two brackets");
	diag_free(&d);
}

static void
test_all_errors_at_once(void **state)
{
	const char *text =
	    "[bot]\n"
	    "adapter = \"console\"\n"
	    "max_concurrent = 0\n"             /* 1: out of range */
	    "confirm_timeout = \"soon\"\n"     /* 2: not a duration */
	    "[[alias]]\n"
	    "name = \"a\"\n"
	    "formats = [\"a\"]\n"
	    "enabled = \"yes\"\n"              /* 3: not a boolean */
	    "[alias.exec]\n"
	    "argv = [\"true\"]\n";
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	if (d.nerrors != 3)
		dump(&d);
	assert_int_equal(d.nerrors, 3);
	expect_diag(&d, DIAG_ERROR, 3, 18, "key \"bot.max_concurrent\"",
	    "expected an integer from 1 to 10000, got 0");
	expect_diag(&d, DIAG_ERROR, 4, 19, "key \"bot.confirm_timeout\"",
	    "got \"soon\"");
	expect_diag(&d, DIAG_ERROR, 8, 11, "alias \"a\": key \"enabled\"",
	    "expected true or false, got \"yes\"");
	diag_free(&d);
}

/* A misspelt required key is one mistake: one error, not "unknown" plus
 * "missing". */
static void
test_misspelt_required_key(void **state)
{
	const char *text =
	    "[[alias]]\n"
	    "nmae = \"a\"\n"
	    "format = [\"a\"]\n"
	    "[alias.exce]\n"
	    "argv = [\"true\"]\n"
	    "[[alias]]\n"
	    "name = \"b\"\n"
	    "formats = [\"b\"]\n"
	    "[alias.http]\n"
	    "uri = \"https://x\"\n"
	    "[mattermost]\n"
	    "ulr = \"https://chat\"\n"
	    "tokn = { env = \"X\" }\n";
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	if (d.nerrors != 6)
		dump(&d);
	assert_int_equal(d.nerrors, 6);   /* six misspellings */
	expect_diag(&d, DIAG_ERROR, 2, 1, "\"nmae\"", "did you mean \"name\"");
	expect_diag(&d, DIAG_ERROR, 3, 1, "\"format\"", "did you mean \"formats\"");
	expect_diag(&d, DIAG_ERROR, 4, 8, "\"exce\"", "did you mean \"exec\"");
	expect_diag(&d, DIAG_ERROR, 10, 1, "\"uri\"", "did you mean \"url\"");
	expect_diag(&d, DIAG_ERROR, 12, 1, "\"ulr\"", "did you mean \"url\"");
	expect_diag(&d, DIAG_ERROR, 13, 1, "\"tokn\"", "did you mean \"token\"");
	diag_free(&d);
}

static void
test_durations(void **state)
{
	struct diag d;
	struct cfg *c;

	(void)state;
	c = load("[bot]\nconfirm_timeout = \"1h30m\"\nshutdown_grace = \"0s\"\n"
	    "default_timeout = \"250ms\"\n" ALIAS_OK "timeout = \"2d\"\n", &d);
	if (c == NULL)
		dump(&d);
	assert_non_null(c);
	assert_int_equal(c->bot.confirm_timeout_ms, 90 * 60000);
	assert_int_equal(c->bot.shutdown_grace_ms, 0);
	assert_int_equal(c->bot.default_timeout_ms, 250);
	assert_int_equal(c->aliases[0].timeout_ms, 2 * 86400000ULL);
	/* [bot] defaults flow into aliases */
	assert_int_equal(c->aliases[0].confirm.timeout_ms, 90 * 60000);
	cfg_free(c);
	diag_free(&d);

	c = load("[bot]\ndefault_timeout = \"0s\"\nconfirm_timeout = 300\n"
	    "shutdown_grace = \"99999999999999999999h\"\n" ALIAS_OK, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 3);
	expect_diag(&d, DIAG_ERROR, 2, 19, "default_timeout", "more than 0");
	expect_diag(&d, DIAG_ERROR, 3, 19, "confirm_timeout", "got an integer (300)");
	expect_diag(&d, DIAG_ERROR, 4, 18, "shutdown_grace", "too large");
	diag_free(&d);
}

#define SLACK_CFG \
    "[bot]\nadapter = \"slack\"\n" \
    "[slack]\n" \
    "bot_token = { env = \"ACK_TEST_BOT\" }\n" \
    "app_token = { file = \"%s\" }\n" ALIAS_OK

static char *
write_secret(const char *content, mode_t mode)
{
	char *path = strdup("/tmp/ackbot-test-secret-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
test_secrets(void **state)
{
	char text[1024];
	struct diag d;
	struct cfg *c;
	char *path;
	size_t i;

	(void)state;
	path = write_secret("xapp-1-SECRETVALUE\n", 0600);
	setenv("ACK_TEST_BOT", "xoxb-ENVSECRET", 1);
	snprintf(text, sizeof text, SLACK_CFG, path);
	c = load(text, &d);
	if (c == NULL)
		dump(&d);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	assert_string_equal(c->slack.bot_token.env, "ACK_TEST_BOT");
	assert_string_equal(c->slack.bot_token.value, "xoxb-ENVSECRET");
	assert_string_equal(c->slack.app_token.value, "xapp-1-SECRETVALUE");
	cfg_free(c);
	diag_free(&d);

	/* group-readable file: a warning that does not show the value */
	chmod(path, 0640);
	c = load(text, &d);
	assert_non_null(c);
	expect_diag(&d, DIAG_WARNING, 5, 22, "slack.app_token", "readable by its group",
	    "chmod 600");
	for (i = 0; i < d.n; i++)
		assert_null(strstr(d.items[i].msg, "SECRETVALUE"));
	cfg_free(c);
	diag_free(&d);

	/* unset variable, missing file: errors for the adapter in use */
	unsetenv("ACK_TEST_BOT");
	unlink(path);
	c = load(text, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 2);
	expect_diag(&d, DIAG_ERROR, 4, 21, "key \"slack.bot_token\"",
	    "environment variable ACK_TEST_BOT is not set");
	expect_diag(&d, DIAG_ERROR, 5, 22, "key \"slack.app_token\"", "cannot read",
	    "No such file");
	diag_free(&d);

	/* the same for a table whose adapter is not in use: warnings only */
	c = load(text + strlen("[bot]\nadapter = \"slack\"\n"), &d);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 2);
	expect_diag(&d, DIAG_WARNING, 0, 0, "ACK_TEST_BOT is not set", "not in use");
	cfg_free(c);
	diag_free(&d);

	/* resolve_secrets = false reads nothing */
	diag_init(&d);
	assert_int_equal(cfg_load_buffer(F, text, strlen(text), false, &c, &d), 0);
	assert_null(c->slack.bot_token.value);
	assert_int_equal(d.n, 0);
	cfg_free(c);
	diag_free(&d);

	/* a secret written in the file: an error that does not echo it */
	c = load("[bot]\nadapter = \"slack\"\n[slack]\nbot_token = \"xoxb-LEAKED\"\n"
	    "app_token = { env = \"A\", file = \"/x\" }\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 4, 13, "key \"slack.bot_token\"",
	    "secrets are not written in the file: use { env = \"NAME\" } or "
	    "{ file = \"PATH\" }");
	expect_diag(&d, DIAG_ERROR, 5, 13, "either env or file, not both");
	for (i = 0; i < d.n; i++)
		assert_null(strstr(d.items[i].msg, "LEAKED"));
	diag_free(&d);

	/* missing token keys in the adapter in use */
	c = load("[bot]\nadapter = \"slack\"\n[slack]\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 3, 1, "missing required key \"bot_token\" in [slack]");
	expect_diag(&d, DIAG_ERROR, 3, 1, "missing required key \"app_token\" in [slack]");
	diag_free(&d);
	free(path);
}

static void
test_adapters(void **state)
{
	struct diag d;
	struct cfg *c;

	(void)state;
	c = load("[bot]\nadapter = \"irc\"\n" ALIAS_OK, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	expect_diag(&d, DIAG_ERROR, 2, 11, "key \"bot.adapter\"",
	    "expected one of \"console\", \"slack\" or \"mattermost\", got \"irc\"");
	diag_free(&d);

	c = load("[bot]\nadapter = \"mattermost\"\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 2, 11, "\"mattermost\" is selected but there "
	    "is no [mattermost] table");
	diag_free(&d);

	setenv("ACK_TEST_MM", "tok", 1);
	c = load("[bot]\nadapter = \"mattermost\"\n[mattermost]\n"
	    "url = \"https://chat.example.com/\"\ntoken = { env = \"ACK_TEST_MM\" }\n"
	    ALIAS_OK, &d);
	if (c == NULL)
		dump(&d);
	assert_non_null(c);
	assert_string_equal(c->mattermost.url, "https://chat.example.com");
	assert_string_equal(c->mattermost.token.value, "tok");
	cfg_free(c);
	diag_free(&d);

	c = load("[bot]\nadapter = \"mattermost\"\n[mattermost]\n"
	    "url = \"chat.example.com\"\ntoken = { env = \"ACK_TEST_MM\" }\n"
	    "[slack]\nbot_token = { env = \"ACK_UNSET_X\" }\n"
	    "app_token = { env = \"ACK_UNSET_Y\" }\n" ALIAS_OK, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	expect_diag(&d, DIAG_ERROR, 4, 7, "key \"mattermost.url\"",
	    "starting with http:// or https://");
	diag_free(&d);

	c = load("[mattermost]\ntoken = { env = \"ACK_TEST_MM\" }\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 1, 1, "missing required key \"url\" in [mattermost]");
	diag_free(&d);
	unsetenv("ACK_TEST_MM");
}

static void
test_duplicate_alias_names(void **state)
{
	const char *text =
	    ALIAS_OK
	    "[[alias]]\nname = \"deploy\"\nformats = [\"deploy\"]\nexec.argv = [\"a\"]\n"
	    "[[alias]]\nname = \"deploy\"\nformats = [\"ship\"]\nexec.argv = [\"b\"]\n"
	    "[[alias]]\nname = \"bad name\"\nformats = [\"x\"]\nexec.argv = [\"c\"]\n";
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	assert_int_equal(d.nerrors, 2);
	expect_diag(&d, DIAG_ERROR, 10, 8, "alias \"deploy\": key \"name\"",
	    "already used by the alias at line 5");
	expect_diag(&d, DIAG_ERROR, 14, 8, "alias #4: key \"name\"",
	    "letters, digits");
	diag_free(&d);
}

static void
test_unknown_users_and_groups(void **state)
{
	const char *text =
	    "[users.alice]\nconsole = \"alice\"\ngroups = [\"sre\"]\n"
	    "[users.bob]\nconsole = \"bob\"\n"
	    "[groups.ops]\nmembers = [\"alice\", \"carol\"]\n"          /* 7 */
	    "[[alias]]\nname = \"r\"\nformats = [\"r\"]\nexec.argv = [\"x\"]\n"
	    "confirm = { approvers = [\"alcie\"], approver_groups = [\"sre\", \"opps\"] }\n" /* 12 */
	    "[alias.access]\n"
	    "users = [\"bob\", \"dave\"]\n"                              /* 14 */
	    "deny_groups = [\"sre\", \"devs\"]\n";                       /* 15 */
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	if (d.nerrors != 5)
		dump(&d);
	assert_int_equal(d.nerrors, 5);
	expect_diag(&d, DIAG_ERROR, 7, 21, "key \"groups.ops.members\": unknown "
	    "user \"carol\"");
	expect_diag(&d, DIAG_ERROR, 12, 26, "alias \"r\": key \"confirm.approvers\": "
	    "unknown user \"alcie\" (did you mean \"alice\"?)");
	expect_diag(&d, DIAG_ERROR, 12, 62, "key \"confirm.approver_groups\": unknown "
	    "group \"opps\" (did you mean \"ops\"?)");
	expect_diag(&d, DIAG_ERROR, 14, 17, "key \"access.users\": unknown user \"dave\"");
	expect_diag(&d, DIAG_ERROR, 15, 23, "key \"access.deny_groups\": unknown group \"devs\"");
	diag_free(&d);
}

static void
test_required_keys_point_at_header(void **state)
{
	const char *text =
	    "[[alias]]\n"
	    "name = \"a\"\n"
	    "[alias.exec]\n"
	    "cwd = \"/\"\n"
	    "[[alias]]\n"
	    "name = \"b\"\n"
	    "formats = []\n"
	    "[[alias]]\n"
	    "name = \"c\"\n"
	    "formats = [\"c\"]\n"
	    "exec.argv = [\"x\"]\n"
	    "http.url = \"https://x\"\n";
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 1, 1, "missing required key \"formats\" in "
	    "[[alias]] \"a\"");
	expect_diag(&d, DIAG_ERROR, 3, 1, "missing required key \"argv\" in "
	    "[alias.exec] of alias \"a\"", "array of strings");
	expect_diag(&d, DIAG_ERROR, 7, 11, "alias \"b\": key \"formats\"",
	    "at least one format");
	expect_diag(&d, DIAG_ERROR, 5, 1, "missing handler in [[alias]] \"b\"");
	expect_diag(&d, DIAG_ERROR, 12, 1, "alias \"c\": has both [alias.exec] "
	    "and [alias.http]");
	assert_int_equal(d.nerrors, 5);
	diag_free(&d);
}

static void
test_formats_and_templates(void **state)
{
	const char *text =
	    "[[alias]]\nname = \"f\"\n"
	    "formats = [\n"
	    "  \"plain {{x}}\",\n"                                        /* 4 */
	    "  { display = \"help only\" },\n"                            /* 5 */
	    "  { representation = [\"r1 {{a}}\", \"r2\"], match_multiple = true },\n"
	    "  { match_multiple = true },\n"                              /* 7 */
	    "  42,\n"                                                     /* 8 */
	    "  \"\",\n"                                                   /* 9 */
	    "]\n"
	    "ack = \"Running {{ x }}\"\n"
	    "result = false\n"
	    "exec.argv = [\"echo\", \"{{ x }}\"]\n";
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	assert_int_equal(d.nerrors, 3);
	expect_diag(&d, DIAG_ERROR, 7, 3, "key \"formats[3]\"", "needs \"display\"");
	expect_diag(&d, DIAG_ERROR, 8, 3, "key \"formats[4]\"",
	    "expected a format string or a table", "got an integer (42)");
	expect_diag(&d, DIAG_ERROR, 9, 3, "key \"formats[5]\"", "non-empty");
	diag_free(&d);

	/* the valid part, with positions kept for the alias engine */
	text =
	    "[[alias]]\nname = \"f\"\n"
	    "formats = [\n"
	    "  \"plain {{x}}\",\n"
	    "  { display = \"help only\" },\n"
	    "  { representation = [\"r1 {{a}}\", \"r2\"], match_multiple = true },\n"
	    "]\n"
	    "ack = \"Running {{ x }}\"\n"
	    "result = false\n"
	    "exec.argv = [\"echo\", \"{{ x }}\"]\n";
	c = load(text, &d);
	assert_non_null(c);
	assert_int_equal(c->aliases[0].nformats, 3);
	assert_int_equal(c->aliases[0].formats[0].pos.line, 4);
	assert_int_equal(c->aliases[0].formats[0].pos.col, 3);
	assert_int_equal(c->aliases[0].formats[1].representations.n, 0);
	assert_null(c->aliases[0].formats[2].display.s);
	assert_true(c->aliases[0].formats[2].match_multiple);
	assert_int_equal(c->aliases[0].formats[2].representations.v[1].pos.line, 6);
	assert_int_equal(c->aliases[0].formats[2].representations.v[1].pos.col, 35);
	assert_string_equal(c->aliases[0].ack.text.s, "Running {{ x }}");
	assert_int_equal(c->aliases[0].ack.text.pos.line, 8);
	assert_int_equal(c->aliases[0].ack.text.pos.col, 7);
	assert_false(c->aliases[0].result.enabled);
	assert_int_equal(c->aliases[0].exec.argv.v[1].pos.col, 22);
	cfg_free(c);
	diag_free(&d);
}

static void
test_users_and_chat_ids(void **state)
{
	const char *text =
	    "[users.alice]\nslack = \"U1\"\nmattermost = [\"m1\", \"m2\"]\n"
	    "[users.alice.vars]\nregion = \"eu\"\nshards = 4\ncanary = true\nratio = 0.5\n"
	    "[users.bob]\nslack = [\"U2\", \"U1\"]\n"                   /* 10 */
	    "[users.carol]\nconsole = \"carol\"\ngroups = \"sre\"\n"    /* 13 */
	    ALIAS_OK;
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	assert_int_equal(d.nerrors, 2);
	expect_diag(&d, DIAG_ERROR, 10, 16, "key \"users.bob.slack\": slack id \"U1\" "
	    "is already given to user \"alice\" (line 2)");
	expect_diag(&d, DIAG_ERROR, 13, 10, "key \"users.carol.groups\"",
	    "expected an array of strings, got \"sre\"");
	diag_free(&d);

	c = load("[users.alice]\nslack = \"U1\"\n[users.alice.vars]\nregion = \"eu\"\n"
	    "shards = 4\ncanary = true\nratio = 0.5\nbig = 1e300\n"
	    "[vars]\nx = -7\n" ALIAS_OK, &d);
	if (c == NULL)
		dump(&d);
	assert_non_null(c);
	assert_string_equal(c->users[0].vars.v[1].value.s, "4");
	assert_string_equal(c->users[0].vars.v[2].value.s, "true");
	assert_string_equal(c->users[0].vars.v[3].value.s, "0.5");
	assert_string_equal(c->users[0].vars.v[4].value.s, "1e+300");
	assert_string_equal(c->vars.v[0].value.s, "-7");
	cfg_free(c);
	diag_free(&d);
}

static void
test_confirm_rules(void **state)
{
	const char *text =
	    "[users.a]\nconsole = \"a\"\n[users.b]\nconsole = \"b\"\n"
	    "[[alias]]\nname = \"x\"\nformats = [\"x\"]\nexec.argv = [\"x\"]\n"
	    "confirm = { approvers = [\"a\", \"b\"], approvals = 3 }\n"    /* 9: 2 people */
	    "[[alias]]\nname = \"y\"\nformats = [\"y\"]\nexec.argv = [\"y\"]\n"
	    "confirm = { allow_self = false }\n"                          /* 14 */
	    "[[alias]]\nname = \"z\"\nformats = [\"z\"]\nexec.argv = [\"z\"]\n"
	    "confirm = { approvers = [\"a\", \"b\"], allow_self = true, approvals = 3 }\n"
	    "[[alias]]\nname = \"w\"\nformats = [\"w\"]\nexec.argv = [\"w\"]\n"
	    "confirm = { approvals = 0 }\n";                              /* 24 */
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	if (d.nerrors != 3)
		dump(&d);
	assert_int_equal(d.nerrors, 3);
	expect_diag(&d, DIAG_ERROR, 9, 49, "alias \"x\": key \"confirm.approvals\": "
	    "3 approvals are needed but only 2 people can approve");
	expect_diag(&d, DIAG_ERROR, 14, 11, "alias \"y\"", "nobody can confirm");
	expect_diag(&d, DIAG_ERROR, 24, 25, "key \"confirm.approvals\"",
	    "expected an integer from 1 to 100, got 0");
	diag_free(&d);

	c = load("[[alias]]\nname = \"x\"\nformats = [\"x\"]\nexec.argv = [\"x\"]\n"
	    "confirm = { required = false, timeout = \"1m\" }\n", &d);
	assert_non_null(c);
	assert_false(c->aliases[0].confirm.required);
	cfg_free(c);
	diag_free(&d);
}

static void
test_handlers(void **state)
{
	const char *text =
	    "[[alias]]\nname = \"h\"\nformats = [\"h\"]\n"
	    "[alias.http]\n"
	    "method = \"FETCH\"\n"                                  /* 5 */
	    "url = \"ftp://x\"\n"                                   /* 6 */
	    "headers = { \"Bad Name\" = \"v\", X-Ok = \"a\\r\\nb\" }\n"  /* 7 */
	    "max_output = -1\n"                                     /* 8 */
	    "[[alias]]\nname = \"e\"\nformats = [\"e\"]\n"
	    "[alias.exec]\n"
	    "argv = [\"\", 5]\n"                                    /* 13 */
	    "env = { \"1X\" = \"v\", OK = 3 }\n"                    /* 14 */
	    "[[alias]]\nname = \"i\"\nformats = [\"i\"]\nexec.argv = [\"i\"]\n"
	    "immutable_parameters = { a = \"{{ user.name }}\", n = 3, l = [1], t = {} }\n"; /* 19 */
	struct diag d;
	struct cfg *c = load(text, &d);

	(void)state;
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 5, 10, "alias \"h\": key \"http.method\"",
	    "got \"FETCH\"");
	expect_diag(&d, DIAG_ERROR, 6, 7, "key \"http.url\"", "http:// or https://");
	expect_diag(&d, DIAG_ERROR, 7, 13, "key \"http.headers.'Bad Name'\"",
	    "header name");
	expect_diag(&d, DIAG_ERROR, 7, 38, "key \"http.headers.X-Ok\"", "line break");
	expect_diag(&d, DIAG_ERROR, 8, 14, "key \"http.max_output\"");
	expect_diag(&d, DIAG_ERROR, 13, 13, "key \"exec.argv[1]\"",
	    "expected a string, got an integer (5)");
	expect_diag(&d, DIAG_ERROR, 14, 9, "key \"exec.env.1X\"",
	    "environment variable name");
	expect_diag(&d, DIAG_ERROR, 19, 60, "key \"immutable_parameters.l\"",
	    "got an array");
	expect_diag(&d, DIAG_ERROR, 19, 69, "key \"immutable_parameters.t\"",
	    "got a table");
	diag_free(&d);

	c = load("[[alias]]\nname = \"h\"\nformats = [\"h\"]\n"
	    "http = { url = \"https://x/{{ a }}\", method = \"post\" }\n"
	    "immutable_parameters = { a = 1.5, b = false }\n", &d);
	if (c == NULL)
		dump(&d);
	assert_non_null(c);
	assert_string_equal(c->aliases[0].http.method.s, "POST");
	assert_int_equal(c->aliases[0].http.max_output, 65536);
	assert_string_equal(c->aliases[0].immutable.v[0].value.s, "1.5");
	assert_string_equal(c->aliases[0].immutable.v[1].value.s, "false");
	cfg_free(c);
	diag_free(&d);
}

static void
test_toml_syntax_error(void **state)
{
	struct diag d;
	struct cfg *c = load("[bot]\nname = \"x\"\nprefix = = \"!\"\nbad\n", &d);

	(void)state;
	assert_null(c);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].line, 3);
	assert_true(d.items[0].col >= 9);
	assert_non_null(strstr(d.items[0].msg, "invalid TOML"));
	diag_free(&d);
}

static void
test_messages_and_vars(void **state)
{
	struct diag d;
	struct cfg *c;

	(void)state;
	c = load("[messages]\nconfirm_prompt = \"Sure, {{ user.name }}?\"\n"
	    "[vars]\nregion = \"eu\"\n" ALIAS_OK, &d);
	assert_non_null(c);
	assert_string_equal(cfg_message(c, "confirm_prompt"), "Sure, {{ user.name }}?");
	assert_null(cfg_message(c, "ack"));
	cfg_free(c);
	diag_free(&d);

	c = load("[messages]\nno_such = \"x\"\nack = 3\nresult = \"\"\n"
	    "[vars]\n\"bad-name\" = \"x\"\nlist = [1]\n" ALIAS_OK, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 5);
	expect_diag(&d, DIAG_ERROR, 2, 1, "unknown key \"no_such\" in [messages]");
	expect_diag(&d, DIAG_ERROR, 3, 7, "key \"messages.ack\"", "got an integer (3)");
	expect_diag(&d, DIAG_ERROR, 4, 10, "key \"messages.result\"", "non-empty");
	expect_diag(&d, DIAG_ERROR, 6, 1, "key \"vars.bad-name\"", "variable name");
	expect_diag(&d, DIAG_ERROR, 7, 8, "key \"vars.list\"", "got an array");
	diag_free(&d);
}

/* [vars] and [users.NAME.vars] may hold secrets: resolved at load, marked
 * secret, "" without resolution, and a missing one is an error. */
static void
test_secret_vars(void **state)
{
	char path[] = "/tmp/ackbot-secretvar-XXXXXX";
	struct diag d;
	struct cfg *c = NULL;
	char *text;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "file-secret-42\n", 15), 15);
	close(fd);
	chmod(path, 0600);
	setenv("ACKBOT_TEST_VAR_SECRET", "env-secret-99", 1);
	text = NULL;
	assert_true(asprintf(&text, "[vars]\nplain = \"x\"\napi = { env = "
	    "\"ACKBOT_TEST_VAR_SECRET\" }\n[users.al]\nconsole = \"al\"\n"
	    "[users.al.vars]\ntok = { file = \"%s\" }\n" ALIAS_OK, path) > 0);
	c = load(text, &d);
	if (c == NULL)
		dump(&d);
	assert_non_null(c);
	assert_int_equal(c->vars.n, 2);
	assert_false(c->vars.v[0].secret);
	assert_true(c->vars.v[1].secret);
	assert_string_equal(c->vars.v[1].value.s, "env-secret-99");
	assert_true(c->users[0].vars.v[0].secret);
	assert_string_equal(c->users[0].vars.v[0].value.s, "file-secret-42");
	cfg_free(c);
	diag_free(&d);

	/* not resolved (check-config --no-secrets): "" and still secret */
	diag_init(&d);
	assert_int_equal(cfg_load_buffer(F, text, strlen(text), false, &c, &d), 0);
	assert_true(c->vars.v[1].secret);
	assert_string_equal(c->vars.v[1].value.s, "");
	cfg_free(c);
	diag_free(&d);
	free(text);

	/* missing: an error that never shows a value; a plain table is wrong */
	unsetenv("ACKBOT_TEST_VAR_SECRET");
	c = load("[vars]\napi = { env = \"ACKBOT_TEST_VAR_SECRET\" }\n"
	    "bad = { nope = 1 }\n" ALIAS_OK, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 2, 15, "vars.api", "not set");
	expect_diag(&d, DIAG_ERROR, 0, 0, "unknown key \"nope\"");
	diag_free(&d);
	unlink(path);
}

/* A state file that exists must load: a corrupt one stops the load. */
static void
test_state_file(void **state)
{
	char dir[] = "/tmp/ackbot-state-XXXXXX";
	char path[256], *text = NULL;
	struct diag d;
	struct cfg *c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/vars.json", dir);
	assert_true(asprintf(&text, "[bot]\nstate_file = \"%s\"\n" ALIAS_OK, path) > 0);
	c = load(text, &d);             /* missing: fine */
	assert_non_null(c);
	cfg_free(c);
	diag_free(&d);
	f = fopen(path, "w");
	fputs("{\"version\": 1, \"users\": {\"al\": {\"x\": ", f);
	fclose(f);
	c = load(text, &d);
	assert_null(c);
	expect_diag(&d, DIAG_ERROR, 2, 14, "bot.state_file", path, "not valid JSON");
	diag_free(&d);
	free(text);
	unlink(path);
	rmdir(dir);
}

static void
test_file_errors(void **state)
{
	struct diag d;
	struct cfg *c = NULL;

	(void)state;
	diag_init(&d);
	assert_int_equal(cfg_load("/nonexistent/ackbot.toml", true, &c, &d), -1);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.items[0].file, "/nonexistent/ackbot.toml");
	assert_non_null(strstr(d.items[0].msg, "No such file"));
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_error_names_file_line_col_key),
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_all_errors_at_once),
		cmocka_unit_test(test_misspelt_required_key),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_adapters),
		cmocka_unit_test(test_duplicate_alias_names),
		cmocka_unit_test(test_unknown_users_and_groups),
		cmocka_unit_test(test_required_keys_point_at_header),
		cmocka_unit_test(test_formats_and_templates),
		cmocka_unit_test(test_users_and_chat_ids),
		cmocka_unit_test(test_confirm_rules),
		cmocka_unit_test(test_handlers),
		cmocka_unit_test(test_toml_syntax_error),
		cmocka_unit_test(test_messages_and_vars),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_secret_vars),
		cmocka_unit_test(test_state_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
