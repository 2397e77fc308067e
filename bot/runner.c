/*
 * runner.c - running actions: limits, FIFO queue, ack/result, cancel
 * (see runner.h).
 *
 * Each request becomes a struct run that lives until its handler has called
 * done (or, for a queued one, until it is dropped). Runs sit on one of two
 * lists: `running` and the FIFO `queue`. A handler may call done from inside
 * start(); the run is then finished only after start() has returned, so that
 * no code touches a freed run.
 */
#include "runner.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "alias.h"
#include "app.h"
#include "handlers/handler.h"
#include "log.h"
#include "messages.h"
#include "router.h"
#include "util.h"

/* Hard ceiling on waiting commands: past it a command is refused at once
 * (told in its channel) rather than held in memory without bound. */
#define RUNNER_MAX_QUEUE 10000

enum run_state { RUN_QUEUED, RUN_RUNNING, RUN_DONE };

struct run {
	TAILQ_ENTRY(run) link;
	TAILQ_ENTRY(run) plink;         /* in runner.pending while start_pending */
	struct runner *r;
	struct bot_gen *gen;
	size_t alias_idx;
	const struct cfg_alias *alias;
	const struct handler_ops *ops;
	struct invocation inv;
	struct identity who;
	char *channel_id, *channel_name, *thread_id;
	bool is_direct;
	char *confirm_id;
	enum run_state state;
	uint64_t queued_ms, started_ms;
	bool in_start;          /* inside ops->start */
	bool done_early;        /* done was called inside start */
	struct action_result early;     /* its result, copied */
	bool cancel_sent;
	bool start_pending;     /* acked; the handler starts a loop pass later */
	bool launch_ready;      /* seen by one launch check already */
};

TAILQ_HEAD(run_list, run);

struct runner {
	struct bot *b;
	struct run_list running, queue;
	size_t nrunning, nqueued;
	TAILQ_HEAD(, run) pending;      /* running, handler not started yet */
};

static void runner_pump(struct runner *r);

struct runner *
runner_new(struct bot *b)
{
	struct runner *r = xcalloc(1, sizeof *r);

	r->b = b;
	TAILQ_INIT(&r->running);
	TAILQ_INIT(&r->queue);
	TAILQ_INIT(&r->pending);
	return r;
}

void
runner_free(struct runner *r)
{
	if (r == NULL)
		return;
	if (r->nrunning + r->nqueued > 0)
		log_error("runner: freed with %zu running and %zu queued actions",
		    r->nrunning, r->nqueued);
	free(r);
}

size_t
runner_running(const struct runner *r)
{
	return r->nrunning;
}

size_t
runner_queued(const struct runner *r)
{
	return r->nqueued;
}

/* ---- context ------------------------------------------------------------ */

static bool
needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s; s++)
		if (*s == ' ' || *s == '\t' || *s == '"' || *s == '\'' || *s == '\n')
			return true;
	return false;
}

char *
runner_command_text(const char *alias, const json_t *params)
{
	struct buf b;
	const char *k;
	json_t *v;

	buf_init(&b, 0);
	buf_puts(&b, alias);
	json_object_foreach((json_t *)params, k, v) {
		char *dump = NULL;
		const char *s;

		if (json_is_string(v))
			s = json_string_value(v);
		else
			s = dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		if (s == NULL)
			s = "";
		if (needs_quotes(s)) {
			buf_printf(&b, " %s=\"", k);
			for (; *s; s++) {
				if (*s == '"' || *s == '\\')
					buf_putc(&b, '\\');
				buf_putc(&b, *s == '\n' ? ' ' : *s);
			}
			buf_putc(&b, '"');
		} else {
			buf_printf(&b, " %s=%s", k, s);
		}
		free(dump);
	}
	return buf_steal(&b);
}

static json_t *
kvv_to_json(const struct cfg_kvv *v)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < v->n; i++)
		if (v->v[i].key && v->v[i].value.s)
			json_object_set_new(o, v->v[i].key, json_string(v->v[i].value.s));
	return o;
}

