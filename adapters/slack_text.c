/*
 * slack_text.c - Slack's message markup to plain text, and back.
 *
 * Received text escapes exactly three characters (&amp; &lt; &gt;) and
 * wraps everything special in <...>: <@U1> or <@U1|name> (a user),
 * <#C1|name> (a channel), <!here> and friends, <http://x|label> and <url>
 * (links; Slack itself turns "www.foo.com" into <http://www.foo.com|www.foo.com>).
 * The grammar follows Bolt's: <([@#!])?([^>|]+)(\|([^>]+))?>. See
 * shared/protocols/slack.md §3.7. Pure functions; no I/O.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/slack_int.h"
#include "bot/util.h"

bool
slack_id_valid(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || n < 2 || n > SLACK_ID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* Appends s[0..n) with &amp; &lt; &gt; decoded. */
static void
put_decoded(struct buf *b, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (s[i] == '&') {
			if (n - i >= 5 && memcmp(s + i, "&amp;", 5) == 0) {
				buf_putc(b, '&');
				i += 5;
				continue;
			}
			if (n - i >= 4 && memcmp(s + i, "&lt;", 4) == 0) {
				buf_putc(b, '<');
				i += 4;
				continue;
			}
			if (n - i >= 4 && memcmp(s + i, "&gt;", 4) == 0) {
				buf_putc(b, '>');
				i += 4;
				continue;
			}
		}
		buf_putc(b, s[i]);
		i++;
	}
}

static char *
decoded_copy(const char *s, size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	put_decoded(&b, s, n);
	return buf_steal(&b);
}

/* Is label what the user typed for url (the URL itself, or without its
 * scheme, or without a trailing slash)? */
static bool
label_is_url(const char *label, const char *url)
{
	static const char *const schemes[] = { "https://", "http://", "mailto:", "tel:" };
	size_t i, ul, ll = strlen(label);

	if (strcmp(label, url) == 0)
		return true;
	for (i = 0; i < ACK_ARRAY_LEN(schemes); i++) {
		size_t sl = strlen(schemes[i]);

		if (strncasecmp(url, schemes[i], sl) != 0)
			continue;
		url += sl;
		ul = strlen(url);
		if (strcmp(label, url) == 0)
			return true;
		if (ul == ll + 1 && url[ul - 1] == '/' && strncmp(label, url, ll) == 0)
			return true;
		break;
	}
	return false;
}

static bool
only_space(const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		if (b->data[i] != ' ' && b->data[i] != '\t' && b->data[i] != '\n')
			return false;
	return true;
}

/* One entity <inner> (n > 0 bytes); something that is not an entity after
 * all is put back as it was. *self_mention: it was the bot's own mention. */
static void
put_entity(struct buf *b, const char *inner, size_t n, const struct slack_decode *d,
    bool *self_mention)
{
	const char *bar = memchr(inner, '|', n);
	size_t ln = bar ? (size_t)(bar - inner) : n;
	const char *label = bar ? bar + 1 : NULL;
	size_t lbn = bar ? n - ln - 1 : 0;
	char id[SLACK_ID_MAX + 1];

	*self_mention = false;
	if (label != NULL && lbn == 0)
		label = NULL;
	switch (inner[0]) {
	case '@':
		if (slack_id_valid(inner + 1, ln - 1)) {
			const char *name = NULL;

			memcpy(id, inner + 1, ln - 1);
			id[ln - 1] = '\0';
			if (d->self_id != NULL && strcmp(id, d->self_id) == 0) {
				*self_mention = true;
				return;
			}
			buf_putc(b, '@');
			if (label != NULL) {
				if (label[0] == '@') {
					label++;
					lbn--;
				}
				put_decoded(b, label, lbn);
				return;
			}
			if (d->name != NULL)
				name = d->name(d->arg, id);
			buf_puts(b, name != NULL ? name : id);
			return;
		}
		break;
	case '#':
		if (ln > 1) {
			buf_putc(b, '#');
			if (label != NULL)
				put_decoded(b, label, lbn);
			else
				put_decoded(b, inner + 1, ln - 1);
			return;
		}
		break;
	case '!':
		if (ln > 1) {
			if ((ln - 1 == 4 && memcmp(inner + 1, "here", 4) == 0) ||
			    (ln - 1 == 7 && memcmp(inner + 1, "channel", 7) == 0) ||
			    (ln - 1 == 8 && memcmp(inner + 1, "everyone", 8) == 0)) {
				buf_putc(b, '@');
				buf_append(b, inner + 1, ln - 1);
			} else if (label != NULL) {
				put_decoded(b, label, lbn);     /* @oncall, a date text */
			} else {
				buf_putc(b, '@');
				put_decoded(b, inner + 1, ln - 1);
			}
			return;
		}
		break;
	default:
		if (ln > 0) {
			char *url = decoded_copy(inner, ln);

			if (label != NULL) {
				char *lab = decoded_copy(label, lbn);

				buf_puts(b, lab);
				if (!label_is_url(lab, url)) {
					buf_puts(b, " (");
					buf_puts(b, url);
					buf_putc(b, ')');
				}
				free(lab);
			} else {
				buf_puts(b, url);
			}
			free(url);
			return;
		}
		break;
	}
	/* not an entity after all: as it was */
	buf_putc(b, '<');
	put_decoded(b, inner, n);
	buf_putc(b, '>');
}

