#!/usr/bin/env node
'use strict';
// A fake Slack for ackbot's integration tests: the Web API methods the bot
// uses, Socket Mode (hello, envelopes, acks, retries, pings, disconnects) and a
// control interface for tests. Written from shared/protocols/slack.md and
// checked with @slack/web-api and @slack/socket-mode (test_sdk.js).
// See ../README.md for the control API.
const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');
const http = require('node:http');
const https = require('node:https');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { WebSocketServer } = require('ws');

const { ControlError, readBody, sendJson, mediaType, mediaParams, listen, closeServer } = require('../lib/http_util');
const { Waiters } = require('../lib/waiters');
const { hrUs, pem, matches } = require('../lib/records');
const { startControlServer } = require('../lib/control_server');
const { runCli } = require('../lib/cli');
const { validateBlocks, normalizeBlocks, richTextFor, randomId } = require('./blocks');

/** Settings that tests may change at run time with POST /control/config. */
const DEFAULT_CONFIG = Object.freeze({
  bot_token: 'xoxb-1111-2222-abcdef',
  app_token: 'xapp-1-A0FAKE001-1111-abcdef',
  team_id: 'T0FAKE001',
  team_name: 'Fake Co',
  team_domain: 'fakeco',
  app_id: 'A0FAKE001',
  bot_user_id: 'U0BOT0001',
  bot_id: 'B0BOT0001',
  bot_name: 'deploybot',
  // Slack's ack deadline. An envelope unacked by then is "missed" (recorded
  // as an error) and, for events_api, retried; a later ack is flagged late.
  ack_timeout_ms: 3000,
  // Delay of retry n+1 after attempt n missed its deadline; the length is the
  // number of retries (Slack: 3, "nearly immediately, ~1 min, ~5 min").
  retry_delays_ms: [1000, 60000, 300000],
  // Retries carry a fresh envelope_id by default (same event_id).
  retry_same_envelope_id: false,
  // Server pings ("Ping from applink-N"); 0 disables them.
  ping_interval_ms: 10000,
  // Answer the client's websocket pings with pongs.
  answer_pings: true,
  // Connection lifetime (hello.debug_info.approximate_connection_time);
  // `warning_lead_ms` before the end a `disconnect` `warning` is sent, at the
  // end the server closes the socket. debug_reconnects=true in the URL uses
  // debug_reconnects_lifetime_ms instead.
  connection_lifetime_ms: 18060 * 1000,
  debug_reconnects_lifetime_ms: 360 * 1000,
  warning_lead_ms: 10000,
  // After a `disconnect` frame, the server closes the socket itself after this
  // long if the client has not (null: never).
  disconnect_close_after_ms: 10000,
  // Concurrent connections per app; one more gets `too_many_websockets`.
  max_connections: 10,
  // Echo the bot's own posts as `message` events and its updates as
  // `message_changed`, as Slack does when the app subscribes to the channel.
  echo_bot_messages: false,
  echo_updates: false,
  // Event subscriptions of the app.
  subscriptions: ['message.channels', 'message.groups', 'message.im', 'message.mpim', 'app_mention'],
  // chat.postMessage / chat.update truncate `text` beyond this many characters.
  text_limit: 40000,
  // Log every call, frame and protocol error on stderr.
  verbose: false,
});

const DEFAULT_USERS = [
  { id: 'U0HUMAN01', name: 'alice', real_name: 'Alice Example', tz: 'Europe/Berlin' },
  { id: 'U0HUMAN02', name: 'bob', real_name: 'Bob Example', tz: 'America/New_York' },
  { id: 'U0HUMAN03', name: 'carol', real_name: 'Carol Example', tz: 'Asia/Tokyo' },
];

const DEFAULT_CHANNELS = [
  { id: 'C0GENERAL', name: 'general', type: 'channel', is_member: true },
  { id: 'C0RANDOM1', name: 'random', type: 'channel', is_member: true },
  { id: 'C0NOTMEMB', name: 'elsewhere', type: 'channel', is_member: false },
  { id: 'G0PRIVATE', name: 'ops-private', type: 'group', is_member: true },
  { id: 'D0DM00001', type: 'im', user: 'U0HUMAN01', is_member: true },
  { id: 'D0DM00002', type: 'im', user: 'U0HUMAN02', is_member: true },
  { id: 'G0MPIM001', name: 'mpdm-alice--bob--deploybot-1', type: 'mpim', is_member: true },
];

const SUBSCRIPTION_FOR_TYPE = { channel: 'message.channels', group: 'message.groups', im: 'message.im', mpim: 'message.mpim' };

// Which token kind each Web API method accepts, and whether it reads JSON bodies.
const API_METHODS = {
  'auth.test': { token: 'bot', json: true },
  'apps.connections.open': { token: 'app', json: true, header_only: true, post_only: true },
  'users.info': { token: 'bot', json: false },
  'conversations.info': { token: 'bot', json: false },
  'chat.postMessage': { token: 'bot', json: true },
  'chat.update': { token: 'bot', json: true },
};

// Control endpoints: name -> HTTP methods. The class has a method of the same
// name in camelCase taking the same JSON object (see README.md).
const CONTROL_ROUTES = {
  info: ['GET'],
  config: ['GET', 'POST'],
  reset: ['POST'],
  add_user: ['POST'],
  add_channel: ['POST'],
  inject_message: ['POST'],
  inject_edit: ['POST'],
  inject_delete: ['POST'],
  inject_event: ['POST'],
  inject_click: ['POST'],
  inject_slash_command: ['POST'],
  inject_envelope: ['POST'],
  redeliver: ['POST'],
  malformed: ['POST'],
  disconnect: ['POST'],
  drop: ['POST'],
  refuse_connections: ['POST'],
  rate_limit: ['POST'],
  fail: ['POST'],
  posts: ['GET'],
  updates: ['GET'],
  acks: ['GET'],
  envelopes: ['GET'],
  connections: ['GET'],
  calls: ['GET'],
  errors: ['GET'],
  messages: ['GET'],
  responses: ['GET'],
  wait_posts: ['POST'],
  wait_updates: ['POST'],
  wait_acks: ['POST'],
  wait_envelopes: ['POST'],
  wait_connections: ['POST'],
  wait_calls: ['POST'],
  wait_errors: ['POST'],
  wait_responses: ['POST'],
  bench_inject: ['POST'],
  bench_report: ['GET', 'POST'],
  bench_posts: ['GET', 'POST'],
};

// Filters accepted by the list and wait endpoints, per record kind.
const FILTERS = {
  posts: ['channel', 'thread_ts', 'text'],
  updates: ['channel', 'ts'],
  acks: ['envelope_id', 'event_id', 'type', 'late', 'connection'],
  envelopes: ['envelope_id', 'event_id', 'type', 'event_type', 'state', 'retry_attempt', 'connection'],
  connections: ['state', 'id'],
  calls: ['method', 'error', 'status'],
  errors: ['kind'],
  messages: ['channel', 'ts', 'thread_ts', 'user'],
  responses: ['channel', 'message_ts'],
};

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const uuid = () => crypto.randomUUID();
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);


