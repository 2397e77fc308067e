/*
 * test_alias.c - the alias engine's own behaviour: one test per StackStorm
 * quirk (spec §14, Q1-Q22) pinning whether ackbot keeps it or deviates,
 * then the alias set (specificity, index, ambiguity, match_multiple,
 * disabled aliases), config diagnostics, immutable parameters, help and
 * suggestions, and the trailing-pair scanner.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "alias_fixture.h"
#include "bot/alias.h"
#include "bot/alias_format.h"
#include "bot/alias_pairs.h"
#include "bot/help.h"
#include "bot/template.h"
#include "config/config.h"

/* Parses cmd with fmt and compares with want (JSON text), or expects no
 * match when want is NULL. */
static void
parse_is(const char *fmt, const char *cmd, bool multiple, const char *want)
{
	json_t *params = NULL, *w;
	char err[512] = "";
	int rc = afmt_parse(fmt, strlen(fmt), cmd, strlen(cmd), multiple, &params, err,
	    sizeof err);

	if (want == NULL) {
		if (rc != 0) {
			char *got = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

			fail_msg("%s / %s: want no match, got rc=%d %s", fmt, cmd, rc,
			    got ? got : err);
		}
		json_decref(params);
		return;
	}
	w = json_loads(want, JSON_DECODE_ANY, NULL);
	assert_non_null(w);
	if (rc != 1 || !json_equal(params, w)) {
		char *got = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

		fail_msg("%s / %s: want %s, got rc=%d %s", fmt, cmd, want, rc, got ? got : err);
	}
	json_decref(params);
	json_decref(w);
}

/* ------------------------------------------------------------------ */
/* Q1-Q22                                                              */

static void
q01_literal_text_is_regex(void **state)          /* kept */
{
	(void)state;
	parse_is("How do I feel? I feel... {{status}}!", "How do I fee I feelXYZ great!",
	    false, "{\"status\":\"great\"}");
}

static void
q02_equals_in_values(void **state)               /* deviation */
{
	(void)state;
	/* a URL with a query string is one value, quoted or not */
	parse_is("open {{url}}", "open http://x?a=b", false, "{\"url\":\"http://x?a=b\"}");
	parse_is("open {{url}}", "open \"http://x?a=b\"", false, "{\"url\":\"http://x?a=b\"}");
	parse_is("open {{url}} now", "open https://h/p?a=b&c=d now", false,
	    "{\"url\":\"https://h/p?a=b&c=d\"}");
	/* a quoted value with a space and an = in it */
	parse_is("search {{q}}", "search \"a b=c\"", false, "{\"q\":\"a b=c\"}");
	parse_is("search {{q}}", "search \"a b=c\" n=5", false, "{\"q\":\"a b=c\",\"n\":\"5\"}");
	/* base64 padding (err-stackstorm #37) */
	parse_is("licensing request {{key}}", "licensing request 111==", false,
	    "{\"key\":\"111==\"}");
	/* a plain name=value at the end is still a pair */
	parse_is("deploy {{app}}", "deploy web env=prod", false,
	    "{\"app\":\"web\",\"env\":\"prod\"}");
	/* ...unless the format cannot match without it: the text is given back */
	parse_is("say {{msg}}", "say x=1", false, "{\"msg\":\"x=1\"}");
	/* hubot #182: a required parameter given as a pair */
	parse_is("pack get {{ pack }}", "pack get pack=core", false, "{\"pack\":\"core\"}");
}

static void
q03_pairs_cut_from_the_end_only(void **state)    /* deviation */
{
	(void)state;
	parse_is("say {{msg}}", "say x=1 and x=1", false, "{\"msg\":\"x=1 and\",\"x\":\"1\"}");
}

static void
q04_pair_overrides_positional(void **state)      /* kept */
{
	(void)state;
	parse_is("foo {{a}}", "foo x a=b", false, "{\"a\":\"b\"}");
}

