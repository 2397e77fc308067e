/*
 * http.c - the http action: a templated request (method, URL, headers, JSON
 * body) through the shared libcurl client (bot/http_client.h).
 *
 * Rendered values may carry secrets (the router puts them in the template
 * context), so nothing rendered is logged except the method and the URL with
 * its user info and query string removed.
 *
 * done is always called from a uv close callback (the run's one timer
 * handle), never from within start() or cancel(); the state is freed right
 * after it.
 */
#include "handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bot/http_client.h"
#include "bot/log.h"
#include "bot/template.h"
#include "bot/util.h"

#define HTTP_ACTION_DEFAULT_MAX_OUTPUT 65536u
#define HTTP_FIELD_MAX (256u * 1024u)   /* a rendered URL, header or body */

struct http_run {
	struct invocation *inv;
	handler_done_cb done;
	void *arg;
	struct http_request *req;       /* in flight, or NULL */
	uv_timer_t handle;              /* closed to report: done runs in its close cb */
	bool finishing;
	struct action_result res;
	uint64_t start_ms;
	uint64_t timeout_ms;
	char *log_url;
};

static const char *
status_phrase(long code)
{
	switch (code) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static void
run_closed(uv_handle_t *h)
{
	struct http_run *run = h->data;
	struct invocation *inv = run->inv;

	run->res.duration_ms = ack_now_ms() - run->start_ms;
	log_info("http %s: %s%s%s in %llu ms", inv->id, action_status_name(run->res.status),
	    run->res.reason ? ": " : "", run->res.reason ? run->res.reason : "",
	    (unsigned long long)run->res.duration_ms);
	inv->handler_state = NULL;
	run->done(inv, &run->res, run->arg);    /* inv may be gone after this */
	action_result_free_fields(&run->res);
	free(run->log_url);
	free(run);
}

static void
run_finish(struct http_run *run)
{
	if (run->finishing)
		return;
	run->finishing = true;
	uv_close((uv_handle_t *)&run->handle, run_closed);
}

static void
run_fail(struct http_run *run, enum action_status st, const char *reason)
{
	run->res.status = st;
	free(run->res.reason);
	run->res.reason = xstrdup(reason);
	run_finish(run);
}

static void
on_response(const struct http_response *r, void *arg)
{
	struct http_run *run = arg;
	struct action_result *res = &run->res;
	char dur[32];

	run->req = NULL;
	res->http_status = r->status;
	res->out = xstrndup(r->body, r->body_len);
	res->out_len = r->body_len;
	res->out_dropped = r->body_dropped;
	if (r->body_len > 0 && r->body_dropped == 0)
		res->json = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
	switch (r->result) {
	case HTTP_OK:
		if (r->status >= 200 && r->status < 300) {
			res->status = ACTION_SUCCEEDED;
		} else {
			const char *phrase = r->reason[0] ? r->reason : status_phrase(r->status);

			res->status = ACTION_FAILED;
			res->reason = phrase[0] ? xasprintf("HTTP %ld %s", r->status, phrase) :
			    xasprintf("HTTP %ld", r->status);
		}
		break;
	case HTTP_ERR_TIMEOUT:
		handler_fmt_duration(run->timeout_ms, dur, sizeof dur);
		res->status = ACTION_TIMEOUT;
		res->reason = xasprintf("timed out after %s (%s)", dur, r->error);
		break;
	case HTTP_ERR_CANCELED:
		res->status = ACTION_CANCELED;
		res->reason = xasprintf("canceled: %s", r->error);
		break;
	default:
		res->status = ACTION_FAILED;
		res->reason = xstrdup(r->error);
		break;
	}
	run_finish(run);
}

/* Renders the request and sends it; returns 0, or -1 with reason filled. */
static int
build_and_send(struct http_run *run, char *reason, size_t rlen)
{
	struct invocation *inv = run->inv;
	const struct cfg_http *h = &inv->alias->http;
	struct http_request *req = NULL;
	char *method = NULL, *url = NULL, *body = NULL, what[96];
	size_t i, max;
	int rc = -1;

	method = handler_render(h->method.s ? h->method.s : "GET", inv->context, 64,
	    "method", reason, rlen);
	if (method == NULL)
		goto out;
	url = handler_render(h->url.s, inv->context, HTTP_FIELD_MAX, "url", reason, rlen);
	if (url == NULL)
		goto out;
	req = http_request_new(method, url, reason, rlen);
	if (req == NULL)
		goto out;
	run->log_url = http_url_for_log(url);
	for (i = 0; i < h->headers.n; i++) {
		char *v;

		snprintf(what, sizeof what, "header %s", h->headers.v[i].key);
		v = handler_render(h->headers.v[i].value.s, inv->context, HTTP_FIELD_MAX, what,
		    reason, rlen);
		if (v == NULL)
			goto out;
		rc = http_request_add_header(req, h->headers.v[i].key, v, reason, rlen);
		free(v);
		if (rc != 0)
			goto out;
		rc = -1;
	}
	/* Who asked, unless the alias sets these itself. */
	if (json_is_object(inv->env)) {
		const char *u = json_string_value(json_object_get(inv->env, "ACKBOT_USER"));

		if (u != NULL && !http_request_has_header(req, "X-Ackbot-User"))
			(void)http_request_add_header(req, "X-Ackbot-User", u, NULL, 0);
	}
	if (inv->id[0] && !http_request_has_header(req, "X-Ackbot-Command-Id"))
		(void)http_request_add_header(req, "X-Ackbot-Command-Id", inv->id, NULL, 0);
	if (h->body.s != NULL) {
		json_error_t je;
		json_t *j;

		body = handler_render(h->body.s, inv->context, HTTP_FIELD_MAX, "body", reason,
		    rlen);
		if (body == NULL)
			goto out;
		j = json_loads(body, JSON_DECODE_ANY, &je);
		if (j == NULL) {
			ack_err(reason, rlen, "body is not valid JSON: %s (line %d, column %d)",
			    je.text, je.line, je.column);
			goto out;
		}
		json_decref(j);
		http_request_set_body(req, body, strlen(body));
		if (!http_request_has_header(req, "Content-Type"))
			http_request_add_header(req, "Content-Type", "application/json", NULL, 0);
	}
	if (h->ca_file.s != NULL)
		http_request_set_ca_file(req, h->ca_file.s);
	max = inv->max_output ? inv->max_output :
	    h->max_output ? h->max_output : HTTP_ACTION_DEFAULT_MAX_OUTPUT;
	http_request_set_max_response(req, max);
	http_request_set_truncate(req, true);
	http_request_set_timeout(req, inv->timeout_ms);
	run->timeout_ms = inv->timeout_ms ? inv->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;

	log_info("http %s: %s %s", inv->id, method, run->log_url);
	run->req = req;
	if (http_request_send(inv->http, req, on_response, run, reason, rlen) != 0) {
		run->req = NULL;
		req = NULL;             /* freed by send */
		goto out;
	}
	req = NULL;
	rc = 0;
out:
	http_request_free(req);
	free(method);
	free(url);
	free(body);
	return rc;
}

static int
http_start(struct invocation *inv, handler_done_cb done, void *arg,
    char *err, size_t errlen)
{
	struct http_run *run;
	char reason[ACK_ERR_LEN];

	if (inv == NULL || inv->alias == NULL || inv->loop == NULL || done == NULL ||
	    inv->http == NULL)
		return ack_err(err, errlen, "http: incomplete invocation");
	if (inv->alias->handler != CFG_HANDLER_HTTP)
		return ack_err(err, errlen, "http: alias %s is not an http action",
		    inv->alias->name);
	run = xcalloc(1, sizeof *run);
	run->inv = inv;
	run->done = done;
	run->arg = arg;
	run->start_ms = ack_now_ms();
	run->res.exit_code = -1;
	uv_timer_init(inv->loop, &run->handle);
	run->handle.data = run;
	inv->handler_state = run;
	reason[0] = '\0';
	if (build_and_send(run, reason, sizeof reason) != 0) {
		log_info("http %s: not sent: %s", inv->id, reason);
		run_fail(run, ACTION_FAILED, reason);
	}
	return 0;
}

static void
http_cancel(struct invocation *inv)
{
	struct http_run *run = inv ? inv->handler_state : NULL;

	if (run == NULL || run->finishing)
		return;
	if (run->req != NULL) {
		http_request_cancel(run->req);  /* no callback follows */
		run->req = NULL;
	}
	run_fail(run, ACTION_CANCELED, "canceled");
}

/* A URL that starts with a template cannot be judged before rendering. */
static bool
url_scheme_ok(const char *u)
{
	return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0 ||
	    strncmp(u, "{{", 2) == 0 || strncmp(u, "{%", 2) == 0;
}

static void
http_check(const struct cfg_alias *a, const char *file, struct diag *d)
{
	const struct cfg_http *h = &a->http;
	char what[128];
	size_t i, j;

	if (h->url.s == NULL || h->url.s[0] == '\0') {
		diag_add(d, DIAG_ERROR, file, a->pos.line, a->pos.col,
		    "alias \"%s\": http.url is required", a->name);
	} else if (!url_scheme_ok(h->url.s)) {
		diag_add(d, DIAG_ERROR, file, h->url.pos.line, h->url.pos.col,
		    "alias \"%s\": http.url must start with http:// or https://", a->name);
	}
	snprintf(what, sizeof what, "alias \"%s\": http.url", a->name);
	handler_check_template(&h->url, what, file, d);
	snprintf(what, sizeof what, "alias \"%s\": http.method", a->name);
	handler_check_template(&h->method, what, file, d);
	for (i = 0; i < h->headers.n; i++) {
		const char *k = h->headers.v[i].key;
		bool ok = k != NULL && k[0] != '\0';

		for (j = 0; ok && k[j]; j++)
			if ((unsigned char)k[j] <= 0x20 || k[j] == ':' || k[j] == 0x7F)
				ok = false;
		if (!ok)
			diag_add(d, DIAG_ERROR, file, h->headers.v[i].value.pos.line,
			    h->headers.v[i].value.pos.col,
			    "alias \"%s\": http.headers: \"%s\" is not a valid header name",
			    a->name, k ? k : "");
		snprintf(what, sizeof what, "alias \"%s\": http.headers.%s", a->name, k ? k : "");
		handler_check_template(&h->headers.v[i].value, what, file, d);
	}
	if (h->body.s != NULL) {
		snprintf(what, sizeof what, "alias \"%s\": http.body", a->name);
		handler_check_template(&h->body, what, file, d);
		if (tmpl_is_literal(h->body.s, strlen(h->body.s))) {
			json_error_t je;
			json_t *jv = json_loads(h->body.s, JSON_DECODE_ANY, &je);

			if (jv == NULL)
				diag_add(d, DIAG_ERROR, file, h->body.pos.line, h->body.pos.col,
				    "alias \"%s\": http.body is not valid JSON: %s", a->name, je.text);
			json_decref(jv);
		}
	}
	if (h->ca_file.s != NULL && access(h->ca_file.s, R_OK) != 0)
		diag_add(d, DIAG_WARNING, file, h->ca_file.pos.line, h->ca_file.pos.col,
		    "alias \"%s\": http.ca_file %s is not readable here", a->name, h->ca_file.s);
}

const struct handler_ops handler_http = {
	.name = "http",
	.check = http_check,
	.start = http_start,
	.cancel = http_cancel,
};
