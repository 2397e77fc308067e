#!/usr/bin/env python3
"""test_users.py - user context end to end on the console: several speakers
(/as), access rules, help per person, approvals (quorum, self-approval,
deny, button clicks), per-user and system variables (secrets never shown),
why, and run-as a unix account.

    python3 tests/integration/test_users.py build/ackbot [name-filter...]

The scenarios are functions of a *driver* (ConsoleDriver below): speak as
someone, move to a channel or a DM, say something, click a button, expect a
post. To run them on another platform's fake, write a driver with the same
methods (see the class) and call the same scenario functions.
"""
import http.server
import json
import os
import pwd
import grp
import re
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check  # noqa: E402

suite = TestSuite()

API_KEY = "sys-key-98765"           # [vars] api_key = { env = ... }
USER_SECRET = "u-secret-4711-xyz"    # alice's `set --secret api_token`


class ConsoleDriver:
    """The platform-neutral surface the scenarios use, on the console.

    as_(user)         speak as this person (their chat identity)
    channel(name)     speak in this channel
    dm(on)            a direct message with the bot (True) or back (False)
    say(text)         send a chat message (prefix included by the caller)
    click(value)      click a button ("confirm:ID", "deny:ID", "cancel:ID")
    expect(rx, ...)   wait for a post (see harness.Bot.expect)
    expect_none(rx)   no such post
    posts()           every post so far
    sync()            everything sent so far has been handled
    dm_channel(user)  the channel name of user's DM with the bot
    """

    def __init__(self, bot):
        self.bot = bot

    def as_(self, user):
        self.bot.send("/as %s" % user)

    def channel(self, name):
        self.bot.send("/channel %s" % name)

    def dm(self, on=True):
        self.bot.send("/dm %s" % ("on" if on else "off"))

    def say(self, text):
        self.bot.send(text)

    def click(self, value):
        self.bot.send("/click %s" % value)

    def expect(self, rx, **kw):
        return self.bot.expect(rx, **kw)

    def expect_none(self, rx, settle=1.0):
        self.bot.expect_none(rx, settle)

    def posts(self):
        return self.bot.posts()

    def sync(self):
        self.bot.sync()

    @staticmethod
    def dm_channel(user):
        return "dm-%s" % user


