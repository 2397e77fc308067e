/*
 * test_http_handler.c - the http action against a real loopback server
 * (tests/unit/helpers/httpd.h) on the same loop: JSON success, non-2xx,
 * a body that does not render to JSON, refused connections, timeouts,
 * cancel, output cap, header injection, and that secrets stay out of logs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/http_client.h"
#include "bot/log.h"
#include "bot/util.h"
#include "config/diag.h"
#include "handlers/handler.h"
#include "tests/unit/helpers/httpd.h"

struct got {
	int calls;
	enum action_status status;
	long http_status;
	char *out, *reason;
	size_t out_len, out_dropped;
	json_t *json;
};

struct fx {
	uv_loop_t loop;
	struct httpd srv;
	struct http_client *hc;
	struct cfg_alias alias;
	struct cfg_kv headers[8];
	struct invocation inv;
	struct got g;
	char base[64];
	FILE *log;
};

static void
on_done(struct invocation *inv, const struct action_result *r, void *arg)
{
	struct got *g = arg;

	(void)inv;
	g->calls++;
	g->status = r->status;
	g->http_status = r->http_status;
	g->out = xstrndup(r->out ? r->out : "", r->out_len);
	g->out_len = r->out_len;
	g->out_dropped = r->out_dropped;
	g->reason = xstrdup(r->reason);
	g->json = r->json ? json_incref(r->json) : NULL;
}

static void
got_free(struct got *g)
{
	free(g->out);
	free(g->reason);
	json_decref(g->json);
	memset(g, 0, sizeof *g);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);

	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_true(httpd_start(&f->srv, &f->loop) > 0);
	snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", f->srv.port);
	f->hc = http_client_new(&f->loop);
	f->alias.name = "h";
	f->alias.handler = CFG_HANDLER_HTTP;
	f->alias.http.headers.v = f->headers;
	snprintf(f->inv.id, sizeof f->inv.id, "c9");
	f->inv.alias = &f->alias;
	f->inv.loop = &f->loop;
	f->inv.http = f->hc;
	f->inv.context = json_object();
	f->inv.env = json_object();
	f->inv.timeout_ms = 10000;
	f->inv.max_output = 65536;
	json_object_set_new(f->inv.context, "base", json_string(f->base));
	json_object_set_new(f->inv.context, "secret", json_string("s3cr3t-t0ken"));
	json_object_set_new(f->inv.context, "host", json_string("web1"));
	json_object_set_new(f->inv.env, "ACKBOT_USER", json_string("alice"));
	f->log = tmpfile();
	log_setup(LOG_DEBUG, f->log);
	*state = f;
	return 0;
}

static void
closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int closed = 0;

	http_client_close(f->hc, closed_cb, &closed);
	httpd_stop(&f->srv);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	json_decref(f->inv.context);
	json_decref(f->inv.env);
	got_free(&f->g);
	log_setup(LOG_WARN, NULL);
	fclose(f->log);
	free(f);
	return 0;
}

static void
watchdog(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

static void
run_action(struct fx *f)
{
	char err[ACK_ERR_LEN];
	uv_timer_t wd;
	bool expired = false;

	got_free(&f->g);
	assert_int_equal(handler_http.start(&f->inv, on_done, &f->g, err, sizeof err), 0);
	assert_int_equal(f->g.calls, 0);       /* never from within start */
	uv_timer_init(&f->loop, &wd);
	wd.data = &expired;
	uv_timer_start(&wd, watchdog, 20000, 0);
	while (f->g.calls == 0 && !expired)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_false(expired);
	assert_int_equal(f->g.calls, 1);
	assert_null(f->inv.handler_state);
}

static void
add_header(struct fx *f, const char *k, const char *v)
{
	size_t n = f->alias.http.headers.n++;

	f->headers[n].key = (char *)k;
	f->headers[n].value.s = (char *)v;
}

