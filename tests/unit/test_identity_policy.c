/*
 * test_identity_policy.c - who is speaking (identity.c), may they run an
 * alias here (policy.c), and the bot's message templates (messages.c), on
 * configs loaded from memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bot/identity.h"
#include "bot/messages.h"
#include "bot/policy.h"
#include "bot/runner.h"
#include "config/config.h"

static const char base_cfg[] =
    "[bot]\n"
    "prefix = \"!\"\n"
    "guest_name = \"visitor\"\n"
    "[users.alice]\n"
    "console = \"alice\"\n"
    "slack = [\"U1\", \"W1\"]\n"
    "groups = [\"sre\"]\n"
    "[users.alice.vars]\n"
    "region = \"eu\"\n"
    "[users.bob]\n"
    "console = \"bob\"\n"
    "slack = \"U2\"\n"
    "[groups.sre]\n"
    "members = [\"carol\"]\n"
    "[groups.dev]\n"
    "members = [\"bob\", \"alice\"]\n"
    "[users.carol]\n"
    "console = \"carol\"\n"
    "[[alias]]\n"
    "name = \"open\"\n"
    "formats = [\"open\"]\n"
    "exec = { argv = [\"/bin/true\"] }\n"
    "[[alias]]\n"
    "name = \"sre\"\n"
    "formats = [\"sre\"]\n"
    "exec = { argv = [\"/bin/true\"] }\n"
    "access = { groups = [\"sre\"], deny_users = [\"carol\"] }\n"
    "[[alias]]\n"
    "name = \"ops\"\n"
    "formats = [\"ops\"]\n"
    "exec = { argv = [\"/bin/true\"] }\n"
    "access = { users = [\"bob\"], channels = [\"#ops\"], deny_channels = [\"general\"] }\n"
    "[[alias]]\n"
    "name = \"dm\"\n"
    "formats = [\"dm\"]\n"
    "exec = { argv = [\"/bin/true\"] }\n"
    "access = { direct_only = true }\n";

static struct cfg *
load(const char *text)
{
	struct cfg *c = NULL;
	struct diag d;

	diag_init(&d);
	if (cfg_load_buffer("test.toml", text, strlen(text), false, &c, &d) != 0) {
		diag_print(&d, stderr);
		fail_msg("config did not load");
	}
	diag_free(&d);
	return c;
}

static void
test_identity_by_platform_id(void **state)
{
	struct cfg *c = load(base_cfg);
	struct identity id;

	(void)state;
	assert_int_equal(identity_resolve(c, "slack", "W1", "Alice S", &id), 0);
	assert_string_equal(id.name, "alice");
	assert_false(id.guest);
	assert_true(identity_in_group(&id, "sre"));
	assert_true(identity_in_group(&id, "dev"));
	assert_string_equal(id.chat_name, "Alice S");
	identity_free(&id);

	/* a display name is never an identity: "alice" is not a Slack id */
	assert_int_equal(identity_resolve(c, "slack", "alice", "alice", &id), 0);
	assert_true(id.guest);
	assert_string_equal(id.name, "visitor");
	assert_int_equal(id.ngroups, 0);
	identity_free(&id);

	/* carol is in sre only through [groups.sre].members */
	assert_int_equal(identity_resolve(c, "console", "carol", NULL, &id), 0);
	assert_string_equal(id.name, "carol");
	assert_true(identity_in_group(&id, "sre"));
	identity_free(&id);
	cfg_free(c);
}

static void
test_unknown_refused(void **state)
{
	char *text = NULL;
	struct cfg *c;
	struct identity id;

	(void)state;
	text = malloc(sizeof base_cfg + 64);
	snprintf(text, sizeof base_cfg + 64, "%s", base_cfg);
	/* add unknown_users = "refuse" to [bot] */
	{
		char *p = strstr(text, "guest_name");
		const char *ins = "unknown_users = \"refuse\"\n";
		memmove(p + strlen(ins), p, strlen(p) + 1);
		memcpy(p, ins, strlen(ins));
	}
	c = load(text);
	assert_int_equal(identity_resolve(c, "console", "mallory", "m", &id), -1);
	assert_true(id.guest);
	identity_free(&id);
	assert_int_equal(identity_resolve(c, "console", "bob", "bob", &id), 0);
	identity_free(&id);
	cfg_free(c);
	free(text);
}

static void
test_identity_json(void **state)
{
	struct cfg *c = load(base_cfg);
	struct identity id;
	json_t *u;

	(void)state;
	identity_resolve(c, "console", "alice", "alice", &id);
	u = identity_to_json(&id);
	assert_string_equal(json_string_value(json_object_get(u, "name")), "alice");
	assert_string_equal(json_string_value(json_object_get(u, "region")), "eu");
	assert_string_equal(json_string_value(json_object_get(json_object_get(u, "vars"),
	    "region")), "eu");
	assert_string_equal(json_string_value(json_object_get(json_object_get(u, "chat"),
	    "id")), "alice");
	assert_int_equal(json_array_size(json_object_get(u, "groups")), 2);
	json_decref(u);
	identity_free(&id);
	cfg_free(c);
}

