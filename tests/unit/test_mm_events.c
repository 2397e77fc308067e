/*
 * test_mm_events.c - the Mattermost protocol without I/O (adapters/mm_events.c
 * and the pure helpers of adapters/mm_rest.c): frames, the double-parsed
 * post, channel types, mentions, own/bot/system/edit filtering, the dedupe
 * window, seq and hello, chat events; REST answers (429 headers, AppError
 * bodies, classes) and the websocket URL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/mm_events.h"
#include "adapters/mm_rest.h"
#include "bot/log.h"
#include "bot/util.h"

#define SELF "ackbotuser0000000000000000"
#define ALICE "q7k3zm4b1pgyfcxw8usd5tj9ra"
#define TOWN "chtownsquare00000000000000"

static void
session(struct mm_session *s, bool ignore_bots)
{
	mm_session_init(s, ignore_bots, true);
	assert_int_equal(mm_session_set_self(s, SELF, "AckBot"), 0);
	assert_string_equal(s->self_name, "ackbot");
}

/* A posted event's data, with the post as a JSON string (as the server
 * sends it). props may be NULL. */
static json_t *
posted_data(const char *id, const char *user, const char *message, const char *type,
    const char *root, char ctype, json_t *props)
{
	json_t *post = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:o}", "id", id, "create_at",
	    (json_int_t)1741770001234LL, "user_id", user, "channel_id", TOWN, "root_id",
	    root ? root : "", "message", message, "type", type ? type : "", "props",
	    props ? props : json_object());
	char *ps = json_dumps(post, JSON_COMPACT);
	char ct[2] = { ctype, '\0' };
	json_t *d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "post", ps, "channel_type", ct,
	    "channel_name", ctype == 'D' ? ALICE "__" SELF : "town-square",
	    "channel_display_name", ctype == 'D' ? "@alice" : "Town Square", "sender_name",
	    "@alice", "team_id", "");

	free(ps);
	json_decref(post);
	return d;
}

static enum mm_post_verdict
parse(struct mm_session *s, json_t *data, struct mm_post *p)
{
	enum mm_post_verdict v = mm_parse_posted(s, data, p);

	json_decref(data);
	return v;
}

/* ---- frames -------------------------------------------------------------- */

static enum mm_frame_kind
pf(const char *s, struct mm_frame *f)
{
	return mm_frame_parse(s, strlen(s), f);
}

static void
test_frames(void **state)
{
	struct mm_frame f;
	const char *ev = "{\"event\": \"posted\", \"data\": {\"post\": \"{}\"}, "
	    "\"broadcast\": {\"omit_users\": {\"x\": true}, \"channel_id\": \"c\"}, \"seq\": 5}";
	const char *pretty = "{\n  \"event\": \"typing\",\n  \"data\": {},\n  \"seq\": 7\n}\n";

	(void)state;
	assert_int_equal(mm_frame_parse(ev, strlen(ev), &f), MM_FRAME_EVENT);
	assert_string_equal(f.event, "posted");
	assert_true(f.has_seq);
	assert_int_equal(f.seq, 5);
	assert_non_null(f.data);
	assert_non_null(f.broadcast);
	mm_frame_clear(&f);

	assert_int_equal(mm_frame_parse(pretty, strlen(pretty), &f), MM_FRAME_EVENT);
	assert_int_equal(f.seq, 7);
	mm_frame_clear(&f);

	assert_int_equal(pf("{\"status\":\"OK\",\"seq_reply\":1}\n", &f), MM_FRAME_REPLY);
	mm_frame_clear(&f);
	assert_int_equal(pf("{\"status\":\"FAIL\",\"seq_reply\":9,\"error\":{}}", &f),
	    MM_FRAME_REPLY);
	mm_frame_clear(&f);

	/* an event without seq parses; the adapter decides */
	assert_int_equal(pf("{\"event\":\"hello\",\"data\":{}}", &f), MM_FRAME_EVENT);
	assert_false(f.has_seq);
	mm_frame_clear(&f);

	assert_int_equal(pf("not json", &f), MM_FRAME_BAD);
	assert_non_null(strstr(f.why, "not JSON"));
	mm_frame_clear(&f);
	assert_int_equal(pf("", &f), MM_FRAME_BAD);
	mm_frame_clear(&f);
	assert_int_equal(pf("{\"event\":\"posted\",\"se", &f), MM_FRAME_BAD);
	mm_frame_clear(&f);
	assert_int_equal(pf("[1,2]", &f), MM_FRAME_BAD);
	assert_string_equal(f.why, "not a JSON object");
	mm_frame_clear(&f);
	assert_int_equal(pf("{\"seq\":3}", &f), MM_FRAME_BAD);
	mm_frame_clear(&f);
	assert_int_equal(pf("{\"event\":\"posted\",\"seq\":\"3\"}", &f), MM_FRAME_BAD);
	mm_frame_clear(&f);
	assert_int_equal(pf("{\"event\":7,\"seq\":3}", &f), MM_FRAME_BAD);
	mm_frame_clear(&f);
	/* data that is not an object is dropped, not trusted */
	assert_int_equal(pf("{\"event\":\"posted\",\"seq\":1,\"data\":\"x\"}", &f),
	    MM_FRAME_EVENT);
	assert_null(f.data);
	mm_frame_clear(&f);
}

