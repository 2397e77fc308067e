#!/usr/bin/env python3
"""test_console.py - the bot on the console adapter: built-ins, actions,
results, failures, unknown and ambiguous commands, long output, access.

    python3 tests/integration/test_console.py build/ackbot [name-filter...]
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TestSuite, check  # noqa: E402

suite = TestSuite()


@suite.test
def test_help_lists_aliases_and_builtins(t):
    bot = t.bot("basic.toml")
    bot.send("!help")
    m = bot.expect(r"Built-in commands")
    text = m["text"]
    check("!echo {{text}}" in text or "!echo" in text, "help names the echo alias")
    check("!confirm ID" in text, "help names the confirm built-in")
    # sre-only is visible to alice (sre), not to bob
    check("sre-thing" in text, "alice sees the sre-only alias")
    bot.send("/as bob")
    bot.send("!help")
    m = bot.expect(r"Built-in commands")
    check("sre-thing" not in m["text"], "bob does not see the sre-only alias")
    bot.send("!help slow")
    m = bot.expect(r"slow")
    check("echo" not in m["text"], "help with words filters: %r" % m["text"])
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_action_ack_and_result(t):
    bot = t.bot("basic.toml")
    bot.send("!echo hello world")
    ack = bot.expect(r"^Running echo \((c\d+)\): echo text=\"hello world\"")
    cid = re.search(r"\((c\d+)\)", ack["text"]).group(1)
    res = bot.expect(r"^echo \(%s\) succeeded" % cid)
    check("exit code 0" in res["text"], "result names the exit code: %r" % res["text"])
    check("```\nhello world\n```" in res["text"], "output in a code block: %r" % res["text"])
    check(ack["channel"] == "console" and ack["thread"] is None, "reply in the source channel")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_mention_and_dm_address_the_bot(t):
    bot = t.bot("basic.toml")
    bot.send("echo not for the bot")
    bot.send("@ackbot echo mentioned")
    bot.expect(r"```\nmentioned\n```")
    bot.send("/dm on")
    bot.send("echo direct")
    m = bot.expect(r"```\ndirect\n```")
    check(m["channel"] == "dm-alice", "dm reply goes to the dm channel: %r" % m)
    bot.expect_none(r"not for the bot")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_reply_in_thread(t):
    bot = t.bot("basic.toml")
    bot.send("/thread 1234.5")
    bot.send("!echo threaded")
    m = bot.expect(r"```\nthreaded\n```")
    check(m["thread"] == "1234.5", "result in the thread: %r" % m)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_templates_and_user_context(t):
    bot = t.bot("basic.toml")
    bot.send("!greet team")
    m = bot.expect(r"^hello team from alice")
    check(m["text"] == "hello team from alice (eu-west-1) at test-site: alice",
          "result template with user vars and system vars: %r" % m["text"])
    bot.send("!envdump x y")
    m = bot.expect(r"ACKBOT_USER=")
    env = dict(line.split("=", 1) for line in m["text"].split("\n") if line.startswith("ACKBOT_"))
    check(env.get("ACKBOT_USER") == "alice", "ACKBOT_USER: %r" % env)
    check(env.get("ACKBOT_CHAT_USER_ID") == "alice", "ACKBOT_CHAT_USER_ID: %r" % env)
    check(env.get("ACKBOT_PLATFORM") == "console", "ACKBOT_PLATFORM: %r" % env)
    check(env.get("ACKBOT_CHANNEL") == "console", "ACKBOT_CHANNEL: %r" % env)
    check(env.get("ACKBOT_ALIAS") == "envdump", "ACKBOT_ALIAS: %r" % env)
    check(env.get("ACKBOT_PARAM_THING") == "x y", "ACKBOT_PARAM_THING: %r" % env)
    check(re.match(r"c\d+$", env.get("ACKBOT_COMMAND_ID", "")), "ACKBOT_COMMAND_ID: %r" % env)
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_failing_action(t):
    bot = t.bot("basic.toml")
    bot.send("!fail")
    m = bot.expect(r"^fail \(c\d+\) failed")
    check("exit code 3" in m["text"] or "status 3" in m["text"], "names the status: %r" % m["text"])
    check("something broke" in m["text"], "shows stderr: %r" % m["text"])
    check("partial" in m["text"], "shows stdout: %r" % m["text"])
    bot.send("!echo still alive")
    bot.expect(r"```\nstill alive\n```")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_missing_program(t):
    bot = t.bot("basic.toml")
    bot.send("!missing")
    m = bot.expect(r"^missing \(c\d+\) failed")
    check("not found" in m["text"] and "/no/such/program" in m["text"],
          "says the program is missing: %r" % m["text"])
    bot.send("!echo next")
    bot.expect(r"```\nnext\n```")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_http_connection_refused(t):
    bot = t.bot("basic.toml")
    bot.send("!refused")
    m = bot.expect(r"^refused \(c\d+\) failed")
    check(re.search(r"(?i)refused|connect", m["text"]), "says why: %r" % m["text"])
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_unknown_command_suggests(t):
    bot = t.bot("basic.toml")
    bot.send("!eco hello")
    m = bot.expect(r"I don't know")
    check("!echo" in m["text"], "suggests the closest alias: %r" % m["text"])
    check("!help" in m["text"], "points at help: %r" % m["text"])
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_ambiguous_command(t):
    bot = t.bot("basic.toml")
    bot.send("!amb thing")
    m = bot.expect(r"matches more than one command")
    check("amb-one" in m["text"] and "amb-two" in m["text"], "names both: %r" % m["text"])
    bot.expect_none(r"^Running amb")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_long_output_is_split(t):
    bot = t.bot("basic.toml")
    bot.send("!long 100000")
    first = bot.expect(r"^long \(c\d+\) succeeded")
    parts = [first]
    # the console's limit is 40000 code points: at least 3 parts
    while True:
        try:
            parts.append(bot.expect(r"^```", timeout=5))
        except AssertionError:
            break
    check(len(parts) >= 3, "split into %d parts" % len(parts))
    for p in parts:
        check(len(p["text"]) <= 40000, "part within the limit: %d" % len(p["text"]))
        check(p["text"].count("```") % 2 == 0, "fences balanced in each part")
    body = "".join(p["text"] for p in parts)
    lines = re.findall(r"line (\d+) ", body)
    check(len(lines) == 2000 and lines[-1] == "1999", "no line lost: %d lines" % len(lines))
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_access_denied(t):
    bot = t.bot("basic.toml")
    bot.send("/as bob")
    bot.send("!sre-thing")
    m = bot.expect(r"not allowed")
    check("sre" in m["text"], "says who may: %r" % m["text"])
    bot.expect_none(r"sre thing done")
    bot.send("/as alice")
    bot.send("!sre-thing")
    bot.expect(r"sre thing done")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_unknown_user_guest_or_refused(t):
    bot = t.bot("basic.toml")
    bot.send("/as mallory")
    bot.send("!whoami")
    m = bot.expect(r"guest")
    check("mallory" in m["text"], "names the chat identity: %r" % m["text"])
    bot.send("!echo hi")
    bot.expect(r"```\nhi\n```")
    check(bot.finish() == 0, "exit status 0")
    bot2 = t.bot("refuse.toml")
    bot2.send("/as mallory")
    bot2.send("!echo hi")
    m = bot2.expect(r"don't know you")
    bot2.expect_none(r"```\nhi\n```")
    check(bot2.finish() == 0, "exit status 0")


@suite.test
def test_whoami(t):
    bot = t.bot("basic.toml")
    bot.send("!whoami")
    m = bot.expect(r"^You are alice")
    check("sre" in m["text"], "groups: %r" % m["text"])
    check("danger (with confirmation)" in m["text"], "what may run: %r" % m["text"])
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_immutable_parameter(t):
    bot = t.bot("basic.toml")
    bot.send("!locked door")
    bot.expect(r"locked door by alice")
    bot.send("!locked door by=mallory")
    m = bot.expect(r"(?i)cannot run locked|immutable")
    check("by" in m["text"], "names the parameter: %r" % m["text"])
    bot.expect_none(r"by mallory")
    check(bot.finish() == 0, "exit status 0")


@suite.test
def test_audit_log(t):
    bot = t.bot("basic.toml")
    bot.send("!echo audited")
    bot.expect(r"```\naudited\n```")
    bot.send("/as bob")
    bot.send("!sre-thing")
    bot.expect(r"not allowed")
    check(bot.finish() == 0, "exit status 0")
    with open(os.path.join(t.tmp, "audit.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    events = [ln["event"] for ln in lines]
    for e in ("requested", "started", "finished", "denied"):
        check(e in events, "audit has %s: %r" % (e, events))
    fin = [ln for ln in lines if ln["event"] == "finished"][0]
    check(fin.get("alias") == "echo" and fin.get("outcome") == "succeeded",
          "finished line: %r" % fin)
    check(fin.get("who", {}).get("user") == "alice", "who: %r" % fin)


@suite.test
def test_empty_and_blank_commands(t):
    bot = t.bot("basic.toml")
    bot.send("!")
    bot.expect(r"help")
    bot.send("!   ")
    bot.expect(r"help")
    check(bot.finish() == 0, "exit status 0")


if __name__ == "__main__":
    suite.main()
