/*
 * adapter.h - the interface between the bot core and a chat platform.
 *
 * An adapter turns platform traffic into struct chat_event (text already
 * decoded from platform markup to plain text) and delivers it to the host's
 * on_event; it posts and updates messages for the core. The core never sees
 * platform JSON, and adapters never see aliases or confirmations.
 *
 * Ownership: the chat_event and everything it points to is valid only during
 * on_event (copy what you keep). The chat_post passed to post/update is copied
 * by the adapter before post returns. An adapter is created by its own
 * constructor (console_adapter_new, ...) and destroyed through ops->stop,
 * whose callback fires once every handle it owns is closed.
 */
#ifndef ACKBOT_ADAPTER_H
#define ACKBOT_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct cfg;
struct http_client;

enum chat_event_kind {
	CHAT_MESSAGE,           /* typed text */
	CHAT_ACTION,            /* a button click (action_value says which) */
};

struct chat_event {
	enum chat_event_kind kind;
	const char *platform;   /* "console", "slack", "mattermost" */
	const char *channel_id;
	const char *channel_name;       /* may be NULL */
	const char *thread_id;  /* thread root to reply in; NULL if not in a thread */
	const char *message_id; /* the platform's id of this message; may be NULL */
	const char *user_id;    /* immutable platform user id */
	const char *user_name;  /* display/user name (changeable: never used for rules) */
	bool is_direct;         /* a direct message to the bot */
	bool mentions_bot;      /* addressed to the bot by @name */
	const char *text;       /* decoded plain text, mention of the bot removed */
	const char *action_value;       /* CHAT_ACTION: e.g. "confirm:7KQ2MX" or "cancel:7KQ2MX" */
	const char *action_message_id;  /* CHAT_ACTION: the message holding the buttons */
};

struct chat_button {
	const char *label;      /* "Approve" */
	const char *value;      /* delivered back as chat_event.action_value */
	bool primary;
	bool danger;
};

struct chat_post {
	const char *channel_id;
	const char *thread_id;  /* NULL = not in a thread */
	const char *text;       /* plain text with Markdown code fences; within max_text */
	const struct chat_button *buttons;      /* NULL/0 = none; ignored where unsupported */
	size_t nbuttons;
};

/* Called once per post/update: ok=true with the new message's id, or
 * ok=false with a reason. May be NULL. */
typedef void (*chat_post_cb)(void *arg, bool ok, const char *message_id,
    const char *error);

/* What the core gives an adapter. */
struct adapter_host {
	uv_loop_t *loop;
	struct http_client *http;
	const struct cfg *cfg;
	void (*on_event)(void *arg, const struct chat_event *ev);
	/* The adapter cannot go on (auth failure, link disabled, EOF on the
	 * console): the core shuts down; exit_code is the process status to use. */
	void (*on_end)(void *arg, int exit_code, const char *why);
	void *arg;
};

struct adapter;

struct adapter_ops {
	const char *name;
	int (*start)(struct adapter *a, char *err, size_t errlen);
	int (*post)(struct adapter *a, const struct chat_post *p, chat_post_cb cb, void *arg);
	int (*update)(struct adapter *a, const char *channel_id, const char *message_id,
	    const struct chat_post *p, chat_post_cb cb, void *arg);
	/* Stops reading, flushes what is queued where possible, closes handles,
	 * then calls stopped (from the loop) and frees the adapter. */
	void (*stop)(struct adapter *a, void (*stopped)(void *arg), void *arg);
};

struct adapter {
	const struct adapter_ops *ops;
	struct adapter_host host;
	size_t max_text;        /* longest post text, in code points */
	bool supports_buttons;
	bool supports_threads;
	const char *bot_user_id;        /* learned at start; NULL for console */
};

/* The console adapter: reads lines from stdin, prints posts to stdout.
 * Lines starting with '/' control the console: /as NAME (who speaks),
 * /channel NAME, /thread ID|off, /dm on|off, /click VALUE (a button
 * click: a CHAT_ACTION event with that action_value), /who.
 * json_output prints one JSON object per post instead of readable text. */
struct adapter *console_adapter_new(const struct adapter_host *host,
    const char *speaker, bool json_output);

#endif
