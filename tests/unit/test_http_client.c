/*
 * test_http_client.c - the libcurl-on-libuv client against a real loopback
 * HTTP server (tests/unit/helpers/httpd.h) running on the same loop, and an
 * `openssl s_server` with a self-signed certificate for TLS verification.
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
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "bot/http_client.h"
#include "bot/util.h"
#include "tests/unit/helpers/httpd.h"

struct env {
	uv_loop_t loop;
	struct httpd srv;
	struct http_client *hc;
	char base[64];
};

struct got {
	int calls;
	enum http_result result;
	long status;
	char *reason;
	char *body;
	size_t body_len;
	size_t dropped;
	char *error;
	char *retry_after, *ratelimit, *ctype;
	uint64_t elapsed;
	int *counter;
};

static void
got_free(struct got *g)
{
	free(g->reason);
	free(g->body);
	free(g->error);
	free(g->retry_after);
	free(g->ratelimit);
	free(g->ctype);
	memset(g, 0, sizeof *g);
}

static void
on_done(const struct http_response *r, void *arg)
{
	struct got *g = arg;

	g->calls++;
	g->result = r->result;
	g->status = r->status;
	g->reason = xstrdup(r->reason);
	g->body = xstrndup(r->body, r->body_len);
	g->body_len = r->body_len;
	g->dropped = r->body_dropped;
	g->error = xstrdup(r->error);
	g->retry_after = xstrdup(http_response_header(r, "retry-after"));
	g->ratelimit = xstrdup(http_response_header(r, "X-RateLimit-Reset"));
	g->ctype = xstrdup(http_response_header(r, "Content-Type"));
	g->elapsed = r->elapsed_ms;
	if (g->counter)
		(*g->counter)++;
}

static void
watchdog_fired(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Runs the loop until *counter reaches target (fails after 20 s). */
static void
run_until(uv_loop_t *loop, int *counter, int target)
{
	uv_timer_t wd;
	bool expired = false;

	uv_timer_init(loop, &wd);
	wd.data = &expired;
	uv_timer_start(&wd, watchdog_fired, 20000, 0);
	while (*counter < target && !expired)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wd, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	assert_false(expired);
}

static int
setup(void **state)
{
	struct env *e = xcalloc(1, sizeof *e);

	assert_int_equal(uv_loop_init(&e->loop), 0);
	assert_true(httpd_start(&e->srv, &e->loop) > 0);
	snprintf(e->base, sizeof e->base, "http://127.0.0.1:%d", e->srv.port);
	e->hc = http_client_new(&e->loop);
	*state = e;
	return 0;
}

static void
closed_cb(void *arg)
{
	*(int *)arg += 1;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	int closed = 0;

	if (e->hc)
		http_client_close(e->hc, closed_cb, &closed);
	httpd_stop(&e->srv);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	if (e->hc)
		assert_int_equal(closed, 1);
	assert_int_equal(uv_loop_close(&e->loop), 0);
	free(e);
	return 0;
}

/* Sends method url (relative to the server) and waits for the answer. */
static void
do_request(struct env *e, struct http_request *r, struct got *g)
{
	char err[ACK_ERR_LEN];

	memset(g, 0, sizeof *g);
	assert_int_equal(http_request_send(e->hc, r, on_done, g, err, sizeof err), 0);
	assert_int_equal(g->calls, 0);  /* never from within send */
	run_until(&e->loop, &g->calls, 1);
	assert_int_equal(g->calls, 1);
}

static struct http_request *
req(struct env *e, const char *method, const char *path)
{
	char url[256], err[ACK_ERR_LEN];
	struct http_request *r;

	snprintf(url, sizeof url, "%s%s", e->base, path);
	r = http_request_new(method, url, err, sizeof err);
	assert_non_null(r);
	return r;
}

