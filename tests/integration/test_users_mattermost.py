#!/usr/bin/env python3
"""test_users_mattermost.py - the user-context scenarios of test_users.py,
end to end on Mattermost: the real ackbot binary against the fake
Mattermost, with several people (alice, bob, carol: the fake's users; dave
and erin added through its control API), each mapped by their Mattermost
user id in configs/users_mattermost.toml. The test adds the channels
#general and #console, so that the console scenarios run unchanged.

Scenarios: a refused command (group, deny group, deny channel); help (and
whoami) filtered per person; an approval by a second person reaching the
quorum; a self-approval refused; a confirmation by a non-approver refused
(Mattermost has no buttons in ackbot: each "click" of the console scenario
is typed as `!confirm ID` / `!deny ID` here, and the output says so); a
per-user secret variable set in a direct message and used by an action
without appearing in the channel; run-as a unix account (as root only;
otherwise skipped with the reason). No secret ever reaches what the bot
sent to Mattermost (every REST call: posts, edits), its log or its audit log.

    python3 tests/integration/test_users_mattermost.py build/ackbot [name-filter...]
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
from harness import render_config  # noqa: E402
from mm_harness import (ALICE, BOB, BOT_ID, WAIT, MMBot, MMSuite,  # noqa: E402
                        TestFailure, check)
import test_users as U  # noqa: E402  (the console scenarios)

suite = MMSuite()

USERS = {"alice": ALICE, "bob": BOB, "carol": "carol000000000000000000000",
         "dave": "dave0000000000000000000000", "erin": "erin0000000000000000000000"}
# "console" is where the console scenarios speak by default
CHANNELS = {"console": "console", "general": "general", "ops": "ops"}


class MMDriver:
    """test_users.ConsoleDriver's surface on the fake Mattermost: people are
    Mattermost users, channels are channel names, a DM is the person's
    direct channel with the bot. There are no buttons: a click is typed."""

    def __init__(self, fake):
        self.fake = fake
        self.user = "alice"
        self.chan = "console"
        self.direct = False
        self.used = set()
        self.ids = {}           # channel argument -> channel id
        for c in fake.ctl("info")["channels"]:
            self.ids[c["name"]] = c["id"]

    def as_(self, user):
        self.user = user

    def channel(self, name):
        self.chan = name

    def dm(self, on=True):
        self.direct = on

    def where(self):
        return "@" + self.user if self.direct else CHANNELS[self.chan]

    def say(self, text):
        where = self.where()
        p = self.fake.inject(text, user=USERS[self.user], channel=where)
        self.ids[where] = p["channel_id"]

    def click(self, value):
        verb, cid = value.split(":", 1)
        print("NOTE no buttons on Mattermost: %s's click on %s is typed as `!%s %s`"
              % (self.user, value, verb, cid), flush=True)
        self.say("!%s %s" % (verb, cid))

    def _posts(self):
        return [dict(p, text=p.get("message") or "") for p in self.fake.posts()]

    def expect(self, rx, timeout=None, channel=None, thread=Ellipsis, pred=None):
        r = re.compile(rx, re.S)
        want = None if channel is None else self.ids.get(CHANNELS.get(channel, channel))
        if channel is not None and want is None:
            raise TestFailure("unknown channel %r" % channel)
        deadline = time.monotonic() + (timeout if timeout is not None else WAIT)
        while True:
            for p in self._posts():
                if p["id"] in self.used or not r.search(p["text"]):
                    continue
                if want is not None and p["channel_id"] != want:
                    continue
                if pred is not None and not pred(p):
                    continue
                self.used.add(p["id"])
                return p
            if time.monotonic() > deadline:
                raise TestFailure("no post matching %r (channel %r); posts:\n%s" % (
                    rx, channel, "\n".join("  %s%s %r" % (
                        "x" if p["id"] in self.used else " ", p["channel_name"],
                        p["text"][:160]) for p in self._posts())))
            time.sleep(0.1)

    def expect_none(self, rx, settle=1.0):
        time.sleep(settle)
        r = re.compile(rx, re.S)
        for p in self._posts():
            if p["id"] not in self.used and r.search(p["text"]):
                raise TestFailure("unexpected post %r" % p["text"][:300])

    def posts(self):
        return self._posts()

    def sync(self):
        self.say("!whoami")
        self.expect(r"^You (are|are not)")

    @staticmethod
    def dm_channel(user):
        return "@" + user


def setup_people(fake):
    everyone = [BOT_ID] + list(USERS.values())
    for name in ("dave", "erin"):
        fake.ctl("add_user", {"username": name, "id": USERS[name],
                              "channels": ["town-square", "ops"]})
    for name in ("carol",):
        fake.ctl("add_member", {"channel": "ops", "user": USERS[name]})
    fake.ctl("add_channel", {"type": "O", "name": "general", "display_name": "General",
                             "members": everyone})
    fake.ctl("add_channel", {"type": "O", "name": "console", "display_name": "Console",
                             "members": everyone})


def start(t, fake, runas="nobody"):
    setup_people(fake)
    os.makedirs(os.path.join(t.tmp, "state"), exist_ok=True)
    os.environ["ACKBOT_TEST_API_KEY"] = U.API_KEY
    cfg = render_config("users_mattermost.toml", t.tmp, {"@URL@": fake.url, "@RUNAS@": runas})
    bot = MMBot(t.suite.binary, cfg, fake.token, t.tmp, t.suite.wrapper)
    t.bots.append(bot)
    bot.expect_log(r"mattermost: connected \(connection ")
    return bot, MMDriver(fake)


def stop(bot):
    rc = bot.stop()
    check(rc == 0, "exit status 0, got %r" % rc)


def no_secrets(t, bot, fake, secrets=(U.API_KEY, U.USER_SECRET)):
    """No secret in anything the bot sent to Mattermost (every REST call,
    posts, edits), in its log or in its audit log. The token neither."""
    sent = json.dumps(fake.ctl("calls")) + json.dumps(fake.posts())
    sent += json.dumps(fake.ctl("updates"))
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        audit = f.read()
    for s in list(secrets):
        check(s not in sent, "a secret reached Mattermost: %s" % s)
        check(not any(s in ln for ln in bot.log), "a secret reached the log: %s" % s)
        check(s not in audit, "a secret reached the audit log: %s" % s)
    check(fake.token not in audit, "the token is not in the audit log")


def audit_lines(t):
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


# ---- tests -----------------------------------------------------------------

@suite.test
def test_refused_command(t):
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_refused_command(d)
    stop(bot)
    denied = [ln for ln in audit_lines(t) if ln["event"] == "denied"]
    check(len(denied) == 3, "three denials audited: %r" % denied)
    check(denied[0]["who"]["user"] == "bob" and denied[0]["who"]["user_id"] == BOB
          and denied[0]["who"]["platform"] == "mattermost",
          "canonical user and Mattermost user id: %r" % denied[0])
    check("rule=access.deny_groups" in denied[1].get("detail", ""), "%r" % denied[1])
    check("rule=access.deny_channels" in denied[2].get("detail", ""), "%r" % denied[2])


@suite.test
def test_help_filtered_per_person(t):
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_help_per_person(d)
    stop(bot)


@suite.test
def test_quorum_by_second_approver(t):
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_quorum(d)
    check(fake.ctl("updates") == [], "no buttons, so no edits: %r" % fake.ctl("updates"))
    stop(bot)
    lines = audit_lines(t)
    conf = [ln for ln in lines if ln["event"] == "confirmed"]
    check(conf and "alice" in conf[0].get("detail", "") and "carol" in conf[0]["detail"],
          "the audit names the approvers: %r" % conf)
    started = [ln for ln in lines if ln["event"] == "started" and ln.get("alias") == "deploy"]
    check(len(started) == 1 and started[0]["who"]["user"] == "bob",
          "runs once, for the requester: %r" % started)


@suite.test
def test_self_approval_refused(t):
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_self_approval_refused(d)
    stop(bot)


@suite.test
def test_typed_confirm_by_non_approver_refused(t):
    print("NOTE Mattermost has no buttons in ackbot (docs/mattermost.md): the console's "
          "button-click scenario runs with typed confirm/deny commands", flush=True)
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_clicks_checked_on_server(d)
    stop(bot)
    refused = [ln for ln in audit_lines(t) if ln["event"] == "refused"]
    check(any(ln["who"]["user"] == "erin" for ln in refused), "erin's confirm audited: %r"
          % refused)


@suite.test
def test_deny_builtin(t):
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_deny_command(d)
    stop(bot)


@suite.test
def test_user_variable_set_in_dm_never_shown(t):
    fake = t.fake()
    bot, d = start(t, fake)
    U.scenario_user_variable(d)
    dm = [c for c in fake.ctl("info")["channels"] if c["id"] == d.ids["@alice"]]
    check(dm and dm[0]["type"] == "D", "the variable was set in a direct channel: %r" % dm)
    d.as_("alice")
    d.say("!syskey")
    d.expect(r"key=\*\*\* site=test-site")
    d.sync()
    stop(bot)
    no_secrets(t, bot, fake)
    path = os.path.join(t.tmp, "state", "ackbot-vars.json")
    check(os.stat(path).st_mode & 0o777 == 0o600, "the store is mode 0600")


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
    user, group = "ackbotm%s" % suffix, "ackbomg%s" % suffix
    made_user = made_group = False
    try:
        subprocess.run(["groupadd", group], check=True)
        made_group = True
        subprocess.run(["useradd", "-M", "-N", "-g", "nogroup", "-G", group, "-s",
                        "/usr/sbin/nologin", user], check=True)
        made_user = True
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        sgid = grp.getgrnam(group).gr_gid
        fake = t.fake()
        bot, d = start(t, fake, runas=user)
        d.say("!unix-id")
        m = d.expect(r"uid=\d+ gid=\d+ groups=")
        out = re.search(r"uid=(\d+) gid=(\d+) groups=([\d ]+) user=(\S+)", m["text"])
        check(out, "id output: %r" % m["text"])
        check(int(out.group(1)) == uid and int(out.group(2)) == gid and out.group(4) == user,
              "runs as %s: %r" % (user, m["text"]))
        groups = [int(x) for x in out.group(3).split()]
        if os.path.exists(os.path.join(os.path.dirname(t.suite.binary), "ackbot-runas")):
            check(sgid in groups, "supplementary group %d: %r" % (sgid, groups))
        d.as_("bob")
        d.say("!unix-id")
        m = d.expect(r"bob: cannot run whoami-unix")
        check("unix account" in m["text"], "says why: %r" % m["text"])
        stop(bot)
        check(not any("uid=0 " in p["text"] for p in d.posts()), "never as root")
    finally:
        if made_user:
            subprocess.run(["userdel", user], check=False)
        if made_group:
            subprocess.run(["groupdel", group], check=False)


if __name__ == "__main__":
    suite.main()
