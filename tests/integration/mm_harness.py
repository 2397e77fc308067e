"""mm_harness.py - the real ackbot binary against the fake Mattermost
(tests/fakes/mattermost/fake_mattermost.js). Python 3 stdlib only.

    from mm_harness import MMSuite, check
    suite = MMSuite()

    @suite.test
    def test_something(t):
        fake = t.fake()                 # a fresh fake server
        bot = t.bot(fake)               # ackbot with [bot] adapter = "mattermost"
        p = fake.inject("echo hi", mention=True)
        fake.expect_post(r"hi", root_id=p["id"])
        check(bot.stop() == 0, "exit status 0")

    suite.main()

The bot reads its token from the environment (MM_TOKEN), as a deployment
would. Its log (stderr) is kept for assertions; at the end of every test the
harness checks that the token never reached the log and that the fake saw no
protocol error from the bot. Waits are generous and end as soon as what is
awaited arrives: nothing here asserts a timing.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("ACKBOT_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
FAKE = os.path.join(SRC, "tests", "fakes", "mattermost", "fake_mattermost.js")
WAIT = float(os.environ.get("ACKBOT_TEST_WAIT", "20"))

ALICE = "q7k3zm4b1pgyfcxw8usd5tj9ra"
BOB = "c4e1kbhzy3fqdmxw7sjgo5rn8t"
BOT_ID = "ackbotuser0000000000000000"
TOWN = "chtownsquare00000000000000"
OPS = "chops000000000000000000000"
DM_ALICE = "dmalice0000000000000000000"

CONFIG = r"""
[bot]
name = "ackbot"
prefix = "!"
adapter = "mattermost"
log_level = "@LEVEL@"
confirm_timeout = "30s"
default_timeout = "30s"
max_concurrent = 8
shutdown_grace = "10s"
unknown_users = "guest"

[mattermost]
url = "@URL@"
token = { env = "MM_TOKEN" }
@MMEXTRA@

[users.alice]
mattermost = "q7k3zm4b1pgyfcxw8usd5tj9ra"
groups = ["sre"]

[users.bob]
mattermost = "c4e1kbhzy3fqdmxw7sjgo5rn8t"
groups = ["developers"]

[[alias]]
name = "echo"
description = "Say something back"
formats = ["echo {{text}}"]

[alias.exec]
argv = ["/bin/echo", "{{ text }}"]

[[alias]]
name = "quiet"
description = "Say something back, no ack"
formats = ["quiet {{text}}"]
ack = false
result = "{{ execution.result.stdout | trim }}"

[alias.exec]
argv = ["/bin/echo", "{{ text }}"]

[[alias]]
name = "danger"
description = "Needs confirmation"
formats = ["danger {{thing}}"]
confirm = { timeout = "60s" }

[alias.exec]
argv = ["/bin/echo", "danger done:", "{{ thing }}"]

[[alias]]
name = "hurry"
description = "Needs confirmation within 1s"
formats = ["hurry {{thing}}"]
confirm = { timeout = "1s" }

[alias.exec]
argv = ["/bin/echo", "hurry done:", "{{ thing }}"]

[[alias]]
name = "wide"
description = "Prints N lines of multi-byte text"
formats = ["wide {{n=800}}"]
ack = false
result = "{{ execution.result.stdout }}"

