/*
 * audit.h - the audit trail: one JSON object per line for every step of a
 * command (requested, confirmation_asked, confirmed, approved, canceled,
 * expired, denied, refused, started, finished).
 *
 * A line looks like (keys in this order, absent values left out):
 *   {"time":"2024-05-01T12:34:56.789Z","event":"finished","command_id":"r42",
 *    "confirm_id":"7KQ2MX","who":{"platform":"slack","user_id":"U1",
 *    "user_name":"alice.s","user":"alice"},"where":{"channel":"C1",
 *    "thread":"1714567890.000100"},"alias":"restart","params":{"host":"web1",
 *    "token":"***"},"outcome":"succeeded","exit_code":0,"duration_ms":1234,
 *    "detail":"..."}
 *
 * Secrets never reach the file: values of parameters named in secret_params
 * become "***", and every occurrence of a string in secrets (for example the
 * resolved tokens of the alias) is replaced by "***" in every string of the
 * line, parameter names and values included (and a number whose digits
 * contain one becomes "***"). Invalid UTF-8 is replaced by U+FFFD, and each
 * string is cut at AUDIT_MAX_FIELD bytes after masking.
 *
 * The file is opened with O_APPEND|O_CREAT and mode 0600 (an existing file
 * keeps its mode), and each line goes out in one write(2), with no stdio
 * buffering, so that lines from a crash are complete and other writers
 * cannot interleave. The caller calls audit_reopen on SIGHUP (log rotation).
 *
 * Ownership: audit_open returns a handle freed by audit_close. Records and
 * everything they point to are borrowed for the duration of the call.
 */
#ifndef ACKBOT_AUDIT_H
#define ACKBOT_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_MAX_FIELD 4096

enum audit_event {
	AUDIT_REQUESTED,
	AUDIT_CONFIRMATION_ASKED,
	AUDIT_CONFIRMED,
	AUDIT_APPROVED,
	AUDIT_CANCELED,
	AUDIT_EXPIRED,
	AUDIT_DENIED,
	AUDIT_REFUSED,
	AUDIT_STARTED,
	AUDIT_FINISHED,
	AUDIT_QUEUED,           /* over a concurrency limit, waiting to start */
	AUDIT_DROPPED,          /* a pending confirmation dropped by the bot (reload, shutdown) */
	AUDIT_VAR_SET,          /* a person set a user-scoped variable (value never logged) */
	AUDIT_VAR_UNSET,
};

/* "requested", "confirmation_asked", ... */
const char *audit_event_name(enum audit_event e);

struct audit_record {
	enum audit_event event;
	const char *command_id;         /* the request's id */
	const char *confirm_id;         /* the confirmation's id, if any */
	/* who: the speaker (the approver for approved/denied) */
	const char *platform, *user_id, *user_name, *user;
	/* where */
	const char *channel, *thread;
	const char *alias;
	const json_t *params;           /* an object, or NULL */
	const char *const *secret_params;   /* parameter names to hide */
	size_t nsecret_params;
	const char *const *secrets;     /* strings to mask anywhere */
	size_t nsecrets;
	const char *outcome;            /* "succeeded", "failed", "timeout", ... */
	bool has_exit_code;
	int exit_code;                  /* exit status or HTTP status */
	bool has_duration;
	uint64_t duration_ms;
	const char *detail;             /* free-form */
};

struct audit;

/* Opens (creating with mode 0600) path for appending. Returns the handle, or
 * NULL with a message. */
struct audit *audit_open(const char *path, char *err, size_t errlen);
/* Opens the path again (after rotation) and swaps it in; on failure the old
 * file stays in use and -1 is returned with a message. */
int audit_reopen(struct audit *a, char *err, size_t errlen);
void audit_close(struct audit *a);

/* Sets the wall clock (milliseconds since the epoch); for tests. NULL =
 * CLOCK_REALTIME. */
void audit_set_clock(struct audit *a, uint64_t (*now_ms)(void *), void *arg);

/*
 * Writes one line. a == NULL (no audit log configured) is a no-op. Returns
 * 0, or -1 with a message if the write failed.
 */
int audit_write(struct audit *a, const struct audit_record *r, char *err,
    size_t errlen);

/* The line audit_write would write at time epoch_ms, '\n' included; the
 * caller frees it. */
char *audit_format(const struct audit_record *r, uint64_t epoch_ms);

/* s with every occurrence of each secret replaced by "***" (overlapping
 * matches merged); the caller frees it. Empty secrets are ignored. */
char *audit_mask(const char *s, const char *const *secrets, size_t nsecrets);

#endif
