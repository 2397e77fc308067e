/*
 * test_ws.c - the shared websocket client (adapters/ws.c) against the fake
 * Slack server's Socket Mode endpoint: handshake, acks, a dropped
 * connection, make-before-break refresh, pings and a dead peer, the message
 * size limit, a refused upgrade, wss with a test CA and with an untrusted
 * one; plus the pure URL parser and backoff.
 *
 * The loop runs in a thread of its own; the test thread drives the fake's
 * control API with blocking calls and looks at what the loop recorded.
 * Tests that need node skip when it (or tests/fakes/node_modules) is missing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/fake_slack_util.h"

#include "adapters/backoff.h"
#include "adapters/ws.h"
#include "bot/http_client.h"
#include "bot/log.h"

struct T {
	struct loop_thread lt;
	struct fake_slack fake;
	bool have_fake;
	struct http_client *http;
	struct ws_link *link;
	struct ws_link_opts o;
	const char *api;        /* API base used for apps.connections.open */
	const char *http_ca;
	bool fetch_insecure;    /* test only: get the URL with a blocking curl
	                         * call that skips the host name check */

	/* recorded on the loop thread, read under lt.mu */
	int hellos, envelopes, closes, want_urls, url_failures, stopped;
	char last_why[512];
	unsigned last_ready_id;
};

/* ---- loop side ------------------------------------------------------------ */

static void
rec(struct T *t, void (*fn)(struct T *, const void *), const void *arg)
{
	pthread_mutex_lock(&t->lt.mu);
	fn(t, arg);
	pthread_mutex_unlock(&t->lt.mu);
}

static void
inc_url_failures(struct T *t, const void *arg)
{
	(void)arg;
	t->url_failures++;
}

static void
on_open_url(const struct http_response *r, void *arg)
{
	struct T *t = arg;
	json_t *j;
	const char *url;

	if (t->link == NULL)
		return;
	j = r->result == HTTP_OK && r->status == 200 ? json_loads(r->body, 0, NULL) : NULL;
	url = json_string_value(json_object_get(j, "url"));
	if (url != NULL)
		ws_link_connect(t->link, url, NULL, 0);
	else {
		rec(t, inc_url_failures, NULL);
		ws_link_url_failed(t->link, 0, "apps.connections.open failed");
	}
	json_decref(j);
}

static void
inc_want(struct T *t, const void *arg)
{
	(void)arg;
	t->want_urls++;
}

static void
want_url(void *arg, struct ws_link *l)
{
	struct T *t = arg;
	char url[512], auth[256], err[ACK_ERR_LEN];
	struct http_request *r;

	(void)l;
	rec(t, inc_want, NULL);
	snprintf(url, sizeof url, "%sapps.connections.open", t->api);
	if (t->fetch_insecure) {
		CURL *e = curl_easy_init();
		struct curl_slist *h = NULL;
		struct buf b;
		json_t *j;
		const char *u;

		buf_init(&b, 0);
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", t->fake.app_token);
		h = curl_slist_append(h, auth);
		curl_easy_setopt(e, CURLOPT_URL, url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_CAINFO, t->http_ca);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fake_curl_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
		curl_easy_perform(e);
		j = json_loads(b.data ? b.data : "", 0, NULL);
		u = json_string_value(json_object_get(j, "url"));
		if (u != NULL)
			ws_link_connect(t->link, u, NULL, 0);
		else
			ws_link_url_failed(t->link, 0, "no url");
		json_decref(j);
		buf_free(&b);
		curl_slist_free_all(h);
		curl_easy_cleanup(e);
		return;
	}
	r = http_request_new("POST", url, err, sizeof err);
	if (r == NULL)
		abort();
	snprintf(auth, sizeof auth, "Bearer %s", t->fake.app_token);
	http_request_add_header(r, "Authorization", auth, NULL, 0);
	http_request_add_header(r, "Content-Type", "application/x-www-form-urlencoded",
	    NULL, 0);
	if (t->http_ca != NULL)
		http_request_set_ca_file(r, t->http_ca);
	if (http_request_send(t->http, r, on_open_url, t, err, sizeof err) != 0)
		ws_link_url_failed(t->link, 0, err);
}