/* ---- posted -------------------------------------------------------------- */

static void
test_double_parsed_post(void **state)
{
	struct mm_session s;
	struct mm_post p;
	json_t *d;

	(void)state;
	session(&s, true);
	/* quotes, backslashes and non-ASCII survive the two levels of JSON */
	assert_int_equal(parse(&s, posted_data("post00000000000000000000a1", ALICE,
	    "@ackbot status \"prod\" C:\\x ünï ✓", NULL, NULL, 'O', NULL), &p), MM_POST_RUN);
	assert_string_equal(p.text, "status \"prod\" C:\\x ünï ✓");
	assert_string_equal(p.id, "post00000000000000000000a1");
	assert_string_equal(p.channel_id, TOWN);
	assert_string_equal(p.user_id, ALICE);
	assert_string_equal(p.user_name, "alice");
	assert_true(p.mentions_bot);
	assert_false(p.is_direct);
	mm_post_clear(&p);

	/* data.post as an object (not what servers send): refused */
	d = json_pack("{s:{s:s}}", "post", "id", "x");
	assert_int_equal(parse(&s, d, &p), MM_POST_BAD);
	assert_non_null(strstr(p.why, "object"));
	mm_post_clear(&p);
	/* a string that is not JSON */
	d = json_pack("{s:s,s:s}", "post", "{\"id\":", "channel_type", "O");
	assert_int_equal(parse(&s, d, &p), MM_POST_BAD);
	mm_post_clear(&p);
	/* no data.post */
	d = json_pack("{s:s}", "channel_type", "O");
	assert_int_equal(parse(&s, d, &p), MM_POST_BAD);
	mm_post_clear(&p);
	/* fields missing or unusable */
	assert_int_equal(parse(&s, posted_data("", ALICE, "x", NULL, NULL, 'O', NULL), &p),
	    MM_POST_BAD);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("id with space", ALICE, "x", NULL, NULL, 'O',
	    NULL), &p), MM_POST_BAD);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("post00000000000000000000a2", "", "x", NULL,
	    NULL, 'O', NULL), &p), MM_POST_BAD);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("post00000000000000000000a3", ALICE, "x", NULL,
	    "bad root!", 'O', NULL), &p), MM_POST_BAD);
	mm_post_clear(&p);
	/* no message: refused (but only once it would run) */
	d = json_pack("{s:s,s:s}", "post", "{\"id\":\"p1\",\"user_id\":\"u1\","
	    "\"channel_id\":\"c1\"}", "channel_type", "O");
	assert_int_equal(parse(&s, d, &p), MM_POST_BAD);
	mm_post_clear(&p);
	mm_session_free(&s);
}

