/*
 * test_st2_vectors.c - runs StackStorm's alias test vectors
 * (../shared/st2-alias/vectors.json) against the alias engine.
 *
 * Sections: parse (one format + one command), match (a set of aliases +
 * one command), normalise (which (alias, display, representation) entries a
 * set yields), immutable (immutable_parameters added to parsed params),
 * help (which displays are listed) and hubot_match (which format wins).
 * Every vector must give st2's answer, except:
 *   - deliberate deviations, listed in `deviations` with the reason; each
 *     prints "DEVIATION section/name: reason" and asserts ackbot's own
 *     intended result instead;
 *   - vectors about parts of st2 ackbot does not have (the help API's
 *     pagination, packs, hubot's adapter text normalisation), listed in
 *     `not_applicable`, printed as "N/A section/name: reason".
 * The deviations are described in docs/aliases.md.
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
#include "bot/help.h"
#include "config/config.h"

#ifndef ACKBOT_SHARED_DIR
#define ACKBOT_SHARED_DIR "../shared"
#endif

static json_t *vectors;
static int failures;

struct special {
	const char *id;         /* "section/name" */
	const char *reason;
};

static const struct special deviations[] = {
	{ "normalise/display_only",
	  "st2 turns a display-only format into representation \"\", which matches "
	  "any command made only of key=value pairs (Q14, and a KeyError 500 in "
	  "match_and_execute); ackbot shows the display in help and never matches it" },
	{ "immutable/list_kept_as_list",
	  "ackbot's immutable_parameters are scalar templates (the config rejects a "
	  "list value); a list is written as its JSON text, which is passed as a string" },
	{ NULL, NULL },
};

static const struct special not_applicable[] = {
	{ "help/filtering_bad_datatype", "the help filter is always text in ackbot" },
	{ "help/limit_bad_datatype", "no limit/offset pagination: help is split into chat-sized chunks" },
	{ "help/limit_neg_out_of_bounds", "no limit/offset pagination" },
	{ "help/limit_pos_out_of_bounds", "no limit/offset pagination" },
	{ "help/limit_in_bounds", "no limit/offset pagination" },
	{ "help/offset_bad_datatype", "no limit/offset pagination" },
	{ "help/offset_negative_out_of_bounds", "no limit/offset pagination" },
	{ "help/offset_positive_out_of_bounds", "no limit/offset pagination" },
	{ "help/offset_in_bounds", "no limit/offset pagination" },
	{ "hubot_normalize/*", "chat-adapter text normalisation (smart quotes, NBSP) "
	  "belongs to the Slack adapter, not the alias engine" },
	{ NULL, NULL },
};

struct tally {
	int passed, deviated, na;
};

static const char *
lookup(const struct special *list, const char *section, const char *name)
{
	char id[256], any[256];
	size_t i;

	snprintf(id, sizeof id, "%s/%s", section, name);
	snprintf(any, sizeof any, "%s/*", section);
	for (i = 0; list[i].id != NULL; i++)
		if (strcmp(list[i].id, id) == 0 || strcmp(list[i].id, any) == 0)
			return list[i].reason;
	return NULL;
}

static void check(bool ok, const char *section, const char *name, const char *fmt, ...)
    ACK_PRINTF(4, 5);

