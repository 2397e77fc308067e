/*
 * app.c - the bot's loop: start, signals, reload, shutdown (see app.h).
 *
 * Handles owned here: the confirmation timer, the grace timer and three
 * signal watchers. They are closed last, after the adapter has stopped and
 * the HTTP client has closed, so that uv_run returns on its own and
 * uv_loop_close succeeds.
 */
#include "app.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/mattermost.h"
#include "adapters/slack.h"
#include "adapters/ws.h"
#include "alias.h"
#include "audit.h"
#include "confirm.h"
#include "handlers/handler.h"
#include "http_client.h"
#include "log.h"
#include "messages.h"
#include "router.h"
#include "runner.h"
#include "uservars.h"
#include "util.h"

/* ---- generations -------------------------------------------------------- */

struct bot_gen *
gen_ref(struct bot_gen *g)
{
	if (g != NULL)
		g->refs++;
	return g;
}

void
gen_unref(struct bot_gen *g)
{
	if (g == NULL || --g->refs > 0)
		return;
	log_debug("config generation %u released", g->serial);
	messages_free(g->msgs);
	alias_set_free(g->aliases);
	cfg_free(g->cfg);
	free(g);
}

struct bot_gen *
app_build_gen(struct cfg *c, const char *path, struct diag *d)
{
	struct bot_gen *g;
	size_t i, errors0 = d->nerrors;

	g = xcalloc(1, sizeof *g);
	g->refs = 1;
	g->cfg = c;
	for (i = 0; i < c->naliases; i++) {
		const struct handler_ops *ops = handler_for(c->aliases[i].handler);

		if (ops != NULL && ops->check != NULL && c->aliases[i].enabled)
			ops->check(&c->aliases[i], c->path ? c->path : path, d);
	}
	g->aliases = alias_set_build(c, d);
	g->msgs = messages_new(c, d);
	if (g->aliases == NULL || g->msgs == NULL || d->nerrors > errors0) {
		gen_unref(g);
		return NULL;
	}
	return g;
}

struct bot_gen *
app_load_gen(const char *path, struct diag *d)
{
	struct cfg *c = NULL;

	if (cfg_load(path, true, &c, d) != 0 || c == NULL)
		return NULL;
	return app_build_gen(c, path, d);
}

/* ---- the HTTP client, created on first use ------------------------------
 *
 * libcurl and OpenSSL cost about 2.5 MB of resident memory once initialized;
 * a console bot whose aliases never make an HTTP request does not pay it.
 * curl_global_init is thread-safe in this libcurl (CURL_VERSION_THREADSAFE);
 * where it is not, app_run calls it before the loop starts any thread. */

static bool curl_ready;

static bool
curl_init_once(void)
{
	if (curl_ready)
		return true;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		log_error("curl_global_init failed");
		return false;
	}
	curl_ready = true;
	return true;
}

struct http_client *
app_http(struct bot *b)
{
	if (b->http == NULL && b->state != BOT_CLOSING && curl_init_once())
		b->http = http_client_new(b->loop);
	return b->http;
}

/* ---- recent outcomes ---------------------------------------------------- */

void
app_remember(struct bot *b, const char *id, const char *what)
{
	struct bot_recent *r = &b->recent[b->recent_next++ % BOT_RECENT];

	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->what, sizeof r->what, "%s", what);
}

const char *
app_recall(const struct bot *b, const char *id)
{
	unsigned i;

	/* newest first */
	for (i = 0; i < BOT_RECENT; i++) {
		const struct bot_recent *r =
		    &b->recent[(b->recent_next + BOT_RECENT - 1 - i) % BOT_RECENT];

		if (r->id[0] != '\0' && strcmp(r->id, id) == 0)
			return r->what;
	}
	return NULL;
}

/* ---- confirmations: one timer ------------------------------------------- */

/* The tracker's clock is the loop's, refreshed: a burst of commands handled
 * in one loop iteration would otherwise all be stamped with the time the
 * iteration started, and expire early by the length of the burst. */
