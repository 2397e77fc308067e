'use strict';
// The fake Slack checked with Slack's official Node clients: if
// @slack/socket-mode or @slack/web-api cannot talk to the fake, the fake is
// wrong. Run: node --test slack/test_sdk.js (from tests/fakes, after npm ci).
const { describe, test, before, after, beforeEach } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const { WebClient, WebClientEvent, ErrorCode } = require('@slack/web-api');
const { Agent, fetch: undiciFetch, WebSocket: UndiciWebSocket } = require('undici');
const WebSocket = require('ws');
const { makeTestCerts } = require('../lib/certs');
const {
  memoryLogger, startFake, socketClient, nextEvent, sleep,
} = require('./helpers');

const BUTTON_BLOCKS = [
  {
    type: 'section',
    block_id: 'confirm.text',
    text: { type: 'mrkdwn', text: '<@U0HUMAN01> asked to deploy *api* to *production*. Proceed?' },
  },
  {
    type: 'actions',
    block_id: 'confirm.buttons',
    elements: [
      {
        type: 'button', action_id: 'deploy.approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: 'req-7f3a',
      },
      {
        type: 'button', action_id: 'deploy.cancel', text: { type: 'plain_text', text: 'Cancel' }, style: 'danger', value: 'req-7f3a',
      },
    ],
  },
];

function webClient(fake, opts = {}) {
  return new WebClient(opts.token ?? fake.config.bot_token, {
    slackApiUrl: fake.apiUrl,
    logger: memoryLogger('web-api'),
    retryConfig: { retries: 0 },
    ...opts,
  });
}