void
runner_set_source(json_t *ctx, const char *platform, const char *channel_id,
    const char *channel_name, const char *thread_id, bool is_direct)
{
	const char *name = channel_name ? channel_name : (channel_id ? channel_id : "");

	json_object_set_new(ctx, "channel", json_string(name));
	json_object_set_new(ctx, "source", json_pack("{s:s,s:s,s:s,s:o,s:b}",
	    "platform", platform ? platform : "",
	    "channel_id", channel_id ? channel_id : "",
	    "channel", name,
	    "thread", thread_id ? json_string(thread_id) : json_null(),
	    "direct", is_direct));
}

json_t *
runner_context(const struct bot_gen *gen, size_t alias_idx, const char *cmd_id,
    const json_t *params, const struct identity *who, const char *channel_id,
    const char *channel_name, const char *thread_id, bool is_direct)
{
	const struct cfg *c = gen->cfg;
	const struct cfg_alias *a = &c->aliases[alias_idx];
	json_t *ctx = json_object(), *exec, *al;
	char *cmd = runner_command_text(a->name, params);

	/* parameters at the top level, so argv can say {{ app }} */
	json_object_update(ctx, (json_t *)params);
	exec = json_pack("{s:s,s:s,s:O,s:s,s:i,s:s}", "id", cmd_id ? cmd_id : "",
	    "status", "requested", "parameters", params, "command", cmd,
	    "elapsed", 0, "elapsed_text", "0s");
	free(cmd);
	json_object_set_new(exec, "result", json_object());
	json_object_set_new(ctx, "execution", exec);
	al = json_pack("{s:s,s:s,s:s}", "name", a->name,
	    "description", a->description ? a->description : "",
	    "category", a->category ? a->category : "");
	json_object_set_new(ctx, "actionalias", al);
	json_object_set_new(ctx, "user", identity_to_json(who));
	runner_set_source(ctx, who->platform, channel_id, channel_name, thread_id, is_direct);
	json_object_set_new(ctx, "system", kvv_to_json(&c->vars));
	json_object_set_new(ctx, "bot", json_pack("{s:s,s:s}", "name", c->bot.name,
	    "prefix", c->bot.prefix));
	return ctx;
}

static void
env_set(json_t *env, const char *k, const char *v)
{
	json_object_set_new(env, k, json_string(v ? v : ""));
}

static json_t *
run_env(struct run *run, const json_t *params)
{
	json_t *env = json_object();
	const char *k;
	json_t *v;

	env_set(env, "ACKBOT_USER", run->who.name);
	env_set(env, "ACKBOT_CHAT_USER_ID", run->who.chat_id);
	env_set(env, "ACKBOT_CHAT_USER_NAME", run->who.chat_name);
	env_set(env, "ACKBOT_PLATFORM", run->who.platform);
	env_set(env, "ACKBOT_CHANNEL", run->channel_name ? run->channel_name : run->channel_id);
	env_set(env, "ACKBOT_CHANNEL_ID", run->channel_id);
	env_set(env, "ACKBOT_THREAD", run->thread_id);
	env_set(env, "ACKBOT_COMMAND_ID", run->inv.id);
	env_set(env, "ACKBOT_ALIAS", run->alias->name);
	if (run->confirm_id)
		env_set(env, "ACKBOT_CONFIRM_ID", run->confirm_id);
	{
		struct buf g;
		size_t i;

		buf_init(&g, 0);
		for (i = 0; i < run->who.ngroups; i++)
			buf_printf(&g, "%s%s", i ? "," : "", run->who.groups[i]);
		env_set(env, "ACKBOT_GROUPS", g.data ? g.data : "");
		buf_free(&g);
	}
	json_object_foreach((json_t *)params, k, v) {
		char name[160], *p;
		char *dump = NULL;
		const char *s;

		snprintf(name, sizeof name, "ACKBOT_PARAM_%s", k);
		for (p = name; *p; p++) {
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
			else if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
				*p = '_';
		}
		if (json_is_string(v))
			s = json_string_value(v);
		else
			s = dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		env_set(env, name, s);
		free(dump);
	}
	return env;
}

/* ---- posting ------------------------------------------------------------ */

static void
run_say(struct run *run, const char *text)
{
	bot_say(run->r->b, run->channel_id, run->thread_id, text);
}

