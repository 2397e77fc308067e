/*
 * alias.h - the alias set: every alias of a config compiled once, indexed,
 * and matched against chat commands.
 *
 * alias_set_build compiles each representation of each alias (alias_format.h)
 * and each ack/result/immutable template, reporting every problem into a
 * struct diag with file:line:col. A bad format is reported and left out; it
 * never stops the other aliases from working (st2 quirk Q10). It also warns
 * about formats that overlap (the same command would match two of them with
 * equal specificity).
 *
 * Matching one command (alias_set_match):
 *   - only enabled aliases take part; display-only formats are help only;
 *   - ordinary formats first; match_multiple formats only when no ordinary
 *     format matched (st2 §7);
 *   - where StackStorm refuses a command that several formats match,
 *     ackbot takes the most specific match: the most literal (non-parameter)
 *     text matched, then the most parameters filled from the command. Only
 *     a true tie is ambiguous, and the candidates are named. Two tied
 *     formats of the same alias that yield the same parameters are not a
 *     conflict (a duplicated format, st2 #4511);
 *   - formats are indexed by their literal first word, so a command is only
 *     tried against the formats that start with its first word plus those
 *     that start with a placeholder or a regex construct.
 *
 * Ownership and lifetime: the set borrows the struct cfg it was built from
 * (aliases, display and representation strings point into it); free the set
 * before the cfg. The set is immutable after build, so a reload builds a new
 * one and swaps. Matching uses scratch buffers inside the set: it is not
 * reentrant (one libuv loop, one caller at a time).
 */
#ifndef ACKBOT_ALIAS_H
#define ACKBOT_ALIAS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../config/config.h"
#include "util.h"

struct alias_set;
struct tmpl;

/* Compiles every alias of cfg; problems go to d (file = cfg->path). Returns
 * the set (never NULL): aliases with errors are left out of it. The caller
 * decides whether d->nerrors makes the config unusable. */
struct alias_set *alias_set_build(const struct cfg *cfg, struct diag *d);
void alias_set_free(struct alias_set *set);
const struct cfg *alias_set_cfg(const struct alias_set *set);

/* One (alias, representation) the matcher knows about. */
struct alias_candidate {
	const struct cfg_alias *alias;
	const char *display;            /* NULL for a representation-only format */
	const char *representation;
	bool multiple;                  /* match_multiple */
};

/* The matchable entries, in config order (alias, then format, then
 * representation). Disabled aliases and bad formats are not included. */
size_t alias_set_count(const struct alias_set *set);
const struct alias_candidate *alias_set_entry(const struct alias_set *set, size_t i);

enum alias_match_kind {
	ALIAS_NO_MATCH,
	ALIAS_MATCHED,
	ALIAS_AMBIGUOUS,
};

struct alias_match {
	enum alias_match_kind kind;
	/* ALIAS_MATCHED */
	const struct cfg_alias *alias;
	const char *display;            /* NULL for a representation-only format */
	const char *representation;
	bool multiple;
	json_t *params;                 /* owned: an object name -> string, or for
	                                   a match_multiple format an array of
	                                   objects, one per execution */
	/* ALIAS_AMBIGUOUS: the tied candidates, in config order */
	struct alias_candidate *candidates;
	size_t ncandidates;
	/* NO_MATCH / AMBIGUOUS: a one-line explanation, starting with st2's
	 * wording ("Command '...' matched no patterns", "... matched more
	 * than 1 pattern: a, b") */
	char message[ACK_ERR_LEN];
};

/*
 * Matches text[0..len) (the command: prefix and mention already removed).
 * Fills *out (which alias_match_clear must release) and returns out->kind.
 * Invalid UTF-8 is replaced by U+FFFD before matching.
 */
enum alias_match_kind alias_set_match(const struct alias_set *set, const char *text,
    size_t len, struct alias_match *out);
void alias_match_clear(struct alias_match *m);

/*
 * Adds the alias's immutable_parameters to params (an object, or an array of
 * objects for match_multiple), each value rendered with ctx (the router's
 * template context: user, channel, vars...). If the command itself set one
 * of them (a placeholder or a trailing key=value pair), nothing is added
 * and -1 is returned with "Immutable arguments cannot be overriden: k1,k2"
 * (st2's words) in err, to be told to the user. -1 also when a value fails
 * to render. 0 on success.
 */
int alias_apply_immutable(const struct alias_set *set, const struct cfg_alias *alias,
    json_t *params, const json_t *ctx, char *err, size_t errlen);

/* The alias's compiled ack and result templates; NULL when it has none
 * (the built-in text applies) or it is disabled with `ack = false` (see
 * alias->ack.enabled). */
const struct tmpl *alias_ack_template(const struct alias_set *set, const struct cfg_alias *alias);
const struct tmpl *alias_result_template(const struct alias_set *set, const struct cfg_alias *alias);

#endif