class ApiReply {
  constructor(status, body, headers = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

class FakeSlack extends EventEmitter {
  /**
   * options: host ('127.0.0.1'), port (0: ephemeral), control_port (0),
   * tls_cert / tls_key (PEM text or file paths: serve https + wss),
   * users / channels (replace the defaults), print_errors (log protocol
   * errors on stderr), and any key of DEFAULT_CONFIG.
   */
  constructor(options = {}) {
    super();
    const { host, port, control_port, tls_cert, tls_key, users, channels, print_errors, ...config } = options;
    this.host = host || '127.0.0.1';
    this.port = port || 0;
    this.controlPort = control_port || 0;
    this.tls = tls_cert ? { cert: pem(tls_cert), key: pem(tls_key) } : null;
    this.printErrors = Boolean(print_errors);
    this.initialConfig = this.checkConfig({ ...DEFAULT_CONFIG, ...config });
    this.initialUsers = users || DEFAULT_USERS;
    this.initialChannels = channels || DEFAULT_CHANNELS;
    this.waiters = new Waiters();
    this.conns = new Map();
    this.connSeq = 0;
    this.lastTsUs = 0;
    this.seq = 0;
    this.rr = 0;
    this.benchRuns = new Map();
    this.clearState();
  }

  // ------------------------------------------------------------------ state

  clearState() {
    this.config = { ...this.initialConfig };
    this.users = new Map(this.initialUsers.map((u) => [u.id, { ...u }]));
    this.channels = new Map(this.initialChannels.map((c) => [c.id, { ...c }]));
    this.callLog = [];
    this.postLog = [];
    this.updateLog = [];
    this.ackLog = [];
    this.errorLog = [];
    this.envelopeLog = [];
    this.responseLog = [];
    this.messageStore = new Map();
    this.tickets = this.tickets || new Map(); // tickets belong to connections: kept across resets
    this.responseUrls = new Map();
    this.faults = [];
    this.refusals = [];
    for (const d of (this.deliveries || new Map()).values()) clearTimeout(d.timer);
    this.deliveries = new Map();
    this.envIndex = new Map();
    this.queue = [];
    this.connLog = [...this.conns.values()].filter((c) => c.state === 'open').map((c) => c.rec);
  }

  checkConfig(cfg) {
    for (const k of Object.keys(cfg)) {
      if (!(k in DEFAULT_CONFIG)) throw new ControlError(400, { ok: false, error: 'unknown_config_key', key: k });
    }
    if (!Array.isArray(cfg.retry_delays_ms)) throw new ControlError(400, { ok: false, error: 'retry_delays_ms_must_be_an_array' });
    return cfg;
  }

  log(msg) {
    if (this.config.verbose) process.stderr.write(`fake_slack: ${msg}\n`);
  }

  /** A protocol error by the client under test: recorded, emitted, logged. */
  protocolError(kind, detail = {}) {
    const rec = { seq: ++this.seq, at: Date.now(), kind, ...detail };
    this.errorLog.push(rec);
    if (this.printErrors || this.config.verbose) process.stderr.write(`fake_slack: PROTOCOL ERROR ${JSON.stringify(rec)}\n`);
    this.emit('protocol_error', rec);
    this.changed();
    return rec;
  }

  changed() {
    this.waiters.notify();
  }

  nextTs() {
    let us = Date.now() * 1000;
    if (us <= this.lastTsUs) us = this.lastTsUs + 1;
    this.lastTsUs = us;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  }

  // --------------------------------------------------------------- lifecycle

  async start() {
    const handler = (req, res) => this.onHttp(req, res).catch((err) => {
      this.log(`api handler failed: ${err.stack}`);
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error' });
    });
    this.server = this.tls ? https.createServer({ ...this.tls }, handler) : http.createServer(handler);
    this.wss = new WebSocketServer({ noServer: true, autoPong: false, perMessageDeflate: false, clientTracking: false });
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.port = await listen(this.server, this.port, this.host);
    const routes = {};
    for (const [name, methods] of Object.entries(CONTROL_ROUTES)) {
      const fn = name === 'config' ? 'configure' : camel(name); // this.config holds the settings
      routes[name] = { methods, fn: (args) => this[fn](args) };
    }
    this.control = await startControlServer(routes, { host: this.host, port: this.controlPort, log: (m) => this.log(m) });
    this.controlPort = this.control.port;
    const scheme = this.tls ? 'https' : 'http';
    this.apiUrl = `${scheme}://${this.host}:${this.port}/api/`;
    this.wsBase = `${this.tls ? 'wss' : 'ws'}://${this.host}:${this.port}/link/`;
    this.controlUrl = `http://${this.host}:${this.controlPort}`;
    return this;
  }

  async stop() {
    this.waiters.cancelAll();
    if (this.benchEld) this.benchEld.disable();
    for (const d of this.deliveries.values()) clearTimeout(d.timer);
    for (const c of this.conns.values()) {
      this.clearConnTimers(c);
      c.ws.terminate();
    }
    await Promise.all([closeServer(this.server), this.control && this.control.close()]);
  }

  // ------------------------------------------------------------- Web API

  async onHttp(req, res) {
    const url = new URL(req.url, 'http://fake');
    if (url.pathname.startsWith('/response_url/')) {
      await this.onResponseUrl(req, res, url.pathname.slice('/response_url/'.length));
      return;
    }
    const m = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    if (!m) {
      sendJson(res, 404, { ok: false, error: 'not_found' });
      return;
    }
    const method = m[1];
    const rec = {
      seq: ++this.seq,
      at: Date.now(),
      hr_us: hrUs(),
      method,
      http_method: req.method,
      content_type: req.headers['content-type'] || null,
      auth: null,
      token_kind: null,
      args: {},
      status: null,
      error: null,
      warnings: [],
    };
    this.callLog.push(rec);
    let reply;
    try {
      reply = await this.apiCall(method, req, url, rec);
    } catch (err) {
      if (!(err instanceof ApiReply)) throw err;
      reply = err;
    }
    rec.status = reply.status;
    if (reply.body && reply.body.ok === false) rec.error = reply.body.error;
    if (reply.body && reply.body.ok && rec.warnings.length) {
      reply.body.warning = rec.warnings.join(',');
      reply.body.response_metadata = {
        ...(reply.body.response_metadata || {}),
        warnings: [...rec.warnings],
      };
    }
    rec.response = reply.body;
    this.log(`api ${method} -> ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
    this.changed();
    if (typeof reply.body === 'string') {
      res.writeHead(reply.status, { 'Content-Type': 'text/plain; charset=utf-8', ...reply.headers });
      res.end(reply.body);
    } else {
      sendJson(res, reply.status, reply.body, reply.headers);
    }
  }

  /** ok:false result; a method misuse also goes to the error log. */
  apiError(rec, error, extra = {}, misuse = true) {
    if (misuse) this.protocolError('api_error', { method: rec.method, error, call_seq: rec.seq, ...extra });
    return new ApiReply(200, { ok: false, error, ...extra });
  }

  async apiCall(method, req, url, rec) {
    const spec = API_METHODS[method];
    // Arguments: query string, then the body (form or JSON).
    const query = Object.fromEntries(url.searchParams);
    let bodyArgs = {};
    let jsonBody = false;
    const raw = (await readBody(req)).toString('utf8');
    const type = mediaType(req);
    if (req.method === 'POST' && raw.length > 0) {
      if (type === 'application/json') {
        jsonBody = true;
        if (!mediaParams(req).charset) rec.warnings.push('missing_charset');
        try {
          bodyArgs = JSON.parse(raw);
        } catch {
          throw this.apiError(rec, 'invalid_json');
        }
        if (!isObj(bodyArgs)) throw this.apiError(rec, 'invalid_json');
      } else if (type === 'application/x-www-form-urlencoded' || type === '') {
        bodyArgs = Object.fromEntries(new URLSearchParams(raw));
      } else {
        throw this.apiError(rec, 'invalid_form_data', { detail: `unsupported Content-Type ${type}` });
      }
    } else if (req.method !== 'POST' && req.method !== 'GET') {
      throw this.apiError(rec, 'invalid_request', { detail: `HTTP method ${req.method}` });
    }
    rec.args = { ...query, ...bodyArgs };
    if ('token' in rec.args) rec.args.token = '[redacted]';

    // Injected faults come first, as a front proxy would answer them.
    const fault = this.takeFault(method);
    if (fault) {
      if (fault.delay_ms) await new Promise((r) => setTimeout(r, fault.delay_ms));
      if (fault.kind === 'rate_limit') {
        return new ApiReply(429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(fault.retry_after) });
      }
      if (fault.status && fault.status !== 200) {
        return new ApiReply(fault.status, fault.body ?? { ok: false, error: fault.error || 'fatal_error' });
      }
      if (fault.error) return new ApiReply(200, { ok: false, error: fault.error });
    }

    if (!spec) throw this.apiError(rec, 'unknown_method', { req_method: method });

    // Authentication.
    let token = null;
    const authz = req.headers.authorization;
    if (authz) {
      const am = /^Bearer\s+(\S+)\s*$/i.exec(authz);
      if (!am) throw this.apiError(rec, 'invalid_auth', { detail: 'Authorization header is not "Bearer <token>"' });
      token = am[1];
      rec.auth = 'header';
    } else if (!jsonBody && bodyArgs.token) {
      token = bodyArgs.token;
      rec.auth = 'body';
    } else if (query.token) {
      // Apps created after 2021-02-24 may not pass tokens in the query string.
      rec.auth = 'query';
      throw this.apiError(rec, 'not_authed', { detail: 'token in the query string is not accepted' });
    }
    if (!token) throw this.apiError(rec, 'not_authed');
    const kind = token === this.config.bot_token ? 'bot' : token === this.config.app_token ? 'app' : null;
    rec.token_kind = kind || 'unknown';
    if (!kind) throw this.apiError(rec, 'invalid_auth');
    if (kind !== spec.token) {
      throw this.apiError(rec, 'not_allowed_token_type', { detail: `${method} needs a ${spec.token} token, got a ${kind} token` });
    }
    if (spec.header_only && rec.auth !== 'header') {
      throw this.apiError(rec, 'not_authed', { detail: `${method} takes the token in the Authorization header only` });
    }
    if (spec.post_only && req.method !== 'POST') throw this.apiError(rec, 'insecure_request');
    if (jsonBody && !spec.json) {
      // Read methods take form or query arguments; a JSON body is not read.
      this.protocolError('api_json_not_accepted', { method, call_seq: rec.seq });
      rec.args = { ...query };
    }
    const args = rec.args;
    switch (method) {
      case 'auth.test': return this.apiAuthTest();
      case 'apps.connections.open': return this.apiConnectionsOpen();
      case 'users.info': return this.apiUsersInfo(args, rec);
      case 'conversations.info': return this.apiConversationsInfo(args, rec);
      case 'chat.postMessage': return this.apiPostMessage(args, rec);
      case 'chat.update': return this.apiUpdate(args, rec);
      default: throw new Error(`unreachable: ${method}`);
    }
  }

  takeFault(method) {
    const i = this.faults.findIndex((f) => f.method === method || f.method === '*');
    if (i < 0) return null;
    const f = this.faults[i];
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults.splice(i, 1);
    return f;
  }

  apiAuthTest() {
    const c = this.config;
    return new ApiReply(200, {
      ok: true,
      url: `https://${c.team_domain}.slack.com/`,
      team: c.team_name,
      user: c.bot_name,
      team_id: c.team_id,
      user_id: c.bot_user_id,
      bot_id: c.bot_id,
      is_enterprise_install: false,
    });
  }

  apiConnectionsOpen() {
    const ticket = uuid();
    this.tickets.set(ticket, { issued_at: Date.now(), used_by: null });
    const appHash = crypto.createHash('sha1').update(this.config.app_id).digest('hex').slice(0, 6);
    return new ApiReply(200, { ok: true, url: `${this.wsBase}?ticket=${ticket}&app_id=${appHash}` });
  }

  userObject(u) {
    const c = this.config;
    const display = u.display_name ?? u.name;
    return {
      id: u.id,
      team_id: c.team_id,
      name: u.name,
      deleted: Boolean(u.deleted),
      color: '9f69e7',
      real_name: u.real_name,
      tz: u.tz || 'Europe/London',
      tz_label: 'Local Time',
      tz_offset: 0,
      is_admin: false,
      is_owner: false,
      is_bot: Boolean(u.is_bot),
      is_app_user: false,
      updated: 1767600000,
      profile: {
        real_name: u.real_name,
        display_name: display,
        real_name_normalized: u.real_name,
        display_name_normalized: display,
        ...(u.email ? { email: u.email } : {}),
        image_48: `https://avatars.example/${u.name}_48.png`,
        team: c.team_id,
        ...(u.is_bot ? { bot_id: u.bot_id } : {}),
      },
    };
  }

  lookupUser(id) {
    const c = this.config;
    if (id === c.bot_user_id) {
      return { id, name: c.bot_name, real_name: c.bot_name, is_bot: true, bot_id: c.bot_id };
    }
    return this.users.get(id) || null;
  }

  apiUsersInfo(args, rec) {
    if (!args.user) {
      throw this.apiError(rec, 'invalid_arguments', {
        response_metadata: { messages: ['[ERROR] missing required field: user'] },
      });
    }
    const u = this.lookupUser(args.user);
    if (!u) throw this.apiError(rec, 'user_not_found', {}, false);
    return new ApiReply(200, { ok: true, user: this.userObject(u) });
  }

  channelObject(ch) {
    const out = {
      id: ch.id,
      created: 1767000000,
      is_archived: Boolean(ch.is_archived),
      is_channel: ch.type === 'channel',
      is_group: ch.type === 'group',
      is_im: ch.type === 'im',
      is_mpim: ch.type === 'mpim',
      is_private: ch.type !== 'channel',
      is_member: ch.type === 'im' ? undefined : Boolean(ch.is_member),
    };
    if (ch.type === 'im') out.user = ch.user;
    else out.name = ch.name;
    return out;
  }

  apiConversationsInfo(args, rec) {
    const ch = args.channel && this.channels.get(args.channel);
    if (!ch) throw this.apiError(rec, 'channel_not_found');
    return new ApiReply(200, { ok: true, channel: this.channelObject(ch) });
  }

  /** Channel by ID, by name (#general), or a user ID meaning the DM with that user. */
  resolveChannel(arg) {
    if (typeof arg !== 'string' || !arg) return null;
    if (this.channels.has(arg)) return this.channels.get(arg);
    const name = arg.replace(/^#/, '');
    for (const ch of this.channels.values()) if (ch.name && ch.name === name) return ch;
    if (/^[UW]/.test(arg) && this.users.has(arg)) {
      for (const ch of this.channels.values()) if (ch.type === 'im' && ch.user === arg) return ch;
      const ch = { id: `D${arg.slice(1, 9).padEnd(8, '0')}`, type: 'im', user: arg, is_member: true };
      this.channels.set(ch.id, ch);
      return ch;
    }
    return null;
  }

  /** Decodes `blocks` (array in JSON bodies, JSON string in forms). */
  parseBlocksArg(rec, v, name = 'blocks') {
    if (v === undefined || v === null || v === '') return undefined;
    let blocks = v;
    if (typeof v === 'string') {
      try {
        blocks = JSON.parse(v);
      } catch {
        throw this.apiError(rec, `invalid_${name}_format`);
      }
    }
    if (!Array.isArray(blocks)) throw this.apiError(rec, `invalid_${name}_format`);
    return blocks;
  }

  checkText(args, rec) {
    const out = { text: undefined };
    if (args.text !== undefined && args.text !== null) {
      let text = String(args.text);
      const chars = [...text];
      if (chars.length > this.config.text_limit) {
        text = chars.slice(0, this.config.text_limit).join('');
        rec.warnings.push('message_truncated');
        out.truncated = true;
      }
      out.text = text;
    }
    return out;
  }

  checkBlocks(rec, blocks) {
    if (blocks === undefined) return;
    const errs = validateBlocks(blocks);
    if (errs.length) {
      throw this.apiError(rec, 'invalid_blocks', {
        errors: errs,
        response_metadata: { messages: errs.map((e) => `[ERROR] ${e}`) },
      });
    }
  }

  botMessage(fields) {
    const c = this.config;
    return {
      user: c.bot_user_id,
      type: 'message',
      ts: fields.ts,
      bot_id: c.bot_id,
      app_id: c.app_id,
      text: fields.text ?? '',
      team: c.team_id,
      bot_profile: {
        id: c.bot_id, deleted: false, name: c.bot_name, updated: 1767600000, app_id: c.app_id, team_id: c.team_id,
      },
      ...(fields.blocks ? { blocks: fields.blocks } : {}),
      ...(fields.attachments ? { attachments: fields.attachments } : {}),
      ...(fields.thread_ts ? { thread_ts: fields.thread_ts, parent_user_id: fields.parent_user_id } : {}),
    };
  }

  storeMessage(channel, msg) {
    this.messageStore.set(`${channel}/${msg.ts}`, { channel, ...msg });
  }

  getMessage(channel, ts) {
    const m = this.messageStore.get(`${channel}/${ts}`);
    return m || null;
  }

  apiPostMessage(args, rec) {
    if (!args.channel) throw this.apiError(rec, 'channel_not_found', { detail: 'channel is missing' });
    const ch = this.resolveChannel(args.channel);
    if (!ch) throw this.apiError(rec, 'channel_not_found');
    if (ch.is_archived) throw this.apiError(rec, 'is_archived');
    if (ch.type !== 'im' && !ch.is_member) throw this.apiError(rec, 'not_in_channel');
    const blocks = this.parseBlocksArg(rec, args.blocks);
    const attachments = this.parseBlocksArg(rec, args.attachments, 'attachments');
    const { text, truncated } = this.checkText(args, rec);
    if (!text && !(blocks && blocks.length) && !(attachments && attachments.length)) {
      throw this.apiError(rec, 'no_text');
    }
    this.checkBlocks(rec, blocks);
    let threadTs = args.thread_ts ? String(args.thread_ts) : undefined;
    let parent = null;
    if (threadTs) {
      if (!/^\d+\.\d+$/.test(threadTs)) throw this.apiError(rec, 'invalid_thread_ts');
      parent = this.getMessage(ch.id, threadTs);
      if (!parent) {
        this.protocolError('thread_parent_unknown', { method: rec.method, channel: ch.id, thread_ts: threadTs, call_seq: rec.seq });
      } else if (parent.thread_ts && parent.thread_ts !== parent.ts) {
        // "Avoid using a reply's ts value; use its parent instead."
        this.protocolError('thread_ts_is_a_reply', {
          method: rec.method, channel: ch.id, thread_ts: threadTs, parent_thread_ts: parent.thread_ts, call_seq: rec.seq,
        });
      }
    }
    const ts = this.nextTs();
    const msg = this.botMessage({
      ts,
      text,
      blocks: blocks && normalizeBlocks(blocks),
      attachments,
      thread_ts: threadTs,
      parent_user_id: parent ? parent.user : undefined,
    });
    this.storeMessage(ch.id, msg);
    this.postLog.push({
      seq: ++this.seq,
      at: Date.now(),
      hr_us: rec.hr_us,
      channel: ch.id,
      channel_arg: args.channel,
      ts,
      text,
      thread_ts: threadTs,
      blocks,
      attachments,
      truncated: Boolean(truncated),
      args: clone(args),
      content_type: rec.content_type,
    });
    if (this.config.echo_bot_messages) {
      const ev = { ...clone(msg), channel: ch.id, event_ts: ts, channel_type: ch.type };
      this.deliverEvent(ev, { channel: ch });
    }
    return new ApiReply(200, { ok: true, channel: ch.id, ts, message: msg });
  }

  apiUpdate(args, rec) {
    if (!args.channel) throw this.apiError(rec, 'channel_not_found', { detail: 'channel is missing' });
    const ch = this.channels.get(args.channel);
    if (!ch) {
      throw this.apiError(rec, 'channel_not_found', /^[UW]/.test(args.channel) ? { detail: 'chat.update needs the channel ID (D…), not a user ID' } : {});
    }
    if (!args.ts) throw this.apiError(rec, 'message_not_found', { detail: 'ts is missing' });
    const old = this.getMessage(ch.id, String(args.ts));
    if (!old) throw this.apiError(rec, 'message_not_found');
    if (old.user !== this.config.bot_user_id || old.bot_id !== this.config.bot_id) {
      throw this.apiError(rec, 'cant_update_message');
    }
    const blocks = this.parseBlocksArg(rec, args.blocks);
    const attachments = this.parseBlocksArg(rec, args.attachments, 'attachments');
    const { text, truncated } = this.checkText(args, rec);
    if (text === undefined && blocks === undefined && attachments === undefined) throw this.apiError(rec, 'no_text');
    this.checkBlocks(rec, blocks);
    const previous = clone(old);
    const msg = clone(old);
    delete msg.channel;
    if (text !== undefined) msg.text = text;
    if (blocks !== undefined) {
      if (blocks.length) msg.blocks = normalizeBlocks(blocks);
      else delete msg.blocks;
    }
    if (attachments !== undefined) msg.attachments = attachments;
    if (!msg.text && !(msg.blocks && msg.blocks.length) && !(msg.attachments && msg.attachments.length)) {
      throw this.apiError(rec, 'no_text');
    }
    const editTs = this.nextTs();
    msg.edited = { user: this.config.bot_user_id, ts: editTs };
    this.storeMessage(ch.id, msg);
    this.updateLog.push({
      seq: ++this.seq,
      at: Date.now(),
      channel: ch.id,
      ts: msg.ts,
      text,
      blocks,
      attachments,
      truncated: Boolean(truncated),
      args: clone(args),
      content_type: rec.content_type,
    });
    if (this.config.echo_updates) {
      delete previous.channel;
      this.deliverEvent({
        type: 'message', subtype: 'message_changed', hidden: true, channel: ch.id, channel_type: ch.type,
        ts: editTs, event_ts: editTs, message: clone(msg), previous_message: previous,
      }, { channel: ch });
    }
    return new ApiReply(200, { ok: true, channel: ch.id, ts: msg.ts, text: msg.text, message: msg });
  }

  async onResponseUrl(req, res, token) {
    const entry = this.responseUrls.get(token);
    const raw = (await readBody(req)).toString('utf8');
    if (!entry || req.method !== 'POST') {
      this.protocolError('response_url_unknown', { token });
      sendJson(res, 404, { ok: false, error: 'no_such_url' });
      return;
    }
    entry.uses += 1;
    if (entry.uses > 5 || Date.now() - entry.created_at > 30 * 60 * 1000) {
      this.protocolError('response_url_used_up', { token, uses: entry.uses });
      sendJson(res, 404, { ok: false, error: 'used_url' });
      return;
    }
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      this.protocolError('response_url_invalid_json', { token });
      sendJson(res, 400, { ok: false, error: 'invalid_payload' });
      return;
    }
    this.responseLog.push({ seq: ++this.seq, at: Date.now(), channel: entry.channel, message_ts: entry.message_ts, body });
    const old = entry.message_ts && this.getMessage(entry.channel, entry.message_ts);
    if (old && body.replace_original) {
      const msg = clone(old);
      delete msg.channel;
      if (body.text !== undefined) msg.text = body.text;
      if (body.blocks !== undefined) msg.blocks = normalizeBlocks(body.blocks);
      this.storeMessage(entry.channel, msg);
    } else if (old && body.delete_original) {
      this.messageStore.delete(`${entry.channel}/${entry.message_ts}`);
    }
    this.changed();
    sendJson(res, 200, { ok: true });
  }

  // ----------------------------------------------------------- Socket Mode

  refuseUpgrade(socket, status, text, detail) {
    const reasons = { 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 429: 'Too Many Requests', 503: 'Service Unavailable' };
    const body = `${text}\n`;
    socket.end(`HTTP/1.1 ${status} ${reasons[status] || 'Error'}\r\nContent-Type: text/plain\r\n`
      + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    this.log(`websocket upgrade refused ${status}: ${detail || text}`);
  }

  onUpgrade(req, socket, head) {
    const url = new URL(req.url, 'http://fake');
    if (url.pathname !== '/link/' && url.pathname !== '/link') {
      this.refuseUpgrade(socket, 404, 'not found');
      return;
    }
    const refusal = this.refusals[0];
    if (refusal) {
      refusal.remaining -= 1;
      if (refusal.remaining <= 0) this.refusals.shift();
      this.refuseUpgrade(socket, refusal.status, 'refused by test', 'refuse_connections');
      return;
    }
    const ticketId = url.searchParams.get('ticket');
    const ticket = ticketId && this.tickets.get(ticketId);
    if (!ticket) {
      this.protocolError('ws_unknown_ticket', { url: req.url });
      this.refuseUpgrade(socket, 401, 'invalid ticket');
      return;
    }
    if (ticket.used_by !== null) {
      this.protocolError('ws_ticket_reused', { url: req.url, first_connection: ticket.used_by });
      this.refuseUpgrade(socket, 409, 'ticket already used');
      return;
    }
    ticket.used_by = 0;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, url, ticketId, ticket));
  }

