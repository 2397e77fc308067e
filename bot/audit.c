/*
 * audit.c - the audit trail: JSON lines, masked, appended with one write(2)
 * each.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct audit {
	char *path;
	int fd;
	uint64_t (*now_ms)(void *);
	void *clock_arg;
};

static const char *const event_names[] = {
	[AUDIT_REQUESTED] = "requested",
	[AUDIT_CONFIRMATION_ASKED] = "confirmation_asked",
	[AUDIT_CONFIRMED] = "confirmed",
	[AUDIT_APPROVED] = "approved",
	[AUDIT_CANCELED] = "canceled",
	[AUDIT_EXPIRED] = "expired",
	[AUDIT_DENIED] = "denied",
	[AUDIT_REFUSED] = "refused",
	[AUDIT_STARTED] = "started",
	[AUDIT_FINISHED] = "finished",
	[AUDIT_QUEUED] = "queued",
	[AUDIT_DROPPED] = "dropped",
	[AUDIT_VAR_SET] = "var_set",
	[AUDIT_VAR_UNSET] = "var_unset",
};

const char *
audit_event_name(enum audit_event e)
{
	if ((size_t)e < ACK_ARRAY_LEN(event_names) && event_names[e] != NULL)
		return event_names[e];
	return "unknown";
}

/* ---- masking and cleaning ----------------------------------------------- */

struct span {
	size_t a, b;
};

static int
cmp_span(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a ? 1 : 0;
}

char *
audit_mask(const char *s, const char *const *secrets, size_t nsecrets)
{
	struct span *sp = NULL;
	size_t nsp = 0, cap = 0, i, len = strlen(s), o = 0, at = 0;
	struct buf b;

	for (i = 0; i < nsecrets; i++) {
		const char *sec = secrets[i], *p = s;
		size_t sl = sec ? strlen(sec) : 0;

		if (sl == 0)
			continue;
		while ((p = strstr(p, sec)) != NULL) {
			sp = xgrow(sp, &cap, nsp + 1, sizeof(*sp));
			sp[nsp].a = (size_t)(p - s);
			sp[nsp].b = (size_t)(p - s) + sl;
			nsp++;
			p++;            /* overlapping occurrences too */
		}
	}
	if (nsp == 0) {
		free(sp);
		return xstrdup(s);
	}
	qsort(sp, nsp, sizeof(*sp), cmp_span);
	buf_init(&b, 0);
	while (o < nsp) {
		size_t a = sp[o].a, e = sp[o].b;

		/* merge every span that overlaps or touches this one */
		for (o++; o < nsp && sp[o].a <= e; o++)
			if (sp[o].b > e)
				e = sp[o].b;
		buf_append(&b, s + at, a - at);
		buf_puts(&b, "***");
		at = e;
	}
	buf_append(&b, s + at, len - at);
	free(sp);
	return buf_steal(&b);
}

/* Replaces invalid UTF-8 by U+FFFD and cuts at AUDIT_MAX_FIELD bytes (on a
 * character boundary, marked with "…"). Consumes s. */
static char *
clean(char *s)
{
	size_t n = strlen(s), i = 0;
	struct buf b;

	if (n <= AUDIT_MAX_FIELD && utf8_valid(s, n))
		return s;
	buf_init(&b, 0);
	while (i < n) {
		size_t k;

		if (b.len + 8 > AUDIT_MAX_FIELD) {
			buf_puts(&b, "\xE2\x80\xA6");
			break;
		}
		for (k = 1; k <= 4 && i + k <= n; k++)
			if (utf8_valid(s + i, k))
				break;
		if (k <= 4 && i + k <= n) {
			buf_append(&b, s + i, k);
			i += k;
		} else {
			buf_puts(&b, "\xEF\xBF\xBD");
			i++;
		}
	}
	free(s);
	return buf_steal(&b);
}

static char *
safe_text(const struct audit_record *r, const char *s)
{
	return clean(audit_mask(s, r->secrets, r->nsecrets));
}

static json_t *
safe_string(const struct audit_record *r, const char *s)
{
	char *t = safe_text(r, s);
	json_t *j = json_string(t);

	free(t);
	return j;
}

static bool
contains_secret(const struct audit_record *r, const char *s)
{
	size_t i;

	for (i = 0; i < r->nsecrets; i++)
		if (r->secrets[i] != NULL && r->secrets[i][0] != '\0' &&
		    strstr(s, r->secrets[i]) != NULL)
			return true;
	return false;
}

static bool
is_secret_param(const struct audit_record *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nsecret_params; i++)
		if (r->secret_params[i] != NULL && strcmp(r->secret_params[i], name) == 0)
			return true;
	return false;
}