static void
test_get_echo(void **state)
{
	struct env *e = *state;
	struct http_request *r = req(e, "get", "/echo");
	char err[ACK_ERR_LEN];
	struct got g;
	json_t *j;

	assert_int_equal(http_request_add_header(r, "X-Test", "abc def", err, sizeof err), 0);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.reason, "OK");
	assert_string_equal(g.error, "");
	assert_string_equal(g.ctype, "application/json");
	j = json_loads(g.body, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "GET");
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/echo");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "headers"),
	    "x-test")), "abc def");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "headers"),
	    "user-agent")), "ackbot/"));
	json_decref(j);
	got_free(&g);
}

static void
test_post_body(void **state)
{
	struct env *e = *state;
	struct http_request *r = req(e, "POST", "/echo");
	char err[ACK_ERR_LEN], *big;
	struct got g;
	json_t *j, *h;

	assert_int_equal(http_request_add_header(r, "Content-Type", "application/json", err,
	    sizeof err), 0);
	http_request_set_body(r, "{\"a\":1}", 7);
	do_request(e, r, &g);
	assert_int_equal(g.status, 200);
	j = json_loads(g.body, 0, NULL);
	assert_non_null(j);
	h = json_object_get(j, "headers");
	assert_string_equal(json_string_value(json_object_get(j, "method")), "POST");
	assert_string_equal(json_string_value(json_object_get(j, "body")), "{\"a\":1}");
	assert_string_equal(json_string_value(json_object_get(h, "content-type")),
	    "application/json");
	assert_string_equal(json_string_value(json_object_get(h, "content-length")), "7");
	json_decref(j);
	got_free(&g);

	/* A larger PUT body: no Expect: 100-continue stall, custom method. */
	r = req(e, "PUT", "/echo");
	big = xmalloc(50001);
	memset(big, 'b', 50000);
	big[50000] = '\0';
	http_request_set_body(r, big, 50000);
	do_request(e, r, &g);
	assert_int_equal(g.status, 200);
	j = json_loads(g.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "PUT");
	assert_string_equal(json_string_value(json_object_get(j, "body")), big);
	assert_null(json_object_get(json_object_get(j, "headers"), "expect"));
	json_decref(j);
	free(big);
	got_free(&g);

	/* DELETE without a body. */
	r = req(e, "DELETE", "/echo");
	do_request(e, r, &g);
	j = json_loads(g.body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "method")), "DELETE");
	json_decref(j);
	got_free(&g);
}

static void
test_response_headers_and_status(void **state)
{
	struct env *e = *state;
	struct got g;

	do_request(e, req(e, "GET", "/headers"), &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_string_equal(g.retry_after, "7");
	assert_string_equal(g.ratelimit, "1700000000");
	assert_string_equal(g.ctype, "application/json; charset=utf-8");
	got_free(&g);

	/* A 503 is a complete response: HTTP_OK with the status. */
	do_request(e, req(e, "GET", "/status/503"), &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 503);
	assert_string_equal(g.reason, "Service Unavailable");
	assert_string_equal(g.body, "{\"error\":\"nope\"}");
	assert_null(g.retry_after);
	got_free(&g);
}

static void
test_cap(void **state)
{
	struct env *e = *state;
	struct http_request *r;
	struct got g;

	/* Content-Length over the cap: refused before the body is read. */
	r = req(e, "GET", "/big/100000");
	http_request_set_max_response(r, 1000);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_ERR_TOO_LARGE);
	assert_non_null(strstr(g.error, "larger than the limit of 1000 bytes"));
	assert_true(g.body_len <= 1000);
	got_free(&g);

	/* No Content-Length: aborted when the body passes the cap. */
	r = req(e, "GET", "/stream/300000");
	http_request_set_max_response(r, 1000);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_ERR_TOO_LARGE);
	assert_non_null(strstr(g.error, "larger than the limit of 1000 bytes"));
	assert_true(g.body_len <= 1000);
	got_free(&g);

	/* Exactly at the cap is fine. */
	r = req(e, "GET", "/big/1000");
	http_request_set_max_response(r, 1000);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.body_len, 1000);
	got_free(&g);

	/* Truncate mode keeps the first bytes and counts the rest. */
	r = req(e, "GET", "/big/100000");
	http_request_set_max_response(r, 1000);
	http_request_set_truncate(r, true);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.body_len, 1000);
	assert_int_equal(g.dropped, 99000);
	got_free(&g);
}