char *
slack_text_decode(const char *text, size_t len, const struct slack_decode *d,
    bool *mentions_bot)
{
	struct buf b;
	size_t i = 0;

	*mentions_bot = false;
	/* Bounded: names are at most SLACK_NAME_MAX and "<@U1>" is 5 bytes. */
	buf_init(&b, len * (SLACK_NAME_MAX / 5 + 2) + 64);
	while (i < len) {
		const char *gt;
		size_t n;
		bool self = false, at_start;

		if (text[i] != '<') {
			const char *lt = memchr(text + i, '<', len - i);

			n = lt ? (size_t)(lt - (text + i)) : len - i;
			put_decoded(&b, text + i, n);
			i += n;
			continue;
		}
		gt = memchr(text + i + 1, '>', len - i - 1);
		n = gt ? (size_t)(gt - (text + i + 1)) : 0;
		if (gt == NULL || n == 0 || memchr(text + i + 1, '<', n) != NULL) {
			buf_putc(&b, '<');
			i++;
			continue;
		}
		at_start = only_space(&b);
		put_entity(&b, text + i + 1, n, d, &self);
		i += n + 2;
		if (!self)
			continue;
		*mentions_bot = true;
		if (at_start) {
			/* "<@BOT>: deploy" -> "deploy" */
			buf_reset(&b);
			while (i < len && (text[i] == ' ' || text[i] == ':' || text[i] == ',' ||
			    text[i] == '\t'))
				i++;
		} else if (b.len > 0 && b.data[b.len - 1] == ' ' && i < len && text[i] == ' ') {
			i++;    /* "hey <@BOT> deploy" -> "hey deploy" */
		}
	}
	return buf_steal(&b);
}

void
slack_text_users(const char *text, size_t len, const char *self_id,
    void (*fn)(void *arg, const char *id), void *arg)
{
	size_t i = 0;
	char id[SLACK_ID_MAX + 1];

	while (i + 3 < len) {
		const char *gt;
		size_t n;

		if (text[i] != '<' || text[i + 1] != '@') {
			i++;
			continue;
		}
		gt = memchr(text + i + 2, '>', len - i - 2);
		if (gt == NULL)
			break;
		n = (size_t)(gt - (text + i + 2));
		if (slack_id_valid(text + i + 2, n)) {
			memcpy(id, text + i + 2, n);
			id[n] = '\0';
			if (self_id == NULL || strcmp(id, self_id) != 0)
				fn(arg, id);
		}
		i += n + 3;
	}
}

char *
slack_text_escape(const char *text)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	for (p = text ? text : ""; *p != '\0'; p++) {
		if (*p == '&')
			buf_puts(&b, "&amp;");
		else if (*p == '<')
			buf_puts(&b, "&lt;");
		else if (*p == '>')
			buf_puts(&b, "&gt;");
		else
			buf_putc(&b, *p);
	}
	return buf_steal(&b);
}

char *
slack_name_clean(const char *name)
{
	struct buf b;
	const unsigned char *p;

	if (name == NULL)
		return NULL;
	buf_init(&b, 0);
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			continue;
		if (b.len == 0 && *p == ' ')
			continue;
		buf_putc(&b, (char)*p);
	}
	while (b.len > 0 && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	if (b.len > SLACK_NAME_MAX) {
		size_t n = SLACK_NAME_MAX;

		while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
			n--;    /* do not cut a UTF-8 sequence */
		b.data[n] = '\0';
		b.len = n;
	}
	if (b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}