static uint64_t
loop_clock(void *arg)
{
	uv_update_time(arg);
	return uv_now(arg);
}

/* The one place a confirmation's expiry is handled: from the timer, or
 * when a command finds it past its time before the timer fired. */
void
app_confirm_expired(struct bot *b, struct confirm_entry *e)
{
	json_t *ctx = pending_cmd_context(e->payload);
	json_t *f;
	char *text;

	{
		/* lateness against the precise clock, for the benchmark */
		int64_t late = (int64_t)(uv_hrtime() / 1000000u) - (int64_t)e->expires_ms;

		log_info("confirmation %s expired: alias=%s user=%s channel=%s late_ms=%lld",
		    e->id, e->alias, e->user, e->channel, (long long)late);
	}
	app_remember(b, e->id, "expired");
	f = json_pack("{s:s,s:s,s:s,s:s}", "confirm_id", e->id, "alias", e->alias,
	    "user", e->user, "channel", e->channel);
	bot_audit(b, "expired", f);
	/* the prompt's buttons give way to the outcome (where there are any) */
	router_prompt_decided(b, e->payload, "expired", NULL, NULL);
	if (b->adapter != NULL) {
		text = messages_render(b->gen->msgs, MSG_CONFIRM_EXPIRED, ctx);
		bot_say(b, e->channel, e->thread, text);
		free(text);
	}
	json_decref(ctx);
}

static void
confirm_expired_cb(struct confirm_entry *e, void *arg)
{
	app_confirm_expired(arg, e);
}

static void
on_confirm_timer(uv_timer_t *t)
{
	struct bot *b = t->data;
	uint64_t t0 = ack_now_us();
	size_t n;

	n = confirm_expire_due(b->confirms, confirm_expired_cb, b);
	log_debug("confirmation timer: %zu expired in %llu us", n,
	    (unsigned long long)(ack_now_us() - t0));
	app_confirm_rearm(b);
}

void
app_confirm_rearm(struct bot *b)
{
	uint64_t at, now = uv_now(b->loop);

	if (uv_is_closing((uv_handle_t *)&b->confirm_timer))
		return;
	if (confirm_next_deadline(b->confirms, &at))
		uv_timer_start(&b->confirm_timer, on_confirm_timer, at > now ? at - now : 0, 0);
	else
		uv_timer_stop(&b->confirm_timer);
}

struct drop_ctx {
	struct bot *b;
	const char *reason;
	const struct cfg *keep;         /* reload: aliases that survive */
};

static void
confirm_dropped_cb(struct confirm_entry *e, void *arg)
{
	struct drop_ctx *dc = arg;
	struct bot *b = dc->b;
	json_t *ctx = pending_cmd_context(e->payload);
	json_t *f;
	char *text;

	log_info("confirmation %s dropped (%s): alias=%s user=%s", e->id, dc->reason,
	    e->alias, e->user);
	app_remember(b, e->id, "dropped");
	f = json_pack("{s:s,s:s,s:s,s:s,s:s}", "confirm_id", e->id, "alias", e->alias,
	    "user", e->user, "channel", e->channel, "reason", dc->reason);
	bot_audit(b, "dropped", f);
	router_prompt_decided(b, e->payload, "dropped", NULL, dc->reason);
	if (b->adapter != NULL) {
		json_object_set_new(ctx, "reason", json_string(dc->reason));
		text = messages_render(b->gen->msgs, MSG_CONFIRM_DROPPED, ctx);
		bot_say(b, e->channel, e->thread, text);
		free(text);
	}
	json_decref(ctx);
}

static bool
pred_all(const struct confirm_entry *e, void *arg)
{
	(void)e;
	(void)arg;
	return true;
}

static bool
pred_alias_gone(const struct confirm_entry *e, void *arg)
{
	const struct drop_ctx *dc = arg;
	const struct cfg_alias *a = cfg_find_alias(dc->keep, e->alias);

	return a == NULL || !a->enabled;
}

