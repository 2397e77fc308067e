/*
 * log.h - one line per event, with levels; untrusted text is escaped.
 *
 * Every message passes through log_escape before it is written, so chat text
 * with newlines or terminal escapes cannot forge log lines. Secrets must never
 * be passed here: the config layer keeps them out of every struct that gets
 * printed, and callers log secret names, never values.
 */
#ifndef ACKBOT_LOG_H
#define ACKBOT_LOG_H

#include <stdio.h>

#include "util.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the minimum level and the stream (NULL = stderr). The stream is not
 * owned. */
void log_setup(enum log_level min, FILE *stream);
enum log_level log_get_level(void);
/* Parses "debug", "info", "warn"/"warning", "error"; -1 if unknown. */
int log_level_parse(const char *s);

void log_msg(enum log_level lvl, const char *fmt, ...) ACK_PRINTF(2, 3);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/*
 * Escapes control characters (C-style: \n, \t, \xNN), backslashes and DEL in
 * s[0..n) into out (always NUL-terminated, truncated with "..." if it does
 * not fit). Returns out, so that it can be used inline in a log call.
 */
char *log_escape(char *out, size_t outlen, const char *s, size_t n);

#endif
