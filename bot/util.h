/*
 * util.h - allocation wrappers, bounded growable buffers and error helpers
 * shared by every module.
 *
 * Allocation failure is fatal (tmux's x* policy): a daemon that runs out of
 * memory exits and is restarted, rather than limping on with half-built state.
 * Every other error is a return value.
 */
#ifndef ACKBOT_UTIL_H
#define ACKBOT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define ACK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ACK_UNUSED __attribute__((unused))
#else
#define ACK_PRINTF(a, b)
#define ACK_UNUSED
#endif

#define ACK_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ACK_CONTAINER_OF(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Size of the caller-owned error buffers passed around as (err, errlen). */
#define ACK_ERR_LEN 512

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* Grows an array of *cap elements of elsize bytes so that it holds at least
 * need elements; doubles the capacity. */
void *xgrow(void *p, size_t *cap, size_t need, size_t elsize);
char *xstrdup(const char *s);          /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) ACK_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) ACK_PRINTF(1, 0);

/* Writes a formatted message into a caller-owned buffer; tolerates err == NULL
 * or errlen == 0. Always returns -1 so that callers can write
 * "return ack_err(err, errlen, ...)". */
int ack_err(char *err, size_t errlen, const char *fmt, ...) ACK_PRINTF(3, 4);

/*
 * A growable byte buffer with a hard ceiling. Appending past max fails and
 * leaves the buffer unchanged, so that network input can never grow without
 * bound. The data is always NUL-terminated (the terminator is not counted in
 * len, and not counted against max). max == 0 means SIZE_MAX.
 */
struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
int buf_append(struct buf *b, const void *p, size_t n);   /* 0, or -1 if over max */
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) ACK_PRINTF(2, 3);
void buf_reset(struct buf *b);          /* len = 0, keeps the memory */
char *buf_steal(struct buf *b);         /* returns data (never NULL), re-inits b */
void buf_free(struct buf *b);

/* Monotonic clock in milliseconds and microseconds (CLOCK_MONOTONIC). */
uint64_t ack_now_ms(void);
uint64_t ack_now_us(void);

/* Parses a duration such as "30s", "5m", "1h30m", "250ms", "2d" into
 * milliseconds. Returns 0, or -1 with a message that says what was expected. */
int ack_parse_duration(const char *s, uint64_t *out_ms, char *err, size_t errlen);

/* Number of code points in a UTF-8 string of n bytes (invalid bytes count as
 * one each). */
size_t utf8_count(const char *s, size_t n);
/* true if s[0..n) is well-formed UTF-8 (no surrogates, no overlongs). */
bool utf8_valid(const char *s, size_t n);

#endif
