/*
 * test_slack_events.c - Socket Mode frame parsing, the message filter,
 * button clicks and the dedupe ring (adapters/slack_events.c), with frames
 * shaped like shared/protocols/slack.md's examples, the body builders of
 * adapters/slack_out.c, and malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/slack_int.h"

#define ENV_MSG \
	"{\"envelope_id\":\"6f3e1a52-2b7c\",\"type\":\"events_api\"," \
	"\"accepts_response_payload\":false,\"retry_attempt\":1,\"retry_reason\":\"timeout\"," \
	"\"payload\":{\"type\":\"event_callback\",\"event_id\":\"Ev0FAKE0001\"," \
	"\"event\":{\"type\":\"message\",\"channel\":\"C0GENERAL\",\"channel_type\":\"channel\"," \
	"\"user\":\"U0HUMAN01\",\"text\":\"deploy api please\",\"ts\":\"1767607200.000100\"," \
	"\"event_ts\":\"1767607200.000100\"}}}"

static int
parse(const char *s, struct slack_frame *f)
{
	char err[256];

	return slack_frame_parse(s, strlen(s), f, err, sizeof err);
}

static void
test_frames(void **state)
{
	struct slack_frame f;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"type\":\"hello\",\"num_connections\":2,\"debug_info\":"
	    "{\"host\":\"applink-7\",\"approximate_connection_time\":18060},"
	    "\"connection_info\":{\"app_id\":\"A0FAKE001\"}}", &f), 0);
	assert_int_equal(f.type, SLACK_FRAME_HELLO);
	assert_int_equal(f.num_connections, 2);
	assert_int_equal(f.refresh_s, 18060);
	assert_null(f.envelope_id);
	slack_frame_free(&f);

	assert_int_equal(parse("{\"type\":\"disconnect\",\"reason\":\"refresh_requested\"}", &f), 0);
	assert_int_equal(f.type, SLACK_FRAME_DISCONNECT);
	assert_string_equal(f.reason, "refresh_requested");
	slack_frame_free(&f);

	assert_int_equal(parse(ENV_MSG, &f), 0);
	assert_int_equal(f.type, SLACK_FRAME_EVENTS_API);
	assert_string_equal(f.envelope_id, "6f3e1a52-2b7c");
	assert_string_equal(f.event_id, "Ev0FAKE0001");
	assert_int_equal(f.retry_attempt, 1);
	assert_non_null(f.event);
	slack_frame_free(&f);

	assert_int_equal(parse("{\"envelope_id\":\"x1\",\"type\":\"interactive\","
	    "\"payload\":{\"type\":\"block_actions\"}}", &f), 0);
	assert_int_equal(f.type, SLACK_FRAME_INTERACTIVE);
	slack_frame_free(&f);
	assert_int_equal(parse("{\"envelope_id\":\"x2\",\"type\":\"slash_commands\","
	    "\"payload\":{\"command\":\"/x\"}}", &f), 0);
	assert_int_equal(f.type, SLACK_FRAME_SLASH);
	slack_frame_free(&f);
	assert_int_equal(parse("{\"envelope_id\":\"x3\",\"type\":\"brand_new\"}", &f), 0);
	assert_int_equal(f.type, SLACK_FRAME_OTHER);
	slack_frame_free(&f);

	/* malformed: each says why, and nothing leaks */
	assert_int_equal(slack_frame_parse("not json", 8, &f, err, sizeof err), -1);
	assert_non_null(strstr(err, "not JSON"));
	slack_frame_free(&f);
	assert_int_equal(parse("[1,2]", &f), -1);
	slack_frame_free(&f);
	assert_int_equal(parse("{\"no\":\"type\"}", &f), -1);
	slack_frame_free(&f);
	assert_int_equal(slack_frame_parse("", 0, &f, err, sizeof err), -1);
	slack_frame_free(&f);
	assert_int_equal(parse("{\"type\":\"events_api\",\"payload\":{}}", &f), -1);
	assert_null(f.envelope_id);
	slack_frame_free(&f);
	assert_int_equal(parse("{\"type\":\"events_api\",\"envelope_id\":\"a b\"}", &f), -1);
	slack_frame_free(&f);
	/* an envelope that cannot be used is still known by its id: ack it */
	assert_int_equal(parse("{\"type\":\"events_api\",\"envelope_id\":\"e9\","
	    "\"payload\":{\"event_id\":\"Ev9\"}}", &f), -1);
	assert_string_equal(f.envelope_id, "e9");
	slack_frame_free(&f);
	assert_int_equal(parse("{\"type\":\"interactive\",\"envelope_id\":\"e8\","
	    "\"payload\":\"str\"}", &f), -1);
	assert_string_equal(f.envelope_id, "e8");
	slack_frame_free(&f);
}