static void
test_channel_types(void **state)
{
	struct mm_session s;
	struct mm_post p;
	struct {
		char t;
		bool direct;
		const char *name;
	} cases[] = {
		{ 'O', false, "town-square" }, { 'P', false, "town-square" },
		{ 'D', true, "@alice" }, { 'G', false, "town-square" },
		{ 'X', false, "town-square" },
	};
	char id[32];
	size_t i;

	(void)state;
	session(&s, true);
	for (i = 0; i < ACK_ARRAY_LEN(cases); i++) {
		snprintf(id, sizeof id, "chan%022zu", i);
		assert_int_equal(parse(&s, posted_data(id, ALICE, "deploy", NULL, NULL,
		    cases[i].t, NULL), &p), MM_POST_RUN);
		assert_int_equal(p.is_direct, cases[i].direct);
		assert_int_equal(p.channel_type, cases[i].t == 'X' ? '?' : cases[i].t);
		assert_string_equal(p.channel_name, cases[i].name);
		assert_false(p.mentions_bot);
		mm_post_clear(&p);
	}
	mm_session_free(&s);
}

static void
strip_case(const char *in, const char *out, bool found)
{
	bool f = !found;
	char *s = mm_strip_mention(in, "ackbot", &f);

	if (strcmp(s, out) != 0 || f != found)
		fail_msg("strip(%s): got \"%s\" found=%d, want \"%s\" found=%d", in, s, f, out,
		    found);
	free(s);
}

static void
test_mentions(void **state)
{
	bool f;
	char *s;

	(void)state;
	strip_case("@ackbot help", "help", true);
	strip_case("@AckBot: help", "help", true);
	strip_case("@ackbot, deploy prod", "deploy prod", true);
	strip_case("  @ackbot   help  ", "help", true);
	strip_case("deploy prod @ackbot", "deploy prod", true);
	strip_case("please @ackbot deploy", "please deploy", true);
	strip_case("thanks @ackbot.", "thanks .", true);
	strip_case("@ackbot\nhelp", "help", true);
	strip_case("@ackbot", "", true);
	strip_case("(@ackbot) hi", "() hi", true);
	/* not mentions of the bot */
	strip_case("@ackbot2 help", "@ackbot2 help", false);
	strip_case("@ackbot_ops help", "@ackbot_ops help", false);
	strip_case("@ackbot-dev help", "@ackbot-dev help", false);
	strip_case("@ackbot.old help", "@ackbot.old help", false);
	strip_case("mail me at ops@ackbot.example", "mail me at ops@ackbot.example", false);
	strip_case("@@ackbot x", "@@ackbot x", false);
	strip_case("@ack help", "@ack help", false);
	strip_case("ackbot help", "ackbot help", false);
	/* two mentions */
	strip_case("@ackbot echo @ackbot", "echo", true);
	/* no username known yet: nothing is a mention */
	s = mm_strip_mention("@ackbot x", "", &f);
	assert_string_equal(s, "@ackbot x");
	assert_false(f);
	free(s);
}