  openConns() {
    return [...this.conns.values()].filter((c) => c.state === 'open');
  }

  onConnection(ws, req, url, ticketId, ticket) {
    const id = ++this.connSeq;
    ticket.used_by = id;
    const debugReconnects = url.searchParams.get('debug_reconnects') === 'true';
    const rec = {
      id,
      url: req.url,
      ticket: ticketId,
      state: 'open',
      opened_at: Date.now(),
      hello_at: null,
      closed_at: null,
      close_code: null,
      close_reason: null,
      closed_by: null,
      debug_reconnects: debugReconnects,
      num_connections: null,
      host: `applink-${id}`,
      disconnects_sent: [],
      pings_sent: 0,
      pongs_received: 0,
      client_pings: 0,
      frames_received: 0,
      ghost: false,
    };
    const conn = { id, ws, rec, state: 'open', timers: [], ghost: false, disconnectSent: false };
    this.conns.set(id, conn);
    this.connLog.push(rec);
    const c = this.config;
    this.log(`connection ${id} opened (${req.url})`);

    ws.on('message', (data, isBinary) => this.onFrame(conn, data, isBinary));
    ws.on('ping', (data) => {
      rec.client_pings += 1;
      if (this.config.answer_pings && !conn.ghost) ws.pong(data);
    });
    ws.on('pong', () => {
      rec.pongs_received += 1;
      rec.last_pong_at = Date.now();
    });
    ws.on('close', (code, reason) => {
      this.clearConnTimers(conn);
      conn.state = 'closed';
      rec.state = 'closed';
      rec.closed_at = Date.now();
      rec.close_code = code;
      rec.close_reason = reason.toString();
      rec.closed_by = rec.closed_by || 'client';
      this.log(`connection ${id} closed (${code} by ${rec.closed_by})`);
      this.changed();
    });
    ws.on('error', (err) => this.log(`connection ${id} error: ${err.message}`));

    const open = this.openConns().length;
    if (open > c.max_connections) {
      conn.state = 'rejected';
      rec.state = 'rejected';
      this.sendDisconnect(conn, 'too_many_websockets', { closeAfterMs: 1000 });
      this.changed();
      return;
    }
    const lifetime = debugReconnects ? c.debug_reconnects_lifetime_ms : c.connection_lifetime_ms;
    rec.num_connections = open;
    rec.hello_at = Date.now();
    this.sendFrame(conn, {
      type: 'hello',
      num_connections: open,
      debug_info: {
        host: rec.host,
        build_number: 54,
        approximate_connection_time: Math.round(lifetime / 1000),
      },
      connection_info: { app_id: c.app_id },
    });
    if (c.ping_interval_ms > 0) {
      conn.timers.push(setInterval(() => {
        if (conn.ghost || ws.readyState !== ws.OPEN) return;
        rec.pings_sent += 1;
        ws.ping(Buffer.from(`Ping from ${rec.host}`));
      }, c.ping_interval_ms));
    }
    if (lifetime > 0) {
      if (lifetime > c.warning_lead_ms) {
        conn.timers.push(setTimeout(() => this.sendDisconnect(conn, 'warning', { closeAfterMs: null }), lifetime - c.warning_lead_ms));
      }
      conn.timers.push(setTimeout(() => this.serverClose(conn, 1001, 'connection lifetime over'), lifetime));
    }
    this.changed();
    this.flushQueue();
  }