static void
q05_whitespace_is_literal(void **state)          /* kept */
{
	(void)state;
	parse_is("run {{cmd}} on {{hosts}}", "run  date on x", false,
	    "{\"cmd\":\" date\",\"hosts\":\"x\"}");
	parse_is("run {{cmd}}", "run\tdate", false, NULL);
	/* leading and trailing blanks of the whole command do not matter */
	parse_is("run {{cmd}}", "  run date \n", false, "{\"cmd\":\"date\"}");
}

static void
q06_user_anchors_see_through_padding(void **state) /* deviation */
{
	(void)state;
	parse_is("^foo {{a}}", "foo bar", false, "{\"a\":\"bar\"}");
	parse_is("foo {{a}}$", "foo bar", false, "{\"a\":\"bar\"}");
	parse_is("\\Afoo {{a}}\\Z", "foo bar", false, "{\"a\":\"bar\"}");
	/* still anchors: */
	parse_is("^foo {{a}}", "x foo bar", false, NULL);
}

static void
q07_blank_value_is_an_empty_slot(void **state)   /* deviation */
{
	(void)state;
	parse_is("{{a}}", "", false, NULL);
	parse_is("acl {{a=test}}", "acl   ", false, "{\"a\":\"test\"}");
	/* quoted blanks are a value */
	parse_is("say {{a}}", "say \" \"", false, "{\"a\":\" \"}");
}