static void
test_filters(void **state)
{
	struct mm_session s;
	struct mm_post p;

	(void)state;
	session(&s, true);
	assert_int_equal(parse(&s, posted_data("own0000000000000000000000a", SELF,
	    "@ackbot help", NULL, NULL, 'O', NULL), &p), MM_POST_OWN);
	mm_post_clear(&p);
	/* the bot's own post is ignored even with ignore_bots off (below) and
	 * even though it carries from_bot */
	assert_int_equal(parse(&s, posted_data("own0000000000000000000000b", SELF, "x", NULL,
	    NULL, 'O', json_pack("{s:s}", "from_bot", "true")), &p), MM_POST_OWN);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("bot0000000000000000000000a", "cibot",
	    "@ackbot help", NULL, NULL, 'O', json_pack("{s:s}", "from_bot", "true")), &p),
	    MM_POST_BOT);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("hook000000000000000000000a", ALICE,
	    "@ackbot help", NULL, NULL, 'O', json_pack("{s:s}", "from_webhook", "true")), &p),
	    MM_POST_BOT);
	mm_post_clear(&p);
	/* "false" is not a bot */
	assert_int_equal(parse(&s, posted_data("nbot00000000000000000000a", ALICE,
	    "@ackbot help", NULL, NULL, 'O', json_pack("{s:s}", "from_bot", "false")), &p),
	    MM_POST_RUN);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("sys0000000000000000000000a", ALICE, "",
	    "system_join_channel", NULL, 'O', NULL), &p), MM_POST_SYSTEM);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("cus0000000000000000000000a", ALICE, "x",
	    "custom_poll", NULL, 'O', NULL), &p), MM_POST_OTHER_TYPE);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("att0000000000000000000000a", ALICE,
	    "@ackbot help", "slack_attachment", NULL, 'O', NULL), &p), MM_POST_RUN);
	mm_post_clear(&p);
	mm_session_free(&s);

	/* ignore_bots = false: other bots are heard, the bot itself never */
	session(&s, false);
	assert_int_equal(parse(&s, posted_data("bot0000000000000000000000b", "cibot",
	    "@ackbot help", NULL, NULL, 'O', json_pack("{s:s}", "from_bot", "true")), &p),
	    MM_POST_RUN);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("own0000000000000000000000c", SELF, "x", NULL,
	    NULL, 'O', NULL), &p), MM_POST_OWN);
	mm_post_clear(&p);
	mm_session_free(&s);

	/* edits, deletions and the rest are not read at all */
	assert_true(mm_event_wanted("posted"));
	assert_false(mm_event_wanted("post_edited"));
	assert_false(mm_event_wanted("post_deleted"));
	assert_false(mm_event_wanted("ephemeral_message"));
	assert_false(mm_event_wanted("typing"));
	assert_false(mm_event_wanted(NULL));
}

/* ---- dedupe -------------------------------------------------------------- */

static void
test_dedupe_window(void **state)
{
	struct mm_dedupe d;
	struct mm_session s;
	struct mm_post p;
	char id[32];
	size_t i;

	(void)state;
	mm_dedupe_init(&d, 100);
	assert_false(mm_dedupe_check(&d, "a"));
	assert_true(mm_dedupe_check(&d, "a"));
	assert_true(mm_dedupe_contains(&d, "a"));
	assert_false(mm_dedupe_contains(&d, "b"));
	/* 1000 more: the last 100 are always remembered, the oldest forgotten */
	for (i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "id%zu", i);
		assert_false(mm_dedupe_check(&d, id));
		if (i >= 1) {
			snprintf(id, sizeof id, "id%zu", i - 1);
			assert_true(mm_dedupe_contains(&d, id));
		}
		if (i >= 99) {
			snprintf(id, sizeof id, "id%zu", i - 99);
			assert_true(mm_dedupe_contains(&d, id));
		}
	}
	assert_false(mm_dedupe_contains(&d, "a"));
	assert_false(mm_dedupe_contains(&d, "id0"));
	for (i = 800; i < 1000; i++) {
		snprintf(id, sizeof id, "id%zu", i);
		if (i >= 900)
			assert_true(mm_dedupe_contains(&d, id));
	}
	assert_true(d.ncur <= d.window);
	assert_true(d.slots >= 2 * d.window);
	mm_dedupe_free(&d);

	/* through posted: the same post twice runs once; filtered posts are
	 * not recorded (they never ran) */
	session(&s, true);
	assert_int_equal(parse(&s, posted_data("dup0000000000000000000000a", ALICE, "help",
	    NULL, NULL, 'D', NULL), &p), MM_POST_RUN);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("dup0000000000000000000000a", ALICE, "help",
	    NULL, NULL, 'D', NULL), &p), MM_POST_DUP);
	mm_post_clear(&p);
	assert_int_equal(parse(&s, posted_data("dup0000000000000000000000b", SELF, "x",
	    NULL, NULL, 'O', NULL), &p), MM_POST_OWN);
	mm_post_clear(&p);
	assert_false(mm_dedupe_contains(&s.dedupe, "dup0000000000000000000000b"));
	mm_session_free(&s);
}

