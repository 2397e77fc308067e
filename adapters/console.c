/*
 * console.c - the console adapter: the bot in a terminal or behind a pipe.
 *
 * Lines from stdin become chat events from the current speaker in the current
 * channel; the bot's posts are printed to stdout. Lines starting with '/'
 * steer the console itself (who is speaking, which channel, thread or DM), so
 * that confirmation rules can be tried with two people without a chat
 * server. Both ends work on the loop: a TTY or pipe through libuv streams, a
 * regular file through uv_fs_read (libuv cannot poll files).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapters/adapter.h"
#include "bot/log.h"
#include "bot/util.h"
#include "config/config.h"

#define CONSOLE_MAX_LINE (64 * 1024)    /* longest input line kept */
#define CONSOLE_MAX_PENDING_OUT (16u * 1024 * 1024)

struct console {
	struct adapter base;
	bool json_output;
	char *speaker;
	char *channel;
	char *thread;
	bool direct;
	unsigned long next_msg;
	unsigned long next_post;

	/* input */
	uv_handle_type in_type;
	union {
		uv_tty_t tty;
		uv_pipe_t pipe;
	} in;
	uv_fs_t in_req;
	char in_fbuf[16384];
	int64_t in_off;
	struct buf line;
	bool line_overflow;
	bool in_open;
	bool in_eof;

	/* output */
	uv_handle_type out_type;
	union {
		uv_tty_t tty;
		uv_pipe_t pipe;
	} out;
	bool out_stream;        /* out is a libuv stream; else plain write(2) */
	size_t out_pending;     /* bytes queued on the stream */
	unsigned out_writes;    /* writes in flight */

	bool stopping;
	int open_handles;
	void (*stopped)(void *);
	void *stopped_arg;
};

struct console_write {
	uv_write_t req;
	struct console *c;
	size_t len;
	char data[];
};

static void console_maybe_finish(struct console *c);

static void
console_write_all(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t k = write(STDOUT_FILENO, s, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		s += k;
		n -= (size_t)k;
	}
}

static void
console_write_cb(uv_write_t *req, int status)
{
	struct console_write *w = req->data;
	struct console *c = w->c;

	(void)status;
	c->out_pending -= w->len;
	c->out_writes--;
	free(w);
	if (c->stopping)
		console_maybe_finish(c);
}

static void
console_emit(struct console *c, const char *s, size_t n)
{
	struct console_write *w;
	uv_buf_t b;

	if (!c->out_stream) {
		/* A regular file (or something libuv cannot poll): writes do not
		 * block for long. */
		console_write_all(s, n);
		return;
	}
	if (c->out_pending + n > CONSOLE_MAX_PENDING_OUT) {
		log_warn("console: stdout is not being read; %zu bytes of output dropped", n);
		return;
	}
	w = xmalloc(sizeof *w + n);
	w->c = c;
	w->len = n;
	memcpy(w->data, s, n);
	w->req.data = w;
	b = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->out, &b, 1, console_write_cb) != 0) {
		free(w);
		return;
	}
	c->out_pending += n;
	c->out_writes++;
}

static void
console_print_post(struct console *c, const char *kind, const char *id,
    const struct chat_post *p)
{
	struct buf out;
	const char *s, *nl;

	buf_init(&out, 0);
	if (c->json_output) {
		json_t *o = json_object(), *btns;
		char *dump;
		size_t i;

		json_object_set_new(o, "event", json_string(kind));
		json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "channel", json_string(p->channel_id ? p->channel_id : ""));
		json_object_set_new(o, "thread", p->thread_id ? json_string(p->thread_id) : json_null());
		json_object_set_new(o, "text", json_string(p->text ? p->text : ""));
		btns = json_array();
		for (i = 0; i < p->nbuttons; i++)
			json_array_append_new(btns, json_pack("{s:s,s:s}",
			    "label", p->buttons[i].label, "value", p->buttons[i].value));
		json_object_set_new(o, "buttons", btns);
		dump = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
		json_decref(o);
		if (dump) {
			buf_puts(&out, dump);
			buf_putc(&out, '\n');
			free(dump);
		}
	} else {
		/* One header-prefixed line per line of text, so a reader can tell
		 * the bot's lines from their own typing. */
		char prefix[256];

		if (p->thread_id)
			snprintf(prefix, sizeof prefix, "%s #%s/%s%s> ",
			    c->base.host.cfg->bot.name, p->channel_id, p->thread_id,
			    strcmp(kind, "update") == 0 ? " (edited)" : "");
		else
			snprintf(prefix, sizeof prefix, "%s #%s%s> ",
			    c->base.host.cfg->bot.name, p->channel_id,
			    strcmp(kind, "update") == 0 ? " (edited)" : "");
		s = p->text ? p->text : "";
		do {
			nl = strchr(s, '\n');
			buf_puts(&out, prefix);
			buf_append(&out, s, nl ? (size_t)(nl - s) : strlen(s));
			buf_putc(&out, '\n');
			s = nl ? nl + 1 : NULL;
		} while (s != NULL);
	}
	console_emit(c, out.data, out.len);
	buf_free(&out);
}

