/*
 * mm_rest.c - Mattermost REST requests and answers (see mm_rest.h).
 */
#include "adapters/mm_rest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/log.h"
#include "bot/util.h"

#ifndef ACKBOT_VERSION
#define ACKBOT_VERSION "0"
#endif

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

int
mm_rest_init(struct mm_rest *r, struct http_client *http, const char *url,
    const char *token, const char *ca_file, char *err, size_t errlen)
{
	size_t n;
	const char *p;

	memset(r, 0, sizeof *r);
	if (http == NULL)
		return ack_err(err, errlen, "mattermost: no HTTP client");
	if (url == NULL || (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0))
		return ack_err(err, errlen, "mattermost: [mattermost] url must start with "
		    "http:// or https://");
	if (token == NULL || token[0] == '\0')
		return ack_err(err, errlen, "mattermost: no token ([mattermost] token)");
	for (p = token; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return ack_err(err, errlen, "mattermost: the token holds a space or a "
			    "control character (a stray newline in the secret file?)");
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	r->http = http;
	r->api = xasprintf("%.*s/api/v4", (int)n, url);
	r->auth = xasprintf("Bearer %s", token);
	r->ca_file = ca_file != NULL ? xstrdup(ca_file) : NULL;
	return 0;
}

void
mm_rest_free(struct mm_rest *r)
{
	free(r->api);
	wipe_free(r->auth);
	free(r->ca_file);
	memset(r, 0, sizeof *r);
}

char *
mm_ws_url(const char *url)
{
	size_t n;

	if (url == NULL)
		return NULL;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	if (strncasecmp(url, "https://", 8) == 0)
		return xasprintf("wss://%.*s/api/v4/websocket", (int)(n - 8), url + 8);
	if (strncasecmp(url, "http://", 7) == 0)
		return xasprintf("ws://%.*s/api/v4/websocket", (int)(n - 7), url + 7);
	return NULL;
}

struct http_request *
mm_rest_send(struct mm_rest *r, const char *method, const char *path, const json_t *body,
    uint64_t timeout_ms, http_done_cb cb, void *arg, char *err, size_t errlen)
{
	struct http_request *req;
	char *url, *dump;

	url = xasprintf("%s%s", r->api, path);
	req = http_request_new(method, url, err, errlen);
	free(url);
	if (req == NULL)
		return NULL;
	if (http_request_add_header(req, "Authorization", r->auth, err, errlen) != 0 ||
	    http_request_add_header(req, "Accept", "application/json", err, errlen) != 0 ||
	    http_request_add_header(req, "User-Agent", "ackbot/" ACKBOT_VERSION, err,
	    errlen) != 0) {
		http_request_free(req);
		return NULL;
	}
	if (body != NULL) {
		dump = json_dumps(body, JSON_COMPACT);
		if (dump == NULL) {
			http_request_free(req);
			ack_err(err, errlen, "mattermost: cannot encode the request body");
			return NULL;
		}
		if (http_request_add_header(req, "Content-Type", "application/json", err,
		    errlen) != 0) {
			free(dump);
			http_request_free(req);
			return NULL;
		}
		http_request_set_body(req, dump, strlen(dump));
		free(dump);
	}
	http_request_set_timeout(req, timeout_ms ? timeout_ms : MM_REST_TIMEOUT_MS);
	http_request_set_max_response(req, MM_REST_MAX_RESPONSE);
	http_request_set_ca_file(req, r->ca_file);
	if (http_request_send(r->http, req, cb, arg, err, errlen) != 0)
		return NULL;
	return req;
}

enum mm_rest_class
mm_rest_classify(const struct http_response *resp, long ok_status)
{
	switch (resp->result) {
	case HTTP_OK:
		break;
	case HTTP_ERR_TLS:
		return MM_REST_TLS;
	case HTTP_ERR_TOO_LARGE:
		return MM_REST_FAILED;
	default:
		return MM_REST_RETRY;
	}
	if (resp->status == ok_status || (ok_status == 201 && resp->status == 200))
		return MM_REST_OK;
	if (resp->status == 401)
		return MM_REST_AUTH;
	if (resp->status == 429)
		return MM_REST_RATE_LIMITED;
	if (resp->status >= 500 || resp->status == 408)
		return MM_REST_RETRY;
	return MM_REST_FAILED;
}

void
mm_rest_describe(const struct http_response *resp, char *out, size_t outlen)
{
	char id[160], msg[300], tmp[300];
	json_t *j;
	const char *jid, *jmsg;
	size_t n;

	if (resp->result != HTTP_OK) {
		log_escape(tmp, sizeof tmp, resp->error ? resp->error : "",
		    resp->error ? strlen(resp->error) : 0);
		snprintf(out, outlen, "%s: %s", http_result_name(resp->result), tmp);
		return;
	}
	j = resp->body_len > 0 ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
	jid = json_string_value(json_object_get(j, "id"));
	jmsg = json_string_value(json_object_get(j, "message"));
	if (jid != NULL || jmsg != NULL) {
		log_escape(id, sizeof id, jid ? jid : "", jid ? strlen(jid) : 0);
		log_escape(msg, sizeof msg, jmsg ? jmsg : "", jmsg ? strlen(jmsg) : 0);
		snprintf(out, outlen, "HTTP %ld %s%s%s", resp->status, id, jid && jmsg ? ": " : "",
		    msg);
	} else {
		/* plain text (a 429 says "limit exceeded\n"), HTML from a proxy */
		n = resp->body_len;
		while (n > 0 && isspace((unsigned char)resp->body[n - 1]))
			n--;
		if (n > 200)
			n = 200;
		log_escape(tmp, sizeof tmp, resp->body, n);
		snprintf(out, outlen, "HTTP %ld%s%s", resp->status, n > 0 ? ": " : "", tmp);
	}
	if (j != NULL)
		json_decref(j);
}

static bool
parse_secs(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	while (*end == ' ' || *end == '\t')
		end++;
	if (errno != 0 || *end != '\0' || v > 86400ull * 365)
		return false;
	*out = (uint64_t)v;
	return true;
}

uint64_t
mm_rest_retry_after_ms(const char *retry_after, const char *ratelimit_reset)
{
	uint64_t s;

	if (parse_secs(retry_after, &s) || parse_secs(ratelimit_reset, &s))
		return s > 0 ? s * 1000 : 1;
	return 0;
}