static enum slack_verdict
classify(const char *event_json, bool ignore_bots, struct slack_msg *m, json_t **keep)
{
	struct slack_self self = { "U0BOT0001", "B0BOT0001", ignore_bots };
	const char *why;
	json_t *e = json_loads(event_json, 0, NULL);
	enum slack_verdict v;

	assert_non_null(e);
	v = slack_msg_classify(e, &self, m, &why);
	if (v != SLACK_HANDLE)
		assert_non_null(why);
	*keep = e;
	return v;
}

static void
test_messages(void **state)
{
	struct slack_msg m;
	json_t *e;

	(void)state;
	assert_int_equal(classify("{\"type\":\"message\",\"channel\":\"C0GENERAL\","
	    "\"channel_type\":\"channel\",\"user\":\"U0HUMAN01\",\"text\":\"hi\","
	    "\"ts\":\"1767607200.000100\"}", true, &m, &e), SLACK_HANDLE);
	assert_string_equal(m.user, "U0HUMAN01");
	assert_false(m.is_direct);
	assert_null(m.thread_ts);
	json_decref(e);

	/* DM, thread reply */
	assert_int_equal(classify("{\"type\":\"message\",\"channel\":\"D0DM00001\","
	    "\"channel_type\":\"im\",\"user\":\"U0HUMAN01\",\"text\":\"help\","
	    "\"ts\":\"1767607300.000200\",\"thread_ts\":\"1767607200.000100\"}", true, &m, &e),
	    SLACK_HANDLE);
	assert_true(m.is_direct);
	assert_string_equal(m.thread_ts, "1767607200.000100");
	json_decref(e);

	/* app_mention has no channel_type */
	assert_int_equal(classify("{\"type\":\"app_mention\",\"channel\":\"C0GENERAL\","
	    "\"user\":\"U0HUMAN01\",\"text\":\"<@U0BOT0001> x\",\"ts\":\"1767607700.000600\"}",
	    true, &m, &e), SLACK_HANDLE);
	assert_string_equal(m.type, "app_mention");
	assert_false(m.is_direct);
	json_decref(e);

	/* own messages, other bots, edits, deletes, joins */
	assert_int_equal(classify("{\"type\":\"message\",\"channel\":\"C0GENERAL\","
	    "\"user\":\"U0BOT0001\",\"bot_id\":\"B0BOT0001\",\"text\":\"x\",\"ts\":\"1.2\"}",
	    false, &m, &e), SLACK_IGNORE);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"subtype\":\"bot_message\","
	    "\"channel\":\"C0GENERAL\",\"bot_id\":\"B0BOT0001\",\"text\":\"x\",\"ts\":\"1.2\"}",
	    false, &m, &e), SLACK_IGNORE);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"subtype\":\"bot_message\","
	    "\"channel\":\"C0GENERAL\",\"bot_id\":\"B0OTHER01\",\"text\":\"x\",\"ts\":\"1.2\"}",
	    true, &m, &e), SLACK_IGNORE);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"subtype\":\"bot_message\","
	    "\"channel\":\"C0GENERAL\",\"bot_id\":\"B0OTHER01\",\"text\":\"x\",\"ts\":\"1.2\"}",
	    false, &m, &e), SLACK_HANDLE);
	assert_string_equal(m.user, "B0OTHER01");
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"subtype\":\"message_changed\","
	    "\"hidden\":true,\"channel\":\"C0GENERAL\",\"ts\":\"1.2\",\"message\":{}}",
	    true, &m, &e), SLACK_IGNORE);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"subtype\":\"message_deleted\","
	    "\"channel\":\"C0GENERAL\",\"ts\":\"1.2\",\"deleted_ts\":\"1.1\"}",
	    true, &m, &e), SLACK_IGNORE);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"subtype\":\"channel_join\","
	    "\"channel\":\"C0GENERAL\",\"user\":\"U0HUMAN01\",\"ts\":\"1.2\"}",
	    true, &m, &e), SLACK_IGNORE);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"reaction_added\"}", true, &m, &e), SLACK_IGNORE);
	json_decref(e);

	/* broken ones */
	assert_int_equal(classify("{\"type\":\"message\",\"user\":\"U0HUMAN01\","
	    "\"text\":\"x\",\"ts\":\"1.2\"}", true, &m, &e), SLACK_INVALID);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"channel\":\"C0GENERAL\","
	    "\"user\":\"U0HUMAN01\",\"text\":\"x\",\"ts\":1.2}", true, &m, &e), SLACK_INVALID);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"channel\":\"C0GENERAL\","
	    "\"user\":\"U0HUMAN01\",\"text\":[1],\"ts\":\"1.2\"}", true, &m, &e), SLACK_INVALID);
	json_decref(e);
	assert_int_equal(classify("{\"type\":\"message\",\"channel\":\"C0GENERAL\","
	    "\"user\":\"U0HUMAN01\",\"text\":\"x\",\"ts\":\"1.2\",\"thread_ts\":\"x\"}",
	    true, &m, &e), SLACK_INVALID);
	json_decref(e);
	assert_int_equal(classify("{\"channel\":\"C0GENERAL\"}", true, &m, &e), SLACK_INVALID);
	json_decref(e);
}

