#!/usr/bin/env python3
"""test_mattermost.py - the real ackbot on its Mattermost adapter against the
fake Mattermost: commands and threads, typed confirmations, resume and
replay, fresh connections, 429 and 5xx, long results, filters, malformed
frames, TLS, auth failure.

    python3 tests/integration/test_mattermost.py build/ackbot [name-filter...]
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mm_harness import (ALICE, BOB, BOT_ID, DM_ALICE, OPS, TOWN, MMSuite,  # noqa: E402
                        TestFailure, check, make_tls)

suite = MMSuite()


def sync(fake, word):
    """A round trip: a command and its reply, so that everything said
    before has been handled."""
    p = fake.inject("quiet %s" % word, mention=True)
    fake.expect_post(r"^%s$" % word, root_id=p["id"])


def runes(s):
    return len(s)   # Python str length is in code points


@suite.test
def test_help(t):
    fake = t.fake()
    bot = t.bot(fake)
    p = fake.inject("help", mention=True)
    m = fake.expect_post(r"Commands", root_id=p["id"], channel_id=TOWN)
    check("danger" in m["message"] and "echo" in m["message"], "lists the aliases: %r"
          % m["message"][:300])
    me = fake.ctl("calls?endpoint=get_me")
    check(me and me[0]["auth"] == "header", "users/me with the header token: %r" % me[:1])
    conns = fake.connections()
    check(len(conns) == 1 and conns[0]["auth"] == "header",
          "one websocket, authenticated on the upgrade: %r" % conns)
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_action_ack_and_result_in_thread(t):
    fake = t.fake()
    bot = t.bot(fake)
    p = fake.inject("echo hi there", mention=True)
    ack = fake.expect_post(r"^Running echo", root_id=p["id"], channel_id=TOWN)
    res = fake.expect_post(r"hi there", root_id=p["id"], channel_id=TOWN)
    check(ack["call_seq"] < res["call_seq"], "ack before result")
    # a command inside an existing thread answers in that thread
    root = fake.inject("a thread about something", user="bob")
    r = fake.inject("echo in the thread", mention=True, root_id=root["id"])
    fake.expect_post(r"succeeded.*in the thread", root_id=root["id"])
    check(r["root_id"] == root["id"], "injected as a reply")
    # a DM needs no mention
    d = fake.inject("echo direct", channel="@alice")
    fake.expect_post(r"succeeded.*direct", channel_id=DM_ALICE, root_id=d["id"])
    # the prefix works without a mention; a plain message is not for the bot
    q = fake.inject("!quiet prefixed", channel="ops")
    fake.expect_post(r"^prefixed$", channel_id=OPS, root_id=q["id"])
    fake.inject("quiet not for the bot", channel="ops")
    # @ackbot after the command addresses the bot too, and is removed
    m = fake.inject("quiet middle @ackbot", channel="ops")
    fake.expect_post(r"^middle$", channel_id=OPS, root_id=m["id"])
    fake.expect_no_post(r"not for the bot")
    # someone unknown is a guest, who may run it too (policy allow)
    c = fake.inject("quiet from carol", user="carol", mention=True)
    fake.expect_post(r"from carol", root_id=c["id"])
    check(bot.stop() == 0, "exit status 0")


def ask(fake, text, user="alice"):
    p = fake.inject(text, user=user, mention=True)
    m = fake.expect_post(r"needs confirmation", root_id=p["id"])
    cid = re.search(r"confirm ([0-9A-Z]{6})", m["message"])
    check(cid, "the prompt names an id: %r" % m["message"])
    return p, cid.group(1)


@suite.test
def test_typed_confirmation(t):
    fake = t.fake()
    bot = t.bot(fake)
    p, cid = ask(fake, "danger prod")
    fake.expect_no_post(r"danger done", settle=0.5)
    fake.inject("confirm %s" % cid, mention=True, root_id=p["id"])
    fake.expect_post(r"danger done: prod", root_id=p["id"])
    # a DM confirmation, typed without the mention
    d = fake.inject("danger dm", channel="@alice")
    m = fake.expect_post(r"needs confirmation", channel_id=DM_ALICE)
    cid2 = re.search(r"confirm ([0-9A-Z]{6})", m["message"]).group(1)
    fake.inject("confirm %s" % cid2, channel="@alice", root_id=d["id"])
    fake.expect_post(r"danger done: dm", channel_id=DM_ALICE)
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_someone_else_cannot_confirm(t):
    fake = t.fake()
    bot = t.bot(fake)
    p, cid = ask(fake, "danger stuff")
    fake.inject("confirm %s" % cid, user="bob", mention=True, root_id=p["id"])
    m = fake.expect_post(r"cannot confirm %s" % cid, root_id=p["id"])
    check(m["message"].startswith("bob"), "tells bob: %r" % m["message"])
    fake.expect_no_post(r"danger done")
    fake.inject("confirm %s" % cid, mention=True, root_id=p["id"])
    fake.expect_post(r"danger done: stuff")
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_confirmation_expires(t):
    fake = t.fake()
    bot = t.bot(fake)
    p, cid = ask(fake, "hurry up")
    m = fake.expect_post(r"confirmation %s for hurry expired" % cid, root_id=p["id"])
    check("Nothing ran" in m["message"], "nothing ran: %r" % m["message"])
    fake.inject("confirm %s" % cid, mention=True, root_id=p["id"])
    fake.expect_post(r"cannot confirm %s" % cid)
    fake.expect_no_post(r"hurry done")
    check(bot.stop() == 0, "exit status 0")


def count_posts(fake, pattern):
    rx = re.compile(pattern, re.S)
    return sum(1 for p in fake.posts() if rx.search(p["message"]))


@suite.test
def test_drop_resume_replay_exactly_once(t):
    fake = t.fake()
    bot = t.bot(fake, level="debug")     # debug: the token must stay out of it too
    sync(fake, "before")
    # 1. ghost: the fake keeps writing events to its dead queue only, then
    # resets the socket; the bot resumes and the server replays them.
    fake.ctl("drop", {"mode": "ghost"})
    b1 = fake.inject("quiet ghost-one", mention=True)
    b2 = fake.inject("quiet ghost-two", mention=True)
    fake.ctl("drop", {"mode": "reset"})
    fake.expect_post(r"^ghost-one$", root_id=b1["id"])
    fake.expect_post(r"^ghost-two$", root_id=b2["id"])
    conns = fake.wait_connections(2)
    second = [c for c in conns if c["id"] == max(x["id"] for x in conns)][0]
    check(second["resume_requested"] and second["resume_result"] == "replayed",
          "the second socket resumed with a replay: %r" % second)
    check(not second["hello_sent"], "no new hello on a resume")
    bot.expect_log(r"resuming connection \S+ from event \d+")
    # 2. reset, then events while the bot is away: queued and delivered on resume
    fake.ctl("drop", {"mode": "reset"})
    c1 = fake.inject("quiet away-one", mention=True)
    fake.expect_post(r"^away-one$", root_id=c1["id"])
    conns = fake.wait_connections(3)
    third = [c for c in conns if c["id"] == max(x["id"] for x in conns)][0]
    check(third["resume_requested"] and third["resume_result"] in ("lossless", "replayed"),
          "the third socket resumed: %r" % third)
    # 3. the same post delivered again (as a replay would): runs once
    stored = fake.ctl("messages?id=%s" % b1["id"])[0]
    post = {k: stored[k] for k in ("id", "create_at", "update_at", "edit_at", "delete_at",
                                   "user_id", "channel_id", "root_id", "message", "type",
                                   "props") if k in stored}
    fake.ctl("inject_event", {"event": "posted", "data": {
        "post": json.dumps(post), "channel_type": "O", "channel_name": "town-square",
        "channel_display_name": "Town Square", "sender_name": "@alice", "team_id": "",
        "set_online": True}, "broadcast": {"channel_id": TOWN}})
    bot.expect_log(r"post %s already handled" % b1["id"])
    sync(fake, "after")
    for word in ("ghost-one", "ghost-two", "away-one", "before", "after"):
        check(count_posts(fake, r"^%s$" % word) == 1, "%s answered exactly once" % word)
    check(bot.count_log(r"may have been missed") == 0, "nothing reported missed")
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_fresh_connection_and_seq_gap(t):
    fake = t.fake()
    bot = t.bot(fake)
    sync(fake, "one")
    old = fake.connections()[0]["connection_id"]
    fake.ctl("forget_connections", {})
    i = bot.expect_log(r"started a new connection .*may have been missed")
    check(old in bot.log[i], "names the old id: %s" % bot.log[i])
    sync(fake, "two")
    # a gap in seq: logged, reconnect and resume; the server cannot replay
    # the skipped numbers, so it starts a new connection
    fake.ctl("force_gap", {"count": 2})
    bot.expect_log(r"events missing on connection \S+: expected \d+, got \d+")
    bot.expect_log(r"started a new connection", start=i + 1)
    sync(fake, "three")
    check(bot.stop() == 0, "exit status 0")


def line_numbers(messages):
    nums = []
    for m in messages:
        nums.extend(int(x) for x in re.findall(r"^(\d{5}) ", m, re.M))
    return nums


@suite.test
def test_429_and_5xx_keep_order(t):
    fake = t.fake()
    bot = t.bot(fake)
    sync(fake, "warm")
    fake.ctl("rate_limit", {"endpoint": "create_post", "count": 3, "retry_after": 1})
    p = fake.inject("wide 900", mention=True)
    deadline = time.monotonic() + 30
    while True:
        parts = [x for x in fake.posts() if x["root_id"] == p["id"]]
        nums = line_numbers(x["message"] for x in sorted(parts, key=lambda x: x["call_seq"]))
        if len(nums) >= 900 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(len(parts) >= 3, "the result was split: %d parts" % len(parts))
    check(nums == list(range(900)), "every line once, in order (got %d lines)" % len(nums))
    limited = fake.ctl("calls?endpoint=create_post&status=429")
    check(len(limited) == 3, "three 429s: %d" % len(limited))
    bot.expect_log(r"rate limited; waiting 1000 ms")
    # 5xx: retried with backoff, order kept
    fake.ctl("fail", {"endpoint": "create_post", "count": 2, "status": 503})
    a = fake.inject("echo after the outage", mention=True)
    ack = fake.expect_post(r"^Running echo", root_id=a["id"])
    res = fake.expect_post(r"after the outage", root_id=a["id"])
    check(ack["call_seq"] < res["call_seq"], "ack before result")
    bot.expect_log(r"HTTP 503 api\.fake\.injected_failure.*retrying in \d+ ms")
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_long_result_split_at_the_limit(t):
    fake = t.fake()
    bot = t.bot(fake)
    p = fake.inject("wide 800", mention=True)
    deadline = time.monotonic() + 30
    while True:
        parts = sorted((x for x in fake.posts() if x["root_id"] == p["id"]),
                       key=lambda x: x["call_seq"])
        nums = line_numbers(x["message"] for x in parts)
        if len(nums) >= 800 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    check(nums == list(range(800)), "all 800 lines, in order (%d)" % len(nums))
    sizes = [runes(x["message"]) for x in parts]
    check(len(parts) >= 2, "split: %r" % sizes)
    check(max(sizes) <= 16383, "every part within 16383 code points: %r" % sizes)
    check(max(sizes) > 12000, "parts are filled up to near the limit: %r" % sizes)
    big = max(len(x["message"].encode()) for x in parts)
    check(big > 16383, "the limit is in code points, not bytes (%d bytes)" % big)
    check("日本語" in parts[0]["message"], "multi-byte text intact")
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_own_bot_system_and_edited_posts_ignored(t):
    fake = t.fake()
    bot = t.bot(fake, level="debug")
    p = fake.inject("echo once", mention=True)
    fake.expect_post(r"succeeded.*once", root_id=p["id"])
    bot.expect_log(r"ignored: own post")
    # the bot itself, another bot, a webhook, a system message, an edit
    fake.inject("@ackbot quiet from myself", user="ackbot")
    fake.inject("quiet from cibot", user="cibot", mention=True)
    fake.inject("quiet from a hook", user="bob", mention=True, from_webhook=True)
    fake.inject("", type="system_join_channel", user="bob")
    fake.ctl("inject_edit", {"post_id": p["id"], "message": "@ackbot quiet edited"})
    sync(fake, "sync")
    fake.expect_no_post(r"from myself|from cibot|from a hook|edited", settle=0.5)
    check(bot.count_log(r"ignored: from a bot") >= 2, "bots ignored")
    check(bot.count_log(r"ignored: system post") == 1, "system post ignored")
    check(count_posts(fake, r"succeeded.*once") == 1, "no loop on the bot's own posts")
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_malformed_frames_are_survived(t):
    fake = t.fake()
    bot = t.bot(fake)
    kinds = ["non_json", "empty", "truncated", "binary", "json_array", "reply_unknown_seq",
             "no_seq", "unknown_event", "post_not_json"]
    for k in kinds:
        fake.ctl("malformed", {"kind": k})
    fake.ctl("malformed", {"kind": "raw", "frame": "{\"event\":\"posted\",\"seq\":\x01"})
    sync(fake, "still-here")
    check(bot.count_log(r"mattermost: (malformed frame|binary frame|event \S+ without a seq"
                        r"|posted event \d+ skipped)") >= 6, "bad frames logged")
    check(len(fake.connections()) == 1, "the session went on on the same connection")
    for line in bot.log:
        check("\x01" not in line, "log lines are escaped: %r" % line)
    check(bot.stop() == 0, "exit status 0")


@suite.test
def test_tls_with_private_ca(t):
    ca, crt, key = make_tls(t.tmp, "localhost")
    fake = t.fake("--tls-cert", crt, "--tls-key", key)
    url = fake.url.replace("127.0.0.1", "localhost")
    check(url.startswith("https://"), "the fake serves https: %s" % url)
    fake.url = url
    bot = t.bot(fake, extra='ca_file = "%s"' % ca)
    p = fake.inject("quiet over tls", mention=True)
    fake.expect_post(r"^over tls$", root_id=p["id"])
    check(bot.stop() == 0, "exit status 0")
    # without the CA: refused, with a clear message, and the bot ends
    bad = t.bot(fake, wait=False)
    rc = bad.wait_exit()
    check(rc != 0, "non-zero exit without the CA: %d" % rc)
    bad.expect_log(r"cannot connect to https://localhost:\d+ securely: .*certificate.*ca_file")


@suite.test
def test_bad_token_ends_the_bot(t):
    fake = t.fake()
    bot = t.bot(fake, token="wrongtoken0000000000000000", wait=False)
    rc = bot.wait_exit()
    check(rc != 0, "non-zero exit: %d" % rc)
    bot.expect_log(r"refused the bot token \(HTTP 401 api\.context\.session_expired\.app_error")
    check(len(fake.connections()) == 0, "no websocket opened with a bad token")
    fake.ctl("reset", {})       # the 401 is recorded as a client error: expected here


if __name__ == "__main__":
    suite.main()
