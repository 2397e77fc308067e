#!/usr/bin/env python3
"""test_slack.py - the real ackbot binary on the Slack adapter, against the
fake Slack server: hello, acks within the deadline, replies in the thread,
entity decoding, own messages ignored, retried and redelivered envelopes run
once, a dropped connection and a refresh with nothing lost, 429 with ordered
delivery, long output split, malformed frames survived, confirmation
buttons, TLS with a test CA and an untrusted certificate, bad tokens and
link_disabled ending with status 3. Tokens never reach the log.

    python3 tests/integration/test_slack.py build/ackbot [name-filter...]
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check  # noqa: E402
from slack_harness import MENTION, FakeSlack, acked, main_or_skip, slack_bot  # noqa: E402

suite = TestSuite()


def no_tokens_logged(bot, fake):
    for line in bot.log:
        for k in ("bot_token", "app_token"):
            check(fake.info[k] not in line, "a token reached the log: %r" % line)


def stop(bot, fake, errors_allowed=()):
    rc = bot.stop()
    check(rc == 0, "exit status 0, got %r\n%s" % (rc, bot._describe()))
    no_tokens_logged(bot, fake)
    fake.assert_no_errors(errors_allowed)


def command(fake, text, **kw):
    """Injects a user message and checks every envelope was acked in time."""
    inj = fake.inject_message(text, **kw)
    for a in acked(fake, inj):
        check(not a["late"] and a["latency_ms"] < 3000, "acked in time: %r" % a)
    return inj


@suite.test
def test_reply_in_thread(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        bot.expect_log(r"slack: connected to Socket Mode")
        inj = command(fake, MENTION + " echo hi there")
        post = fake.wait_text(r"\nhi there\n")[0]
        check(post["channel"] == "C0GENERAL", "in the channel: %r" % post)
        check(post["thread_ts"] == inj["ts"], "threaded under the command: %r" % post)
        # a DM needs no mention
        inj = command(fake, "echo in private", channel="D0DM00001")
        post = fake.wait_text(r"\nin private\n")[0]
        check(post["channel"] == "D0DM00001", "answered in the DM: %r" % post)
        # a command in a thread is answered in that thread (its root)
        root = inj["ts"]
        command(fake, MENTION + " echo in the thread", thread_ts=root, channel="D0DM00001")
        post = fake.wait_text(r"\nin the thread\n")[0]
        check(post["thread_ts"] == root, "in the thread's root: %r" % post)
        # the prefix works without a mention
        command(fake, "!echo prefixed")
        fake.wait_text(r"\nprefixed\n")
        stop(bot, fake)


@suite.test
def test_entities_decoded(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        command(fake, MENTION + " echo a &lt;b&gt; &amp; <@U0HUMAN02> in <#C0RANDOM1|random> "
                "see <https://x.example/p|docs> <http://www.foo.com|www.foo.com>")
        post = fake.wait_posts(count=1)[0]
        want = ("\na &lt;b&gt; &amp; @bob in #random see docs (https://x.example/p) "
                "www.foo.com\n")
        check(want in post["text"], "decoded, then escaped for Slack: %r" % post["text"])
        stop(bot, fake)


@suite.test
def test_own_and_bot_messages_ignored(t):
    with FakeSlack() as fake:
        fake.ctl("config", {"echo_bot_messages": True, "echo_updates": True})
        bot = slack_bot(t, fake)
        # the reply starts with the prefix: answering it would loop
        command(fake, MENTION + " echo !echo again")
        fake.wait_text(r"\n!echo again\n")
        command(fake, "!echo from ci", subtype="bot_message")
        command(fake, MENTION + " echo marker")
        fake.wait_text(r"\nmarker\n")
        time.sleep(1)
        posts = fake.get("posts")
        check(len(posts) == 2, "only the two replies: %r" % [p["text"] for p in posts])
        stop(bot, fake)


@suite.test
def test_edits_and_deletes_ignored(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        inj = command(fake, "just chatting")
        fake.ctl("inject_edit", {"channel": "C0GENERAL", "ts": inj["ts"],
                                 "text": MENTION + " echo edited"})
        fake.ctl("inject_delete", {"channel": "C0GENERAL", "ts": inj["ts"]})
        command(fake, MENTION + " echo marker")
        fake.wait_text(r"\nmarker\n")
        time.sleep(0.5)
        check(len(fake.get("posts")) == 1, "edits and deletes do not run commands")
        stop(bot, fake)


@suite.test
def test_retried_envelope_runs_once(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        inj = command(fake, MENTION + " echo only once")
        fake.wait_text(r"\nonly once\n")
        # message + app_mention of one user message ran once; now the same
        # envelope again, and the same event in a new envelope
        env = inj["envelopes"][0]
        fake.ctl("redeliver", {"envelope_id": env["envelope_id"]})
        fake.wait("errors", 1, kind="ack_duplicate")   # acked again
        again = fake.ctl("inject_event", {"event_id": env["event_id"], "event": {
            "type": "message", "channel": "C0GENERAL", "channel_type": "channel",
            "user": "U0HUMAN01", "text": MENTION + " echo only once", "ts": inj["ts"]}})
        acked(fake, again)
        command(fake, MENTION + " echo marker")
        fake.wait_text(r"\nmarker\n")
        time.sleep(0.5)
        check(len(fake.posts_matching(r"\nonly once\n")) == 1, "ran once")
        stop(bot, fake, errors_allowed=("ack_duplicate",))


@suite.test
def test_missed_ack_retry_runs_once(t):
    # the first delivery goes to a dead (ghost) connection; the bot notices
    # (no pong) and reconnects; Slack's retry arrives there and runs once
    with FakeSlack(["--ack-timeout-ms", "500", "--retry-delays-ms", "[24000]"]) as fake:
        bot = slack_bot(t, fake)
        fake.ctl("drop", {"mode": "ghost"})
        fake.inject_message(MENTION + " echo survived", events=["message"])
        fake.wait_text(r"\nsurvived\n", timeout=60)
        acks = fake.wait("acks", 1)
        check(acks[0]["retry_attempt"] == 1, "the retry was acked: %r" % acks)
        time.sleep(0.5)
        check(len(fake.get("posts")) == 1, "ran once")
        bot.expect_log(r"websocket #1 closed")
        stop(bot, fake, errors_allowed=("ack_missing",))


@suite.test
def test_drop_loses_nothing(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        command(fake, MENTION + " echo before")
        fake.wait_text(r"\nbefore\n")
        fake.ctl("drop", {"mode": "reset"})
        # sent while the bot is away: delivered when it is back
        fake.inject_message(MENTION + " echo while away")
        fake.wait_text(r"\nwhile away\n")
        fake.ctl("drop", {"mode": "close", "code": 1011, "reason": "server restart"})
        fake.wait("connections", 3)
        command(fake, MENTION + " echo after")
        fake.wait_text(r"\nafter\n")
        check(len(fake.get("posts")) == 3, "one reply each")
        bot.expect_log(r"reconnected to Socket Mode")
        stop(bot, fake)


@suite.test
def test_refresh_handover(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        command(fake, MENTION + " echo one")
        fake.ctl("disconnect", {"reason": "refresh_requested", "close_after_ms": None})
        conns = fake.wait("connections", 1, state="closed")
        command(fake, MENTION + " echo two")
        fake.ctl("disconnect", {"reason": "warning", "close_after_ms": 10000})
        fake.wait("connections", 2, state="closed")
        command(fake, MENTION + " echo three")
        for w in ("one", "two", "three"):
            fake.wait_text(r"\n%s\n" % w)
        conns = fake.get("connections")
        check(len(conns) == 3, "one new connection per refresh: %r" % len(conns))
        for old, new in ((conns[0], conns[1]), (conns[1], conns[2])):
            check(old["closed_by"] == "client", "the bot closed the old one: %r" % old)
            check(new["hello_at"] <= old["closed_at"],
                  "the new one was up before the old one closed")
        stop(bot, fake)


@suite.test
def test_rate_limit_keeps_order_and_long_output_splits(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake, extra=["max_message_chars = 200"])
        fake.ctl("rate_limit", {"method": "chat.postMessage", "count": 1, "retry_after": 2})
        inj = command(fake, MENTION + " lines 40")
        fake.wait_text(r"line 40 of the output", timeout=30)
        posts = fake.get("posts")
        got = [ln for p in posts for ln in p["text"].split("\n") if ln.startswith("line ")]
        want = ["line %d of the output" % i for i in range(1, 41)]
        check(got == want, "every line, in order, once: %r" % got)
        check(len(posts) >= 4, "split in parts: %d" % len(posts))
        for p in posts:
            check(len(p["text"]) <= 200, "each part within the limit: %d" % len(p["text"]))
            check(p["thread_ts"] == inj["ts"], "all in the thread")
        calls = fake.get("calls", method="chat.postMessage")
        limited = [c for c in calls if c["status"] == 429]
        check(len(limited) == 1, "one 429: %r" % calls)
        after = [c for c in calls if c["status"] == 200]
        check(after[0]["at"] - limited[0]["at"] >= 1900,
              "waited for Retry-After: %d ms" % (after[0]["at"] - limited[0]["at"]))
        bot.expect_log(r"rate limited; waiting")
        stop(bot, fake)


@suite.test
def test_server_errors_retried(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        fake.ctl("fail", {"method": "chat.postMessage", "count": 2, "status": 503})
        command(fake, MENTION + " echo eventually")
        fake.wait_text(r"\neventually\n", timeout=30)
        check(len(fake.get("calls", method="chat.postMessage", status=503)) == 2, "two 503s")
        stop(bot, fake)


@suite.test
def test_malformed_frames_survived(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        for kind in ("non_json", "empty", "truncated", "binary", "json_array",
                     "unknown_type", "no_envelope_id"):
            fake.ctl("malformed", {"kind": kind})
        fake.ctl("inject_envelope", {"envelope": {"type": "events_api", "payload": {
            "event": {"type": "message", "text": "no channel \x1b[31m\nFORGED log line"}}}})
        command(fake, MENTION + " echo still here")
        fake.wait_text(r"\nstill here\n")
        check(len(fake.get("connections")) == 1, "the session went on")
        bot.expect_log(r"malformed frame ignored")
        for line in bot.log:
            check(not line.startswith("FORGED"), "log lines cannot be forged")
        stop(bot, fake)


@suite.test
def test_confirmation_buttons(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        command(fake, MENTION + " danger the thing")
        prompt = fake.wait_posts(count=1)[0]
        check(prompt["blocks"], "buttons: %r" % prompt)
        actions = [b for b in prompt["blocks"] if b["type"] == "actions"][0]
        values = [e["value"] for e in actions["elements"]]
        check(any(v.startswith("confirm:") for v in values), "an approve button: %r" % values)
        check(any(v.startswith("cancel:") for v in values), "a cancel button: %r" % values)
        confirm = [v for v in values if v.startswith("confirm:")][0]
        # bob clicking is bob, whatever the message says: not allowed
        fake.ctl("inject_click", {"value": confirm, "user": "U0HUMAN02"})
        time.sleep(1)
        check(not fake.posts_matching(r"danger done: the thing"), "bob cannot confirm")
        fake.ctl("inject_click", {"value": confirm, "user": "U0HUMAN01"})
        fake.wait_text(r"danger done: the thing")
        stop(bot, fake)


@suite.test
def test_help_and_typed_confirmation(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        bot.expect_log(r"slack: connected to Socket Mode")
        inj = command(fake, MENTION + " help")
        post = fake.wait_text(r"danger")[0]
        check("echo" in post["text"] and "Needs confirmation" in post["text"],
              "help lists the aliases with their descriptions: %r" % post["text"])
        check(post["thread_ts"] == inj["ts"], "help answers in the thread: %r" % post)
        # a typed confirmation: someone else's confirm is refused, the
        # requester's runs it once, a second confirm says it was used
        command(fake, MENTION + " danger typed")
        prompt = fake.wait_text(r"confirm ([0-9A-Z]{6})")[0]
        cid = re.search(r"confirm ([0-9A-Z]{6})", prompt["text"]).group(1)
        command(fake, MENTION + " confirm " + cid.lower(), user="U0HUMAN02")
        fake.wait_text(r"cannot confirm " + cid)
        check(not fake.posts_matching(r"danger done: typed"), "bob cannot confirm")
        command(fake, MENTION + " confirm " + cid)
        fake.wait_text(r"danger done: typed")
        command(fake, MENTION + " confirm " + cid)
        fake.wait_text(r"cannot confirm " + cid, count=2)
        check(len(fake.posts_matching(r"danger done: typed")) == 1, "ran exactly once")
        stop(bot, fake)


def make_certs(d):
    script = (
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout ca.key -out ca.pem -days 2 -subj '/CN=ackbot test CA' "
        "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
        " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout server.key -out server.csr -subj /CN=localhost"
        " && printf 'basicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n"
        "subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > server.ext"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile server.ext")
    subprocess.run(script, shell=True, cwd=d, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return [os.path.join(d, f) for f in ("ca.pem", "server.pem", "server.key")]


@suite.test
def test_tls_with_test_ca(t):
    ca, cert, key = make_certs(t.tmp)
    with FakeSlack(["--tls-cert", cert, "--tls-key", key]) as fake:
        check(fake.api.startswith("https://"), "the fake speaks https")
        bot = slack_bot(t, fake, extra=['ca_file = "%s"' % ca])
        command(fake, MENTION + " echo over tls")
        fake.wait_text(r"\nover tls\n")
        stop(bot, fake)


@suite.test
def test_untrusted_certificate_refused(t):
    _, cert, key = make_certs(t.tmp)
    with FakeSlack(["--tls-cert", cert, "--tls-key", key]) as fake:
        bot = slack_bot(t, fake, connect=False)
        rc = bot.wait_exit()
        check(rc == 1, "exit status 1, got %r" % rc)
        line = bot.expect_log(r"cannot verify the TLS certificate")
        check("ca_file" in line, "says what to do: %r" % line)
        check(not fake.get("connections"), "never connected")
        no_tokens_logged(bot, fake)


@suite.test
def test_bad_tokens_and_link_disabled_exit_3(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake, env={"SLACK_BOT_TOKEN": "xoxb-not-the-right-one"},
                        connect=False)
        check(bot.wait_exit() == 3, "exit status 3")
        line = bot.expect_log(r"auth.test refused the bot token")
        check("slack.bot_token" in line and "invalid_auth" in line, line)
        check("xoxb-not-the-right-one" not in "\n".join(bot.log), "the token is not logged")
    with FakeSlack() as fake:
        bot = slack_bot(t, fake, env={"SLACK_APP_TOKEN": "xapp-1-wrong"}, connect=False)
        check(bot.wait_exit() == 3, "exit status 3")
        bot.expect_log(r"apps.connections.open refused the app-level token \(slack.app_token\)")
        check("xapp-1-wrong" not in "\n".join(bot.log), "the token is not logged")
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        fake.ctl("disconnect", {"reason": "link_disabled"})
        check(bot.wait_exit() == 3, "exit status 3")
        bot.expect_log(r"link_disabled")
        no_tokens_logged(bot, fake)


@suite.test
def test_sigterm_closes_cleanly(t):
    with FakeSlack() as fake:
        bot = slack_bot(t, fake)
        command(fake, MENTION + " echo bye")
        fake.wait_text(r"\nbye\n")
        stop(bot, fake)
        conns = fake.get("connections")
        check(conns[-1]["closed_by"] == "client" and conns[-1]["close_code"] == 1000,
              "a clean Close 1000 from the bot: %r" % conns[-1])


main_or_skip(suite)
