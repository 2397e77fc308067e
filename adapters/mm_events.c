/*
 * mm_events.c - Mattermost frames, sequence, hello and posted events,
 * without I/O (see mm_events.h).
 */
#include "adapters/mm_events.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/util.h"

/* ---- dedupe ------------------------------------------------------------- */

static uint64_t
id_hash(const char *id)
{
	uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a, then a finaliser */
	const unsigned char *p;

	for (p = (const unsigned char *)id; *p != '\0'; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h != 0 ? h : 1;
}

void
mm_dedupe_init(struct mm_dedupe *d, size_t window)
{
	size_t slots = 16;

	if (window < 4)
		window = 4;
	while (slots < window * 2)
		slots *= 2;
	d->slots = slots;
	d->window = window;
	d->ncur = 0;
	d->cur = xcalloc(slots, sizeof *d->cur);
	d->prev = xcalloc(slots, sizeof *d->prev);
}

void
mm_dedupe_free(struct mm_dedupe *d)
{
	free(d->cur);
	free(d->prev);
	d->cur = d->prev = NULL;
}

/* The slot holding h, or the empty slot where it would go. */
static size_t
table_find(const uint64_t *t, size_t slots, uint64_t h)
{
	size_t i = (size_t)h & (slots - 1);

	while (t[i] != 0 && t[i] != h)
		i = (i + 1) & (slots - 1);
	return i;
}

bool
mm_dedupe_contains(const struct mm_dedupe *d, const char *id)
{
	uint64_t h = id_hash(id);

	return d->cur[table_find(d->cur, d->slots, h)] == h ||
	    d->prev[table_find(d->prev, d->slots, h)] == h;
}

bool
mm_dedupe_check(struct mm_dedupe *d, const char *id)
{
	uint64_t h = id_hash(id), *t;
	size_t i;

	i = table_find(d->cur, d->slots, h);
	if (d->cur[i] == h || d->prev[table_find(d->prev, d->slots, h)] == h)
		return true;
	if (d->ncur >= d->window) {
		/* the current generation is full: it becomes the previous one */
		t = d->prev;
		d->prev = d->cur;
		d->cur = t;
		memset(d->cur, 0, d->slots * sizeof *d->cur);
		d->ncur = 0;
		i = table_find(d->cur, d->slots, h);
	}
	d->cur[i] = h;
	d->ncur++;
	return false;
}

/* ---- session ------------------------------------------------------------ */

void
mm_session_init(struct mm_session *s, bool ignore_bots, bool reply_in_thread)
{
	memset(s, 0, sizeof *s);
	s->ignore_bots = ignore_bots;
	s->reply_in_thread = reply_in_thread;
	mm_dedupe_init(&s->dedupe, MM_DEDUPE_WINDOW);
}

void
mm_session_free(struct mm_session *s)
{
	mm_dedupe_free(&s->dedupe);
}

static bool
copy_id(char *dst, size_t dstlen, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n == 0 || n >= dstlen)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

int
mm_session_set_self(struct mm_session *s, const char *id, const char *username)
{
	size_t i;

	if (!copy_id(s->self_id, sizeof s->self_id, id) ||
	    !copy_id(s->self_name, sizeof s->self_name, username)) {
		s->self_id[0] = s->self_name[0] = '\0';
		return -1;
	}
	for (i = 0; s->self_name[i] != '\0'; i++)
		s->self_name[i] = (char)tolower((unsigned char)s->self_name[i]);
	return 0;
}

/* ---- frames ------------------------------------------------------------- */

enum mm_frame_kind
mm_frame_parse(const char *s, size_t n, struct mm_frame *f)
{
	json_error_t je;
	json_t *ev, *seq, *reply;

	memset(f, 0, sizeof *f);
	f->kind = MM_FRAME_BAD;
	f->root = json_loadb(s, n, 0, &je);
	if (f->root == NULL) {
		snprintf(f->why, sizeof f->why, "not JSON (%.80s at byte %d)", je.text,
		    je.position);
		return f->kind;
	}
	if (!json_is_object(f->root)) {
		snprintf(f->why, sizeof f->why, "not a JSON object");
		return f->kind;
	}
	ev = json_object_get(f->root, "event");
	reply = json_object_get(f->root, "seq_reply");
	if (ev == NULL && (reply != NULL || json_object_get(f->root, "status") != NULL)) {
		f->kind = MM_FRAME_REPLY;
		return f->kind;
	}
	if (!json_is_string(ev) || json_string_length(ev) == 0) {
		snprintf(f->why, sizeof f->why, "neither an event nor a reply");
		return f->kind;
	}
	f->event = json_string_value(ev);
	seq = json_object_get(f->root, "seq");
	if (json_is_integer(seq)) {
		f->has_seq = true;
		f->seq = (int64_t)json_integer_value(seq);
	} else if (seq != NULL && !json_is_null(seq)) {
		snprintf(f->why, sizeof f->why, "event %.60s with a seq that is not an integer",
		    f->event);
		f->event = NULL;
		return f->kind;
	}
	f->data = json_object_get(f->root, "data");
	if (f->data != NULL && !json_is_object(f->data))
		f->data = NULL;
	f->broadcast = json_object_get(f->root, "broadcast");
	if (f->broadcast != NULL && !json_is_object(f->broadcast))
		f->broadcast = NULL;
	f->kind = MM_FRAME_EVENT;
	return f->kind;
}

void
mm_frame_clear(struct mm_frame *f)
{
	if (f->root != NULL)
		json_decref(f->root);
	memset(f, 0, sizeof *f);
}

enum mm_seq_verdict
mm_session_seq(struct mm_session *s, int64_t seq)
{
	if (seq == s->next_seq) {
		s->next_seq = seq + 1;
		return MM_SEQ_OK;
	}
	return seq > s->next_seq ? MM_SEQ_GAP : MM_SEQ_OLD;
}

enum mm_hello_result
mm_session_hello(struct mm_session *s, const json_t *data, const json_t *broadcast,
    char *old_id, size_t old_len, bool *other_user)
{
	const char *id = json_string_value(json_object_get(data, "connection_id"));
	const char *user = json_string_value(json_object_get(broadcast, "user_id"));
	enum mm_hello_result r;

	if (other_user != NULL)
		*other_user = user != NULL && user[0] != '\0' && s->self_id[0] != '\0' &&
		    strcmp(user, s->self_id) != 0;
	if (old_id != NULL && old_len > 0)
		snprintf(old_id, old_len, "%s", s->conn_id);
	if (id == NULL || id[0] == '\0' || strlen(id) > MM_MAX_ID)
		return MM_HELLO_BAD;
	if (s->conn_id[0] == '\0')
		r = MM_HELLO_FIRST;
	else if (strcmp(s->conn_id, id) == 0)
		r = MM_HELLO_SAME;
	else
		r = MM_HELLO_NEW;
	snprintf(s->conn_id, sizeof s->conn_id, "%s", id);
	s->next_seq = 1;        /* hello is seq 0 */
	return r;
}

/* ---- mentions ----------------------------------------------------------- */

static bool
name_char(int c)
{
	return isalnum(c) || c == '.' || c == '_' || c == '-';
}

/* Does a mention of name (length nl) start at t[i] (the '@')? Sets *end
 * past the mention. */
static bool
mention_at(const char *t, size_t i, const char *name, size_t nl, size_t *end)
{
	size_t j = i + 1 + nl;

	if (t[i] != '@' || strncasecmp(t + i + 1, name, nl) != 0)
		return false;
	if (i > 0 && (name_char((unsigned char)t[i - 1]) || t[i - 1] == '@'))
		return false;   /* part of a word or an address */
	/* Followed by the end, or a character that cannot continue a name. A
	 * '.', '_' or '-' may end a sentence ("thanks @ackbot.") if nothing
	 * name-like follows it. */
	if (t[j] == '.' || t[j] == '_' || t[j] == '-') {
		if (t[j + 1] != '\0' && name_char((unsigned char)t[j + 1]))
			return false;
		*end = j;
		return true;
	}
	if (isalnum((unsigned char)t[j]))
		return false;
	*end = j;
	return true;
}

char *
mm_strip_mention(const char *text, const char *username, bool *found)
{
	size_t nl = username != NULL ? strlen(username) : 0;
	size_t i = 0, end, n;
	struct buf out;
	char *s, *b, *e;

	*found = false;
	buf_init(&out, 0);
	while (text[i] != '\0') {
		if (nl > 0 && mention_at(text, i, username, nl, &end)) {
			*found = true;
			if (text[end] == ':' || text[end] == ',')
				end++;
			/* collapse: drop the spaces after the mention if there
			 * are already spaces before it */
			if (out.len == 0 || out.data[out.len - 1] == ' ' ||
			    out.data[out.len - 1] == '\t' || out.data[out.len - 1] == '\n')
				while (text[end] == ' ' || text[end] == '\t')
					end++;
			i = end;
			continue;
		}
		buf_putc(&out, text[i]);
		i++;
	}
	s = buf_steal(&out);
	/* trim */
	b = s;
	while (*b == ' ' || *b == '\t' || *b == '\r' || *b == '\n')
		b++;
	n = strlen(b);
	e = b + n;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		e--;
	*e = '\0';
	if (b != s)
		memmove(s, b, (size_t)(e - b) + 1);
	return s;
}

/* ---- posted ------------------------------------------------------------- */

bool
mm_event_wanted(const char *event)
{
	return event != NULL && strcmp(event, "posted") == 0;
}

const char *
mm_post_verdict_name(enum mm_post_verdict v)
{
	switch (v) {
	case MM_POST_RUN:
		return "run";
	case MM_POST_OWN:
		return "own post";
	case MM_POST_BOT:
		return "from a bot";
	case MM_POST_SYSTEM:
		return "system post";
	case MM_POST_OTHER_TYPE:
		return "special post type";
	case MM_POST_DUP:
		return "duplicate";
	case MM_POST_BAD:
		return "malformed";
	}
	return "?";
}

static const char *
str_field(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static bool
prop_true(const json_t *props, const char *key)
{
	const json_t *v = json_object_get(props, key);

	/* "true" as a string (what the server sets), or a JSON true */
	return (json_is_string(v) && strcmp(json_string_value(v), "true") == 0) ||
	    json_is_true(v);
}

static bool
sane_id(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;
	size_t i;

	if (n == 0 || n > MM_MAX_ID)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

static enum mm_post_verdict
bad(struct mm_post *p, const char *why)
{
	snprintf(p->why, sizeof p->why, "%s", why);
	return MM_POST_BAD;
}

enum mm_post_verdict
mm_parse_posted(struct mm_session *s, const json_t *data, struct mm_post *p)
{
	const char *ps, *msg, *ct, *sender, *cname;
	json_t *props;
	json_error_t je;

	memset(p, 0, sizeof *p);
	p->channel_type = '?';
	ps = str_field(data, "post");
	if (ps == NULL)
		return bad(p, json_is_object(json_object_get(data, "post")) ?
		    "data.post is an object, not a JSON string" : "no data.post string");
	p->post = json_loadb(ps, strlen(ps), 0, &je);
	if (p->post == NULL || !json_is_object(p->post))
		return bad(p, "data.post is not a JSON object in a string");
	p->id = str_field(p->post, "id");
	p->channel_id = str_field(p->post, "channel_id");
	p->user_id = str_field(p->post, "user_id");
	p->root_id = str_field(p->post, "root_id");
	p->type = str_field(p->post, "type");
	msg = str_field(p->post, "message");
	if (!sane_id(p->id))
		return bad(p, "post without a usable id");
	if (!sane_id(p->channel_id))
		return bad(p, "post without a usable channel_id");
	if (!sane_id(p->user_id))
		return bad(p, "post without a usable user_id");
	if (p->root_id == NULL)
		p->root_id = "";
	else if (p->root_id[0] != '\0' && !sane_id(p->root_id))
		return bad(p, "post with an unusable root_id");
	if (p->type == NULL)
		p->type = "";
	ct = str_field(data, "channel_type");
	if (ct != NULL && strlen(ct) == 1 && strchr("OPDG", ct[0]) != NULL)
		p->channel_type = ct[0];
	p->is_direct = p->channel_type == 'D';
	cname = str_field(data, p->is_direct ? "channel_display_name" : "channel_name");
	if (cname == NULL || cname[0] == '\0')
		cname = str_field(data, "channel_name");
	p->channel_name = xstrdup(cname);
	sender = str_field(data, "sender_name");
	if (sender != NULL && sender[0] != '\0')
		p->user_name = xstrdup(sender[0] == '@' ? sender + 1 : sender);

	if (strncmp(p->type, "system_", 7) == 0)
		return MM_POST_SYSTEM;
	if (p->type[0] != '\0' && strcmp(p->type, "slack_attachment") != 0)
		return MM_POST_OTHER_TYPE;
	if (s->self_id[0] != '\0' && strcmp(p->user_id, s->self_id) == 0)
		return MM_POST_OWN;
	props = json_object_get(p->post, "props");
	if (s->ignore_bots && json_is_object(props) &&
	    (prop_true(props, "from_bot") || prop_true(props, "from_webhook")))
		return MM_POST_BOT;
	if (msg == NULL)
		return bad(p, "post without a message");
	p->text = mm_strip_mention(msg, s->self_name, &p->mentions_bot);
	if (mm_dedupe_check(&s->dedupe, p->id))
		return MM_POST_DUP;
	return MM_POST_RUN;
}

void
mm_post_clear(struct mm_post *p)
{
	if (p->post != NULL)
		json_decref(p->post);
	free(p->user_name);
	free(p->channel_name);
	free(p->text);
	memset(p, 0, sizeof *p);
}

void
mm_post_to_event(const struct mm_post *p, bool reply_in_thread, struct chat_event *ev)
{
	memset(ev, 0, sizeof *ev);
	ev->kind = CHAT_MESSAGE;
	ev->platform = "mattermost";
	ev->channel_id = p->channel_id;
	ev->channel_name = p->channel_name;
	if (p->root_id != NULL && p->root_id[0] != '\0')
		ev->thread_id = p->root_id;
	else if (reply_in_thread)
		ev->thread_id = p->id;
	ev->message_id = p->id;
	ev->user_id = p->user_id;
	ev->user_name = p->user_name;
	ev->is_direct = p->is_direct;
	ev->mentions_bot = p->mentions_bot;
	ev->text = p->text != NULL ? p->text : "";
}