static bool
check(const struct cfg *c, const char *alias, const char *platform, const char *user,
    const char *channel, bool direct, char *why, size_t whylen)
{
	struct identity id;
	struct policy_request r;
	bool ok;

	identity_resolve(c, platform, user, user, &id);
	memset(&r, 0, sizeof r);
	r.cfg = c;
	r.alias = cfg_find_alias(c, alias);
	assert_non_null(r.alias);
	r.who = &id;
	r.channel_id = channel;
	r.channel_name = channel;
	r.is_direct = direct;
	ok = policy_check(&r, why, whylen);
	identity_free(&id);
	return ok;
}

static void
test_policy_rules(void **state)
{
	struct cfg *c = load(base_cfg);
	char why[256];

	(void)state;
	assert_true(check(c, "open", "console", "mallory", "x", false, why, sizeof why));
	assert_true(check(c, "sre", "console", "alice", "x", false, why, sizeof why));
	assert_false(check(c, "sre", "console", "bob", "x", false, why, sizeof why));
	assert_non_null(strstr(why, "sre"));
	/* deny wins over the allow list: carol is in sre */
	assert_false(check(c, "sre", "console", "carol", "x", false, why, sizeof why));
	assert_non_null(strstr(why, "denied"));
	/* users and channels both apply; '#' is optional */
	assert_true(check(c, "ops", "console", "bob", "ops", false, why, sizeof why));
	assert_false(check(c, "ops", "console", "bob", "dev", false, why, sizeof why));
	assert_false(check(c, "ops", "console", "alice", "ops", false, why, sizeof why));
	assert_false(check(c, "ops", "console", "bob", "general", false, why, sizeof why));
	assert_false(check(c, "dm", "console", "bob", "ops", false, why, sizeof why));
	assert_non_null(strstr(why, "direct message"));
	assert_true(check(c, "dm", "console", "bob", "dm-bob", true, why, sizeof why));
	cfg_free(c);
}

static void
test_default_policy_deny(void **state)
{
	char text[sizeof base_cfg + 64];
	struct cfg *c;
	char why[256];
	char *p;

	(void)state;
	snprintf(text, sizeof text, "%s", base_cfg);
	p = strstr(text, "guest_name");
	memmove(p + 25, p, strlen(p) + 1);
	memcpy(p, "default_policy = \"deny\"\n ", 25);
	p[24] = '\n';
	c = load(text);
	assert_false(check(c, "open", "console", "alice", "x", false, why, sizeof why));
	assert_true(check(c, "sre", "console", "alice", "x", false, why, sizeof why));
	cfg_free(c);
}

static void
test_messages_defaults_and_overrides(void **state)
{
	static const char over[] =
	    "[messages]\n"
	    "queued = \"Q {{ queue.reason }}\"\n";
	char text[sizeof base_cfg + sizeof over];
	struct cfg *c;
	struct messages *m;
	struct diag d;
	json_t *ctx;
	char *s;

	(void)state;
	snprintf(text, sizeof text, "%s", base_cfg);
	/* [messages] must come before the [[alias]] array tables */
	{
		char *p = strstr(text, "[[alias]]");
		memmove(p + strlen(over), p, strlen(p) + 1);
		memcpy(p, over, strlen(over));
	}
	c = load(text);
	diag_init(&d);
	m = messages_new(c, &d);
	assert_non_null(m);
	assert_int_equal(d.nerrors, 0);
	ctx = json_pack("{s:{s:s},s:{s:s}}", "queue", "reason", "busy",
	    "actionalias", "name", "open");
	s = messages_render(m, MSG_QUEUED, ctx);
	assert_string_equal(s, "Q busy");
	free(s);
	json_object_set_new(ctx, "reason", json_string("nope"));
	json_object_set_new(ctx, "user", json_pack("{s:s}", "name", "bob"));
	s = messages_render(m, MSG_NOT_ALLOWED, ctx);
	assert_string_equal(s, "bob: you are not allowed to run open: nope.");
	free(s);
	json_decref(ctx);
	messages_free(m);
	diag_free(&d);
	cfg_free(c);
}

static void
test_command_text(void **state)
{
	json_t *p = json_pack("{s:s,s:s,s:s}", "app", "web", "msg", "two words", "q", "a\"b");
	char *s = runner_command_text("deploy", p);

	(void)state;
	assert_string_equal(s, "deploy app=web msg=\"two words\" q=\"a\\\"b\"");
	free(s);
	json_decref(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_by_platform_id),
		cmocka_unit_test(test_unknown_refused),
		cmocka_unit_test(test_identity_json),
		cmocka_unit_test(test_policy_rules),
		cmocka_unit_test(test_default_policy_deny),
		cmocka_unit_test(test_messages_defaults_and_overrides),
		cmocka_unit_test(test_command_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