static void
test_actions(void **state)
{
	struct slack_action a;
	const char *why;
	json_t *p = json_loads("{\"type\":\"block_actions\","
	    "\"user\":{\"id\":\"U0HUMAN01\",\"username\":\"alice\",\"name\":\"alice\"},"
	    "\"container\":{\"type\":\"message\",\"message_ts\":\"1767607210.000700\","
	    "\"channel_id\":\"C0GENERAL\",\"is_ephemeral\":false,"
	    "\"thread_ts\":\"1767607200.000100\"},"
	    "\"channel\":{\"id\":\"C0GENERAL\",\"name\":\"general\"},"
	    "\"message\":{\"ts\":\"1767607210.000700\",\"user\":\"U0BOT0001\"},"
	    "\"actions\":[{\"type\":\"button\",\"action_id\":\"ackbot_0\","
	    "\"value\":\"confirm:7KQ2MX\",\"action_ts\":\"1767607230.123456\"}]}", 0, NULL);

	(void)state;
	assert_int_equal(slack_action_parse(p, &a, &why), SLACK_HANDLE);
	assert_string_equal(a.user_id, "U0HUMAN01");
	assert_string_equal(a.user_name, "alice");
	assert_string_equal(a.channel, "C0GENERAL");
	assert_string_equal(a.message_ts, "1767607210.000700");
	assert_string_equal(a.thread_ts, "1767607200.000100");
	assert_string_equal(a.value, "confirm:7KQ2MX");
	/* the clicker is payload.user.id and nothing else */
	json_object_set_new(json_object_get(p, "user"), "id", json_string("not an id"));
	assert_int_equal(slack_action_parse(p, &a, &why), SLACK_INVALID);
	json_object_del(p, "user");
	assert_int_equal(slack_action_parse(p, &a, &why), SLACK_INVALID);
	json_decref(p);

	p = json_loads("{\"type\":\"view_submission\"}", 0, NULL);
	assert_int_equal(slack_action_parse(p, &a, &why), SLACK_IGNORE);
	json_decref(p);
	p = json_loads("{\"type\":\"block_actions\",\"user\":{\"id\":\"U0HUMAN01\"},"
	    "\"container\":{\"message_ts\":\"1.2\",\"channel_id\":\"C0GENERAL\"},"
	    "\"actions\":[]}", 0, NULL);
	assert_int_equal(slack_action_parse(p, &a, &why), SLACK_INVALID);
	json_decref(p);
}