struct hello_rec {
	unsigned id;
};

static void
inc_hello(struct T *t, const void *arg)
{
	const struct hello_rec *h = arg;

	t->hellos++;
	t->last_ready_id = h->id;
}

static void
inc_env(struct T *t, const void *arg)
{
	(void)arg;
	t->envelopes++;
}

static void
on_message(void *arg, struct ws_conn *c, const char *data, size_t len, bool binary)
{
	struct T *t = arg;
	json_t *j;
	const char *type, *eid;

	if (binary)
		return;
	j = json_loadb(data, len, 0, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	type = json_string_value(json_object_get(j, "type"));
	eid = json_string_value(json_object_get(j, "envelope_id"));
	if (eid != NULL) {
		char *ack = xasprintf("{\"envelope_id\":\"%s\"}", eid);

		ws_conn_send(c, ack, strlen(ack));
		free(ack);
		rec(t, inc_env, NULL);
	} else if (type != NULL && strcmp(type, "hello") == 0) {
		struct hello_rec h = { ws_conn_id(c) };

		ws_link_ready(t->link, c);
		rec(t, inc_hello, &h);
	} else if (type != NULL && strcmp(type, "disconnect") == 0) {
		const char *reason = json_string_value(json_object_get(j, "reason"));

		if (reason != NULL && (strcmp(reason, "warning") == 0 ||
		    strcmp(reason, "refresh_requested") == 0))
			ws_link_refresh(t->link, c, reason);
	}
	json_decref(j);
}

static void
rec_close(struct T *t, const void *arg)
{
	t->closes++;
	snprintf(t->last_why, sizeof t->last_why, "%s", (const char *)arg);
}

static void
on_closed(void *arg, struct ws_conn *c, bool was_ready, const char *why)
{
	(void)c;
	(void)was_ready;
	rec(arg, rec_close, why);
}

static void
after_run(struct loop_thread *lt)
{
	(void)lt;
	ws_context_final_destroy();
}

static void
do_start(struct loop_thread *lt, void *arg)
{
	struct T *t = arg;
	struct ws_link_cbs cbs = { want_url, NULL, on_message, on_closed };
	char err[ACK_ERR_LEN];

	(void)lt;
	t->http = http_client_new(&t->lt.loop);
	t->link = ws_link_new(&t->lt.loop, &t->o, &cbs, t, err, sizeof err);
	if (t->link == NULL) {
		fprintf(stderr, "ws_link_new: %s\n", err);
		abort();
	}
	ws_link_start(t->link);
}

static void
on_http_closed(void *arg)
{
	struct T *t = arg;

	lt_close_async(&t->lt);
}

static void
set_stopped(struct T *t, const void *arg)
{
	(void)arg;
	t->stopped = 1;
}

static void
on_stopped(void *arg)
{
	struct T *t = arg;

	rec(t, set_stopped, NULL);
	http_client_close(t->http, on_http_closed, t);
}

static void
do_stop(struct loop_thread *lt, void *arg)
{
	struct T *t = arg;
	struct ws_link *l = t->link;

	(void)lt;
	t->link = NULL;
	ws_link_stop(l, on_stopped, t);
}

/* ---- test side ------------------------------------------------------------ */

static int g_hellos_wanted;
static int g_closes_wanted;

static bool
hellos_at_least(void *arg)
{
	return ((struct T *)arg)->hellos >= g_hellos_wanted;
}

static bool
closes_at_least(void *arg)
{
	return ((struct T *)arg)->closes >= g_closes_wanted;
}

static bool
is_stopped(void *arg)
{
	return ((struct T *)arg)->stopped != 0;
}

static void
wait_hellos(struct T *t, int n, unsigned ms)
{
	g_hellos_wanted = n;
	if (!lt_wait(&t->lt, hellos_at_least, t, ms))
		fail_msg("waited for %d hello(s), got %d (last close: %s)", n, t->hellos,
		    t->last_why);
}

static void
wait_closes(struct T *t, int n, unsigned ms)
{
	g_closes_wanted = n;
	if (!lt_wait(&t->lt, closes_at_least, t, ms))
		fail_msg("waited for %d close(s), got %d", n, t->closes);
}

static bool
setup_t(struct T *t, const char *const *fake_args)
{
	memset(t, 0, sizeof *t);
	if (!fake_available())
		return false;
	assert_int_equal(fake_start(&t->fake, fake_args), 0);
	t->have_fake = true;
	t->api = t->fake.api;
	t->o.name = "test";
	t->o.backoff_base_ms = 100;
	t->o.backoff_max_ms = 1000;
	t->lt.after_run = after_run;
	return true;
}

static void
start_t(struct T *t)
{
	lt_start(&t->lt);
	lt_call(&t->lt, do_start, t);
}

static void
finish_t(struct T *t)
{
	lt_call(&t->lt, do_stop, t);
	assert_true(lt_wait(&t->lt, is_stopped, t, 10000));
	assert_int_equal(lt_join(&t->lt), 0);
	if (t->have_fake)
		fake_stop(&t->fake);
}

static void
assert_no_errors(struct T *t)
{
	json_t *e = fake_ctl(&t->fake, "errors", NULL, NULL);

	if (json_array_size(e) != 0) {
		char *d = json_dumps(e, JSON_COMPACT);

		fail_msg("fake reports protocol errors: %s", d);
	}
	json_decref(e);
}

static void
inject_and_wait_ack(struct T *t, const char *text)
{
	json_t *j = fake_ctlf(&t->fake, "inject_message", "{\"text\":\"%s\"}", text);
	json_t *a;
	const char *eid;
	char q[256];

	assert_non_null(j);
	eid = json_string_value(json_object_get(json_array_get(json_object_get(j, "envelopes"),
	    0), "envelope_id"));
	assert_non_null(eid);
	snprintf(q, sizeof q, "{\"envelope_id\":\"%s\",\"timeout_ms\":5000}", eid);
	a = fake_ctlf(&t->fake, "wait_acks", "%s", q);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 1);
	assert_true(json_is_false(json_object_get(json_array_get(a, 0), "late")));
	json_decref(a);
	json_decref(j);
}