static int
console_post(struct adapter *a, const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct console *c = (struct console *)a;
	char id[32];

	snprintf(id, sizeof id, "p%lu", ++c->next_post);
	console_print_post(c, "post", id, p);
	if (cb)
		cb(arg, true, id, NULL);
	return 0;
}

static int
console_update(struct adapter *a, const char *channel_id, const char *message_id,
    const struct chat_post *p, chat_post_cb cb, void *arg)
{
	struct console *c = (struct console *)a;
	struct chat_post q = *p;

	q.channel_id = channel_id;
	console_print_post(c, "update", message_id, &q);
	if (cb)
		cb(arg, true, message_id, NULL);
	return 0;
}

static void console_notice(struct console *c, const char *fmt, ...) ACK_PRINTF(2, 3);

static void
console_notice(struct console *c, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (c->json_output) {
		json_t *o = json_pack("{s:s,s:s}", "event", "console", "text", msg);
		char *dump = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

		json_decref(o);
		if (dump) {
			console_emit(c, dump, strlen(dump));
			console_emit(c, "\n", 1);
			free(dump);
		}
	} else {
		console_emit(c, "(console) ", 10);
		console_emit(c, msg, strlen(msg));
		console_emit(c, "\n", 1);
	}
	free(msg);
}

static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? xstrdup(s) : NULL;
}

/* Handles a '/' line; returns true if it was a console command. */
static bool
console_control(struct console *c, const char *line)
{
	char cmd[32], argbuf[256];
	int n;

	argbuf[0] = '\0';
	n = sscanf(line, "/%31s %255[^\n]", cmd, argbuf);
	if (n < 1)
		return false;
	if (strcmp(cmd, "as") == 0) {
		if (argbuf[0] == '\0' || strchr(argbuf, ' ')) {
			console_notice(c, "usage: /as NAME");
			return true;
		}
		set_str(&c->speaker, argbuf);
		console_notice(c, "now speaking as %s", c->speaker);
	} else if (strcmp(cmd, "channel") == 0) {
		const char *ch = argbuf[0] == '#' ? argbuf + 1 : argbuf;

		if (*ch == '\0' || strchr(ch, ' ')) {
			console_notice(c, "usage: /channel NAME");
			return true;
		}
		set_str(&c->channel, ch);
		c->direct = false;
		console_notice(c, "now in #%s", c->channel);
	} else if (strcmp(cmd, "thread") == 0) {
		if (argbuf[0] == '\0' || strcmp(argbuf, "off") == 0) {
			set_str(&c->thread, NULL);
			console_notice(c, "not in a thread");
		} else {
			set_str(&c->thread, argbuf);
			console_notice(c, "now in thread %s", c->thread);
		}
	} else if (strcmp(cmd, "dm") == 0) {
		c->direct = strcmp(argbuf, "off") != 0;
		if (c->direct) {
			char *dm = xasprintf("dm-%s", c->speaker);

			free(c->channel);
			c->channel = dm;
		} else {
			set_str(&c->channel, "console");
		}
		console_notice(c, c->direct ? "now in a direct message with the bot (#%s)" :
		    "back in #%s", c->channel);
	} else if (strcmp(cmd, "click") == 0) {
		/* A button click, as a chat platform would deliver it: lets the
		 * confirmation buttons' path be tried (and tested) on the console. */
		struct chat_event ev;
		char msgid[32];

		if (argbuf[0] == '\0' || strchr(argbuf, ' ')) {
			console_notice(c, "usage: /click VALUE (for example /click confirm:7KQ2MX)");
			return true;
		}
		memset(&ev, 0, sizeof ev);
		ev.kind = CHAT_ACTION;
		ev.platform = "console";
		ev.channel_id = c->channel;
		ev.channel_name = c->channel;
		ev.thread_id = c->thread;
		snprintf(msgid, sizeof msgid, "m%lu", ++c->next_msg);
		ev.message_id = msgid;
		ev.user_id = c->speaker;
		ev.user_name = c->speaker;
		ev.is_direct = c->direct;
		ev.text = "";
		ev.action_value = argbuf;
		c->base.host.on_event(c->base.host.arg, &ev);
	} else if (strcmp(cmd, "who") == 0) {
		console_notice(c, "speaking as %s in #%s%s%s%s", c->speaker, c->channel,
		    c->thread ? ", thread " : "", c->thread ? c->thread : "",
		    c->direct ? " (direct message)" : "");
	} else if (strcmp(cmd, "help") == 0) {
		console_notice(c, "console commands: /as NAME, /channel NAME, /thread ID|off, "
		    "/dm on|off, /click VALUE, /who; anything else is a chat message (try %shelp)",
		    c->base.host.cfg->bot.prefix);
	} else {
		return false;
	}
	return true;
}

