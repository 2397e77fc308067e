/*
 * http_client.h - asynchronous HTTP(S) requests: the libcurl multi interface
 * driven by the bot's libuv loop (design/c-style.md §6.6).
 *
 * One struct http_client per loop is shared by every user (the http action
 * handler, the Slack and Mattermost adapters). A request is built, handed to
 * http_request_send(), and completes through its callback on the loop thread;
 * nothing here ever blocks the loop.
 *
 * Safety policy, not configurable: TLS peer and host verification are always
 * on (a CA file may be added per request, never verification turned off);
 * only http:// and https:// URLs are accepted (also on redirects, which are not
 * followed anyway); header names and values may not contain CR, LF or NUL, so
 * a rendered template can never inject a header; every response has a byte
 * ceiling.
 *
 * Call curl_global_init(CURL_GLOBAL_DEFAULT) once at program start, before
 * any thread exists; http_client_new() does not.
 */
#ifndef ACKBOT_HTTP_CLIENT_H
#define ACKBOT_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_client;
struct http_request;

/* How a request ended. HTTP_OK means a complete response arrived, whatever
 * its status code (a 503 is HTTP_OK here; the caller judges the status). */
enum http_result {
	HTTP_OK,
	HTTP_ERR_CANCELED,      /* only when the client is closed under it */
	HTTP_ERR_TIMEOUT,       /* timeout_ms elapsed */
	HTTP_ERR_CONNECT,       /* DNS, refused, unreachable */
	HTTP_ERR_TLS,           /* handshake or certificate verification */
	HTTP_ERR_TOO_LARGE,     /* body over max_response (not in truncate mode),
	                         * or headers over HTTP_MAX_HEADER_BYTES */
	HTTP_ERR_OTHER,         /* anything else curl reports */
};

#define HTTP_DEFAULT_TIMEOUT_MS 30000u
#define HTTP_DEFAULT_MAX_RESPONSE (1024u * 1024u)
#define HTTP_MAX_HEADER_BYTES (64u * 1024u)

struct http_header {
	char *name;             /* as received, without the colon */
	char *value;            /* trimmed */
};

/*
 * What the callback receives. Everything points into memory owned by the
 * client and is valid only during the callback: copy what you keep.
 */
struct http_response {
	enum http_result result;
	long status;                    /* HTTP status code; 0 if no response */
	const char *reason;             /* status line's reason phrase, or "" */
	const char *body;               /* never NULL; NUL-terminated */
	size_t body_len;
	size_t body_dropped;            /* truncate mode: bytes read and discarded */
	const struct http_header *headers; /* headers of the final response */
	size_t nheaders;
	const char *error;              /* "" on HTTP_OK; else curl's message, e.g.
	                                 * "Failed to connect to 127.0.0.1 port 1
	                                 * after 0 ms: Connection refused" */
	uint64_t elapsed_ms;            /* from http_request_send to completion */
};

/* Case-insensitive lookup of a response header (the last one of that name);
 * NULL if absent. For example "Retry-After", "X-RateLimit-Reset",
 * "Content-Type". */
const char *http_response_header(const struct http_response *r, const char *name);

/* A short name for a result: "ok", "canceled", "timeout", ... */
const char *http_result_name(enum http_result r);

typedef void (*http_done_cb)(const struct http_response *resp, void *arg);

/*
 * Creates a client on loop. Never fails except on allocation (fatal).
 * Ownership: the caller must end it with http_client_close(), which frees it.
 */
struct http_client *http_client_new(uv_loop_t *loop);

/*
 * Closes the client gracefully: every request still in flight completes
 * with HTTP_ERR_CANCELED ("client closed") before this returns, so that
 * owners can free their state; then the multi handle is cleaned up and the
 * client's uv handles are closed. closed(arg) runs (from a uv close callback)
 * once the last handle is closed and the client has been freed; it may be
 * NULL. New requests are refused from the moment close starts. Calling it
 * twice is a bug.
 */
void http_client_close(struct http_client *c, void (*closed)(void *), void *arg);

/* Number of requests in flight. */
size_t http_client_pending(const struct http_client *c);

/*
 * Builds a request. method is an HTTP token such as "GET", "POST", "PUT",
 * "PATCH", "DELETE", "HEAD"; url must be http:// or https://. Both are
 * copied. Returns NULL with err filled if either is unacceptable (the URL's
 * scheme is checked here; curl checks the rest when it runs).
 * Ownership: the caller owns it until http_request_send(), which takes it
 * over in every case; a request never sent is freed with http_request_free().
 */
struct http_request *http_request_new(const char *method, const char *url,
    char *err, size_t errlen);
void http_request_free(struct http_request *r);

/* Adds a header (copied). Returns -1 with err filled if the name is not an
 * HTTP token or either part holds CR, LF or NUL. A header given here replaces
 * curl's own of the same name (for example Content-Type, User-Agent); an
 * empty value removes curl's. */
int http_request_add_header(struct http_request *r, const char *name,
    const char *value, char *err, size_t errlen);
/* true if a header of that name (case-insensitive) was added. */
bool http_request_has_header(const struct http_request *r, const char *name);
/* Sets the body (copied; len bytes, may hold NUL). Sent with any method. */
void http_request_set_body(struct http_request *r, const void *data, size_t len);
/* Total time allowed, connection included; 0 = HTTP_DEFAULT_TIMEOUT_MS. */
void http_request_set_timeout(struct http_request *r, uint64_t ms);
/* Body ceiling in bytes; 0 = HTTP_DEFAULT_MAX_RESPONSE. Past it the transfer
 * is aborted with HTTP_ERR_TOO_LARGE, unless truncate mode is on: then the
 * first max bytes are kept and the rest is read and discarded (counted in
 * body_dropped), still bounded by the timeout. */
void http_request_set_max_response(struct http_request *r, size_t max);
void http_request_set_truncate(struct http_request *r, bool truncate);
/* A PEM file of CAs to trust instead of the system store (curl's
 * CURLOPT_CAINFO), for a private CA. Verification stays on. NULL = system
 * store. */
void http_request_set_ca_file(struct http_request *r, const char *path);

/*
 * Starts r on c. Takes ownership of r whatever happens. Returns 0, and cb is
 * later called exactly once from the loop (never from within this call),
 * unless http_request_cancel() comes first. Returns -1 with err filled (and
 * r freed, cb never called) if the client is closing or curl refuses the
 * request.
 *
 * The request pointer stays valid for http_request_cancel() until the
 * callback starts; it is freed when the callback returns.
 */
int http_request_send(struct http_client *c, struct http_request *r,
    http_done_cb cb, void *arg, char *err, size_t errlen);

/*
 * Stops an in-flight request and frees it. The callback is NOT called, now
 * or later: the caller, who knows it canceled, reports that itself. Must not
 * be called once the callback has started (r is gone then). Safe from any
 * loop callback, including another request's completion callback.
 */
void http_request_cancel(struct http_request *r);

/* The URL without its user info, query string and fragment, for logs (a
 * query often carries a token). Returns a new string the caller frees. */
char *http_url_for_log(const char *url);

#endif
