"""bench_chat_common.py - shared code of the chat benchmarks (bench_slack.py,
bench_mm.py): the real ackbot binary against a fake chat server.

How a measurement works:

  * the fake paces the injection itself (control endpoint `bench_inject`:
    N messages at R/s, round robin over channels), so neither this script
    nor its HTTP calls are on the measured path;
  * the fake stamps, with process.hrtime, the moment it handed each event
    frame to the websocket and the moment an HTTP request from the bot
    arrived (before its body is read); `bench_report` / `bench_posts` give
    them back after the step;
  * latency = the bot's first post for a command (its ack) received minus
    the command's event frame sent, both on the fake's clock.

Nothing here asserts timings; main programs exit 1 only when replies were
lost or the bot died.
"""
import http.client
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
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("ACKBOT_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- command line -----------------------------------------------------------

def opt(name, default):
    if name in sys.argv:
        i = sys.argv.index(name)
        if i + 1 < len(sys.argv):
            return sys.argv[i + 1]
    return default


def binary_arg():
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        return os.path.abspath(sys.argv[1])
    return os.path.join(os.environ.get("ACKBOT_BUILD_DIR") or os.path.join(SRC, "build"), "ackbot")


def floats(s):
    return [float(x) for x in s.split(",") if x.strip()]


# ---- /proc --------------------------------------------------------------------

def rss_kb(pid):
    """{'VmRSS': kB, 'VmHWM': kB} of pid, or {} if it is gone."""
    vals = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    k, v = line.split(":", 1)
                    vals[k] = int(v.split()[0])
    except OSError:
        pass
    return vals


def cpu_s(pid):
    """User + system CPU seconds of pid (not its children)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[11]) + int(parts[12])) / float(CLK_TCK)


def children_cpu_s(pid):
    """CPU seconds of pid's waited-for children (cutime + cstime)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            parts = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(parts[13]) + int(parts[14])) / float(CLK_TCK)


def runq_wait_s(pid):
    """Seconds pid's main thread has waited for a CPU (runnable, not
    running): the machine's contention as that thread felt it."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_busy_s():
    """CPU seconds used by everything on the machine (all cores)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) / float(CLK_TCK)


def load_avg():
    return "%.2f %.2f %.2f" % os.getloadavg()


class CpuMeter:
    """CPU use over an interval, in % of one core: the bot, its actions
    (children), the fake, this driver, and everything else on the machine
    ("others"); and how long the bot's and the fake's main threads waited
    for a CPU (bot_waitq, fake_waitq: % of the interval)."""

    KEYS = ("wall", "bot", "actions", "fake", "driver", "machine", "bot_waitq", "fake_waitq")

    def __init__(self, bot_pid, fake_pid):
        self.bot, self.fake = bot_pid, fake_pid
        self.start()

    def _snap(self):
        t = os.times()
        return (time.monotonic(), cpu_s(self.bot), children_cpu_s(self.bot), cpu_s(self.fake),
                t.user + t.system, machine_busy_s(), runq_wait_s(self.bot),
                runq_wait_s(self.fake))

    def start(self):
        self.s0 = self._snap()

    def stop(self):
        s1 = self._snap()
        dt = max(1e-6, s1[0] - self.s0[0])
        out = {k: 100.0 * (s1[i] - self.s0[i]) / dt for i, k in enumerate(self.KEYS) if i}
        out["others"] = max(0.0, out["machine"] - out["bot"] - out["actions"] - out["fake"]
                            - out["driver"])
        return out


class RssSampler(threading.Thread):
    """Samples the bot's VmRSS every interval seconds; peak is the largest
    sample, hwm the kernel's high-water mark at the last sample."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.hwm = 0
        self.last = 0
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            v = rss_kb(self.pid)
            if not v:
                return
            self.last = v.get("VmRSS", 0)
            self.hwm = v.get("VmHWM", self.hwm)
            self.peak = max(self.peak, self.last)
            self.stopped.wait(self.interval)

    def stop(self):
        self.stopped.set()


# ---- statistics ---------------------------------------------------------------

def pct(sorted_vals, p):
    """Nearest-rank percentile of an ascending list (nan if empty)."""
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(-(-p * len(sorted_vals) // 100)) - 1))
    return sorted_vals[i]


def fmt_us(v):
    if v != v:      # nan
        return "-"
    if v >= 10000:
        return "%.0f ms" % (v / 1000.0)
    if v >= 1000:
        return "%.2f ms" % (v / 1000.0)
    return "%.0f us" % v


# ---- the fake -------------------------------------------------------------------

class Control:
    """Keep-alive connections to a fake's control API, one per thread."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def call(self, name, body=None, ok=(200,)):
        data = None if body is None else json.dumps(body)
        for attempt in (1, 2):
            c = getattr(self.local, "c", None)
            if c is None:
                c = self.local.c = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                c.request("POST" if data is not None else "GET", "/control/" + name, body=data,
                          headers={"Content-Type": "application/json"} if data else {})
                r = c.getresponse()
                out = r.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                c.close()           # an idle keep-alive connection was closed: reopen
                self.local.c = None
                if attempt == 2:
                    raise
        if r.status not in ok:
            raise RuntimeError("control %s: HTTP %d %s" % (name, r.status, out[:300]))
        return json.loads(out)