static json_t *
run_audit_fields(const struct run *run)
{
	json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "id", run->inv.id,
	    "alias", run->alias->name, "user", run->who.name,
	    "platform", run->who.platform, "chat_user_id", run->who.chat_id,
	    "channel", run->channel_name ? run->channel_name : run->channel_id);

	if (f == NULL)
		f = json_object();
	if (run->thread_id)
		json_object_set_new(f, "thread", json_string(run->thread_id));
	if (run->confirm_id)
		json_object_set_new(f, "confirm_id", json_string(run->confirm_id));
	json_object_set(f, "parameters", run->inv.params);
	return f;
}

static void
format_elapsed(char *out, size_t n, uint64_t ms)
{
	if (ms < 60000)
		snprintf(out, n, "%" PRIu64 ".%" PRIu64 "s", ms / 1000, (ms % 1000) / 100);
	else
		snprintf(out, n, "%" PRIu64 "m%02" PRIu64 "s", ms / 60000, (ms / 1000) % 60);
}

/* Code fences inside output would end our block early: break them with a
 * zero-width space. */
static void
put_fenced(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\0')
			continue;
		if (i + 2 < n && s[i] == '`' && s[i + 1] == '`' && s[i + 2] == '`') {
			buf_puts(b, "``\xe2\x80\x8b`");
			i += 2;
			continue;
		}
		buf_putc(b, s[i]);
	}
}

static json_t *
lenient_string(const char *s, size_t n)
{
	json_t *j;

	if (s == NULL)
		return json_string("");
	j = json_stringn(s, n);
	if (j == NULL) {
		/* not UTF-8: replace bad bytes */
		struct buf b;
		size_t i;

		buf_init(&b, 0);
		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];

			if (ch < 0x80 && ch != 0) {
				buf_putc(&b, (char)ch);
			} else {
				size_t len = 0, k;

				if ((ch & 0xE0) == 0xC0)
					len = 2;
				else if ((ch & 0xF0) == 0xE0)
					len = 3;
				else if ((ch & 0xF8) == 0xF0)
					len = 4;
				if (len && i + len <= n && utf8_valid(s + i, len)) {
					for (k = 0; k < len; k++)
						buf_putc(&b, s[i + k]);
					i += len - 1;
				} else {
					buf_puts(&b, "?");
				}
			}
		}
		j = json_stringn(b.data ? b.data : "", b.len);
		buf_free(&b);
	}
	return j ? j : json_string("");
}

