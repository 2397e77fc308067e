"""harness.py - drive the real ackbot binary through its console adapter.

The bot runs with --json: every post is one JSON object on stdout
({"event": "post", "channel", "thread", "text", "buttons"}), console notices
are {"event": "console"}. Logs go to stderr and are kept for assertions.

Test configs live in tests/integration/configs/*.toml and may contain
placeholders that are substituted when a test copies them to a temporary
directory: @TMP@ (that directory), @SRC@ (the source tree), @PY@ (python3).

Usage from a test file:

    from harness import Bot, TestSuite
    suite = TestSuite()

    @suite.test
    def test_something(t):
        bot = t.bot("basic.toml")
        bot.send("!echo hi")
        bot.expect(r"hi")

    suite.main()

No assertion is about timing: waits are generous and end as soon as what is
awaited has arrived.

Environment: ACKBOT_TEST_WAIT (seconds, default 20) scales every wait;
ACKBOT_TEST_WRAPPER runs each bot under a command, for example
    ACKBOT_TEST_WRAPPER="valgrind --leak-check=full --error-exitcode=99
      --child-silent-after-fork=yes --errors-for-leak-kinds=definite
      --suppressions=$PWD/tests/integration/valgrind.supp" ACKBOT_TEST_WAIT=60
Sanitizer and valgrind reports in a bot's stderr fail the test.
"""

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("ACKBOT_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
CONFIGS = os.path.join(HERE, "configs")
WAIT = float(os.environ.get("ACKBOT_TEST_WAIT", "20"))   # seconds, generous


def ackbot_path():
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        return os.path.abspath(sys.argv[1])
    build = os.environ.get("ACKBOT_BUILD_DIR") or os.path.join(SRC, "build")
    return os.path.join(build, "ackbot")


class TestFailure(AssertionError):
    pass


def render_config(name, tmpdir, extra=None):
    """Copies configs/NAME into tmpdir with placeholders filled; returns the path."""
    with open(os.path.join(CONFIGS, name), encoding="utf-8") as f:
        text = f.read()
    subs = {"@TMP@": tmpdir, "@SRC@": SRC, "@PY@": sys.executable or "python3"}
    subs.update(extra or {})
    for k, v in subs.items():
        text = text.replace(k, v)
    path = os.path.join(tmpdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class Bot:
    """One ackbot process on the console adapter, with JSON output."""

    def __init__(self, binary, config, env=None, args=(), tmpdir=None, wrapper=()):
        self.config = config
        self.tmpdir = tmpdir
        e = dict(os.environ)
        e.pop("ACKBOT_CONSOLE_JSON", None)
        e.update(env or {})
        self.cmd = list(wrapper) + [binary, "--config", config, "--json"] + list(args)
        self.proc = subprocess.Popen(
            self.cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=e, cwd=tmpdir or None)
        self.msgs = []          # every JSON object read from stdout, in order
        self.used = set()       # indexes already matched by expect()
        self.raw_out = []       # stdout lines that were not JSON
        self.log = []           # stderr lines
        self.cond = threading.Condition()
        self.out_done = False
        self.err_done = False
        self.t_out = threading.Thread(target=self._read_out, daemon=True)
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_out.start()
        self.t_err.start()

    # -- readers --------------------------------------------------------
    def _read_out(self):
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                try:
                    self.msgs.append(json.loads(line))
                except ValueError:
                    self.raw_out.append(line)
                self.cond.notify_all()
        with self.cond:
            self.out_done = True
            self.cond.notify_all()

    def _read_err(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.log.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.err_done = True
            self.cond.notify_all()

    # -- input ----------------------------------------------------------
    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def close_input(self):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass

    def signal(self, sig):
        self.proc.send_signal(sig)

    # -- output ---------------------------------------------------------
    def posts(self):
        with self.cond:
            return [m for m in self.msgs if m.get("event") in ("post", "update")]

    def _describe(self):
        lines = ["--- posts so far:"]
        with self.cond:
            for i, m in enumerate(self.msgs):
                mark = " " if i not in self.used else "x"
                lines.append("%s %r" % (mark, m))
            lines.append("--- log (last 40 lines):")
            lines.extend(self.log[-40:])
        return "\n".join(lines)

    def expect(self, pattern, timeout=None, channel=None, thread=Ellipsis, pred=None):
        """Waits for an unmatched post whose text matches pattern (a regex,
        searched), optionally in channel/thread; returns it (and marks it
        matched). Raises TestFailure after timeout seconds."""
        rx = re.compile(pattern, re.S) if pattern is not None else None
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        with self.cond:
            while True:
                for i, m in enumerate(self.msgs):
                    if i in self.used or m.get("event") not in ("post", "update"):
                        continue
                    if rx is not None and not rx.search(m.get("text", "")):
                        continue
                    if channel is not None and m.get("channel") != channel:
                        continue
                    if thread is not Ellipsis and m.get("thread") != thread:
                        continue
                    if pred is not None and not pred(m):
                        continue
                    self.used.add(i)
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.out_done and self.proc.poll() is not None):
                    raise TestFailure("no post matching %r within %ss\n%s"
                                      % (pattern, timeout if timeout is not None else WAIT,
                                         self._describe()))
                self.cond.wait(min(left, 0.5))

    def expect_none(self, pattern, settle=1.0):
        """Asserts that no unmatched post matches pattern, after letting
        things settle for a moment (not a timing assertion: the bot has no
        reason to post it at all)."""
        time.sleep(settle)
        rx = re.compile(pattern, re.S)
        with self.cond:
            for i, m in enumerate(self.msgs):
                if i not in self.used and m.get("event") in ("post", "update") \
                        and rx.search(m.get("text", "")):
                    raise TestFailure("unexpected post matching %r: %r\n%s"
                                      % (pattern, m, self._describe()))

    def expect_log(self, pattern, timeout=None):
        rx = re.compile(pattern)
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        with self.cond:
            while True:
                for line in self.log:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.err_done:
                    raise TestFailure("no log line matching %r\n%s" % (pattern, self._describe()))
                self.cond.wait(min(left, 0.5))

    def sync(self):
        """Round trip: sends a harmless command and waits for its reply, so
        that everything typed before has been handled."""
        self.send("!whoami")
        self.expect(r"^You (are|are not)")

    def wait_exit(self, timeout=None):
        try:
            return self.proc.wait(timeout if timeout is not None else WAIT)
        except subprocess.TimeoutExpired:
            raise TestFailure("ackbot did not exit within %ss\n%s"
                              % (timeout if timeout is not None else WAIT, self._describe()))

    def finish(self, timeout=None):
        """Ends the session (EOF) and returns the exit status."""
        self.close_input()
        rc = self.wait_exit(timeout)
        self.t_out.join(5)
        self.t_err.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.close_input()
        # the readers end at EOF once the process is gone
        self.t_out.join(10)
        self.t_err.join(10)
        for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass


class Case:
    """What a test function receives: makes bots and temp dirs, cleans up."""

    def __init__(self, suite):
        self.suite = suite
        self.tmp = tempfile.mkdtemp(prefix="ackbot-test-")
        self.bots = []

    def config(self, name, extra=None):
        return render_config(name, self.tmp, extra)

    def bot(self, name, env=None, args=(), extra=None):
        cfg = self.config(name, extra) if not os.path.isabs(name) else name
        b = Bot(self.suite.binary, cfg, env=env, args=args, tmpdir=self.tmp,
                wrapper=self.suite.wrapper)
        self.bots.append(b)
        return b

    def cleanup(self):
        for b in self.bots:
            b.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def check(cond, msg="check failed"):
    if not cond:
        raise TestFailure(msg)


class TestSuite:
    def __init__(self):
        self.tests = []
        self.binary = ackbot_path()
        w = os.environ.get("ACKBOT_TEST_WRAPPER", "")
        self.wrapper = w.split() if w else []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def main(self):
        only = [a for a in sys.argv[2:] if not a.startswith("-")]
        if not os.access(self.binary, os.X_OK):
            print("ackbot binary not found: %s" % self.binary)
            sys.exit(2)
        passed = failed = 0
        for fn in self.tests:
            if only and not any(o in fn.__name__ for o in only):
                continue
            case = Case(self)
            start = time.monotonic()
            try:
                fn(case)
                bad = self._sanitizer_reports(case)
                if bad:
                    raise TestFailure("sanitizer or valgrind report:\n" + bad)
                passed += 1
                print("PASS %s (%.1fs)" % (fn.__name__, time.monotonic() - start), flush=True)
            except Exception as e:
                failed += 1
                print("FAIL %s: %s" % (fn.__name__, e), flush=True)
                if not isinstance(e, TestFailure):
                    traceback.print_exc()
            finally:
                case.cleanup()
        print("%d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 0)

    @staticmethod
    def _sanitizer_reports(case):
        out = []
        for b in case.bots:
            if b.proc.poll() is None:
                continue
            for line in b.log:
                if ("ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
                        or "runtime error:" in line
                        or ("definitely lost: " in line and "definitely lost: 0 bytes" not in line)
                        or re.search(r"ERROR SUMMARY: [1-9]", line)
                        or "Invalid read" in line or "Invalid write" in line):
                    out.append(line)
        return "\n".join(out)
