#!/usr/bin/env python3
"""bench_mm.py - the real ackbot on its Mattermost adapter against the fake
Mattermost: end-to-end latency (post injected -> the bot's reply received by
the fake) at a steady rate, the highest sustained rate, and the bot's memory.

    python3 tests/bench/bench_mm.py [build/ackbot] [--rate 5] [--duration 10]
        [--ramp 25,50,100,200,400] [--step 3] [--channels 32]

Every command is `@ackbot quiet bN` (an exec alias running /bin/echo, no ack),
so one command = one websocket event in, one process, one REST post out.
Latency is the fake's clock when the reply's POST /posts arrived minus the
wall clock just before the injection was requested (so it includes the
control call to the fake, about a millisecond), in whole milliseconds.

The steady phase uses one channel. The ramp spreads commands over several
DM channels, because the adapter paces each channel like the server's
default rate limit (bursts of 100, then 10 posts/s): one channel cannot
sustain more than 10 replies/s for long, by design. A rate counts as
sustained when every reply arrived within 2 s after the step ended and the
p99 latency stayed under 1 s. On a shared machine the fake (node) and this
script use CPU too; the bot's own CPU time per step is printed to tell who
was the bottleneck. Prints figures; asserts nothing.
"""
import http.client
import json
import os
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
FAKE = os.path.join(SRC, "tests", "fakes", "mattermost", "fake_mattermost.js")

CONFIG = """
[bot]
name = "ackbot"
adapter = "mattermost"
log_level = "warn"
max_concurrent = 64
unknown_users = "guest"

[mattermost]
url = "%s"
token = { env = "MM_TOKEN" }

[[alias]]
name = "quiet"
description = "echo, no ack"
formats = ["quiet {{text}}"]
ack = false
result = "{{ execution.result.stdout | trim }}"
max_concurrent = 64

[alias.exec]
argv = ["/bin/echo", "{{ text }}"]
"""


def opt(name, default):
    if name in sys.argv:
        return sys.argv[sys.argv.index(name) + 1]
    return default


class Control:
    """Keep-alive connections to the fake's control API, one per thread."""

    def __init__(self, url):
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.local = threading.local()

    def call(self, name, body=None):
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
                # the server closed an idle keep-alive connection: open another
                c.close()
                self.local.c = None
                if attempt == 2:
                    raise
        if r.status != 200:
            raise RuntimeError("control %s: %d %s" % (name, r.status, out[:300]))
        return json.loads(out)