static void
check(bool ok, const char *section, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok)
		return;
	failures++;
	printf("FAIL %s/%s: ", section, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static char *
dump(const json_t *j)
{
	return j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : strdup("null");
}

static void
summary(const char *section, const struct tally *t)
{
	printf("%-16s %d passed, %d deviations, %d not applicable\n", section,
	    t->passed, t->deviated, t->na);
}

/* ------------------------------------------------------------------ */

static void
test_parse(void **state)
{
	json_t *list = json_object_get(vectors, "parse"), *v;
	struct tally t = { 0 };
	size_t i;

	(void)state;
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *fmt = json_string_value(json_object_get(v, "format"));
		const char *cmd = json_string_value(json_object_get(v, "command"));
		bool mm = json_is_true(json_object_get(v, "match_multiple"));
		bool want_err = json_is_true(json_object_get(v, "error"));
		const char *reason = lookup(deviations, "parse", name);
		int before = failures;
		json_t *params = NULL;
		char err[1024] = "";
		int rc;

		rc = afmt_parse(fmt, strlen(fmt), cmd, strlen(cmd), mm, &params, err, sizeof err);
		if (reason != NULL) {
			printf("DEVIATION parse/%s: %s\n", name, reason);
			t.deviated++;
		} else if (want_err) {
			const char *kind = json_string_value(json_object_get(v, "error_kind"));
			const char *msg = json_string_value(json_object_get(v, "error_message"));

			if (strcmp(kind, "format_invalid") == 0)
				check(rc == -1, "parse", name, "format should be rejected, rc=%d", rc);
			else
				check(rc == 0 && strcmp(err, msg) == 0, "parse", name,
				    "want error \"%s\", got rc=%d \"%s\"", msg, rc, err);
		} else {
			char *got = dump(params), *want = dump(json_object_get(v, "expect"));

			check(rc == 1 && json_equal(params, json_object_get(v, "expect")),
			    "parse", name, "want %s, got rc=%d %s (%s)", want, rc, got, err);
			free(got);
			free(want);
		}
		if (reason == NULL && failures == before)
			t.passed++;
		json_decref(params);
	}
	summary("parse", &t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */

static void
check_match_expect(const char *name, const json_t *ex, const struct alias_set *set,
    struct alias_match *m)
{
	const char *want_alias = json_string_value(json_object_get(ex, "alias"));
	const char *want_rep = json_string_value(json_object_get(ex, "representation"));
	const json_t *want_disp = json_object_get(ex, "display");
	const json_t *want_params = json_object_get(ex, "params");
	const json_t *want_list = json_object_get(ex, "params_list");
	const json_t *after_imm = json_object_get(ex, "params_after_immutable");

	check(m->kind == ALIAS_MATCHED, "match", name, "want a match, got kind %d: %s",
	    m->kind, m->message);
	if (m->kind != ALIAS_MATCHED)
		return;
	check(strcmp(m->alias->name, want_alias) == 0, "match", name, "want alias %s, got %s",
	    want_alias, m->alias->name);
	check(strcmp(m->representation, want_rep) == 0, "match", name,
	    "want representation %s, got %s", want_rep, m->representation);
	if (json_is_string(want_disp))
		check(m->display != NULL && strcmp(m->display, json_string_value(want_disp)) == 0,
		    "match", name, "want display %s, got %s", json_string_value(want_disp),
		    m->display ? m->display : "(null)");
	if (want_params != NULL || want_list != NULL) {
		const json_t *w = want_params ? want_params : want_list;
		char *got = dump(m->params), *want = dump(w);

		check(json_equal(m->params, w), "match", name, "want params %s, got %s", want, got);
		free(got);
		free(want);
	}
	if (after_imm != NULL) {
		json_t *p = json_deep_copy(m->params), *ctx = json_object();
		char err[512];
		int rc = alias_apply_immutable(set, m->alias, p, ctx, err, sizeof err);
		json_t *want = json_deep_copy(after_imm);
		const char *k;
		json_t *val;

		/* ackbot's immutable values are strings: a list fixture value
		 * arrives as its JSON text */
		json_object_foreach(want, k, val) {
			if (!json_is_string(val)) {
				char *s = dump(val);

				json_object_set_new(want, k, json_string(s));
				free(s);
			}
		}
		{
			char *got = dump(p), *w = dump(want);

			check(rc == 0 && json_equal(p, want), "match", name,
			    "after immutable: want %s, got %s (%s)", w, got, rc ? err : "");
			free(got);
			free(w);
		}
		json_decref(p);
		json_decref(ctx);
		json_decref(want);
	}
}

static void
test_match(void **state)
{
	json_t *list = json_object_get(vectors, "match"), *v;
	struct tally t = { 0 };
	size_t i, k;

	(void)state;
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *cmd = json_string_value(json_object_get(v, "command"));
		const char *error = json_string_value(json_object_get(v, "error"));
		const char *reason = lookup(deviations, "match", name);
		struct cfg *c = fixture_cfg(json_object_get(v, "aliases"));
		struct diag d;
		struct alias_set *set;
		struct alias_match m;
		int before = failures;

		diag_init(&d);
		set = alias_set_build(c, &d);
		check(d.nerrors == 0, "match", name, "config errors");
		alias_set_match(set, cmd, strlen(cmd), &m);
		if (reason != NULL) {
			printf("DEVIATION match/%s: %s\n", name, reason);
			t.deviated++;
		} else if (error == NULL) {
			check_match_expect(name, json_object_get(v, "expect"), set, &m);
		} else {
			const char *msg = json_string_value(json_object_get(v, "error_message"));
			const json_t *names = json_object_get(v, "matched_aliases");

			if (strcmp(error, "no_match") == 0)
				check(m.kind == ALIAS_NO_MATCH, "match", name, "want no match, got %d",
				    m.kind);
			else
				check(m.kind == ALIAS_AMBIGUOUS, "match", name,
				    "want ambiguous, got %d", m.kind);
			check(strncmp(m.message, msg, strlen(msg)) == 0, "match", name,
			    "want message starting \"%s\", got \"%s\"", msg, m.message);
			if (names != NULL && m.kind == ALIAS_AMBIGUOUS) {
				bool same = m.ncandidates == json_array_size(names);

				for (k = 0; same && k < m.ncandidates; k++)
					same = strcmp(m.candidates[k].alias->name,
					    json_string_value(json_array_get(names, k))) == 0;
				check(same, "match", name, "candidates differ: %s", m.message);
			}
		}
		if (reason == NULL && failures == before)
			t.passed++;
		alias_match_clear(&m);
		alias_set_free(set);
		diag_free(&d);
		cfg_free(c);
	}
	summary("match", &t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */

static void
test_normalise(void **state)
{
	json_t *list = json_object_get(vectors, "normalise"), *v;
	struct tally t = { 0 };
	size_t i, k;

	(void)state;
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *reason = lookup(deviations, "normalise", name);
		const json_t *expect = json_object_get(v, "expect");
		int before = failures;
		struct cfg *c;
		struct diag d;
		struct alias_set *set;

		if (json_is_true(json_object_get(v, "error"))) {
			/* A format that is neither a string nor a table: the
			 * config loader is ackbot's normaliser, and rejects it. */
			static const char toml[] =
			    "[[alias]]\nname = \"fear\"\n"
			    "formats = [[\"Quite an experience to live in fear, isn't it?\"]]\n"
			    "[alias.exec]\nargv = [\"true\"]\n";
			struct cfg *bad = NULL;
			int rc;

			diag_init(&d);
			rc = cfg_load_buffer("vector.toml", toml, strlen(toml), false, &bad, &d);
			check(rc != 0 && d.nerrors > 0 &&
			    strstr(d.items[0].msg, "format") != NULL, "normalise", name,
			    "the config should reject a non-string, non-table format");
			cfg_free(bad);
			diag_free(&d);
			if (failures == before)
				t.passed++;
			continue;
		}
		c = fixture_cfg(json_object_get(v, "aliases"));
		diag_init(&d);
		set = alias_set_build(c, &d);
		if (reason != NULL) {
			struct help_opts o = { 0 };
			struct help_item *items;
			size_t n = help_collect(c, &o, &items);

			printf("DEVIATION normalise/%s: %s\n", name, reason);
			t.deviated++;
			/* ackbot: nothing to match, every display in help */
			check(alias_set_count(set) == 0, "normalise", name,
			    "display-only formats must not be matchable");
			check(n == json_array_size(expect), "normalise", name,
			    "help should list %zu displays, lists %zu", json_array_size(expect), n);
			free(items);
		} else {
			check(alias_set_count(set) == json_array_size(expect), "normalise", name,
			    "want %zu entries, got %zu", json_array_size(expect),
			    alias_set_count(set));
			for (k = 0; k < alias_set_count(set) && k < json_array_size(expect); k++) {
				const struct alias_candidate *e = alias_set_entry(set, k);
				const json_t *w = json_array_get(expect, k);
				const char *wd = json_string_value(json_object_get(w, "display"));

				check(strcmp(e->alias->name, json_string_value(json_object_get(w, "alias"))) == 0 &&
				    ((wd == NULL && e->display == NULL) ||
				    (wd != NULL && e->display != NULL && strcmp(wd, e->display) == 0)) &&
				    strcmp(e->representation,
				    json_string_value(json_object_get(w, "representation"))) == 0 &&
				    e->multiple == json_is_true(json_object_get(w, "match_multiple")),
				    "normalise", name, "entry %zu differs", k);
			}
		}
		if (reason == NULL && failures == before)
			t.passed++;
		alias_set_free(set);
		diag_free(&d);
		cfg_free(c);
	}
	summary("normalise", &t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */

static void
test_immutable(void **state)
{
	json_t *list = json_object_get(vectors, "immutable"), *v;
	struct tally t = { 0 };
	size_t i, k;

	(void)state;
	json_array_foreach(list, i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *reason = lookup(deviations, "immutable", name);
		json_t *aliases = json_pack("[{s:s,s:[s],s:O}]", "name", "a", "formats", "x",
		    "immutable_parameters", json_object_get(v, "immutable_parameters"));
		struct cfg *c = fixture_cfg(aliases);
		struct diag d;
		struct alias_set *set;
		json_t *p;
		int before = failures;

		diag_init(&d);
		set = alias_set_build(c, &d);
		check(d.nerrors == 0, "immutable", name, "config errors");
		json_array_foreach(json_object_get(v, "params"), k, p) {
			json_t *params = json_deep_copy(p), *ctx = json_object();
			char err[512] = "";
			int rc = alias_apply_immutable(set, &c->aliases[0], params, ctx, err, sizeof err);

			if (json_is_true(json_object_get(v, "error"))) {
				const char *msg = json_string_value(json_object_get(v, "error_message"));

				check(rc < 0 && strcmp(err, msg) == 0, "immutable", name,
				    "want \"%s\", got rc=%d \"%s\"", msg, rc, err);
			} else if (reason != NULL) {
				/* the list arrives as its JSON text */
				const json_t *w = json_array_get(json_object_get(v, "expect"), k);
				char *want = dump(json_object_get(w, "array_param"));
				const char *got = json_string_value(json_object_get(params, "array_param"));

				check(rc == 0 && got != NULL && strcmp(got, want) == 0, "immutable",
				    name, "want the JSON text %s, got %s", want, got ? got : "(null)");
				free(want);
			} else {
				const json_t *w = json_array_get(json_object_get(v, "expect"), k);
				char *g = dump(params), *ws = dump(w);

				check(rc == 0 && json_equal(params, w), "immutable", name,
				    "want %s, got %s (%s)", ws, g, err);
				free(g);
				free(ws);
			}
			json_decref(params);
			json_decref(ctx);
		}
		if (reason != NULL) {
			/* and the real config loader refuses a list value */
			static const char toml[] =
			    "[[alias]]\nname = \"a\"\nformats = [\"x\"]\n"
			    "immutable_parameters = { array_param = [\"one\", \"two\"] }\n"
			    "[alias.exec]\nargv = [\"true\"]\n";
			struct cfg *bad = NULL;
			struct diag d2;
			int rc;

			printf("DEVIATION immutable/%s: %s\n", name, reason);
			t.deviated++;
			diag_init(&d2);
			rc = cfg_load_buffer("vector.toml", toml, strlen(toml), false, &bad, &d2);
			check(rc != 0, "immutable", name, "the config should reject a list value");
			cfg_free(bad);
			diag_free(&d2);
		} else if (failures == before) {
			t.passed++;
		}
		alias_set_free(set);
		diag_free(&d);
		cfg_free(c);
		json_decref(aliases);
	}
	summary("immutable", &t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */

static void
test_help(void **state)
{
	json_t *help = json_object_get(vectors, "help"), *v;
	struct cfg *c = fixture_cfg(json_object_get(json_object_get(help, "fixture"), "aliases"));
	struct tally t = { 0 };
	size_t i, k, j;

	(void)state;
	json_array_foreach(json_object_get(help, "cases"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *reason = lookup(not_applicable, "help", name);
		const json_t *ex = json_object_get(v, "expect");
		const json_t *strings = json_object_get(ex, "helpstrings");
		struct help_opts o = { 0 };
		struct help_item *items;
		char filter[256];
		size_t n;
		int before = failures;

		if (reason != NULL) {
			printf("N/A help/%s: %s\n", name, reason);
			t.na++;
			continue;
		}
		/* ackbot has no packs: the fixture's pack is the alias's
		 * category, which `help WORDS` also searches */
		{
			const char *f = json_string_value(json_object_get(v, "filter"));
			const char *p = json_string_value(json_object_get(v, "pack"));

			snprintf(filter, sizeof filter, "%s %s", f ? f : "", p ? p : "");
			o.filter = filter;
		}
		n = help_collect(c, &o, &items);
		check(n == (size_t)json_integer_value(json_object_get(ex, "available")) &&
		    n == json_array_size(strings), "help", name, "want %lld displays, got %zu",
		    (long long)json_integer_value(json_object_get(ex, "available")), n);
		/* same set; ackbot sorts by category then display */
		for (k = 0; k < json_array_size(strings); k++) {
			const char *want = json_string_value(json_object_get(json_array_get(strings, k),
			    "display"));
			bool found = false;

			for (j = 0; j < n && !found; j++)
				found = strcmp(items[j].display, want) == 0;
			check(found, "help", name, "\"%s\" not listed", want);
		}
		free(items);
		if (failures == before)
			t.passed++;
	}
	cfg_free(c);
	summary("help", &t);
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */

static void
test_hubot(void **state)
{
	json_t *v;
	struct tally t = { 0 };
	size_t i, k;

	(void)state;
	/* hubot's client matcher takes the first format that matches; ackbot's
	 * specificity rule must pick the same one for these. */
	json_array_foreach(json_object_get(vectors, "hubot_match"), i, v) {
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *cmd = json_string_value(json_object_get(v, "command"));
		const char *want = json_string_value(json_object_get(v, "expect_format"));
		const json_t *fm = json_object_get(v, "formats");
		const char **fmts = calloc(json_array_size(fm) + 1, sizeof *fmts);
		struct cfg *c;
		struct diag d;
		struct alias_set *set;
		struct alias_match m;
		int before = failures;

		for (k = 0; k < json_array_size(fm); k++)
			fmts[k] = json_string_value(json_array_get(fm, k));
		c = fixture_simple("hubot", fmts);
		diag_init(&d);
		set = alias_set_build(c, &d);
		alias_set_match(set, cmd, strlen(cmd), &m);
		if (want == NULL)
			check(m.kind == ALIAS_NO_MATCH, "hubot_match", name, "want no match");
		else
			check(m.kind == ALIAS_MATCHED && strcmp(m.representation, want) == 0,
			    "hubot_match", name, "want %s, got %s", want,
			    m.kind == ALIAS_MATCHED ? m.representation : m.message);
		if (failures == before)
			t.passed++;
		alias_match_clear(&m);
		alias_set_free(set);
		diag_free(&d);
		cfg_free(c);
		free(fmts);
	}
	json_array_foreach(json_object_get(vectors, "hubot_normalize"), i, v) {
		if (i == 0)
			printf("N/A hubot_normalize/*: %s\n",
			    lookup(not_applicable, "hubot_normalize", "x"));
		t.na++;
	}
	summary("hubot", &t);
	assert_int_equal(failures, 0);
}

static int
setup(void **state)
{
	json_error_t e;

	(void)state;
	vectors = json_load_file(ACKBOT_SHARED_DIR "/st2-alias/vectors.json", 0, &e);
	if (vectors == NULL) {
		fprintf(stderr, "cannot read %s/st2-alias/vectors.json: %s\n",
		    ACKBOT_SHARED_DIR, e.text);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	json_decref(vectors);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_immutable),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_hubot),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
