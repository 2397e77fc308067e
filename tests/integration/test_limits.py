#!/usr/bin/env python3
"""test_limits.py - concurrency limits and the queue, timeouts that kill a
whole process tree, canceling a running command.

    python3 tests/integration/test_limits.py build/ackbot [name-filter...]
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check, WAIT  # noqa: E402

suite = TestSuite()


def index_of(bot, post):
    return bot.msgs.index(post)


@suite.test
def test_per_alias_limit_queues_fifo(t):
    bot = t.bot("limits.toml")
    bot.send("!slow 1")
    bot.send("!slow 1")
    bot.send("!slow 1")
    a1 = bot.expect(r"^Running slow \(c1\)")
    q2 = bot.expect(r"^slow \(c2\) is queued")
    check("1 slow already running" in q2["text"] and "limit is 1" in q2["text"],
          "says why it is queued: %r" % q2["text"])
    q3 = bot.expect(r"^slow \(c3\) is queued")
    check("1 ahead" in q3["text"], "says how many are ahead: %r" % q3["text"])
    r1 = bot.expect(r"^slow \(c1\) succeeded")
    a2 = bot.expect(r"^Running slow \(c2\)")
    r2 = bot.expect(r"^slow \(c2\) succeeded")
    a3 = bot.expect(r"^Running slow \(c3\)")
    r3 = bot.expect(r"^slow \(c3\) succeeded")
    order = [index_of(bot, m) for m in (a1, r1, a2, r2, a3, r3)]
    check(order == sorted(order), "one at a time, in order: %r" % order)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_global_limit_queues(t):
    bot = t.bot("limits.toml")
    bot.send("!nap 1")
    bot.send("!nap 1")
    bot.send("!nap 1")
    bot.send("!echo not limited by slow ones")   # also waits: global limit
    q = bot.expect(r"^nap \(c3\) is queued")
    check("2 actions are already running" in q["text"], "global reason: %r" % q["text"])
    bot.expect(r"^echo \(c4\) is queued")
    bot.expect(r"^nap \(c1\) succeeded")
    bot.expect(r"^nap \(c2\) succeeded")
    bot.expect(r"^nap \(c3\) succeeded")
    bot.expect(r"not limited by slow ones\n```")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_other_alias_not_blocked_by_per_alias_queue(t):
    bot = t.bot("limits.toml")
    bot.send("!slow 3")
    bot.send("!slow 1")         # queued behind the first slow
    bot.expect(r"^slow \(c2\) is queued")
    bot.send("!echo passes")    # a slot is free overall: runs now
    r = bot.expect(r"passes\n```")
    s1 = [p for p in bot.posts() if re.match(r"^slow \(c1\) succeeded", p["text"])]
    check(not s1, "echo finished while the first slow still ran")
    check(index_of(bot, r) >= 0, "echo ran")
    bot.expect(r"^slow \(c2\) succeeded")
    check(bot.finish() == 0, "exit status 0")


def alive(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except OSError:
        return False
    return False


@suite.test
def test_timeout_kills_process_tree(t):
    bot = t.bot("limits.toml")
    bot.send("!tree")
    m = bot.expect(r"^tree \(c1\) timeout")
    check("timed out after 1s" in m["text"], "says it timed out: %r" % m["text"])
    path = os.path.join(t.tmp, "tree.pids")
    pids = [int(x) for x in open(path).read().split()]
    check(len(pids) == 2, "two background children: %r" % pids)
    deadline = time.monotonic() + WAIT
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    check(not any(alive(p) for p in pids), "every process of the tree is gone: %r" % pids)
    bot.send("!echo after")
    bot.expect(r"after\n```")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_cancel_running_command(t):
    bot = t.bot("limits.toml")
    bot.send("!nap 60")
    bot.expect(r"^Running nap \(c1\)")
    bot.send("/as mallory")
    bot.send("!cancel c1")
    bot.expect(r"only alice, who started c1, may cancel it")
    bot.send("/as alice")
    bot.send("!pending")
    m = bot.expect(r"Your commands")
    check("c1" in m["text"] and "running" in m["text"], "pending shows it: %r" % m["text"])
    bot.send("!cancel c1")
    m = bot.expect(r"^nap \(c1\) canceled")
    check(bot.finish() == 0, "exit status 0")


if __name__ == "__main__":
    suite.main()