def start_fake(script, args=()):
    """Starts a fake (dies with our stdin pipe); returns (proc, info)."""
    if not os.path.isdir(os.path.join(SRC, "tests", "fakes", "node_modules", "ws")):
        sys.exit("tests/fakes/node_modules is missing: run (cd tests/fakes && npm ci)")
    p = subprocess.Popen(["node", script] + list(args), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line:
        sys.exit("the fake did not start: " + p.stderr.read())
    # drain stderr (protocol errors are also in /control/errors)
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    return p, json.loads(line)


def stop_fake(p):
    try:
        p.stdin.close()
    except OSError:
        pass
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def _die_with_parent():
    """In the child before exec: SIGTERM when the driver dies (even by
    SIGKILL), so that a killed benchmark leaves no bot behind (Linux)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Bot:
    """The ackbot process under test, with its log in a temporary directory.
    It gets SIGTERM if this script dies."""

    def __init__(self, binary, config_path, subs, env):
        self.tmp = tempfile.mkdtemp(prefix="ackbot-bench-")
        with open(config_path) as f:
            text = f.read()
        subs = dict(subs, **{"@TMP@": self.tmp})
        for k, v in subs.items():
            text = text.replace(k, v)
        self.cfg = os.path.join(self.tmp, "bench.toml")
        with open(self.cfg, "w") as f:
            f.write(text)
        self.log_path = os.path.join(self.tmp, "bot.log")
        self.proc = subprocess.Popen([binary, "--config", self.cfg], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"),
                                     env=dict(os.environ, **env), cwd=self.tmp,
                                     preexec_fn=_die_with_parent)
        self.pid = self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        return rc

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---- a measured step ------------------------------------------------------------

class Step:
    """One bench_inject run and its results (times in microseconds)."""

    def __init__(self, tag, rate, count, where):
        self.tag, self.rate, self.count, self.where = tag, rate, count, where
        self.lat = []           # event sent -> first reply received, sorted
        self.ack = []           # envelope sent -> ack received, sorted (Slack)
        self.lost = count
        self.noack = 0
        self.late = 0           # replies later than 1 s after the last injection
        self.achieved = 0.0
        self.inject_lag = {}
        self.loop_delay = {}
        self.cpu = {}
        self.drain_ms = float("nan")
        self.timeline = []      # (sent, relative to the step's start; latency)
        self.ack_timeline = []


class Runner:
    """Runs steps against one fake + bot. reply_rx extracts the command's
    token from the text of one of the bot's posts (the ack)."""

    def __init__(self, ctl, bot, fake_pid, reply_rx):
        self.ctl, self.bot, self.fake_pid = ctl, bot, fake_pid
        self.reply_rx = re.compile(reply_rx)
        self.since = 0

    def step(self, tag, rate, count, channels, users, text, tail=10.0, want_acks=False,
             replies=True):
        """Injects count commands (text with {i}) at rate/s; waits for their
        replies (up to tail s after the last injection); returns a Step.
        replies=False: messages the bot ignores; waits for their acks only."""
        st = Step(tag, rate, count, channels)
        meter = CpuMeter(self.bot.pid, self.fake_pid)
        self.ctl.call("bench_inject", {"tag": tag, "rate": rate, "count": count,
                                       "channels": channels, "users": users, "text": text})
        time.sleep(count / float(rate))
        rep = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            rep = self.ctl.call("bench_report?tag=" + urllib.parse.quote(tag))
            if rep["done"]:
                break
            time.sleep(0.05)
        sent = {}
        acks = {}
        for i, sent_us, ack_us, _n in rep["sent"]:
            if sent_us is not None:
                sent[i] = sent_us
                if ack_us is not None:
                    acks[i] = ack_us - sent_us
        first = {}
        end_hr = rep["end_hr_us"] or rep["now_hr_us"]
        deadline = time.monotonic() + tail
        while not replies:
            rep = self.ctl.call("bench_report?tag=" + urllib.parse.quote(tag))
            if sum(1 for x in rep["sent"] if x[2] is not None) >= count or \
                    time.monotonic() > deadline or not self.bot.alive():
                break
            time.sleep(0.1)
        while replies:
            got = self.ctl.call("bench_posts?since=%d" % self.since)
            for seq, hr_us, _ch, text_ in got["posts"]:
                self.since = max(self.since, seq)
                m = self.reply_rx.search(text_ or "")
                if not m or not m.group(1).startswith(tag + "-"):
                    continue
                try:
                    i = int(m.group(1)[len(tag) + 1:])
                except ValueError:
                    continue
                if i not in first:
                    first[i] = hr_us
            if len(first) >= count or time.monotonic() > deadline or not self.bot.alive():
                break
            time.sleep(0.1)
        st.cpu = meter.stop()
        # again: acks may come after the post, and the loop delay covers the tail
        rep = self.ctl.call("bench_report?tag=" + urllib.parse.quote(tag))
        st.loop_delay = rep.get("loop_delay_us") or {}
        if want_acks:
            for i, sent_us, ack_us, _n in rep["sent"]:
                if ack_us is not None and sent_us is not None:
                    acks[i] = ack_us - sent_us
                    st.ack_timeline.append((sent_us - rep["start_hr_us"], ack_us - sent_us))
            st.ack = sorted(acks.values())
            st.noack = count - len(acks)
        st.timeline = sorted((sent[i] - rep["start_hr_us"], max(0.0, first[i] - sent[i]))
                             for i in first if i in sent)
        st.lat = sorted(v for _, v in st.timeline)
        st.lost = count - len(first) if replies else 0
        st.late = sum(1 for i in first if first[i] > end_hr + 1e6)
        if first:
            last = max(first.values())
            st.drain_ms = max(0.0, (last - end_hr) / 1000.0)
            span = max(last - rep["start_hr_us"], count / float(rate) * 1e6)
            st.achieved = len(first) / (span / 1e6)
        st.inject_lag = rep["lag_us"]
        st.errors = rep.get("errors") or []
        return st


def step_line(st, bound_us):
    """One row of the ramp table; returns (text, sustained)."""
    p99 = pct(st.lat, 99)
    ok = st.lost == 0 and st.late == 0 and p99 == p99 and p99 <= bound_us
    c = st.cpu
    return ("%6.0f/s %6d %7.0f/s %5d %5d %9s %9s %9s  %4.0f%% %4.0f%% %4.0f%% %4.0f%%  %4.1f%% %4.1f%% %8s  %s"
            % (st.rate, st.count, st.achieved, st.lost, st.late, fmt_us(pct(st.lat, 50)),
               fmt_us(p99), fmt_us(st.lat[-1] if st.lat else float("nan")),
               c.get("bot", 0), c.get("actions", 0), c.get("fake", 0), c.get("others", 0),
               c.get("bot_waitq", 0), c.get("fake_waitq", 0),
               fmt_us((st.loop_delay or {}).get("max") or 0.0), "yes" if ok else "NO"), ok)


STEP_HEADER = ("   rate   sent achieved  lost  late       p50       p99       max   bot acts fake othr"
               "  botwq fakewq fakestall  sustained")

CPU_LEGEND = ("CPU columns, in % of one core: bot = ackbot's own CPU; acts = its actions "
              "(children: fork+exec of /bin/true); fake = node; othr = every other process on "
              "the machine (other users' jobs). botwq/fakewq = % of the time the bot's/fake's "
              "main thread was runnable but waiting for a CPU; fakestall = the longest the "
              "fake's event loop was blocked.")


def cpu_line(st):
    c = st.cpu
    return ("CPU (%% of a core): bot %.0f%%, its actions %.0f%%, fake %.0f%%, driver %.0f%%, "
            "other processes %.0f%%; waiting for a CPU: bot %.1f%%, fake %.1f%%; "
            "longest fake stall %s"
            % (c["bot"], c["actions"], c["fake"], c["driver"], c["others"], c["bot_waitq"],
               c["fake_waitq"], fmt_us((st.loop_delay or {}).get("max") or 0.0)))


def windows_line(timeline, width_s=1.0):
    """p99 latency per window of a step's timeline, to show whether a bad
    p99 came from a short stall or from the whole step."""
    wins = {}
    for t, v in timeline:
        wins.setdefault(int(t / (width_s * 1e6)), []).append(v)
    return "  ".join(fmt_us(pct(sorted(wins[k]), 99)) for k in sorted(wins))


def limit_note(st):
    """Who was busiest during a step (a core is 100%)."""
    c = st.cpu
    busiest = max(("bot", "actions", "fake", "driver"), key=lambda k: c.get(k, 0))
    names = {"bot": "the bot's own thread", "actions": "the actions (fork/exec of /bin/true, "
             "counted as the bot's children)", "fake": "the fake (node)", "driver": "this script"}
    return "%s (%.0f%% of a core)" % (names[busiest], c.get(busiest, 0))
