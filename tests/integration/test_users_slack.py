#!/usr/bin/env python3
"""test_users_slack.py - the user-context scenarios of test_users.py, end to
end on Slack: the real ackbot binary against the fake Slack, with several
people (alice, bob, carol, dave, erin: the fake's users, two of them added
through its control API), each mapped by their Slack user id in
configs/users_slack.toml.

Scenarios: a refused command (group, deny group, deny channel); help (and
whoami) filtered per person; an approval by a second person reaching the
quorum; a self-approval refused; button clicks (real block_actions
envelopes) by a non-approver refused; a per-user secret variable set in a
direct message (channel_type im) and used by an action without appearing in
the channel; run-as a unix account (as root only; otherwise skipped with the
reason). No secret ever reaches what the bot sent to Slack (posts, updates,
every Web API call), its log or its audit log.

    python3 tests/integration/test_users_slack.py build/ackbot [name-filter...]
"""
import grp
import json
import os
import pwd
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import WAIT, TestFailure, TestSuite, check  # noqa: E402
from slack_harness import FakeSlack, SlackBot, acked, main_or_skip  # noqa: E402
import test_users as U  # noqa: E402  (the console scenarios)

suite = TestSuite()

USERS = {"alice": "U0HUMAN01", "bob": "U0HUMAN02", "carol": "U0HUMAN03",
         "dave": "U0HUMAN04", "erin": "U0HUMAN05"}
CHANNELS = {"console": "C0RANDOM1", "general": "C0GENERAL", "ops": "C0OPS0001"}
DMS = {"alice": "D0DM00001", "bob": "D0DM00002", "carol": "D0DM00003",
       "dave": "D0DM00004", "erin": "D0DM00005"}


def button_values(post):
    return [e.get("value") for b in (post.get("blocks") or []) if b.get("type") == "actions"
            for e in b.get("elements", [])]


class SlackDriver:
    """test_users.ConsoleDriver's surface on the fake Slack: people are Slack
    user ids, channels are channel ids ("console" is #random, where the
    console scenarios speak by default), a DM is the person's im channel,
    and a click is a block_actions envelope from the clicker."""

    def __init__(self, fake):
        self.fake = fake
        self.user = "alice"
        self.chan = "console"
        self.direct = False
        self.used = set()

    def as_(self, user):
        self.user = user

    def channel(self, name):
        self.chan = name

    def dm(self, on=True):
        self.direct = on

    def where(self):
        return DMS[self.user] if self.direct else CHANNELS[self.chan]

    def say(self, text):
        acked(self.fake, self.fake.inject_message(text, channel=self.where(),
                                                  user=USERS[self.user]))

    def click(self, value):
        # the message the button was posted on: it may be gone from it by
        # now (a decided prompt is replaced), as with an old client view
        src = [p for p in self.fake.get("posts") if value in button_values(p)]
        check(src, "a button %s was posted" % value)
        r = self.fake.ctl("inject_click", {
            "value": value, "user": USERS[self.user], "channel": src[-1]["channel"],
            "message_ts": src[-1]["ts"], "force": True})
        acked(self.fake, {"envelopes": [{"envelope_id": r["envelope_id"]}]})

    def _describe(self):
        return "\n".join("  %s%s %s %r" % ("x" if p["seq"] in self.used else " ", p["channel"],
                                            p.get("thread_ts"), (p.get("text") or "")[:160])
                         for p in self.fake.get("posts"))

    def expect(self, rx, timeout=None, channel=None, thread=Ellipsis, pred=None):
        r = re.compile(rx, re.S)
        want = None if channel is None else CHANNELS.get(channel, channel)
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        while True:
            for p in self.fake.get("posts"):
                if p["seq"] in self.used or not r.search(p.get("text") or ""):
                    continue
                if want is not None and p["channel"] != want:
                    continue
                if pred is not None and not pred(p):
                    continue
                self.used.add(p["seq"])
                return p
            if time.monotonic() > deadline:
                raise TestFailure("no post matching %r (channel %r); posts:\n%s"
                                  % (rx, want, self._describe()))
            time.sleep(0.1)

    def expect_none(self, rx, settle=1.0):
        time.sleep(settle)
        r = re.compile(rx, re.S)
        for p in self.fake.get("posts"):
            if p["seq"] not in self.used and r.search(p.get("text") or ""):
                raise TestFailure("unexpected post %r" % p["text"][:300])

    def posts(self):
        return self.fake.get("posts")

    def sync(self):
        self.say("!whoami")
        self.expect(r"^You (are|are not)")

    @staticmethod
    def dm_channel(user):
        return DMS[user]


