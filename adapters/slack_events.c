/*
 * slack_events.c - Socket Mode frames: parsing envelopes, deciding which
 * message events are for the bot, reading button clicks, and remembering
 * what was already seen (dedupe). Pure functions; no I/O.
 *
 * Shapes: shared/protocols/slack.md §1.2-1.3 (hello, disconnect), §2
 * (envelopes), §3 (message events and filters), §5.2 (block_actions).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/slack_int.h"
#include "bot/util.h"

/* ---- frames ------------------------------------------------------------- */

static const char *
str_field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool
printable_ascii(const char *s, size_t max)
{
	size_t n = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++)
		if (n >= max || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int
slack_frame_parse(const char *data, size_t len, struct slack_frame *f, char *err,
    size_t errlen)
{
	json_error_t je;
	json_t *root, *p;
	const char *type;

	memset(f, 0, sizeof *f);
	root = json_loadb(data, len, 0, &je);
	if (root == NULL)
		return ack_err(err, errlen, "not JSON (%s at line %d column %d)", je.text,
		    je.line, je.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return ack_err(err, errlen, "not a JSON object");
	}
	f->root = root;
	type = str_field(root, "type");
	if (type == NULL) {
		slack_frame_free(f);
		return ack_err(err, errlen, "no \"type\"");
	}
	f->type_name = type;
	if (strcmp(type, "hello") == 0) {
		f->type = SLACK_FRAME_HELLO;
		f->num_connections = (int)json_integer_value(json_object_get(root,
		    "num_connections"));
		f->refresh_s = (long)json_integer_value(json_object_get(json_object_get(root,
		    "debug_info"), "approximate_connection_time"));
		return 0;
	}
	if (strcmp(type, "disconnect") == 0) {
		f->type = SLACK_FRAME_DISCONNECT;
		f->reason = str_field(root, "reason");
		if (f->reason == NULL)
			f->reason = "unknown";
		return 0;
	}
	f->envelope_id = str_field(root, "envelope_id");
	if (f->envelope_id == NULL) {
		ack_err(err, errlen, "a \"%s\" frame without an envelope_id", type);
		slack_frame_free(f);
		return -1;
	}
	if (!printable_ascii(f->envelope_id, SLACK_ENVELOPE_ID_MAX)) {
		slack_frame_free(f);
		return ack_err(err, errlen, "an unusable envelope_id");
	}
	p = json_object_get(root, "payload");
	f->payload = json_is_object(p) ? p : NULL;
	if (strcmp(type, "events_api") == 0)
		f->type = SLACK_FRAME_EVENTS_API;
	else if (strcmp(type, "interactive") == 0)
		f->type = SLACK_FRAME_INTERACTIVE;
	else if (strcmp(type, "slash_commands") == 0)
		f->type = SLACK_FRAME_SLASH;
	else
		f->type = SLACK_FRAME_OTHER;
	if (f->type != SLACK_FRAME_OTHER && f->payload == NULL)
		return ack_err(err, errlen, "a \"%s\" envelope without a payload object", type);
	if (f->type == SLACK_FRAME_EVENTS_API) {
		json_t *ev = json_object_get(f->payload, "event");

		f->event = json_is_object(ev) ? ev : NULL;
		f->event_id = str_field(f->payload, "event_id");
		if (f->event_id != NULL && !printable_ascii(f->event_id, 128))
			f->event_id = NULL;
		f->retry_attempt = (int)json_integer_value(json_object_get(root,
		    "retry_attempt"));
		if (f->event == NULL)
			return ack_err(err, errlen, "an events_api envelope without an event");
	}
	return 0;
}

void
slack_frame_free(struct slack_frame *f)
{
	json_decref(f->root);
	memset(f, 0, sizeof *f);
}

/* ---- message events ------------------------------------------------------- */

/* "1767607200.000100" */
static bool
ts_valid(const char *s)
{
	size_t n = 0, dots = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++, n++) {
		if (n >= 32)
			return false;
		if (*s == '.')
			dots++;
		else if (*s < '0' || *s > '9')
			return false;
	}
	return dots <= 1;
}

static bool
id_ok(const char *s)
{
	return s != NULL && slack_id_valid(s, strlen(s));
}