def rss_kb(pid):
    vals = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                vals[k] = int(v.split()[0])
    return vals


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    i = min(len(sorted_vals) - 1, max(0, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[i]


def run_phase(ctl, tag, rate, duration, channels, users):
    """Injects rate commands/s for duration s round-robin over channels;
    returns (sent, latencies_ms sorted, missing, achieved_rate)."""
    n = int(rate * duration)
    sent_at = {}
    lock = threading.Lock()
    nxt = [0]
    t0 = time.time() + 0.2

    def worker():
        while True:
            with lock:
                i = nxt[0]
                if i >= n:
                    return
                nxt[0] += 1
            at = t0 + i / float(rate)
            d = at - time.time()
            if d > 0:
                time.sleep(d)
            word = "%s%d" % (tag, i)
            ch = channels[i % len(channels)]
            user = users[i % len(users)]
            start = time.time()
            ctl.call("inject_post", {"channel": ch, "user": user, "message": "quiet " + word,
                                     "mention": True})
            with lock:
                sent_at[word] = start

    threads = [threading.Thread(target=worker, daemon=True)
               for _ in range(min(48, max(2, int(rate / 10) + 2)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    end = t0 + duration
    # wait for the replies: up to 2 s after the step for "sustained", then
    # a little longer to count what came late
    got = {}
    deadline = end + 10
    while time.time() < deadline:
        for p in ctl.call("posts"):
            if p["message"].startswith(tag) and p["message"] in sent_at:
                got.setdefault(p["message"], p["at"])
        if len(got) >= n:
            break
        time.sleep(0.2)
    lat = sorted(max(0.0, got[w] - sent_at[w] * 1000.0) for w in got)
    last = max(got.values()) / 1000.0 if got else end
    late = sum(1 for w in got if got[w] / 1000.0 > end + 2)
    achieved = len(got) / max(duration, last - t0)
    return n, lat, n - len(got), late, achieved


def main():
    binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 and \
        not sys.argv[1].startswith("-") else \
        os.path.join(os.environ.get("ACKBOT_BUILD_DIR") or os.path.join(SRC, "build"), "ackbot")
    rate = float(opt("--rate", "5"))
    duration = float(opt("--duration", "10"))
    ramp = [float(x) for x in opt("--ramp", "25,50,100,200,400").split(",") if x]
    step = float(opt("--step", "3"))
    nch = int(opt("--channels", "32"))

    tmp = tempfile.mkdtemp(prefix="ackbot-bench-mm-")
    fake = subprocess.Popen(["node", FAKE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    info = json.loads(fake.stdout.readline())
    ctl = Control(info["control"])
    users = []
    for i in range(nch):
        name = "bench%02d" % i
        ctl.call("add_user", {"username": name})
        users.append(name)
    dm_channels = ["@" + u for u in users]

    cfg = os.path.join(tmp, "bench.toml")
    with open(cfg, "w") as f:
        f.write(CONFIG % info["url"])
    env = dict(os.environ, MM_TOKEN=info["bot_token"])
    bot = subprocess.Popen([binary, "--config", cfg], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "bot.log"), "w"),
                           env=env, cwd=tmp)
    try:
        deadline = time.time() + 30
        while not any(c.get("hello_sent") for c in ctl.call("connections")):
            if time.time() > deadline or bot.poll() is not None:
                print("the bot did not connect; log:\n" + open(os.path.join(tmp, "bot.log")).read())
                return 1
            time.sleep(0.1)
        time.sleep(0.5)
        idle = rss_kb(bot.pid)
        print("ackbot %s against the fake Mattermost (%s)" % (binary, info["url"]))
        print("idle RSS: %d KiB" % idle["VmRSS"])

        # warm-up: the first exec, the first post
        run_phase(ctl, "w", 5, 1, ["town-square"], ["alice"])

        c0 = cpu_s(bot.pid)
        n, lat, missing, late, ach = run_phase(ctl, "s", rate, duration, ["town-square"],
                                               ["alice", "bob"])
        c1 = cpu_s(bot.pid)
        print("steady %.0f cmd/s for %.0f s in one channel: %d commands, %d replies missing; "
              "latency p50 %.0f ms, p99 %.0f ms, max %.0f ms; bot CPU %.1f ms per command"
              % (rate, duration, n, missing, pct(lat, 50), pct(lat, 99),
                 lat[-1] if lat else float("nan"), (c1 - c0) * 1000.0 / max(1, n)))

        best = 0.0
        print("ramp over %d DM channels, %.0f s per step:" % (nch, step))
        for i, r in enumerate(ramp):
            c0 = cpu_s(bot.pid)
            n, lat, missing, late, ach = run_phase(ctl, "r%d_" % i, r, step, dm_channels, users)
            c1 = cpu_s(bot.pid)
            ok = missing == 0 and late == 0 and pct(lat, 99) < 1000
            print("  %6.0f cmd/s: %5d sent, achieved %6.1f replies/s, %d missing, %d late; "
                  "p50 %5.0f ms, p99 %6.0f ms; bot CPU %3.0f%%  %s"
                  % (r, n, ach, missing, late, pct(lat, 50), pct(lat, 99),
                     100.0 * (c1 - c0) / step, "sustained" if ok else "NOT sustained"))
            if ok:
                best = r
            else:
                break
        after = rss_kb(bot.pid)
        print("highest sustained rate: %.0f commands/s (each: 1 event in, 1 process, 1 post out)"
              % best)
        print("RSS after load: %d KiB (peak %d KiB)" % (after["VmRSS"], after["VmHWM"]))
        errs = ctl.call("errors")
        if errs:
            print("fake recorded %d protocol errors: %s" % (len(errs), json.dumps(errs)[:500]))
    finally:
        if bot.poll() is None:
            bot.send_signal(signal.SIGTERM)
            try:
                bot.wait(20)
            except subprocess.TimeoutExpired:
                bot.kill()
        fake.stdin.close()
        fake.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