static char *
log_text(struct fx *f)
{
	long n;
	char *s;

	fflush(f->log);
	n = ftell(f->log);
	s = xcalloc(1, (size_t)n + 1);
	rewind(f->log);
	assert_int_equal(fread(s, 1, (size_t)n, f->log), (size_t)n);
	return s;
}

static void
test_success_json(void **state)
{
	struct fx *f = *state;
	json_t *h;
	char *log;

	f->alias.http.method.s = "POST";
	f->alias.http.url.s = "{{ base }}/echo?token={{ secret }}";
	f->alias.http.body.s = "{\"host\": \"{{ host }}\", \"n\": 1}";
	add_header(f, "Authorization", "Bearer {{ secret }}");
	run_action(f);
	if (f->g.status != ACTION_SUCCEEDED)
		fail_msg("reason: %s", f->g.reason);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_int_equal(f->g.http_status, 200);
	assert_null(f->g.reason);
	assert_non_null(f->g.json);
	assert_string_equal(json_string_value(json_object_get(f->g.json, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(f->g.json, "body")),
	    "{\"host\": \"web1\", \"n\": 1}");
	h = json_object_get(f->g.json, "headers");
	assert_string_equal(json_string_value(json_object_get(h, "content-type")),
	    "application/json");
	assert_string_equal(json_string_value(json_object_get(h, "authorization")),
	    "Bearer s3cr3t-t0ken");
	assert_string_equal(json_string_value(json_object_get(h, "x-ackbot-user")), "alice");
	assert_string_equal(json_string_value(json_object_get(h, "x-ackbot-command-id")), "c9");
	assert_string_equal(json_string_value(json_object_get(f->g.json, "path")),
	    "/echo?token=s3cr3t-t0ken");

	/* The log names the method and URL, never the secret. */
	log = log_text(f);
	assert_non_null(strstr(log, "POST http://127.0.0.1:"));
	assert_non_null(strstr(log, "/echo"));
	assert_null(strstr(log, "s3cr3t"));
	assert_null(strstr(log, "token="));
	free(log);
}

static void
test_get_json_and_text(void **state)
{
	struct fx *f = *state;

	f->alias.http.url.s = "{{ base }}/json";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_int_equal(json_integer_value(json_object_get(f->g.json, "n")), 42);
	assert_string_equal(f->g.out, "{\"ok\":true,\"n\":42}");

	f->alias.http.url.s = "{{ base }}/text";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_null(f->g.json);
	assert_string_equal(f->g.out, "hello, not json");
}

static void
test_content_type_override(void **state)
{
	struct fx *f = *state;

	f->alias.http.method.s = "PUT";
	f->alias.http.url.s = "{{ base }}/echo";
	f->alias.http.body.s = "[1, 2]";
	add_header(f, "content-type", "application/vnd.api+json");
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_string_equal(json_string_value(json_object_get(json_object_get(f->g.json,
	    "headers"), "content-type")), "application/vnd.api+json");
	assert_string_equal(json_string_value(json_object_get(f->g.json, "method")), "PUT");
}

static void
test_non_2xx(void **state)
{
	struct fx *f = *state;

	f->alias.http.url.s = "{{ base }}/status/503";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_int_equal(f->g.http_status, 503);
	assert_string_equal(f->g.reason, "HTTP 503 Service Unavailable");
	assert_string_equal(f->g.out, "{\"error\":\"nope\"}");
	assert_non_null(f->g.json);

	f->alias.http.url.s = "{{ base }}/status/404";
	run_action(f);
	assert_string_equal(f->g.reason, "HTTP 404 Not Found");
}

static void
test_invalid_json_body(void **state)
{
	struct fx *f = *state;

	f->alias.http.method.s = "POST";
	f->alias.http.url.s = "{{ base }}/echo";
	f->alias.http.body.s = "{\"host\": {{ host }}}";    /* unquoted: {"host": web1} */
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_int_equal(f->g.http_status, 0);
	assert_non_null(strstr(f->g.reason, "body is not valid JSON: "));
	assert_int_equal(f->srv.nrequests, 0);  /* nothing was sent */
}

static void
test_refused(void **state)
{
	struct fx *f = *state;
	char url[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", httpd_free_port());
	f->alias.http.url.s = url;
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_int_equal(f->g.http_status, 0);
	assert_non_null(strstr(f->g.reason, "Connection refused"));
}

static void
test_timeout(void **state)
{
	struct fx *f = *state;

	f->inv.timeout_ms = 200;
	f->alias.http.url.s = "{{ base }}/slow/5000";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_TIMEOUT);
	assert_non_null(strstr(f->g.reason, "timed out after 200ms"));
}

struct cancel_ctx {
	struct fx *f;
	int calls_in_cancel;
};

static void
cancel_fire(uv_timer_t *t)
{
	struct cancel_ctx *cc = t->data;

	handler_http.cancel(&cc->f->inv);
	handler_http.cancel(&cc->f->inv);
	cc->calls_in_cancel = cc->f->g.calls;
	uv_close((uv_handle_t *)t, NULL);
}

static void
test_cancel(void **state)
{
	struct fx *f = *state;
	struct cancel_ctx cc = { f, -1 };
	uv_timer_t t;

	f->alias.http.url.s = "{{ base }}/slow/5000";
	uv_timer_init(&f->loop, &t);
	t.data = &cc;
	uv_timer_start(&t, cancel_fire, 100, 0);
	run_action(f);
	assert_int_equal(cc.calls_in_cancel, 0);
	assert_int_equal(f->g.status, ACTION_CANCELED);
	assert_int_equal(http_client_pending(f->hc), 0);
}

static void
test_output_cap(void **state)
{
	struct fx *f = *state;

	f->inv.max_output = 100;
	f->alias.http.url.s = "{{ base }}/big/5000";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_SUCCEEDED);
	assert_int_equal(f->g.out_len, 100);
	assert_int_equal(f->g.out_dropped, 4900);
	assert_null(f->g.json);
}