/** Refuses to connect: resolves with the HTTP status of the refused upgrade. */
function refusedStatus(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.terminate();
      reject(new Error(`${url} was accepted`));
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

describe('@slack/socket-mode against the fake', () => {
  let fake;
  let client;
  let web;

  before(async () => {
    fake = await startFake({ ping_interval_ms: 2000 });
    client = socketClient(fake);
    web = webClient(fake);
  });

  after(async () => {
    await client.disconnect();
    await fake.stop();
  });

  beforeEach(async () => {
    // Keep connections, forget records and settings from the previous test.
    await fake.reset();
    client.removeAllListeners('message');
    client.removeAllListeners('app_mention');
    client.removeAllListeners('interactive');
    client.removeAllListeners('slash_commands');
  });

  test('start(): apps.connections.open with the app token, then hello', async () => {
    const resp = await client.start();
    assert.equal(resp.ok, true);
    assert.match(resp.url, /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]{36}&app_id=\w+$/);
    const [conn] = await fake.waitConnections({ count: 1 });
    assert.equal(conn.state, 'open');
    assert.equal(conn.num_connections, 1);
    assert.ok(conn.hello_at);
    const [call] = await fake.calls({ method: 'apps.connections.open' });
    assert.equal(call.auth, 'header');
    assert.equal(call.token_kind, 'app');
    assert.equal(call.http_method, 'POST');
    assert.match(call.content_type, /^application\/x-www-form-urlencoded/);
    assert.deepEqual(await fake.errors(), []);
  });

  test('message + app_mention: delivered, acked, recorded, not retried', async () => {
    await fake.configure({ ack_timeout_ms: 500, retry_delays_ms: [0, 0, 0] });
    const seen = [];
    const onEvent = async ({ ack, event, body, envelope_id, retry_num, retry_reason, accepts_response_payload }) => {
      seen.push({ event, body, envelope_id, retry_num, retry_reason, accepts_response_payload });
      await ack();
    };
    client.on('message', onEvent);
    client.on('app_mention', onEvent);
    const r = await fake.injectMessage({ channel: 'C0GENERAL', user: 'U0HUMAN01', text: '<@U0BOT0001> deploy api please' });
    assert.deepEqual(r.envelopes.map((e) => e.event_type), ['message', 'app_mention']);
    const acks = await fake.waitAcks({ count: 2 });
    assert.deepEqual(new Set(acks.map((a) => a.envelope_id)), new Set(r.envelopes.map((e) => e.envelope_id)));
    for (const a of acks) {
      assert.equal(a.late, false);
      assert.deepEqual(a.payload, {}); // @slack/socket-mode always sends payload: {}
    }
    const msg = seen.find((s) => s.event.type === 'message');
    const mention = seen.find((s) => s.event.type === 'app_mention');
    assert.equal(msg.event.channel, 'C0GENERAL');
    assert.equal(msg.event.channel_type, 'channel');
    assert.equal(msg.event.user, 'U0HUMAN01');
    assert.equal(msg.event.ts, r.ts);
    assert.equal(msg.retry_num, 0);
    assert.equal(msg.retry_reason, '');
    assert.equal(msg.accepts_response_payload, false);
    assert.equal(msg.body.type, 'event_callback');
    assert.equal(msg.body.team_id, 'T0FAKE001');
    assert.equal(msg.body.api_app_id, 'A0FAKE001');
    assert.match(msg.body.event_id, /^Ev\w+$/);
    assert.equal(mention.event.channel_type, undefined);
    assert.notEqual(mention.body.event_id, msg.body.event_id);
    // Past the (shortened) deadline: nothing was re-sent.
    await sleep(700);
    assert.equal((await fake.envelopes()).length, 2);
    assert.deepEqual(await fake.errors(), []);
  });

  test('DM, thread reply, bot message, edit and delete arrive with realistic shapes', async () => {
    const seen = [];
    client.on('message', async ({ ack, event }) => {
      seen.push(event);
      await ack();
    });
    client.on('app_mention', async ({ ack }) => {
      await ack();
      assert.fail('no app_mention in a DM');
    });
    const dm = await fake.injectMessage({ channel: 'D0DM00001', user: 'U0HUMAN01', text: '<@U0BOT0001> help' });
    assert.equal(dm.envelopes.length, 1, 'DMs never produce app_mention');
    const parent = await fake.injectMessage({ channel: 'C0GENERAL', text: 'deploy api' });
    await fake.injectMessage({ channel: 'C0GENERAL', text: 'and the worker too', thread_ts: parent.ts });
    await fake.injectMessage({ channel: 'C0GENERAL', text: 'build #42 passed', subtype: 'bot_message', bot_id: 'B0OTHER01' });
    await fake.injectEdit({ channel: 'C0GENERAL', ts: parent.ts, text: 'deploy api please (edited)' });
    await fake.injectDelete({ channel: 'C0GENERAL', ts: parent.ts });
    await fake.waitAcks({ count: 6 });
    const [dmEv, top, reply, bot, edit, del] = seen;
    assert.equal(dmEv.channel_type, 'im');
    assert.equal(dmEv.channel, 'D0DM00001');
    assert.equal(top.thread_ts, undefined);
    assert.equal(reply.thread_ts, parent.ts);
    assert.notEqual(reply.ts, parent.ts);
    assert.equal(reply.parent_user_id, 'U0HUMAN01');
    assert.equal(bot.subtype, 'bot_message');
    assert.equal(bot.bot_id, 'B0OTHER01');
    assert.equal(bot.user, undefined);
    assert.equal(edit.subtype, 'message_changed');
    assert.equal(edit.hidden, true);
    assert.equal(edit.message.ts, parent.ts);
    assert.equal(edit.message.text, 'deploy api please (edited)');
    assert.equal(edit.previous_message.text, 'deploy api');
    assert.equal(edit.user, undefined);
    assert.equal(del.subtype, 'message_deleted');
    assert.equal(del.deleted_ts, parent.ts);
    assert.deepEqual(await fake.errors(), []);
  });

  test('button click: post with chat.postMessage, interactive envelope, ack, chat.update', async () => {
    const post = await web.chat.postMessage({
      channel: 'C0GENERAL', text: 'Deploy api to production? (buttons below)', blocks: BUTTON_BLOCKS,
    });
    assert.equal(post.ok, true);
    assert.equal(post.channel, 'C0GENERAL');
    assert.match(post.ts, /^\d{10}\.\d{6}$/);
    assert.equal(post.message.bot_id, 'B0BOT0001');
    const clicked = nextEvent(client, 'interactive');
    const click = await fake.injectClick({ action_id: 'deploy.approve', user: 'U0HUMAN02' });
    const { ack, body, envelope_id } = await clicked;
    await ack();
    assert.equal(envelope_id, click.envelope_id);
    assert.equal(body.type, 'block_actions');
    assert.equal(body.user.id, 'U0HUMAN02');
    assert.equal(body.actions[0].action_id, 'deploy.approve');
    assert.equal(body.actions[0].value, 'req-7f3a');
    assert.equal(body.actions[0].block_id, 'confirm.buttons');
    assert.equal(body.container.channel_id, 'C0GENERAL');
    assert.equal(body.container.message_ts, post.ts);
    assert.equal(body.message.ts, post.ts);
    assert.equal(body.message.blocks.length, 2);
    const [a] = await fake.waitAcks({ count: 1 });
    assert.equal(a.type, 'interactive');
    assert.equal(a.late, false);

    const upd = await web.chat.update({
      channel: body.container.channel_id,
      ts: body.container.message_ts,
      text: 'Deploy api to production: approved by <@U0HUMAN02>',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: *Approved* by <@U0HUMAN02>' } }],
    });
    assert.equal(upd.ok, true);
    assert.equal(upd.ts, post.ts);
    assert.equal(upd.message.blocks.length, 1);
    const [u] = await fake.updates();
    assert.equal(u.channel, 'C0GENERAL');
    assert.equal(u.ts, post.ts);
    assert.equal(u.blocks[0].type, 'section');
    const [p] = await fake.posts();
    assert.equal(p.blocks.length, 2);
    assert.equal(p.blocks[1].elements[0].action_id, 'deploy.approve');
    // The buttons are gone now: a click on them is refused by the control API.
    await assert.rejects(fake.injectClick({ action_id: 'deploy.approve' }), /no_message_with_that_button/);
    assert.deepEqual(await fake.errors(), []);
  });

  test('slash command: ack with a response payload is recorded', async () => {
    const got = nextEvent(client, 'slash_commands');
    const r = await fake.injectSlashCommand({ command: '/deploy', text: 'api' });
    const { ack, body, accepts_response_payload } = await got;
    assert.equal(accepts_response_payload, true);
    assert.equal(body.command, '/deploy');
    await ack({ response_type: 'ephemeral', text: 'Deploying *api*' });
    const [a] = await fake.waitAcks({ count: 1 });
    assert.equal(a.envelope_id, r.envelope_id);
    assert.deepEqual(a.payload, { response_type: 'ephemeral', text: 'Deploying *api*' });
  });

  test('an unacked event is retried with retry_attempt+1 and retry_reason "timeout"', async () => {
    await fake.configure({ ack_timeout_ms: 300, retry_delays_ms: [50, 50, 50] });
    const seen = [];
    client.on('message', async ({ ack, body, envelope_id, retry_num, retry_reason }) => {
      seen.push({ event_id: body.event_id, envelope_id, retry_num, retry_reason });
      if (retry_num >= 1) await ack(); // the first delivery is "lost"
    });
    const r = await fake.injectMessage({ text: 'deploy api' });
    const [a] = await fake.waitAcks({ count: 1 });
    assert.equal(a.retry_attempt, 1);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen.map((s) => s.retry_num), [0, 1]);
    assert.equal(seen[1].retry_reason, 'timeout');
    assert.equal(seen[0].event_id, seen[1].event_id);
    assert.equal(seen[0].event_id, r.envelopes[0].event_id);
    assert.notEqual(seen[0].envelope_id, seen[1].envelope_id);
    await sleep(500);
    const env = await fake.envelopes({ event_id: r.envelopes[0].event_id });
    assert.deepEqual(env.map((e) => e.state), ['missed', 'acked']);
    const errs = await fake.errors();
    assert.deepEqual(errs.map((e) => e.kind), ['ack_missing']);
  });

  test('never acked: 3 retries, then Slack gives up', async () => {
    await fake.configure({ ack_timeout_ms: 150, retry_delays_ms: [20, 20, 20] });
    const nums = [];
    client.on('message', ({ retry_num }) => { nums.push(retry_num); });
    const r = await fake.injectMessage({ text: 'nobody listens' });
    await fake.waitErrors({ kind: 'ack_missing', count: 4 });
    await sleep(300);
    assert.deepEqual(nums, [0, 1, 2, 3]);
    const env = await fake.envelopes({ event_id: r.envelopes[0].event_id });
    assert.equal(env.length, 4);
    assert.ok(env.every((e) => e.state === 'missed'));
  });

  test('an ack after the deadline is flagged late', async () => {
    await fake.configure({ ack_timeout_ms: 200, retry_delays_ms: [10000] });
    client.on('message', async ({ ack }) => {
      await sleep(350);
      await ack();
    });
    await fake.injectMessage({ text: 'slow handler' });
    const [a] = await fake.waitAcks({ count: 1 });
    assert.equal(a.late, true);
    assert.ok(a.latency_ms >= 200);
    const kinds = (await fake.errors()).map((e) => e.kind);
    assert.deepEqual(kinds, ['ack_missing', 'ack_late']);
  });

  for (const reason of ['refresh_requested', 'warning']) {
    test(`disconnect "${reason}": reconnects with a fresh URL; the old one is refused`, async () => {
      const [old] = await fake.connections({ state: 'open' });
      const reconnected = nextEvent(client, 'connected', () => true, 8000);
      await fake.disconnect({ reason });
      await reconnected;
      const conns = await fake.waitConnections({ count: 2 });
      const fresh = conns.find((c) => c.id !== old.id);
      const gone = conns.find((c) => c.id === old.id);
      assert.equal(gone.state, 'closed');
      assert.equal(gone.closed_by, 'client');
      assert.equal(gone.close_code, 1000);
      assert.deepEqual(gone.disconnects_sent.map((d) => d.reason), [reason]);
      assert.equal(fresh.state, 'open');
      assert.notEqual(fresh.ticket, old.ticket);
      assert.equal((await fake.calls({ method: 'apps.connections.open' })).length, 1);
      // The old URL is single-use.
      const port = fake.port;
      assert.equal(await refusedStatus(`ws://127.0.0.1:${port}${old.url}`), 409);
      const errs = await fake.errors();
      assert.deepEqual(errs.map((e) => e.kind), ['ws_ticket_reused']);
      // Events flow on the new connection.
      client.on('message', async ({ ack }) => ack());
      const r = await fake.injectMessage({ text: 'after reconnect' });
      const [a] = await fake.waitAcks({ count: 1 });
      assert.equal(a.connection, fresh.id);
      assert.equal(a.envelope_id, r.envelopes[0].envelope_id);
    });
  }

  test('dropped socket (TCP reset): the client reconnects; events queued meanwhile arrive', async () => {
    const [old] = await fake.connections({ state: 'open' });
    const reconnected = nextEvent(client, 'connected', () => true, 8000);
    client.on('message', async ({ ack }) => ack());
    await fake.drop({});
    await fake.waitConnections({ state: 'closed', count: 1 });
    const r = await fake.injectMessage({ text: 'while you were away' });
    assert.equal(r.envelopes[0].queued, true);
    await reconnected;
    const [a] = await fake.waitAcks({ count: 1 });
    assert.notEqual(a.connection, old.id);
    const conns = await fake.connections({ id: old.id });
    assert.equal(conns[0].closed_by, 'drop');
  });

  test('malformed frames are ignored by the client; an envelope without id gets an ack without id', async () => {
    const seen = [];
    client.on('message', async ({ ack, event }) => {
      seen.push(event.text);
      await ack();
    });
    for (const kind of ['non_json', 'empty', 'truncated', 'binary', 'json_array', 'unknown_type', 'no_envelope_id']) {
      await fake.malformed({ kind });
    }
    await fake.injectMessage({ text: 'still alive?' });
    await fake.waitAcks({ count: 1 });
    await fake.waitErrors({ kind: 'ack_without_envelope_id', count: 1 });
    assert.deepEqual(seen, ['envelope without id', 'still alive?']);
  });
});

