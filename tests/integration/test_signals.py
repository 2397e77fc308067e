#!/usr/bin/env python3
"""test_signals.py - SIGHUP reload (valid and invalid config), SIGTERM with
actions running (grace, then cancel), SIGINT, and end of input.

    python3 tests/integration/test_signals.py build/ackbot [name-filter...]
"""
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check, render_config  # noqa: E402

suite = TestSuite()


def ask_id(bot, command, alias):
    import re
    bot.send(command)
    m = bot.expect(r"%s needs confirmation" % alias)
    return re.search(r"confirm ([0-9A-Z]{6})", m["text"]).group(1)


@suite.test
def test_sighup_valid_config_swaps(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "30s"})
    bot.send("!echo before")
    bot.expect(r"old: before")
    gone = ask_id(bot, "!danger x", "danger")
    kept = ask_id(bot, "!keep y", "keep")
    bot.send("!slow 2")
    bot.expect(r"^Running slow \(c\d+\)")
    # rewrite the file in place, then SIGHUP
    new = render_config("signals_reloaded.toml", t.tmp, {"@GRACE@": "30s"})
    shutil.copyfile(new, bot.config)
    bot.signal(signal.SIGHUP)
    bot.expect_log(r"reloaded .*configuration generation 2")
    m = bot.expect(r"confirmation %s for danger was dropped" % gone)
    check("reload" in m["text"], "says why: %r" % m["text"])
    bot.send("!echo after")
    bot.expect(r"new: after")
    bot.send("!fresh")
    bot.expect(r"fresh alias")
    # the running action keeps its (now removed) alias until it ends
    r = bot.expect(r"^slow \(c\d+\) succeeded")
    check("slept 2" in r["text"], "old alias finished normally: %r" % r["text"])
    bot.send("!slow 1")
    bot.expect(r"I don't know")
    # a confirmation for an alias that still exists survives
    bot.send("!confirm %s" % kept)
    bot.expect(r"keep done: y")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_sighup_invalid_config_keeps_running(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "30s"})
    kept = ask_id(bot, "!danger z", "danger")
    with open(bot.config, "a") as f:
        f.write("\n[[alias]]\nname = \"broken\"\nformats = [\"broken\"]\nbogus_key = 1\n")
    bot.signal(signal.SIGHUP)
    line = bot.expect_log(r"reload failed")
    check("still running configuration generation 1" in line, "keeps the old one: %r" % line)
    bot.expect_log(r"signals\.toml:\d+:\d+: error: .*bogus_key")
    bot.send("!echo still")
    bot.expect(r"old: still")
    bot.send("!confirm %s" % kept)
    bot.expect(r"danger done: z")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_sigterm_waits_for_running_action(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "30s"})
    bot.send("!slow 2")
    bot.expect(r"^Running slow \(c1\)")
    bot.signal(signal.SIGTERM)
    m = bot.expect(r"^Shutting down: slow \(c1\) is still running")
    check("30s" in m["text"], "says how long it waits: %r" % m["text"])
    bot.send("!echo too late")
    bot.expect(r"shutting down and not taking new commands")
    bot.expect(r"^slow \(c1\) succeeded")
    check(bot.wait_exit() == 0, "exit status 0")
    bot.expect_none(r"old: too late", settle=0)


@suite.test
def test_sigterm_cancels_after_grace(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "1s"})
    bot.send("!slow 120")
    bot.expect(r"^Running slow \(c1\)")
    bot.signal(signal.SIGTERM)
    bot.expect(r"^Shutting down: slow \(c1\) is still running")
    m = bot.expect(r"^slow \(c1\) canceled")
    check(bot.wait_exit() == 0, "exit status 0")
    bot.expect_log(r"grace period over")


@suite.test
def test_sigterm_idle_exits_at_once(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "30s"})
    pid = ask_id(bot, "!danger idle", "danger")
    bot.signal(signal.SIGTERM)
    bot.expect(r"confirmation %s for danger was dropped: the bot is shutting down" % pid)
    check(bot.wait_exit() == 0, "exit status 0")
    bot.expect_log(r"stopped \(exit status 0\)")


@suite.test
def test_second_sigint_cancels_now(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "300s"})
    bot.send("!slow 120")
    bot.expect(r"^Running slow \(c1\)")
    bot.signal(signal.SIGINT)
    bot.expect(r"^Shutting down: slow \(c1\)")
    bot.signal(signal.SIGINT)
    bot.expect(r"^slow \(c1\) canceled")
    check(bot.wait_exit() == 0, "exit status 0")


@suite.test
def test_eof_waits_for_running_actions(t):
    bot = t.bot("signals.toml", extra={"@GRACE@": "30s"})
    bot.send("!slow 1")
    bot.expect(r"^Running slow \(c1\)")
    rc = bot.finish()
    check(rc == 0, "exit status 0")
    bot.expect(r"^slow \(c1\) succeeded")


if __name__ == "__main__":
    suite.main()
