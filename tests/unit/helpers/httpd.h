/*
 * httpd.h - a tiny HTTP/1.1 server on libuv for tests, listening on
 * 127.0.0.1 on a free port and running on the test's own loop (so the client
 * under test and the server share the loop and nothing blocks).
 *
 * Header-only (static functions) so that each test program can include it.
 * One request per connection ("Connection: close"). Routes:
 *   /echo            200, JSON {"method","path","headers":{lower-case name:
 *                    value},"body"} describing the request
 *   /json            200, {"ok":true,"n":42}
 *   /text            200, text/plain "hello, not json"
 *   /status/NNN      status NNN with a small JSON body
 *   /big/N           N bytes of 'x' with Content-Length
 *   /stream/N        N bytes of 'x' without Content-Length (ends at close)
 *   /slow/MS         "slow" after MS milliseconds
 *   /headers         200 with Retry-After: 7, X-RateLimit-Reset: 1700000000,
 *                    Content-Type: application/json; charset=utf-8
 */
#ifndef ACKBOT_TEST_HTTPD_H
#define ACKBOT_TEST_HTTPD_H

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <uv.h>

#include "bot/util.h"

struct httpd_conn;

struct httpd {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int port;
	int nrequests;          /* requests answered */
	int nopen;              /* connections open now */
	int max_open;           /* most connections open at once */
	bool closing;
	LIST_HEAD(, httpd_conn) conns;
};

struct httpd_conn {
	uv_tcp_t tcp;
	uv_timer_t delay;
	uv_write_t wr;
	struct httpd *srv;
	struct buf in;
	char *out;
	size_t out_len;
	int handles;            /* open uv handles: tcp, delay */
	bool responded;
	bool closing;
	LIST_ENTRY(httpd_conn) link;
};

static void
httpd_conn_handle_closed(uv_handle_t *h)
{
	struct httpd_conn *c = h->data;

	if (--c->handles > 0)
		return;
	LIST_REMOVE(c, link);
	c->srv->nopen--;
	buf_free(&c->in);
	free(c->out);
	free(c);
}

static void
httpd_conn_close(struct httpd_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, httpd_conn_handle_closed);
	uv_close((uv_handle_t *)&c->delay, httpd_conn_handle_closed);
}

static void
httpd_written(uv_write_t *w, int status)
{
	struct httpd_conn *c = w->data;

	(void)status;
	httpd_conn_close(c);
}

static void
httpd_send_now(struct httpd_conn *c)
{
	uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);

	c->wr.data = c;
	c->srv->nrequests++;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, httpd_written) != 0)
		httpd_conn_close(c);
}

static void
httpd_delay_fired(uv_timer_t *t)
{
	httpd_send_now(t->data);
}

static const char *
httpd_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Whatever";
	}
}

/* Builds the whole response in c->out. extra: more header lines (each
 * ending in \r\n) or "". with_length: send Content-Length. */
static void
httpd_set_response(struct httpd_conn *c, int status, const char *ctype,
    const char *extra, const char *body, size_t body_len, bool with_length)
{
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: %s\r\n%s",
	    status, httpd_reason(status), ctype, extra);
	if (with_length)
		buf_printf(&b, "Content-Length: %zu\r\n", body_len);
	buf_puts(&b, "\r\n");
	buf_append(&b, body, body_len);
	free(c->out);
	c->out_len = b.len;
	c->out = buf_steal(&b);
}

