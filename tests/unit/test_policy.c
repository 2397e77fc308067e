/*
 * test_policy.c - the access policy engine (bot/policy.c): deny/allow
 * precedence, groups from both sides ([users].groups and [groups].members),
 * channels, direct_only, [bot].default_policy, and the rule each verdict
 * names (what `why` and the audit log show).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/identity.h"
#include "bot/policy.h"
#include "config/config.h"

static const char cfg_text[] =
    "[bot]\n"
    "default_policy = \"%s\"\n"
    "[users.alice]\nconsole = \"alice\"\ngroups = [\"sre\"]\n"
    "[users.bob]\nconsole = \"bob\"\ngroups = [\"dev\"]\n"
    "[users.carol]\nconsole = \"carol\"\n"
    "[users.dave]\nconsole = \"dave\"\ngroups = [\"sre\", \"contractors\"]\n"
    "[groups.sre]\nmembers = [\"carol\"]\n"
    "[groups.oncall]\nmembers = [\"bob\"]\n"
    "[[alias]]\nname = \"open\"\nformats = [\"open\"]\nexec = { argv = [\"true\"] }\n"
    "[[alias]]\nname = \"sre\"\nformats = [\"sre\"]\nexec = { argv = [\"true\"] }\n"
    "access = { groups = [\"sre\"], deny_groups = [\"contractors\"], "
    "deny_users = [\"carol\"] }\n"
    "[[alias]]\nname = \"mixed\"\nformats = [\"mixed\"]\nexec = { argv = [\"true\"] }\n"
    "access = { users = [\"bob\"], groups = [\"sre\"], channels = [\"ops\", \"#prod\"], "
    "deny_channels = [\"general\"] }\n"
    "[[alias]]\nname = \"dm\"\nformats = [\"dm\"]\nexec = { argv = [\"true\"] }\n"
    "access = { direct_only = true, groups = [\"oncall\"] }\n"
    "[[alias]]\nname = \"denyonly\"\nformats = [\"denyonly\"]\nexec = { argv = [\"true\"] }\n"
    "access = { deny_users = [\"bob\"] }\n"
    "[[alias]]\nname = \"chan\"\nformats = [\"chan\"]\nexec = { argv = [\"true\"] }\n"
    "access = { channels = [\"C123\"], deny_users = [\"alice\"] }\n";

static struct cfg *
load(const char *policy)
{
	char text[sizeof cfg_text + 16];
	struct cfg *c = NULL;
	struct diag d;

	snprintf(text, sizeof text, cfg_text, policy);
	diag_init(&d);
	if (cfg_load_buffer("p.toml", text, strlen(text), true, &c, &d) != 0)
		diag_print(&d, stderr);
	diag_free(&d);
	assert_non_null(c);
	return c;
}

/* Decides for user in channel (id C_NAME unless given, name) and checks the
 * verdict and its rule. */
static void
expect(const struct cfg *c, const char *alias, const char *user, const char *chan_id,
    const char *chan_name, bool direct, bool allowed, const char *rule,
    const char *detail_has)
{
	struct policy_request r;
	struct policy_verdict v;
	struct identity id;

	identity_resolve(c, "console", user, user, &id);
	memset(&r, 0, sizeof r);
	r.cfg = c;
	r.alias = cfg_find_alias(c, alias);
	assert_non_null(r.alias);
	r.who = &id;
	r.channel_id = chan_id;
	r.channel_name = chan_name;
	r.is_direct = direct;
	policy_decide(&r, &v);
	if (v.allowed != allowed || strcmp(v.rule, rule) != 0 ||
	    (detail_has && strstr(v.detail, detail_has) == NULL))
		fail_msg("%s by %s in %s: got %s by %s (%s / %s), wanted %s by %s (%s)", alias,
		    user, chan_name ? chan_name : "-", v.allowed ? "allowed" : "refused",
		    v.rule, v.reason, v.detail, allowed ? "allowed" : "refused", rule,
		    detail_has ? detail_has : "");
	if (!allowed)
		assert_true(v.reason[0] != '\0');
	/* policy_check agrees, and gives the short reason */
	{
		char why[256] = "";

		assert_int_equal(policy_check(&r, why, sizeof why), allowed);
		if (!allowed)
			assert_string_equal(why, v.reason);
	}
	identity_free(&id);
}

