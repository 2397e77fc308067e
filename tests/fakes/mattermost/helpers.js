'use strict';
// Helpers shared by the fake Mattermost's tests: the official client
// (@mattermost/client) set up for Node 20, and a raw websocket client.
const WS = require('ws');
const { FakeMattermost } = require('./fake_mattermost');

// Node 20 has no global WebSocket or CloseEvent; WebSocketClient uses both
// (WebSocket.OPEN, new CloseEvent('close', {code: 4000|4001})).
if (typeof globalThis.WebSocket === 'undefined') globalThis.WebSocket = WS;
if (typeof globalThis.CloseEvent === 'undefined') {
  globalThis.CloseEvent = class CloseEvent extends Event {
    constructor(type, init = {}) {
      super(type);
      this.code = init.code ?? 0;
      this.wasClean = Boolean(init.wasClean);
      this.reason = init.reason ?? '';
    }
  };
}

const { Client4, ClientError, WebSocketClient } = require('@mattermost/client');

// The websocket client logs with console.log; keep its lines (printed with
// SDK_DEBUG=1) out of the test runner's output.
const clientLog = [];
const realLog = console.log;
console.log = (...args) => { // eslint-disable-line no-console
  const line = args.map((a) => (typeof a === 'string' ? a : (() => { try { return JSON.stringify(a); } catch { return String(a); } })())).join(' ');
  clientLog.push(line);
  if (process.env.SDK_DEBUG) realLog(`[client] ${line}`);
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startFake(options = {}) {
  const fake = new FakeMattermost(options);
  await fake.start();
  return fake;
}

function restClient(fake, token = fake.config.bot_token) {
  const c = new Client4();
  c.setUrl(fake.url);
  c.setToken(token);
  return c;
}

/**
 * A WebSocketClient on the fake, recording events. auth: 'header' (token on
 * the upgrade, so resumption works) or 'challenge' (token given to
 * initialize(): authentication_challenge).
 */
function wsClient(fake, { token = fake.config.bot_token, auth = 'header', config = {} } = {}) {
  const client = new WebSocketClient({
    newWebSocketFn: (url) => new WS(url, auth === 'header' ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    minWebSocketRetryTime: 100,
    reconnectJitterRange: 50,
    clientPingInterval: 30000,
    ...config,
  });
  const rec = {
    client, events: [], missed: 0, reconnects: 0, closes: [], waiters: new Set(),
  };
  const notify = () => { for (const w of [...rec.waiters]) w(); };
  client.addMessageListener((msg) => {
    rec.events.push(msg);
    notify();
  });
  client.addMissedMessageListener(() => {
    rec.missed += 1;
    notify();
  });
  client.addReconnectListener(() => {
    rec.reconnects += 1;
    notify();
  });
  client.addCloseListener((n) => {
    rec.closes.push(n);
    notify();
  });
  /** Resolves with the first event passing pred (among all received so far). */
  rec.next = (pred, timeoutMs = 5000, what = 'event') => new Promise((resolve, reject) => {
    const check = () => {
      const ev = rec.events.find(pred);
      if (!ev) return;
      rec.waiters.delete(check);
      clearTimeout(timer);
      resolve(ev);
    };
    const timer = setTimeout(() => {
      rec.waiters.delete(check);
      reject(new Error(`no matching ${what} within ${timeoutMs} ms; got ${JSON.stringify(rec.events.map((e) => [e.event, e.seq]))}`));
    }, timeoutMs);
    rec.waiters.add(check);
    check();
  });
  rec.until = (cond, timeoutMs = 5000, what = 'condition') => new Promise((resolve, reject) => {
    const check = () => {
      if (!cond()) return;
      rec.waiters.delete(check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      rec.waiters.delete(check);
      reject(new Error(`${what} not reached within ${timeoutMs} ms`));
    }, timeoutMs);
    rec.waiters.add(check);
    check();
  });
  rec.posted = (message, timeoutMs) => rec.next((e) => e.event === 'posted' && JSON.parse(e.data.post).message === message, timeoutMs, `posted "${message}"`);
  rec.start = (timeoutMs = 5000) => {
    client.initialize(fake.wsUrl, auth === 'challenge' ? token : undefined);
    return rec.next((e) => e.event === 'hello', timeoutMs, 'hello');
  };
  rec.close = () => client.close();
  return rec;
}

/** A raw websocket: every frame kept as text, JSON-parsed when possible. */
async function rawSocket(url, options = {}) {
  const ws = new WS(url, options);
  const frames = [];
  const waiters = new Set();
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    let json = null;
    try {
      json = text === null ? null : JSON.parse(text);
    } catch { /* kept as text */ }
    frames.push({ text, json, binary: isBinary });
    for (const w of [...waiters]) w();
  });
  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const opened = await new Promise((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    ws.once('error', (err) => resolve({ error: err }));
  });
  const next = (pred, timeoutMs = 3000) => new Promise((resolve, reject) => {
    const check = () => {
      const f = frames.find((x) => x.json && pred(x.json, x));
      if (!f) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve(f.json);
    };
    const timer = setTimeout(() => {
      waiters.delete(check);
      reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames.map((f) => f.text))}`));
    }, timeoutMs);
    waiters.add(check);
    check();
  });
  const send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  return { ws, frames, next, send, closed, opened };
}

module.exports = {
  WS, Client4, ClientError, WebSocketClient, startFake, restClient, wsClient, rawSocket, sleep, clientLog,
};