static void
httpd_route(struct httpd_conn *c, const char *req, size_t head_len,
    const char *body, size_t body_len)
{
	char method[16] = "", path[512] = "";
	unsigned long n = 0;
	int status = 0;
	uint64_t delay = 0;

	sscanf(req, "%15s %511s", method, path);
	if (strncmp(path, "/echo", 5) == 0 && (path[5] == '\0' || path[5] == '?')) {
		json_t *o = json_object(), *h = json_object();
		const char *line = strstr(req, "\r\n");
		char *s;

		while (line != NULL && line + 2 < req + head_len) {
			const char *start = line + 2, *end = strstr(start, "\r\n");
			const char *colon = memchr(start, ':', (size_t)(end - start));

			if (colon != NULL) {
				char *name = xstrndup(start, (size_t)(colon - start));
				const char *v = colon + 1;
				size_t i;

				while (*v == ' ')
					v++;
				for (i = 0; name[i]; i++)
					name[i] = (char)tolower((unsigned char)name[i]);
				json_object_set_new(h, name, json_stringn(v, (size_t)(end - v)));
				free(name);
			}
			line = end;
		}
		json_object_set_new(o, "method", json_string(method));
		json_object_set_new(o, "path", json_string(path));
		json_object_set_new(o, "headers", h);
		json_object_set_new(o, "body", json_stringn(body, body_len));
		s = json_dumps(o, JSON_COMPACT);
		httpd_set_response(c, 200, "application/json", "", s, strlen(s), true);
		free(s);
		json_decref(o);
	} else if (strcmp(path, "/json") == 0) {
		static const char j[] = "{\"ok\":true,\"n\":42}";

		httpd_set_response(c, 200, "application/json", "", j, sizeof j - 1, true);
	} else if (strcmp(path, "/text") == 0) {
		static const char t[] = "hello, not json";

		httpd_set_response(c, 200, "text/plain", "", t, sizeof t - 1, true);
	} else if (sscanf(path, "/status/%d", &status) == 1) {
		static const char j[] = "{\"error\":\"nope\"}";

		httpd_set_response(c, status, "application/json", "", j, sizeof j - 1, true);
	} else if (sscanf(path, "/big/%lu", &n) == 1 || sscanf(path, "/stream/%lu", &n) == 1) {
		char *x = xmalloc(n + 1);

		memset(x, 'x', n);
		httpd_set_response(c, 200, "text/plain", "", x, n, path[1] == 'b');
		free(x);
	} else if (sscanf(path, "/slow/%lu", &n) == 1) {
		httpd_set_response(c, 200, "text/plain", "", "slow", 4, true);
		delay = n;
	} else if (strcmp(path, "/headers") == 0) {
		httpd_set_response(c, 200, "application/json; charset=utf-8",
		    "Retry-After: 7\r\nX-RateLimit-Reset: 1700000000\r\n", "{}", 2, true);
	} else {
		httpd_set_response(c, 404, "text/plain", "", "not found", 9, true);
	}
	c->responded = true;
	if (delay) {
		c->delay.data = c;
		uv_timer_start(&c->delay, httpd_delay_fired, delay, 0);
	} else {
		httpd_send_now(c);
	}
}

static void
httpd_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = xmalloc(suggested);
	b->len = suggested;
}

static void
httpd_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct httpd_conn *c = s->data;
	const char *end;

	if (nread < 0) {
		free(b->base);
		if (!c->responded)
			httpd_conn_close(c);
		else
			uv_read_stop(s);
		return;
	}
	if (c->responded) {
		free(b->base);
		return;
	}
	buf_append(&c->in, b->base, (size_t)nread);
	free(b->base);
	if (c->in.len > 0 && !isupper((unsigned char)c->in.data[0])) {
		/* Not HTTP (a TLS ClientHello, say): answer in plain text. */
		httpd_set_response(c, 400, "text/plain", "", "bad request", 11, true);
		c->responded = true;
		httpd_send_now(c);
		return;
	}
	end = c->in.data ? strstr(c->in.data, "\r\n\r\n") : NULL;
	if (end != NULL) {
		size_t head_len = (size_t)(end - c->in.data) + 2;
		size_t body_off = head_len + 2, clen = 0;
		const char *cl = strcasestr(c->in.data, "\r\nContent-Length:");

		if (cl != NULL && cl < end)
			clen = strtoul(cl + 17, NULL, 10);
		if (c->in.len >= body_off + clen)
			httpd_route(c, c->in.data, head_len, c->in.data + body_off, clen);
	}
}

static void
httpd_accept(uv_stream_t *l, int status)
{
	struct httpd *srv = l->data;
	struct httpd_conn *c;

	if (status < 0)
		return;
	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	buf_init(&c->in, 1 << 20);
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->delay);
	c->tcp.data = c;
	c->delay.data = c;
	c->handles = 2;
	LIST_INSERT_HEAD(&srv->conns, c, link);
	srv->nopen++;
	if (srv->nopen > srv->max_open)
		srv->max_open = srv->nopen;
	if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
		httpd_conn_close(c);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, httpd_alloc, httpd_read);
}

/* Starts srv on loop; returns the port (or -1). */
static int
httpd_start(struct httpd *srv, uv_loop_t *loop)
{
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof ss;

	memset(srv, 0, sizeof *srv);
	srv->loop = loop;
	LIST_INIT(&srv->conns);
	uv_tcp_init(loop, &srv->listener);
	srv->listener.data = srv;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	if (uv_tcp_bind(&srv->listener, (const struct sockaddr *)&sa, 0) != 0 ||
	    uv_listen((uv_stream_t *)&srv->listener, 512, httpd_accept) != 0 ||
	    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return srv->port;
}

/* Closes the listener and every connection; run the loop afterwards. */
static void
httpd_stop(struct httpd *srv)
{
	struct httpd_conn *c;

	srv->closing = true;
	uv_close((uv_handle_t *)&srv->listener, NULL);
	LIST_FOREACH(c, &srv->conns, link)
		httpd_conn_close(c);
}

/* A loopback port where nothing listens (bound, then released). */
static ACK_UNUSED int
httpd_free_port(void)
{
	uv_loop_t l;
	uv_tcp_t t;
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof ss, port;

	uv_loop_init(&l);
	uv_tcp_init(&l, &t);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	uv_tcp_bind(&t, (const struct sockaddr *)&sa, 0);
	uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(&l, UV_RUN_DEFAULT);
	uv_loop_close(&l);
	return port;
}

#endif
