#!/usr/bin/env python3
"""test_valgrind.py - a short console session under valgrind: no memory
errors, no leaks, and a clean loop close (exit status 0).

Skipped (counted as passed, with a note) when valgrind is not installed or
the binary is built with sanitizers, which valgrind cannot run.

    python3 tests/integration/test_valgrind.py build/ackbot
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check, HERE  # noqa: E402

suite = TestSuite()


def usable():
    if shutil.which("valgrind") is None:
        return "valgrind is not installed"
    with open(suite.binary, "rb") as f:
        if b"__asan_init" in f.read():
            return "the binary is built with AddressSanitizer"
    return None


@suite.test
def test_session_under_valgrind(t):
    why = usable()
    if why:
        print("  (skipped: %s)" % why)
        return
    suite.wrapper = ["valgrind", "--leak-check=full", "--error-exitcode=99",
                     "--child-silent-after-fork=yes", "--errors-for-leak-kinds=definite",
                     "--suppressions=" + os.path.join(HERE, "valgrind.supp")]
    try:
        bot = t.bot("basic.toml")
        bot.send("!help")
        bot.expect(r"Built-in commands", timeout=120)
        bot.send("!echo under valgrind")
        bot.expect(r"under valgrind\n```", timeout=120)
        bot.send("!fail")
        bot.expect(r"^fail \(c\d+\) failed", timeout=120)
        bot.send("!missing")
        bot.expect(r"not found", timeout=120)
        bot.send("!refused")
        bot.expect(r"^refused \(c\d+\) failed", timeout=120)
        bot.send("!danger x")
        m = bot.expect(r"needs confirmation", timeout=120)
        cid = re.search(r"confirm ([0-9A-Z]{6})", m["text"]).group(1)
        bot.send("!pending")
        bot.expect(cid, timeout=120)
        bot.send("!confirm " + cid)
        bot.expect(r"danger done: x", timeout=120)
        bot.send("!hurry y")
        bot.expect(r"hurry needs confirmation", timeout=120)
        bot.expect(r"expired", timeout=120)
        bot.send("!slow 30")
        m = bot.expect(r"^Running slow", timeout=120)
        sid = re.search(r"\((c\d+)\)", m["text"]).group(1)
        bot.send("!cancel " + sid)
        bot.expect(r"^slow \(%s\) canceled" % sid, timeout=120)
        rc = bot.finish(timeout=180)
        errors = [ln for ln in bot.log if re.search(r"ERROR SUMMARY|definitely lost", ln)]
        check(rc == 0, "exit status %r (99 = valgrind found errors)\n%s" % (rc, "\n".join(bot.log[-60:])))
        check(any("ERROR SUMMARY: 0 errors" in ln for ln in errors), "valgrind summary: %r" % errors)
        check(not any("uv_loop_close" in ln for ln in bot.log), "loop closed cleanly")
    finally:
        suite.wrapper = []


if __name__ == "__main__":
    suite.main()