static void
test_default_policy(void **state)
{
	struct cfg *c = load("allow");

	(void)state;
	expect(c, "open", "bob", "C1", "x", false, true, "bot.default_policy", "\"allow\"");
	expect(c, "open", "mallory", "C1", "x", false, true, "bot.default_policy", NULL);
	cfg_free(c);
	c = load("deny");
	expect(c, "open", "alice", "C1", "x", false, false, "bot.default_policy", "\"deny\"");
	/* an access table still grants under deny */
	expect(c, "sre", "alice", "C1", "x", false, true, "access.groups", "group sre");
	expect(c, "denyonly", "alice", "C1", "x", false, true, "access", NULL);
	cfg_free(c);
}

static void
test_groups_from_both_sides(void **state)
{
	struct cfg *c = load("allow");

	(void)state;
	/* alice: groups = ["sre"]; carol: [groups.sre].members (but denied) */
	expect(c, "sre", "alice", "C1", "x", false, true, "access.groups", "alice is in group sre");
	expect(c, "sre", "bob", "C1", "x", false, false, "access.groups", "only for members of sre");
	/* bob is in oncall through [groups.oncall].members */
	expect(c, "dm", "bob", "D1", "dm-bob", true, true, "access.groups", "group oncall");
	cfg_free(c);
}

static void
test_deny_wins(void **state)
{
	struct cfg *c = load("allow");

	(void)state;
	/* carol is in sre, and listed in deny_users: deny first */
	expect(c, "sre", "carol", "C1", "x", false, false, "access.deny_users", "carol");
	/* dave is in sre and in contractors: the deny group wins */
	expect(c, "sre", "dave", "C1", "x", false, false, "access.deny_groups", "contractors");
	/* deny_channels beats users/groups and channels */
	expect(c, "mixed", "bob", "C9", "general", false, false, "access.deny_channels", NULL);
	/* a deny list alone: everyone else may */
	expect(c, "denyonly", "bob", "C1", "x", false, false, "access.deny_users", NULL);
	expect(c, "denyonly", "alice", "C1", "x", false, true, "access", NULL);
	/* deny_users is checked before the channel allow list */
	expect(c, "chan", "alice", "C123", "ops", false, false, "access.deny_users", NULL);
	cfg_free(c);
}

static void
test_channels(void **state)
{
	struct cfg *c = load("allow");

	(void)state;
	/* by name, with or without '#' on either side, or by id */
	expect(c, "mixed", "bob", "C7", "ops", false, true, "access.users", "#ops");
	expect(c, "mixed", "alice", "C8", "#prod", false, true, "access.groups", "#prod");
	expect(c, "mixed", "alice", "C8", "dev", false, false, "access.channels", "#dev");
	expect(c, "mixed", "carol", "C7", "ops", false, true, "access.groups", NULL);
	expect(c, "mixed", "mallory", "C7", "ops", false, false, "access.groups", "only for bob and members of sre");
	expect(c, "chan", "bob", "C123", "whatever", false, true, "access.channels", NULL);
	expect(c, "chan", "bob", "C124", "whatever", false, false, "access.channels", NULL);
	cfg_free(c);
}

static void
test_direct_only(void **state)
{
	struct cfg *c = load("allow");

	(void)state;
	expect(c, "dm", "bob", "C1", "ops", false, false, "access.direct_only", "not a direct");
	expect(c, "dm", "bob", "D1", "dm-bob", true, true, "access.groups", NULL);
	/* direct, but not in the group */
	expect(c, "dm", "alice", "D2", "dm-alice", true, false, "access.groups", NULL);
	cfg_free(c);
}

static void
test_guest_and_refused_reasons(void **state)
{
	struct cfg *c = load("allow");
	struct policy_request r;
	struct policy_verdict v;
	struct identity id;

	(void)state;
	/* an unknown speaker is the guest: no groups */
	expect(c, "sre", "mallory", "C1", "x", false, false, "access.groups", "guest");
	/* the reason shown to the requester never names the deny lists */
	identity_resolve(c, "console", "dave", "dave", &id);
	memset(&r, 0, sizeof r);
	r.cfg = c;
	r.alias = cfg_find_alias(c, "sre");
	r.who = &id;
	policy_decide(&r, &v);
	assert_false(v.allowed);
	assert_null(strstr(v.reason, "contractors"));
	assert_non_null(strstr(v.detail, "contractors"));
	identity_free(&id);
	cfg_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_groups_from_both_sides),
		cmocka_unit_test(test_deny_wins),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_direct_only),
		cmocka_unit_test(test_guest_and_refused_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
