/*
 * fuzz_format.c - libFuzzer target for the alias engine: format compilation,
 * trailing key=value pairs, parameter extraction, and the alias set (index,
 * specificity, overlap check) built around the fuzzed format.
 *
 * Input: byte 0 holds flags (bit 0: match_multiple), then the format, a NUL
 * byte, and the command (no NUL: the whole rest is the format and the
 * command is empty).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/alias.h"
#include "bot/alias_format.h"
#include "bot/alias_pairs.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
strv1(struct cfg_strv *v, const char *s, size_t n)
{
	v->v = xcalloc(1, sizeof *v->v);
	v->v[0].s = xstrndup(s, n);
	v->v[0].pos.line = 1;
	v->v[0].pos.col = 1;
	v->n = 1;
}

/* A config with the fuzzed format and two fixed aliases around it. */
static void
run_set(const char *fmt, size_t flen, bool multiple, const char *cmd, size_t clen)
{
	static const char *const fixed[] = { "deploy {{app}} to {{env=staging}}",
		"{{who}} says {{what}}" };
	struct cfg *c = xcalloc(1, sizeof *c);
	struct diag d;
	struct alias_set *set;
	struct alias_match m;
	size_t i;

	c->path = xstrdup("fuzz");
	c->naliases = 3;
	c->aliases = xcalloc(3, sizeof *c->aliases);
	for (i = 0; i < 3; i++) {
		struct cfg_alias *a = &c->aliases[i];

		a->name = xasprintf("a%zu", i);
		a->enabled = true;
		a->category = xstrdup("general");
		a->nformats = 1;
		a->formats = xcalloc(1, sizeof *a->formats);
		a->formats[0].pos.line = 1;
		if (i == 0) {
			strv1(&a->formats[0].representations, fmt, flen);
			a->formats[0].match_multiple = multiple;
		} else {
			strv1(&a->formats[0].representations, fixed[i - 1], strlen(fixed[i - 1]));
		}
	}
	diag_init(&d);
	set = alias_set_build(c, &d);
	alias_set_match(set, cmd, clen, &m);
	alias_match_clear(&m);
	alias_set_free(set);
	diag_free(&d);
	cfg_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *fmt, *cmd, *nul;
	size_t flen, clen;
	bool multiple;
	json_t *params = NULL;
	char err[512];
	struct apairs p;

	if (size < 1)
		return 0;
	multiple = data[0] & 1;
	fmt = (const char *)data + 1;
	nul = memchr(fmt, '\0', size - 1);
	flen = nul ? (size_t)(nul - fmt) : size - 1;
	cmd = nul ? nul + 1 : "";
	clen = nul ? size - 1 - flen - 1 : 0;

	apairs_init(&p);
	apairs_scan(&p, cmd, clen);
	apairs_free(&p);

	if (afmt_parse(fmt, flen, cmd, clen, multiple, &params, err, sizeof err) == 1)
		json_decref(params);
	/* the set path needs valid UTF-8 strings without NUL in the config */
	if (memchr(fmt, '\0', flen) == NULL)
		run_set(fmt, flen, multiple, cmd, clen);
	return 0;
}
