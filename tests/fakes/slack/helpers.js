'use strict';
// Helpers shared by the fake Slack's tests.
const { SocketModeClient } = require('@slack/socket-mode');
const { FakeSlack } = require('./fake_slack');

/** A logger for the Slack SDKs that keeps lines in memory (printed with SDK_DEBUG=1). */
function memoryLogger(name) {
  const lines = [];
  const out = (lvl) => (...args) => {
    const line = `${name} ${lvl} ${args.join(' ')}`;
    lines.push(line);
    if (process.env.SDK_DEBUG) process.stderr.write(`${line}\n`);
  };
  let level = 'debug';
  return {
    lines,
    debug: out('DEBUG'),
    info: out('INFO'),
    warn: out('WARN'),
    error: out('ERROR'),
    setLevel: (l) => { level = l; },
    getLevel: () => level,
    setName: () => {},
  };
}

async function startFake(options = {}) {
  const fake = new FakeSlack(options);
  await fake.start();
  return fake;
}

/**
 * A SocketModeClient pointed at the fake. clientPingTimeout is short so that
 * its reconnect delay (clientPingTimeout x attempt) keeps the tests quick.
 */
function socketClient(fake, extra = {}) {
  const { clientOptions, ...rest } = extra;
  const logger = memoryLogger('socket-mode');
  const client = new SocketModeClient({
    appToken: fake.config.app_token,
    logger,
    clientPingTimeout: 1500,
    clientOptions: { slackApiUrl: fake.apiUrl, ...clientOptions },
    ...rest,
  });
  client.logLines = logger.lines;
  return client;
}

/** Resolves with the next `name` event of `emitter` whose argument passes `pred`. */
function nextEvent(emitter, name, pred = () => true, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, on);
      reject(new Error(`no '${name}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    function on(arg) {
      if (!pred(arg)) return;
      clearTimeout(timer);
      emitter.off(name, on);
      resolve(arg);
    }
    emitter.on(name, on);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { memoryLogger, startFake, socketClient, nextEvent, sleep };