static void
test_url_parse(void **state)
{
	struct ws_url u;
	char err[ACK_ERR_LEN], out[64];

	(void)state;
	assert_int_equal(ws_url_parse("wss://wss-primary.slack.com/link/?ticket=abc&app_id=x",
	    &u, err, sizeof err), 0);
	assert_true(u.tls);
	assert_string_equal(u.host, "wss-primary.slack.com");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/link/?ticket=abc&app_id=x");
	assert_int_equal(ws_url_parse("ws://127.0.0.1:8080?x=1#frag", &u, err, sizeof err), 0);
	assert_false(u.tls);
	assert_int_equal(u.port, 8080);
	assert_string_equal(u.path, "/?x=1");
	assert_int_equal(ws_url_parse("WS://[::1]:9/a", &u, err, sizeof err), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 9);
	assert_int_equal(ws_url_parse("ws://h", &u, err, sizeof err), 0);
	assert_string_equal(u.path, "/");
	assert_int_equal(u.port, 80);
	assert_int_equal(ws_url_parse("http://h/", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws:///x", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws://h:0/", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws://h:70000/", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws://h:1x/", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws://u:p@h/", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws://h/a b", &u, err, sizeof err), -1);
	assert_int_equal(ws_url_parse("ws://[::1/", &u, err, sizeof err), -1);
	ws_url_for_log("wss://h:1/link/?ticket=secret", out, sizeof out);
	assert_string_equal(out, "wss://h:1/link/");
	ws_url_for_log("wss://very-long-host-name.example.com/abc", out, 10);
	assert_string_equal(out, "wss://ver");
}

static void
test_backoff(void **state)
{
	struct backoff b;
	uint64_t d;
	int i;

	(void)state;
	backoff_init(&b, 1000, 8000, 0);
	assert_int_equal(backoff_next(&b, 7), 1000);
	assert_int_equal(backoff_next(&b, 7), 2000);
	assert_int_equal(backoff_next(&b, 7), 4000);
	assert_int_equal(backoff_next(&b, 7), 8000);
	assert_int_equal(backoff_next(&b, 7), 8000);
	backoff_reset(&b);
	assert_int_equal(backoff_next(&b, 7), 1000);
	/* jitter takes off up to half, never more */
	backoff_init(&b, 1000, 60000, 50);
	assert_int_equal(backoff_next(&b, 0), 1000);
	assert_int_equal(backoff_next(&b, 1000), 2000 - 1000 % 1001);
	for (i = 0; i < 10; i++)
		(void)backoff_next(&b, 0);
	for (i = 0; i < 200; i++) {
		d = backoff_next(&b, backoff_random());
		assert_true(d >= 30000 && d <= 60000);
	}
}

/* hello, acks within the deadline, client pings answered, a reset
 * connection re-established, a refresh handed over before the old one
 * closes. */
static void
test_ws_lifecycle(void **state)
{
	struct T t;
	json_t *c;
	size_t i;
	double new_hello = 0, old_closed = 0;

	(void)state;
	if (!setup_t(&t, NULL))
		skip();
	t.o.ping_after_s = 1;
	t.o.hangup_after_s = 4;
	start_t(&t);
	wait_hellos(&t, 1, 10000);
	inject_and_wait_ack(&t, "one");
	/* pings: the fake answers them and counts them */
	usleep(2500000);
	c = fake_ctl(&t.fake, "connections?state=open", NULL, NULL);
	assert_int_equal(json_array_size(c), 1);
	assert_true(json_integer_value(json_object_get(json_array_get(c, 0), "client_pings")) >= 1);
	json_decref(c);

	/* a reset: reconnect, then events flow again */
	json_decref(fake_ctlf(&t.fake, "drop", "{\"mode\":\"reset\"}"));
	wait_hellos(&t, 2, 15000);
	inject_and_wait_ack(&t, "two");

	/* refresh_requested: the new connection says hello before the old one
	 * is closed, by us */
	json_decref(fake_ctlf(&t.fake, "disconnect", "{\"reason\":\"refresh_requested\","
	    "\"close_after_ms\":null}"));
	wait_hellos(&t, 3, 15000);
	wait_closes(&t, 2, 10000);
	inject_and_wait_ack(&t, "three");
	c = fake_ctl(&t.fake, "connections", NULL, NULL);
	assert_int_equal(json_array_size(c), 3);
	for (i = 0; i < 3; i++) {
		json_t *x = json_array_get(c, i);

		if (i == 1) {
			assert_string_equal(json_string_value(json_object_get(x, "closed_by")),
			    "client");
			/* a Close frame, not a dropped TCP connection */
			assert_int_equal(json_integer_value(json_object_get(x, "close_code")), 1000);
			old_closed = json_number_value(json_object_get(x, "closed_at"));
		}
		if (i == 2)
			new_hello = json_number_value(json_object_get(x, "hello_at"));
	}
	assert_true(new_hello > 0 && old_closed > 0 && new_hello <= old_closed);
	json_decref(c);
	assert_no_errors(&t);
	finish_t(&t);
	/* our stop closed the last one cleanly */
	assert_int_equal(t.want_urls, 3);
}

/* A peer that neither answers pings nor sends anything is hung up on. */
static void
test_ws_dead_peer(void **state)
{
	struct T t;

	(void)state;
	if (!setup_t(&t, NULL))
		skip();
	t.o.ping_after_s = 1;
	t.o.hangup_after_s = 3;
	start_t(&t);
	wait_hellos(&t, 1, 10000);
	json_decref(fake_ctlf(&t.fake, "drop", "{\"mode\":\"ghost\"}"));
	wait_hellos(&t, 2, 20000);
	inject_and_wait_ack(&t, "after the ghost");
	finish_t(&t);
}

/* A message over the limit closes the connection; it comes back. */
static void
test_ws_too_big(void **state)
{
	struct T t;
	struct buf big;
	size_t i;
	json_t *r;

	(void)state;
	if (!setup_t(&t, NULL))
		skip();
	t.o.max_message = 64 * 1024;
	start_t(&t);
	wait_hellos(&t, 1, 10000);
	buf_init(&big, 0);
	buf_puts(&big, "{\"kind\":\"raw\",\"frame\":\"");
	for (i = 0; i < 100000; i++)
		buf_putc(&big, 'x');
	buf_puts(&big, "\"}");
	r = fake_ctl(&t.fake, "malformed", big.data, NULL);
	json_decref(r);
	buf_free(&big);
	wait_closes(&t, 1, 10000);
	assert_non_null(strstr(t.last_why, "limit"));
	wait_hellos(&t, 2, 15000);
	r = fake_ctl(&t.fake, "connections", NULL, NULL);
	/* closed by us with 1009 (message too big) */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "close_code")),
	    1009);
	json_decref(r);
	inject_and_wait_ack(&t, "small again");
	finish_t(&t);
}