describe('@slack/web-api against the fake', () => {
  let fake;
  let web;

  before(async () => {
    fake = await startFake();
    web = webClient(fake);
  });
  after(() => fake.stop());
  beforeEach(() => fake.reset());

  test('auth.test and users.info', async () => {
    const me = await web.auth.test();
    assert.equal(me.ok, true);
    assert.equal(me.user_id, 'U0BOT0001');
    assert.equal(me.bot_id, 'B0BOT0001');
    assert.equal(me.team_id, 'T0FAKE001');
    assert.equal(me.url, 'https://fakeco.slack.com/');
    const u = await web.users.info({ user: 'U0HUMAN01' });
    assert.equal(u.user.name, 'alice');
    assert.equal(u.user.profile.display_name, 'alice');
    assert.equal(u.user.profile.real_name, 'Alice Example');
    await assert.rejects(web.users.info({ user: 'U0NOBODY0' }), (e) => e.data.error === 'user_not_found');
  });

  test('chat.postMessage: unique increasing ts, threads, blocks recorded', async () => {
    const a = await web.chat.postMessage({ channel: 'C0GENERAL', text: 'one' });
    const b = await web.chat.postMessage({ channel: 'C0GENERAL', text: 'two', thread_ts: a.ts });
    const c = await web.chat.postMessage({ channel: 'U0HUMAN02', text: 'to bob', blocks: BUTTON_BLOCKS });
    assert.ok(Number(b.ts) > Number(a.ts));
    assert.ok(Number(c.ts) > Number(b.ts));
    assert.equal(b.message.thread_ts, a.ts);
    assert.equal(c.channel, 'D0DM00002', 'a user ID posts into the DM with that user');
    const posts = await fake.waitPosts({ count: 3 });
    assert.deepEqual(posts.map((p) => p.text), ['one', 'two', 'to bob']);
    assert.equal(posts[1].thread_ts, a.ts);
    assert.deepEqual(posts[2].blocks, BUTTON_BLOCKS);
    assert.deepEqual(await fake.errors(), []);
  });

  test('errors: bad token, wrong token type, missing channel, no text, unknown message', async () => {
    const bad = webClient(fake, { token: 'xoxb-wrong' });
    await assert.rejects(bad.auth.test(), (e) => e.code === ErrorCode.PlatformError && e.data.error === 'invalid_auth');
    const app = webClient(fake, { token: fake.config.app_token });
    await assert.rejects(app.chat.postMessage({ channel: 'C0GENERAL', text: 'x' }), (e) => e.data.error === 'not_allowed_token_type');
    await assert.rejects(web.apps.connections.open(), (e) => e.data.error === 'not_allowed_token_type');
    await assert.rejects(web.chat.postMessage({ text: 'x' }), (e) => e.data.error === 'channel_not_found');
    await assert.rejects(web.chat.postMessage({ channel: 'C0NOSUCH0', text: 'x' }), (e) => e.data.error === 'channel_not_found');
    await assert.rejects(web.chat.postMessage({ channel: 'C0NOTMEMB', text: 'x' }), (e) => e.data.error === 'not_in_channel');
    await assert.rejects(web.chat.postMessage({ channel: 'C0GENERAL' }), (e) => e.data.error === 'no_text');
    await assert.rejects(web.chat.update({ channel: 'C0GENERAL', ts: '1767607210.000700', text: 'x' }), (e) => e.data.error === 'message_not_found');
    const tooLong = [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }];
    await assert.rejects(web.chat.postMessage({ channel: 'C0GENERAL', text: 'x', blocks: tooLong }), (e) => e.data.error === 'invalid_blocks'
      && /must be less than 3001 characters \[json-pointer:\/blocks\/0\/text\/text\]/.test(e.data.errors[0]));
    const kinds = (await fake.errors()).map((e) => e.error);
    assert.deepEqual(kinds, ['invalid_auth', 'not_allowed_token_type', 'not_allowed_token_type', 'channel_not_found',
      'channel_not_found', 'not_in_channel', 'no_text', 'message_not_found', 'invalid_blocks']);
    assert.equal((await fake.posts()).length, 0);
  });

  test('text over 40,000 characters is truncated with a message_truncated warning', async () => {
    const warnings = [];
    const w = webClient(fake, { logger: { ...memoryLogger('web-api'), warn: (m) => warnings.push(m) } });
    const r = await w.chat.postMessage({ channel: 'C0GENERAL', text: 'é'.repeat(40010) });
    assert.equal(r.warning, 'message_truncated');
    assert.equal([...r.message.text].length, 40000);
    assert.ok(warnings.includes('message_truncated'));
  });

  test('429 with Retry-After: WebClient waits, retries, the post arrives', async () => {
    const w = webClient(fake, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 } });
    const limited = [];
    w.on(WebClientEvent.RATE_LIMITED, (sec) => limited.push(sec));
    await fake.rateLimit({ method: 'chat.postMessage', count: 1, retry_after: 1 });
    const t0 = Date.now();
    const r = await w.chat.postMessage({ channel: 'C0GENERAL', text: 'after the wait' });
    const waited = Date.now() - t0;
    assert.equal(r.ok, true);
    assert.deepEqual(limited, [1]);
    assert.ok(waited >= 1000, `retried after ${waited} ms`);
    const calls = await fake.calls({ method: 'chat.postMessage' });
    assert.deepEqual(calls.map((c) => c.status), [429, 200]);
    assert.equal(calls[0].response.error, 'ratelimited');
    assert.ok(calls[1].at - calls[0].at >= 1000);
    assert.deepEqual((await fake.posts()).map((p) => p.text), ['after the wait']);
  });

  test('5xx on demand: WebClient retries, the post arrives once', async () => {
    const w = webClient(fake, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 } });
    await fake.fail({ method: 'chat.postMessage', status: 503, count: 1 });
    const r = await w.chat.postMessage({ channel: 'C0GENERAL', text: 'eventually' });
    assert.equal(r.ok, true);
    const calls = await fake.calls({ method: 'chat.postMessage' });
    assert.deepEqual(calls.map((c) => c.status), [503, 200]);
    assert.equal((await fake.posts()).length, 1);
  });

  test('Socket Mode start survives a 503 from apps.connections.open', async () => {
    await fake.fail({ method: 'apps.connections.open', status: 503, count: 1 });
    const client = socketClient(fake, { clientOptions: { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 10 } } });
    await client.start();
    await client.disconnect();
    const calls = await fake.calls({ method: 'apps.connections.open' });
    assert.deepEqual(calls.map((c) => c.status), [503, 200]);
  });
});