  clearConnTimers(conn) {
    for (const t of conn.timers) {
      clearTimeout(t);
      clearInterval(t);
    }
    conn.timers = [];
  }

  sendFrame(conn, obj, { binary = false } = {}) {
    if (conn.ghost) return false;
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    const data = typeof obj === 'string' || Buffer.isBuffer(obj) ? obj : JSON.stringify(obj);
    conn.ws.send(data, { binary });
    this.log(`-> ${conn.id}: ${String(data).slice(0, 300)}`);
    return true;
  }

  serverClose(conn, code, reason) {
    if (conn.ws.readyState !== conn.ws.OPEN) return;
    conn.rec.closed_by = 'server';
    conn.ws.close(code, reason);
  }

  sendDisconnect(conn, reason, { closeAfterMs } = {}) {
    const frame = { type: 'disconnect', reason, debug_info: { host: conn.rec.host } };
    if (reason === 'too_many_websockets') {
      frame.num_connections = this.config.max_connections;
      frame.connection_info = { app_id: this.config.app_id };
    }
    conn.disconnectSent = true;
    conn.rec.disconnects_sent.push({ reason, at: Date.now() });
    this.sendFrame(conn, frame);
    const after = closeAfterMs === undefined ? this.config.disconnect_close_after_ms : closeAfterMs;
    if (after !== null && after !== undefined) {
      conn.timers.push(setTimeout(() => this.serverClose(conn, 1001, `disconnect: ${reason}`), after));
    }
    this.changed();
  }