static void
drop_all_confirmations(struct bot *b, const char *reason)
{
	struct drop_ctx dc = { b, reason, NULL };

	confirm_remove_if(b->confirms, pred_all, confirm_dropped_cb, &dc);
	app_confirm_rearm(b);
}

/* ---- logging and audit -------------------------------------------------- */

static void
apply_logging(struct bot *b, const struct cfg *c)
{
	FILE *f = NULL;

	if (c->bot.log_file != NULL) {
		f = fopen(c->bot.log_file, "a");
		if (f == NULL)
			log_error("cannot open log file %s: %s; logging to stderr",
			    c->bot.log_file, strerror(errno));
	}
	log_setup((enum log_level)c->bot.log_level, f);
	if (b->log_file != NULL)
		fclose(b->log_file);
	b->log_file = f;
}

static void
apply_audit(struct bot *b, const struct cfg *c)
{
	char err[ACK_ERR_LEN];

	if (c->bot.audit_log == NULL && b->audit_path == NULL)
		return;
	if (c->bot.audit_log != NULL && b->audit_path != NULL &&
	    strcmp(c->bot.audit_log, b->audit_path) == 0) {
		/* same file: open it again, for log rotation */
		if (audit_reopen(b->audit, err, sizeof err) != 0)
			log_error("audit log: %s", err);
		return;
	}
	if (b->audit != NULL) {
		audit_close(b->audit);
		b->audit = NULL;
	}
	free(b->audit_path);
	b->audit_path = NULL;
	if (c->bot.audit_log == NULL)
		return;
	b->audit = audit_open(c->bot.audit_log, err, sizeof err);
	if (b->audit == NULL) {
		log_error("audit log: %s", err);
		return;
	}
	b->audit_path = xstrdup(c->bot.audit_log);
	log_info("audit log: %s", c->bot.audit_log);
}

/* ---- shutdown ----------------------------------------------------------- */

static void
handle_closed(uv_handle_t *h)
{
	struct bot *b = h->data;

	b->open_handles--;
}

static void
close_handle(struct bot *b, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, handle_closed);
	(void)b;
}

static void
http_closed(void *arg)
{
	struct bot *b = arg;

	b->http = NULL;
	close_handle(b, (uv_handle_t *)&b->confirm_timer);
	close_handle(b, (uv_handle_t *)&b->grace_timer);
	close_handle(b, (uv_handle_t *)&b->launch_check);
	close_handle(b, (uv_handle_t *)&b->launch_idle);
	close_handle(b, (uv_handle_t *)&b->sig_int);
	close_handle(b, (uv_handle_t *)&b->sig_term);
	close_handle(b, (uv_handle_t *)&b->sig_hup);
}

static void
adapter_stopped(void *arg)
{
	struct bot *b = arg;

	b->adapter = NULL;
	if (b->http != NULL)
		http_client_close(b->http, http_closed, b);
	else
		http_closed(b);
}

static void
app_close(struct bot *b)
{
	if (b->state == BOT_CLOSING)
		return;
	b->state = BOT_CLOSING;
	log_info("closing: no action left running");
	uv_timer_stop(&b->grace_timer);
	uv_timer_stop(&b->confirm_timer);
	if (b->adapter != NULL)
		b->adapter->ops->stop(b->adapter, adapter_stopped, b);
	else
		adapter_stopped(b);
}

void
app_actions_idle(struct bot *b)
{
	if (b->state == BOT_DRAINING || b->state == BOT_STOPPING)
		app_close(b);
}

static void
on_grace_timer(uv_timer_t *t)
{
	struct bot *b = t->data;

	log_warn("shutdown grace period over: canceling %zu running action%s",
	    runner_running(b->runner), runner_running(b->runner) == 1 ? "" : "s");
	runner_cancel_all(b->runner);
}

struct waiting_ctx {
	struct bot *b;
	const char *grace;
};

