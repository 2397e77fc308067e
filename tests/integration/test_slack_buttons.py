#!/usr/bin/env python3
"""test_slack_buttons.py - the confirmation buttons on Slack once decided:
the real ackbot binary against the fake Slack. After a confirmation is
decided (approved by a click or typed, canceled, denied, expired, dropped at
shutdown), chat.update replaces the prompt message (same ts) with a text that
keeps what was asked and says the outcome and who decided, without buttons.
A partial approval lists the approvals so far and keeps the buttons. A click
that is refused (someone else's confirmation) changes nothing: the buttons
stay and a reply says why. Also: a decision made before the prompt's post
has come back, and a prompt split into several messages (the buttons and the
update are on the last one).

    python3 tests/integration/test_slack_buttons.py build/ackbot [name-filter...]
"""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, TestFailure, check  # noqa: E402
from slack_harness import MENTION, FakeSlack, acked, main_or_skip, slack_bot  # noqa: E402

suite = TestSuite()
CONFIG = "slack_buttons.toml"


def start(t, fake, extra=None):
    return slack_bot(t, fake, extra=extra, config=CONFIG)


def stop(bot, fake):
    rc = bot.stop()
    check(rc == 0, "exit status 0, got %r\n%s" % (rc, bot._describe()))
    for line in bot.log:
        for k in ("bot_token", "app_token"):
            check(fake.info[k] not in line, "a token reached the log: %r" % line)
    fake.assert_no_errors()


def command(fake, text, user="U0HUMAN01", **kw):
    inj = fake.inject_message(MENTION + " " + text, user=user, **kw)
    acked(fake, inj)
    return inj


def button_values(msg):
    acts = [b for b in (msg.get("blocks") or []) if b.get("type") == "actions"]
    return [e["value"] for a in acts for e in a["elements"]]


def ran(fake, what):
    """Posts showing the output of an action (in a code block, unlike the
    prompt, which shows the command line)."""
    return fake.posts_matching(r"```\n" + what)


def prompt(fake, alias, count=1):
    """Waits for the count-th prompt of alias; returns (post, confirmation id)."""
    p = fake.wait_text(r"%s needs confirmation" % alias, count=count)[count - 1]
    m = re.search(r"confirm ([0-9A-Z]{6})", p["text"])
    check(m, "the prompt names an id: %r" % p["text"])
    check(button_values(p), "the prompt has buttons: %r" % p)
    return p, m.group(1)


def click(fake, value, user, post=None):
    """A click on the button with this value (on post, even if the button
    is gone from it by now)."""
    body = {"value": value, "user": user}
    if post is not None:
        body.update(force=True, channel=post["channel"], message_ts=post["ts"])
    r = fake.ctl("inject_click", body)
    acked(fake, {"envelopes": [{"envelope_id": r["envelope_id"]}]})
    return r


def wait_update(fake, post, count=1):
    """The count-th update of post (same channel and ts)."""
    ups = fake.wait("updates", count, channel=post["channel"], ts=post["ts"])
    return ups[count - 1]


def stored(fake, post):
    """The message as the fake holds it now."""
    got = fake.get("messages", channel=post["channel"], ts=post["ts"])
    check(len(got) == 1, "one stored message: %r" % got)
    return got[0]


def check_final(u, *words):
    check(not u["blocks"], "the buttons are gone: %r" % u)
    for w in words:
        check(w in u["text"], "%r in the updated prompt: %r" % (w, u["text"]))


@suite.test
def test_click_confirm_replaces_buttons(t):
    with FakeSlack() as fake:
        bot = start(t, fake)
        command(fake, "danger the thing")
        p, cid = prompt(fake, "danger")
        # bob clicks alice's Approve: refused, nothing changes
        click(fake, "confirm:%s" % cid, "U0HUMAN02")
        r = fake.wait_text(r"bob: cannot confirm %s: only alice" % cid)[0]
        check(r["channel"] == p["channel"], "the refusal is in the channel: %r" % r)
        time.sleep(1)
        check(fake.get("updates") == [], "a refused click changes nothing: %r"
              % fake.get("updates"))
        check(button_values(stored(fake, p)), "the buttons stay")
        check(not ran(fake, "danger done"), "nothing ran")
        # alice clicks: it runs, and the prompt says so, without buttons
        click(fake, "confirm:%s" % cid, "U0HUMAN01")
        fake.wait_text(r"danger done: the thing")
        u = wait_update(fake, p)
        check_final(u, "Approved by alice", "running c1", "alice asked for danger (%s)" % cid,
                    "/bin/echo 'danger done:' 'the thing'")
        check(not stored(fake, p).get("blocks"), "the stored message has no buttons")
        # the old button again: said what happened, nothing else changes
        click(fake, "confirm:%s" % cid, "U0HUMAN01", post=p)
        fake.wait_text(r"alice: cannot confirm %s: it was already confirmed" % cid)
        time.sleep(0.5)
        check(len(fake.get("updates")) == 1, "one update: %r" % fake.get("updates"))
        check(len(ran(fake, "danger done")) == 1, "ran once")
        stop(bot, fake)


@suite.test
def test_click_cancel_replaces_buttons(t):
    with FakeSlack() as fake:
        bot = start(t, fake)
        command(fake, "danger x")
        p, cid = prompt(fake, "danger")
        click(fake, "cancel:%s" % cid, "U0HUMAN01")
        fake.wait_text(r"Canceled %s \(danger\)\. Nothing ran\." % cid)
        u = wait_update(fake, p)
        check_final(u, "Canceled by alice", "nothing ran", "/bin/echo 'danger done:' x")
        check(not ran(fake, "danger done"), "nothing ran")
        stop(bot, fake)


