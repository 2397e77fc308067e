/*
 * cli_alias.c - `ackbot parse-format` and `ackbot test-alias`: the alias
 * engine from the command line, for writing and checking formats.
 *
 * Output shapes (stable; documented in docs/aliases.md):
 *   parse-format: the parameters as one JSON object (an array of objects
 *     with --multiple) on stdout, exit 0; or "error: ..." on stderr, exit 1.
 *   test-alias: {"alias", "display", "representation", "parameters"} on
 *     stdout, exit 0; or {"error": "no_match" | "ambiguous" | "immutable",
 *     "message", "suggestions" | "candidates"} on stdout, exit 1; config
 *     errors on stderr, exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alias.h"
#include "alias_format.h"
#include "cli.h"
#include "help.h"
#include "util.h"
#include "../config/config.h"

static void
print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);

	if (s != NULL) {
		puts(s);
		free(s);
	}
}

static int
parse_usage(void)
{
	fprintf(stderr, "usage: ackbot parse-format [--multiple] FORMAT TEXT\n"
	    "  prints the parameters FORMAT extracts from TEXT as JSON\n");
	return 2;
}

int
cli_parse_format(int argc, char **argv)
{
	const char *fmt = NULL, *text = NULL;
	bool multiple = false;
	json_t *params = NULL;
	char err[1024];
	int i, rc;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--multiple") == 0 || strcmp(argv[i], "-m") == 0)
			multiple = true;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return parse_usage();
		else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && fmt == NULL) {
			fmt = argv[++i];
		} else if (fmt == NULL)
			fmt = argv[i];
		else if (text == NULL)
			text = argv[i];
		else
			return parse_usage();
	}
	if (fmt == NULL || text == NULL)
		return parse_usage();
	rc = afmt_parse(fmt, strlen(fmt), text, strlen(text), multiple, &params, err, sizeof err);
	if (rc != 1) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	print_json(params);
	json_decref(params);
	return 0;
}

static int
test_usage(void)
{
	fprintf(stderr, "usage: ackbot test-alias [--config FILE] TEXT...\n"
	    "  shows which alias TEXT runs, with its parameters, as JSON\n");
	return 2;
}

static json_t *
candidate_json(const struct alias_candidate *c)
{
	return json_pack("{s:s,s:s?,s:s}", "alias", c->alias->name, "display", c->display,
	    "representation", c->representation);
}

int
cli_test_alias(int argc, char **argv)
{
	const char *path = getenv("ACKBOT_CONFIG");
	struct buf text;
	struct cfg *c = NULL;
	struct alias_set *set = NULL;
	struct alias_match m;
	struct diag d;
	json_t *out = NULL;
	const char *t;
	int i, rc = 1;

	buf_init(&text, 0);
	for (i = 0; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return test_usage();
		else {
			if (text.len > 0)
				buf_putc(&text, ' ');
			buf_puts(&text, argv[i]);
		}
	}
	if (text.len == 0) {
		buf_free(&text);
		return test_usage();
	}
	if (path == NULL)
		path = ACKBOT_DEFAULT_CONFIG;

	diag_init(&d);
	if (cfg_load(path, false, &c, &d) != 0) {
		diag_print(&d, stderr);
		rc = 2;
		goto out;
	}
	set = alias_set_build(c, &d);
	diag_print(&d, stderr);         /* warnings too: overlaps explain ties */
	if (d.nerrors > 0) {
		rc = 2;
		goto out;
	}
	/* a line pasted from chat may keep the command prefix */
	t = text.data;
	if (c->bot.prefix != NULL && c->bot.prefix[0] != '\0' &&
	    strncmp(t, c->bot.prefix, strlen(c->bot.prefix)) == 0)
		t += strlen(c->bot.prefix);

	switch (alias_set_match(set, t, strlen(t), &m)) {
	case ALIAS_MATCHED: {
		char err[ACK_ERR_LEN];
		json_t *ctx = json_pack("{s:O,s:{s:s?}}", "system",
		    json_object(), "bot", "name", c->bot.name);
		size_t k;

		for (k = 0; k < c->vars.n; k++)
			json_object_set_new(json_object_get(ctx, "system"), c->vars.v[k].key,
			    json_string(c->vars.v[k].value.s ? c->vars.v[k].value.s : ""));
		if (alias_apply_immutable(set, m.alias, m.params, ctx, err, sizeof err) < 0) {
			out = json_pack("{s:s,s:s}", "error", "immutable", "message", err);
		} else {
			out = json_pack("{s:s,s:s?,s:s,s:O}", "alias", m.alias->name, "display",
			    m.display, "representation", m.representation, "parameters", m.params);
			rc = 0;
		}
		json_decref(ctx);
		break;
	}
	case ALIAS_AMBIGUOUS: {
		json_t *cands = json_array();
		size_t k;

		for (k = 0; k < m.ncandidates; k++)
			json_array_append_new(cands, candidate_json(&m.candidates[k]));
		out = json_pack("{s:s,s:s,s:o}", "error", "ambiguous", "message", m.message,
		    "candidates", cands);
		break;
	}
	case ALIAS_NO_MATCH: {
		struct help_item it[3];
		json_t *sug = json_array();
		size_t k, n = help_suggest(c, t, NULL, NULL, it, 3);

		for (k = 0; k < n; k++)
			json_array_append_new(sug, json_string(it[k].display));
		out = json_pack("{s:s,s:s,s:o}", "error", "no_match", "message", m.message,
		    "suggestions", sug);
		break;
	}
	}
	print_json(out);
	json_decref(out);
	alias_match_clear(&m);
out:
	alias_set_free(set);
	cfg_free(c);
	diag_free(&d);
	buf_free(&text);
	return rc;
}