static void
console_line(struct console *c, char *line, size_t len)
{
	struct chat_event ev;
	const char *botname = c->base.host.cfg->bot.name;
	size_t bl = strlen(botname);
	char msgid[32];
	char *text = line;

	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	if (len == 0)
		return;
	if (line[0] == '/' && console_control(c, line))
		return;
	memset(&ev, 0, sizeof ev);
	ev.kind = CHAT_MESSAGE;
	ev.platform = "console";
	ev.channel_id = c->channel;
	ev.channel_name = c->channel;
	ev.thread_id = c->thread;
	snprintf(msgid, sizeof msgid, "m%lu", ++c->next_msg);
	ev.message_id = msgid;
	ev.user_id = c->speaker;
	ev.user_name = c->speaker;
	ev.is_direct = c->direct;
	/* "@ackbot ..." or "ackbot: ..." addresses the bot. */
	if (text[0] == '@' && strncmp(text + 1, botname, bl) == 0 &&
	    (text[bl + 1] == ' ' || text[bl + 1] == ':' || text[bl + 1] == ',' ||
	     text[bl + 1] == '\0')) {
		ev.mentions_bot = true;
		text += bl + 1;
	} else if (strncmp(text, botname, bl) == 0 &&
	    (text[bl] == ':' || text[bl] == ',')) {
		ev.mentions_bot = true;
		text += bl;
	}
	if (ev.mentions_bot) {
		while (*text == ':' || *text == ',' || *text == ' ')
			text++;
	}
	ev.text = text;
	c->base.host.on_event(c->base.host.arg, &ev);
}

static void
console_feed(struct console *c, const char *data, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		if (data[i] != '\n')
			continue;
		if (!c->line_overflow && buf_append(&c->line, data + start, i - start) == 0)
			console_line(c, c->line.data ? c->line.data : (char *)"", c->line.len);
		else
			console_notice(c, "line too long (over %d bytes): ignored", CONSOLE_MAX_LINE);
		buf_reset(&c->line);
		c->line_overflow = false;
		start = i + 1;
		if (c->stopping)
			return;
	}
	if (start < n && !c->line_overflow &&
	    buf_append(&c->line, data + start, n - start) != 0)
		c->line_overflow = true;
}

static void
console_input_ended(struct console *c)
{
	if (c->in_eof)
		return;
	c->in_eof = true;
	if (c->line.len > 0 && !c->line_overflow) {
		console_line(c, c->line.data, c->line.len);
		buf_reset(&c->line);
	}
	if (!c->stopping)
		c->base.host.on_end(c->base.host.arg, 0, "end of input");
}

static void
console_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct console *c = h->data;

	(void)suggested;
	*b = uv_buf_init(c->in_fbuf, sizeof c->in_fbuf);
}

static void
console_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct console *c = s->data;

	if (nread > 0) {
		console_feed(c, b->base, (size_t)nread);
	} else if (nread < 0) {
		if (nread != UV_EOF)
			log_warn("console: reading stdin: %s", uv_strerror((int)nread));
		uv_read_stop(s);
		console_input_ended(c);
	}
}

static void console_fs_read(struct console *c);

static void
console_fs_read_cb(uv_fs_t *req)
{
	struct console *c = req->data;
	ssize_t n = req->result;

	uv_fs_req_cleanup(req);
	c->in_open = false;
	if (c->stopping) {
		console_maybe_finish(c);
		return;
	}
	if (n > 0) {
		c->in_off += n;
		console_feed(c, c->in_fbuf, (size_t)n);
		if (!c->stopping)
			console_fs_read(c);
		else
			console_maybe_finish(c);
		return;
	}
	console_input_ended(c);
}

static void
console_fs_read(struct console *c)
{
	uv_buf_t b = uv_buf_init(c->in_fbuf, sizeof c->in_fbuf);

	c->in_req.data = c;
	if (uv_fs_read(c->base.host.loop, &c->in_req, STDIN_FILENO, &b, 1, c->in_off,
	    console_fs_read_cb) == 0)
		c->in_open = true;
	else
		console_input_ended(c);
}