@suite.test
def test_expiry_replaces_buttons(t):
    with FakeSlack() as fake:
        bot = start(t, fake)
        command(fake, "hurry y")
        p, cid = prompt(fake, "hurry")
        fake.wait_text(r"confirmation %s for hurry expired" % cid)
        u = wait_update(fake, p)
        check_final(u, "Expired after 1s", "nothing ran", "alice asked for hurry")
        click(fake, "confirm:%s" % cid, "U0HUMAN01", post=p)      # too late
        fake.wait_text(r"alice: cannot confirm %s: it was already expired" % cid)
        time.sleep(0.5)
        check(len(fake.get("updates")) == 1, "one update: %r" % fake.get("updates"))
        check(not ran(fake, "hurry done"), "nothing ran")
        stop(bot, fake)


@suite.test
def test_quorum_progress_then_outcome(t):
    with FakeSlack() as fake:
        bot = start(t, fake)
        command(fake, "deploy web", user="U0HUMAN02")
        p, cid = prompt(fake, "deploy")
        vals = button_values(p)
        check("deny:%s" % cid in vals, "a Deny button with approvers: %r" % vals)
        click(fake, "confirm:%s" % cid, "U0HUMAN02")     # self-approval refused
        fake.wait_text(r"bob: cannot confirm %s: you asked for it" % cid)
        time.sleep(0.5)
        check(fake.get("updates") == [], "a refused click changes nothing")
        click(fake, "confirm:%s" % cid, "U0HUMAN01")
        fake.wait_text(r"alice approved %s \(deploy\): 1 of 2" % cid)
        u1 = wait_update(fake, p, 1)
        check("Approved so far by alice: 1 of 2" in u1["text"], "lists the approvals: %r"
              % u1["text"])
        check("deny:%s" % cid in button_values(u1), "the buttons stay: %r" % u1)
        check("needs confirmation" in u1["text"], "the prompt is kept: %r" % u1["text"])
        click(fake, "confirm:%s" % cid, "U0HUMAN03")
        fake.wait_text(r"deployed web for bob")
        u2 = wait_update(fake, p, 2)
        check_final(u2, "Approved by alice, carol", "running c1", "bob asked for deploy")
        # a second request, turned down by an approver's Deny button
        command(fake, "deploy api", user="U0HUMAN02")
        p2, cid2 = prompt(fake, "deploy", count=2)
        click(fake, "deny:%s" % cid2, "U0HUMAN03")
        fake.wait_text(r"carol denied %s" % cid2)
        u3 = wait_update(fake, p2)
        check_final(u3, "Denied by carol", "nothing ran")
        check(not ran(fake, "deployed api"), "nothing ran")
        stop(bot, fake)


def audit_confirm_id(t, alias):
    deadline = time.monotonic() + 20
    path = os.path.join(t.tmp, "audit.jsonl")
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                for line in f:
                    a = json.loads(line)
                    if a["event"] == "confirmation_asked" and a.get("alias") == alias:
                        return a["confirm_id"]
        time.sleep(0.05)
    raise TestFailure("no confirmation_asked in the audit log")


@suite.test
def test_decided_before_the_prompt_was_posted(t):
    with FakeSlack() as fake:
        bot = start(t, fake)
        # the prompt's chat.postMessage is answered 2 s late; meanwhile the
        # requester cancels by typing the id (read from the audit log)
        fake.ctl("fail", {"method": "chat.postMessage", "delay_ms": 2000})
        command(fake, "danger early")
        cid = audit_confirm_id(t, "danger")
        command(fake, "cancel %s" % cid)
        p, _ = prompt(fake, "danger")
        fake.wait_text(r"Canceled %s \(danger\)" % cid)
        u = wait_update(fake, p)
        check_final(u, "Canceled by alice", "nothing ran")
        check(len(fake.get("updates")) == 1, "one update")
        stop(bot, fake)


@suite.test
def test_prompt_in_several_messages(t):
    with FakeSlack() as fake:
        bot = start(t, fake, extra=["max_message_chars = 200"])
        words = " ".join("word%03d" % i for i in range(60))     # ~480 characters
        command(fake, "long %s" % words)
        fake.wait_text(r"Reply `!confirm")
        posts = fake.get("posts")
        check(len(posts) >= 3, "the prompt is split: %r" % [p["text"] for p in posts])
        with_buttons = [p for p in posts if button_values(p)]
        check(len(with_buttons) == 1 and with_buttons[0]["ts"] == posts[-1]["ts"],
              "buttons on the last part only: %r" % posts)
        last = posts[-1]
        cid = re.search(r"confirm:([0-9A-Z]{6})", " ".join(button_values(last))).group(1)
        click(fake, "confirm:%s" % cid, "U0HUMAN01")
        fake.wait_text(r"long done")
        u = wait_update(fake, last)
        check_final(u, "Approved by alice")
        check(len(u["text"]) <= 200, "the update fits the limit: %d" % len(u["text"]))
        print("NOTE the last part, updated: %r" % u["text"], flush=True)
        ups = fake.get("updates")
        check(len(ups) == 1 and ups[0]["ts"] == last["ts"], "only the last part: %r" % ups)
        stop(bot, fake)


@suite.test
def test_dropped_at_shutdown(t):
    with FakeSlack() as fake:
        bot = start(t, fake)
        command(fake, "danger z")
        p, cid = prompt(fake, "danger")
        check(bot.stop() == 0, "exit status 0\n%s" % bot._describe())
        fake.wait_text(r"confirmation %s for danger was dropped" % cid)
        u = wait_update(fake, p)
        check_final(u, "Dropped: the bot is shutting down", "nothing ran")
        fake.assert_no_errors()


if __name__ == "__main__":
    main_or_skip(suite)