/* ---- seq and hello ------------------------------------------------------- */

static enum mm_hello_result
hello(struct mm_session *s, const char *id, const char *user, char *old, bool *other)
{
	json_t *d = json_pack("{s:s,s:s}", "connection_id", id, "server_version", "10.5.0");
	json_t *b = json_pack("{s:s}", "user_id", user);
	enum mm_hello_result r = mm_session_hello(s, d, b, old, MM_MAX_ID + 1, other);

	json_decref(d);
	json_decref(b);
	return r;
}

static void
test_seq_and_hello(void **state)
{
	struct mm_session s;
	char old[MM_MAX_ID + 1];
	bool other;
	json_t *d;

	(void)state;
	session(&s, true);
	assert_int_equal(hello(&s, "iqcx3qc9sbbt6ocshszfqgq6ci", SELF, old, &other),
	    MM_HELLO_FIRST);
	assert_false(other);
	assert_string_equal(s.conn_id, "iqcx3qc9sbbt6ocshszfqgq6ci");
	assert_int_equal(s.next_seq, 1);
	assert_int_equal(mm_session_seq(&s, 1), MM_SEQ_OK);
	assert_int_equal(mm_session_seq(&s, 2), MM_SEQ_OK);
	/* a gap: 3 is missing; next stays 3 so that a resume asks for it */
	assert_int_equal(mm_session_seq(&s, 4), MM_SEQ_GAP);
	assert_int_equal(s.next_seq, 3);
	/* an old one (a replay of something seen) */
	assert_int_equal(mm_session_seq(&s, 2), MM_SEQ_OLD);
	assert_int_equal(mm_session_seq(&s, 3), MM_SEQ_OK);
	assert_int_equal(mm_session_seq(&s, 4), MM_SEQ_OK);
	assert_int_equal(s.next_seq, 5);

	/* the same id again: harmless */
	assert_int_equal(hello(&s, "iqcx3qc9sbbt6ocshszfqgq6ci", SELF, old, &other),
	    MM_HELLO_SAME);
	/* a new id: the server could not resume; seq starts over */
	assert_int_equal(hello(&s, "newconn0000000000000000000", SELF, old, &other),
	    MM_HELLO_NEW);
	assert_string_equal(old, "iqcx3qc9sbbt6ocshszfqgq6ci");
	assert_int_equal(s.next_seq, 1);
	assert_int_equal(mm_session_seq(&s, 1), MM_SEQ_OK);
	/* someone else's socket */
	assert_int_equal(hello(&s, "newconn0000000000000000000", ALICE, old, &other),
	    MM_HELLO_SAME);
	assert_true(other);
	/* no connection id */
	d = json_pack("{s:s}", "server_version", "x");
	assert_int_equal(mm_session_hello(&s, d, NULL, NULL, 0, NULL), MM_HELLO_BAD);
	json_decref(d);
	assert_int_equal(mm_session_hello(&s, NULL, NULL, NULL, 0, NULL), MM_HELLO_BAD);
	mm_session_free(&s);

	/* identities that do not fit */
	mm_session_init(&s, true, true);
	assert_int_equal(mm_session_set_self(&s, "", "x"), -1);
	assert_int_equal(mm_session_set_self(&s, "x", NULL), -1);
	assert_int_equal(mm_session_set_self(&s,
	    "0123456789012345678901234567890123456789012345678901234567890123456789", "x"), -1);
	mm_session_free(&s);
}

/* ---- chat events --------------------------------------------------------- */

