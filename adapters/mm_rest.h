/*
 * mm_rest.h - the Mattermost REST API v4 as the adapter uses it: requests
 * with the bot token, and how to read the answers (AppError bodies, 429
 * with Retry-After / X-RateLimit-Reset, which failures are worth a retry).
 * shared/protocols/mattermost.md §3.
 *
 * The token lives only in the "Authorization" header value held here; it
 * is wiped when the struct is freed and never appears in a URL or a log.
 */
#ifndef ACKBOT_MM_REST_H
#define ACKBOT_MM_REST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bot/http_client.h"

#define MM_REST_TIMEOUT_MS 30000u
#define MM_REST_MAX_RESPONSE (1024u * 1024u)    /* bytes of an answer kept */

struct mm_rest {
	struct http_client *http;
	char *api;                      /* "https://host[/prefix]/api/v4" */
	char *auth;                     /* "Bearer <token>" (secret) */
	char *ca_file;                  /* NULL = system store */
};

/* url is [mattermost] url (http:// or https://, no final '/'). Returns 0,
 * or -1 with err filled. */
int mm_rest_init(struct mm_rest *r, struct http_client *http, const char *url,
    const char *token, const char *ca_file, char *err, size_t errlen);
void mm_rest_free(struct mm_rest *r);

/*
 * Sends METHOD api+path with the token, "Accept: application/json" and,
 * when body is not NULL, that JSON (compact) as the body. Returns the
 * request (valid for http_request_cancel() until cb starts), or NULL with
 * err filled (cb is then never called).
 */
struct http_request *mm_rest_send(struct mm_rest *r, const char *method, const char *path,
    const json_t *body, uint64_t timeout_ms, http_done_cb cb, void *arg, char *err,
    size_t errlen);

/* The websocket URL for a server URL: http -> ws, https -> wss, plus
 * "/api/v4/websocket". A new string, or NULL if url is not http(s). */
char *mm_ws_url(const char *url);

enum mm_rest_class {
	MM_REST_OK,                     /* the status wanted */
	MM_REST_AUTH,                   /* 401: the token is not (or no longer) valid */
	MM_REST_RATE_LIMITED,           /* 429 */
	MM_REST_RETRY,                  /* 5xx, 408, network, timeout: try again */
	MM_REST_TLS,                    /* certificate not accepted */
	MM_REST_FAILED,                 /* another 4xx, or an unusable answer */
};

/* Classifies an answer; ok_status is the success status (201 for a new
 * post, 200 otherwise; 200 is also accepted where 201 is wanted). */
enum mm_rest_class mm_rest_classify(const struct http_response *resp, long ok_status);

/*
 * A one-line description of a failed answer for logs and callbacks:
 * "HTTP 400 model.post.is_valid.message_length.app_error: Post Message
 * property is longer ..." from an AppError body, "HTTP 429: limit exceeded"
 * from a plain-text one, or "timeout: ..." when no answer came. Body text
 * is escaped and truncated.
 */
void mm_rest_describe(const struct http_response *resp, char *out, size_t outlen);

/*
 * How long a 429 asks to wait, in milliseconds: Retry-After (seconds),
 * else X-RateLimit-Reset (seconds until the bucket resets), else 0 (the
 * caller's default). Either value may be NULL; values that are not whole
 * non-negative numbers of seconds are ignored.
 */
uint64_t mm_rest_retry_after_ms(const char *retry_after, const char *ratelimit_reset);

#endif