/* A masked deep copy of v; top is true for the parameters object itself. */
static json_t *
safe_value(const struct audit_record *r, const json_t *v, bool top)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		json_t *o = json_object();
		const char *k;
		json_t *x;

		json_object_foreach((json_t *)v, k, x) {
			char *sk = safe_text(r, k);

			if (top && is_secret_param(r, k))
				json_object_set_new(o, sk, json_string("***"));
			else
				json_object_set_new(o, sk, safe_value(r, x, false));
			free(sk);
		}
		return o;
	}
	case JSON_ARRAY: {
		json_t *a = json_array(), *x;
		size_t i;

		json_array_foreach(v, i, x)
			json_array_append_new(a, safe_value(r, x, false));
		return a;
	}
	case JSON_STRING:
		return safe_string(r, json_string_value(v));
	case JSON_INTEGER:
	case JSON_REAL: {
		char *t = json_dumps(v, JSON_ENCODE_ANY);
		bool hide = t != NULL && contains_secret(r, t);

		free(t);
		return hide ? json_string("***") : json_deep_copy(v);
	}
	default:
		return json_deep_copy(v);
	}
}

/* ---- lines -------------------------------------------------------------- */

static void
put_str(json_t *o, const struct audit_record *r, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, safe_string(r, s));
}

static void
iso_time(char out[32], uint64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&secs, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ms % 1000));
}

char *
audit_format(const struct audit_record *r, uint64_t epoch_ms)
{
	json_t *o = json_object(), *who, *where;
	char ts[32], *line, *out;

	iso_time(ts, epoch_ms);
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "event", json_string(audit_event_name(r->event)));
	put_str(o, r, "command_id", r->command_id);
	put_str(o, r, "confirm_id", r->confirm_id);
	who = json_object();
	put_str(who, r, "platform", r->platform);
	put_str(who, r, "user_id", r->user_id);
	put_str(who, r, "user_name", r->user_name);
	put_str(who, r, "user", r->user);
	if (json_object_size(who) > 0)
		json_object_set_new(o, "who", who);
	else
		json_decref(who);
	where = json_object();
	put_str(where, r, "channel", r->channel);
	put_str(where, r, "thread", r->thread);
	if (json_object_size(where) > 0)
		json_object_set_new(o, "where", where);
	else
		json_decref(where);
	put_str(o, r, "alias", r->alias);
	if (r->params != NULL)
		json_object_set_new(o, "params", safe_value(r, r->params, true));
	put_str(o, r, "outcome", r->outcome);
	if (r->has_exit_code)
		json_object_set_new(o, "exit_code", json_integer(r->exit_code));
	if (r->has_duration)
		json_object_set_new(o, "duration_ms",
		    json_integer((json_int_t)r->duration_ms));
	put_str(o, r, "detail", r->detail);

	line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (line == NULL)
		line = xstrdup("{\"event\":\"unknown\",\"detail\":\"audit: cannot encode\"}");
	out = xasprintf("%s\n", line);
	free(line);
	return out;
}

/* ---- the file ----------------------------------------------------------- */

static int
open_log(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600);

	if (fd < 0)
		return ack_err(err, errlen, "cannot open audit log %s: %s", path,
		    strerror(errno));
	return fd;
}

static uint64_t
wall_ms(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct audit *
audit_open(const char *path, char *err, size_t errlen)
{
	struct audit *a;
	int fd = open_log(path, err, errlen);

	if (fd < 0)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->path = xstrdup(path);
	a->fd = fd;
	a->now_ms = wall_ms;
	return a;
}

int
audit_reopen(struct audit *a, char *err, size_t errlen)
{
	int fd = open_log(a->path, err, errlen);

	if (fd < 0)
		return -1;
	close(a->fd);
	a->fd = fd;
	return 0;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	close(a->fd);
	free(a->path);
	free(a);
}

void
audit_set_clock(struct audit *a, uint64_t (*now_ms)(void *), void *arg)
{
	a->now_ms = now_ms ? now_ms : wall_ms;
	a->clock_arg = now_ms ? arg : NULL;
}

int
audit_write(struct audit *a, const struct audit_record *r, char *err,
    size_t errlen)
{
	char *line;
	size_t len, off = 0;
	int rc = 0;

	if (a == NULL)
		return 0;
	line = audit_format(r, a->now_ms(a->clock_arg));
	len = strlen(line);
	/* One write(2); a short write (disk full) is finished or reported. */
	while (off < len) {
		ssize_t n = write(a->fd, line + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = ack_err(err, errlen, "cannot write audit log %s: %s",
			    a->path, strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	free(line);
	return rc;
}
