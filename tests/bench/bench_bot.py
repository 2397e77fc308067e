#!/usr/bin/env python3
"""bench_bot.py - figures for the running bot (console adapter, JSON output).

    python3 tests/bench/bench_bot.py [build/ackbot]

Prints:
  1. idle RSS of the bot with config/examples/ackbot.toml;
  2. how late confirmation expiries fire: N confirmations with a 1 s timeout,
     the delay between each one's deadline and its expiry (as logged by the
     bot against its monotonic clock, and as seen by this script: expiry
     message arrival minus prompt arrival minus 1 s);
  3. how long the bot takes to answer `pending` while 200 slow actions run:
     the bot's own handling time (debug log) and the round trip seen here.

Aims (from the issue): idle RSS under 10 MB, expiries within 10 ms,
`pending` answered in under 5 ms under that load. Nothing is asserted.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", ".."))
N_CONFIRM = int(os.environ.get("BENCH_CONFIRMATIONS", "1000"))
N_SLOW = int(os.environ.get("BENCH_SLOW", "200"))
N_PENDING = int(os.environ.get("BENCH_PENDING", "50"))


def binary():
    if len(sys.argv) > 1:
        return os.path.abspath(sys.argv[1])
    return os.path.join(os.environ.get("ACKBOT_BUILD_DIR", os.path.join(SRC, "build")), "ackbot")


class Proc:
    def __init__(self, args):
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.out = []           # (arrival time, obj)
        self.err = []           # (arrival time, line)
        self.cond = threading.Condition()
        threading.Thread(target=self._rd, args=(self.p.stdout, True), daemon=True).start()
        threading.Thread(target=self._rd, args=(self.p.stderr, False), daemon=True).start()

    def _rd(self, f, is_out):
        for raw in f:
            now = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self.cond:
                if is_out:
                    try:
                        self.out.append((now, json.loads(line)))
                    except ValueError:
                        pass
                else:
                    self.err.append((now, line))
                self.cond.notify_all()

    def send(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def wait_for(self, pred, n=1, timeout=120, start=0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [x for x in self.out[start:] if pred(x[1])]
                if len(hits) >= n:
                    return hits
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError("timed out waiting (%d of %d)" % (len(hits), n))
                self.cond.wait(min(left, 0.5))

    def rss_kb(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            fields = dict(line.split(":", 1) for line in f)
        return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])

    def stop(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def summary(v, unit="ms"):
    return "median %.2f %s, p99 %.2f %s, max %.2f %s (n=%d)" % (
        statistics.median(v), unit, pct(v, 99), unit, max(v), unit, len(v))


def bench_idle_rss(exe):
    p = Proc([exe, "--config", os.path.join(SRC, "config/examples/ackbot.toml"), "--json"])
    p.send("!whoami")
    p.wait_for(lambda m: m.get("event") == "post")
    time.sleep(1.0)
    rss, hwm = p.rss_kb()
    p.stop()
    print("idle RSS (example config): %.1f MB (peak %.1f MB)   aim: < 10 MB"
          % (rss / 1024.0, hwm / 1024.0))


def bench_config(tmp, level):
    with open(os.path.join(HERE, "bench_bot.toml")) as f:
        text = f.read().replace("@LEVEL@", level)
    path = os.path.join(tmp, "bench_%s.toml" % level)
    with open(path, "w") as f:
        f.write(text)
    return path


def bench_expiries(exe, tmp):
    p = Proc([exe, "--config", bench_config(tmp, "info"), "--json"])
    for i in range(N_CONFIRM):
        p.send("!hurry %d" % i)
    prompts = p.wait_for(lambda m: "needs confirmation" in m.get("text", ""), N_CONFIRM)
    expired = p.wait_for(lambda m: "expired after" in m.get("text", ""), N_CONFIRM)
    rx = re.compile(r"confirm ([0-9A-Z]{6})")
    rx2 = re.compile(r"confirmation ([0-9A-Z]{6}) for")
    t_prompt = {rx.search(m["text"]).group(1): t for t, m in prompts}
    t_exp = {rx2.search(m["text"]).group(1): t for t, m in expired}
    seen = [(t_exp[k] - t_prompt[k] - 1.0) * 1000.0 for k in t_prompt if k in t_exp]
    with p.cond:
        logged = [int(m.group(1)) for _, ln in p.err
                  for m in [re.search(r"expired: .* late_ms=(-?\d+)", ln)] if m]
    p.stop()
    spread = (max(t for t, _ in prompts) - min(t for t, _ in prompts)) * 1000.0
    print("expiries, %d confirmations with a 1 s timeout (created over %.0f ms):"
          % (N_CONFIRM, spread))
    print("  late by (bot's clock):        %s   aim: within 10 ms" % summary(logged))
    print("  prompt->expiry - 1 s (here):  %s" % summary(seen))


def bench_pending(exe, tmp):
    p = Proc([exe, "--config", bench_config(tmp, "debug"), "--json"])
    for i in range(N_SLOW):
        p.send("!sleep %d" % i)
    p.wait_for(lambda m: m.get("text", "").startswith("Running sleep"), N_SLOW)
    time.sleep(1.0)
    rtt = []
    for _ in range(N_PENDING):
        with p.cond:
            start = len(p.out)
            nerr = len(p.err)
        t0 = time.monotonic()
        p.send("!pending")
        hits = p.wait_for(lambda m: "Your commands" in m.get("text", ""), 1, start=start)
        rtt.append((hits[0][0] - t0) * 1000.0)
    time.sleep(0.2)
    with p.cond:
        handled = [int(m.group(1)) / 1000.0 for _, ln in p.err
                   for m in [re.search(r"event handled in (\d+) us", ln)] if m]
    running = len(re.findall(r"running for", hits[0][1]["text"]))
    # the last N_PENDING events handled are the pending commands
    handled = handled[-N_PENDING:]
    p.p.send_signal(15)
    try:
        p.p.wait(60)
    except subprocess.TimeoutExpired:
        p.p.kill()
    print("`pending` with %d slow actions running (%d listed):" % (N_SLOW, running))
    print("  handled in (bot):             %s   aim: < 5 ms" % summary(handled))
    print("  round trip (here, via pipes): %s" % summary(rtt))


def main():
    exe = binary()
    if not os.access(exe, os.X_OK):
        print("ackbot binary not found: %s" % exe)
        sys.exit(2)
    tmp = tempfile.mkdtemp(prefix="ackbot-bench-")
    print("ackbot benchmark: %s" % exe)
    bench_idle_rss(exe)
    bench_expiries(exe, tmp)
    bench_pending(exe, tmp)


if __name__ == "__main__":
    main()