describe('TLS (https + wss) with a CA made by openssl', () => {
  let certs;
  let fake;

  before(async () => {
    certs = makeTestCerts();
    fake = await startFake({ tls_cert: certs.certPath, tls_key: certs.keyPath });
  });
  after(async () => {
    await fake.stop();
    certs.cleanup();
  });

  test('socket-mode + web-api in a child process trusting the CA via NODE_EXTRA_CA_CERTS', async () => {
    assert.match(fake.apiUrl, /^https:/);
    const script = `
      const { SocketModeClient, LogLevel } = require('@slack/socket-mode');
      const { WebClient } = require('@slack/web-api');
      const web = new WebClient(process.env.BOT_TOKEN, { slackApiUrl: process.env.API_URL, retryConfig: { retries: 0 } });
      const sm = new SocketModeClient({ appToken: process.env.APP_TOKEN, logLevel: LogLevel.ERROR,
        clientOptions: { slackApiUrl: process.env.API_URL, retryConfig: { retries: 0 } } });
      sm.on('message', async ({ ack, event }) => {
        await ack();
        await web.chat.postMessage({ channel: event.channel, thread_ts: event.ts, text: 'pong over tls' });
      });
      sm.start().then((r) => console.log('ready ' + r.url), (e) => { console.error(e); process.exit(3); });
    `;
    const child = spawn(process.execPath, ['-e', script], {
      cwd: path.join(__dirname, '..'),
      env: {
        ...process.env, NODE_EXTRA_CA_CERTS: certs.caPath, API_URL: fake.apiUrl, BOT_TOKEN: fake.config.bot_token, APP_TOKEN: fake.config.app_token,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    try {
      const url = await new Promise((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const m = /ready (\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
      });
      assert.match(url, /^wss:\/\/127\.0\.0\.1:/);
      const r = await fake.injectMessage({ text: 'ping over tls' });
      const [post] = await fake.waitPosts({ count: 1, timeout_ms: 8000 });
      assert.equal(post.text, 'pong over tls');
      assert.equal(post.thread_ts, r.ts);
      await fake.waitAcks({ count: 1 });
    } finally {
      child.kill();
    }
  });

  test('in-process clients with an undici Agent that trusts the CA', async () => {
    const dispatcher = new Agent({ connect: { ca: certs.ca } });
    const client = socketClient(fake, { dispatcher });
    await client.start();
    const web = webClient(fake, { fetch: (url, init) => undiciFetch(url, { ...init, dispatcher }) });
    assert.equal((await web.auth.test()).user_id, 'U0BOT0001');
    await client.disconnect();
    await dispatcher.close();
  });

  test('an untrusted certificate is refused (https and wss)', async () => {
    const web = webClient(fake);
    await assert.rejects(web.auth.test(), (e) => e.code === ErrorCode.RequestError
      && /CERT|VERIFY|SELF_SIGNED/.test(String(e.original && e.original.cause && e.original.cause.code)));
    const sm = socketClient(fake, { clientOptions: { retryConfig: { retries: 0 } } });
    await assert.rejects(sm.start(), (e) => e.code === ErrorCode.RequestError);
    // A valid ticket, fetched with the CA, is still refused by a client that does not trust it.
    const trusted = new Agent({ connect: { ca: certs.ca } });
    const appWeb = webClient(fake, { token: fake.config.app_token, fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: trusted }) });
    const { url } = await appWeb.apps.connections.open();
    const before = (await fake.connections()).length;
    const err = await new Promise((resolve) => {
      const ws = new UndiciWebSocket(url);
      ws.addEventListener('open', () => resolve(null));
      ws.addEventListener('error', (ev) => resolve(ev));
    });
    assert.ok(err, 'the wss connection must fail');
    assert.equal((await fake.connections()).length, before);
    await trusted.close();
  });
});