static void
test_dedupe(void **state)
{
	struct slack_dedupe *d = slack_dedupe_new(64);
	char key[200];
	int i, j;

	(void)state;
	assert_false(slack_dedupe_check(d, "e:Ev1"));
	assert_true(slack_dedupe_check(d, "e:Ev1"));
	assert_false(slack_dedupe_check(d, "m:C1/1.2"));
	assert_true(slack_dedupe_check(d, "m:C1/1.2"));
	/* bounded: old keys are forgotten, recent ones kept, count capped */
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof key, "v:%d", i);
		assert_false(slack_dedupe_check(d, key));
		/* every recent key is still known */
		for (j = i; j >= 0 && j > i - 32; j--) {
			snprintf(key, sizeof key, "v:%d", j);
			assert_true(slack_dedupe_check(d, key));
		}
	}
	assert_int_equal(slack_dedupe_count(d), 64);
	assert_false(slack_dedupe_check(d, "e:Ev1"));   /* long gone */
	/* long keys */
	memset(key, 'k', 180);
	key[180] = '\0';
	assert_false(slack_dedupe_check(d, key));
	assert_true(slack_dedupe_check(d, key));
	slack_dedupe_free(d);
}

static void
test_bodies(void **state)
{
	struct chat_button b[2] = {
		{ "Approve", "confirm:7KQ2MX", true, false },
		{ "Cancel", "cancel:7KQ2MX", false, true },
	};
	char *s;
	json_t *j, *blocks;

	(void)state;
	s = slack_post_body("C0GENERAL", "1767607200.000100", "a <b> & c", NULL, 0);
	j = json_loads(s, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "text")), "a &lt;b&gt; &amp; c");
	assert_string_equal(json_string_value(json_object_get(j, "thread_ts")),
	    "1767607200.000100");
	assert_null(json_object_get(j, "blocks"));
	json_decref(j);
	free(s);

	s = slack_post_body("C0GENERAL", NULL, "Deploy api?", b, 2);
	j = json_loads(s, 0, NULL);
	assert_null(json_object_get(j, "thread_ts"));
	blocks = json_object_get(j, "blocks");
	assert_int_equal(json_array_size(blocks), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(blocks, 0), "text"), "text")), "Deploy api?");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
	    json_array_get(blocks, 1), "elements"), 1), "value")), "cancel:7KQ2MX");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
	    json_array_get(blocks, 1), "elements"), 0), "style")), "primary");
	json_decref(j);
	free(s);

	/* invalid UTF-8 from a command's output does not break the body */
	s = slack_post_body("C0GENERAL", NULL, "bad \xff\xfe bytes", NULL, 0);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "text")),
	    "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
	json_decref(j);
	free(s);

	s = slack_update_body("C0GENERAL", "1767607210.000700", "Approved", NULL, 0);
	j = json_loads(s, 0, NULL);
	assert_int_equal(json_array_size(json_object_get(j, "blocks")), 0);
	assert_string_equal(json_string_value(json_object_get(j, "ts")), "1767607210.000700");
	json_decref(j);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_dedupe),
		cmocka_unit_test(test_bodies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