class EchoServer:
    """A local HTTP server that records each request and answers 200."""

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n).decode()
                outer.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})
                out = json.dumps({"ok": True, "echo": body}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def start(t, runas="nobody", port=1, config="users.toml", env=None, log_level="info"):
    os.makedirs(os.path.join(t.tmp, "state"), exist_ok=True)
    e = {"ACKBOT_TEST_API_KEY": API_KEY}
    e.update(env or {})
    bot = t.bot(config, env=e, extra={"@RUNAS@": runas, "@PORT@": str(port),
                                      "@LOGLEVEL@": log_level})
    return bot, ConsoleDriver(bot)


def audit_lines(t):
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def ask(d, command, alias):
    """Sends a command that needs confirmation; returns (prompt, id)."""
    d.say(command)
    m = d.expect(r"%s needs confirmation" % alias)
    cid = re.search(r"confirm ([0-9A-Z]{6})", m["text"])
    check(cid, "the prompt names an id: %r" % m["text"])
    return m, cid.group(1)


# ---- scenarios (platform-neutral) ---------------------------------------

def scenario_refused_command(d):
    d.as_("bob")
    d.say("!restart nginx")
    m = d.expect(r"bob: you are not allowed to run restart")
    check("sre" in m["text"], "says who may: %r" % m["text"])
    d.as_("erin")                       # contractors are denied
    d.say("!restart nginx")
    m = d.expect(r"erin: you are not allowed to run restart")
    check("contractors" not in m["text"], "does not reveal the deny list: %r" % m["text"])
    d.as_("alice")
    d.channel("general")                # denied channel, even for an SRE
    d.say("!restart nginx")
    d.expect(r"alice: you are not allowed to run restart: not allowed in #general")
    d.channel("console")
    d.say("!restart nginx")
    d.expect(r"restarted nginx for alice")
    d.expect_none(r"restarted nginx for (bob|erin)")


def scenario_help_per_person(d):
    d.as_("alice")
    d.say("!help")
    m = d.expect(r"Commands \(")
    check("restart {{service}}" in m["text"], "alice sees restart: %r" % m["text"])
    check("note {{text}}" not in m["text"], "direct-only hidden in a channel: %r" % m["text"])
    check("opsjob" not in m["text"], "#ops-only hidden elsewhere: %r" % m["text"])
    d.as_("bob")
    d.say("!help")
    m = d.expect(r"Commands \(")
    check("restart" not in m["text"], "bob does not see restart: %r" % m["text"])
    check("deploy {{app}}" in m["text"], "bob sees deploy: %r" % m["text"])
    d.channel("ops")
    d.say("!help")
    m = d.expect(r"Commands \(", channel="ops")
    check("opsjob" in m["text"], "bob sees opsjob in #ops: %r" % m["text"])
    d.channel("console")
    d.as_("alice")
    d.dm(True)
    d.say("help note")
    m = d.expect(r"note \{\{text\}\}", channel=d.dm_channel("alice"))
    d.dm(False)
    d.say("!whoami")
    m = d.expect(r"^You are alice")
    check("sre" in m["text"] and "restart" in m["text"], "whoami: %r" % m["text"])


def scenario_quorum(d):
    d.as_("bob")
    prompt, cid = ask(d, "!deploy web", "deploy")
    check("2 approvals from members of sre, not bob" in prompt["text"],
          "the prompt names who may approve: %r" % prompt["text"])
    check("/bin/echo deployed web 'requested by' bob" in prompt["text"],
          "the exact resolved command: %r" % prompt["text"])
    d.as_("alice")
    d.say("!confirm %s" % cid)
    m = d.expect(r"alice approved %s \(deploy\): 1 of 2 approvals" % cid)
    d.say("!confirm %s" % cid)           # the same approver again
    m = d.expect(r"alice: cannot confirm %s: you have already approved it" % cid)
    d.expect_none(r"deployed web")
    d.as_("carol")                       # sre through [groups.sre].members
    d.say("!confirm %s" % cid)
    d.expect(r"carol approved %s \(deploy\): 2 of 2 approvals; it runs now" % cid)
    d.expect(r"deployed web requested by bob")
    d.as_("dave")
    d.say("!confirm %s" % cid)
    m = d.expect(r"dave: cannot confirm %s" % cid)
    check("already confirmed" in m["text"], "single use: %r" % m["text"])
    d.sync()
    ran = [p for p in d.posts() if "deployed web requested by bob" in p["text"]]
    check(len(ran) == 1, "ran exactly once: %d" % len(ran))


def scenario_self_approval_refused(d):
    d.as_("alice")
    _, cid = ask(d, "!deploy api", "deploy")
    d.say("!confirm %s" % cid)
    m = d.expect(r"alice: cannot confirm %s" % cid)
    check("someone else" in m["text"], "says why: %r" % m["text"])
    d.as_("bob")                         # not an approver at all
    d.say("!confirm %s" % cid)
    m = d.expect(r"bob: cannot confirm %s" % cid)
    check("sre" in m["text"], "names the approvers: %r" % m["text"])
    d.expect_none(r"deployed api")
    # rotate allows self-approval: one approval from the requester is enough
    _, c2 = ask(d, "!rotate keys", "rotate")
    d.say("!confirm %s" % c2)
    d.expect(r"rotated keys")


def scenario_clicks_checked_on_server(d):
    d.as_("bob")
    _, cid = ask(d, "!deploy shop", "deploy")
    d.as_("erin")
    d.click("confirm:%s" % cid)          # not an approver: refused
    m = d.expect(r"erin: cannot confirm %s" % cid)
    check("approver" in m["text"], "says who may: %r" % m["text"])
    d.click("deny:%s" % cid)
    d.expect(r"erin: cannot deny %s" % cid)
    d.as_("bob")
    d.click("confirm:%s" % cid)          # the requester, self not allowed
    d.expect(r"bob: cannot confirm %s" % cid)
    d.as_("alice")
    d.click("confirm:%s" % cid)
    d.expect(r"alice approved %s" % cid)
    d.as_("dave")
    d.click("deny:%s" % cid)             # an approver turns it down
    m = d.expect(r"dave denied %s \(deploy\) requested by bob" % cid)
    check("Nothing ran" in m["text"], "nothing ran: %r" % m["text"])
    d.as_("carol")
    d.click("confirm:%s" % cid)          # an old button
    m = d.expect(r"carol: cannot confirm %s" % cid)
    check("already denied" in m["text"], "says it was denied: %r" % m["text"])
    d.expect_none(r"deployed shop")


def scenario_deny_command(d):
    d.as_("bob")
    _, cid = ask(d, "!deploy blog", "deploy")
    d.as_("erin")
    d.say("!deny %s" % cid)
    d.expect(r"erin: cannot deny %s" % cid)
    d.as_("carol")
    d.say("!deny %s" % cid)
    d.expect(r"carol denied %s" % cid)
    d.as_("bob")
    d.say("!cancel %s" % cid)
    m = d.expect(r"bob: cannot cancel %s" % cid)
    check("denied" in m["text"], "it is over: %r" % m["text"])
    d.expect_none(r"deployed blog")


def scenario_user_variable(d, secret=USER_SECRET):
    d.as_("alice")
    d.say("!set --secret api_token %s" % secret)     # in a channel: refused
    m = d.expect(r"alice: `set` only works in a direct message")
    check("Nothing was saved" in m["text"], "says nothing was saved: %r" % m["text"])
    d.say("!tokencheck")                 # not set yet: empty token
    d.expect(r"token for alice: , env: ")
    d.dm(True)
    d.say("set --secret api_token %s" % secret)
    d.expect(r"Saved api_token as a secret", channel=d.dm_channel("alice"))
    d.say("set color blue")
    d.expect(r"Saved color\.", channel=d.dm_channel("alice"))
    d.say("set region us-east-1")       # the config sets it: refused
    d.expect(r"region is set for you by the configuration")
    d.say("vars")
    m = d.expect(r"alice, your variables:", channel=d.dm_channel("alice"))
    check("api_token (secret" in m["text"] and "color = blue" in m["text"],
          "lists names; secret values never: %r" % m["text"])
    d.dm(False)
    d.say("!tokencheck")
    m = d.expect(r"token for alice: \*\*\*, env: \*\*\*")
    d.say("!region")
    d.expect(r"alice is in eu-west-1")
    d.say("!why tokencheck")
    m = d.expect(r"would run tokencheck")
    check("token=***" in m["text"], "why masks it too: %r" % m["text"])
    d.say("!vars")
    m = d.expect(r"alice, your variables \(names only here")
    check("blue" not in m["text"], "no values in a channel: %r" % m["text"])
    d.as_("bob")                         # bob has no such variable
    d.say("!tokencheck")
    d.expect(r"token for bob: , env: ")
    d.sync()
    leaked = [p for p in d.posts() if secret in p["text"]]
    check(not leaked, "the secret never appears in a post: %r" % leaked)


def scenario_why(d):
    d.as_("alice")
    d.say("!why restart nginx")
    m = d.expect(r"`!restart nginx` would run restart")
    t = m["text"]
    check("format `restart {{service}}`" in t, "names the format: %r" % t)
    check("service=nginx" in t, "the parameters: %r" % t)
    check("allowed. Decided by access.groups" in t, "the verdict and rule: %r" % t)
    check("/bin/echo restarted nginx for alice" in t, "what would run: %r" % t)
    check("Nothing was run." in t, "runs nothing: %r" % t)
    d.as_("erin")
    d.say("!why restart nginx")
    m = d.expect(r"would run restart")
    check("refused. Decided by access.deny_groups" in m["text"], "deny rule: %r" % m["text"])
    check("/bin/echo" not in m["text"], "no action shown when refused: %r" % m["text"])
    d.say("!why deploy x")
    m = d.expect(r"would run deploy")
    check("2 approvals" in m["text"] and "may not approve your own" in m["text"],
          "the confirmation: %r" % m["text"])
    d.say("!why frobnicate")
    d.expect(r"matches no command")
    d.expect_none(r"restarted nginx")
    d.expect_none(r"deploy(ed)? x")


# ---- tests (console) ------------------------------------------------------

@suite.test
def test_refused_command(t):
    bot, d = start(t)
    scenario_refused_command(d)
    check(bot.finish() == 0, "exit status 0")
    denied = [ln for ln in audit_lines(t) if ln["event"] == "denied"]
    check(len(denied) == 3, "three denials audited: %r" % denied)
    check(denied[0]["who"]["user"] == "bob" and denied[0]["who"]["user_id"] == "bob",
          "canonical user and chat id: %r" % denied[0])
    check("rule=access.groups" in denied[0].get("detail", ""), "the rule: %r" % denied[0])
    check("rule=access.deny_groups" in denied[1].get("detail", ""), "%r" % denied[1])


@suite.test
def test_help_filtered_per_person(t):
    bot, d = start(t)
    scenario_help_per_person(d)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_quorum_by_second_approver(t):
    bot, d = start(t)
    scenario_quorum(d)
    check(bot.finish() == 0, "exit status 0")
    lines = audit_lines(t)
    conf = [ln for ln in lines if ln["event"] == "confirmed"]
    check(conf and "alice" in conf[0].get("detail", "") and "carol" in conf[0]["detail"],
          "the audit names the approvers: %r" % conf)
    appr = [ln for ln in lines if ln["event"] == "approved"]
    check(len(appr) == 1 and appr[0]["who"]["user"] == "alice", "one partial approval: %r"
          % appr)
    started = [ln for ln in lines if ln["event"] == "started" and ln.get("alias") == "deploy"]
    check(len(started) == 1 and started[0]["who"]["user"] == "bob",
          "runs once, for the requester: %r" % started)


@suite.test
def test_self_approval_refused(t):
    bot, d = start(t)
    scenario_self_approval_refused(d)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_button_click_by_non_approver_refused(t):
    bot, d = start(t)
    scenario_clicks_checked_on_server(d)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_deny_builtin(t):
    bot, d = start(t)
    scenario_deny_command(d)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_user_variable_secret_never_shown(t):
    bot, d = start(t)
    scenario_user_variable(d)
    check(bot.finish() == 0, "exit status 0")
    path = os.path.join(t.tmp, "state", "ackbot-vars.json")
    st = os.stat(path)
    check(st.st_mode & 0o777 == 0o600, "state file mode 0600: %o" % st.st_mode)
    check(os.listdir(os.path.dirname(path)) == ["ackbot-vars.json"], "no temp file left")
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        audit = f.read()
    check(USER_SECRET not in audit, "the secret is not in the audit log")
    check("***" in audit, "it is masked there")
    check(not any(USER_SECRET in ln for ln in bot.log), "the secret is not in the log")
    # a new process loads the file: the variable is still there
    bot2, d2 = start(t)
    d2.say("!tokencheck")
    d2.expect(r"token for alice: \*\*\*")
    check(bot2.finish() == 0, "exit status 0")
    check(not any(USER_SECRET in p["text"] for p in bot2.posts()), "masked after restart")


@suite.test
def test_unset_and_debug_log_hides_values(t):
    bot, d = start(t, log_level="debug")
    d.dm(True)
    d.say("set --secret api_token %s" % USER_SECRET)
    d.expect(r"Saved api_token")
    d.say("unset api_token")
    d.expect(r"Removed api_token")
    d.say("unset api_token")
    d.expect(r"you have no variable api_token")
    d.dm(False)
    d.say("!tokencheck")
    d.expect(r"token for alice: , env: ")
    check(bot.finish() == 0, "exit status 0")
    with open(os.path.join(t.tmp, "state", "ackbot-vars.json"), encoding="utf-8") as f:
        check(USER_SECRET not in f.read(), "gone from the file")
    check(any("set (the rest is not logged)" in ln for ln in bot.log),
          "the debug log shows the command word only: %r" % bot.log[-20:])
    check(not any(USER_SECRET in ln for ln in bot.log), "no value in the debug log")


@suite.test
def test_guest_cannot_set(t):
    bot, d = start(t)
    d.as_("mallory")
    d.dm(True)
    d.say("set x somevalue")
    d.expect(r"guest user\), so I keep no variables")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_corrupt_state_file_refuses_to_start(t):
    os.makedirs(os.path.join(t.tmp, "state"), exist_ok=True)
    path = os.path.join(t.tmp, "state", "ackbot-vars.json")
    with open(path, "w") as f:
        f.write('{"version": 1, "users": {"alice": {"token": ')
    cfg = t.config("users.toml", {"@RUNAS@": "nobody", "@PORT@": "1", "@LOGLEVEL@": "info"})
    env = dict(os.environ, ACKBOT_TEST_API_KEY=API_KEY)
    p = subprocess.run(suite.wrapper + [suite.binary, "--config", cfg], input=b"",
                       capture_output=True, env=env, timeout=60)
    err = p.stderr.decode()
    check(p.returncode == 2, "refuses to start: %d %s" % (p.returncode, err))
    check(path in err and "not valid JSON" in err, "says which file and why: %s" % err)
    with open(path) as f:
        check(f.read().startswith('{"version": 1, "users"'), "the file is left alone")


@suite.test
def test_system_secret_and_http_user_context(t):
    srv = EchoServer()
    try:
        bot, d = start(t, port=srv.port)
        d.dm(True)
        d.say("set --secret api_token %s" % USER_SECRET)
        d.expect(r"Saved api_token")
        d.dm(False)
        d.say("!syskey")
        d.expect(r"key=\*\*\* site=test-site")
        d.say("!callapi widget")
        m = d.expect(r"callapi \(c\d+\) succeeded")
        check(API_KEY not in m["text"], "system secret masked in the result: %r" % m["text"])
        check(bot.finish() == 0, "exit status 0")
    finally:
        srv.close()
    check(len(srv.requests) == 1, "one request: %r" % srv.requests)
    r = srv.requests[0]
    h = {k.lower(): v for k, v in r["headers"].items()}
    check(h.get("x-ackbot-user") == "alice", "user header: %r" % h)
    check(h.get("authorization") == "Bearer " + USER_SECRET, "per-user token header: %r" % h)
    body = json.loads(r["body"])
    check(body == {"user": "alice", "groups": ["sre"], "thing": "widget", "key": API_KEY},
          "body from templates: %r" % body)
    for p in bot.posts():
        check(API_KEY not in p["text"] and USER_SECRET not in p["text"], "masked: %r" % p)
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        a = f.read()
    check(API_KEY not in a and USER_SECRET not in a, "no secret in the audit log")


@suite.test
def test_why_runs_nothing(t):
    bot, d = start(t)
    scenario_why(d)
    check(bot.finish() == 0, "exit status 0")
    check(not any(ln["event"] in ("started", "requested") for ln in audit_lines(t)),
          "why is not a request")


@suite.test
def test_default_policy_deny(t):
    bot, d = start(t, config="users_deny.toml")
    d.as_("bob")
    d.say("!hello")
    d.expect(r"bob: you are not allowed to run hello: no access rule grants it")
    d.say("!help")
    m = d.expect(r"Commands|no commands|Built-in")
    check("hello" not in m["text"].split("Built-in")[0], "hidden from help: %r" % m["text"])
    d.say("!sre-hello")
    d.expect(r"not allowed to run sre-hello")
    d.as_("alice")
    d.say("!sre-hello")
    d.expect(r"hello sre alice")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_run_as_unix_account(t):
    if os.geteuid() != 0:
        print("SKIP test_run_as_unix_account: not running as root, so ackbot cannot "
              "switch to another account and the test cannot create one", flush=True)
        return
    if not (os.path.exists("/usr/sbin/useradd") or os.path.exists("/sbin/useradd")):
        print("SKIP test_run_as_unix_account: useradd is not installed", flush=True)
        return
    suffix = str(os.getpid())
    user, group = "ackbott%s" % suffix, "ackbotg%s" % suffix
    made_user = made_group = False
    try:
        subprocess.run(["groupadd", group], check=True)
        made_group = True
        subprocess.run(["useradd", "-M", "-N", "-g", "nogroup", "-G", group, "-s",
                        "/usr/sbin/nologin", user], check=True)
        made_user = True
        uid = pwd.getpwnam(user).pw_uid
        gid = pwd.getpwnam(user).pw_gid
        sgid = grp.getgrnam(group).gr_gid
        bot, d = start(t, runas=user)
        d.say("!unix-id")
        m = d.expect(r"uid=\d+ gid=\d+ groups=")
        out = re.search(r"uid=(\d+) gid=(\d+) groups=([\d ]+) user=(\S+)", m["text"])
        check(out, "id output: %r" % m["text"])
        check(int(out.group(1)) == uid and int(out.group(2)) == gid and
              out.group(4) == user, "runs as %s: %r" % (user, m["text"]))
        groups = [int(x) for x in out.group(3).split()]
        check(0 not in groups or gid == 0, "no root group: %r" % groups)
        helper = os.path.join(os.environ.get("ACKBOT_BUILD_DIR", ""), "ackbot-runas")
        if os.path.exists(helper):
            check(sgid in groups, "supplementary group %d set by ackbot-runas: %r"
                  % (sgid, groups))
        else:
            print("NOTE test_run_as_unix_account: %s is not built, so the supplementary "
                  "group is not checked (libuv drops them; see docs/users.md)" % helper,
                  flush=True)
        d.as_("bob")                     # no unix_user: refused before running
        d.say("!unix-id")
        m = d.expect(r"bob: cannot run whoami-unix")
        check("unix account" in m["text"], "says why: %r" % m["text"])
        check(bot.finish() == 0, "exit status 0")
        check(not any("uid=0 " in p["text"] for p in bot.posts()), "never as root")
    finally:
        if made_user:
            subprocess.run(["userdel", user], check=False)
        if made_group:
            subprocess.run(["groupdel", group], check=False)


if __name__ == "__main__":
    suite.main()
