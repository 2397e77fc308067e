/*
 * fake_slack_util.h - for C tests: start the fake Slack server
 * (tests/fakes/slack/fake_slack.js) as a child process, call its control
 * API with blocking libcurl requests (from a test thread, never from the
 * loop thread), and run a libuv loop in a thread of its own.
 *
 * Header-only (static functions) so that each test stays one program.
 * curl_global_init() must have been called before any thread exists.
 */
#ifndef ACKBOT_FAKE_SLACK_UTIL_H
#define ACKBOT_FAKE_SLACK_UTIL_H

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "bot/util.h"

extern char **environ;

struct fake_slack {
	pid_t pid;
	int in_fd;              /* its stdin: closing it ends the fake */
	int out_fd;
	char api[256];
	char control[256];
	char ws[256];
	char bot_token[128];
	char app_token[128];
};

/* true if node and the fake's node_modules are there */
static ACK_UNUSED bool
fake_available(void)
{
	struct stat st;

	if (stat(ACKBOT_SOURCE_DIR "/tests/fakes/node_modules/ws", &st) != 0)
		return false;
	return system("node --version >/dev/null 2>&1") == 0;
}

static ACK_UNUSED int
fake_start(struct fake_slack *f, const char *const *extra)
{
	int in[2], out[2];
	const char *argv[48];
	size_t n = 0, i;
	posix_spawn_file_actions_t fa;
	char line[2048];
	size_t got = 0;
	json_t *j;

	memset(f, 0, sizeof *f);
	if (pipe(in) != 0 || pipe(out) != 0)
		return -1;
	argv[n++] = "node";
	argv[n++] = ACKBOT_SOURCE_DIR "/tests/fakes/slack/fake_slack.js";
	for (i = 0; extra != NULL && extra[i] != NULL && n < 46; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	if (posix_spawnp(&f->pid, "node", &fa, NULL, (char *const *)argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	f->in_fd = in[1];
	f->out_fd = out[0];
	fcntl(f->in_fd, F_SETFD, FD_CLOEXEC);
	fcntl(f->out_fd, F_SETFD, FD_CLOEXEC);
	/* one JSON line */
	while (got < sizeof line - 1) {
		struct pollfd p = { f->out_fd, POLLIN, 0 };
		ssize_t k;

		if (poll(&p, 1, 20000) <= 0)
			return -1;
		k = read(f->out_fd, line + got, 1);
		if (k <= 0)
			return -1;
		if (line[got] == '\n')
			break;
		got++;
	}
	line[got] = '\0';
	j = json_loads(line, 0, NULL);
	if (j == NULL)
		return -1;
	snprintf(f->api, sizeof f->api, "%s", json_string_value(json_object_get(j, "api")));
	snprintf(f->control, sizeof f->control, "%s",
	    json_string_value(json_object_get(j, "control")));
	snprintf(f->ws, sizeof f->ws, "%s", json_string_value(json_object_get(j, "ws")));
	snprintf(f->bot_token, sizeof f->bot_token, "%s",
	    json_string_value(json_object_get(j, "bot_token")));
	snprintf(f->app_token, sizeof f->app_token, "%s",
	    json_string_value(json_object_get(j, "app_token")));
	json_decref(j);
	return 0;
}

static ACK_UNUSED void
fake_stop(struct fake_slack *f)
{
	int st;

	if (f->pid <= 0)
		return;
	close(f->in_fd);
	kill(f->pid, SIGTERM);
	waitpid(f->pid, &st, 0);
	close(f->out_fd);
	f->pid = 0;
}

static size_t
fake_curl_body(char *p, size_t sz, size_t n, void *u)
{
	struct buf *b = u;

	buf_append(b, p, sz * n);
	return sz * n;
}

/*
 * POSTs body (JSON text, or NULL for a GET) to /control/NAME. Returns the
 * parsed answer (caller decrefs), or NULL; *status gets the HTTP status.
 */
static ACK_UNUSED json_t *
fake_ctl(const struct fake_slack *f, const char *name, const char *body, long *status)
{
	CURL *e = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512];
	struct buf b;
	json_t *j = NULL;
	long code = 0;

	buf_init(&b, 64u * 1024 * 1024);
	snprintf(url, sizeof url, "%s/control/%s", f->control, name);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fake_curl_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	}
	if (curl_easy_perform(e) == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		j = json_loads(b.data ? b.data : "", 0, NULL);
	}
	if (status != NULL)
		*status = code;
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	buf_free(&b);
	return j;
}

/* fake_ctl with a printf-made body; returns NULL unless HTTP 200. */
static json_t *fake_ctlf(const struct fake_slack *f, const char *name, const char *fmt, ...)
    ACK_PRINTF(3, 4) ACK_UNUSED;

static json_t *
fake_ctlf(const struct fake_slack *f, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *body = NULL;
	long st = 0;
	json_t *j;

	if (fmt != NULL) {
		va_start(ap, fmt);
		body = xvasprintf(fmt, ap);
		va_end(ap);
	}
	j = fake_ctl(f, name, body, &st);
	if (st != 200) {
		char *d = j ? json_dumps(j, JSON_COMPACT) : NULL;

		fprintf(stderr, "fake control %s(%s): HTTP %ld %s\n", name, body ? body : "",
		    st, d ? d : "");
		free(d);
		json_decref(j);
		j = NULL;
	}
	free(body);
	return j;
}

/* Number of records of a kind matching a query string ("" for all). */
static ACK_UNUSED size_t
fake_count(const struct fake_slack *f, const char *kind_and_query)
{
	json_t *j = fake_ctl(f, kind_and_query, NULL, NULL);
	size_t n = json_is_array(j) ? json_array_size(j) : 0;

	json_decref(j);
	return n;
}

/* Makes a throwaway CA and a server certificate for 127.0.0.1/localhost in
 * dir with the openssl command (ca.pem, server.pem, server.key), a second,
 * unrelated CA (other.pem), and a certificate from the first CA for another
 * name only (wrong.pem, wrong.key). Returns 0 on success. */
static ACK_UNUSED int
make_test_certs(const char *dir)
{
	char cmd[4096];

	snprintf(cmd, sizeof cmd,
	    "cd '%s' && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout ca.key -out ca.pem -days 2 -subj '/CN=ackbot test CA' "
	    "-addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign >/dev/null 2>&1 && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout server.key -out server.csr -subj '/CN=localhost' >/dev/null 2>&1 && "
	    "printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
	    "extendedKeyUsage=serverAuth\\nsubjectAltName=IP:127.0.0.1,DNS:localhost\\n' "
	    "> server.ext && "
	    "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out server.pem -days 2 -extfile server.ext >/dev/null 2>&1 && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout other.key -out other.pem -days 2 -subj '/CN=unrelated CA' "
	    ">/dev/null 2>&1 && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout wrong.key -out wrong.csr -subj '/CN=wrong.example' >/dev/null 2>&1 && "
	    "printf 'basicConstraints=CA:FALSE\\nkeyUsage=critical,digitalSignature\\n"
	    "extendedKeyUsage=serverAuth\\nsubjectAltName=DNS:wrong.example\\n' "
	    "> wrong.ext && "
	    "openssl x509 -req -in wrong.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	    "-out wrong.pem -days 2 -extfile wrong.ext >/dev/null 2>&1", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- a loop in its own thread, commands posted to it ---------------------- */

struct loop_thread;
typedef void (*loop_fn)(struct loop_thread *lt, void *arg);

struct loop_cmd {
	loop_fn fn;
	void *arg;
	bool done;
	struct loop_cmd *next;
};

struct loop_thread {
	uv_loop_t loop;
	uv_async_t async;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct loop_cmd *cmds;
	int close_rc;           /* uv_loop_close's result */
	void (*after_run)(struct loop_thread *lt);      /* e.g. ws_context_final_destroy */
	void *user;
};

static void
lt_async_cb(uv_async_t *a)
{
	struct loop_thread *lt = a->data;
	struct loop_cmd *c, *list;

	pthread_mutex_lock(&lt->mu);
	list = lt->cmds;
	lt->cmds = NULL;
	pthread_mutex_unlock(&lt->mu);
	/* reverse to run in order */
	{
		struct loop_cmd *rev = NULL, *next;

		for (c = list; c != NULL; c = next) {
			next = c->next;
			c->next = rev;
			rev = c;
		}
		list = rev;
	}
	while ((c = list) != NULL) {
		list = c->next;
		c->fn(lt, c->arg);
		pthread_mutex_lock(&lt->mu);
		c->done = true;
		pthread_cond_broadcast(&lt->cv);
		pthread_mutex_unlock(&lt->mu);
	}
}

static void *
lt_main(void *arg)
{
	struct loop_thread *lt = arg;

	uv_run(&lt->loop, UV_RUN_DEFAULT);
	if (lt->after_run != NULL)
		lt->after_run(lt);
	uv_run(&lt->loop, UV_RUN_DEFAULT);
	lt->close_rc = uv_loop_close(&lt->loop);
	return NULL;
}

static ACK_UNUSED void
lt_start(struct loop_thread *lt)
{
	uv_loop_init(&lt->loop);
	pthread_mutex_init(&lt->mu, NULL);
	pthread_cond_init(&lt->cv, NULL);
	uv_async_init(&lt->loop, &lt->async, lt_async_cb);
	lt->async.data = lt;
	pthread_create(&lt->thread, NULL, lt_main, lt);
}

/* Runs fn(lt, arg) on the loop thread and waits until it has returned. */
static ACK_UNUSED void
lt_call(struct loop_thread *lt, loop_fn fn, void *arg)
{
	struct loop_cmd c = { fn, arg, false, NULL };

	pthread_mutex_lock(&lt->mu);
	c.next = lt->cmds;
	lt->cmds = &c;
	pthread_mutex_unlock(&lt->mu);
	uv_async_send(&lt->async);
	pthread_mutex_lock(&lt->mu);
	while (!c.done)
		pthread_cond_wait(&lt->cv, &lt->mu);
	pthread_mutex_unlock(&lt->mu);
}

/* From the loop thread: no more commands (closes the async handle). */
static ACK_UNUSED void
lt_close_async(struct loop_thread *lt)
{
	uv_close((uv_handle_t *)&lt->async, NULL);
}

/* Waits for the loop thread to finish; returns uv_loop_close's result. */
static ACK_UNUSED int
lt_join(struct loop_thread *lt)
{
	pthread_join(lt->thread, NULL);
	pthread_mutex_destroy(&lt->mu);
	pthread_cond_destroy(&lt->cv);
	return lt->close_rc;
}

/* Polls cond(arg) under lt->mu every 20 ms for up to ms milliseconds. */
static ACK_UNUSED bool
lt_wait(struct loop_thread *lt, bool (*cond)(void *), void *arg, unsigned ms)
{
	unsigned waited = 0;
	bool ok;

	for (;;) {
		pthread_mutex_lock(&lt->mu);
		ok = cond(arg);
		pthread_mutex_unlock(&lt->mu);
		if (ok || waited >= ms)
			return ok;
		usleep(20000);
		waited += 20;
	}
}

#endif