static int
console_open_stream(struct console *c, int fd, uv_handle_type type, void *h, bool readable)
{
	int rc;

	if (type == UV_TTY)
		rc = uv_tty_init(c->base.host.loop, h, fd, readable);
	else {
		rc = uv_pipe_init(c->base.host.loop, h, 0);
		if (rc == 0 && (rc = uv_pipe_open(h, fd)) != 0)
			uv_close(h, NULL);
	}
	if (rc == 0) {
		((uv_handle_t *)h)->data = c;
		c->open_handles++;
	}
	return rc;
}

static int
console_start(struct adapter *a, char *err, size_t errlen)
{
	struct console *c = (struct console *)a;
	int rc;

	c->out_type = uv_guess_handle(STDOUT_FILENO);
	if ((c->out_type == UV_TTY || c->out_type == UV_NAMED_PIPE) &&
	    console_open_stream(c, STDOUT_FILENO, c->out_type, &c->out, false) == 0)
		c->out_stream = true;

	c->in_type = uv_guess_handle(STDIN_FILENO);
	if (c->in_type == UV_TTY || c->in_type == UV_NAMED_PIPE) {
		rc = console_open_stream(c, STDIN_FILENO, c->in_type, &c->in, true);
		if (rc != 0)
			return ack_err(err, errlen, "console: cannot read stdin: %s", uv_strerror(rc));
		rc = uv_read_start((uv_stream_t *)&c->in, console_alloc_cb, console_read_cb);
		if (rc != 0)
			return ack_err(err, errlen, "console: cannot read stdin: %s", uv_strerror(rc));
		c->in_open = true;
	} else {
		/* A regular file, /dev/null, or something libuv cannot poll. */
		c->in_type = UV_FILE;
		console_fs_read(c);
	}
	if (c->in_type == UV_TTY)
		console_notice(c, "ackbot %s on the console, speaking as %s in #%s. Type %shelp, "
		    "or /help for console commands; Ctrl-D quits.", ACKBOT_VERSION,
		    c->speaker, c->channel, c->base.host.cfg->bot.prefix);
	return 0;
}

static void
console_free(struct console *c)
{
	void (*stopped)(void *) = c->stopped;
	void *arg = c->stopped_arg;

	buf_free(&c->line);
	free(c->speaker);
	free(c->channel);
	free(c->thread);
	free(c);
	if (stopped)
		stopped(arg);
}

static void
console_close_cb(uv_handle_t *h)
{
	struct console *c = h->data;

	if (--c->open_handles == 0 && !c->in_open)
		console_free(c);
}

static void
console_maybe_finish(struct console *c)
{
	/* Output still being written, or a file read in flight (it cannot be
	 * canceled once started): finish from their callbacks. */
	if (c->out_writes > 0 || (c->in_type == UV_FILE && c->in_open))
		return;
	if (c->open_handles == 0) {
		console_free(c);
		return;
	}
	if (c->in_type != UV_FILE && !uv_is_closing((uv_handle_t *)&c->in)) {
		c->in_open = false;
		uv_close((uv_handle_t *)&c->in, console_close_cb);
	}
	if (c->out_stream && !uv_is_closing((uv_handle_t *)&c->out))
		uv_close((uv_handle_t *)&c->out, console_close_cb);
}

static void
console_stop(struct adapter *a, void (*stopped)(void *), void *arg)
{
	struct console *c = (struct console *)a;

	if (c->stopping)
		return;
	c->stopping = true;
	c->stopped = stopped;
	c->stopped_arg = arg;
	if (c->in_type == UV_FILE && c->in_open)
		uv_cancel((uv_req_t *)&c->in_req);
	console_maybe_finish(c);
}

static const struct adapter_ops console_ops = {
	.name = "console",
	.start = console_start,
	.post = console_post,
	.update = console_update,
	.stop = console_stop,
};

struct adapter *
console_adapter_new(const struct adapter_host *host, const char *speaker, bool json_output)
{
	struct console *c = xcalloc(1, sizeof *c);

	c->base.ops = &console_ops;
	c->base.host = *host;
	c->base.max_text = 40000;
	c->base.supports_buttons = false;
	c->base.supports_threads = true;
	c->json_output = json_output;
	c->speaker = xstrdup(speaker && *speaker ? speaker : "local");
	c->channel = xstrdup("console");
	buf_init(&c->line, CONSOLE_MAX_LINE);
	return &c->base;
}