enum slack_verdict
slack_msg_classify(const json_t *event, const struct slack_self *self, struct slack_msg *m,
    const char **why)
{
	const char *type = str_field(event, "type");
	const char *subtype = str_field(event, "subtype");
	const char *bot_id = str_field(event, "bot_id");
	const json_t *text;

	memset(m, 0, sizeof *m);
	*why = NULL;
	if (type == NULL) {
		*why = "an event without a type";
		return SLACK_INVALID;
	}
	if (strcmp(type, "message") != 0 && strcmp(type, "app_mention") != 0) {
		*why = "not a message event";
		return SLACK_IGNORE;
	}
	m->type = type;
	if (json_is_true(json_object_get(event, "hidden"))) {
		*why = "a hidden message (edit, delete, ...)";
		return SLACK_IGNORE;
	}
	if (subtype != NULL && strcmp(subtype, "thread_broadcast") != 0 &&
	    strcmp(subtype, "file_share") != 0 && strcmp(subtype, "bot_message") != 0) {
		*why = "a message subtype the bot does not act on (edit, delete, join, ...)";
		return SLACK_IGNORE;
	}
	m->user = str_field(event, "user");
	if (self->user_id != NULL && m->user != NULL && strcmp(m->user, self->user_id) == 0) {
		*why = "the bot's own message";
		return SLACK_IGNORE;
	}
	if (bot_id != NULL && self->bot_id != NULL && strcmp(bot_id, self->bot_id) == 0) {
		*why = "the bot's own message";
		return SLACK_IGNORE;
	}
	if ((bot_id != NULL || (subtype != NULL && strcmp(subtype, "bot_message") == 0)) &&
	    self->ignore_bots) {
		*why = "a message from another bot (ignore_bots)";
		return SLACK_IGNORE;
	}
	if (m->user == NULL && bot_id != NULL)
		m->user = bot_id;       /* a bot speaking, ignore_bots off */
	m->channel = str_field(event, "channel");
	m->channel_type = str_field(event, "channel_type");
	m->ts = str_field(event, "ts");
	m->thread_ts = str_field(event, "thread_ts");
	text = json_object_get(event, "text");
	m->text = json_is_string(text) ? json_string_value(text) : "";
	if (!id_ok(m->channel)) {
		*why = "a message without a usable channel";
		return SLACK_INVALID;
	}
	if (!id_ok(m->user)) {
		*why = "a message without a usable user";
		return SLACK_INVALID;
	}
	if (!ts_valid(m->ts)) {
		*why = "a message without a usable ts";
		return SLACK_INVALID;
	}
	if (m->thread_ts != NULL && !ts_valid(m->thread_ts)) {
		*why = "a message with an unusable thread_ts";
		return SLACK_INVALID;
	}
	if (text != NULL && !json_is_string(text)) {
		*why = "a message whose text is not a string";
		return SLACK_INVALID;
	}
	if (m->channel_type != NULL)
		m->is_direct = strcmp(m->channel_type, "im") == 0;
	else
		m->is_direct = m->channel[0] == 'D';
	return SLACK_HANDLE;
}

/* ---- button clicks -------------------------------------------------------- */