def setup_people(fake):
    fake.ctl("add_user", {"id": USERS["dave"], "name": "dave", "real_name": "Dave Example"})
    fake.ctl("add_user", {"id": USERS["erin"], "name": "erin", "real_name": "Erin Example"})
    fake.ctl("add_channel", {"id": CHANNELS["ops"], "type": "channel", "name": "ops"})
    for name in ("carol", "dave", "erin"):
        fake.ctl("add_channel", {"id": DMS[name], "type": "im", "user": USERS[name]})


def start(t, fake, runas="nobody"):
    setup_people(fake)
    os.makedirs(os.path.join(t.tmp, "state"), exist_ok=True)
    cfg = t.config("users_slack.toml", {"@API@": fake.api, "@RUNAS@": runas})
    env = {"SLACK_BOT_TOKEN": fake.info["bot_token"], "SLACK_APP_TOKEN": fake.info["app_token"],
           "ACKBOT_TEST_API_KEY": U.API_KEY}
    bot = SlackBot(t.suite.binary, cfg, env=env, tmpdir=t.tmp, wrapper=t.suite.wrapper)
    t.bots.append(bot)
    try:
        fake.wait("connections", 1, state="open")
    except TestFailure:
        raise TestFailure("the bot did not connect\n%s" % bot._describe())
    return bot, SlackDriver(fake)


def stop(bot, fake):
    rc = bot.stop()
    check(rc == 0, "exit status 0, got %r\n%s" % (rc, bot._describe()))
    fake.assert_no_errors()


def no_secrets(t, bot, fake, secrets=(U.API_KEY, U.USER_SECRET)):
    """No secret in anything the bot sent to Slack (every Web API call:
    posts with their blocks, updates), in its log or in its audit log. The
    tokens neither."""
    sent = json.dumps(fake.get("calls"))
    sent += json.dumps(fake.get("posts")) + json.dumps(fake.get("updates"))
    audit = ""
    path = os.path.join(t.tmp, "audit.jsonl")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            audit = f.read()
    for s in list(secrets) + [fake.info["bot_token"], fake.info["app_token"]]:
        check(s not in sent, "a secret reached Slack: %s" % s)
        check(not any(s in ln for ln in bot.log), "a secret reached the log: %s" % s)
        check(s not in audit, "a secret reached the audit log: %s" % s)


def audit_lines(t):
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def scenario_refused_command(d):
    """test_users.scenario_refused_command with Slack's channel naming: the
    bot is not given channel names, so #general is #C0GENERAL."""
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
    d.expect(r"alice: you are not allowed to run restart: not allowed in #C0GENERAL",
             channel="general")
    d.channel("console")
    d.say("!restart nginx")
    d.expect(r"restarted nginx for alice", channel="console")
    d.expect_none(r"restarted nginx for (bob|erin)")


# ---- tests -----------------------------------------------------------------

