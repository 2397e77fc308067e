'use strict';
// The fake Slack's own behaviour, with raw HTTP and websocket clients: the
// parts the official SDKs do not exercise (strictness, control API over HTTP,
// connection limits, lifetimes, pings, the program mode).
const { describe, test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const WebSocket = require('ws');
const { startFake, sleep } = require('./helpers');

/** POST a Web API method with a raw body. */
async function api(fake, method, { token, body, type = 'application/x-www-form-urlencoded', httpMethod = 'POST', query = '' } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = type;
  const res = await fetch(`${fake.apiUrl}${method}${query}`, { method: httpMethod, headers, body });
  return { status: res.status, headers: res.headers, json: await res.json() };
}

/** A raw Socket Mode client: a fresh URL, the socket, and every frame received. */
async function rawConnect(fake, { suffix = '' } = {}) {
  const { json } = await api(fake, 'apps.connections.open', { token: fake.config.app_token, body: '' });
  assert.equal(json.ok, true);
  const ws = new WebSocket(json.url + suffix);
  const frames = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    const f = isBinary ? { binary: data } : JSON.parse(data.toString());
    frames.push(f);
    for (const w of [...waiters]) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const next = (pred, timeoutMs = 3000) => new Promise((resolve, reject) => {
    const check = () => {
      const f = frames.find(pred);
      if (!f) return false;
      waiters.splice(waiters.indexOf(check), 1);
      clearTimeout(timer);
      resolve(f);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
    }, timeoutMs);
    waiters.push(check);
    check();
  });
  const closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, url: json.url, frames, next, closed };
}

function closeAll(conns) {
  for (const c of conns) c.ws.terminate();
}