[alias.exec]
argv = ["@PY@", "-c", "import sys\nfor i in range(int(sys.argv[1])): print('%05d' % i, 'héllo wörld 日本語のテキスト ✓ ' * 2)", "{{ n }}"]
max_output = 4000000
"""


class TestFailure(AssertionError):
    pass


def check(cond, msg="check failed"):
    if not cond:
        raise TestFailure(msg)


def ackbot_path():
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        return os.path.abspath(sys.argv[1])
    build = os.environ.get("ACKBOT_BUILD_DIR") or os.path.join(SRC, "build")
    return os.path.join(build, "ackbot")


class Fake:
    """One fake Mattermost server (a node child process)."""

    def __init__(self, args=(), tmp=None):
        self.proc = subprocess.Popen(
            ["node", FAKE] + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            raise TestFailure("the fake Mattermost did not start: %s" % self.proc.stderr.read())
        self.info = json.loads(line)
        self.url = self.info["url"]
        self.control = self.info["control"]
        self.token = self.info["bot_token"]
        self.err_lines = []
        self.t_err = threading.Thread(target=self._read_err, daemon=True)
        self.t_err.start()
        self.used = set()

    def _read_err(self):
        for line in self.proc.stderr:
            self.err_lines.append(line.rstrip("\n"))

    def ctl(self, name, body=None, method=None, ok_codes=(200,)):
        """Calls the control API; returns the decoded answer (also for the
        status codes in ok_codes, e.g. 408 from a wait that timed out)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("%s/control/%s" % (self.control, name), data=data,
                                     method=method or ("POST" if data is not None else "GET"))
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=WAIT + 30) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            body = e.read().decode("utf-8", "replace")
            if e.code in ok_codes:
                return json.loads(body)
            raise TestFailure("control %s: HTTP %d %s" % (name, e.code, body))

    # -- what people say -------------------------------------------------
    def inject(self, message, user="alice", channel="town-square", mention=False, **kw):
        body = dict(kw, message=message, user=user, mention=mention)
        if "root_id" not in kw:
            body["channel"] = channel
        return self.ctl("inject_post", body)["post"]

    # -- what the bot posted ---------------------------------------------
    def posts(self, **filters):
        q = "&".join("%s=%s" % (k, urllib.request.quote(str(v))) for k, v in filters.items())
        return self.ctl("posts" + ("?" + q if q else ""))

    def expect_post(self, pattern, timeout=None, **filters):
        """Waits for a post by the bot, not matched before, whose message
        matches pattern (regex, searched) and whose fields equal filters;
        returns it and marks it matched."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        while True:
            for p in self.posts():
                if p["id"] in self.used or not rx.search(p.get("message", "")):
                    continue
                if any(p.get(k) != v for k, v in filters.items()):
                    continue
                self.used.add(p["id"])
                return p
            if time.monotonic() > deadline:
                raise TestFailure("no post matching %r %r within %ss; posts:\n%s" % (
                    pattern, filters, timeout or WAIT,
                    "\n".join("  %s root=%s %r" % (p["channel_id"], p["root_id"],
                                                   p["message"][:120]) for p in self.posts())))
            time.sleep(0.1)

    def expect_no_post(self, pattern, settle=1.0):
        time.sleep(settle)
        rx = re.compile(pattern, re.S)
        for p in self.posts():
            if p["id"] not in self.used and rx.search(p.get("message", "")):
                raise TestFailure("unexpected post %r" % p["message"][:300])

    def errors(self):
        return self.ctl("errors")

    def connections(self):
        return self.ctl("connections")

    def wait_connections(self, count=1, **filters):
        body = dict(filters, count=count, timeout_ms=int(WAIT * 1000))
        r = self.ctl("wait_connections", body, ok_codes=(200, 408))
        if isinstance(r, dict) and r.get("error") == "timeout":
            raise TestFailure("no %d connection(s) %r: %r" % (count, filters, r))
        return r

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except Exception:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.t_err.join(5)
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass


class MMBot:
    """One ackbot process on the Mattermost adapter."""

    def __init__(self, binary, config, token, tmp, wrapper=()):
        env = dict(os.environ)
        env["MM_TOKEN"] = token
        self.token = token
        self.cmd = list(wrapper) + [binary, "--config", config]
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=env, cwd=tmp)
        self.log = []
        self.out = []
        self.cond = threading.Condition()
        self.err_done = False
        self.t_err = threading.Thread(target=self._read, args=(self.proc.stderr, self.log, True),
                                      daemon=True)
        self.t_out = threading.Thread(target=self._read, args=(self.proc.stdout, self.out, False),
                                      daemon=True)
        self.t_err.start()
        self.t_out.start()

    def _read(self, stream, into, is_err):
        for raw in stream:
            with self.cond:
                into.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            if is_err:
                self.err_done = True
            self.cond.notify_all()

    def expect_log(self, pattern, timeout=None, start=0):
        """Waits for a log line (from index start) matching pattern; returns
        its index."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        with self.cond:
            while True:
                for i in range(start, len(self.log)):
                    if rx.search(self.log[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0 or self.err_done:
                    raise TestFailure("no log line matching %r; log:\n%s"
                                      % (pattern, "\n".join(self.log[-40:])))
                self.cond.wait(min(left, 0.5))

    def count_log(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.log if rx.search(line))

    def wait_exit(self, timeout=None):
        try:
            return self.proc.wait(timeout if timeout is not None else WAIT)
        except subprocess.TimeoutExpired:
            raise TestFailure("ackbot did not exit; log:\n%s" % "\n".join(self.log[-40:]))

    def stop(self, timeout=None):
        """SIGTERM, then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.wait_exit(timeout)
        self.t_err.join(5)
        self.t_out.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.t_err.join(5)
        self.t_out.join(5)
        for s in (self.proc.stdout, self.proc.stderr):
            try:
                s.close()
            except Exception:
                pass


def make_tls(tmp, hostname="127.0.0.1"):
    """A CA and a server certificate for hostname, made with the openssl
    command; returns (ca.pem, server.pem, server.key)."""
    d = os.path.join(tmp, "tls")
    os.makedirs(d, exist_ok=True)
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, crt = os.path.join(d, "server.key"), os.path.join(d, "server.csr"), \
        os.path.join(d, "server.pem")
    ext = os.path.join(d, "ext.cnf")
    san = "IP:%s" % hostname if re.match(r"^[0-9.]+$", hostname) else "DNS:%s" % hostname
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n" % san)

    def run(*args):
        r = subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise TestFailure("openssl %s: %s" % (args[0], r.stderr))

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
        "-days", "2", "-subj", "/CN=ackbot test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
        "-subj", "/CN=%s" % hostname)
    run("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    return ca, crt, key


class Case:
    def __init__(self, suite):
        self.suite = suite
        self.tmp = tempfile.mkdtemp(prefix="ackbot-mm-")
        self.fakes = []
        self.bots = []

    def fake(self, *args):
        f = Fake(args, self.tmp)
        self.fakes.append(f)
        return f

    def config(self, fake_or_url, level="info", extra=""):
        url = fake_or_url.url if isinstance(fake_or_url, Fake) else fake_or_url
        text = CONFIG.replace("@URL@", url).replace("@LEVEL@", level) \
            .replace("@MMEXTRA@", extra).replace("@PY@", sys.executable or "python3")
        path = os.path.join(self.tmp, "ackbot-%d.toml" % len(self.bots))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def bot(self, fake, token=None, level="info", extra="", wait=True):
        """Starts ackbot against fake; with wait, returns once its websocket
        has had its hello."""
        cfg = self.config(fake, level, extra)
        b = MMBot(self.suite.binary, cfg, token or fake.token, self.tmp, self.suite.wrapper)
        self.bots.append(b)
        if wait:
            b.expect_log(r"mattermost: connected \(connection ")
        return b

    def cleanup(self):
        for b in self.bots:
            b.kill()
        for f in self.fakes:
            f.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class MMSuite:
    def __init__(self):
        self.tests = []
        self.binary = ackbot_path()
        w = os.environ.get("ACKBOT_TEST_WRAPPER", "")
        self.wrapper = w.split() if w else []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    @staticmethod
    def _after_checks(case):
        """Nothing secret in any log; no sanitizer report; no protocol
        error recorded by the fakes (tests that provoke some clear them)."""
        bad = []
        for b in case.bots:
            for line in b.log:
                if b.token and b.token in line:
                    bad.append("the token reached the log: %s" % line)
                if ("ERROR: AddressSanitizer" in line or "ERROR: LeakSanitizer" in line
                        or "runtime error:" in line
                        or ("definitely lost: " in line and "definitely lost: 0 bytes" not in line)
                        or re.search(r"ERROR SUMMARY: [1-9]", line)):
                    bad.append(line)
        for f in case.fakes:
            if f.proc.poll() is None:
                errs = f.errors()
                if errs:
                    bad.append("the fake recorded protocol errors: %s" % json.dumps(errs)[:2000])
        return "\n".join(bad)

    def main(self):
        only = [a for a in sys.argv[2:] if not a.startswith("-")]
        if not os.access(self.binary, os.X_OK):
            print("ackbot binary not found: %s" % self.binary)
            sys.exit(2)
        if shutil.which("node") is None or not os.path.isdir(
                os.path.join(SRC, "tests", "fakes", "node_modules", "ws")):
            print("node or tests/fakes/node_modules missing (run npm ci in tests/fakes)")
            sys.exit(2)
        passed = failed = 0
        for fn in self.tests:
            if only and not any(o in fn.__name__ for o in only):
                continue
            case = Case(self)
            start = time.monotonic()
            try:
                fn(case)
                bad = self._after_checks(case)
                if bad:
                    raise TestFailure(bad)
                passed += 1
                print("PASS %s (%.1fs)" % (fn.__name__, time.monotonic() - start), flush=True)
            except Exception as e:
                failed += 1
                print("FAIL %s: %s" % (fn.__name__, e), flush=True)
                if not isinstance(e, TestFailure):
                    traceback.print_exc()
                for b in case.bots:
                    print("--- ackbot log (last 30 lines):\n" + "\n".join(b.log[-30:]), flush=True)
            finally:
                case.cleanup()
        print("%d passed, %d failed" % (passed, failed))
        sys.exit(1 if failed else 0)