static json_t *
result_json(const struct run *run, const struct action_result *res)
{
	json_t *o = json_object();
	struct buf out, sum;
	bool is_http = run->alias->handler == CFG_HANDLER_HTTP;

	buf_init(&sum, 0);
	if (is_http) {
		json_object_set_new(o, "status", json_integer(res->http_status));
		json_object_set_new(o, "body", lenient_string(res->out, res->out_len));
		json_object_set_new(o, "json", res->json ? json_incref(res->json) : json_null());
		if (res->http_status > 0)
			buf_printf(&sum, "HTTP %ld", res->http_status);
	} else {
		json_object_set_new(o, "exit_code", json_integer(res->exit_code));
		json_object_set_new(o, "signal", json_integer(res->term_signal));
		json_object_set_new(o, "stdout", lenient_string(res->out, res->out_len));
		json_object_set_new(o, "stderr", lenient_string(res->err, res->err_len));
		if (res->term_signal > 0)
			buf_printf(&sum, "killed by signal %d", res->term_signal);
		else if (res->exit_code >= 0)
			buf_printf(&sum, "exit code %d", res->exit_code);
	}
	json_object_set_new(o, "reason", json_string(res->reason ? res->reason : ""));
	json_object_set_new(o, "stdout_dropped", json_integer((json_int_t)res->out_dropped));
	json_object_set_new(o, "stderr_dropped", json_integer((json_int_t)res->err_dropped));
	json_object_set_new(o, "dropped", json_integer((json_int_t)(res->out_dropped +
	    res->err_dropped)));
	json_object_set_new(o, "summary", json_string(sum.data ? sum.data : ""));
	buf_free(&sum);

	/* output: what the default result shows in its code block */
	buf_init(&out, 0);
	if (res->out_len > 0)
		put_fenced(&out, res->out, res->out_len);
	if (res->err_len > 0) {
		if (out.len > 0 && out.data[out.len - 1] != '\n')
			buf_putc(&out, '\n');
		if (res->out_len > 0 || res->status == ACTION_SUCCEEDED)
			buf_puts(&out, "--- stderr ---\n");
		put_fenced(&out, res->err, res->err_len);
	}
	while (out.len > 0 && out.data[out.len - 1] == '\n')
		out.data[--out.len] = '\0';
	json_object_set_new(o, "output", lenient_string(out.data, out.len));
	buf_free(&out);
	return o;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void
run_free(struct run *run)
{
	gen_unref(run->gen);
	json_decref(run->inv.params);
	json_decref(run->inv.context);
	json_decref(run->inv.env);
	identity_free(&run->who);
	free(run->channel_id);
	free(run->channel_name);
	free(run->thread_id);
	free(run->confirm_id);
	action_result_free_fields(&run->early);
	free(run);
}

static void
run_finish(struct run *run, const struct action_result *res)
{
	struct runner *r = run->r;
	struct bot *b = r->b;
	uint64_t now = uv_now(b->loop);
	uint64_t elapsed = run->started_ms ? now - run->started_ms : 0;
	json_t *exec, *f;
	char el[32], *text;

	if (res->duration_ms > 0)
		elapsed = res->duration_ms;
	if (run->state == RUN_RUNNING) {
		TAILQ_REMOVE(&r->running, run, link);
		r->nrunning--;
	} else if (run->state == RUN_QUEUED) {
		TAILQ_REMOVE(&r->queue, run, link);
		r->nqueued--;
	}
	run->state = RUN_DONE;

	format_elapsed(el, sizeof el, elapsed);
	exec = json_object_get(run->inv.context, "execution");
	json_object_set_new(exec, "status", json_string(action_status_name(res->status)));
	json_object_set_new(exec, "elapsed", json_real((double)elapsed / 1000.0));
	json_object_set_new(exec, "elapsed_ms", json_integer((json_int_t)elapsed));
	json_object_set_new(exec, "elapsed_text", json_string(el));
	json_object_set_new(exec, "result", result_json(run, res));

	log_info("%s %s: alias=%s user=%s channel=%s elapsed=%s%s%s", run->inv.id,
	    action_status_name(res->status), run->alias->name, run->who.name,
	    run->channel_id, el, res->reason ? " reason=" : "",
	    res->reason ? res->reason : "");

	f = run_audit_fields(run);
	json_object_set_new(f, "status", json_string(action_status_name(res->status)));
	if (run->alias->handler == CFG_HANDLER_HTTP)
		json_object_set_new(f, "http_status", json_integer(res->http_status));
	else
		json_object_set_new(f, "exit_code", json_integer(res->exit_code));
	if (res->term_signal)
		json_object_set_new(f, "signal", json_integer(res->term_signal));
	if (res->reason)
		json_object_set_new(f, "reason", json_string(res->reason));
	json_object_set_new(f, "duration_ms", json_integer((json_int_t)elapsed));
	bot_audit(b, "finished", f);

	if (run->alias->result.enabled) {
		text = messages_render_with(run->gen->msgs,
		    alias_result_template(run->gen->aliases, run->alias), MSG_RESULT,
		    run->inv.context);
		run_say(run, text);
		free(text);
	}
	run_free(run);
}

static void
run_done_cb(struct invocation *inv, const struct action_result *res, void *arg)
{
	struct run *run = arg;

	(void)inv;
	if (run->in_start) {
		/* finished inside start(): keep a copy, finish after start returns */
		run->done_early = true;
		run->early = *res;
		run->early.out = res->out ? xstrndup(res->out, res->out_len) : NULL;
		run->early.err = res->err ? xstrndup(res->err, res->err_len) : NULL;
		run->early.reason = res->reason ? xstrdup(res->reason) : NULL;
		run->early.json = res->json ? json_incref(res->json) : NULL;
		return;
	}
	{
		struct runner *r = run->r;

		run_finish(run, res);
		runner_pump(r);
	}
}

static void
run_start(struct run *run)
{
	struct runner *r = run->r;
	struct bot *b = r->b;
	char *ack;
	json_t *exec;

	if (run->state == RUN_QUEUED) {
		TAILQ_REMOVE(&r->queue, run, link);
		r->nqueued--;
	}
	TAILQ_INSERT_TAIL(&r->running, run, link);
	r->nrunning++;
	run->state = RUN_RUNNING;
	run->started_ms = uv_now(b->loop);
	exec = json_object_get(run->inv.context, "execution");
	json_object_set_new(exec, "status", json_string("running"));

	log_info("%s started: alias=%s user=%s channel=%s", run->inv.id, run->alias->name,
	    run->who.name, run->channel_id);
	bot_audit(b, "started", run_audit_fields(run));
	if (run->alias->ack.enabled) {
		ack = messages_render_with(run->gen->msgs,
		    alias_ack_template(run->gen->aliases, run->alias), MSG_ACK,
		    run->inv.context);
		run_say(run, ack);
		free(ack);
	}

	/*
	 * The handler starts on the next loop pass (app_defer_launch), after
	 * the loop has written the ack and, on Slack, the envelope ack: spawning
	 * a process blocks the loop for about a millisecond (fork, then exec),
	 * which would otherwise sit in front of both.
	 */
	run->start_pending = true;
	TAILQ_INSERT_TAIL(&r->pending, run, plink);
	app_defer_launch(b);
}

static void
run_launch(struct run *run)
{
	char err[ACK_ERR_LEN];
	int rc;

	err[0] = '\0';
	run->in_start = true;
	rc = run->ops->start(&run->inv, run_done_cb, run, err, sizeof err);
	run->in_start = false;
	if (rc != 0) {
		struct action_result res;

		memset(&res, 0, sizeof res);
		res.status = ACTION_FAILED;
		res.exit_code = -1;
		res.reason = err[0] ? err : (char *)"could not start";
		run_finish(run, &res);
	} else if (run->done_early) {
		struct action_result res = run->early;

		memset(&run->early, 0, sizeof run->early);
		run_finish(run, &res);
		action_result_free_fields(&res);
	}
}

bool
runner_launch_pending(struct runner *r)
{
	struct run_list now;
	struct run *run;

	/*
	 * Two stages. Runs acked during this loop pass have their posts
	 * queued, but a websocket frame (Slack's envelope ack) is written only
	 * when the socket reports writable, in the next poll phase: so a run
	 * waits one check (ready = false -> true) and starts at the next one.
	 * Runs that become pending meanwhile (a finished one lets a queued one
	 * start) wait their turn the same way.
	 */
	TAILQ_INIT(&now);
	for (run = TAILQ_FIRST(&r->pending); run != NULL; ) {
		struct run *next = TAILQ_NEXT(run, plink);

		if (run->launch_ready) {
			TAILQ_REMOVE(&r->pending, run, plink);
			TAILQ_INSERT_TAIL(&now, run, plink);
		} else {
			run->launch_ready = true;
		}
		run = next;
	}
	while ((run = TAILQ_FIRST(&now)) != NULL) {
		TAILQ_REMOVE(&now, run, plink);
		run->start_pending = false;
		run_launch(run);
	}
	return !TAILQ_EMPTY(&r->pending);
}

/* Cancels a running action; one whose handler has not started yet ends
 * here, as canceled, without starting. */
static void
run_cancel(struct runner *r, struct run *run)
{
	struct action_result res;

	run->cancel_sent = true;
	if (!run->start_pending) {
		run->ops->cancel(&run->inv);
		return;
	}
	TAILQ_REMOVE(&r->pending, run, plink);
	run->start_pending = false;
	memset(&res, 0, sizeof res);
	res.status = ACTION_CANCELED;
	res.exit_code = -1;
	res.reason = (char *)"canceled before it started";
	run_finish(run, &res);
}

static size_t
alias_running(const struct runner *r, const char *name)
{
	const struct run *x;
	size_t n = 0;

	TAILQ_FOREACH(x, &r->running, link)
		if (strcmp(x->alias->name, name) == 0)
			n++;
	return n;
}

static bool
can_start(const struct runner *r, const struct run *run, char *why, size_t whylen)
{
	const struct cfg *c = r->b->gen->cfg;
	uint32_t global = c->bot.max_concurrent;

	if (global > 0 && r->nrunning >= global) {
		ack_err(why, whylen, "%zu actions are already running (the limit is %u)",
		    r->nrunning, global);
		return false;
	}
	if (run->alias->max_concurrent > 0) {
		size_t n = alias_running(r, run->alias->name);

		if (n >= run->alias->max_concurrent) {
			ack_err(why, whylen, "%zu %s already running (the limit is %u)", n,
			    run->alias->name, run->alias->max_concurrent);
			return false;
		}
	}
	return true;
}

static void
runner_pump(struct runner *r)
{
	struct run *run, *next;

	if (r == NULL)
		return;
	for (run = TAILQ_FIRST(&r->queue); run != NULL; run = next) {
		next = TAILQ_NEXT(run, link);
		if (r->b->state != BOT_RUNNING && r->b->state != BOT_DRAINING)
			break;
		if (!can_start(r, run, NULL, 0))
			continue;
		/* next may be finished (freed) by run_start only if it is run
		 * itself; other runs are untouched, but restart the walk to be
		 * safe about limits that changed. */
		run_start(run);
		next = TAILQ_FIRST(&r->queue);
	}
	if (r->nrunning + r->nqueued == 0)
		app_actions_idle(r->b);
}

void
runner_submit(struct runner *r, struct run_request *req)
{
	struct bot *b = r->b;
	struct run *run = xcalloc(1, sizeof *run);
	const struct cfg *c = req->gen->cfg;
	const struct cfg_alias *a = &c->aliases[req->alias_idx];
	char why[ACK_ERR_LEN];

	run->r = r;
	run->gen = req->gen;
	run->alias_idx = req->alias_idx;
	run->alias = a;
	run->ops = handler_for(a->handler);
	run->who = req->who;
	memset(&req->who, 0, sizeof req->who);
	run->channel_id = xstrdup(req->channel_id ? req->channel_id : "");
	run->channel_name = xstrdup(req->channel_name);
	run->thread_id = xstrdup(req->thread_id);
	run->is_direct = req->is_direct;
	run->confirm_id = xstrdup(req->confirm_id);
	run->queued_ms = uv_now(b->loop);

	snprintf(run->inv.id, sizeof run->inv.id, "%s", req->cmd_id);
	run->inv.cfg = c;
	run->inv.alias = a;
	run->inv.params = req->params;
	req->params = NULL;
	run->inv.context = runner_context(req->gen, req->alias_idx, run->inv.id,
	    run->inv.params, &run->who, run->channel_id, run->channel_name,
	    run->thread_id, run->is_direct);
	run->inv.env = run_env(run, run->inv.params);
	run->inv.unix_user = a->handler == CFG_HANDLER_EXEC && a->exec.run_as_user &&
	    run->who.user ? run->who.user->unix_user : NULL;
	run->inv.timeout_ms = a->timeout_ms ? a->timeout_ms : c->bot.default_timeout_ms;
	run->inv.max_output = a->handler == CFG_HANDLER_HTTP ? a->http.max_output :
	    a->exec.max_output;
	if (run->inv.max_output == 0)
		run->inv.max_output = c->bot.max_output;
	run->inv.loop = b->loop;
	run->inv.http = a->handler == CFG_HANDLER_HTTP ? app_http(b) : NULL;
	req->gen = NULL;

	if (run->ops == NULL) {
		struct action_result res;

		memset(&res, 0, sizeof res);
		res.status = ACTION_FAILED;
		res.exit_code = -1;
		res.reason = (char *)"no handler for this alias";
		run->state = RUN_DONE;
		run_finish(run, &res);
		return;
	}
	if (can_start(r, run, why, sizeof why)) {
		run->state = RUN_QUEUED;        /* run_start takes it off the queue */
		TAILQ_INSERT_TAIL(&r->queue, run, link);
		r->nqueued++;
		run_start(run);
		runner_pump(r);
		return;
	}
	if (r->nqueued >= RUNNER_MAX_QUEUE) {
		struct action_result res;
		char reason[ACK_ERR_LEN + 96];

		snprintf(reason, sizeof reason, "not started: %zu commands are already waiting "
		    "(%s)", r->nqueued, why);
		memset(&res, 0, sizeof res);
		res.status = ACTION_CANCELED;
		res.exit_code = -1;
		res.reason = reason;
		log_warn("%s refused: the queue is full", run->inv.id);
		run->state = RUN_DONE;
		run_finish(run, &res);
		return;
	}
	{
		json_t *ctx = json_deep_copy(run->inv.context);
		json_t *q = json_object();
		char *text;
		json_t *f;

		json_object_set_new(q, "reason", json_string(why));
		json_object_set_new(q, "ahead", json_integer((json_int_t)r->nqueued));
		json_object_set_new(q, "position", json_integer((json_int_t)r->nqueued + 1));
		json_object_set_new(ctx, "queue", q);
		text = messages_render(run->gen->msgs, MSG_QUEUED, ctx);
		run_say(run, text);
		free(text);
		json_decref(ctx);
		run->state = RUN_QUEUED;
		TAILQ_INSERT_TAIL(&r->queue, run, link);
		r->nqueued++;
		log_info("%s queued: alias=%s user=%s: %s", run->inv.id, a->name,
		    run->who.name, why);
		f = run_audit_fields(run);
		json_object_set_new(f, "reason", json_string(why));
		bot_audit(b, "queued", f);
	}
}

void
runner_drop_queued(struct runner *r, const char *reason)
{
	struct run *run;

	while ((run = TAILQ_FIRST(&r->queue)) != NULL) {
		struct action_result res;

		memset(&res, 0, sizeof res);
		res.status = ACTION_CANCELED;
		res.exit_code = -1;
		res.reason = (char *)reason;
		run_finish(run, &res);
	}
	if (r->nrunning == 0)
		app_actions_idle(r->b);
}

void
runner_cancel_all(struct runner *r)
{
	struct run *run, *next;

	for (run = TAILQ_FIRST(&r->running); run != NULL; run = next) {
		next = TAILQ_NEXT(run, link);
		if (run->cancel_sent)
			continue;
		log_info("%s: canceling (alias=%s)", run->inv.id, run->alias->name);
		run_cancel(r, run);
		/* cancel may finish it synchronously: restart the walk */
		next = TAILQ_FIRST(&r->running);
	}
}

bool
runner_cancel_id(struct runner *r, const char *id)
{
	struct run *run;

	TAILQ_FOREACH(run, &r->queue, link) {
		if (strcmp(run->inv.id, id) == 0) {
			struct action_result res;

			memset(&res, 0, sizeof res);
			res.status = ACTION_CANCELED;
			res.exit_code = -1;
			res.reason = (char *)"canceled before it started";
			run_finish(run, &res);
			runner_pump(r);
			return true;
		}
	}
	TAILQ_FOREACH(run, &r->running, link) {
		if (strcmp(run->inv.id, id) == 0) {
			if (!run->cancel_sent)
				run_cancel(r, run);
			return true;
		}
	}
	return false;
}

void
runner_foreach(const struct runner *r, void (*cb)(const struct runner_view *v,
    void *arg), void *arg)
{
	const struct run *run;
	struct runner_view v;

	TAILQ_FOREACH(run, &r->running, link) {
		v.id = run->inv.id;
		v.alias = run->alias->name;
		v.user = run->who.name;
		v.channel = run->channel_id;
		v.thread = run->thread_id;
		v.queued = false;
		v.started_ms = run->started_ms;
		cb(&v, arg);
	}
	TAILQ_FOREACH(run, &r->queue, link) {
		v.id = run->inv.id;
		v.alias = run->alias->name;
		v.user = run->who.name;
		v.channel = run->channel_id;
		v.thread = run->thread_id;
		v.queued = true;
		v.started_ms = 0;
		cb(&v, arg);
	}
}