  onFrame(conn, data, isBinary) {
    if (conn.ghost) return;
    conn.rec.frames_received += 1;
    if (isBinary) {
      this.protocolError('client_binary_frame', { connection: conn.id, length: data.length });
      return;
    }
    const text = data.toString('utf8');
    this.log(`<- ${conn.id}: ${text.slice(0, 300)}`);
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this.protocolError('client_non_json_frame', { connection: conn.id, frame: text.slice(0, 500) });
      return;
    }
    if (!isObj(msg)) {
      this.protocolError('client_frame_not_an_object', { connection: conn.id, frame: text.slice(0, 500) });
      return;
    }
    if (typeof msg.envelope_id !== 'string' || !msg.envelope_id) {
      this.protocolError('ack_without_envelope_id', { connection: conn.id, frame: text.slice(0, 500) });
      return;
    }
    this.onAck(conn, msg, text);
  }

  onAck(conn, msg, text) {
    const now = Date.now();
    const hr = hrUs();
    const att = this.envIndex.get(msg.envelope_id);
    if (!att) {
      this.protocolError('ack_unknown_envelope', { connection: conn.id, envelope_id: msg.envelope_id });
      return;
    }
    if (att.acked_at !== null) {
      this.protocolError('ack_duplicate', { connection: conn.id, envelope_id: msg.envelope_id, event_id: att.event_id });
      return;
    }
    const extra = Object.keys(msg).filter((k) => k !== 'envelope_id' && k !== 'payload');
    if (extra.length) this.protocolError('ack_unexpected_fields', { connection: conn.id, envelope_id: msg.envelope_id, fields: extra });
    if ('payload' in msg && !isObj(msg.payload)) {
      this.protocolError('ack_payload_not_an_object', { connection: conn.id, envelope_id: msg.envelope_id });
    }
    const d = this.deliveries.get(att.delivery_id);
    const latency = now - att.sent_at;
    const late = latency > this.config.ack_timeout_ms;
    att.acked_at = now;
    att.ack_hr_us = hr;
    att.ack_latency_ms = latency;
    att.late = late;
    att.state = 'acked';
    const ack = {
      seq: ++this.seq,
      at: now,
      envelope_id: att.envelope_id,
      delivery_id: att.delivery_id,
      type: att.type,
      event_id: att.event_id,
      event_type: att.event_type,
      retry_attempt: att.retry_attempt,
      connection: conn.id,
      delivered_on: att.connection,
      latency_ms: latency,
      late,
      payload: msg.payload === undefined ? null : msg.payload,
      frame: text,
    };
    this.ackLog.push(ack);
    if (late) {
      this.protocolError('ack_late', {
        connection: conn.id, envelope_id: att.envelope_id, event_id: att.event_id, latency_ms: latency, deadline_ms: this.config.ack_timeout_ms,
      });
    }
    if (d && !d.done) {
      d.done = true;
      clearTimeout(d.timer);
      this.queue = this.queue.filter((q) => q !== d);
    }
    this.emit('ack', ack);
    this.changed();
  }

  /** Connections envelopes may go to: open, past hello, not told to disconnect if others exist. */
  pickConnection(target) {
    if (target !== undefined && target !== null) {
      const conn = this.conns.get(Number(target));
      if (!conn || conn.state !== 'open') {
        throw new ControlError(409, { ok: false, error: 'connection_not_open', connection: target });
      }
      return conn;
    }
    const open = this.openConns();
    const fresh = open.filter((c) => !c.disconnectSent);
    const pool = fresh.length ? fresh : open;
    if (!pool.length) return null;
    this.rr = (this.rr + 1) % pool.length;
    return pool[this.rr];
  }

  newDelivery({ type, payload, event_id, event_type, accepts_response_payload, connection }) {
    if (connection !== undefined && connection !== null) this.pickConnection(connection); // 409 if not open
    const d = {
      id: `dl-${uuid()}`,
      type,
      payload,
      event_id: event_id || null,
      event_type: event_type || null,
      accepts_response_payload: Boolean(accepts_response_payload),
      target: connection,
      done: false,
      timer: null,
      first_envelope_id: null,
      current: null,
    };
    this.deliveries.set(d.id, d);
    return d;
  }

  attempt(d, retryAttempt, retryReason, envelopeId) {
    const id = envelopeId || (retryAttempt > 0 && this.config.retry_same_envelope_id ? d.first_envelope_id : uuid());
    if (!d.first_envelope_id) d.first_envelope_id = id;
    const att = {
      envelope_id: id,
      delivery_id: d.id,
      type: d.type,
      event_id: d.event_id,
      event_type: d.event_type,
      retry_attempt: retryAttempt,
      retry_reason: retryReason,
      connection: null,
      queued_at: Date.now(),
      sent_at: null,
      deadline_at: null,
      state: 'queued',
      acked_at: null,
      ack_latency_ms: null,
      sent_hr_us: null,
      ack_hr_us: null,
      late: false,
    };
    this.envelopeLog.push(att);
    this.envIndex.set(id, att);
    d.current = att;
    this.trySend(d);
    return att;
  }

  envelopeFrame(d, att) {
    const frame = { envelope_id: att.envelope_id, payload: d.payload, type: d.type, accepts_response_payload: d.accepts_response_payload };
    if (d.type === 'events_api') {
      frame.retry_attempt = att.retry_attempt;
      frame.retry_reason = att.retry_reason;
    }
    return frame;
  }

  trySend(d) {
    const att = d.current;
    let conn = null;
    if (d.target !== undefined && d.target !== null) {
      // A test aimed at one connection; once it is gone, any other will do.
      const t = this.conns.get(Number(d.target));
      if (t && t.state === 'open') conn = t;
      else d.target = null;
    }
    if (!conn) conn = this.pickConnection(null);
    if (!conn) {
      if (!this.queue.includes(d)) this.queue.push(d);
      this.changed();
      return false;
    }
    this.sendFrame(conn, this.envelopeFrame(d, att));
    att.sent_hr_us = hrUs();
    att.connection = conn.id;
    att.sent_at = Date.now();
    att.deadline_at = att.sent_at + this.config.ack_timeout_ms;
    att.state = 'sent';
    clearTimeout(d.timer);
    d.timer = setTimeout(() => this.onDeadline(d, att), this.config.ack_timeout_ms);
    this.changed();
    return true;
  }

  flushQueue() {
    const q = this.queue;
    this.queue = [];
    for (const d of q) if (!d.done) this.trySend(d);
  }

  onDeadline(d, att) {
    if (d.done || att.acked_at !== null) return;
    att.state = 'missed';
    this.protocolError('ack_missing', {
      envelope_id: att.envelope_id, event_id: att.event_id, type: att.type, retry_attempt: att.retry_attempt, connection: att.connection,
    });
    const delays = this.config.retry_delays_ms;
    if (d.type === 'events_api' && att.retry_attempt < delays.length) {
      d.timer = setTimeout(() => {
        if (!d.done) this.attempt(d, att.retry_attempt + 1, 'timeout');
      }, delays[att.retry_attempt]);
    } else {
      d.done = true;
    }
    this.changed();
  }

  eventId() {
    return `Ev${randomId(10).toUpperCase()}`;
  }

  /** Wraps an event in event_callback and delivers it as events_api. */
  deliverEvent(event, { event_id, connection } = {}) {
    const c = this.config;
    const now = Math.floor(Date.now() / 1000);
    const id = event_id || this.eventId();
    const payload = {
      token: 'legacy-verification-token',
      team_id: c.team_id,
      api_app_id: c.app_id,
      event,
      type: 'event_callback',
      event_id: id,
      event_time: now,
      authorizations: [{
        enterprise_id: null, team_id: c.team_id, user_id: c.bot_user_id, is_bot: true, is_enterprise_install: false,
      }],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(JSON.stringify({ et: event.type, tid: c.team_id, aid: c.app_id, cid: event.channel })).toString('base64url')}`,
    };
    const d = this.newDelivery({ type: 'events_api', payload, event_id: id, event_type: event.subtype ? `${event.type}/${event.subtype}` : event.type, connection });
    const att = this.attempt(d, 0, '');
    return { envelope_id: att.envelope_id, event_id: id, event_type: d.event_type, queued: att.state === 'queued' };
  }

  /** Whether the app gets `type` events from channel `ch` under its subscriptions. */
  subscribed(ch, type) {
    const subs = this.config.subscriptions;
    if (type === 'app_mention') return subs.includes('app_mention') && ch.type !== 'im' && Boolean(ch.is_member);
    return subs.includes(SUBSCRIPTION_FOR_TYPE[ch.type]) && (ch.type === 'im' || Boolean(ch.is_member));
  }

  channelFor(args, fallback = 'C0GENERAL') {
    const id = args.channel || fallback;
    const ch = this.channels.get(id) || this.resolveChannel(id);
    if (!ch) throw new ControlError(400, { ok: false, error: 'unknown_channel', channel: id, known: [...this.channels.keys()] });
    return ch;
  }

  // ------------------------------------------------------ control: inject

  async injectMessage(args = {}) {
    const c = this.config;
    const ch = this.channelFor(args);
    if (typeof args.text !== 'string') throw new ControlError(400, { ok: false, error: 'text_required' });
    const ts = args.ts || this.nextTs();
    const isBotMsg = args.subtype === 'bot_message';
    const user = isBotMsg ? undefined : (args.user || 'U0HUMAN01');
    const ev = { type: 'message' };
    if (args.subtype) ev.subtype = args.subtype;
    ev.channel = ch.id;
    if (user) ev.user = user;
    ev.text = args.text;
    ev.ts = ts;
    ev.event_ts = ts;
    if (args.thread_ts) {
      ev.thread_ts = args.thread_ts;
      const parent = this.getMessage(ch.id, args.thread_ts);
      if (parent && parent.user) ev.parent_user_id = parent.user;
    }
    ev.channel_type = ch.type;
    if (isBotMsg) {
      ev.bot_id = args.bot_id || 'B0OTHER01';
      ev.username = args.username || 'ci';
    } else if (args.bot_id) {
      ev.bot_id = args.bot_id;
      ev.app_id = args.app_id || (args.bot_id === c.bot_id ? c.app_id : 'A0OTHER01');
    } else {
      ev.client_msg_id = uuid();
      ev.team = c.team_id;
    }
    if (args.blocks !== undefined) ev.blocks = args.blocks;
    else if (!isBotMsg && !args.bot_id) ev.blocks = richTextFor(args.text);
    if (isObj(args.extra)) Object.assign(ev, args.extra);
    const stored = { ...ev };
    delete stored.channel;
    delete stored.event_ts;
    delete stored.channel_type;
    this.storeMessage(ch.id, stored);

    let kinds = args.events;
    const explicit = Array.isArray(kinds);
    if (!explicit) {
      kinds = ['message'];
      const mentionsBot = args.text.includes(`<@${c.bot_user_id}>`) || args.text.includes(`<@${c.bot_user_id}|`);
      if (mentionsBot && !args.subtype && user !== c.bot_user_id) kinds.push('app_mention');
    }
    const envelopes = [];
    for (const kind of kinds) {
      if (!explicit && !this.subscribed(ch, kind)) continue;
      let event = ev;
      if (kind === 'app_mention') {
        event = { type: 'app_mention', user: ev.user, text: ev.text, ts, channel: ch.id, event_ts: ts };
        if (ev.client_msg_id) event.client_msg_id = ev.client_msg_id;
        if (ev.team) event.team = ev.team;
        if (ev.blocks) event.blocks = ev.blocks;
        if (ev.thread_ts) event.thread_ts = ev.thread_ts;
        if (ev.bot_id) event.bot_id = ev.bot_id;
      } else if (kind !== 'message') {
        throw new ControlError(400, { ok: false, error: 'unknown_event_kind', kind });
      }
      envelopes.push(this.deliverEvent(clone(event), { connection: args.connection }));
    }
    return { ok: true, channel: ch.id, ts, envelopes };
  }

  async injectEdit(args = {}) {
    const ch = this.channelFor(args);
    const old = args.ts && this.getMessage(ch.id, String(args.ts));
    if (!old) throw new ControlError(404, { ok: false, error: 'message_not_found', channel: ch.id, ts: args.ts });
    if (typeof args.text !== 'string') throw new ControlError(400, { ok: false, error: 'text_required' });
    const editTs = this.nextTs();
    const previous = clone(old);
    delete previous.channel;
    const msg = clone(previous);
    msg.text = args.text;
    if (msg.blocks && msg.blocks[0] && msg.blocks[0].type === 'rich_text') msg.blocks = richTextFor(args.text);
    msg.edited = { user: args.user || old.user, ts: editTs };
    this.storeMessage(ch.id, msg);
    const ev = {
      type: 'message', subtype: 'message_changed', hidden: true, channel: ch.id, ts: editTs, event_ts: editTs,
      message: msg, previous_message: previous, channel_type: ch.type,
    };
    const envelopes = this.subscribed(ch, 'message') ? [this.deliverEvent(ev, { connection: args.connection })] : [];
    return { ok: true, channel: ch.id, ts: editTs, envelopes };
  }

  async injectDelete(args = {}) {
    const ch = this.channelFor(args);
    const old = args.ts && this.getMessage(ch.id, String(args.ts));
    if (!old) throw new ControlError(404, { ok: false, error: 'message_not_found', channel: ch.id, ts: args.ts });
    this.messageStore.delete(`${ch.id}/${old.ts}`);
    const evTs = this.nextTs();
    const previous = clone(old);
    delete previous.channel;
    const ev = {
      type: 'message', subtype: 'message_deleted', hidden: true, deleted_ts: old.ts, channel: ch.id,
      previous_message: previous, event_ts: evTs, ts: evTs, channel_type: ch.type,
    };
    const envelopes = this.subscribed(ch, 'message') ? [this.deliverEvent(ev, { connection: args.connection })] : [];
    return { ok: true, channel: ch.id, ts: evTs, envelopes };
  }

  async injectEvent(args = {}) {
    if (!isObj(args.event) || typeof args.event.type !== 'string') {
      throw new ControlError(400, { ok: false, error: 'event_object_with_type_required' });
    }
    const env = this.deliverEvent(clone(args.event), { event_id: args.event_id, connection: args.connection });
    return { ok: true, envelopes: [env] };
  }

  /** Finds the bot message to click: by ts, else the latest bot post with a matching button. */
  findClickTarget(args) {
    const byTs = (ch, ts) => this.getMessage(ch, String(ts));
    if (args.message_ts) {
      if (args.channel) return byTs(this.channelFor(args).id, args.message_ts);
      for (const m of this.messageStore.values()) if (m.ts === String(args.message_ts)) return m;
      return null;
    }
    for (let i = this.postLog.length - 1; i >= 0; i--) {
      const p = this.postLog[i];
      if (args.channel && p.channel !== this.channelFor(args).id) continue;
      const m = byTs(p.channel, p.ts);
      if (m && this.buttonsOf(m).some((b) => this.buttonMatches(b, args))) return m;
    }
    return null;
  }

  buttonsOf(msg) {
    const out = [];
    for (const b of msg.blocks || []) {
      if (b.type !== 'actions' || !Array.isArray(b.elements)) continue;
      for (const el of b.elements) if (el.type === 'button') out.push({ block_id: b.block_id, el });
    }
    return out;
  }

  buttonMatches(b, args) {
    if (args.action_id !== undefined && b.el.action_id !== args.action_id) return false;
    if (args.value !== undefined && b.el.value !== args.value) return false;
    if (args.block_id !== undefined && b.block_id !== args.block_id) return false;
    return true;
  }

  async injectClick(args = {}) {
    const c = this.config;
    let msg = this.findClickTarget(args);
    if (!msg && !args.force) {
      throw new ControlError(404, { ok: false, error: 'no_message_with_that_button', hint: 'post a message with an actions block first, or pass force:true with channel and message_ts' });
    }
    if (!msg) {
      const ch = this.channelFor(args);
      msg = { channel: ch.id, ...this.botMessage({ ts: String(args.message_ts || this.nextTs()), text: '' }) };
    }
    let button = this.buttonsOf(msg).find((b) => this.buttonMatches(b, args));
    if (!button) {
      if (!args.force) {
        throw new ControlError(404, {
          ok: false, error: 'no_such_button', available: this.buttonsOf(msg).map((b) => ({ block_id: b.block_id, action_id: b.el.action_id, value: b.el.value })),
        });
      }
      button = {
        block_id: args.block_id || randomId(4),
        el: { type: 'button', action_id: args.action_id || randomId(4), text: { type: 'plain_text', text: args.button_text || 'Button' }, value: args.value },
      };
    }
    const ch = this.channels.get(msg.channel) || { id: msg.channel, type: 'channel', name: msg.channel };
    const u = this.lookupUser(args.user || 'U0HUMAN01') || { id: args.user, name: args.user };
    const token = uuid();
    this.responseUrls.set(token, { uses: 0, channel: ch.id, message_ts: msg.ts, created_at: Date.now() });
    const message = clone(msg);
    delete message.channel;
    const container = { type: 'message', message_ts: msg.ts, channel_id: ch.id, is_ephemeral: false };
    if (msg.thread_ts) container.thread_ts = msg.thread_ts;
    const action = {
      type: 'button',
      action_id: button.el.action_id,
      block_id: button.block_id,
      text: { ...button.el.text, emoji: true },
      ...(button.el.value !== undefined ? { value: button.el.value } : {}),
      ...(button.el.style ? { style: button.el.style } : {}),
      action_ts: this.nextTs(),
    };
    const scheme = this.tls ? 'https' : 'http';
    const payload = {
      type: 'block_actions',
      user: { id: u.id, username: u.name, name: u.name, team_id: c.team_id },
      api_app_id: c.app_id,
      token: 'legacy-verification-token',
      container,
      trigger_id: `${Date.now()}.${crypto.randomInt(1e9)}.${crypto.randomBytes(16).toString('hex')}`,
      team: { id: c.team_id, domain: c.team_domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: ch.id, name: ch.type === 'im' ? 'directmessage' : ch.name },
      message,
      state: { values: {} },
      response_url: `${scheme}://${this.host}:${this.port}/response_url/${token}`,
      actions: [action],
    };
    const d = this.newDelivery({
      type: 'interactive', payload, event_type: 'block_actions', accepts_response_payload: Boolean(args.accepts_response_payload), connection: args.connection,
    });
    const att = this.attempt(d, 0, '');
    return {
      ok: true, envelope_id: att.envelope_id, queued: att.state === 'queued', channel: ch.id, message_ts: msg.ts, action, response_url: payload.response_url,
    };
  }

  async injectSlashCommand(args = {}) {
    const c = this.config;
    const ch = this.channelFor(args);
    const u = this.lookupUser(args.user || 'U0HUMAN01') || { id: args.user, name: args.user };
    const token = uuid();
    this.responseUrls.set(token, { uses: 0, channel: ch.id, message_ts: null, created_at: Date.now() });
    const scheme = this.tls ? 'https' : 'http';
    const payload = {
      token: 'legacy-verification-token',
      team_id: c.team_id,
      team_domain: c.team_domain,
      channel_id: ch.id,
      channel_name: ch.type === 'im' ? 'directmessage' : ch.name,
      user_id: u.id,
      user_name: u.name,
      command: args.command || '/ackbot',
      text: args.text || '',
      api_app_id: c.app_id,
      is_enterprise_install: 'false',
      response_url: `${scheme}://${this.host}:${this.port}/response_url/${token}`,
      trigger_id: `${Date.now()}.${crypto.randomInt(1e9)}.${crypto.randomBytes(16).toString('hex')}`,
    };
    const d = this.newDelivery({ type: 'slash_commands', payload, event_type: payload.command, accepts_response_payload: true, connection: args.connection });
    const att = this.attempt(d, 0, '');
    return { ok: true, envelope_id: att.envelope_id, queued: att.state === 'queued', response_url: payload.response_url };
  }

  /** A raw envelope {type, payload, ...}; its envelope_id (given or new) is tracked for acks. */
  async injectEnvelope(args = {}) {
    const env = args.envelope;
    if (!isObj(env) || typeof env.type !== 'string') throw new ControlError(400, { ok: false, error: 'envelope_object_with_type_required' });
    const d = this.newDelivery({
      type: env.type,
      payload: env.payload,
      event_id: env.payload && env.payload.event_id,
      event_type: env.payload && env.payload.event ? env.payload.event.type : (env.payload && env.payload.type) || null,
      accepts_response_payload: env.accepts_response_payload,
      connection: args.connection,
    });
    const att = this.attempt(d, env.retry_attempt || 0, env.retry_reason || '', env.envelope_id);
    return { ok: true, envelope_id: att.envelope_id, queued: att.state === 'queued' };
  }

  /** Sends an already delivered envelope again, same envelope_id and retry_attempt (as seen in the wild). */
  async redeliver(args = {}) {
    const att = this.envIndex.get(args.envelope_id);
    if (!att) throw new ControlError(404, { ok: false, error: 'unknown_envelope', envelope_id: args.envelope_id });
    const d = this.deliveries.get(att.delivery_id);
    const conn = this.pickConnection(args.connection);
    if (!conn) throw new ControlError(409, { ok: false, error: 'no_open_connection' });
    this.sendFrame(conn, this.envelopeFrame(d, att));
    return { ok: true, envelope_id: att.envelope_id, connection: conn.id };
  }

  // --------------------------------------------------- control: faults

  targets(args) {
    if (args.connection !== undefined && args.connection !== null) return [this.pickConnection(args.connection)];
    const open = this.openConns();
    if (!open.length) throw new ControlError(409, { ok: false, error: 'no_open_connection' });
    return open;
  }

  async malformed(args = {}) {
    const kind = args.kind || 'non_json';
    const c = this.config;
    let frame;
    let binary = false;
    switch (kind) {
      case 'non_json': frame = 'this is not JSON {'; break;
      case 'empty': frame = ''; break;
      case 'truncated': frame = '{"envelope_id":"6f3e1a52-2b7c","type":"events_api","payl'; break;
      case 'binary': frame = Buffer.from([0x00, 0xff, 0x10, 0x7b]); binary = true; break;
      case 'json_array': frame = '[1,2,3]'; break;
      case 'unknown_type': frame = { type: 'brand_new_frame_type', data: { note: 'clients must ignore frames they do not know' } }; break;
      case 'no_envelope_id': {
        const ts = this.nextTs();
        frame = {
          type: 'events_api',
          accepts_response_payload: false,
          retry_attempt: 0,
          retry_reason: '',
          payload: {
            token: 'legacy-verification-token', team_id: c.team_id, api_app_id: c.app_id, type: 'event_callback', event_id: this.eventId(), event_time: Math.floor(Date.now() / 1000),
            event: { type: 'message', channel: 'C0GENERAL', channel_type: 'channel', user: 'U0HUMAN01', text: 'envelope without id', ts, event_ts: ts, team: c.team_id },
          },
        };
        break;
      }
      case 'raw':
        frame = args.frame;
        binary = Boolean(args.binary);
        if (binary && typeof frame === 'string') frame = Buffer.from(frame, 'base64');
        break;
      default:
        throw new ControlError(400, { ok: false, error: 'unknown_malformed_kind', kinds: ['non_json', 'empty', 'truncated', 'binary', 'json_array', 'unknown_type', 'no_envelope_id', 'raw'] });
    }
    const sent = [];
    for (const conn of this.targets(args)) if (this.sendFrame(conn, frame, { binary })) sent.push(conn.id);
    return { ok: true, kind, connections: sent };
  }

  async disconnect(args = {}) {
    const reason = args.reason || 'refresh_requested';
    const closeAfter = args.close_after_ms === undefined ? this.config.disconnect_close_after_ms : args.close_after_ms;
    const conns = this.targets(args);
    for (const conn of conns) this.sendDisconnect(conn, reason, { closeAfterMs: closeAfter });
    return { ok: true, reason, connections: conns.map((c) => c.id) };
  }

  async drop(args = {}) {
    const mode = args.mode || 'reset';
    const conns = this.targets(args);
    for (const conn of conns) {
      if (mode === 'reset') {
        conn.rec.closed_by = 'drop';
        conn.ws._socket.resetAndDestroy ? conn.ws._socket.resetAndDestroy() : conn.ws._socket.destroy();
      } else if (mode === 'close') {
        this.serverClose(conn, args.code || 1011, args.reason || 'dropped by test');
      } else if (mode === 'ghost') {
        conn.ghost = true;
        conn.rec.ghost = true;
      } else {
        throw new ControlError(400, { ok: false, error: 'unknown_drop_mode', modes: ['reset', 'close', 'ghost'] });
      }
    }
    this.changed();
    return { ok: true, mode, connections: conns.map((c) => c.id) };
  }

  async refuseConnections(args = {}) {
    const count = Number(args.count ?? 1);
    this.refusals.push({ status: Number(args.status || 409), remaining: count });
    return { ok: true };
  }

  async rateLimit(args = {}) {
    if (!args.method) throw new ControlError(400, { ok: false, error: 'method_required' });
    this.faults.push({
      kind: 'rate_limit', method: args.method, remaining: Number(args.count ?? 1), retry_after: Number(args.retry_after ?? 1),
    });
    return { ok: true };
  }

  async fail(args = {}) {
    if (!args.method) throw new ControlError(400, { ok: false, error: 'method_required' });
    if (!args.status && !args.error && !args.delay_ms) throw new ControlError(400, { ok: false, error: 'status_error_or_delay_ms_required' });
    this.faults.push({
      kind: 'fail',
      method: args.method,
      remaining: Number(args.count ?? 1),
      status: args.status ? Number(args.status) : (args.error ? 200 : null),
      error: args.error,
      body: args.body,
      delay_ms: Number(args.delay_ms || 0),
    });
    return { ok: true };
  }

  // ---------------------------------------------------- control: settings

  async info() {
    const c = this.config;
    return {
      ok: true,
      api: this.apiUrl,
      ws: this.wsBase,
      control: this.controlUrl,
      tls: Boolean(this.tls),
      bot_token: c.bot_token,
      app_token: c.app_token,
      team_id: c.team_id,
      app_id: c.app_id,
      bot_user_id: c.bot_user_id,
      bot_id: c.bot_id,
      users: [...this.users.values()],
      channels: [...this.channels.values()],
    };
  }

  async configure(args) {
    if (args && Object.keys(args).length) {
      const next = this.checkConfig({ ...this.config, ...args });
      this.config = next;
    }
    return { ok: true, config: { ...this.config } };
  }

  async reset(args = {}) {
    if (args.close_connections) {
      for (const c of this.conns.values()) {
        this.clearConnTimers(c);
        c.ws.terminate();
      }
      this.conns.clear();
    }
    this.clearState();
    this.changed();
    return { ok: true };
  }

  async addUser(args = {}) {
    if (!args.id || !args.name) throw new ControlError(400, { ok: false, error: 'id_and_name_required' });
    this.users.set(args.id, { real_name: args.name, ...args });
    return { ok: true };
  }

  async addChannel(args = {}) {
    if (!args.id || !['channel', 'group', 'im', 'mpim'].includes(args.type)) {
      throw new ControlError(400, { ok: false, error: 'id_and_type_required', types: ['channel', 'group', 'im', 'mpim'] });
    }
    this.channels.set(args.id, { is_member: true, ...args });
    return { ok: true };
  }

  // ---------------------------------------------------- control: bench

  /**
   * Benchmarks (tests/bench/bench_slack.py): injects `count` messages at
   * `rate` per second, paced here so that the driver's own speed does not
   * matter, round robin over `channels` (ids) and `users`; `text` has `{i}`
   * replaced by the message's index. Answers at once; `bench_report` says
   * when the envelopes were sent and acked (process.hrtime, microseconds).
   */
  async benchInject(args = {}) {
    const rate = Number(args.rate);
    const count = Number(args.count);
    const tag = String(args.tag || '');
    const channels = Array.isArray(args.channels) && args.channels.length ? args.channels.map(String) : ['C0GENERAL'];
    const users = Array.isArray(args.users) && args.users.length ? args.users.map(String) : ['U0HUMAN01'];
    const text = typeof args.text === 'string' ? args.text : 'ping {i}';
    if (!tag || !(rate > 0) || !Number.isInteger(count) || count < 0 || count > 1e6) {
      throw new ControlError(400, { ok: false, error: 'tag_rate_count_required' });
    }
    if (this.benchRuns.has(tag)) throw new ControlError(409, { ok: false, error: 'tag_in_use', tag });
    for (const ch of channels) this.channelFor({ channel: ch });
    const run = {
      tag, rate, count, next: 0, items: [], lags: [], done: count === 0, errors: [],
      start_hr_us: hrUs() + 1000 * Number(args.delay_ms ?? 20), end_hr_us: null,
    };
    // how long this event loop was blocked meanwhile (a fake too slow to
    // keep up shows here); one monitor at a time
    if (this.benchEld) this.benchEld.disable();
    this.benchEld = monitorEventLoopDelay({ resolution: 1 });
    this.benchEld.enable();
    run.eld = this.benchEld;
    this.benchRuns.set(tag, run);
    const tick = () => {
      const now = hrUs();
      let due = 0;
      while (run.next < count) {
        due = run.start_hr_us + (run.next * 1e6) / rate;
        if (due > now) break;
        const i = run.next++;
        run.lags.push(hrUs() - due);
        // injectMessage has no await: its envelopes are sent (and logged)
        // before it returns.
        const k0 = this.envelopeLog.length;
        this.injectMessage({
          channel: channels[i % channels.length], user: users[i % users.length], text: text.split('{i}').join(String(i)),
        }).catch((err) => run.errors.push(String(err && err.message)));
        run.items.push([i, this.envelopeLog.slice(k0).map((att) => att.envelope_id)]);
      }
      if (run.next < count) {
        setTimeout(tick, Math.max(0, Math.floor((due - hrUs()) / 1000)));
      } else {
        run.done = true;
        run.end_hr_us = hrUs();
      }
    };
    setTimeout(tick, Math.max(0, Math.floor((run.start_hr_us - hrUs()) / 1000)));
    return { ok: true, tag, start_hr_us: run.start_hr_us };
  }

  /** A bench run's progress and timings: sent = [[i, sent_hr_us, ack_hr_us], ...] (first envelope of each message). */
  async benchReport(args = {}) {
    const run = this.benchRuns.get(String(args.tag));
    if (!run) throw new ControlError(404, { ok: false, error: 'unknown_tag', tag: args.tag });
    const lags = [...run.lags].sort((a, b) => a - b);
    const sent = run.items.map(([i, ids]) => {
      const att = ids.length ? this.envIndex.get(ids[0]) : null;
      return [i, att ? att.sent_hr_us : null, att ? att.ack_hr_us : null, ids.length];
    });
    return {
      ok: true,
      tag: run.tag,
      rate: run.rate,
      count: run.count,
      injected: run.next,
      done: run.done,
      start_hr_us: run.start_hr_us,
      end_hr_us: run.end_hr_us,
      now_hr_us: hrUs(),
      lag_us: { p50: lags[Math.floor(lags.length / 2)] ?? null, p99: lags[Math.floor(lags.length * 0.99)] ?? null, max: lags[lags.length - 1] ?? null },
      loop_delay_us: { p99: run.eld.percentile(99) / 1000, max: run.eld.max / 1000 },
      errors: run.errors.slice(0, 10),
      sent,
    };
  }

  /** The bot's posts after seq `since` (0: all), compactly: posts = [[seq, hr_us, channel, text], ...]. */
  async benchPosts(args = {}) {
    const since = Number(args.since || 0);
    const posts = [];
    for (let k = this.postLog.length - 1; k >= 0 && this.postLog[k].seq > since; k--) {
      const p = this.postLog[k];
      posts.push([p.seq, p.hr_us, p.channel, p.text]);
    }
    posts.reverse();
    return { ok: true, now_hr_us: hrUs(), last_seq: this.seq, posts };
  }

  // ---------------------------------------------------- control: records

  records(kind) {
    switch (kind) {
      case 'posts': return this.postLog;
      case 'updates': return this.updateLog;
      case 'acks': return this.ackLog;
      case 'envelopes': return this.envelopeLog;
      case 'connections': return this.connLog;
      case 'calls': return this.callLog;
      case 'errors': return this.errorLog;
      case 'responses': return this.responseLog;
      case 'messages': return [...this.messageStore.values()];
      default: throw new Error(kind);
    }
  }

  select(kind, args = {}) {
    const filters = {};
    for (const k of FILTERS[kind]) if (args[k] !== undefined) filters[k] = args[k];
    return clone(this.records(kind).filter((r) => matches(r, filters)));
  }

  wait(kind, args = {}) {
    return this.waiters.waitCount(() => this.select(kind, args), args.count ?? 1, args.timeout_ms ?? 5000);
  }
}