static void
test_timeout(void **state)
{
	struct env *e = *state;
	struct http_request *r = req(e, "GET", "/slow/10000");
	struct got g;

	http_request_set_timeout(r, 200);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_ERR_TIMEOUT);
	assert_int_equal(g.status, 0);
	assert_non_null(strcasestr(g.error, "timed out"));
	assert_true(g.elapsed >= 150 && g.elapsed < 15000);
	got_free(&g);
}

static void
test_refused(void **state)
{
	struct env *e = *state;
	char url[64], err[ACK_ERR_LEN];
	struct http_request *r;
	struct got g;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/", httpd_free_port());
	r = http_request_new("GET", url, err, sizeof err);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_ERR_CONNECT);
	assert_int_equal(g.status, 0);
	if (strstr(g.error, "Connection refused") == NULL)
		fail_msg("error: %s", g.error);
	got_free(&g);
}

#define NCONC 200

static void
test_concurrent(void **state)
{
	struct env *e = *state;
	struct got *g = xcalloc(NCONC, sizeof *g);
	char err[ACK_ERR_LEN];
	int done = 0, i;

	for (i = 0; i < NCONC; i++) {
		struct http_request *r = req(e, "GET", i % 2 ? "/slow/100" : "/json");

		g[i].counter = &done;
		assert_int_equal(http_request_send(e->hc, r, on_done, &g[i], err, sizeof err), 0);
	}
	assert_int_equal(http_client_pending(e->hc), NCONC);
	run_until(&e->loop, &done, NCONC);
	for (i = 0; i < NCONC; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].result, HTTP_OK);
		assert_int_equal(g[i].status, 200);
		assert_string_equal(g[i].body, i % 2 ? "slow" : "{\"ok\":true,\"n\":42}");
		got_free(&g[i]);
	}
	assert_int_equal(http_client_pending(e->hc), 0);
	assert_true(e->srv.max_open > 10);    /* they really overlapped */
	free(g);
}

struct cancel_ctx {
	struct http_request *victim;
	struct got *other;
	int fired;
};

static void
cancel_fire(uv_timer_t *t)
{
	struct cancel_ctx *cc = t->data;

	http_request_cancel(cc->victim);
	cc->fired++;
	uv_close((uv_handle_t *)t, NULL);
}

/* Cancels the victim from inside another request's completion callback. */
static void
cancel_from_cb(const struct http_response *r, void *arg)
{
	struct cancel_ctx *cc = arg;

	http_request_cancel(cc->victim);
	cc->fired++;
	(void)r;
}

static void
test_cancel(void **state)
{
	struct env *e = *state;
	struct http_request *r = req(e, "GET", "/slow/3000");
	struct cancel_ctx cc = { 0 };
	struct got victim, after;
	char err[ACK_ERR_LEN];
	uv_timer_t t;

	memset(&victim, 0, sizeof victim);
	cc.victim = r;
	assert_int_equal(http_request_send(e->hc, r, on_done, &victim, err, sizeof err), 0);
	uv_timer_init(&e->loop, &t);
	t.data = &cc;
	uv_timer_start(&t, cancel_fire, 50, 0);
	run_until(&e->loop, &cc.fired, 1);
	assert_int_equal(http_client_pending(e->hc), 0);
	/* The client still works, and the victim's callback never comes. */
	do_request(e, req(e, "GET", "/json"), &after);
	assert_int_equal(after.status, 200);
	got_free(&after);
	assert_int_equal(victim.calls, 0);

	/* Canceling from another request's callback. */
	cc.fired = 0;
	cc.victim = req(e, "GET", "/slow/3000");
	assert_int_equal(http_request_send(e->hc, cc.victim, on_done, &victim, err,
	    sizeof err), 0);
	assert_int_equal(http_request_send(e->hc, req(e, "GET", "/json"), cancel_from_cb, &cc,
	    err, sizeof err), 0);
	run_until(&e->loop, &cc.fired, 1);
	assert_int_equal(http_client_pending(e->hc), 0);
	assert_int_equal(victim.calls, 0);
}

