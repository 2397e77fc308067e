/*
 * test_slack_text.c - Slack markup decoding and escaping
 * (adapters/slack_text.c): the three escapes, user/channel/special
 * mentions, the bot's own mention, links with and without labels, text
 * that only looks like markup, and names made safe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "adapters/slack_int.h"

static const char *
names(void *arg, const char *id)
{
	(void)arg;
	if (strcmp(id, "U0HUMAN01") == 0)
		return "alice";
	if (strcmp(id, "U0HUMAN02") == 0)
		return "Bob Example";
	return NULL;
}

static void
check(const char *in, const char *want, bool want_mention)
{
	struct slack_decode d = { "U0BOT0001", names, NULL };
	bool m = !want_mention;
	char *out = slack_text_decode(in, strlen(in), &d, &m);

	if (strcmp(out, want) != 0 || m != want_mention)
		fail_msg("decode(%s) = \"%s\" (mention %d), want \"%s\" (mention %d)", in, out,
		    m, want, want_mention);
	free(out);
}

static void
test_escapes(void **state)
{
	(void)state;
	check("a &amp; b &lt;c&gt;", "a & b <c>", false);
	check("&amp;lt;", "&lt;", false);               /* decoded once */
	check("&quot; &#39; &nbsp; & alone", "&quot; &#39; &nbsp; & alone", false);
	check("", "", false);
	check("plain text\nwith lines", "plain text\nwith lines", false);
	check("tail &am", "tail &am", false);
}

static void
test_mentions(void **state)
{
	(void)state;
	check("<@U0BOT0001> deploy api", "deploy api", true);
	check("  <@U0BOT0001>: deploy api", "deploy api", true);
	check("<@U0BOT0001>, status", "status", true);
	check("hey <@U0BOT0001> deploy", "hey deploy", true);
	check("deploy <@U0BOT0001>", "deploy ", true);
	check("<@U0BOT0001|deploybot> help", "help", true);
	check("ask <@U0HUMAN01> and <@U0HUMAN02>", "ask @alice and @Bob Example", false);
	check("who is <@U0NOBODY9>?", "who is @U0NOBODY9?", false);
	check("old style <@U0HUMAN03|carol>", "old style @carol", false);
	check("label with at <@U0HUMAN03|@carol>", "label with at @carol", false);
	check("<!here> <!channel> <!everyone>", "@here @channel @everyone", false);
	check("page <!subteam^S0TEAM001|@oncall>", "page @oncall", false);
	check("page <!subteam^S0TEAM001>", "page @subteam^S0TEAM001", false);
	check("on <!date^1767607200^{date_short}|Jan 5>", "on Jan 5", false);
	check("in <#C0GENERAL|general> and <#C0RANDOM1>", "in #general and #C0RANDOM1", false);
}

static void
test_links(void **state)
{
	(void)state;
	check("see <https://status.example.com|status page>",
	    "see status page (https://status.example.com)", false);
	check("deploy <http://www.foo.com|www.foo.com>", "deploy www.foo.com", false);
	check("open <https://x.example/a?b=1&amp;c=2>", "open https://x.example/a?b=1&c=2", false);
	check("<https://x.example/|x.example>", "x.example", false);
	check("<https://x.example/p|https://x.example/p>", "https://x.example/p", false);
	check("mail <mailto:bob@example.com|bob@example.com>", "mail bob@example.com", false);
	check("a <b|c &amp; d>", "a c & d (b)", false);
}

static void
test_not_markup(void **state)
{
	(void)state;
	/* what cannot be an entity stays as it is */
	check("1 < 2", "1 < 2", false);
	check("a <> b", "a <> b", false);
	check("<@lower> x", "<@lower> x", false);       /* not an id: kept as text */
	check("open < <https://a.example>", "open < https://a.example", false);
	check("<unterminated", "<unterminated", false);
	check("<@U0BOT0001", "<@U0BOT0001", false);
}

struct ids {
	char got[256];
};

static void
collect(void *arg, const char *id)
{
	struct ids *x = arg;

	strcat(x->got, id);
	strcat(x->got, ",");
}

static void
test_users_and_escape(void **state)
{
	struct ids x;
	char *e, *n;
	const char *t = "<@U0BOT0001> ask <@U0HUMAN01> and <@U0HUMAN02|bob> and <@bad> <@U0HUMAN03>";

	(void)state;
	memset(&x, 0, sizeof x);
	slack_text_users(t, strlen(t), "U0BOT0001", collect, &x);
	assert_string_equal(x.got, "U0HUMAN01,U0HUMAN03,");

	e = slack_text_escape("a & b <!channel> > c");
	assert_string_equal(e, "a &amp; b &lt;!channel&gt; &gt; c");
	free(e);

	n = slack_name_clean("  Alice\n\x1b[31mRed  ");
	assert_string_equal(n, "Alice[31mRed");
	free(n);
	assert_null(slack_name_clean(" \t "));
	assert_null(slack_name_clean(NULL));
	n = slack_name_clean("ééééééééééééééééééééééééééééééééééééééééééééééééééé");
	assert_true(strlen(n) <= SLACK_NAME_MAX);
	assert_true(strlen(n) % 2 == 0);        /* not cut inside a character */
	free(n);

	assert_true(slack_id_valid("U0HUMAN01", 9));
	assert_false(slack_id_valid("u0human01", 9));
	assert_false(slack_id_valid("U", 1));
	assert_false(slack_id_valid("U0-1", 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_mentions),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_not_markup),
		cmocka_unit_test(test_users_and_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