static void
test_header_injection_and_bad_url(void **state)
{
	struct fx *f = *state;

	json_object_set_new(f->inv.context, "evil", json_string("a\r\nX-Injected: 1"));
	f->alias.http.url.s = "{{ base }}/echo";
	add_header(f, "X-Note", "{{ evil }}");
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_non_null(strstr(f->g.reason, "line break"));
	assert_int_equal(f->srv.nrequests, 0);

	f->alias.http.headers.n = 0;
	f->alias.http.url.s = "file:///etc/passwd";
	run_action(f);
	assert_int_equal(f->g.status, ACTION_FAILED);
	assert_non_null(strstr(f->g.reason, "http:// or https://"));
}

static void
test_check(void **state)
{
	struct fx *f = *state;
	struct diag d;

	diag_init(&d);
	f->alias.http.url.s = "{{ base }}/x";
	f->alias.http.body.s = "{\"a\": \"{{ b }}\"}";
	handler_http.check(&f->alias, "a.toml", &d);
	assert_int_equal(d.nerrors, 0);
	diag_free(&d);

	diag_init(&d);
	f->alias.http.url.s = "ftp://x/";
	f->alias.http.body.s = "{not json";
	add_header(f, "Bad Name", "v");
	handler_http.check(&f->alias, "a.toml", &d);
	assert_int_equal(d.nerrors, 3);
	diag_free(&d);

	diag_init(&d);
	f->alias.http.url.s = NULL;
	f->alias.http.body.s = NULL;
	f->alias.http.headers.n = 0;
	handler_http.check(&f->alias, "a.toml", &d);
	assert_int_equal(d.nerrors, 1);
	diag_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_json_and_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_type_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_non_2xx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_json_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_output_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_injection_and_bad_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	};
	int rc;

	signal(SIGPIPE, SIG_IGN);
	unsetenv("http_proxy");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