@suite.test
def test_refused_command(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        scenario_refused_command(d)
        stop(bot, fake)
    denied = [ln for ln in audit_lines(t) if ln["event"] == "denied"]
    check(len(denied) == 3, "three denials audited: %r" % denied)
    check(denied[0]["who"]["user"] == "bob" and denied[0]["who"]["user_id"] == USERS["bob"]
          and denied[0]["who"]["platform"] == "slack",
          "canonical user and Slack user id: %r" % denied[0])
    check("rule=access.deny_groups" in denied[1].get("detail", ""), "%r" % denied[1])
    check("rule=access.deny_channels" in denied[2].get("detail", ""), "%r" % denied[2])


@suite.test
def test_help_filtered_per_person(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        U.scenario_help_per_person(d)
        stop(bot, fake)


@suite.test
def test_quorum_by_second_approver(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        U.scenario_quorum(d)
        # the prompt's buttons were replaced by the outcome
        ups = fake.get("updates")
        check(len(ups) == 2, "a progress update, then the outcome: %r" % ups)
        check("Approved so far by alice: 1 of 2" in ups[0]["text"] and ups[0]["blocks"],
              "after alice: buttons kept: %r" % ups[0])
        check("Approved by alice, carol" in ups[1]["text"] and not ups[1]["blocks"],
              "after carol: the outcome, no buttons: %r" % ups[1])
        stop(bot, fake)
    lines = audit_lines(t)
    conf = [ln for ln in lines if ln["event"] == "confirmed"]
    check(conf and "alice" in conf[0].get("detail", "") and "carol" in conf[0]["detail"],
          "the audit names the approvers: %r" % conf)
    started = [ln for ln in lines if ln["event"] == "started" and ln.get("alias") == "deploy"]
    check(len(started) == 1 and started[0]["who"]["user"] == "bob",
          "runs once, for the requester: %r" % started)


@suite.test
def test_self_approval_refused(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        U.scenario_self_approval_refused(d)
        stop(bot, fake)


@suite.test
def test_button_click_by_non_approver_refused(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        U.scenario_clicks_checked_on_server(d)
        clicks = fake.get("envelopes", type="interactive")
        check(len(clicks) == 6, "the six clicks were Slack block_actions: %r" % len(clicks))
        ups = fake.get("updates")
        check(len(ups) == 2 and "Denied by dave" in ups[-1]["text"] and not ups[-1]["blocks"],
              "refused clicks change nothing; the deny replaces the buttons: %r" % ups)
        stop(bot, fake)
    refused = [ln for ln in audit_lines(t) if ln["event"] == "refused"]
    check(any(ln["who"]["user"] == "erin" for ln in refused), "erin's click audited: %r"
          % refused)


@suite.test
def test_deny_builtin(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        U.scenario_deny_command(d)
        stop(bot, fake)


@suite.test
def test_user_variable_set_in_dm_never_shown(t):
    with FakeSlack() as fake:
        bot, d = start(t, fake)
        U.scenario_user_variable(d)
        # the variable was set in alice's im channel (events carry channel_type "im")
        dm = [c for c in fake.get("info")["channels"] if c["id"] == DMS["alice"]]
        check(dm and dm[0]["type"] == "im", "alice's DM is an im: %r" % dm)
        sets = [m for m in fake.get("messages", channel=DMS["alice"], user=USERS["alice"])
                if (m.get("text") or "").startswith("set --secret api_token")]
        check(len(sets) == 1, "the secret was typed in the DM only: %r" % sets)
        d.as_("alice")
        d.say("!syskey")
        d.expect(r"key=\*\*\* site=test-site")
        d.sync()
        stop(bot, fake)
        no_secrets(t, bot, fake)
    path = os.path.join(t.tmp, "state", "ackbot-vars.json")
    check(os.stat(path).st_mode & 0o777 == 0o600, "the store is mode 0600")
    with open(path, encoding="utf-8") as f:
        check(json.load(f)["users"]["alice"]["api_token"]["secret"] is True, "kept as a secret")


@suite.test
def test_run_as_unix_account(t):
    if os.geteuid() != 0:
        print("SKIP test_run_as_unix_account: not running as root, so ackbot cannot switch "
              "to another account and the test cannot create one", flush=True)
        return
    if not (os.path.exists("/usr/sbin/useradd") or os.path.exists("/sbin/useradd")):
        print("SKIP test_run_as_unix_account: useradd is not installed", flush=True)
        return
    suffix = str(os.getpid())
    user, group = "ackbots%s" % suffix, "ackbosg%s" % suffix
    made_user = made_group = False
    try:
        subprocess.run(["groupadd", group], check=True)
        made_group = True
        subprocess.run(["useradd", "-M", "-N", "-g", "nogroup", "-G", group, "-s",
                        "/usr/sbin/nologin", user], check=True)
        made_user = True
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        sgid = grp.getgrnam(group).gr_gid
        with FakeSlack() as fake:
            bot, d = start(t, fake, runas=user)
            d.say("!unix-id")
            m = d.expect(r"uid=\d+ gid=\d+ groups=")
            out = re.search(r"uid=(\d+) gid=(\d+) groups=([\d ]+) user=(\S+)", m["text"])
            check(out, "id output: %r" % m["text"])
            check(int(out.group(1)) == uid and int(out.group(2)) == gid and
                  out.group(4) == user, "runs as %s: %r" % (user, m["text"]))
            groups = [int(x) for x in out.group(3).split()]
            helper = os.path.join(os.path.dirname(t.suite.binary), "ackbot-runas")
            if os.path.exists(helper):
                check(sgid in groups, "supplementary group %d: %r" % (sgid, groups))
            d.as_("bob")                 # no unix_user: refused before running
            d.say("!unix-id")
            m = d.expect(r"bob: cannot run whoami-unix")
            check("unix account" in m["text"], "says why: %r" % m["text"])
            stop(bot, fake)
            check(not any("uid=0 " in (p.get("text") or "") for p in fake.get("posts")),
                  "never as root")
    finally:
        if made_user:
            subprocess.run(["userdel", user], check=False)
        if made_group:
            subprocess.run(["groupdel", group], check=False)


if __name__ == "__main__":
    main_or_skip(suite)