// List and wait endpoints, generated: posts() / waitPosts() etc.
for (const kind of Object.keys(FILTERS)) {
  FakeSlack.prototype[kind] = async function list(args = {}) { return this.select(kind, args); };
  FakeSlack.prototype[camel(`wait_${kind}`)] = function wait(args = {}) { return this.wait(kind, args); };
}

const USAGE = `usage: node fake_slack.js [--port N] [--control-port N] [--host 127.0.0.1]
                         [--tls-cert FILE --tls-key FILE] [--print-errors]
                         [--<config_key> VALUE ...]   e.g. --ack-timeout-ms 500 --verbose
Prints one JSON line {"api": ..., "control": ..., "ws": ...} on stdout, then
serves until SIGTERM/SIGINT or until its stdin (if a pipe) is closed.
`;

async function startFromCli(opts) {
  const fake = new FakeSlack({ print_errors: true, ...opts });
  await fake.start();
  const info = await fake.info();
  return {
    fake,
    info: {
      api: info.api, control: info.control, ws: info.ws, tls: info.tls, bot_token: info.bot_token, app_token: info.app_token, pid: process.pid,
    },
  };
}

module.exports = { FakeSlack, DEFAULT_CONFIG, DEFAULT_USERS, DEFAULT_CHANNELS, CONTROL_ROUTES };

if (require.main === module) {
  runCli(startFromCli, USAGE).catch((err) => {
    process.stderr.write(`fake_slack: ${err.stack}\n`);
    process.exit(1);
  });
}