static void
tell_waiting(const struct runner_view *v, void *arg)
{
	struct waiting_ctx *w = arg;
	json_t *ctx;
	char *text;

	if (v->queued)
		return;
	ctx = json_pack("{s:{s:s},s:{s:s,s:s},s:s}", "actionalias", "name", v->alias,
	    "execution", "id", v->id, "status", "running", "grace", w->grace);
	text = messages_render(w->b->gen->msgs, MSG_SHUTDOWN_WAITING, ctx);
	bot_say(w->b, v->channel, v->thread, text);
	free(text);
	json_decref(ctx);
}


/* A signal (or an adapter that cannot go on): stop taking commands, tell
 * the channels what is still running, wait for it up to the grace period,
 * then cancel it. */
static void
app_stop(struct bot *b, const char *why)
{
	uint64_t grace = b->gen->cfg->bot.shutdown_grace_ms;
	char gtext[32];

	if (b->state == BOT_CLOSING)
		return;
	if (b->state == BOT_STOPPING) {
		log_warn("%s again: canceling running actions now", why);
		runner_cancel_all(b->runner);
		return;
	}
	b->state = BOT_STOPPING;
	log_info("%s: shutting down (%zu running, %zu queued, %zu awaiting confirmation)",
	    why, runner_running(b->runner), runner_queued(b->runner),
	    confirm_count(b->confirms));
	drop_all_confirmations(b, "the bot is shutting down");
	runner_drop_queued(b->runner, "not started: the bot is shutting down");
	if (b->state == BOT_CLOSING)
		return;
	if (runner_running(b->runner) == 0) {
		app_close(b);
		return;
	}
	handler_fmt_duration(grace, gtext, sizeof gtext);
	{
		struct waiting_ctx w = { b, gtext };

		runner_foreach(b->runner, tell_waiting, &w);
	}
	log_info("waiting up to %s for %zu running action%s", gtext,
	    runner_running(b->runner), runner_running(b->runner) == 1 ? "" : "s");
	uv_timer_start(&b->grace_timer, on_grace_timer, grace, 0);
}

/* The adapter has ended (console EOF: exit_code 0) or failed for good. */
static void
on_adapter_end(void *arg, int exit_code, const char *why)
{
	struct bot *b = arg;

	if (exit_code != 0) {
		log_error("adapter: %s", why ? why : "ended");
		b->exit_code = exit_code;
		app_stop(b, "adapter failure");
		return;
	}
	if (b->state != BOT_RUNNING)
		return;
	log_info("adapter: %s; finishing %zu running and %zu queued action%s",
	    why ? why : "ended", runner_running(b->runner), runner_queued(b->runner),
	    runner_active(b->runner) == 1 ? "" : "s");
	b->state = BOT_DRAINING;
	drop_all_confirmations(b, "the session ended");
	if (runner_active(b->runner) == 0)
		app_close(b);
}

/* ---- reload ------------------------------------------------------------- */

static void
log_diag(const struct diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag_item *it = &d->items[i];

		log_msg(it->severity == DIAG_ERROR ? LOG_ERROR : LOG_WARN,
		    "%s:%d:%d: %s: %s", it->file ? it->file : "?", it->line, it->col,
		    it->severity == DIAG_ERROR ? "error" : "warning", it->msg);
	}
}

