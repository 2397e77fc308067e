'use strict';
// The fake Mattermost checked with the official client, @mattermost/client
// (Client4 for REST, WebSocketClient for the websocket), on Node 20 with the
// `ws` package standing in for the browser WebSocket. If the official client
// cannot talk to the fake, the fake is wrong.
const { describe, test, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const {
  ClientError, startFake, restClient, wsClient, sleep,
} = require('./helpers');
const { USERS } = require('./fake_mattermost');
const { makeTestCerts } = require('../lib/certs');
const { isValidId, fixedId } = require('./model');

const TOWN = fixedId('chtownsquare');
const OPS = fixedId('chops');
const ELSEWHERE = fixedId('chelsewhere');
const PRIVATE = fixedId('chprivate');
const SECRET = fixedId('chsecret');
const DM_ALICE = fixedId('dmalice');
const GM = fixedId('gmalicebob');

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

function connect(fake, opts) {
  const rec = wsClient(fake, opts);
  cleanups.push(() => rec.close());
  return rec;
}

const postOf = (ev) => JSON.parse(ev.data.post);

describe('REST with Client4', () => {
  test('getMe, getUser, getProfilesByIds, getChannel, getClientConfig', async () => {
    const fake = await setup();
    const c = restClient(fake);
    const me = await c.getMe();
    assert.equal(me.id, fake.config.bot_user_id);
    assert.equal(me.username, 'ackbot');
    assert.equal(me.is_bot, true);
    assert.equal(c.getServerVersion(), fake.config.server_version, 'X-Version-Id read by the client');
    const alice = await c.getUser(USERS.alice);
    assert.equal(alice.username, 'alice');
    assert.equal(alice.email, '', 'other users\' email blanked');
    const list = await c.getProfilesByIds([USERS.alice, USERS.bob, 'x'.repeat(26)]);
    assert.deepEqual(list.map((u) => u.username).sort(), ['alice', 'bob']);
    const ch = await c.getChannel(TOWN);
    assert.equal(ch.name, 'town-square');
    assert.equal(ch.type, 'O');
    const dm = await c.getChannel(DM_ALICE);
    assert.equal(dm.type, 'D');
    assert.equal(dm.name, [USERS.alice, fake.config.bot_user_id].sort().join('__'));
    const cfg = await c.getClientConfig();
    assert.equal(cfg.MaxPostSize, '16383');
    const direct = await c.createDirectChannel([fake.config.bot_user_id, USERS.alice]);
    assert.equal(direct.id, DM_ALICE, 'the existing DM');
    assert.deepEqual(await fake.errors(), []);
  });

  test('a bad token gets 401 with a Mattermost error body, recorded as bad_auth', async () => {
    const fake = await setup();
    const c = restClient(fake, 'not-a-token');
    await assert.rejects(c.getMe(), (err) => {
      assert.ok(err instanceof ClientError);
      assert.equal(err.status_code, 401);
      assert.equal(err.server_error_id, 'api.context.session_expired.app_error');
      assert.equal(err.message, 'Invalid or expired session, please login again.');
      return true;
    });
    const [call] = await fake.calls({ endpoint: 'get_me' });
    assert.equal(call.status, 401);
    assert.deepEqual(Object.keys(call.response).sort(), ['detailed_error', 'id', 'message', 'request_id', 'status_code']);
    assert.equal(call.response.request_id, call.request_id);
    assert.equal((await fake.errors({ kind: 'bad_auth' })).length, 1);
  });

  test('createPost: 201, recorded with channel_id, message, root_id and props; from_bot added', async () => {
    const fake = await setup();
    const c = restClient(fake);
    const { post: root } = await fake.injectPost({ channel: 'town-square', user: 'alice', message: 'deploy web please' });
    const created = await c.createPost({
      channel_id: TOWN, message: 'on it', root_id: root.id, props: { ackbot_request: 'r-1' },
    });
    assert.ok(isValidId(created.id));
    assert.equal(created.user_id, fake.config.bot_user_id);
    assert.equal(created.root_id, root.id);
    assert.equal(created.props.from_bot, 'true');
    assert.equal(created.props.ackbot_request, 'r-1');
    const [rec] = await fake.waitPosts({ count: 1 });
    assert.equal(rec.channel_id, TOWN);
    assert.equal(rec.message, 'on it');
    assert.equal(rec.root_id, root.id);
    assert.deepEqual(rec.props, { ackbot_request: 'r-1' });
    const [call] = await fake.calls({ endpoint: 'create_post' });
    assert.equal(call.status, 201);
    const thread = await c.getPostThread(root.id);
    assert.deepEqual(thread.order.sort(), [root.id, created.id].sort());
    const after = await c.getPostsAfter(TOWN, root.id);
    assert.deepEqual(after.order, [created.id]);
    assert.deepEqual(await fake.errors(), []);
  });

  test('the 16383 code-point limit, counted in code points; misuse is rejected and recorded', async () => {
    const fake = await setup();
    const c = restClient(fake);
    const ok = await c.createPost({ channel_id: TOWN, message: '😀'.repeat(16383) }); // 65532 bytes
    assert.equal([...ok.message].length, 16383);
    await assert.rejects(c.createPost({ channel_id: TOWN, message: 'é'.repeat(16384) }), (err) => {
      assert.equal(err.status_code, 400);
      assert.equal(err.server_error_id, 'model.post.is_valid.message_length.app_error');
      return true;
    });
    await assert.rejects(c.createPost({ message: 'no channel' }), (err) => err.status_code === 403 && err.server_error_id === 'api.context.permissions.app_error');
    await assert.rejects(c.createPost({ channel_id: SECRET, message: 'not a member' }), (err) => err.status_code === 403);
    const { post: root } = await fake.injectPost({ message: 'root' });
    const reply = await c.createPost({ channel_id: TOWN, message: 'reply', root_id: root.id });
    await assert.rejects(c.createPost({ channel_id: TOWN, message: 'reply to a reply', root_id: reply.id }), (err) => {
      assert.equal(err.status_code, 400);
      assert.equal(err.server_error_id, 'api.post.create_post.root_id.app_error');
      return true;
    });
    await assert.rejects(c.createPost({ channel_id: OPS, message: 'wrong channel', root_id: root.id }), (err) => err.server_error_id === 'api.post.create_post.channel_root_id.app_error');
    const kinds = (await fake.errors()).map((e) => e.kind);
    assert.deepEqual(kinds, ['message_too_long', 'missing_channel_id', 'not_channel_member', 'root_id_is_a_reply', 'root_id_channel_mismatch']);
    assert.equal((await fake.posts()).length, 2);
  });

  test('patchPost edits the bot\'s own post and broadcasts post_edited; another user\'s post is refused', async () => {
    const fake = await setup();
    const c = restClient(fake);
    const ws = connect(fake);
    await ws.start();
    const created = await c.createPost({ channel_id: OPS, message: 'deploying…' });
    const patched = await c.patchPost({ id: created.id, message: 'deployed' });
    assert.ok(patched.edit_at > 0);
    const ev = await ws.next((e) => e.event === 'post_edited');
    assert.equal(postOf(ev).message, 'deployed');
    assert.equal(ev.broadcast.channel_id, OPS);
    const [upd] = await fake.updates();
    assert.equal(upd.kind, 'patch');
    assert.equal(upd.id, created.id);
    const { post: hers } = await fake.injectPost({ channel: 'ops', message: 'mine' });
    await assert.rejects(c.patchPost({ id: hers.id, message: 'nope' }), (err) => err.status_code === 403);
  });

  test('429 as the client sees it: plain text "limit exceeded" with Retry-After and X-RateLimit-*, then success', async () => {
    const fake = await setup();
    const c = restClient(fake);
    await fake.rateLimit({ endpoint: 'create_post', count: 1, retry_after: 2 });
    await assert.rejects(c.createPost({ channel_id: TOWN, message: 'x' }), (err) => {
      // Client4 only reads JSON error bodies: the plain-text 429 leaves no id and no status.
      assert.ok(err instanceof ClientError);
      assert.equal(err.server_error_id, undefined);
      assert.equal(err.status_code, undefined);
      assert.equal(err.message, '');
      return true;
    });
    const [call] = await fake.calls({ endpoint: 'create_post', status: 429 });
    assert.equal(call.response, 'limit exceeded\n');
    // The same answer seen raw.
    await fake.rateLimit({ endpoint: 'create_post', count: 1, retry_after: 2 });
    const res = await fetch(`${fake.apiUrl}/posts`, {
      method: 'POST', headers: { Authorization: `Bearer ${fake.config.bot_token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ channel_id: TOWN, message: 'x' }),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(res.headers.get('retry-after'), '2');
    assert.equal(res.headers.get('x-ratelimit-limit'), '101');
    assert.equal(res.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(res.headers.get('x-ratelimit-reset'), '2');
    assert.equal(await res.text(), 'limit exceeded\n');
    const ok = await c.createPost({ channel_id: TOWN, message: 'x' });
    assert.equal(ok.message, 'x');
    assert.equal((await fake.posts()).length, 1);
  });

  test('an injected 503 reaches the client as a ClientError with status 503', async () => {
    const fake = await setup();
    const c = restClient(fake);
    await fake.fail({ endpoint: 'get_me', status: 503 });
    await assert.rejects(c.getMe(), (err) => err.status_code === 503 && err.server_error_id === 'api.fake.injected_failure');
    assert.equal((await c.getMe()).username, 'ackbot');
  });
});

describe('WebSocketClient', () => {
  test('header auth: hello with connection_id and server_version, then posted events of every kind', async () => {
    const fake = await setup();
    const ws = connect(fake);
    const hello = await ws.start();
    assert.equal(hello.seq, 0);
    assert.ok(isValidId(hello.data.connection_id));
    assert.equal(hello.data.server_version, fake.config.server_version);
    assert.equal(hello.broadcast.user_id, fake.config.bot_user_id);
    assert.equal(ws.client.connectionId, hello.data.connection_id);
    const [conn] = await fake.connections();
    assert.equal(conn.auth, 'header');
    assert.equal(conn.resume_result, 'fresh');

    await fake.injectPost({ channel: 'town-square', user: 'alice', message: 'hi @ackbot, status?' });
    const chan = postOf(await ws.posted('hi @ackbot, status?'));
    const chanEv = ws.events.find((e) => e.event === 'posted');
    assert.equal(typeof chanEv.data.post, 'string', 'data.post is a JSON string');
    assert.equal(chanEv.data.channel_type, 'O');
    assert.equal(chanEv.data.channel_name, 'town-square');
    assert.equal(chanEv.data.sender_name, '@alice');
    assert.deepEqual(JSON.parse(chanEv.data.mentions), [fake.config.bot_user_id]);
    assert.equal(chan.user_id, USERS.alice);

    await fake.injectPost({ channel: '@alice', user: 'alice', message: 'dm text' });
    const dmEv = await ws.posted('dm text');
    assert.equal(dmEv.data.channel_type, 'D');
    assert.deepEqual(JSON.parse(dmEv.data.mentions), [fake.config.bot_user_id], 'a DM counts as a mention');

    await fake.injectPost({ channel: GM, user: 'bob', message: 'group text' });
    assert.equal((await ws.posted('group text')).data.channel_type, 'G');
    await fake.injectPost({ channel: PRIVATE, user: 'alice', message: 'private text' });
    assert.equal((await ws.posted('private text')).data.channel_type, 'P');

    const { post: root } = await fake.injectPost({ channel: 'ops', user: 'bob', message: 'root' });
    await fake.injectPost({ root_id: root.id, user: 'alice', message: 'in thread' });
    assert.equal(postOf(await ws.posted('in thread')).root_id, root.id);

    await fake.injectPost({ channel: 'ops', user: 'cibot', message: 'from another bot' });
    assert.equal(postOf(await ws.posted('from another bot')).props.from_bot, 'true');

    await fake.injectPost({ channel: 'ops', user: 'carol', type: 'system_join_channel', message: 'carol joined the channel.' });
    assert.equal(postOf(await ws.posted('carol joined the channel.')).type, 'system_join_channel');

    await fake.injectPost({ channel: ELSEWHERE, user: 'alice', message: 'not for the bot' });
    const { post: edited } = await fake.injectPost({ channel: 'ops', user: 'alice', message: 'typo' });
    await fake.injectEdit({ post_id: edited.id, message: 'fixed' });
    const ed = await ws.next((e) => e.event === 'post_edited');
    assert.equal(postOf(ed).message, 'fixed');
    assert.ok(postOf(ed).edit_at > 0);
    assert.equal(ws.events.filter((e) => e.event === 'posted' && postOf(e).message === 'not for the bot').length, 0, 'no event from a channel the bot is not in');
    // Event seqs are 0, 1, 2, ... with no gap (the client would have closed with 4001).
    assert.deepEqual(ws.events.map((e) => e.seq), ws.events.map((_, i) => i));
    assert.equal(ws.reconnects, 0);
    assert.deepEqual(await fake.errors(), []);
  });

  test('the bot\'s own createPost comes back as posted, with from_bot', async () => {
    const fake = await setup();
    const ws = connect(fake);
    await ws.start();
    const c = restClient(fake);
    const created = await c.createPost({ channel_id: DM_ALICE, message: 'echo me' });
    const ev = await ws.posted('echo me');
    assert.equal(postOf(ev).id, created.id);
    assert.equal(postOf(ev).user_id, fake.config.bot_user_id);
    assert.equal(postOf(ev).props.from_bot, 'true');
    assert.equal(ev.data.mentions, undefined, 'the author is not mentioned by its own post');
  });

  test('challenge auth: hello and the OK reply; a reconnect starts afresh (no resume without header auth)', async () => {
    const fake = await setup();
    const ws = connect(fake, { auth: 'challenge' });
    const hello = await ws.start();
    const [conn] = await fake.waitConnections({ count: 1 });
    assert.equal(conn.auth, 'challenge');
    const [challenge] = await fake.waitActions({ action: 'authentication_challenge' });
    assert.deepEqual(challenge.reply, { status: 'OK', seq_reply: 1 });
    assert.equal(challenge.data.token, '[redacted]');
    await fake.waitActions({ action: 'ping' });
    await fake.drop({ mode: 'close', code: 1001 });
    await ws.until(() => ws.events.filter((e) => e.event === 'hello').length === 2, 5000, 'second hello');
    const conns = await fake.connections();
    assert.equal(conns[1].query.connection_id, hello.data.connection_id, 'the client asked to resume');
    assert.equal(conns[1].resume_result, 'ignored_no_session');
    assert.notEqual(conns[1].connection_id, hello.data.connection_id);
    assert.equal(ws.missed, 1, 'the client noticed the new connection id');
  });

  test('resume after a dropped socket: missed events are replayed with their seq, no new hello', async () => {
    const fake = await setup();
    const ws = connect(fake, { config: { clientPingInterval: 400 } });
    const hello = await ws.start();
    await fake.injectPost({ message: 'before the drop' });
    await ws.posted('before the drop');
    // A ghost socket: the fake stops writing and reading, so what it "sends"
    // is lost on the wire but kept in the dead queue; the client's ping gets
    // no answer, it closes (4000) and reconnects with connection_id + sequence_number.
    await fake.drop({ mode: 'ghost' });
    await fake.injectPost({ message: 'lost 1' });
    await fake.injectPost({ message: 'lost 2' });
    await ws.posted('lost 2', 8000);
    const conns = await fake.connections();
    assert.equal(conns.length, 2);
    const resumed = conns[1];
    assert.equal(resumed.query.connection_id, hello.data.connection_id);
    assert.equal(resumed.query.sequence_number, '2', 'next seq after hello (0) and one post (1)');
    assert.equal(resumed.query.disconnect_err_code, '4000');
    assert.equal(resumed.resume_result, 'replayed');
    assert.equal(resumed.replayed, 2);
    assert.equal(resumed.hello_sent, 0);
    assert.equal(resumed.connection_id, hello.data.connection_id);
    assert.deepEqual(ws.events.map((e) => [e.event, e.seq]), [['hello', 0], ['posted', 1], ['posted', 2], ['posted', 3]]);
    assert.equal(ws.missed, 0);
    const replayed = await fake.events({ replayed: true });
    assert.deepEqual(replayed.map((e) => e.ws_seq), [2, 3]);
    // And the link goes on.
    await fake.injectPost({ message: 'after' });
    assert.equal((await ws.posted('after')).seq, 4);
  });

  test('resume after a reset: events queued while the connection was inactive are delivered', async () => {
    const fake = await setup();
    const ws = connect(fake, { config: { minWebSocketRetryTime: 600 } });
    const hello = await ws.start();
    await fake.drop({ mode: 'reset' });
    await fake.waitConnections({ state: 'closed' });
    await fake.injectPost({ message: 'queued while away' });
    const ev = await ws.posted('queued while away');
    assert.equal(ev.seq, 1);
    const conns = await fake.connections();
    assert.equal(conns[1].resume_result, 'lossless');
    assert.equal(conns[1].connection_id, hello.data.connection_id);
    assert.equal(ws.missed, 0);
  });

  test('a forced sequence gap: the client closes with 4001, resumes, and gets a new connection id and hello', async () => {
    const fake = await setup();
    const ws = connect(fake);
    const hello = await ws.start();
    await fake.forceGap({ count: 2 });
    await ws.until(() => ws.missed === 1, 5000, 'missed-message listener');
    const second = await ws.next((e) => e.event === 'hello' && e.data.connection_id !== hello.data.connection_id);
    assert.equal(second.seq, 0);
    const conns = await fake.connections();
    assert.equal(conns[1].query.disconnect_err_code, '4001');
    assert.equal(conns[1].query.connection_id, hello.data.connection_id);
    assert.equal(conns[1].resume_result, 'gap');
    await fake.injectPost({ message: 'after the gap' });
    assert.equal((await ws.posted('after the gap')).seq, 1);
  });

  test('a forgotten connection id: the resume gets a fresh hello', async () => {
    const fake = await setup();
    const ws = connect(fake);
    const hello = await ws.start();
    await fake.forgetConnections({});
    await ws.until(() => ws.missed === 1, 5000, 'missed-message listener');
    const conns = await fake.connections();
    assert.equal(conns[1].query.connection_id, hello.data.connection_id);
    assert.equal(conns[1].resume_result, 'unknown_id');
    assert.notEqual(ws.client.connectionId, hello.data.connection_id);
  });

  test('a bad header token: connected, then closed by the auth deadline, never a hello', async () => {
    const fake = await setup({ auth_timeout_ms: 300 });
    const ws = connect(fake, { token: 'bad-token', config: { minWebSocketRetryTime: 5000 } });
    ws.client.initialize(fake.wsUrl);
    await fake.waitErrors({ kind: 'ws_auth_timeout' });
    const [conn] = await fake.waitConnections({ state: 'closed' });
    assert.equal(conn.auth, 'bad_token');
    assert.equal(conn.closed_by, 'auth_timeout');
    assert.equal(ws.events.length, 0);
    assert.deepEqual((await fake.errors()).map((e) => e.kind), ['ws_bad_token', 'ws_action_before_auth', 'ws_auth_timeout']);
  });

  test('typing, statuses and ping over the client', async () => {
    const fake = await setup();
    const bot = connect(fake);
    const alice = connect(fake, { token: fake.users.get(USERS.alice).token });
    await bot.start();
    await alice.start();
    const statuses = await new Promise((resolve) => bot.client.getStatusesByIds([USERS.alice, USERS.carol], resolve));
    assert.equal(statuses.status, 'OK');
    assert.deepEqual(statuses.data, { [USERS.alice]: 'online', [USERS.carol]: 'offline' });
    const typed = await new Promise((resolve) => alice.client.userTyping(OPS, '', resolve));
    assert.equal(typed.status, 'OK');
    const ev = await bot.next((e) => e.event === 'typing');
    assert.equal(ev.data.user_id, USERS.alice);
    assert.deepEqual(ev.broadcast.omit_users, { [USERS.alice]: true });
    assert.equal(alice.events.filter((e) => e.event === 'typing').length, 0, 'the typist is left out');
    const pong = await new Promise((resolve) => bot.client.ping(resolve));
    assert.equal(pong.data.text, 'pong');
    assert.equal(pong.data.version, '10.5.0');
  });
});

describe('TLS with a CA made at test time', () => {
  // The client runs in a child process so that NODE_EXTRA_CA_CERTS applies.
  const CHILD = `
    const { restClient, wsClient } = require(${JSON.stringify(path.join(__dirname, 'helpers.js'))});
    const fake = { url: process.env.MM_URL, wsUrl: process.env.MM_WS, config: { bot_token: process.env.MM_TOKEN } };
    (async () => {
      const out = {};
      try { out.me = (await restClient(fake).getMe()).username; } catch (e) { out.rest_error = String(e.cause && e.cause.cause ? e.cause.cause.code : e.cause ? (e.cause.code || e.cause.message) : e.message); }
      const ws = wsClient(fake, { config: { minWebSocketRetryTime: 60000 } });
      ws.client.addErrorListener((e) => { out.ws_error = String(e.error ? (e.error.code || e.error.message) : e.message); });
      try {
        await ws.start(Number(process.env.MM_WAIT_MS || 5000));
        out.hello = true;
        out.post = JSON.parse((await ws.next((e) => e.event === 'posted')).data.post).message;
      } catch (e) { out.ws_failed = e.message.slice(0, 60); }
      ws.close();
      process.stdout.write(JSON.stringify(out) + '\\n');
      process.exit(0);
    })();`;

  function runChild(fake, env) {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', CHILD], {
        env: {
          ...process.env, MM_URL: fake.url, MM_WS: fake.wsUrl, MM_TOKEN: fake.config.bot_token, ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => { out += d; });
      child.stderr.on('data', (d) => { err += d; });
      child.on('error', reject);
      child.on('exit', () => {
        try {
          resolve(JSON.parse(out.trim().split('\n').pop()));
        } catch {
          reject(new Error(`child output: ${out} ${err}`));
        }
      });
    });
  }

  test('https + wss trusted through NODE_EXTRA_CA_CERTS; an untrusted certificate is refused', async () => {
    const certs = makeTestCerts();
    cleanups.push(() => certs.cleanup());
    const fake = await setup({ tls_cert: certs.certPath, tls_key: certs.keyPath });
    assert.match(fake.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(fake.wsUrl, /^wss:\/\//);
    const trusted = runChild(fake, { NODE_EXTRA_CA_CERTS: certs.caPath });
    await fake.waitConnections({ count: 1, timeout_ms: 10000 });
    await sleep(100);
    await fake.injectPost({ message: 'over tls' });
    assert.deepEqual(await trusted, { me: 'ackbot', hello: true, post: 'over tls' });

    const other = makeTestCerts(undefined, 'some other CA');
    cleanups.push(() => other.cleanup());
    const env = { NODE_EXTRA_CA_CERTS: other.caPath, MM_WAIT_MS: '1500' };
    const untrusted = await runChild(fake, env);
    assert.equal(untrusted.me, undefined);
    assert.equal(untrusted.rest_error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(untrusted.hello, undefined);
    assert.equal(untrusted.ws_error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal((await fake.calls()).length, 1, 'only the trusted child\'s call got through');
    assert.equal((await fake.connections()).length, 1);
  });
});
