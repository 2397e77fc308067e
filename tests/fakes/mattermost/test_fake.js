'use strict';
// The fake Mattermost's own behaviour with raw HTTP and websocket clients:
// what the official client does not exercise (frame format, router errors,
// auth edge cases, resume edge cases, pings and limits, strictness, the
// rate limiter, button clicks, the control API over HTTP and program mode).
const { describe, test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const readline = require('node:readline');
const { startFake, rawSocket, sleep } = require('./helpers');
const { USERS } = require('./fake_mattermost');
const { fixedId, isValidId } = require('./model');

const TOWN = fixedId('chtownsquare');
const OPS = fixedId('chops');

let cleanups = [];
afterEach(async () => {
  for (const fn of cleanups.reverse()) await fn();
  cleanups = [];
});

async function setup(options = {}) {
  const fake = await startFake(options);
  cleanups.push(() => fake.stop());
  return fake;
}

async function raw(fake, { token = fake.config.bot_token, query = '', headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  const s = await rawSocket(`${fake.wsUrl}${query}`, { headers: h });
  cleanups.push(() => s.ws.terminate());
  return s;
}

async function api(fake, method, pathname, { token = fake.config.bot_token, body, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const res = await fetch(`${fake.url}${pathname}`, { method, headers: h, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch { /* text */ }
  return { status: res.status, headers: res.headers, text, json };
}

describe('websocket frames and actions', () => {
  test('frame format: hello with a newline, broadcasts precomputed, replies without event or seq', async () => {
    const fake = await setup();
    const s = await raw(fake);
    const hello = await s.next((m) => m.event === 'hello');
    assert.ok(isValidId(hello.data.connection_id));
    assert.equal(hello.data.server_hostname, 'fake-mm-1');
    assert.deepEqual(Object.keys(hello), ['event', 'data', 'broadcast', 'seq']);
    assert.deepEqual(hello.broadcast, {
      omit_users: null, user_id: fake.config.bot_user_id, channel_id: '', team_id: '', connection_id: '', omit_connection_id: '',
    });
    assert.ok(s.frames[0].text.endsWith('}\n'));
    await fake.injectPost({ message: 'say "hi" \\ there' });
    const posted = await s.next((m) => m.event === 'posted');
    const text = s.frames.find((f) => f.json && f.json.event === 'posted').text;
    assert.ok(text.startsWith('{"event": "posted", "data": {"channel_display_name":'), text.slice(0, 80));
    assert.ok(text.endsWith(', "seq": 1}'));
    assert.equal(JSON.parse(posted.data.post).message, 'say "hi" \\ there');
    assert.deepEqual(Object.keys(posted.data), ['channel_display_name', 'channel_name', 'channel_type', 'mentions', 'post', 'sender_name', 'set_online', 'team_id'].filter((k) => k !== 'mentions'));
    s.send({ seq: 1, action: 'ping' });
    const pong = await s.next((m) => m.seq_reply === 1);
    assert.deepEqual(Object.keys(pong), ['status', 'seq_reply', 'data']);
    assert.equal(pong.data.text, 'pong');
    assert.equal(typeof pong.data.server_time, 'number');
  });

  test('frame_style compact and pretty', async () => {
    const fake = await setup({ frame_style: 'pretty' });
    const s = await raw(fake);
    await s.next((m) => m.event === 'hello');
    assert.ok(s.frames[0].text.includes('\n  "data": {'));
    await fake.configure({ frame_style: 'compact' });
    await fake.injectPost({ message: 'x' });
    await s.next((m) => m.event === 'posted');
    assert.ok(s.frames[1].text.startsWith('{"event":"posted","data":{'));
  });

  test('router errors: no action, bad seq, unknown action; custom_ and a second challenge get no reply', async () => {
    const fake = await setup();
    const s = await raw(fake);
    await s.next((m) => m.event === 'hello');
    s.send({ seq: 1, data: {} });
    s.send({ seq: 0, action: 'ping' });
    s.send({ seq: 3, action: 'frobnicate' });
    s.send({ seq: 4, action: 'custom_plugin_thing' });
    s.send({ seq: 5, action: 'authentication_challenge', data: { token: fake.config.bot_token } });
    s.send({ seq: 6, action: 'get_statuses' });
    const noAction = await s.next((m) => m.seq_reply === 1);
    assert.equal(noAction.status, 'FAIL');
    assert.equal(noAction.error.id, 'api.web_socket_router.no_action.app_error');
    assert.equal(noAction.error.status_code, 400);
    const badAction = await s.next((m) => m.seq_reply === 3);
    assert.equal(badAction.error.id, 'api.web_socket_router.bad_action.app_error');
    assert.equal(badAction.error.status_code, 500);
    const statuses = await s.next((m) => m.seq_reply === 6);
    assert.equal(statuses.data[fake.config.bot_user_id], 'online');
    const badSeq = s.frames.find((f) => f.json && f.json.status === 'FAIL' && f.json.error.id === 'api.web_socket_router.bad_seq.app_error');
    assert.ok(badSeq, 'bad_seq reply');
    assert.equal(badSeq.json.seq_reply, undefined, 'seq_reply left out when 0');
    assert.equal(s.frames.filter((f) => f.json && (f.json.seq_reply === 4 || f.json.seq_reply === 5)).length, 0);
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_no_action', 'ws_bad_seq', 'ws_unknown_action']);
    const acts = await fake.actions();
    assert.equal(acts.find((a) => a.req_seq === 5).ignored, true);
  });

  test('challenge auth: hello before OK by default, OK first when configured; no reply to anything before it', async () => {
    const fake = await setup();
    const s = await raw(fake, { token: null });
    s.send({ seq: 1, action: 'ping' });
    await sleep(50);
    assert.equal(s.frames.length, 0, 'nothing answers an unauthenticated socket');
    s.send({ seq: 2, action: 'authentication_challenge', data: { token: fake.config.bot_token } });
    await s.next((m) => m.seq_reply === 2);
    assert.equal(s.frames[0].json.event, 'hello');
    assert.deepEqual(s.frames[1].json, { status: 'OK', seq_reply: 2 });
    await fake.configure({ hello_before_ok: false });
    const t = await raw(fake, { token: null });
    t.send({ seq: 1, action: 'authentication_challenge', data: { token: fake.config.bot_token } });
    await t.next((m) => m.event === 'hello');
    assert.deepEqual(t.frames[0].json, { status: 'OK', seq_reply: 1 });
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_action_before_auth']);
  });

  test('a challenge with a bad or missing token closes the socket without a reply', async () => {
    const fake = await setup();
    for (const data of [{ token: 'wrong' }, {}]) {
      const s = await raw(fake, { token: null });
      s.send({ seq: 1, action: 'authentication_challenge', data });
      const closed = await s.closed;
      assert.equal(closed.code, 1006);
      assert.equal(s.frames.length, 0);
    }
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_challenge_bad_token', 'ws_challenge_bad_token']);
  });

  test('upgrade refusals: ?access_token= (401 AppError), foreign Origin (403), unknown path (404), refuse_connections', async () => {
    const fake = await setup();
    const q = await rawSocket(`${fake.wsUrl}?access_token=${fake.config.bot_token}`);
    assert.equal(q.opened.status, 401);
    assert.equal(JSON.parse(q.opened.body).id, 'api.context.token_provided.app_error');
    const o = await rawSocket(fake.wsUrl, { headers: { Authorization: `Bearer ${fake.config.bot_token}`, Origin: 'https://evil.example' } });
    assert.equal(o.opened.status, 403);
    const p = await rawSocket(fake.wsUrl.replace('/websocket', '/websockets'));
    assert.equal(p.opened.status, 404);
    const same = await rawSocket(fake.wsUrl, { headers: { Authorization: `Bearer ${fake.config.bot_token}`, Origin: fake.url } });
    assert.equal(same.opened, true);
    same.ws.terminate();
    await fake.refuseConnections({ status: 502, count: 1 });
    const r = await rawSocket(fake.wsUrl);
    assert.equal(r.opened.status, 502);
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_access_token_query', 'ws_origin_refused']);
  });

  test('invalid resume parameters: closed right after the upgrade, no frame', async () => {
    const fake = await setup();
    for (const query of ['?connection_id=abc&sequence_number=1', `?connection_id=${'a'.repeat(26)}`, `?connection_id=${'a'.repeat(26)}&sequence_number=x`]) {
      const s = await raw(fake, { query });
      assert.equal(s.opened, true);
      await s.closed;
      assert.equal(s.frames.length, 0);
    }
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_resume_invalid_params', 'ws_resume_invalid_params', 'ws_resume_invalid_params']);
  });

  test('resume by hand: replay from the middle, lossless, gap beyond the dead queue, other user', async () => {
    const fake = await setup({ dead_queue_size: 2 });
    const s = await raw(fake);
    const hello = await s.next((m) => m.event === 'hello');
    const id = hello.data.connection_id;
    for (let i = 1; i <= 3; i++) await fake.injectPost({ message: `m${i}` });
    await s.next((m) => m.seq === 3);
    s.ws.terminate();
    await fake.waitConnections({ state: 'closed' });
    // From seq 2: m2 and m3 again, with their seq.
    const a = await raw(fake, { query: `?connection_id=${id}&sequence_number=2` });
    await a.next((m) => m.seq === 3);
    assert.deepEqual(a.frames.map((f) => [f.json.event, f.json.seq, JSON.parse(f.json.data.post).message]), [['posted', 2, 'm2'], ['posted', 3, 'm3']]);
    a.ws.terminate();
    await fake.waitConnections({ state: 'closed', count: 2 });
    // From seq 4 (= last + 1): nothing to replay; the next event is 4.
    const b = await raw(fake, { query: `?connection_id=${id}&sequence_number=4` });
    await fake.injectPost({ message: 'm4' });
    assert.equal((await b.next((m) => m.event === 'posted')).seq, 4);
    assert.equal(b.frames.length, 1);
    b.ws.terminate();
    await fake.waitConnections({ state: 'closed', count: 3 });
    for (let i = 5; i <= 9; i++) await fake.injectPost({ message: `m${i}` }); // queued while inactive
    // seq 1 fell out of the 2-event dead queue (3, 4): new id, hello at seq 0, then the 5 queued events.
    const c = await raw(fake, { query: `?connection_id=${id}&sequence_number=1` });
    const h2 = await c.next((m) => m.event === 'hello');
    assert.notEqual(h2.data.connection_id, id);
    await c.next((m) => m.seq === 5);
    assert.deepEqual(c.frames.map((f) => f.json.seq), [0, 1, 2, 3, 4, 5]);
    // Another user cannot take the connection over.
    const d = await raw(fake, { token: fake.users.get(USERS.alice).token, query: `?connection_id=${h2.data.connection_id}&sequence_number=6` });
    const h3 = await d.next((m) => m.event === 'hello');
    assert.notEqual(h3.data.connection_id, h2.data.connection_id);
    const conns = await fake.connections();
    assert.deepEqual(conns.map((x) => x.resume_result), ['fresh', 'replayed', 'lossless', 'gap', 'unknown_id']);
  });

  test('inactive connections: dropped when the queue fills, forgotten after inactive_ttl_ms', async () => {
    const fake = await setup({ send_queue_size: 3, inactive_ttl_ms: 150 });
    const s = await raw(fake);
    const { data: { connection_id: id } } = await s.next((m) => m.event === 'hello');
    s.ws.terminate();
    await fake.waitConnections({ state: 'closed' });
    for (let i = 0; i < 3; i++) await fake.injectPost({ message: `q${i}` });
    const a = await raw(fake, { query: `?connection_id=${id}&sequence_number=1` });
    const h = await a.next((m) => m.event === 'hello');
    assert.notEqual(h.data.connection_id, id);
    a.ws.terminate();
    await fake.waitConnections({ state: 'closed', count: 2 });
    await sleep(300);
    const b = await raw(fake, { query: `?connection_id=${h.data.connection_id}&sequence_number=1` });
    assert.notEqual((await b.next((m) => m.event === 'hello')).data.connection_id, h.data.connection_id);
    assert.deepEqual((await fake.connections()).map((x) => x.resume_result), ['fresh', 'unknown_id', 'unknown_id']);
  });

  test('server pings; a client that never answers them is dropped at the pong deadline', async () => {
    const fake = await setup({ ping_interval_ms: 100, pong_wait_ms: 1000 });
    const good = await raw(fake); // ws answers pings itself
    const bad = await rawSocket(fake.wsUrl, { headers: { Authorization: `Bearer ${fake.config.bot_token}` }, autoPong: false });
    cleanups.push(() => bad.ws.terminate());
    await bad.closed;
    const conns = await fake.connections();
    assert.equal(conns[0].state, 'open');
    assert.ok(conns[0].pings_sent >= 3);
    assert.ok(conns[0].pongs_received >= 3);
    assert.equal(conns[1].closed_by, 'pong_timeout');
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_pong_timeout']);
    good.ws.terminate();
  });

  test('inbound limits: a frame over 8 KiB closes with 1009; a non-JSON frame closes the socket', async () => {
    const fake = await setup();
    const s = await raw(fake);
    await s.next((m) => m.event === 'hello');
    s.send({ seq: 1, action: 'ping', data: { pad: 'x'.repeat(8200) } });
    assert.equal((await s.closed).code, 1009);
    const t = await raw(fake);
    await t.next((m) => m.event === 'hello');
    t.send('not json');
    await t.closed;
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_frame_too_large', 'ws_non_json_frame']);
  });

  test('malformed frames: unknown_event and post_not_json take a seq, the others do not', async () => {
    const fake = await setup();
    const s = await raw(fake);
    await s.next((m) => m.event === 'hello');
    for (const kind of ['non_json', 'empty', 'truncated', 'binary', 'json_array', 'reply_unknown_seq', 'unknown_event', 'post_not_json']) {
      await fake.malformed({ kind });
    }
    await fake.malformed({ kind: 'raw', frame: { hand: 'made' } });
    await fake.injectPost({ message: 'still fine' });
    const ev = await s.next((m) => m.event === 'posted' && m.data.post.includes('still fine'));
    assert.equal(ev.seq, 3);
    assert.equal(s.frames.length, 11);
    assert.equal(s.frames.filter((f) => f.binary).length, 1);
    await assert.rejects(fake.malformed({ kind: 'nope' }), (e) => e.status === 400);
  });

  test('user_typing validation and the typing event', async () => {
    const fake = await setup();
    const s = await raw(fake);
    const alice = await raw(fake, { token: fake.users.get(USERS.alice).token });
    await s.next((m) => m.event === 'hello');
    await alice.next((m) => m.event === 'hello');
    s.send({ seq: 1, action: 'user_typing', data: { channel_id: 'short' } });
    assert.equal((await s.next((m) => m.seq_reply === 1)).error.id, 'api.websocket_handler.invalid_param.app_error');
    s.send({ seq: 2, action: 'user_typing', data: { channel_id: OPS, parent_id: '' } });
    assert.equal((await s.next((m) => m.seq_reply === 2)).status, 'OK');
    const typing = await alice.next((m) => m.event === 'typing');
    assert.deepEqual(typing.data, { parent_id: '', user_id: fake.config.bot_user_id });
    assert.equal(typing.broadcast.channel_id, OPS);
  });
});

describe('REST details', () => {
  test('headers, 404 body, bad JSON, token in the query, token forms', async () => {
    const fake = await setup();
    const me = await api(fake, 'GET', '/api/v4/users/me');
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('content-type'), 'application/json');
    assert.ok(isValidId(me.headers.get('x-request-id')));
    assert.equal(me.headers.get('x-version-id'), fake.config.server_version);
    const tok = await api(fake, 'GET', '/api/v4/users/me', { token: null, headers: { Authorization: `Token ${fake.config.bot_token}` } });
    assert.equal(tok.status, 200);
    const cookie = await api(fake, 'GET', '/api/v4/users/me', { token: null, headers: { Cookie: `MMAUTHTOKEN=${fake.config.bot_token}` } });
    assert.equal(cookie.status, 200);
    const nf = await api(fake, 'GET', '/api/v4/nothing/here');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.id, 'api.context.404.app_error');
    assert.equal(nf.json.request_id, nf.headers.get('x-request-id'));
    const bad = await api(fake, 'POST', '/api/v4/posts', { body: '{"channel_id": ' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.id, 'api.context.invalid_body_param.app_error');
    const q = await api(fake, 'GET', `/api/v4/users/me?access_token=${fake.config.bot_token}`, { token: null });
    assert.equal(q.status, 401);
    assert.equal(q.json.id, 'api.context.token_provided.app_error');
    const none = await api(fake, 'GET', '/api/v4/users/me', { token: null });
    assert.equal(none.status, 401);
    const ping = await api(fake, 'GET', '/api/v4/system/ping', { token: null });
    assert.equal(ping.json.status, 'OK');
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['api_unknown_route', 'invalid_body', 'token_in_query', 'bad_auth']);
  });

  test('the rate limiter: X-RateLimit-* on every answer, 429 past the burst', async () => {
    const fake = await setup({ rate_limit: true, rate_limit_per_sec: 1, rate_limit_max_burst: 2 });
    const a = await api(fake, 'GET', '/api/v4/users/me');
    assert.equal(a.headers.get('x-ratelimit-limit'), '3');
    assert.equal(a.headers.get('retry-after'), null);
    await api(fake, 'GET', '/api/v4/users/me');
    await api(fake, 'GET', '/api/v4/users/me');
    const d = await api(fake, 'GET', '/api/v4/users/me');
    assert.equal(d.status, 429);
    assert.equal(d.text, 'limit exceeded\n');
    assert.equal(d.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(d.headers.get('retry-after'), '1');
  });

  test('injected faults: 5xx with a body, a reset connection, a delay', async () => {
    const fake = await setup();
    await fake.fail({ endpoint: 'create_post', status: 502, body: 'bad gateway' });
    const a = await api(fake, 'POST', '/api/v4/posts', { body: { channel_id: TOWN, message: 'x' } });
    assert.equal(a.status, 502);
    assert.equal(a.text, 'bad gateway');
    await fake.fail({ endpoint: '*', reset: true });
    await assert.rejects(api(fake, 'GET', '/api/v4/users/me'));
    await fake.fail({ endpoint: 'get_me', delay_ms: 150 });
    const t0 = Date.now();
    assert.equal((await api(fake, 'GET', '/api/v4/users/me')).status, 200);
    assert.ok(Date.now() - t0 >= 140);
    await assert.rejects(fake.fail({ endpoint: 'no_such_endpoint', status: 500 }), (e) => e.status === 400);
  });

  test('button click: the integration request reaches the bot\'s listener; update and ephemeral_text applied', async () => {
    const fake = await setup();
    const got = [];
    const listener = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        got.push({ url: req.url, headers: req.headers, body: JSON.parse(body) });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ update: { message: 'Deploy approved by @alice', props: {} }, ephemeral_text: 'Approved.' }));
      });
    });
    await new Promise((r) => listener.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => listener.close(r)));
    const actionUrl = `http://127.0.0.1:${listener.address().port}/mm/action`;
    const bot = await raw(fake);
    const alice = await raw(fake, { token: fake.users.get(USERS.alice).token });
    await bot.next((m) => m.event === 'hello');
    await alice.next((m) => m.event === 'hello');
    const created = await api(fake, 'POST', '/api/v4/posts', {
      body: {
        channel_id: OPS,
        message: '',
        props: {
          attachments: [{
            text: 'Deploy?',
            actions: [
              { id: 'approve', type: 'button', name: 'Approve', integration: { url: actionUrl, context: { op: 'approve', sig: 'secret' } } },
              { id: 'reject', type: 'button', name: 'Reject', integration: { url: actionUrl, context: { op: 'reject', sig: 'secret' } } },
            ],
          }],
        },
      },
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.props.attachments[0].actions[0].integration, undefined, 'integration stripped from the REST answer');
    const posted = await bot.next((m) => m.event === 'posted');
    assert.equal(JSON.parse(posted.data.post).props.attachments[0].actions[0].integration, undefined, 'and from the event');
    const res = await fake.injectClick({ action_id: 'approve', user: 'alice' });
    assert.equal(res.ok, true);
    assert.equal(got.length, 1);
    assert.equal(got[0].url, '/mm/action');
    assert.deepEqual(got[0].body.context, { op: 'approve', sig: 'secret' });
    assert.equal(got[0].body.user_id, USERS.alice);
    assert.equal(got[0].body.user_name, 'alice');
    assert.equal(got[0].body.post_id, created.json.id);
    assert.equal(got[0].body.channel_id, OPS);
    assert.equal(got[0].body.type, 'button');
    const edited = await bot.next((m) => m.event === 'post_edited');
    const ep = JSON.parse(edited.data.post);
    assert.equal(ep.message, 'Deploy approved by @alice');
    assert.deepEqual(ep.props, { from_bot: 'true' });
    const eph = await alice.next((m) => m.event === 'ephemeral_message');
    assert.equal(JSON.parse(eph.data.post).message, 'Approved.');
    assert.equal(bot.frames.filter((f) => f.json && f.json.event === 'ephemeral_message').length, 0);
    const [click] = await fake.clicks();
    assert.equal(click.status, 200);
  });
});