static void
test_chat_event(void **state)
{
	struct mm_session s;
	struct mm_post p;
	struct chat_event ev;

	(void)state;
	session(&s, true);
	assert_int_equal(parse(&s, posted_data("root000000000000000000000a", ALICE,
	    "@ackbot deploy", NULL, NULL, 'O', NULL), &p), MM_POST_RUN);
	mm_post_to_event(&p, true, &ev);
	assert_string_equal(ev.platform, "mattermost");
	assert_int_equal(ev.kind, CHAT_MESSAGE);
	assert_string_equal(ev.thread_id, "root000000000000000000000a");   /* its own id */
	assert_string_equal(ev.message_id, "root000000000000000000000a");
	assert_string_equal(ev.text, "deploy");
	assert_string_equal(ev.user_id, ALICE);
	assert_string_equal(ev.user_name, "alice");
	assert_string_equal(ev.channel_id, TOWN);
	assert_true(ev.mentions_bot);
	mm_post_to_event(&p, false, &ev);
	assert_null(ev.thread_id);
	mm_post_clear(&p);
	/* a reply in a thread answers in that thread, whatever reply_in_thread */
	assert_int_equal(parse(&s, posted_data("repl000000000000000000000a", ALICE,
	    "confirm ABC123", NULL, "root000000000000000000000a", 'D', NULL), &p), MM_POST_RUN);
	mm_post_to_event(&p, false, &ev);
	assert_string_equal(ev.thread_id, "root000000000000000000000a");
	assert_true(ev.is_direct);
	assert_false(ev.mentions_bot);
	mm_post_clear(&p);
	mm_session_free(&s);
}

/* ---- REST helpers -------------------------------------------------------- */

static void
test_retry_after(void **state)
{
	(void)state;
	assert_int_equal(mm_rest_retry_after_ms("1", NULL), 1000);
	assert_int_equal(mm_rest_retry_after_ms(" 3 ", "9"), 3000);
	assert_int_equal(mm_rest_retry_after_ms(NULL, "2"), 2000);
	assert_int_equal(mm_rest_retry_after_ms("soon", "2"), 2000);
	assert_int_equal(mm_rest_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", NULL), 0);
	assert_int_equal(mm_rest_retry_after_ms("-1", NULL), 0);
	assert_int_equal(mm_rest_retry_after_ms("1.5", NULL), 0);
	assert_int_equal(mm_rest_retry_after_ms("0", NULL), 1);
	assert_int_equal(mm_rest_retry_after_ms(NULL, NULL), 0);
	assert_int_equal(mm_rest_retry_after_ms("99999999999999999999999", NULL), 0);
}

static struct http_response
resp(enum http_result r, long status, const char *body)
{
	struct http_response x;

	memset(&x, 0, sizeof x);
	x.result = r;
	x.status = status;
	x.body = body;
	x.body_len = strlen(body);
	x.error = r == HTTP_OK ? "" : "Failed to connect to 127.0.0.1 port 1: Connection refused";
	x.reason = "";
	return x;
}

static void
test_rest_answers(void **state)
{
	struct http_response r;
	char out[512];

	(void)state;
	r = resp(HTTP_OK, 201, "{\"id\":\"p1\"}");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_OK);
	r = resp(HTTP_OK, 200, "{}");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_OK);
	assert_int_equal(mm_rest_classify(&r, 200), MM_REST_OK);
	r = resp(HTTP_OK, 201, "{}");
	assert_int_equal(mm_rest_classify(&r, 200), MM_REST_FAILED);

	r = resp(HTTP_OK, 401, "{\"id\":\"api.context.session_expired.app_error\",\"message\":"
	    "\"Invalid or expired session, please login again.\",\"detailed_error\":\"\","
	    "\"status_code\":401}");
	assert_int_equal(mm_rest_classify(&r, 200), MM_REST_AUTH);
	mm_rest_describe(&r, out, sizeof out);
	assert_string_equal(out, "HTTP 401 api.context.session_expired.app_error: Invalid or "
	    "expired session, please login again.");

	r = resp(HTTP_OK, 429, "limit exceeded\n");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_RATE_LIMITED);
	mm_rest_describe(&r, out, sizeof out);
	assert_string_equal(out, "HTTP 429: limit exceeded");

	r = resp(HTTP_OK, 400, "{\"id\":\"model.post.is_valid.message_length.app_error\","
	    "\"message\":\"Post Message property is longer than the maximum permitted length.\"}");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_FAILED);
	mm_rest_describe(&r, out, sizeof out);
	assert_non_null(strstr(out, "HTTP 400 model.post.is_valid.message_length.app_error: "));

	r = resp(HTTP_OK, 403, "{\"id\":\"api.context.permissions.app_error\"}");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_FAILED);
	mm_rest_describe(&r, out, sizeof out);
	assert_string_equal(out, "HTTP 403 api.context.permissions.app_error");

	r = resp(HTTP_OK, 503, "<html>\n<b>bad\x1b[31m gateway</b></html>");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_RETRY);
	mm_rest_describe(&r, out, sizeof out);
	assert_null(strchr(out, '\n'));
	assert_null(strchr(out, '\x1b'));
	r = resp(HTTP_OK, 408, "");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_RETRY);
	mm_rest_describe(&r, out, sizeof out);
	assert_string_equal(out, "HTTP 408");

	r = resp(HTTP_ERR_CONNECT, 0, "");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_RETRY);
	mm_rest_describe(&r, out, sizeof out);
	assert_non_null(strstr(out, "Connection refused"));
	r = resp(HTTP_ERR_TIMEOUT, 0, "");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_RETRY);
	r = resp(HTTP_ERR_TLS, 0, "");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_TLS);
	r = resp(HTTP_ERR_TOO_LARGE, 0, "");
	assert_int_equal(mm_rest_classify(&r, 201), MM_REST_FAILED);
}