enum slack_verdict
slack_action_parse(const json_t *payload, struct slack_action *a, const char **why)
{
	const char *type = str_field(payload, "type");
	const json_t *user = json_object_get(payload, "user");
	const json_t *cont = json_object_get(payload, "container");
	const json_t *msg = json_object_get(payload, "message");
	const json_t *act = json_array_get(json_object_get(payload, "actions"), 0);

	memset(a, 0, sizeof *a);
	*why = NULL;
	if (type == NULL || strcmp(type, "block_actions") != 0) {
		*why = "an interaction the bot does not use";
		return SLACK_IGNORE;
	}
	a->user_id = str_field(user, "id");
	a->user_name = str_field(user, "username");
	if (a->user_name == NULL)
		a->user_name = str_field(user, "name");
	a->channel = str_field(cont, "channel_id");
	if (a->channel == NULL)
		a->channel = str_field(json_object_get(payload, "channel"), "id");
	a->message_ts = str_field(cont, "message_ts");
	if (a->message_ts == NULL)
		a->message_ts = str_field(msg, "ts");
	a->thread_ts = str_field(cont, "thread_ts");
	if (a->thread_ts == NULL)
		a->thread_ts = str_field(msg, "thread_ts");
	a->action_id = str_field(act, "action_id");
	a->value = str_field(act, "value");
	if (!id_ok(a->user_id)) {
		*why = "a click without a usable user.id";
		return SLACK_INVALID;
	}
	if (!id_ok(a->channel)) {
		*why = "a click without a usable channel";
		return SLACK_INVALID;
	}
	if (!ts_valid(a->message_ts)) {
		*why = "a click without a usable message ts";
		return SLACK_INVALID;
	}
	if (a->thread_ts != NULL && !ts_valid(a->thread_ts))
		a->thread_ts = NULL;
	if (!json_is_object(act)) {
		*why = "a click without actions";
		return SLACK_INVALID;
	}
	if (a->value == NULL || strlen(a->value) > 2000) {
		*why = "a click on a button without a usable value";
		return SLACK_INVALID;
	}
	return SLACK_HANDLE;
}

/* ---- dedupe ------------------------------------------------------------------ */

#define DD_KEY 128

struct dd_entry {
	uint64_t h;
	char key[DD_KEY];
};

struct slack_dedupe {
	size_t cap, n, next;
	struct dd_entry *ring;
	uint32_t *idx;          /* ring index + 1; 0 = empty slot */
	size_t mask;
};

static uint64_t
dd_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

struct slack_dedupe *
slack_dedupe_new(size_t cap)
{
	struct slack_dedupe *d = xcalloc(1, sizeof *d);
	size_t size = 1;

	if (cap < 1)
		cap = 1;
	while (size < cap * 2)
		size <<= 1;
	d->cap = cap;
	d->ring = xcalloc(cap, sizeof *d->ring);
	d->idx = xcalloc(size, sizeof *d->idx);
	d->mask = size - 1;
	return d;
}

static size_t
dd_find(const struct slack_dedupe *d, const char *key, uint64_t h, bool *found)
{
	size_t i = (size_t)h & d->mask;

	*found = false;
	while (d->idx[i] != 0) {
		const struct dd_entry *e = &d->ring[d->idx[i] - 1];

		if (e->h == h && strncmp(e->key, key, DD_KEY - 1) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & d->mask;
	}
	return i;
}

/* Empties slot i and shifts back what probed past it (linear probing). */
static void
dd_remove_slot(struct slack_dedupe *d, size_t i)
{
	size_t j = i, k;

	d->idx[i] = 0;
	for (;;) {
		j = (j + 1) & d->mask;
		if (d->idx[j] == 0)
			return;
		k = (size_t)d->ring[d->idx[j] - 1].h & d->mask;
		/* move j back to i unless its home k lies cyclically in (i, j] */
		if ((i < j) ? (k <= i || k > j) : (k <= i && k > j)) {
			d->idx[i] = d->idx[j];
			d->idx[j] = 0;
			i = j;
		}
	}
}

bool
slack_dedupe_check(struct slack_dedupe *d, const char *key)
{
	uint64_t h = dd_hash(key);
	bool found;
	size_t slot = dd_find(d, key, h, &found);
	struct dd_entry *e;

	if (found)
		return true;
	if (d->n == d->cap) {
		/* forget the oldest */
		bool f2;
		size_t old;

		e = &d->ring[d->next];
		old = dd_find(d, e->key, e->h, &f2);
		if (f2)
			dd_remove_slot(d, old);
		d->n--;
		slot = dd_find(d, key, h, &found);
	}
	e = &d->ring[d->next];
	e->h = h;
	snprintf(e->key, sizeof e->key, "%s", key);
	d->idx[slot] = (uint32_t)(d->next + 1);
	d->next = (d->next + 1) % d->cap;
	d->n++;
	return false;
}

size_t
slack_dedupe_count(const struct slack_dedupe *d)
{
	return d->n;
}

void
slack_dedupe_free(struct slack_dedupe *d)
{
	if (d == NULL)
		return;
	free(d->ring);
	free(d->idx);
	free(d);
}