/* An upgrade refused with 409: back off, fetch a new URL, connect. */
static void
test_ws_refused(void **state)
{
	struct T t;

	(void)state;
	if (!setup_t(&t, NULL))
		skip();
	json_decref(fake_ctlf(&t.fake, "refuse_connections", "{\"status\":409,\"count\":2}"));
	start_t(&t);
	wait_hellos(&t, 1, 20000);
	assert_int_equal(t.want_urls, 3);
	assert_true(t.closes >= 2);
	assert_non_null(strstr(t.last_why, "409"));
	finish_t(&t);
}

/* wss: a test CA given as ca_file is trusted; a server signed by another CA
 * is refused with a message that says why. */
static void
test_ws_tls(void **state)
{
	struct T t;
	char dir[] = "/tmp/ackbot-ws-tls-XXXXXX", cert[256], key[256], ca[256], other[256];
	const char *args[] = { "--tls-cert", cert, "--tls-key", key, NULL };
	char cmd[512];

	(void)state;
	if (!fake_available())
		skip();
	assert_non_null(mkdtemp(dir));
	assert_int_equal(make_test_certs(dir), 0);
	snprintf(cert, sizeof cert, "%s/server.pem", dir);
	snprintf(key, sizeof key, "%s/server.key", dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", dir);
	snprintf(other, sizeof other, "%s/other.pem", dir);

	assert_true(setup_t(&t, args));
	t.o.ca_file = ca;
	t.http_ca = ca;
	start_t(&t);
	wait_hellos(&t, 1, 15000);
	inject_and_wait_ack(&t, "over tls");
	finish_t(&t);

	/* the same server, but we trust only an unrelated CA */
	assert_true(setup_t(&t, args));
	t.o.ca_file = other;
	t.http_ca = ca;         /* the URL still comes over trusted HTTPS */
	start_t(&t);
	wait_closes(&t, 2, 15000);
	assert_int_equal(t.hellos, 0);
	if (strstr(t.last_why, "unable to get local issuer certificate") == NULL)
		fail_msg("unclear TLS error: %s", t.last_why);
	assert_int_equal(fake_count(&t.fake, "connections?state=open"), 0);
	finish_t(&t);

	/* trusted CA, but the certificate names another host */
	snprintf(cert, sizeof cert, "%s/wrong.pem", dir);
	snprintf(key, sizeof key, "%s/wrong.key", dir);
	assert_true(setup_t(&t, args));
	t.o.ca_file = ca;
	t.http_ca = ca;
	t.fetch_insecure = true;
	start_t(&t);
	wait_closes(&t, 2, 15000);
	assert_int_equal(t.hellos, 0);
	if (strstr(t.last_why, "mismatch") == NULL)
		fail_msg("unclear TLS error: %s", t.last_why);
	assert_int_equal(fake_count(&t.fake, "connections?state=open"), 0);
	finish_t(&t);

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_parse),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_ws_lifecycle),
		cmocka_unit_test(test_ws_dead_peer),
		cmocka_unit_test(test_ws_too_big),
		cmocka_unit_test(test_ws_refused),
		cmocka_unit_test(test_ws_tls),
	};

	signal(SIGPIPE, SIG_IGN);
	log_setup(getenv("ACKBOT_TEST_DEBUG") ? LOG_DEBUG : LOG_WARN, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
