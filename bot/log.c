/*
 * log.c - levelled, escaped, one-line-per-event logging to a stream.
 */
#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static enum log_level log_min = LOG_INFO;
static FILE *log_stream;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_setup(enum log_level min, FILE *stream)
{
	log_min = min;
	log_stream = stream;
}

enum log_level
log_get_level(void)
{
	return log_min;
}

int
log_level_parse(const char *s)
{
	if (strcasecmp(s, "debug") == 0)
		return LOG_DEBUG;
	if (strcasecmp(s, "info") == 0)
		return LOG_INFO;
	if (strcasecmp(s, "warn") == 0 || strcasecmp(s, "warning") == 0)
		return LOG_WARN;
	if (strcasecmp(s, "error") == 0)
		return LOG_ERROR;
	return -1;
}

char *
log_escape(char *out, size_t outlen, const char *s, size_t n)
{
	size_t o = 0, i;

	if (outlen == 0)
		return out;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char tmp[8];
		size_t tl;

		if (c == '\n')
			memcpy(tmp, "\\n", tl = 2);
		else if (c == '\r')
			memcpy(tmp, "\\r", tl = 2);
		else if (c == '\t')
			memcpy(tmp, "\\t", tl = 2);
		else if (c == '\\')
			memcpy(tmp, "\\\\", tl = 2);
		else if (c < 0x20 || c == 0x7F)
			tl = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
		else {
			tmp[0] = (char)c;
			tl = 1;
		}
		if (o + tl + 4 > outlen) {
			if (outlen >= 4) {
				size_t at = o < outlen - 4 ? o : outlen - 4;

				memcpy(out + at, "...", 4);
				return out;
			}
			break;
		}
		memcpy(out + o, tmp, tl);
		o += tl;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
	return out;
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	FILE *f = log_stream ? log_stream : stderr;
	char *msg, line[4096], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;

	if (lvl < log_min)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	/* Escaping the whole message keeps even a caller's mistake (an unescaped
	 * newline in a format argument) from splitting the line. */
	log_escape(line, sizeof line, msg, strlen(msg));
	free(msg);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "%s.%03ldZ %-5s %s\n", ts, now.tv_nsec / 1000000L,
	    level_names[lvl], line);
	fflush(f);
}
