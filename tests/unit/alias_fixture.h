/*
 * alias_fixture.h - builds a struct cfg holding only aliases from a JSON
 * list written the StackStorm way (as in st2-alias/vectors.json), for the
 * alias engine's tests. Header-only: each test program includes it once.
 *
 * Each alias: {name, enabled?, description?, pack?, formats: [string |
 * {display?, representation?: string | [string], match_multiple?}],
 * immutable_parameters?: {k: v}}. pack becomes the help category. A
 * non-string immutable value is stored as its JSON text (ackbot's config
 * only has scalar immutable values). The result is freed with cfg_free.
 */
#ifndef ACKBOT_ALIAS_FIXTURE_H
#define ACKBOT_ALIAS_FIXTURE_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "bot/util.h"
#include "config/config.h"

static void
fixture_strv_push(struct cfg_strv *v, const char *s, int line)
{
	v->v = xrealloc(v->v, (v->n + 1) * sizeof *v->v);
	v->v[v->n].s = xstrdup(s);
	v->v[v->n].pos.line = line;
	v->v[v->n].pos.col = 1;
	v->n++;
}

static struct cfg *
fixture_cfg(const json_t *aliases)
{
	struct cfg *c = xcalloc(1, sizeof *c);
	size_t i, j;

	c->path = xstrdup("fixture");
	c->naliases = json_array_size(aliases);
	c->aliases = xcalloc(c->naliases ? c->naliases : 1, sizeof *c->aliases);
	for (i = 0; i < c->naliases; i++) {
		const json_t *ja = json_array_get(aliases, i);
		const json_t *fm = json_object_get(ja, "formats");
		const json_t *en = json_object_get(ja, "enabled");
		const json_t *im = json_object_get(ja, "immutable_parameters");
		const char *pack = json_string_value(json_object_get(ja, "pack"));
		const char *desc = json_string_value(json_object_get(ja, "description"));
		struct cfg_alias *a = &c->aliases[i];
		int line = (int)(i + 1) * 10;

		a->name = xstrdup(json_string_value(json_object_get(ja, "name")));
		a->pos.line = line;
		a->pos.col = 1;
		a->enabled = en == NULL || json_is_true(en);
		a->category = xstrdup(pack != NULL ? pack : "general");
		a->description = desc != NULL ? xstrdup(desc) : NULL;
		a->ack.enabled = a->result.enabled = true;
		a->nformats = json_array_size(fm);
		a->formats = xcalloc(a->nformats ? a->nformats : 1, sizeof *a->formats);
		for (j = 0; j < a->nformats; j++) {
			const json_t *jf = json_array_get(fm, j);
			struct cfg_format *f = &a->formats[j];

			f->pos.line = line + 1 + (int)j;
			f->pos.col = 1;
			if (json_is_string(jf)) {
				f->display.s = xstrdup(json_string_value(jf));
				f->display.pos = f->pos;
				fixture_strv_push(&f->representations, json_string_value(jf),
				    f->pos.line);
				continue;
			}
			if (json_is_string(json_object_get(jf, "display"))) {
				f->display.s = xstrdup(json_string_value(json_object_get(jf, "display")));
				f->display.pos = f->pos;
			}
			{
				const json_t *r = json_object_get(jf, "representation");
				size_t k;

				if (json_is_string(r) && json_string_length(r) > 0)
					fixture_strv_push(&f->representations, json_string_value(r),
					    f->pos.line);
				for (k = 0; json_is_array(r) && k < json_array_size(r); k++)
					fixture_strv_push(&f->representations,
					    json_string_value(json_array_get(r, k)), f->pos.line);
			}
			f->match_multiple = json_is_true(json_object_get(jf, "match_multiple"));
		}
		if (json_is_object(im)) {
			const char *k;
			json_t *v;

			a->immutable.v = xcalloc(json_object_size(im) ? json_object_size(im) : 1,
			    sizeof *a->immutable.v);
			json_object_foreach((json_t *)im, k, v) {
				struct cfg_kv *kv = &a->immutable.v[a->immutable.n++];

				kv->key = xstrdup(k);
				kv->value.s = json_is_string(v) ? xstrdup(json_string_value(v)) :
				    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				kv->value.pos.line = line + 9;
				kv->value.pos.col = 1;
			}
		}
	}
	return c;
}

/* One alias named name with the given string formats (NULL-terminated). */
static struct cfg *
fixture_simple(const char *name, const char *const *formats)
{
	json_t *list = json_array(), *a = json_object(), *f = json_array();
	struct cfg *c;

	for (; *formats != NULL; formats++)
		json_array_append_new(f, json_string(*formats));
	json_object_set_new(a, "name", json_string(name));
	json_object_set_new(a, "formats", f);
	json_array_append_new(list, a);
	c = fixture_cfg(list);
	json_decref(list);
	return c;
}

#endif
