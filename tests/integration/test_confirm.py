#!/usr/bin/env python3
"""test_confirm.py - confirmations on the console: confirm in time, expiry,
someone else trying, cancel, single use, approvers, channel rule, pending.

    python3 tests/integration/test_confirm.py build/ackbot [name-filter...]
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check  # noqa: E402

suite = TestSuite()


def ask(bot, command, alias):
    """Sends a command that needs confirmation; returns (prompt, id)."""
    bot.send(command)
    m = bot.expect(r"%s needs confirmation" % alias)
    cid = re.search(r"confirm ([0-9A-Z]{6})", m["text"])
    check(cid, "the prompt names an id: %r" % m["text"])
    return m, cid.group(1)


@suite.test
def test_confirm_in_time_runs(t):
    bot = t.bot("basic.toml")
    prompt, cid = ask(bot, "!danger the thing", "danger")
    check("/bin/echo 'danger done:' 'the thing'" in prompt["text"],
          "says exactly what will run: %r" % prompt["text"])
    check("1m" in prompt["text"], "says how long: %r" % prompt["text"])
    check("!cancel %s" % cid in prompt["text"], "says how to cancel: %r" % prompt["text"])
    bot.expect_none(r"danger done", settle=0.5)
    bot.send("!confirm %s" % cid.lower())        # ids are read case-insensitively
    bot.expect(r"^Running danger")
    bot.expect(r"danger done: the thing")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_expiry_tells_the_requester(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!hurry up", "hurry")
    m = bot.expect(r"confirmation %s for hurry expired" % cid)
    check("Nothing ran" in m["text"] and m["text"].startswith("alice"),
          "tells the requester nothing ran: %r" % m["text"])
    bot.send("!confirm %s" % cid)
    m = bot.expect(r"cannot confirm %s" % cid)
    check("expired" in m["text"], "a late confirm says it expired: %r" % m["text"])
    bot.expect_none(r"hurry done")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_someone_else_cannot_confirm(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!danger stuff", "danger")
    bot.send("/as bob")
    bot.send("!confirm %s" % cid)
    m = bot.expect(r"bob: cannot confirm %s" % cid)
    check("alice" in m["text"], "says who may: %r" % m["text"])
    bot.send("!cancel %s" % cid)
    bot.expect(r"bob: cannot cancel %s" % cid)
    bot.expect_none(r"danger done")
    bot.send("/as alice")
    bot.send("!confirm %s" % cid)
    bot.expect(r"danger done: stuff")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_cancel_withdraws(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!danger cancelme", "danger")
    bot.send("!cancel %s" % cid)
    m = bot.expect(r"Canceled %s" % cid)
    check("Nothing ran" in m["text"], "says nothing ran: %r" % m["text"])
    bot.send("!confirm %s" % cid)
    m = bot.expect(r"cannot confirm %s" % cid)
    check("canceled" in m["text"], "after cancel, confirm says canceled: %r" % m["text"])
    bot.expect_none(r"danger done")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_single_use(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!danger once", "danger")
    bot.send("!confirm %s" % cid)
    bot.expect(r"danger done: once")
    bot.send("!confirm %s" % cid)
    m = bot.expect(r"cannot confirm %s" % cid)
    check("already confirmed" in m["text"], "second confirm is refused: %r" % m["text"])
    bot.sync()
    ran = [p for p in bot.posts() if "danger done: once" in p["text"]]
    check(len(ran) == 1, "ran exactly once: %d" % len(ran))
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_same_channel_only(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!danger here", "danger")
    bot.send("/channel elsewhere")
    bot.send("!confirm %s" % cid)
    m = bot.expect(r"cannot confirm %s" % cid, channel="elsewhere")
    check("channel" in m["text"], "says why: %r" % m["text"])
    bot.send("/channel console")
    bot.send("!confirm %s" % cid)
    bot.expect(r"danger done: here", channel="console")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_approvers(t):
    bot = t.bot("basic.toml")
    bot.send("/as bob")
    prompt, cid = ask(bot, "!approve release", "approve")
    check("sre" in prompt["text"], "names the approvers: %r" % prompt["text"])
    bot.send("!confirm %s" % cid)       # bob may not approve his own
    m = bot.expect(r"bob: cannot confirm %s" % cid)
    bot.send("/as alice")
    bot.send("!pending")
    m = bot.expect(r"Waiting for your approval")
    check(cid in m["text"], "alice sees it awaiting her approval: %r" % m["text"])
    bot.send("!confirm %s" % cid)
    bot.expect(r"approved run: release")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_approver_can_turn_down(t):
    bot = t.bot("basic.toml")
    bot.send("/as bob")
    _, cid = ask(bot, "!approve nope", "approve")
    bot.send("/as carol")
    bot.send("!cancel %s" % cid)
    m = bot.expect(r"carol denied %s" % cid)
    check("Nothing ran" in m["text"], "nothing ran: %r" % m["text"])
    bot.expect_none(r"approved run")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_pending_lists_own(t):
    bot = t.bot("basic.toml")
    _, a = ask(bot, "!danger one", "danger")
    _, b = ask(bot, "!danger two", "danger")
    bot.send("/as bob")
    _, c = ask(bot, "!danger bobs", "danger")
    bot.send("!pending")
    m = bot.expect(r"Waiting for your confirmation")
    check(c in m["text"] and a not in m["text"] and b not in m["text"],
          "bob sees only his: %r" % m["text"])
    bot.send("/as alice")
    bot.send("!pending")
    m = bot.expect(r"Waiting for your confirmation")
    check(a in m["text"] and b in m["text"] and c not in m["text"],
          "alice sees hers: %r" % m["text"])
    bot.send("/as carol")
    bot.send("!pending")
    bot.expect(r"nothing is pending for you")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_button_clicks_follow_the_same_rules(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!danger clicked", "danger")
    bot.send("/as bob")
    bot.send("/click confirm:%s" % cid)     # not bob's to confirm
    bot.expect(r"bob: cannot confirm %s" % cid)
    bot.send("/as alice")
    bot.send("/click confirm:%s" % cid)
    bot.expect(r"danger done: clicked")
    bot.send("/click confirm:%s" % cid)     # an old button: single use
    m = bot.expect(r"cannot confirm %s" % cid)
    check("already confirmed" in m["text"], "old button refused: %r" % m["text"])
    _, c2 = ask(bot, "!danger dropped", "danger")
    bot.send("/click cancel:%s" % c2)
    bot.expect(r"Canceled %s" % c2)
    bot.expect_none(r"danger done: dropped")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_eof_drops_pending_with_a_note(t):
    bot = t.bot("basic.toml")
    _, cid = ask(bot, "!danger later", "danger")
    rc = bot.finish()
    m = bot.expect(r"confirmation %s for danger was dropped" % cid)
    check("Nothing ran" in m["text"], "note says nothing ran: %r" % m["text"])
    check(rc == 0, "exit status 0")


@suite.test
def test_audit_of_confirmations(t):
    bot = t.bot("basic.toml")
    _, a = ask(bot, "!danger yes", "danger")
    bot.send("!confirm %s" % a)
    bot.expect(r"danger done: yes")
    _, b = ask(bot, "!danger no", "danger")
    bot.send("!cancel %s" % b)
    bot.expect(r"Canceled %s" % b)
    _, c = ask(bot, "!hurry late", "hurry")
    bot.expect(r"%s for hurry expired" % c)
    bot.send("/as bob")
    bot.send("!confirm %s" % a)
    bot.expect(r"cannot confirm")
    check(bot.finish() == 0, "exit status 0")
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    by = {}
    for ln in lines:
        by.setdefault(ln["event"], []).append(ln)
    for e in ("confirmation_asked", "confirmed", "canceled", "expired", "refused", "started",
              "finished"):
        check(e in by, "audit has %s: %r" % (e, sorted(by)))
    check(any(ln.get("confirm_id") == a for ln in by["confirmed"]), "confirmed names the id")
    check(any(ln.get("confirm_id") == c for ln in by["expired"]), "expired names the id")


if __name__ == "__main__":
    suite.main()