static void
app_reload(struct bot *b)
{
	struct bot_gen *g, *old;
	struct diag d;
	size_t n;

	if (b->state != BOT_RUNNING) {
		log_info("SIGHUP ignored: shutting down");
		return;
	}
	log_info("SIGHUP: reloading %s", b->config_path);
	diag_init(&d);
	g = app_load_gen(b->config_path, &d);
	log_diag(&d);
	if (g == NULL) {
		log_error("reload failed: %zu error%s in %s; still running configuration "
		    "generation %u", d.nerrors, d.nerrors == 1 ? "" : "s", b->config_path,
		    b->gen->serial);
		bot_audit(b, "reload_failed", json_pack("{s:s,s:i}", "config",
		    b->config_path, "errors", (int)d.nerrors));
		diag_free(&d);
		return;
	}
	diag_free(&d);
	if (g->cfg->bot.adapter != b->gen->cfg->bot.adapter)
		log_warn("reload: [bot].adapter changed; that takes effect at the next restart");
	old = b->gen;
	g->serial = old->serial + 1;
	b->gen = g;
	{
		struct drop_ctx dc = { b, "its alias was removed or disabled by a configuration "
		    "reload", g->cfg };

		n = confirm_remove_if(b->confirms, pred_alias_gone, confirm_dropped_cb, &dc);
		app_confirm_rearm(b);
	}
	apply_logging(b, g->cfg);
	apply_audit(b, g->cfg);
	log_info("reloaded %s: configuration generation %u, %zu alias%s; %zu pending "
	    "confirmation%s dropped, %zu running action%s keep generation %u",
	    b->config_path, g->serial, g->cfg->naliases, g->cfg->naliases == 1 ? "" : "es",
	    n, n == 1 ? "" : "s", runner_running(b->runner),
	    runner_running(b->runner) == 1 ? "" : "s", old->serial);
	bot_audit(b, "reloaded", json_pack("{s:s,s:i}", "config", b->config_path,
	    "generation", (int)g->serial));
	gen_unref(old);
}

static void
on_signal(uv_signal_t *h, int signum)
{
	struct bot *b = h->data;

	b->signals_seen++;
	switch (signum) {
	case SIGHUP:
		app_reload(b);
		break;
	case SIGINT:
		app_stop(b, "SIGINT");
		break;
	case SIGTERM:
		app_stop(b, "SIGTERM");
		break;
	default:
		break;
	}
}

/* ---- start -------------------------------------------------------------- */

static void
on_launch_idle(uv_idle_t *h)
{
	(void)h;        /* only there so that poll does not wait */
}

static void
on_launch_check(uv_check_t *h)
{
	struct bot *b = h->data;

	if (!runner_launch_pending(b->runner)) {
		uv_check_stop(&b->launch_check);
		uv_idle_stop(&b->launch_idle);
	}
}

void
app_defer_launch(struct bot *b)
{
	if (uv_is_active((uv_handle_t *)&b->launch_check))
		return;
	uv_idle_start(&b->launch_idle, on_launch_idle);
	uv_check_start(&b->launch_check, on_launch_check);
}

static int
open_handles(struct bot *b)
{
	uv_timer_init(b->loop, &b->confirm_timer);
	uv_timer_init(b->loop, &b->grace_timer);
	uv_signal_init(b->loop, &b->sig_int);
	uv_signal_init(b->loop, &b->sig_term);
	uv_signal_init(b->loop, &b->sig_hup);
	uv_check_init(b->loop, &b->launch_check);
	uv_idle_init(b->loop, &b->launch_idle);
	b->confirm_timer.data = b->grace_timer.data = b;
	b->launch_check.data = b->launch_idle.data = b;
	b->sig_int.data = b->sig_term.data = b->sig_hup.data = b;
	b->open_handles = 7;
	/* the grace timer must not keep... it is only started on shutdown */
	if (uv_signal_start(&b->sig_int, on_signal, SIGINT) != 0 ||
	    uv_signal_start(&b->sig_term, on_signal, SIGTERM) != 0 ||
	    uv_signal_start(&b->sig_hup, on_signal, SIGHUP) != 0)
		return -1;
	return 0;
}