describe('control API over HTTP and the program mode', () => {
  test('start as a program, drive it over HTTP, stop when stdin closes', async () => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fake_mattermost.js'), '--ping-interval-ms', '30000', '--max-post-runes', '100'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    cleanups.push(() => child.kill());
    const line = await new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input: child.stdout });
      rl.once('line', resolve);
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const info = JSON.parse(line);
    assert.deepEqual(Object.keys(info), ['url', 'api', 'ws', 'control', 'tls', 'bot_token', 'bot_user_id', 'bot_username', 'team_id', 'pid']);
    assert.match(info.ws, /^ws:\/\/127\.0\.0\.1:\d+\/api\/v4\/websocket$/);
    const ctl = async (name, body) => {
      const res = await fetch(`${info.control}/control/${name}`, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    assert.equal((await ctl('config')).json.config.max_post_runes, 100);
    const s = await rawSocket(info.ws, { headers: { Authorization: `Bearer ${info.bot_token}` } });
    cleanups.push(() => s.ws.terminate());
    await s.next((m) => m.event === 'hello');
    const inj = await ctl('inject_post', { channel: 'ops', user: 'bob', message: 'hello', mention: true });
    assert.equal(inj.status, 200);
    assert.equal(inj.json.post.message, '@ackbot hello');
    assert.equal(inj.json.deliveries.length, 1);
    await s.next((m) => m.event === 'posted');
    const long = await fetch(`${info.api}/posts`, { method: 'POST', headers: { Authorization: `Bearer ${info.bot_token}` }, body: JSON.stringify({ channel_id: OPS, message: 'x'.repeat(101) }) });
    assert.equal(long.status, 400);
    const ok = await fetch(`${info.api}/posts`, { method: 'POST', headers: { Authorization: `Bearer ${info.bot_token}` }, body: JSON.stringify({ channel_id: OPS, message: 'x'.repeat(100), root_id: inj.json.post.id }) });
    assert.equal(ok.status, 201);
    const waited = await ctl('wait_posts', { count: 1, root_id: inj.json.post.id, timeout_ms: 2000 });
    assert.equal(waited.json.length, 1);
    const timeout = await ctl('wait_posts', { count: 2, timeout_ms: 100 });
    assert.equal(timeout.status, 408);
    assert.equal(timeout.json.error, 'timeout');
    assert.equal((await ctl('nope')).status, 404);
    assert.equal((await ctl('config', { no_such_key: 1 })).status, 400);
    assert.equal((await ctl('inject_post', { channel: 'nowhere', message: 'x' })).status, 400);
    const errors = await ctl('errors');
    assert.deepEqual(errors.json.map((e) => e.kind), ['message_too_long']);
    assert.match(stderr, /PROTOCOL ERROR .*message_too_long/);
    const forced = await ctl('force_gap', { count: 1 });
    assert.equal(forced.json.ok, true);
    const dropped = await ctl('drop', { mode: 'close', code: 1001 });
    assert.deepEqual(dropped.json.connections, [1]);
    assert.equal((await s.closed).code, 1001);
    child.stdin.end();
    assert.equal(await exited, 0);
  });
});
