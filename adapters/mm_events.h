/*
 * mm_events.h - the Mattermost websocket protocol without I/O: frames,
 * the event sequence of a connection, hello, and `posted` events turned
 * into chat events (shared/protocols/mattermost.md §1.5, §1.9, §2).
 *
 * Everything here is pure (no clock, no sockets, no logging) so that the
 * unit tests can feed it frames directly; mattermost.c does the I/O and
 * decides what to log.
 *
 * Ownership: a struct mm_frame or struct mm_post owns the JSON it holds
 * and is released with mm_frame_clear() / mm_post_clear(); the strings it
 * points to live as long as it does (a post does not point into the event
 * data it was read from). A struct mm_session is initialised by
 * mm_session_init() and released by mm_session_free().
 */
#ifndef ACKBOT_MM_EVENTS_H
#define ACKBOT_MM_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters/adapter.h"

#define MM_MAX_ID 64                    /* longest id accepted (real ones: 26) */
#define MM_DEDUPE_WINDOW 4096           /* post ids remembered at least */

/*
 * Post ids already delivered, in bounded memory: two generations of a
 * fixed-size hash set of 64-bit hashes; when the current one holds
 * `window` ids it becomes the previous one and the old previous one is
 * forgotten. So the last `window` ids are always remembered, never more
 * than 2 * window, and memory is fixed at creation (16 bytes per id of
 * the window, two tables at half load).
 */
struct mm_dedupe {
	uint64_t *cur, *prev;           /* open addressing; 0 = empty slot */
	size_t slots;                   /* per table, a power of two */
	size_t window;
	size_t ncur;
};

void mm_dedupe_init(struct mm_dedupe *d, size_t window);
void mm_dedupe_free(struct mm_dedupe *d);
/* true if id was seen in the window; otherwise records it and returns
 * false. */
bool mm_dedupe_check(struct mm_dedupe *d, const char *id);
/* true if id was seen, without recording it. */
bool mm_dedupe_contains(const struct mm_dedupe *d, const char *id);

/* The state of the session with the server, across connections. */
struct mm_session {
	char self_id[MM_MAX_ID + 1];    /* the bot's user id ("" until known) */
	char self_name[MM_MAX_ID + 1];  /* its username, lower case */
	char conn_id[MM_MAX_ID + 1];    /* from the last hello; "" = none */
	int64_t next_seq;               /* seq expected from the next event */
	bool ignore_bots;               /* [mattermost] ignore_bots */
	bool reply_in_thread;           /* [mattermost] reply_in_thread */
	struct mm_dedupe dedupe;
};

void mm_session_init(struct mm_session *s, bool ignore_bots, bool reply_in_thread);
void mm_session_free(struct mm_session *s);
/* Sets the bot's identity (from GET /users/me). Returns -1 if either is
 * empty or too long. */
int mm_session_set_self(struct mm_session *s, const char *id, const char *username);

enum mm_frame_kind {
	MM_FRAME_EVENT,                 /* {"event": ..., "data": ..., "seq": N} */
	MM_FRAME_REPLY,                 /* {"status": ..., "seq_reply": N} */
	MM_FRAME_BAD,                   /* not one of those; why says what */
};

struct mm_frame {
	enum mm_frame_kind kind;
	json_t *root;                   /* owned */
	const char *event;              /* EVENT: the event name */
	bool has_seq;
	int64_t seq;
	json_t *data;                   /* EVENT: an object, or NULL */
	json_t *broadcast;              /* EVENT: an object, or NULL */
	char why[128];                  /* BAD */
};

/* Parses one text frame (a trailing newline or spaces are fine). Always
 * fills f; returns f->kind. */
enum mm_frame_kind mm_frame_parse(const char *s, size_t n, struct mm_frame *f);
void mm_frame_clear(struct mm_frame *f);

enum mm_seq_verdict {
	MM_SEQ_OK,                      /* the expected one: next_seq advanced */
	MM_SEQ_GAP,                     /* later than expected: events are missing
	                                 * (next_seq unchanged: resume from it) */
	MM_SEQ_OLD,                     /* earlier than expected: already seen */
};

/* Checks an event's seq against the session (not for hello). */
enum mm_seq_verdict mm_session_seq(struct mm_session *s, int64_t seq);

enum mm_hello_result {
	MM_HELLO_FIRST,                 /* the first connection id of the session */
	MM_HELLO_SAME,                  /* the id we had (not expected; harmless) */
	MM_HELLO_NEW,                   /* a different id: the server started a new
	                                 * connection, events may have been missed */
	MM_HELLO_BAD,                   /* no usable connection_id */
};

/*
 * A hello (seq 0): stores the connection id (the old one is copied to
 * old_id, which may be NULL) and expects seq 1 next. If the broadcast names
 * a user other than the bot, *other_user is set (the token belongs to
 * someone else than /users/me said: never expected).
 */
enum mm_hello_result mm_session_hello(struct mm_session *s, const json_t *data,
    const json_t *broadcast, char *old_id, size_t old_len, bool *other_user);

/* true for the events the adapter reads: only `posted` (edits, deletions,
 * typing, status changes, reactions ... are not commands). */
bool mm_event_wanted(const char *event);

enum mm_post_verdict {
	MM_POST_RUN,                    /* deliver it */
	MM_POST_OWN,                    /* the bot's own post */
	MM_POST_BOT,                    /* another bot's (or a webhook's), ignore_bots */
	MM_POST_SYSTEM,                 /* type system_* (joins, header changes, ...) */
	MM_POST_OTHER_TYPE,             /* another non-empty type (plugins: custom_*) */
	MM_POST_DUP,                    /* delivered before (a replay after a resume) */
	MM_POST_BAD,                    /* malformed; why says what */
};

struct mm_post {
	json_t *post;                   /* owned: the inner post, parsed again */
	const char *id;
	const char *channel_id;
	const char *root_id;            /* "" for a root post */
	const char *user_id;
	const char *type;               /* "" for a normal post */
	char *channel_name;             /* may be NULL */
	char *user_name;                /* sender_name without '@'; may be NULL */
	char *text;                     /* the message, mention of the bot removed */
	char channel_type;              /* 'O', 'P', 'D', 'G', or '?' */
	bool is_direct;                 /* channel type D */
	bool mentions_bot;              /* @username of the bot in the message */
	char why[128];                  /* BAD */
};

/*
 * Reads the data of a `posted` event: data.post is a JSON string holding
 * the post, parsed a second time. Filters in this order: malformed, system
 * type, other non-empty type, own post, other bots (props.from_bot or
 * props.from_webhook = "true", when ignore_bots), then duplicates (the id
 * is recorded only for posts that pass, so MM_POST_RUN happens at most
 * once per id within the window). p is always filled; clear it.
 */
enum mm_post_verdict mm_parse_posted(struct mm_session *s, const json_t *data,
    struct mm_post *p);
void mm_post_clear(struct mm_post *p);
const char *mm_post_verdict_name(enum mm_post_verdict v);

/*
 * Fills ev (pointing into p) for the core: platform "mattermost"; thread_id
 * is the root_id when the post is in a thread, else the post's own id when
 * reply_in_thread (so replies thread under the command), else NULL.
 */
void mm_post_to_event(const struct mm_post *p, bool reply_in_thread, struct chat_event *ev);

/*
 * Finds mentions of @username (case-insensitive, as a whole word: not
 * part of a longer name or an e-mail address) in text; returns a new
 * string without them (with a ':' or ',' right after a mention, and the
 * spaces around it collapsed, trimmed at both ends), and sets *found.
 */
char *mm_strip_mention(const char *text, const char *username, bool *found);

#endif