int
app_run(const struct app_opts *o)
{
	struct bot bot, *b = &bot;
	struct adapter_host host;
	struct bot_gen *adapter_gen;
	struct diag d;
	uv_loop_t loop;
	char err[ACK_ERR_LEN];
	int rc, status;

	memset(b, 0, sizeof *b);
	diag_init(&d);
	b->gen = app_load_gen(o->config_path, &d);
	diag_print(&d, stderr);
	if (b->gen == NULL) {
		fprintf(stderr, "ackbot: %s: %zu error%s; not starting\n", o->config_path,
		    d.nerrors, d.nerrors == 1 ? "" : "s");
		diag_free(&d);
		return 2;
	}
	diag_free(&d);
	b->gen->serial = 1;
	apply_logging(b, b->gen->cfg);

	if (!(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_THREADSAFE) &&
	    !curl_init_once()) {
		gen_unref(b->gen);
		return 1;
	}
	uv_loop_init(&loop);
	b->loop = &loop;
	b->config_path = xstrdup(o->config_path);
	b->json_output = o->json_output;
	/* a child's broken pipe must not kill the bot */
	signal(SIGPIPE, SIG_IGN);
	if (open_handles(b) != 0)
		log_warn("cannot watch signals");
	b->runner = runner_new(b);
	b->confirms = confirm_new(&(struct confirm_opts){ .now_ms = loop_clock,
	    .clock_arg = &loop });
	apply_audit(b, b->gen->cfg);
	/* The per-user variable store is read once, at start: a corrupt file
	 * stops the bot rather than silently losing people's values. */
	if (uservars_shared_open(b->gen->cfg->bot.state_file, err, sizeof err) == NULL) {
		log_error("%s", err);
		fprintf(stderr, "ackbot: %s; not starting\n", err);
		b->exit_code = 2;
	}

	/* The adapter keeps a pointer to the config it started with: that
	 * generation stays alive until the adapter has stopped. */
	adapter_gen = gen_ref(b->gen);
	memset(&host, 0, sizeof host);
	host.loop = &loop;
	host.http = NULL;
	host.cfg = adapter_gen->cfg;
	host.on_event = router_on_event;
	host.on_end = on_adapter_end;
	host.arg = b;
	err[0] = '\0';
	switch (b->exit_code != 0 ? -1 : (int)adapter_gen->cfg->bot.adapter) {
	case -1:
		break;          /* not starting: no adapter */
	case CFG_ADAPTER_SLACK:
		host.http = app_http(b);
		b->adapter = host.http ? slack_adapter_new(&host, err, sizeof err) : NULL;
		break;
	case CFG_ADAPTER_MATTERMOST:
		host.http = app_http(b);
		b->adapter = host.http ? mattermost_adapter_new(&host, err, sizeof err) : NULL;
		break;
	case CFG_ADAPTER_CONSOLE:
	default:
		/* the console needs no HTTP client */
		b->adapter = console_adapter_new(&host, adapter_gen->cfg->bot.console_user,
		    o->json_output);
		break;
	}
	b->state = BOT_RUNNING;
	if (b->exit_code != 0) {
		app_stop(b, "start-up failure");
	} else if (b->adapter == NULL) {
		log_error("cannot start the adapter: %s", err[0] ? err : "no HTTP client");
		b->exit_code = 1;
		app_stop(b, "adapter failure");
	} else {
		log_info("ackbot %s starting: config %s, adapter %s, %zu alias%s",
		    ACKBOT_VERSION, b->config_path, b->adapter->ops->name,
		    b->gen->cfg->naliases, b->gen->cfg->naliases == 1 ? "" : "es");
		if (b->adapter->ops->start(b->adapter, err, sizeof err) != 0) {
			log_error("%s", err);
			b->exit_code = 1;
			app_stop(b, "adapter start failure");
		}
	}

	uv_run(&loop, UV_RUN_DEFAULT);
	/* libwebsockets on a foreign loop frees its context only on a second
	 * destroy once the loop has let go of its handles (c-style.md 6.8). */
	ws_context_final_destroy();
	uservars_shared_close();

	status = b->exit_code;
	confirm_free(b->confirms);
	runner_free(b->runner);
	if (b->audit != NULL)
		audit_close(b->audit);
	free(b->audit_path);
	gen_unref(b->gen);
	gen_unref(adapter_gen);
	rc = uv_loop_close(&loop);
	if (rc != 0) {
		log_error("uv_loop_close: %s (a handle was left open)", uv_strerror(rc));
		if (status == 0)
			status = 1;
	}
	log_info("stopped (exit status %d)", status);
	free(b->config_path);
	if (b->log_file != NULL) {
		log_setup(log_get_level(), NULL);
		fclose(b->log_file);
	}
	if (curl_ready)
		curl_global_cleanup();
	curl_ready = false;
	return status;
}