static void
test_close_inflight(void **state)
{
	struct env *e = *state;
	struct got g;
	char err[ACK_ERR_LEN];
	int closed = 0;

	memset(&g, 0, sizeof g);
	assert_int_equal(http_request_send(e->hc, req(e, "GET", "/slow/5000"), on_done, &g,
	    err, sizeof err), 0);
	/* Let it connect and send. */
	uv_run(&e->loop, UV_RUN_NOWAIT);
	uv_run(&e->loop, UV_RUN_NOWAIT);
	http_client_close(e->hc, closed_cb, &closed);
	e->hc = NULL;
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.result, HTTP_ERR_CANCELED);
	assert_string_equal(g.error, "client closed");
	got_free(&g);
	httpd_stop(&e->srv);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	assert_int_equal(closed, 1);
	/* teardown stops the server again: re-create a harmless one. */
	assert_true(httpd_start(&e->srv, &e->loop) > 0);
}

static void
test_send_after_close(void **state)
{
	struct env *e = *state;
	struct http_client *hc = http_client_new(&e->loop);
	char err[ACK_ERR_LEN];
	struct got g;
	int closed = 0;

	memset(&g, 0, sizeof g);
	http_client_close(hc, closed_cb, &closed);
	assert_int_equal(http_request_send(hc, req(e, "GET", "/json"), on_done, &g, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "shutting down"));
	uv_run(&e->loop, UV_RUN_NOWAIT);
	assert_int_equal(closed, 1);
}

static void
test_bad_input(void **state)
{
	struct env *e = *state;
	struct http_request *r;
	char err[ACK_ERR_LEN];

	assert_null(http_request_new("GET", "ftp://127.0.0.1/", err, sizeof err));
	assert_non_null(strstr(err, "http:// or https://"));
	assert_null(http_request_new("GET", "file:///etc/passwd", err, sizeof err));
	assert_null(http_request_new("GET", "http://x/a b", err, sizeof err));
	assert_null(http_request_new("GE T", "http://x/", err, sizeof err));
	assert_null(http_request_new("", "http://x/", err, sizeof err));
	r = req(e, "GET", "/echo");
	assert_int_equal(http_request_add_header(r, "X-A", "v\r\nX-Injected: 1", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "line break"));
	assert_int_equal(http_request_add_header(r, "X A", "v", err, sizeof err), -1);
	assert_int_equal(http_request_add_header(r, "X-B:", "v", err, sizeof err), -1);
	assert_false(http_request_has_header(r, "x-a"));
	assert_int_equal(http_request_add_header(r, "X-A", "ok", err, sizeof err), 0);
	assert_true(http_request_has_header(r, "x-a"));
	http_request_free(r);
}

static void
test_tls_against_plain_server(void **state)
{
	struct env *e = *state;
	char url[64], err[ACK_ERR_LEN];
	struct got g;

	snprintf(url, sizeof url, "https://127.0.0.1:%d/json", e->srv.port);
	do_request(e, http_request_new("GET", url, err, sizeof err), &g);
	assert_int_equal(g.result, HTTP_ERR_TLS);
	assert_true(strlen(g.error) > 0);
	got_free(&g);
}

static void
test_url_for_log(void **state)
{
	char *s;

	(void)state;
	s = http_url_for_log("https://user:pw@hooks.example.com/a/b?token=SECRET#frag");
	assert_string_equal(s, "https://hooks.example.com/a/b");
	free(s);
	s = http_url_for_log("http://h:8080?x=1");
	assert_string_equal(s, "http://h:8080");
	free(s);
	s = http_url_for_log("http://h/p");
	assert_string_equal(s, "http://h/p");
	free(s);
}

