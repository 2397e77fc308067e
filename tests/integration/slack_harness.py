"""slack_harness.py - run the real ackbot binary with [bot] adapter = "slack"
against the fake Slack server (tests/fakes/slack/fake_slack.js), driven
through the fake's control API with urllib (stdlib only).

Usage from a test file:

    from harness import TestSuite, check
    from slack_harness import FakeSlack, slack_bot
    suite = TestSuite()

    @suite.test
    def test_something(t):
        with FakeSlack() as fake:
            bot = slack_bot(t, fake)
            fake.inject_message("<@U0BOT0001> !echo hi")
            fake.wait_posts(text="hi")
            bot.stop()

    suite.main()

The bot's log goes to stderr and is kept (bot.log, bot.expect_log). The
fake dies with its stdin pipe, so a crashed test leaves nothing behind.
Tests skip (count as passed, with a note) when node or the fake's
node_modules are missing.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from harness import SRC, WAIT, Bot, TestFailure  # noqa: F401

FAKE = os.path.join(SRC, "tests", "fakes", "slack", "fake_slack.js")
BOT_USER = "U0BOT0001"
MENTION = "<@%s>" % BOT_USER


def fake_available():
    if not os.path.isdir(os.path.join(SRC, "tests", "fakes", "node_modules", "ws")):
        return False
    try:
        subprocess.run(["node", "--version"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


class ControlError(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %s: %s" % (status, body))
        self.status = status
        self.body = body


class FakeSlack:
    """One fake Slack process. args are extra command line flags, e.g.
    ["--ack-timeout-ms", "500"] or ["--tls-cert", cert, "--tls-key", key]."""

    def __init__(self, args=()):
        self.args = list(args)
        self.proc = None
        self.info = None

    def __enter__(self):
        self.proc = subprocess.Popen(["node", FAKE] + self.args, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            raise TestFailure("the fake Slack did not start: %s"
                              % self.proc.stderr.read().decode("utf-8", "replace"))
        self.info = json.loads(line)
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for s in (self.proc.stdout, self.proc.stderr):
            s.close()
        self.proc = None

    @property
    def api(self):
        return self.info["api"]

    def ctl(self, name, body=None, ok=(200,)):
        """POSTs body (a dict) to /control/NAME, or GETs it (body None).
        Returns the decoded answer; raises ControlError on other statuses."""
        url = "%s/control/%s" % (self.info["control"], name)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", "replace")
            if e.code in ok:
                return json.loads(text)
            raise ControlError(e.code, text)

    def get(self, kind, **filters):
        q = urllib.parse.urlencode(filters)
        return self.ctl(kind + ("?" + q if q else ""))

    def wait(self, what, count=1, timeout_ms=None, **filters):
        body = dict(filters, count=count,
                    timeout_ms=int(timeout_ms if timeout_ms is not None else WAIT * 1000))
        try:
            return self.ctl("wait_" + what, body)
        except ControlError as e:
            raise TestFailure("waited for %d %s %r: %s" % (count, what, filters, e.body))

    def wait_posts(self, count=1, **filters):
        return self.wait("posts", count, **filters)

    def posts_matching(self, pattern):
        rx = re.compile(pattern, re.S)
        return [p for p in self.get("posts") if rx.search(p.get("text") or "")]

    def wait_text(self, pattern, count=1, timeout=None):
        """Waits until count posts have text matching pattern (a regex,
        searched); returns them. The bot's replies wrap command output in
        code fences, so exact-text filters do not fit them."""
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        while True:
            got = self.posts_matching(pattern)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise TestFailure("waited for %d post(s) matching %r; posts: %r"
                                  % (count, pattern, [p["text"] for p in self.get("posts")]))
            time.sleep(0.1)

    def inject_message(self, text, **kw):
        kw["text"] = text
        return self.ctl("inject_message", kw)

    def errors(self):
        return self.ctl("errors")

    def assert_no_errors(self, allow=()):
        bad = [e for e in self.errors() if e.get("kind") not in allow]
        if bad:
            raise TestFailure("the fake reports protocol errors: %r" % bad)


class SlackBot(Bot):
    """ackbot on the Slack adapter. Posts are read from the fake, not from
    stdout; stop() sends SIGTERM and returns the exit status."""

    def stop(self, timeout=None):
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        self.t_err.join(5)
        return rc


def slack_bot(t, fake, extra=None, env=None, connect=True, config="slack.toml"):
    """Starts ackbot against fake with configs/slack.toml. extra: lines for
    the [slack] table (e.g. 'ca_file = "..."'). With connect, waits for the
    first Socket Mode connection."""
    subs = {"@API@": fake.api, "@SLACK_EXTRA@": "\n".join(extra or [])}
    cfg = t.config(config, subs)
    e = {"SLACK_BOT_TOKEN": fake.info["bot_token"], "SLACK_APP_TOKEN": fake.info["app_token"]}
    e.update(env or {})
    bot = SlackBot(t.suite.binary, cfg, env=e, tmpdir=t.tmp, wrapper=t.suite.wrapper)
    t.bots.append(bot)
    if connect:
        try:
            fake.wait("connections", 1, state="open")
        except TestFailure:
            raise TestFailure("the bot did not connect\n%s" % bot._describe())
    return bot


def acked(fake, injected):
    """Waits until every envelope of an inject_* answer is acked; returns the
    ack records."""
    out = []
    for env in injected.get("envelopes", []):
        out.extend(fake.wait("acks", 1, envelope_id=env["envelope_id"]))
    return out


def binary_has_slack(path):
    """True if the binary links the Slack adapter (the runtime creates it
    for [bot] adapter = "slack"); an older binary says "not built yet"."""
    try:
        with open(path, "rb") as f:
            return b"apps.connections.open" in f.read()
    except OSError:
        return True     # let the suite report the missing binary


def main_or_skip(suite):
    why = None
    if not fake_available():
        why = "node or tests/fakes/node_modules missing (run npm ci in tests/fakes)"
    elif not binary_has_slack(suite.binary):
        why = "%s does not include the Slack adapter yet (bot/app.c)" % suite.binary
    if why:
        print("SKIP: " + why)
        print("0 passed, 0 failed")
        sys.exit(0)
    suite.main()


def now_ms():
    return int(time.time() * 1000)