static void
q08_most_specific_format_wins(void **state)      /* deviation */
{
	static const char *const fmts[] = { "get ip {{k}} {{v}}",
		"get ip {{k}} {{v}} {{k2}} {{v2}}", NULL };
	struct cfg *c = fixture_simple("ip", fmts);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;

	(void)state;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(alias_set_match(set, "get ip a b c d", 14, &m), ALIAS_MATCHED);
	assert_string_equal(m.representation, fmts[1]);
	alias_match_clear(&m);
	assert_int_equal(alias_set_match(set, "get ip a b", 10, &m), ALIAS_MATCHED);
	assert_string_equal(m.representation, fmts[0]);
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

static void
q09_anchor_in_any_alternative(void **state)      /* deviation */
{
	(void)state;
	/* st2 only looks at the second alternative, so (?:^|\b) adds ^\s* and
	 * this could match at most once, at the start */
	parse_is("(?:^|\\b)dup (?P<k>[A-Z]+-\\d+)(?:$|\\b)", "x dup AB-1 dup CD-2", true,
	    "[{\"k\":\"AB-1\"},{\"k\":\"CD-2\"}]");
}

static void
q10_bad_alias_does_not_break_others(void **state) /* deviation */
{
	json_t *list = json_loads("[{\"name\":\"bad\",\"formats\":[\"x {{foo-bar}}\"]},"
	    "{\"name\":\"dup\",\"formats\":[\"y {{a}} {{a}}\"]},"
	    "{\"name\":\"good\",\"formats\":[\"z {{a}}\"]}]", 0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;

	(void)state;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(d.nerrors, 2);
	assert_non_null(strstr(d.items[0].msg, "alias \"bad\""));
	assert_non_null(strstr(d.items[0].msg, "foo-bar"));
	assert_int_equal(d.items[0].line, 11);
	assert_int_equal(d.items[0].col, 4);        /* the "{{" after the quote and "x " */
	assert_non_null(strstr(d.items[1].msg, "used twice"));
	assert_int_equal(alias_set_match(set, "z 1", 3, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "good");
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
	json_decref(list);
}

static void
q11_nested_json_pair_kept_whole(void **state)    /* deviation */
{
	(void)state;
	parse_is("foo {{a}}", "foo x d={\"a\": {\"b\": 1}}", false,
	    "{\"a\":\"x\",\"d\":\"{\\\"a\\\": {\\\"b\\\": 1}}\"}");
}

static void
q12_empty_quotes_are_an_empty_value(void **state) /* deviation */
{
	(void)state;
	parse_is("foo {{a=x}}", "foo \"\"", false, "{\"a\":\"\"}");
	parse_is("foo {{a}} bar", "foo '' bar", false, "{\"a\":\"\"}");
	/* and a pair a="" too (as in st2) */
	parse_is("foo {{a=x}}", "foo a=\"\"", false, "{\"a\":\"\"}");
}

static void
q13_case_sensitive_unless_asked(void **state)    /* kept (server) */
{
	json_t *list = json_loads("[{\"name\":\"cs\",\"formats\":[\"deploy {{app}}\"]},"
	    "{\"name\":\"ci\",\"formats\":[\"(?i)Restart {{svc}}\"]}]", 0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;

	(void)state;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(alias_set_match(set, "Deploy web", 10, &m), ALIAS_NO_MATCH);
	alias_match_clear(&m);
	assert_int_equal(alias_set_match(set, "RESTART nginx", 13, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "ci");
	alias_match_clear(&m);
	assert_int_equal(alias_set_match(set, "restart nginx", 13, &m), ALIAS_MATCHED);
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
	json_decref(list);
}

static void
q14_display_only_never_matches(void **state)     /* deviation */
{
	json_t *list = json_loads("[{\"name\":\"andy\",\"formats\":[{\"display\":\"Watch this.\"}]}]",
	    0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;

	(void)state;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(alias_set_match(set, "a=1", 3, &m), ALIAS_NO_MATCH);
	alias_match_clear(&m);
	/* and the config is told the alias can never run */
	assert_int_equal(d.nwarnings, 1);
	assert_non_null(strstr(d.items[0].msg, "never run"));
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
	json_decref(list);
}

static void
q15_multiline_default(void **state)              /* deviation */
{
	(void)state;
	parse_is("x {{ a = \"two\nlines\" }}", "x", false, "{\"a\":\"two\\nlines\"}");
}

static void
q16_default_fills_empty_slot(void **state)       /* kept */
{
	(void)state;
	parse_is("acl {{a=test}}", "acl", false, "{\"a\":\"test\"}");
	parse_is("skip {{ a = value }} more", "skip more", false, "{\"a\":\"value\"}");
}

static void
q17_python_groups_and_representation_only(void **state) /* hubot only: N/A */
{
	json_t *list = json_loads("[{\"name\":\"jira\",\"formats\":[{\"representation\":"
	    "[\"^\\\\s*jira (?P<key>[A-Z]+-[0-9]+)\"]}]}]", 0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;

	(void)state;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(alias_set_match(set, "jira AB-12", 10, &m), ALIAS_MATCHED);
	assert_string_equal(json_string_value(json_object_get(m.params, "key")), "AB-12");
	assert_null(m.display);
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
	json_decref(list);
}

static void
q20_match_returns_the_alias_itself(void **state) /* deviation by design */
{
	/* two aliases with the same formats but different names: the match
	 * names the alias object, never looked up by name afterwards */
	json_t *list = json_loads("[{\"name\":\"a\",\"formats\":[\"one {{x}}\"]},"
	    "{\"name\":\"b\",\"formats\":[\"two {{x}}\"]}]", 0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;

	(void)state;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(alias_set_match(set, "two 2", 5, &m), ALIAS_MATCHED);
	assert_ptr_equal(m.alias, &c->aliases[1]);
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
	json_decref(list);
}

static void
q22_multiple_gets_pairs_and_defaults(void **state) /* kept */
{
	(void)state;
	parse_is("(?:^|\\b)fix (?P<k>[A-Z]+-\\d+)(?:$|\\b)", "fix A-1 fix B-2 by=me", true,
	    "[{\"k\":\"A-1\",\"by\":\"me\"},{\"k\":\"B-2\",\"by\":\"me\"}]");
}

/* ------------------------------------------------------------------ */
/* the alias set                                                       */

static struct alias_set *
build_json(const char *json, struct cfg **cp, struct diag *d)
{
	json_t *list = json_loads(json, 0, NULL);
	struct alias_set *set;

	assert_non_null(list);
	*cp = fixture_cfg(list);
	json_decref(list);
	diag_init(d);
	set = alias_set_build(*cp, d);
	return set;
}

static void
specificity_and_ties(void **state)
{
	struct cfg *c;
	struct diag d;
	struct alias_set *set = build_json(
	    "[{\"name\":\"short\",\"formats\":[\"deploy {{app}}\"]},"
	    "{\"name\":\"long\",\"formats\":[\"deploy {{app}} to {{env}}\"]},"
	    "{\"name\":\"twin1\",\"formats\":[\"status {{svc}}\"]},"
	    "{\"name\":\"twin2\",\"formats\":[\"status {{service}}\"]},"
	    "{\"name\":\"dupe\",\"formats\":[\"ping {{h}}\", \"ping {{h}}\"]},"
	    "{\"name\":\"off\",\"enabled\":false,\"formats\":[\"off {{x}}\"]}]", &c, &d);
	struct alias_match m;

	(void)state;
	assert_int_equal(alias_set_match(set, "deploy web to prod", 18, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "long");
	alias_match_clear(&m);
	assert_int_equal(alias_set_match(set, "deploy web", 10, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "short");
	alias_match_clear(&m);
	/* a true tie is ambiguous and names both, in config order */
	assert_int_equal(alias_set_match(set, "status nginx", 12, &m), ALIAS_AMBIGUOUS);
	assert_int_equal(m.ncandidates, 2);
	assert_string_equal(m.candidates[0].alias->name, "twin1");
	assert_string_equal(m.candidates[1].alias->name, "twin2");
	assert_non_null(strstr(m.message, "matched more than 1 pattern: twin1, twin2"));
	alias_match_clear(&m);
	/* a duplicated format of one alias is one command */
	assert_int_equal(alias_set_match(set, "ping h1", 7, &m), ALIAS_MATCHED);
	alias_match_clear(&m);
	/* disabled aliases never match */
	assert_int_equal(alias_set_match(set, "off x", 5, &m), ALIAS_NO_MATCH);
	assert_string_equal(m.message, "Command 'off x' matched no patterns");
	alias_match_clear(&m);
	/* the overlap was reported at build time */
	assert_true(d.nwarnings >= 1);
	{
		size_t i;
		bool seen = false;

		for (i = 0; i < d.n; i++)
			seen |= d.items[i].severity == DIAG_WARNING &&
			    strstr(d.items[i].msg, "twin1") != NULL &&
			    strstr(d.items[i].msg, "twin2") != NULL;
		assert_true(seen);
	}
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

static void
multiple_only_when_nothing_else(void **state)
{
	struct cfg *c;
	struct diag d;
	struct alias_set *set = build_json(
	    "[{\"name\":\"multi\",\"formats\":[{\"representation\":"
	    "[\"(?:\\\\b|^)fixes (?P<k>[A-Z]+-[0-9]+)(?:\\\\b|$)\"],\"match_multiple\":true}]},"
	    "{\"name\":\"plain\",\"formats\":[\"fixes {{what}}\"]}]", &c, &d);
	struct alias_match m;

	(void)state;
	assert_int_equal(alias_set_match(set, "fixes A-1", 9, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "plain");
	alias_match_clear(&m);
	assert_int_equal(alias_set_match(set, "this fixes A-1 and fixes B-2", 28, &m),
	    ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "multi");
	assert_true(m.multiple);
	assert_int_equal(json_array_size(m.params), 2);
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

static void
index_and_try_always(void **state)
{
	struct cfg *c;
	struct diag d;
	struct alias_set *set = build_json(
	    "[{\"name\":\"a\",\"formats\":[\"{{who}} cross the {{what}}\"]},"
	    "{\"name\":\"b\",\"formats\":[\"colou?r {{x}}\"]},"
	    "{\"name\":\"c\",\"formats\":[\"acl {{a=test}}more\"]},"
	    "{\"name\":\"e\",\"formats\":[\"\"]}]", &c, &d);
	struct alias_match m;

	(void)state;
	assert_int_equal(alias_set_match(set, "Don't cross the streams", 23, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "a");
	alias_match_clear(&m);
	assert_int_equal(alias_set_match(set, "color red", 9, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "b");
	alias_match_clear(&m);
	/* "aclmore": the first word is not "acl", the format must still be tried */
	assert_int_equal(alias_set_match(set, "aclmore", 7, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "c");
	alias_match_clear(&m);
	/* the empty format takes a command made only of pairs */
	assert_int_equal(alias_set_match(set, "a=1 b=2", 7, &m), ALIAS_MATCHED);
	assert_string_equal(m.alias->name, "e");
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

static void
unicode_and_bad_bytes(void **state)
{
	(void)state;
	/* NBSP separates like a space in \s, and in pairs */
	parse_is("say {{a}}", "say\xc2\xa0hi", false, NULL);      /* a format space is literal */
	parse_is("say {{a}}", "say caf\xc3\xa9 k=\xc3\xa9t\xc3\xa9", false,
	    "{\"a\":\"caf\xc3\xa9\",\"k\":\"\xc3\xa9t\xc3\xa9\"}");
	/* invalid UTF-8 is replaced, never a crash or a JSON failure */
	parse_is("say {{a}}", "say \xff\xfe", false, "{\"a\":\"\xef\xbf\xbd\xef\xbf\xbd\"}");
	/* a parameter name longer than PCRE2 allows is a clear error */
	{
		json_t *p = NULL;
		char err[256];

		assert_int_equal(afmt_parse("x {{a234567890123456789012345678901234}}", 40, "x y", 3,
		    false, &p, err, sizeof err), -1);
		assert_non_null(strstr(err, "longer than 32"));
	}
}

static void
config_diagnostics(void **state)
{
	struct cfg *c;
	struct diag d;
	struct alias_set *set = build_json(
	    "[{\"name\":\"r\",\"formats\":[\"run (\"]},"
	    "{\"name\":\"i\",\"formats\":[\"imm {{env}}\"],\"immutable_parameters\":{\"env\":\"x\"}}]",
	    &c, &d);
	size_t i;
	bool regex = false, immw = false;

	(void)state;
	for (i = 0; i < d.n; i++) {
		regex |= d.items[i].severity == DIAG_ERROR &&
		    strstr(d.items[i].msg, "missing closing parenthesis") != NULL &&
		    d.items[i].line == 11 && d.items[i].col == 7;
		immw |= d.items[i].severity == DIAG_WARNING &&
		    strstr(d.items[i].msg, "immutable") != NULL;
	}
	assert_true(regex);
	assert_true(immw);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);

	/* a template error names the alias, the key and the position */
	c = fixture_simple("t", (const char *const[]){ "t", NULL });
	c->aliases[0].ack.text.s = xstrdup("ok {{ x");
	c->aliases[0].ack.text.pos.line = 40;
	c->aliases[0].ack.text.pos.col = 7;
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.items[0].msg, "ack template"));
	assert_int_equal(d.items[0].line, 40);
	assert_true(d.items[0].col > 7);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

static void
immutable_parameters(void **state)
{
	struct cfg *c;
	struct diag d;
	struct alias_set *set = build_json(
	    "[{\"name\":\"dep\",\"formats\":[\"dep {{app}}\"],"
	    "\"immutable_parameters\":{\"env\":\"prod-{{ user.name }}\",\"team\":\"sre\"}}]",
	    &c, &d);
	struct alias_match m;
	json_t *ctx = json_pack("{s:{s:s}}", "user", "name", "alice");
	char err[256];

	(void)state;
	assert_int_equal(alias_set_match(set, "dep web", 7, &m), ALIAS_MATCHED);
	assert_int_equal(alias_apply_immutable(set, m.alias, m.params, ctx, err, sizeof err), 0);
	assert_string_equal(json_string_value(json_object_get(m.params, "env")), "prod-alice");
	assert_string_equal(json_string_value(json_object_get(m.params, "team")), "sre");
	alias_match_clear(&m);
	/* a chat user cannot override them with a pair */
	assert_int_equal(alias_set_match(set, "dep web env=dev team=x", 22, &m), ALIAS_MATCHED);
	assert_int_equal(alias_apply_immutable(set, m.alias, m.params, ctx, err, sizeof err), -1);
	assert_string_equal(err, "Immutable arguments cannot be overriden: env,team");
	assert_string_equal(json_string_value(json_object_get(m.params, "env")), "dev");
	alias_match_clear(&m);
	json_decref(ctx);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

static void
templates_compiled(void **state)
{
	struct cfg *c = fixture_simple("t", (const char *const[]){ "t", NULL });
	struct diag d;
	struct alias_set *set;
	struct buf b;
	char err[128];

	(void)state;
	c->aliases[0].ack.text.s = xstrdup("on it, {{ user }}");
	c->aliases[1 - 1].result.enabled = false;
	c->aliases[0].result.text.s = xstrdup("{{ x }}");
	diag_init(&d);
	set = alias_set_build(c, &d);
	assert_int_equal(d.nerrors, 0);
	assert_non_null(alias_ack_template(set, &c->aliases[0]));
	assert_null(alias_result_template(set, &c->aliases[0]));
	buf_init(&b, 0);
	{
		json_t *ctx = json_pack("{s:s}", "user", "bob");

		assert_int_equal(tmpl_render(alias_ack_template(set, &c->aliases[0]), ctx, &b,
		    err, sizeof err), 0);
		json_decref(ctx);
	}
	assert_string_equal(b.data, "on it, bob");
	buf_free(&b);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

/* ------------------------------------------------------------------ */
/* help                                                                */

static bool
hide_secret(const struct cfg_alias *a, void *arg)
{
	(void)arg;
	return strcmp(a->name, "secret") != 0;
}

static const char help_fixture[] =
    "[{\"name\":\"deploy\",\"pack\":\"ops\",\"description\":\"Deploy an app\","
    "\"formats\":[\"deploy {{app}} to {{env=staging}}\",{\"representation\":\"ship {{app}}\"}]},"
    "{\"name\":\"status\",\"pack\":\"info\",\"description\":\"Service status\","
    "\"formats\":[{\"display\":\"status <svc>\",\"representation\":[\"status {{svc}}\"]}]},"
    "{\"name\":\"restart\",\"pack\":\"ops\",\"formats\":[\"restart {{svc}}\"]},"
    "{\"name\":\"secret\",\"pack\":\"ops\",\"formats\":[\"secret\"]},"
    "{\"name\":\"off\",\"enabled\":false,\"formats\":[\"off\"]}]";

static void
help_listing(void **state)
{
	json_t *list = json_loads(help_fixture, 0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct help_opts o = { .prefix = "!", .visible = hide_secret };
	struct help_text t;

	(void)state;
	help_render(c, &o, &t);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.chunks[0],
	    "Commands (3):\n"
	    "[info]\n"
	    "  `!status <svc>` - Service status\n"
	    "[ops]\n"
	    "  `!deploy {{app}} to {{env=staging}}` - Deploy an app\n"
	    "  `!restart {{svc}}`");
	help_text_free(&t);

	o.filter = "OPS app";
	help_render(c, &o, &t);
	assert_string_equal(t.chunks[0],
	    "Matching commands (1):\n[ops]\n  `!deploy {{app}} to {{env=staging}}` - Deploy an app");
	help_text_free(&t);

	o.filter = "nothing-like-this";
	help_render(c, &o, &t);
	assert_non_null(strstr(t.chunks[0], "No commands match"));
	help_text_free(&t);

	/* chunks stay under the limit, split on lines; long lists are counted */
	o.filter = NULL;
	o.max_chunk = 64;
	o.max_lines = 2;
	help_render(c, &o, &t);
	{
		size_t i;
		struct buf all;

		buf_init(&all, 0);
		for (i = 0; i < t.n; i++) {
			assert_true(strlen(t.chunks[i]) < 64);
			buf_printf(&all, "%s\n", t.chunks[i]);
		}
		assert_non_null(strstr(all.data, "... and 1 more. Narrow the list with `!help WORDS`."));
		buf_free(&all);
	}
	help_text_free(&t);
	cfg_free(c);
	json_decref(list);
}

static void
help_suggestions(void **state)
{
	json_t *list = json_loads(help_fixture, 0, NULL);
	struct cfg *c = fixture_cfg(list);
	struct help_item it[3];
	char *line;

	(void)state;
	assert_int_equal(help_suggest(c, "deplyo web", NULL, NULL, it, 3), 1);
	assert_string_equal(it[0].alias->name, "deploy");
	assert_int_equal(help_suggest(c, "status", NULL, NULL, it, 3), 1);
	assert_string_equal(it[0].display, "status <svc>");
	assert_int_equal(help_suggest(c, "secret", hide_secret, NULL, it, 3), 0);
	assert_int_equal(help_suggest(c, "zzz", NULL, NULL, it, 3), 0);
	line = help_suggest_line(c, "restat nginx", "!", NULL, NULL);
	assert_string_equal(line, "Did you mean: `!restart {{svc}}`?");
	free(line);
	cfg_free(c);
	json_decref(list);
}

/* ------------------------------------------------------------------ */
/* trailing pairs                                                      */

static void
pairs_scanner(void **state)
{
	struct apairs p;
	const char *s;

	(void)state;
	apairs_init(&p);
	s = "foo a=1 b=\"x y\" c='q' d={\"k\": {\"v\": 1}} e=\"\"";
	assert_int_equal(apairs_scan(&p, s, strlen(s)), 5);
	assert_int_equal(p.v[0].start, 3);
	assert_memory_equal(p.v[1].val, "x y", 3);
	assert_int_equal(p.v[3].val_len, strlen("{\"k\": {\"v\": 1}}"));
	assert_int_equal(p.v[4].val_len, 0);
	s = "foo x=1 y";
	assert_int_equal(apairs_scan(&p, s, strlen(s)), 0);
	s = "a= b";
	assert_int_equal(apairs_scan(&p, s, strlen(s)), 0);
	s = "k =v";
	assert_int_equal(apairs_scan(&p, s, strlen(s)), 1);
	assert_int_equal(p.v[0].start, 0);
	s = "x 1a=2";
	assert_int_equal(apairs_scan(&p, s, strlen(s)), 0);
	apairs_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(q01_literal_text_is_regex),
		cmocka_unit_test(q02_equals_in_values),
		cmocka_unit_test(q03_pairs_cut_from_the_end_only),
		cmocka_unit_test(q04_pair_overrides_positional),
		cmocka_unit_test(q05_whitespace_is_literal),
		cmocka_unit_test(q06_user_anchors_see_through_padding),
		cmocka_unit_test(q07_blank_value_is_an_empty_slot),
		cmocka_unit_test(q08_most_specific_format_wins),
		cmocka_unit_test(q09_anchor_in_any_alternative),
		cmocka_unit_test(q10_bad_alias_does_not_break_others),
		cmocka_unit_test(q11_nested_json_pair_kept_whole),
		cmocka_unit_test(q12_empty_quotes_are_an_empty_value),
		cmocka_unit_test(q13_case_sensitive_unless_asked),
		cmocka_unit_test(q14_display_only_never_matches),
		cmocka_unit_test(q15_multiline_default),
		cmocka_unit_test(q16_default_fills_empty_slot),
		cmocka_unit_test(q17_python_groups_and_representation_only),
		cmocka_unit_test(q20_match_returns_the_alias_itself),
		cmocka_unit_test(q22_multiple_gets_pairs_and_defaults),
		cmocka_unit_test(specificity_and_ties),
		cmocka_unit_test(multiple_only_when_nothing_else),
		cmocka_unit_test(index_and_try_always),
		cmocka_unit_test(unicode_and_bad_bytes),
		cmocka_unit_test(config_diagnostics),
		cmocka_unit_test(immutable_parameters),
		cmocka_unit_test(templates_compiled),
		cmocka_unit_test(help_listing),
		cmocka_unit_test(help_suggestions),
		cmocka_unit_test(pairs_scanner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