describe('Socket Mode details', () => {
  let fake;
  const open = [];
  before(async () => { fake = await startFake({ ping_interval_ms: 0 }); });
  after(() => fake.stop());
  beforeEach(async () => {
    closeAll(open.splice(0));
    await fake.reset({ close_connections: true });
  });

  test('hello shape; debug_reconnects=true shortens the advertised lifetime', async () => {
    const a = await rawConnect(fake);
    open.push(a);
    const hello = await a.next((f) => f.type === 'hello');
    assert.equal(hello.num_connections, 1);
    assert.equal(hello.debug_info.approximate_connection_time, 18060);
    assert.match(hello.debug_info.host, /^applink-\d+$/);
    assert.equal(hello.connection_info.app_id, 'A0FAKE001');
    assert.equal(a.frames[0].type, 'hello', 'hello comes first');
    const b = await rawConnect(fake, { suffix: '&debug_reconnects=true' });
    open.push(b);
    const hello2 = await b.next((f) => f.type === 'hello');
    assert.equal(hello2.num_connections, 2);
    assert.equal(hello2.debug_info.approximate_connection_time, 360);
  });

  test('tickets: reused -> 409, unknown -> 401, refuse_connections -> chosen status', async () => {
    const a = await rawConnect(fake);
    open.push(a);
    const status = (url) => new Promise((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_q, res) => { resolve(res.statusCode); ws.terminate(); });
      ws.on('open', () => { resolve('open'); ws.terminate(); });
      ws.on('error', () => {});
    });
    assert.equal(await status(a.url), 409);
    assert.equal(await status(`${fake.wsBase}?ticket=nope`), 401);
    await fake.refuseConnections({ status: 503, count: 1 });
    const { json } = await api(fake, 'apps.connections.open', { token: fake.config.app_token, body: '' });
    assert.equal(await status(json.url), 503);
    const kinds = (await fake.errors()).map((e) => e.kind);
    assert.deepEqual(kinds, ['ws_ticket_reused', 'ws_unknown_ticket']);
  });

  test('too_many_websockets beyond max_connections', async () => {
    await fake.configure({ max_connections: 2 });
    open.push(await rawConnect(fake), await rawConnect(fake));
    const c = await rawConnect(fake);
    open.push(c);
    const f = await c.next(() => true);
    assert.equal(f.type, 'disconnect');
    assert.equal(f.reason, 'too_many_websockets');
    assert.equal(f.num_connections, 2);
    assert.equal(c.frames.some((x) => x.type === 'hello'), false);
    const { code } = await c.closed;
    assert.equal(code, 1001);
  });

  test('lifetime: warning ~warning_lead_ms before the end, then the server closes', async () => {
    await fake.configure({ connection_lifetime_ms: 400, warning_lead_ms: 250 });
    const a = await rawConnect(fake);
    open.push(a);
    const t0 = Date.now();
    const w = await a.next((f) => f.type === 'disconnect');
    assert.equal(w.reason, 'warning');
    assert.ok(Date.now() - t0 < 350);
    const { code } = await a.closed;
    assert.equal(code, 1001);
    const [rec] = await fake.connections();
    assert.equal(rec.closed_by, 'server');
  });

  test('disconnect on demand: each reason, close_after_ms', async () => {
    const a = await rawConnect(fake);
    open.push(a);
    for (const reason of ['warning', 'refresh_requested', 'link_disabled', 'too_many_websockets']) {
      await fake.disconnect({ reason, close_after_ms: null });
      const f = await a.next((x) => x.type === 'disconnect' && x.reason === reason);
      assert.ok(f.debug_info.host);
    }
    await fake.disconnect({ reason: 'refresh_requested', close_after_ms: 50 });
    assert.equal((await a.closed).code, 1001);
  });

  test('pings: server pings carry "Ping from applink-N"; client pings get pongs unless disabled', async () => {
    await fake.configure({ ping_interval_ms: 50 });
    const a = await rawConnect(fake);
    open.push(a);
    const ping = await new Promise((resolve) => a.ws.once('ping', resolve));
    assert.match(ping.toString(), /^Ping from applink-\d+$/);
    await sleep(30); // ws answers pings automatically
    const pong = new Promise((resolve) => a.ws.once('pong', resolve));
    a.ws.ping('Ping from client (1)');
    assert.equal((await pong).toString(), 'Ping from client (1)');
    const [rec] = await fake.connections();
    assert.ok(rec.pings_sent >= 1);
    assert.ok(rec.pongs_received >= 1);
    assert.equal(rec.client_pings, 1);
    await fake.configure({ answer_pings: false });
    let ponged = false;
    a.ws.once('pong', () => { ponged = true; });
    a.ws.ping('anyone?');
    await sleep(150);
    assert.equal(ponged, false);
  });

  test('acks: unknown id, duplicate, binary, non-JSON, extra fields are protocol errors', async () => {
    const a = await rawConnect(fake);
    open.push(a);
    const r = await fake.injectMessage({ text: 'hi' });
    const env = await a.next((f) => f.type === 'events_api');
    assert.equal(env.envelope_id, r.envelopes[0].envelope_id);
    assert.equal(env.retry_attempt, 0);
    assert.equal(env.retry_reason, '');
    a.ws.send(JSON.stringify({ envelope_id: env.envelope_id })); // no payload: fine
    a.ws.send(JSON.stringify({ envelope_id: env.envelope_id }));
    a.ws.send(JSON.stringify({ envelope_id: 'no-such-envelope' }));
    a.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    a.ws.send('not json');
    a.ws.send(JSON.stringify({ type: 'ping' }));
    const r2 = await fake.injectMessage({ text: 'again' });
    await a.next((f) => f.envelope_id === r2.envelopes[0].envelope_id);
    a.ws.send(JSON.stringify({ envelope_id: r2.envelopes[0].envelope_id, payload: {}, extra: 1 }));
    const errs = await fake.waitErrors({ count: 6 });
    assert.deepEqual(errs.map((e) => e.kind), ['ack_duplicate', 'ack_unknown_envelope', 'client_binary_frame',
      'client_non_json_frame', 'ack_without_envelope_id', 'ack_unexpected_fields']);
    const acks = await fake.acks();
    assert.equal(acks.length, 2);
    assert.equal(acks[0].payload, null);
  });

  test('retry_same_envelope_id and redeliver', async () => {
    await fake.configure({ ack_timeout_ms: 100, retry_delays_ms: [10], retry_same_envelope_id: true });
    const a = await rawConnect(fake);
    open.push(a);
    const r = await fake.injectMessage({ text: 'retry me' });
    const id = r.envelopes[0].envelope_id;
    const retry = await a.next((f) => f.retry_attempt === 1);
    assert.equal(retry.envelope_id, id);
    assert.equal(retry.retry_reason, 'timeout');
    await fake.redeliver({ envelope_id: id });
    await a.next((f) => a.frames.filter((x) => x.envelope_id === id).length === 3);
    a.ws.send(JSON.stringify({ envelope_id: id, payload: {} }));
    const [ack] = await fake.waitAcks({ count: 1 });
    assert.equal(ack.retry_attempt, 1);
  });

  test('subscriptions and membership decide which events are sent', async () => {
    const a = await rawConnect(fake);
    open.push(a);
    assert.equal((await fake.injectMessage({ channel: 'C0NOTMEMB', text: '<@U0BOT0001> hi' })).envelopes.length, 0);
    assert.equal((await fake.injectMessage({ channel: 'G0PRIVATE', text: '<@U0BOT0001> hi' })).envelopes.length, 2);
    await fake.configure({ subscriptions: ['app_mention'] });
    const r = await fake.injectMessage({ channel: 'C0GENERAL', text: '<@U0BOT0001> hi' });
    assert.deepEqual(r.envelopes.map((e) => e.event_type), ['app_mention']);
    const forced = await fake.injectMessage({ channel: 'C0GENERAL', text: 'x', events: ['message'] });
    assert.equal(forced.envelopes.length, 1);
    const g = await a.next((f) => f.payload && f.payload.event.channel === 'G0PRIVATE');
    assert.equal(g.payload.event.channel_type, 'group');
  });

  test('echo_bot_messages / echo_updates: the bot hears itself like on Slack', async () => {
    await fake.configure({ echo_bot_messages: true, echo_updates: true });
    const a = await rawConnect(fake);
    open.push(a);
    const post = await api(fake, 'chat.postMessage', { token: fake.config.bot_token, body: 'channel=C0GENERAL&text=hello' });
    const echo = await a.next((f) => f.type === 'events_api');
    assert.equal(echo.payload.event.user, 'U0BOT0001');
    assert.equal(echo.payload.event.bot_id, 'B0BOT0001');
    assert.equal(echo.payload.event.ts, post.json.ts);
    await api(fake, 'chat.update', { token: fake.config.bot_token, body: `channel=C0GENERAL&ts=${post.json.ts}&text=bye` });
    const ch = await a.next((f) => f.payload && f.payload.event.subtype === 'message_changed');
    assert.equal(ch.payload.event.message.text, 'bye');
    assert.equal(ch.payload.event.previous_message.text, 'hello');
  });

  test('connection: aims an envelope at one connection; 409 if it is not open', async () => {
    const a = await rawConnect(fake);
    const b = await rawConnect(fake);
    open.push(a, b);
    await b.next((f) => f.type === 'hello');
    const ids = (await fake.connections({ state: 'open' })).map((c) => c.id);
    for (let i = 0; i < 3; i++) await fake.injectMessage({ text: `to b ${i}`, events: ['message'], connection: ids[1] });
    await b.next(() => b.frames.filter((f) => f.type === 'events_api').length === 3);
    assert.equal(a.frames.filter((f) => f.type === 'events_api').length, 0);
    await assert.rejects(fake.injectMessage({ text: 'x', connection: 999 }), /connection_not_open/);
  });

  test('ghost connection: frames go nowhere, pings unanswered, events retried elsewhere', async () => {
    await fake.configure({ ack_timeout_ms: 150, retry_delays_ms: [0] });
    const a = await rawConnect(fake);
    open.push(a);
    await fake.drop({ mode: 'ghost' });
    const b = await rawConnect(fake);
    open.push(b);
    await b.next((f) => f.type === 'hello');
    // Round robin across both; whatever went to the ghost comes back as a retry on b.
    const r1 = await fake.injectMessage({ text: 'one', events: ['message'] });
    const r2 = await fake.injectMessage({ text: 'two', events: ['message'] });
    for (const r of [r1, r2]) {
      const f = await b.next((x) => x.payload && x.payload.event_id === r.envelopes[0].event_id);
      b.ws.send(JSON.stringify({ envelope_id: f.envelope_id, payload: {} }));
    }
    await fake.waitAcks({ count: 2 });
    assert.equal(a.frames.filter((f) => f.type === 'events_api').length, 0);
  });
});