static void
test_ws_url(void **state)
{
	char *u;

	(void)state;
	u = mm_ws_url("https://chat.example.com");
	assert_string_equal(u, "wss://chat.example.com/api/v4/websocket");
	free(u);
	u = mm_ws_url("http://127.0.0.1:8065/");
	assert_string_equal(u, "ws://127.0.0.1:8065/api/v4/websocket");
	free(u);
	u = mm_ws_url("HTTPS://example.com/mattermost//");
	assert_string_equal(u, "wss://example.com/mattermost/api/v4/websocket");
	free(u);
	assert_null(mm_ws_url("ftp://x"));
	assert_null(mm_ws_url(NULL));
}

static void
test_rest_init(void **state)
{
	struct mm_rest r;
	char err[ACK_ERR_LEN];
	struct http_client *fake = (struct http_client *)&r;   /* never used */

	(void)state;
	assert_int_equal(mm_rest_init(&r, fake, "https://chat.example.com/", "tok123", NULL,
	    err, sizeof err), 0);
	assert_string_equal(r.api, "https://chat.example.com/api/v4");
	assert_string_equal(r.auth, "Bearer tok123");
	mm_rest_free(&r);
	assert_int_equal(mm_rest_init(&r, fake, "chat.example.com", "tok", NULL, err,
	    sizeof err), -1);
	assert_int_equal(mm_rest_init(&r, fake, "https://x", "", NULL, err, sizeof err), -1);
	assert_int_equal(mm_rest_init(&r, fake, "https://x", "s3cr3t\n", NULL, err, sizeof err),
	    -1);
	assert_null(strstr(err, "s3cr3t"));     /* the token is not repeated */
	assert_int_equal(mm_rest_init(&r, NULL, "https://x", "tok", NULL, err, sizeof err), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_double_parsed_post),
		cmocka_unit_test(test_channel_types),
		cmocka_unit_test(test_mentions),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_dedupe_window),
		cmocka_unit_test(test_seq_and_hello),
		cmocka_unit_test(test_chat_event),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_rest_answers),
		cmocka_unit_test(test_ws_url),
		cmocka_unit_test(test_rest_init),
	};

	log_setup(LOG_ERROR + 1, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