/* --- TLS verification against openssl s_server ----------------------------- */

struct tls_server {
	uv_process_t proc;
	bool exited;
	char dir[64], cert[128], key[128];
	int port;
};

static void
tls_exited(uv_process_t *p, int64_t status, int sig)
{
	(void)status;
	(void)sig;
	((struct tls_server *)p->data)->exited = true;
}

static bool
port_accepts(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), rc;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	close(fd);
	return rc == 0;
}

static void
test_tls_verification(void **state)
{
	struct env *e = *state;
	struct tls_server ts;
	uv_process_options_t o;
	uv_stdio_container_t stdio[3];
	char cmd[512], url[64], portarg[32], err[ACK_ERR_LEN];
	char *args[12];
	struct http_request *r;
	struct got g;
	int i;

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		skip();
	memset(&ts, 0, sizeof ts);
	snprintf(ts.dir, sizeof ts.dir, "/tmp/ackbot-tls-XXXXXX");
	assert_non_null(mkdtemp(ts.dir));
	snprintf(ts.cert, sizeof ts.cert, "%s/cert.pem", ts.dir);
	snprintf(ts.key, sizeof ts.key, "%s/key.pem", ts.dir);
	snprintf(cmd, sizeof cmd,
	    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
	    "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout %s -out %s "
	    ">/dev/null 2>&1", ts.key, ts.cert);
	assert_int_equal(system(cmd), 0);
	ts.port = httpd_free_port();
	snprintf(portarg, sizeof portarg, "127.0.0.1:%d", ts.port);
	i = 0;
	args[i++] = "openssl";
	args[i++] = "s_server";
	args[i++] = "-accept";
	args[i++] = portarg;
	args[i++] = "-cert";
	args[i++] = ts.cert;
	args[i++] = "-key";
	args[i++] = ts.key;
	args[i++] = "-www";
	args[i++] = "-quiet";
	args[i] = NULL;
	memset(&o, 0, sizeof o);
	memset(stdio, 0, sizeof stdio);
	for (i = 0; i < 3; i++)
		stdio[i].flags = UV_IGNORE;
	o.file = "openssl";
	o.args = args;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = tls_exited;
	ts.proc.data = &ts;
	assert_int_equal(uv_spawn(&e->loop, &ts.proc, &o), 0);
	for (i = 0; i < 200 && !port_accepts(ts.port); i++)
		usleep(50 * 1000);
	assert_true(i < 200);

	/* Self-signed and not trusted: refused, with curl's reason. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/", ts.port);
	do_request(e, http_request_new("GET", url, err, sizeof err), &g);
	assert_int_equal(g.result, HTTP_ERR_TLS);
	assert_non_null(strstr(g.error, "SSL certificate problem"));
	got_free(&g);

	/* Trusted through a CA file: verification passes (name included). */
	r = http_request_new("GET", url, err, sizeof err);
	http_request_set_ca_file(r, ts.cert);
	do_request(e, r, &g);
	assert_int_equal(g.result, HTTP_OK);
	assert_int_equal(g.status, 200);
	got_free(&g);

	/* A CA file that does not exist is an error, not a silent fallback. */
	r = http_request_new("GET", url, err, sizeof err);
	http_request_set_ca_file(r, "/nonexistent/ca.pem");
	do_request(e, r, &g);
	assert_int_not_equal(g.result, HTTP_OK);
	got_free(&g);

	uv_process_kill(&ts.proc, SIGTERM);
	while (!ts.exited)
		uv_run(&e->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&ts.proc, NULL);
	uv_run(&e->loop, UV_RUN_NOWAIT);    /* ts lives on this stack frame */
	unlink(ts.cert);
	unlink(ts.key);
	rmdir(ts.dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_post_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_headers_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_against_plain_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_verification, setup, teardown),
		cmocka_unit_test(test_url_for_log),
	};
	int rc;

	/* The server writes to peers that hang up; and no proxy for loopback. */
	signal(SIGPIPE, SIG_IGN);
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