describe('Web API strictness', () => {
  let fake;
  before(async () => { fake = await startFake(); });
  after(() => fake.stop());
  beforeEach(() => fake.reset());

  test('tokens: header, form body; not in the query; app token only in the header', async () => {
    const bot = fake.config.bot_token;
    assert.equal((await api(fake, 'auth.test', { body: `token=${bot}` })).json.ok, true);
    assert.equal((await api(fake, 'auth.test', { httpMethod: 'GET', query: `?token=${bot}` })).json.error, 'not_authed');
    assert.equal((await api(fake, 'auth.test', {})).json.error, 'not_authed');
    assert.equal((await api(fake, 'apps.connections.open', { body: `token=${fake.config.app_token}` })).json.error, 'not_authed');
    assert.equal((await api(fake, 'apps.connections.open', { token: bot, body: '' })).json.error, 'not_allowed_token_type');
    const r = await api(fake, 'apps.connections.open', { token: fake.config.app_token, httpMethod: 'GET' });
    assert.equal(r.json.error, 'insecure_request');
    assert.equal((await api(fake, 'no.such.method', { token: bot, body: '' })).json.error, 'unknown_method');
  });

  test('JSON bodies: write methods read them (warning without charset); users.info does not', async () => {
    const bot = fake.config.bot_token;
    let r = await api(fake, 'chat.postMessage', {
      token: bot, type: 'application/json; charset=utf-8', body: JSON.stringify({ channel: 'C0GENERAL', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    assert.equal(r.json.ok, true);
    assert.equal(r.json.warning, undefined);
    r = await api(fake, 'chat.postMessage', { token: bot, type: 'application/json', body: JSON.stringify({ channel: 'C0GENERAL', text: 'json' }) });
    assert.equal(r.json.warning, 'missing_charset');
    assert.deepEqual(r.json.response_metadata.warnings, ['missing_charset']);
    r = await api(fake, 'chat.postMessage', { type: 'application/json; charset=utf-8', body: JSON.stringify({ token: bot, channel: 'C0GENERAL', text: 'x' }) });
    assert.equal(r.json.error, 'not_authed', 'JSON bodies need the token in the header');
    r = await api(fake, 'users.info', { token: bot, type: 'application/json; charset=utf-8', body: JSON.stringify({ user: 'U0HUMAN01' }) });
    assert.equal(r.json.error, 'invalid_arguments');
    r = await api(fake, 'users.info', { token: bot, httpMethod: 'GET', query: '?user=U0HUMAN01' });
    assert.equal(r.json.user.id, 'U0HUMAN01');
    r = await api(fake, 'chat.postMessage', { token: bot, body: 'channel=C0GENERAL&text=x&blocks=not-json' });
    assert.equal(r.json.error, 'invalid_blocks_format');
    r = await api(fake, 'conversations.info', { token: bot, body: 'channel=D0DM00001' });
    assert.equal(r.json.channel.is_im, true);
    assert.equal(r.json.channel.user, 'U0HUMAN01');
    const [p] = await fake.posts();
    assert.deepEqual(p.blocks, [{ type: 'divider' }]);
  });

  test('threads: replying to a reply and to an unknown parent are flagged', async () => {
    const bot = fake.config.bot_token;
    const parent = await fake.injectMessage({ text: 'parent' });
    const reply = await fake.injectMessage({ text: 'reply', thread_ts: parent.ts });
    let r = await api(fake, 'chat.postMessage', { token: bot, body: `channel=C0GENERAL&text=ok&thread_ts=${parent.ts}` });
    assert.equal(r.json.ok, true);
    r = await api(fake, 'chat.postMessage', { token: bot, body: `channel=C0GENERAL&text=bad&thread_ts=${reply.ts}` });
    assert.equal(r.json.ok, true);
    r = await api(fake, 'chat.postMessage', { token: bot, body: 'channel=C0GENERAL&text=bad&thread_ts=1111111111.000001' });
    assert.equal(r.json.ok, true);
    const kinds = (await fake.errors()).map((e) => e.kind);
    assert.deepEqual(kinds, ['thread_ts_is_a_reply', 'thread_parent_unknown']);
  });

  test('chat.update: only the bot\'s own messages; blocks kept unless given; [] removes them', async () => {
    const bot = fake.config.bot_token;
    const human = await fake.injectMessage({ text: 'mine' });
    let r = await api(fake, 'chat.update', { token: bot, body: `channel=C0GENERAL&ts=${human.ts}&text=x` });
    assert.equal(r.json.error, 'cant_update_message');
    const blocks = JSON.stringify([{ type: 'section', text: { type: 'plain_text', text: 'b' } }]);
    const post = await api(fake, 'chat.postMessage', { token: bot, body: `channel=C0GENERAL&text=t&blocks=${encodeURIComponent(blocks)}` });
    r = await api(fake, 'chat.update', { token: bot, body: `channel=C0GENERAL&ts=${post.json.ts}&text=t2` });
    assert.equal(r.json.message.blocks.length, 1);
    r = await api(fake, 'chat.update', { token: bot, body: `channel=C0GENERAL&ts=${post.json.ts}&blocks=%5B%5D` });
    assert.equal(r.json.message.blocks, undefined);
    assert.equal(r.json.message.text, 't2');
    r = await api(fake, 'chat.update', { token: bot, body: `channel=U0HUMAN01&ts=${post.json.ts}&text=x` });
    assert.equal(r.json.error, 'channel_not_found');
  });

  test('faults: ok:false error on demand, delays, method "*"', async () => {
    const bot = fake.config.bot_token;
    await fake.fail({ method: 'auth.test', error: 'internal_error', count: 2 });
    assert.equal((await api(fake, 'auth.test', { token: bot, body: '' })).json.error, 'internal_error');
    assert.equal((await api(fake, 'auth.test', { token: bot, body: '' })).json.error, 'internal_error');
    assert.equal((await api(fake, 'auth.test', { token: bot, body: '' })).json.ok, true);
    await fake.rateLimit({ method: '*', retry_after: 7 });
    const r = await api(fake, 'users.info', { token: bot, body: 'user=U0HUMAN01' });
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('retry-after'), '7');
    await fake.fail({ method: 'auth.test', delay_ms: 200 });
    const t0 = Date.now();
    assert.equal((await api(fake, 'auth.test', { token: bot, body: '' })).json.ok, true);
    assert.ok(Date.now() - t0 >= 190);
  });

  test('response_url: recorded, replace_original updates the message, 5 uses at most', async () => {
    const bot = fake.config.bot_token;
    const blocks = JSON.stringify([{ type: 'actions', elements: [{ type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' }, value: 'v1' }] }]);
    const post = await api(fake, 'chat.postMessage', { token: bot, body: `channel=C0GENERAL&text=t&blocks=${encodeURIComponent(blocks)}` });
    const click = await fake.injectClick({ value: 'v1' });
    assert.equal(click.message_ts, post.json.ts);
    const send = (body) => fetch(click.response_url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await send({ replace_original: true, text: 'done' })).status, 200);
    const [m] = await fake.messages({ ts: post.json.ts });
    assert.equal(m.text, 'done');
    for (let i = 0; i < 4; i++) await send({ text: 'more' });
    assert.equal((await send({ text: 'too many' })).status, 404);
    assert.equal((await fake.responses()).length, 5);
  });
});

describe('control API over HTTP and the program mode', () => {
  let child;
  let info;
  const ctl = async (name, body) => {
    const res = await fetch(`${info.control}/control/${name}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, json: await res.json() };
  };

  before(async () => {
    child = spawn(process.execPath, [path.join(__dirname, 'fake_slack.js'), '--ack-timeout-ms', '2000'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const line = await new Promise((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`fake exited ${code}`)));
    });
    info = JSON.parse(line);
  });
  after(() => { if (child.exitCode === null) child.kill(); });

  test('prints its addresses as one JSON line', () => {
    assert.match(info.api, /^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    assert.match(info.control, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(info.ws, /^ws:\/\/127\.0\.0\.1:\d+\/link\/$/);
    assert.equal(info.bot_token, 'xoxb-1111-2222-abcdef');
  });

  test('config, inject while disconnected (queued), wait_* long-poll, 408 on timeout, reset', async () => {
    let r = await ctl('config');
    assert.equal(r.json.config.ack_timeout_ms, 2000);
    r = await ctl('inject_message', { text: 'queued' });
    assert.equal(r.json.envelopes[0].queued, true);
    const waiting = ctl('wait_posts', { count: 1, timeout_ms: 3000 });
    await sleep(100);
    await fetch(`${info.api}chat.postMessage`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${info.bot_token}`, 'Content-Type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0GENERAL', text: 'late post' }),
    });
    r = await waiting;
    assert.equal(r.status, 200);
    assert.equal(r.json[0].text, 'late post');
    r = await ctl('wait_acks', { count: 1, timeout_ms: 100 });
    assert.equal(r.status, 408);
    assert.equal(r.json.error, 'timeout');
    r = await ctl('inject_click', { action_id: 'nope' });
    assert.equal(r.status, 404);
    r = await ctl('no_such_thing', {});
    assert.equal(r.status, 404);
    assert.ok(r.json.endpoints.includes('wait_posts'));
    r = await ctl('config', { no_such_key: 1 });
    assert.equal(r.status, 400);
    r = await ctl('reset', {});
    assert.equal(r.json.ok, true);
    assert.deepEqual((await ctl('posts')).json, []);
    r = await fetch(`${info.control}/control/posts?channel=C0GENERAL`);
    assert.deepEqual(await r.json(), []);
  });

  test('exits when its stdin is closed', async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin.end();
    assert.equal(await exited, 0);
  });
});
