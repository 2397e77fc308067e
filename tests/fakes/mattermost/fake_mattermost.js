#!/usr/bin/env node
'use strict';
// A fake Mattermost for ackbot's integration tests: the REST calls a bot
// makes (users, channels, posts), the WebSocket API v4 (header and challenge
// auth, hello, per-connection seq, resumption with replay from a dead queue,
// pings, actions) and a control interface for tests. Written from
// shared/protocols/mattermost.md and checked with @mattermost/client
// (test_client.js). See ../README.md for the control API.
const { EventEmitter } = require('node:events');
const http = require('node:http');
const https = require('node:https');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { WebSocketServer } = require('ws');

const { ControlError, readBody, listen, closeServer } = require('../lib/http_util');
const { Waiters } = require('../lib/waiters');
const { hrUs, pem, matches } = require('../lib/records');
const { startControlServer } = require('../lib/control_server');
const { runCli } = require('../lib/cli');
const M = require('./model');

const { fixedId, newId, isValidId } = M;

/** Settings that tests may change at run time with POST /control/config. */
const DEFAULT_CONFIG = Object.freeze({
  bot_token: '6xoche483hwrx5rpu8jzjoe7qg',
  bot_user_id: fixedId('ackbotuser'),
  bot_username: 'ackbot',
  team_id: fixedId('teamfake'),
  team_name: 'fakeco',
  team_display_name: 'Fake Co',
  // hello's server_version / the X-Version-Id header:
  // "<version>.<build number>.<client config hash>.<licensed>".
  server_version: '10.5.0.10.5.0.fakeconfighash0000000000000000.false',
  server_hostname: 'fake-mm-1', // null: left out of hello
  // Longest post message, in code points (PostMessageMaxRunesV2).
  max_post_runes: 16383,
  // Websocket timings and limits (web_conn.go); all settable for tests.
  ping_interval_ms: 60000, // server ping control frames; 0: none
  pong_wait_ms: 100000, // read deadline, extended only by pongs; 0: none
  auth_timeout_ms: 5000, // unauthenticated sockets are closed after this
  max_frame_bytes: 8192, // inbound frame limit; larger → close 1009
  dead_queue_size: 128, // events kept per connection for replay
  send_queue_size: 256, // events queued for an inactive connection before it is dropped
  inactive_ttl_ms: 300000, // inactive connections are forgotten after this
  // The challenge's OK reply comes after hello (as observed); false: before.
  hello_before_ok: true,
  // Send status_change "online" after hello on a fresh connection.
  status_change_on_connect: false,
  // 'real' (precomputed broadcast JSON without newline, others with "\n"),
  // 'compact', or 'pretty' (indented over several lines).
  frame_style: 'real',
  // A foreign Origin header on the upgrade is refused with 403 (gorilla).
  check_origin: true,
  // The server's own rate limiter (off as on a default server): GCRA-like,
  // X-RateLimit-* headers on every answer, 429 "limit exceeded" when over.
  rate_limit: false,
  rate_limit_per_sec: 10,
  rate_limit_max_burst: 100,
  verbose: false,
});

const U = {
  bot: DEFAULT_CONFIG.bot_user_id,
  alice: 'q7k3zm4b1pgyfcxw8usd5tj9ra', // as in config/examples/ackbot.toml
  bob: 'c4e1kbhzy3fqdmxw7sjgo5rn8t',
  carol: fixedId('carol'),
  cibot: fixedId('cibot'),
};

const DEFAULT_USERS = [
  { id: U.alice, username: 'alice', first_name: 'Alice', last_name: 'Example', token: fixedId('tokenalice') },
  { id: U.bob, username: 'bob', first_name: 'Bob', last_name: 'Example', token: fixedId('tokenbob') },
  { id: U.carol, username: 'carol', first_name: 'Carol', last_name: 'Example', token: fixedId('tokencarol') },
  { id: U.cibot, username: 'cibot', is_bot: true, bot_description: 'another bot', token: fixedId('tokencibot') },
];

const T = DEFAULT_CONFIG.team_id;
const DEFAULT_CHANNELS = [
  { id: fixedId('chtownsquare'), type: 'O', name: 'town-square', display_name: 'Town Square', team_id: T, members: [U.bot, U.alice, U.bob, U.carol, U.cibot] },
  { id: fixedId('chops'), type: 'O', name: 'ops', display_name: 'Ops', team_id: T, members: [U.bot, U.alice, U.bob] },
  { id: fixedId('chelsewhere'), type: 'O', name: 'elsewhere', display_name: 'Elsewhere', team_id: T, members: [U.alice, U.bob] },
  { id: fixedId('chprivate'), type: 'P', name: 'ops-private', display_name: 'Ops Private', team_id: T, members: [U.bot, U.alice] },
  { id: fixedId('chsecret'), type: 'P', name: 'secret', display_name: 'Secret', team_id: T, members: [U.alice] },
  { id: fixedId('dmalice'), type: 'D', name: M.directChannelName(U.bot, U.alice), team_id: '', members: [U.bot, U.alice] },
  { id: fixedId('dmbob'), type: 'D', name: M.directChannelName(U.bot, U.bob), team_id: '', members: [U.bot, U.bob] },
  {
    id: fixedId('gmalicebob'), type: 'G', name: M.groupChannelName([U.bot, U.alice, U.bob]), display_name: 'ackbot, alice, bob', team_id: '', members: [U.bot, U.alice, U.bob],
  },
];

// REST routes: [HTTP method, path regexp, endpoint name]. The names are what
// the `rate_limit` / `fail` controls and the `calls` records use.
const ROUTES = [
  ['GET', /^\/api\/v4\/system\/ping\/?$/, 'system_ping'],
  ['GET', /^\/api\/v4\/config\/client\/?$/, 'get_client_config'],
  ['GET', /^\/api\/v4\/users\/me\/?$/, 'get_me'],
  ['GET', /^\/api\/v4\/users\/me\/teams\/?$/, 'get_my_teams'],
  ['POST', /^\/api\/v4\/users\/ids\/?$/, 'get_users_by_ids'],
  ['POST', /^\/api\/v4\/users\/usernames\/?$/, 'get_users_by_usernames'],
  ['GET', /^\/api\/v4\/users\/username\/([^/]+)\/?$/, 'get_user_by_username'],
  ['GET', /^\/api\/v4\/users\/([^/]+)\/?$/, 'get_user'],
  ['POST', /^\/api\/v4\/channels\/direct\/?$/, 'create_direct_channel'],
  ['GET', /^\/api\/v4\/channels\/([^/]+)\/posts\/?$/, 'get_channel_posts'],
  ['GET', /^\/api\/v4\/channels\/([^/]+)\/?$/, 'get_channel'],
  ['POST', /^\/api\/v4\/posts\/?$/, 'create_post'],
  ['GET', /^\/api\/v4\/posts\/([^/]+)\/thread\/?$/, 'get_post_thread'],
  ['PUT', /^\/api\/v4\/posts\/([^/]+)\/patch\/?$/, 'patch_post'],
  ['PUT', /^\/api\/v4\/posts\/([^/]+)\/?$/, 'update_post'],
  ['GET', /^\/api\/v4\/posts\/([^/]+)\/?$/, 'get_post'],
];
const ENDPOINTS = ROUTES.map((r) => r[2]);
const NO_AUTH = new Set(['system_ping']);

// Control endpoints: name -> HTTP methods. The class has a method of the same
// name in camelCase taking the same JSON object (see README.md).
const CONTROL_ROUTES = {
  info: ['GET'],
  config: ['GET', 'POST'],
  reset: ['POST'],
  add_user: ['POST'],
  add_channel: ['POST'],
  add_member: ['POST'],
  remove_member: ['POST'],
  inject_post: ['POST'],
  inject_edit: ['POST'],
  inject_delete: ['POST'],
  inject_event: ['POST'],
  inject_click: ['POST'],
  malformed: ['POST'],
  drop: ['POST'],
  force_gap: ['POST'],
  forget_connections: ['POST'],
  restart: ['POST'],
  refuse_connections: ['POST'],
  rate_limit: ['POST'],
  fail: ['POST'],
  posts: ['GET'],
  updates: ['GET'],
  calls: ['GET'],
  connections: ['GET'],
  events: ['GET'],
  actions: ['GET'],
  errors: ['GET'],
  messages: ['GET'],
  clicks: ['GET'],
  wait_posts: ['POST'],
  wait_updates: ['POST'],
  wait_calls: ['POST'],
  wait_connections: ['POST'],
  wait_events: ['POST'],
  wait_actions: ['POST'],
  wait_errors: ['POST'],
  wait_messages: ['POST'],
  wait_clicks: ['POST'],
  bench_inject: ['POST'],
  bench_report: ['GET', 'POST'],
  bench_posts: ['GET', 'POST'],
};

// Filters accepted by the list and wait endpoints, per record kind.
const FILTERS = {
  posts: ['id', 'channel_id', 'root_id', 'user_id', 'message'],
  updates: ['id', 'channel_id', 'user_id', 'kind'],
  calls: ['endpoint', 'method', 'status', 'error_id', 'user_id'],
  connections: ['id', 'state', 'connection_id', 'user_id', 'auth', 'resume_result'],
  events: ['event', 'connection', 'connection_id', 'user_id', 'replayed', 'post_id'],
  actions: ['action', 'connection', 'connection_id', 'user_id'],
  errors: ['kind'],
  messages: ['id', 'channel_id', 'root_id', 'user_id', 'type'],
  clicks: ['post_id', 'action_id', 'user_id'],
};

const camel = (s) => s.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);


/** A REST answer; thrown or returned by handlers. */
class Reply {
  constructor(status, body, headers = {}) {
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

class FakeMattermost extends EventEmitter {
  /**
   * options: host ('127.0.0.1'), port (0: ephemeral), control_port (0),
   * tls_cert / tls_key (PEM text or file paths: https + wss), users /
   * channels (replace the defaults), print_errors, and any DEFAULT_CONFIG key.
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
    this.socks = new Map(); // physical websocket connections by number
    this.wcs = new Map(); // Mattermost connections (connection_id → state), as the hub's index
    this.sockSeq = 0;
    this.seq = 0;
    this.lastMs = 0;
    this.gcra = new Map();
    this.benchRuns = new Map();
    this.clearState();
  }

  // ------------------------------------------------------------------ state

  clearState() {
    this.config = { ...this.initialConfig };
    this.users = new Map(this.initialUsers.map((u) => [u.id, { ...u }]));
    this.channels = new Map(this.initialChannels.map((c) => [c.id, { ...c, members: [...(c.members || [])] }]));
    this.postStore = new Map();
    this.replyIds = new Map(); // root id → ids of the posts stored with that root_id (so replyStats is not a scan of every post)
    this.callLog = [];
    this.postLog = [];
    this.updateLog = [];
    this.eventLog = [];
    this.actionLog = [];
    this.errorLog = [];
    this.clickLog = [];
    this.faults = [];
    this.refusals = [];
    this.gcra = new Map();
    this.connLog = [...this.socks.values()].filter((s) => s.state === 'open').map((s) => s.rec);
  }

  checkConfig(cfg) {
    for (const k of Object.keys(cfg)) {
      if (!(k in DEFAULT_CONFIG)) throw new ControlError(400, { ok: false, error: 'unknown_config_key', key: k });
    }
    if (!['real', 'compact', 'pretty'].includes(cfg.frame_style)) {
      throw new ControlError(400, { ok: false, error: 'bad_frame_style', allowed: ['real', 'compact', 'pretty'] });
    }
    return cfg;
  }

  log(msg) {
    if (this.config.verbose) process.stderr.write(`fake_mattermost: ${msg}\n`);
  }

  /** Client misuse the real server would reject or punish: recorded, emitted, logged. */
  protocolError(kind, detail = {}) {
    const rec = { seq: ++this.seq, at: Date.now(), kind, ...detail };
    this.errorLog.push(rec);
    if (this.printErrors || this.config.verbose) process.stderr.write(`fake_mattermost: PROTOCOL ERROR ${JSON.stringify(rec)}\n`);
    this.emit('protocol_error', rec);
    this.changed();
    return rec;
  }

  changed() {
    this.waiters.notify();
  }

  /** Milliseconds since the epoch, strictly increasing (post timestamps). */
  nowMs() {
    let t = Date.now();
    if (t <= this.lastMs) t = this.lastMs + 1;
    this.lastMs = t;
    return t;
  }

  botUser() {
    const c = this.config;
    return { id: c.bot_user_id, username: c.bot_username, first_name: 'Ack', last_name: 'Bot', is_bot: true, bot_description: 'ackbot under test', token: c.bot_token };
  }

  lookupUser(id) {
    if (id === this.config.bot_user_id) return this.botUser();
    return this.users.get(id) || null;
  }

  allUsers() {
    return [this.botUser(), ...this.users.values()];
  }

  userByToken(token) {
    if (!token) return null;
    return this.allUsers().find((u) => u.token === token) || null;
  }

  /** A user given by ID, username, or @username. */
  resolveUser(arg) {
    if (typeof arg !== 'string' || !arg) return null;
    const byId = this.lookupUser(arg);
    if (byId) return byId;
    const name = arg.replace(/^@/, '');
    return this.allUsers().find((u) => u.username === name) || null;
  }

  /** A channel given by ID, by name, or "@username" (the DM between the bot and that user, made if missing). */
  resolveChannel(arg) {
    if (typeof arg !== 'string' || !arg) return null;
    if (this.channels.has(arg)) return this.channels.get(arg);
    for (const ch of this.channels.values()) if (ch.name === arg) return ch;
    if (arg.startsWith('@')) {
      const u = this.resolveUser(arg);
      if (u) return this.directChannel(this.config.bot_user_id, u.id);
    }
    return null;
  }

  directChannel(a, b) {
    const name = M.directChannelName(a, b);
    for (const ch of this.channels.values()) if (ch.type === 'D' && ch.name === name) return ch;
    const ch = { id: newId(), type: 'D', name, team_id: '', members: a === b ? [a] : [a, b] };
    this.channels.set(ch.id, ch);
    return ch;
  }

  isMember(ch, userId) {
    return Boolean(ch) && ch.members.includes(userId);
  }

  // --------------------------------------------------------------- lifecycle

  async start() {
    const handler = (req, res) => this.onHttp(req, res).catch((err) => {
      this.log(`api handler failed: ${err.stack}`);
      if (!res.headersSent) this.send(res, new Reply(500, M.appError('api.fake.internal', 500)), '');
    });
    this.server = this.tls ? https.createServer({ ...this.tls }, handler) : http.createServer(handler);
    this.wss = new WebSocketServer({
      noServer: true, autoPong: false, perMessageDeflate: false, clientTracking: false, maxPayload: 64 * 1024 * 1024,
    });
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
    this.url = `${scheme}://${this.host}:${this.port}`;
    this.apiUrl = `${this.url}/api/v4`;
    this.wsUrl = `${this.tls ? 'wss' : 'ws'}://${this.host}:${this.port}/api/v4/websocket`;
    this.controlUrl = `http://${this.host}:${this.controlPort}`;
    return this;
  }

  async stop() {
    this.waiters.cancelAll();
    if (this.benchEld) this.benchEld.disable();
    for (const s of this.socks.values()) {
      this.clearSockTimers(s);
      s.ws.terminate();
    }
    for (const wc of this.wcs.values()) clearTimeout(wc.reapTimer);
    this.wcs.clear();
    await Promise.all([closeServer(this.server), this.control && this.control.close()]);
  }

  // ------------------------------------------------------------------ REST

  /** Token from cookie MMAUTHTOKEN, then Authorization Bearer/Token, then ?access_token. */
  parseToken(req, url) {
    const cookie = String(req.headers.cookie || '');
    const cm = /(?:^|;\s*)MMAUTHTOKEN=([^;]+)/.exec(cookie);
    if (cm) return { token: cm[1], where: 'cookie' };
    const authz = req.headers.authorization;
    if (authz) {
      const am = /^(bearer|token)\s+(\S+)\s*$/i.exec(authz);
      if (am) return { token: am[2], where: am[1].toLowerCase() === 'bearer' ? 'header' : 'header_token' };
      return { token: null, where: 'bad_header' };
    }
    if (url.searchParams.has('access_token')) return { token: url.searchParams.get('access_token'), where: 'query' };
    return { token: null, where: 'none' };
  }

  send(res, reply, requestId) {
    const headers = { ...reply.headers };
    let body;
    if (typeof reply.body === 'string') {
      body = Buffer.from(reply.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain; charset=utf-8';
    } else {
      body = Buffer.from(JSON.stringify(reply.body));
      // Exactly "application/json": Client4 compares the header with ===.
      headers['Content-Type'] = 'application/json';
    }
    if (requestId && !reply.noIds) {
      headers['X-Request-Id'] = requestId;
      headers['X-Version-Id'] = this.config.server_version;
    }
    headers['Content-Length'] = body.length;
    res.writeHead(reply.status, headers);
    res.end(body);
  }

  async onHttp(req, res) {
    const url = new URL(req.url, 'http://fake');
    const requestId = newId();
    const route = ROUTES.find(([method, re]) => method === req.method && re.test(url.pathname));
    const endpoint = route ? route[2] : null;
    const params = route ? route[1].exec(url.pathname).slice(1).map(decodeURIComponent) : [];
    const rec = {
      seq: ++this.seq,
      at: Date.now(),
      hr_us: hrUs(),
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      endpoint,
      auth: null,
      user_id: null,
      content_type: req.headers['content-type'] || null,
      body: null,
      status: null,
      error_id: null,
      request_id: requestId,
    };
    this.callLog.push(rec);
    const raw = (await readBody(req)).toString('utf8');
    if (raw.length) {
      try {
        rec.body = JSON.parse(raw);
      } catch {
        rec.body = raw;
      }
    }
    let reply;
    try {
      reply = await this.apiCall(req, url, rec, endpoint, params, raw, requestId);
    } catch (err) {
      if (!(err instanceof Reply)) throw err;
      reply = err;
    }
    if (reply === null) return; // connection reset on purpose
    rec.status = reply.status;
    if (isObj(reply.body) && reply.status >= 400) rec.error_id = reply.body.id || null;
    rec.response = reply.body;
    if (this.config.rate_limit && reply.status !== 429 && reply.rateHeaders) Object.assign(reply.headers, reply.rateHeaders);
    this.log(`api ${req.method} ${url.pathname} -> ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
    this.changed();
    this.send(res, reply, requestId);
    if (reply.after) reply.after();
  }

  /** An AppError answer; client misuse (kind given) also goes to the error log. */
  apiFail(rec, status, id, { kind, name, detail, requestId } = {}) {
    if (kind) {
      this.protocolError(kind, {
        endpoint: rec.endpoint, method: rec.method, path: rec.path, status, error_id: id, call_seq: rec.seq, ...(detail ? { detail } : {}),
      });
    }
    return new Reply(status, M.appError(id, status, { requestId: requestId || rec.request_id, name }));
  }

  takeFault(endpoint) {
    const i = this.faults.findIndex((f) => f.endpoint === endpoint || f.endpoint === '*');
    if (i < 0) return null;
    const f = this.faults[i];
    f.remaining -= 1;
    if (f.remaining <= 0) this.faults.splice(i, 1);
    return f;
  }

  /** GCRA as in throttled: limit = burst + 1, reset = seconds until the bucket is full again. */
  rateCheck(key) {
    const c = this.config;
    const now = Date.now();
    const interval = 1000 / c.rate_limit_per_sec;
    const tolerance = interval * c.rate_limit_max_burst;
    const tat = Math.max(this.gcra.get(key) || now, now);
    const limit = c.rate_limit_max_burst + 1;
    const newTat = tat + interval;
    const allowAt = newTat - tolerance - interval;
    if (now < allowAt) {
      const retry = Math.ceil((allowAt - now) / 1000);
      return {
        limited: true,
        headers: {
          'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil((tat - now) / 1000)), 'Retry-After': String(retry),
        },
      };
    }
    this.gcra.set(key, newTat);
    const remaining = Math.max(0, Math.floor((now - (newTat - tolerance - interval)) / interval));
    return {
      limited: false,
      headers: { 'X-RateLimit-Limit': String(limit), 'X-RateLimit-Remaining': String(Math.min(remaining, limit - 1)), 'X-RateLimit-Reset': String(Math.ceil((newTat - now) / 1000)) },
    };
  }

  static limitExceeded(retryAfter, limit) {
    const r = new Reply(429, 'limit exceeded\n', {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'X-RateLimit-Limit': String(limit),
      'X-RateLimit-Remaining': '0',
      'X-RateLimit-Reset': String(retryAfter),
      'Retry-After': String(retryAfter),
    });
    r.noIds = true;
    return r;
  }

  async apiCall(req, url, rec, endpoint, params, raw, requestId) {
    // The rate limiter and injected faults come first, as middleware would.
    let rateHeaders = null;
    if (this.config.rate_limit) {
      const r = this.rateCheck(req.socket.remoteAddress || 'local');
      if (r.limited) {
        const reply = new Reply(429, 'limit exceeded\n', { ...r.headers, 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
        reply.noIds = true;
        return reply;
      }
      rateHeaders = r.headers;
    }
    const fault = endpoint ? this.takeFault(endpoint) : this.takeFault('*');
    if (fault) {
      if (fault.delay_ms) await new Promise((r) => setTimeout(r, fault.delay_ms));
      if (fault.kind === 'rate_limit') return FakeMattermost.limitExceeded(fault.retry_after, this.config.rate_limit_max_burst + 1);
      if (fault.kind === 'fail') {
        if (fault.reset) {
          rec.status = 0;
          req.socket.destroy();
          this.changed();
          return null;
        }
        if (fault.status) {
          const body = fault.body !== undefined && fault.body !== null ? clone(fault.body)
            : M.appError(fault.id || 'api.fake.injected_failure', fault.status, { requestId });
          return new Reply(fault.status, body);
        }
      }
    }
    const reply = await this.route(req, url, rec, endpoint, params, raw);
    reply.rateHeaders = rateHeaders;
    return reply;
  }

  async route(req, url, rec, endpoint, params, raw) {
    if (!endpoint) return this.apiFail(rec, 404, 'api.context.404.app_error', { kind: 'api_unknown_route' });
    let user = null;
    if (!NO_AUTH.has(endpoint)) {
      const { token, where } = this.parseToken(req, url);
      rec.auth = where;
      if (where === 'query') {
        return this.apiFail(rec, 401, 'api.context.token_provided.app_error', { kind: 'token_in_query' });
      }
      user = this.userByToken(token);
      if (!user) {
        return this.apiFail(rec, 401, 'api.context.session_expired.app_error', { kind: 'bad_auth', detail: where === 'none' ? 'no token' : `token from ${where} is not a valid session` });
      }
      rec.user_id = user.id;
    }
    let body;
    const json = () => {
      if (body !== undefined) return body;
      try {
        body = raw.length ? JSON.parse(raw) : null;
      } catch {
        body = Symbol.for('invalid');
      }
      return body;
    };
    switch (endpoint) {
      case 'system_ping': return new Reply(200, { ActiveSearchBackend: 'database', AndroidLatestVersion: '', AndroidMinVersion: '', IosLatestVersion: '', IosMinVersion: '', status: 'OK' });
      case 'get_client_config': return this.apiClientConfig(rec, url);
      case 'get_me': return new Reply(200, M.userObject(user, { self: true }));
      case 'get_my_teams': return new Reply(200, [this.teamObject()]);
      case 'get_user': return this.apiGetUser(rec, user, params[0]);
      case 'get_user_by_username': {
        const u = this.allUsers().find((x) => x.username === params[0]);
        if (!u) return this.apiFail(rec, 404, 'app.user.missing_account.const');
        return new Reply(200, M.userObject(u, { self: u.id === user.id }));
      }
      case 'get_users_by_ids':
      case 'get_users_by_usernames': {
        const list = json();
        if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
          return this.apiFail(rec, 400, 'api.context.invalid_body_param.app_error', { kind: 'invalid_body', name: endpoint === 'get_users_by_ids' ? 'user_ids' : 'usernames' });
        }
        const key = endpoint === 'get_users_by_ids' ? 'id' : 'username';
        const out = this.allUsers().filter((u) => list.includes(u[key])).map((u) => M.userObject(u, { self: u.id === user.id }));
        return new Reply(200, out);
      }
      case 'get_channel': return this.apiGetChannel(rec, user, params[0]);
      case 'create_direct_channel': return this.apiCreateDirect(rec, user, json());
      case 'get_channel_posts': return this.apiChannelPosts(rec, user, params[0], url);
      case 'create_post': return this.apiCreatePost(rec, user, json(), url);
      case 'get_post': return this.apiGetPost(rec, user, params[0]);
      case 'get_post_thread': return this.apiGetThread(rec, user, params[0]);
      case 'patch_post': return this.apiEditPost(rec, user, params[0], json(), 'patch');
      case 'update_post': return this.apiEditPost(rec, user, params[0], json(), 'update');
      default: throw new Error(`unreachable: ${endpoint}`);
    }
  }

  teamObject() {
    const c = this.config;
    return {
      id: c.team_id, create_at: 1700000000000, update_at: 1700000000000, delete_at: 0, display_name: c.team_display_name, name: c.team_name, description: '', email: '', type: 'O', company_name: '', allowed_domains: '', invite_id: '', allow_open_invite: false, scheme_id: null, group_constrained: null, policy_id: null,
    };
  }

  apiClientConfig(rec, url) {
    if (url.searchParams.get('format') !== 'old') return this.apiFail(rec, 501, 'api.config.client.old_format.app_error', { kind: 'client_config_without_format_old' });
    const v = this.config.server_version.split('.');
    return new Reply(200, {
      Version: v.slice(0, 3).join('.'),
      BuildNumber: v.slice(3, 6).join('.'),
      BuildHash: 'fake',
      SiteURL: this.url,
      SiteName: 'Fake Mattermost',
      MaxPostSize: String(this.config.max_post_runes),
      EnableBotAccountCreation: 'true',
      ExperimentalEnablePostMetadata: 'true',
      DiagnosticId: 'fakediagnosticid',
    });
  }

  apiGetUser(rec, me, id) {
    if (id === 'me') return new Reply(200, M.userObject(me, { self: true }));
    if (!isValidId(id)) return this.apiFail(rec, 400, 'api.context.invalid_url_param.app_error', { kind: 'invalid_user_id', name: 'user_id' });
    const u = this.lookupUser(id);
    if (!u) return this.apiFail(rec, 404, 'app.user.missing_account.const');
    return new Reply(200, M.userObject(u, { self: u.id === me.id }));
  }

  canRead(ch, userId) {
    return ch.type === 'O' || this.isMember(ch, userId);
  }

  apiGetChannel(rec, user, id) {
    if (!isValidId(id)) return this.apiFail(rec, 400, 'api.context.invalid_url_param.app_error', { kind: 'invalid_channel_id', name: 'channel_id' });
    const ch = this.channels.get(id);
    if (!ch) return this.apiFail(rec, 404, 'app.channel.get.existing.app_error');
    if (!this.canRead(ch, user.id)) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'not_channel_member' });
    return new Reply(200, M.channelObject(ch));
  }

  apiCreateDirect(rec, user, ids) {
    if (!Array.isArray(ids) || ids.length !== 2 || ids.some((x) => typeof x !== 'string')) {
      return this.apiFail(rec, 400, 'api.context.invalid_body_param.app_error', { kind: 'invalid_body', name: 'user_ids' });
    }
    if (!ids.includes(user.id)) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'direct_channel_without_self' });
    for (const id of ids) {
      if (!this.lookupUser(id)) return this.apiFail(rec, 400, 'api.channel.create_direct_channel.invalid_user.app_error', { kind: 'direct_channel_unknown_user' });
    }
    const ch = this.directChannel(ids[0], ids[1]);
    return new Reply(201, M.channelObject(ch));
  }

  replyStats(rootId) {
    let count = 0;
    let last = 0;
    for (const id of this.replyIds.get(rootId) || []) {
      const p = this.postStore.get(id);
      if (p && p.root_id === rootId && !p.delete_at) {
        count += 1;
        last = Math.max(last, p.create_at);
      }
    }
    return { replyCount: count, lastReplyAt: last };
  }

  /** A post as clients see it, with the thread's reply count. */
  clientPost(p) {
    return M.postObject(p, this.replyStats(p.root_id || p.id));
  }

  postList(posts) {
    const sorted = [...posts].sort((a, b) => b.create_at - a.create_at);
    const out = { order: sorted.map((p) => p.id), posts: {}, next_post_id: '', prev_post_id: '', has_next: false, first_inaccessible_post_time: 0 };
    for (const p of sorted) out.posts[p.id] = this.clientPost(p);
    return out;
  }

  apiChannelPosts(rec, user, id, url) {
    if (!isValidId(id)) return this.apiFail(rec, 400, 'api.context.invalid_url_param.app_error', { kind: 'invalid_channel_id', name: 'channel_id' });
    const ch = this.channels.get(id);
    if (!ch) return this.apiFail(rec, 404, 'app.channel.get.existing.app_error');
    if (!this.canRead(ch, user.id)) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'not_channel_member' });
    const q = url.searchParams;
    let posts = [...this.postStore.values()].filter((p) => p.channel_id === id);
    if (q.has('since')) {
      const since = Number(q.get('since'));
      posts = posts.filter((p) => p.update_at > since || p.create_at > since);
      return new Reply(200, this.postList(posts.slice(-1000)));
    }
    posts = posts.filter((p) => !p.delete_at);
    posts.sort((a, b) => a.create_at - b.create_at);
    const perPage = Math.min(Number(q.get('per_page') || 60), 200);
    const page = Number(q.get('page') || 0);
    if (q.get('after')) {
      const ref = this.postStore.get(q.get('after'));
      posts = ref ? posts.filter((p) => p.create_at > ref.create_at) : [];
      return new Reply(200, this.postList(posts.slice(page * perPage, (page + 1) * perPage)));
    }
    if (q.get('before')) {
      const ref = this.postStore.get(q.get('before'));
      posts = ref ? posts.filter((p) => p.create_at < ref.create_at) : [];
    }
    posts.reverse(); // newest first
    return new Reply(200, this.postList(posts.slice(page * perPage, (page + 1) * perPage)));
  }

  apiGetPost(rec, user, id) {
    const p = isValidId(id) ? this.postStore.get(id) : null;
    if (!p || p.delete_at) return this.apiFail(rec, 404, 'app.post.get.app_error');
    const ch = this.channels.get(p.channel_id);
    if (ch && !this.canRead(ch, user.id)) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'not_channel_member' });
    return new Reply(200, this.clientPost(p));
  }

  apiGetThread(rec, user, id) {
    const p = isValidId(id) ? this.postStore.get(id) : null;
    if (!p || p.delete_at) return this.apiFail(rec, 404, 'app.post.get.app_error');
    const rootId = p.root_id || p.id;
    const posts = [...this.postStore.values()].filter((x) => !x.delete_at && (x.id === rootId || x.root_id === rootId));
    return new Reply(200, this.postList(posts));
  }

  /** The checks model.Post.IsValid makes on what a client may set. */
  checkPostFields(rec, body) {
    if (typeof body.message !== 'string') return null;
    const runes = M.runeCount(body.message);
    if (runes > this.config.max_post_runes) {
      return this.apiFail(rec, 400, 'model.post.is_valid.message_length.app_error', { kind: 'message_too_long', detail: `${runes} code points > ${this.config.max_post_runes}` });
    }
    if (Array.isArray(body.file_ids) && body.file_ids.length > 5) {
      return this.apiFail(rec, 400, 'model.post.is_valid.file_ids.app_error', { kind: 'too_many_file_ids' });
    }
    return null;
  }

  apiCreatePost(rec, user, body, url) {
    if (!isObj(body) || (body.message !== undefined && typeof body.message !== 'string')
        || (body.props !== undefined && body.props !== null && !isObj(body.props))
        || (body.root_id !== undefined && typeof body.root_id !== 'string')
        || (body.channel_id !== undefined && typeof body.channel_id !== 'string')) {
      return this.apiFail(rec, 400, 'api.context.invalid_body_param.app_error', { kind: 'invalid_body', name: 'post' });
    }
    // Permission first, as createPost does: no channel_id or an unknown
    // channel fails the channel permission check (403).
    if (!body.channel_id) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'missing_channel_id' });
    const ch = this.channels.get(body.channel_id);
    if (!ch) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'unknown_channel', detail: body.channel_id });
    if (!this.isMember(ch, user.id) && ch.type !== 'O') {
      return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'not_channel_member', detail: ch.id });
    }
    if (typeof body.type === 'string' && body.type.startsWith('system_')) {
      return this.apiFail(rec, 400, 'api.context.invalid_param.app_error', { kind: 'system_post_type', name: 'post.type' });
    }
    const rootId = body.root_id || '';
    if (rootId) {
      const root = this.postStore.get(rootId);
      if (!root || root.delete_at) return this.apiFail(rec, 400, 'api.post.create_post.root_id.app_error', { kind: 'root_id_not_found', detail: rootId });
      if (root.channel_id !== ch.id) return this.apiFail(rec, 400, 'api.post.create_post.channel_root_id.app_error', { kind: 'root_id_channel_mismatch', detail: rootId });
      if (root.root_id) {
        return this.apiFail(rec, 400, 'api.post.create_post.root_id.app_error', { kind: 'root_id_is_a_reply', detail: `${rootId} is a reply in thread ${root.root_id}; use its root_id` });
      }
    }
    const bad = this.checkPostFields(rec, body);
    if (bad) return bad;
    const props = isObj(body.props) ? clone(body.props) : {};
    const message = body.message || '';
    if (!message && !(Array.isArray(props.attachments) && props.attachments.length) && !(Array.isArray(body.file_ids) && body.file_ids.length)) {
      // Accepted by the server, but an empty post is surely a bot bug.
      this.protocolError('empty_message', { endpoint: rec.endpoint, call_seq: rec.seq, channel_id: ch.id });
    }
    if (body.create_at) this.protocolError('create_at_ignored', { endpoint: rec.endpoint, call_seq: rec.seq, detail: 'only system admins may set create_at' });
    if (user.is_bot) props.from_bot = 'true';
    const post = this.storePost({
      user_id: user.id, channel_id: ch.id, root_id: rootId, message, props, type: body.type || '', file_ids: Array.isArray(body.file_ids) ? body.file_ids : [], pending_post_id: body.pending_post_id || '',
    });
    this.postLog.push({
      seq: ++this.seq,
      at: Date.now(),
      hr_us: rec.hr_us,
      id: post.id,
      user_id: user.id,
      channel_id: ch.id,
      channel_type: ch.type,
      channel_name: ch.name,
      root_id: rootId,
      message,
      props: clone(body.props ?? null),
      type: post.type,
      file_ids: post.file_ids,
      set_online: url.searchParams.get('set_online') !== 'false',
      body: clone(body),
      call_seq: rec.seq,
    });
    const reply = new Reply(201, this.clientPost(post));
    // The server publishes the event from another goroutine: it may reach the
    // client before or after the REST answer. It goes out after the answer here.
    reply.after = () => this.publishPost(post, 'posted');
    return reply;
  }

  apiEditPost(rec, user, id, body, kind) {
    if (!isObj(body) || (body.message !== undefined && typeof body.message !== 'string') || (body.props !== undefined && body.props !== null && !isObj(body.props))) {
      return this.apiFail(rec, 400, 'api.context.invalid_body_param.app_error', { kind: 'invalid_body', name: 'post' });
    }
    if (kind === 'update' && body.id !== id) return this.apiFail(rec, 400, 'api.context.invalid_param.app_error', { kind: 'update_post_id_mismatch', name: 'id' });
    const p = isValidId(id) ? this.postStore.get(id) : null;
    if (!p || p.delete_at) return this.apiFail(rec, kind === 'update' ? 400 : 404, kind === 'update' ? 'api.post.update_post.find.app_error' : 'app.post.get.app_error', { kind: 'post_not_found', detail: id });
    if (p.user_id !== user.id) return this.apiFail(rec, 403, 'api.context.permissions.app_error', { kind: 'edit_others_post', detail: id });
    const bad = this.checkPostFields(rec, body);
    if (bad) return bad;
    const now = this.nowMs();
    if (typeof body.message === 'string' && body.message !== p.message) {
      p.message = body.message;
      p.edit_at = now;
    } else if (kind === 'update' && typeof body.message !== 'string') {
      p.message = '';
      p.edit_at = now;
    }
    if (body.props !== undefined && body.props !== null) {
      p.props = clone(body.props);
      if (user.is_bot) p.props.from_bot = 'true';
    }
    if (Array.isArray(body.file_ids)) p.file_ids = body.file_ids;
    if (typeof body.is_pinned === 'boolean') p.is_pinned = body.is_pinned;
    p.update_at = now;
    this.updateLog.push({
      seq: ++this.seq, at: Date.now(), kind, id: p.id, user_id: user.id, channel_id: p.channel_id, message: p.message, props: clone(body.props ?? null), body: clone(body), call_seq: rec.seq,
    });
    const reply = new Reply(200, this.clientPost(p));
    reply.after = () => this.publishPost(p, 'post_edited');
    return reply;
  }

  // ---------------------------------------------------------------- posts

  storePost(fields) {
    const now = fields.create_at || this.nowMs();
    const post = {
      id: fields.id || newId(),
      create_at: now,
      update_at: now,
      edit_at: 0,
      delete_at: 0,
      is_pinned: false,
      user_id: fields.user_id,
      channel_id: fields.channel_id,
      root_id: fields.root_id || '',
      message: fields.message || '',
      type: fields.type || '',
      props: fields.props || {},
      hashtags: '',
      file_ids: fields.file_ids || [],
      pending_post_id: fields.pending_post_id || '',
    };
    this.postStore.set(post.id, post);
    if (post.root_id) {
      if (!this.replyIds.has(post.root_id)) this.replyIds.set(post.root_id, new Set());
      this.replyIds.get(post.root_id).add(post.id);
    }
    const ch = this.channels.get(post.channel_id);
    if (ch) {
      ch.last_post_at = now;
      ch.total_msg_count = (ch.total_msg_count || 0) + 1;
      if (!post.root_id) {
        ch.last_root_post_at = now;
        ch.total_msg_count_root = (ch.total_msg_count_root || 0) + 1;
      }
    }
    this.changed();
    return post;
  }

  /** Whether `userId` is mentioned by post `p` in channel `ch` (DMs count for the other member). */
  mentions(p, ch, userId) {
    if (userId === p.user_id) return false;
    if (ch.type === 'D') return true;
    const u = this.lookupUser(userId);
    if (!u) return false;
    const re = new RegExp(`(^|[^A-Za-z0-9_.-])@${u.username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9_-]|\\.[A-Za-z0-9_-])`, 'i');
    return re.test(p.message);
  }

  /** Broadcasts posted / post_edited / post_deleted for a stored post (§2.2, §2.3). */
  publishPost(p, event) {
    const ch = this.channels.get(p.channel_id);
    if (!ch) return [];
    const postJson = JSON.stringify(this.clientPost(p));
    const broadcast = { channel_id: ch.id };
    if (event !== 'posted') {
      const data = { post: postJson };
      if (event === 'post_deleted') data.delete_by = p.deleted_by || p.user_id;
      return this.broadcast({ event, data, broadcast, post_id: p.id });
    }
    const author = this.lookupUser(p.user_id) || { username: p.user_id };
    let senderName = `@${author.username}`;
    if (p.props && p.props.override_username && (p.props.from_webhook === 'true' || p.props.from_bot === 'true')) senderName = p.props.override_username;
    let displayName = ch.display_name || '';
    if (ch.type === 'D') {
      const other = ch.members.find((m) => m !== p.user_id) || p.user_id;
      const ou = p.user_id === this.config.bot_user_id ? this.lookupUser(other) : author;
      displayName = `@${ou ? ou.username : other}`;
    }
    const base = {
      channel_display_name: displayName,
      channel_name: ch.name,
      channel_type: ch.type,
      post: postJson,
      sender_name: senderName,
      set_online: true,
      team_id: ch.team_id || '',
    };
    if (p.file_ids && p.file_ids.length) base.otherFile = 'true';
    return this.broadcast({
      event: 'posted',
      data: base,
      broadcast,
      post_id: p.id,
      // `mentions` holds only the receiving user's ID (broadcast hook add_mentions).
      forUser: (uid) => (this.mentions(p, ch, uid) ? { ...base, mentions: JSON.stringify([uid]) } : base),
    });
  }

  // ------------------------------------------------------------ websocket

  refuseUpgrade(socket, status, body, contentType = 'text/plain; charset=utf-8') {
    const reasons = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    socket.end(`HTTP/1.1 ${status} ${reasons[status] || 'Error'}\r\nContent-Type: ${contentType}\r\n`
      + `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
    this.log(`websocket upgrade refused ${status}`);
  }

  onUpgrade(req, socket, head) {
    const url = new URL(req.url, 'http://fake');
    socket.on('error', () => {});
    if (url.pathname !== '/api/v4/websocket' && url.pathname !== '/api/v4/websocket/') {
      this.refuseUpgrade(socket, 404, M.appError('api.context.404.app_error', 404, { requestId: newId() }), 'application/json');
      return;
    }
    const refusal = this.refusals[0];
    if (refusal) {
      refusal.remaining -= 1;
      if (refusal.remaining <= 0) this.refusals.shift();
      this.refuseUpgrade(socket, refusal.status, refusal.status === 429 ? 'limit exceeded\n' : M.appError('api.fake.injected_failure', refusal.status, { requestId: newId() }),
        refusal.status === 429 ? undefined : 'application/json');
      return;
    }
    const { token, where } = this.parseToken(req, url);
    if (where === 'query') {
      this.protocolError('ws_access_token_query', { url: req.url });
      this.refuseUpgrade(socket, 401, M.appError('api.context.token_provided.app_error', 401, { requestId: newId() }), 'application/json');
      return;
    }
    const origin = req.headers.origin;
    if (origin && this.config.check_origin) {
      let ok = false;
      try {
        ok = new URL(origin).host === req.headers.host;
      } catch { /* malformed origin */ }
      if (!ok) {
        this.protocolError('ws_origin_refused', { origin });
        this.refuseUpgrade(socket, 403, 'Forbidden\n');
        return;
      }
    }
    const user = this.userByToken(token);
    if (token && !user) this.protocolError('ws_bad_token', { where, detail: 'the upgrade succeeds unauthenticated; the socket is closed after auth_timeout_ms' });
    // Resume parameters are only read when the upgrade carries a session.
    const connId = url.searchParams.get('connection_id') || '';
    const seqText = url.searchParams.get('sequence_number');
    let resume = null;
    let invalid = null;
    if (connId && user) {
      if (!isValidId(connId)) invalid = `connection_id ${JSON.stringify(connId)} is not a valid id`;
      else if (seqText === null || seqText === '') invalid = 'sequence_number missing';
      else if (!/^-?\d+$/.test(seqText)) invalid = `sequence_number ${JSON.stringify(seqText)} is not an integer`;
      else resume = { connection_id: connId, sequence_number: Number(seqText) };
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, req, url, { user, where, token, resume, invalid, connId }));
  }

  openSocks() {
    return [...this.socks.values()].filter((s) => s.state === 'open');
  }

  onSocket(ws, req, url, { user, where, token, resume, invalid, connId }) {
    const num = ++this.sockSeq;
    const q = url.searchParams;
    const rec = {
      id: num,
      url: req.url,
      query: Object.fromEntries(q),
      state: 'open',
      auth: user ? where : (token ? 'bad_token' : 'none'),
      user_id: user ? user.id : null,
      connection_id: null,
      resume_requested: connId ? { connection_id: connId, sequence_number: q.get('sequence_number') } : null,
      resume_result: null,
      replayed: 0,
      hello_sent: 0,
      disconnect_err_code: q.get('disconnect_err_code'),
      posted_ack: q.get('posted_ack') === 'true',
      opened_at: Date.now(),
      closed_at: null,
      close_code: null,
      close_reason: null,
      closed_by: null,
      pings_sent: 0,
      pongs_received: 0,
      client_pings: 0,
      frames_received: 0,
      events_sent: 0,
      ghost: false,
    };
    const sock = { num, ws, rec, state: 'open', user: user || null, wc: null, timers: {}, ghost: false };
    this.socks.set(num, sock);
    this.connLog.push(rec);
    this.log(`socket ${num} opened (${req.url}) auth=${rec.auth}`);

    ws.on('message', (data, isBinary) => this.onFrame(sock, data, isBinary));
    ws.on('ping', (data) => {
      rec.client_pings += 1;
      if (!sock.ghost) ws.pong(data);
    });
    ws.on('pong', () => {
      if (sock.ghost) return;
      rec.pongs_received += 1;
      this.armPongDeadline(sock);
    });
    ws.on('close', (code, reason) => this.onSocketClosed(sock, code, reason.toString()));
    ws.on('error', (err) => this.log(`socket ${num} error: ${err.message}`));

    if (invalid) {
      // The server logs the error and closes right after the upgrade, with no frame.
      this.protocolError('ws_resume_invalid_params', { connection: num, detail: invalid });
      rec.closed_by = 'server';
      rec.resume_result = 'invalid_params';
      ws.terminate();
      return;
    }
    const c = this.config;
    if (c.ping_interval_ms > 0) {
      sock.timers.ping = setInterval(() => {
        if (sock.ghost || ws.readyState !== ws.OPEN) return;
        rec.pings_sent += 1;
        ws.ping();
      }, c.ping_interval_ms);
    }
    this.armPongDeadline(sock);
    if (user) {
      this.register(sock, user, resume);
    } else {
      if (connId) rec.resume_result = 'ignored_no_session';
      sock.timers.auth = setTimeout(() => {
        if (sock.user || sock.state !== 'open') return;
        this.protocolError('ws_auth_timeout', { connection: num, detail: `not authenticated within ${c.auth_timeout_ms} ms` });
        rec.closed_by = 'auth_timeout';
        ws.terminate();
      }, c.auth_timeout_ms);
    }
    this.changed();
  }

  armPongDeadline(sock) {
    clearTimeout(sock.timers.pong);
    const wait = this.config.pong_wait_ms;
    if (!(wait > 0)) return;
    sock.timers.pong = setTimeout(() => {
      if (sock.state !== 'open') return;
      this.protocolError('ws_pong_timeout', { connection: sock.num, detail: `no pong within ${wait} ms` });
      sock.rec.closed_by = 'pong_timeout';
      sock.ws.terminate();
    }, wait);
  }

  clearSockTimers(sock) {
    clearInterval(sock.timers.ping);
    clearTimeout(sock.timers.pong);
    clearTimeout(sock.timers.auth);
    sock.timers = {};
  }

  onSocketClosed(sock, code, reason) {
    this.clearSockTimers(sock);
    sock.state = 'closed';
    const { rec } = sock;
    rec.state = 'closed';
    rec.closed_at = Date.now();
    rec.close_code = code;
    rec.close_reason = reason;
    rec.closed_by = rec.closed_by || 'client';
    const wc = sock.wc;
    if (wc && wc.sock === sock) {
      wc.sock = null;
      if (wc.forgotten) {
        this.wcs.delete(wc.id);
      } else {
        // Inactive: keep its queues for a resume, for inactive_ttl_ms.
        wc.inactive_since = Date.now();
        clearTimeout(wc.reapTimer);
        wc.reapTimer = setTimeout(() => {
          if (!wc.sock && this.wcs.get(wc.id) === wc) this.wcs.delete(wc.id);
        }, this.config.inactive_ttl_ms);
        if (wc.reapTimer.unref) wc.reapTimer.unref();
      }
    }
    this.log(`socket ${sock.num} closed (${code} by ${rec.closed_by})`);
    this.changed();
  }

  newWebConn(user) {
    const wc = {
      id: newId(), user_id: user.id, seq: 0, dead: [], pending: [], sock: null, inactive_since: null, reapTimer: null, forgotten: false, created_at: Date.now(),
    };
    this.wcs.set(wc.id, wc);
    return wc;
  }

  bind(wc, sock) {
    clearTimeout(wc.reapTimer);
    if (wc.sock && wc.sock !== sock && wc.sock.state === 'open') {
      // A resume while the old socket still looks open: the new one takes over.
      const old = wc.sock;
      old.wc = null;
      old.rec.closed_by = 'superseded';
      old.ws.terminate();
    }
    wc.sock = sock;
    wc.inactive_since = null;
    sock.wc = wc;
    sock.rec.connection_id = wc.id;
  }

  helloEvent(wc) {
    const data = { connection_id: wc.id, server_version: this.config.server_version };
    if (this.config.server_hostname) data.server_hostname = this.config.server_hostname;
    return { event: 'hello', data, broadcast: { user_id: wc.user_id }, precomputed: false };
  }

  /** Registers an authenticated socket: fresh, or resuming a known connection (§1.9). */
  register(sock, user, resume) {
    sock.user = user;
    sock.rec.user_id = user.id;
    clearTimeout(sock.timers.auth);
    const known = resume && this.wcs.get(resume.connection_id);
    if (known && known.user_id === user.id) {
      const wc = known;
      this.bind(wc, sock);
      const n = resume.sequence_number;
      const idx = wc.dead.findIndex((e) => e.seq === n);
      const last = wc.dead.length ? wc.dead[wc.dead.length - 1].seq : null;
      if (n === 0) {
        // The server checks nothing when the sequence is 0.
        sock.rec.resume_result = 'zero_sequence';
        wc.seq = 0;
      } else if (idx >= 0) {
        sock.rec.resume_result = 'replayed';
        for (const e of wc.dead.slice(idx)) {
          this.writeRaw(sock, e.text);
          sock.rec.replayed += 1;
          this.logEvent(sock, wc, e.ev, e.seq, true);
        }
      } else if (last === null || last === n - 1) {
        sock.rec.resume_result = 'lossless';
        wc.seq = n;
      } else {
        // Lost: new connection ID, counter back to 0, hello.
        sock.rec.resume_result = 'gap';
        this.wcs.delete(wc.id);
        wc.id = newId();
        this.wcs.set(wc.id, wc);
        sock.rec.connection_id = wc.id;
        wc.dead = [];
        wc.seq = 0;
        this.writeEvent(wc, this.helloEvent(wc));
        sock.rec.hello_sent += 1;
      }
      const pending = wc.pending;
      wc.pending = [];
      for (const ev of pending) this.writeEvent(wc, ev);
    } else {
      sock.rec.resume_result = resume ? 'unknown_id' : (sock.rec.resume_result || 'fresh');
      const wc = this.newWebConn(user);
      this.bind(wc, sock);
      this.writeEvent(wc, this.helloEvent(wc));
      sock.rec.hello_sent += 1;
      if (this.config.status_change_on_connect) {
        this.writeEvent(wc, { event: 'status_change', data: { status: 'online', user_id: user.id }, broadcast: { user_id: user.id } });
      }
    }
    this.changed();
  }

  writeRaw(sock, text, binary = false) {
    if (sock.ghost || sock.state !== 'open' || sock.ws.readyState !== sock.ws.OPEN) return false;
    sock.ws.send(text, { binary });
    this.log(`-> ${sock.num}: ${String(text).slice(0, 300)}`);
    return true;
  }

  logEvent(sock, wc, ev, seq, replayed) {
    if (sock) sock.rec.events_sent += 1;
    this.eventLog.push({
      seq: ++this.seq,
      at: Date.now(),
      hr_us: hrUs(),
      event: ev.event,
      ws_seq: seq,
      connection: sock ? sock.num : null,
      connection_id: wc.id,
      user_id: wc.user_id,
      replayed,
      written: Boolean(sock && !sock.ghost && sock.state === 'open'),
      post_id: ev.post_id || null,
      data: ev.data,
    });
  }

  /** Gives an event its seq, keeps it in the dead queue and writes it (lost if the socket is a ghost). */
  writeEvent(wc, ev) {
    const sock = wc.sock;
    const seq = wc.seq++;
    const text = ev.rawText !== undefined ? ev.rawText : M.eventText(ev, seq, this.config.frame_style);
    wc.dead.push({ seq, text, ev });
    while (wc.dead.length > this.config.dead_queue_size) wc.dead.shift();
    this.writeRaw(sock, text);
    this.logEvent(sock, wc, ev, seq, false);
    return { connection: sock.num, connection_id: wc.id, user_id: wc.user_id, seq, queued: false };
  }

  /** Sends to one Mattermost connection, or queues while it is inactive. */
  sendEvent(wc, ev) {
    const droppable = ev.event === 'typing' || ev.event === 'status_change' || ev.event === 'multiple_channels_viewed';
    if (!wc.sock) {
      if (droppable && wc.pending.length > this.config.send_queue_size / 2) return null;
      wc.pending.push(ev);
      if (wc.pending.length >= this.config.send_queue_size) {
        this.log(`connection ${wc.id} dropped: ${wc.pending.length} events queued while inactive`);
        clearTimeout(wc.reapTimer);
        this.wcs.delete(wc.id);
      }
      return { connection: null, connection_id: wc.id, user_id: wc.user_id, seq: null, queued: true };
    }
    return this.writeEvent(wc, ev);
  }

  shouldSend(wc, b) {
    if (b.connection_id && b.connection_id !== wc.id) return false;
    if (b.omit_connection_id && b.omit_connection_id === wc.id) return false;
    if (b.user_id && b.user_id !== wc.user_id) return false;
    if (b.omit_users && b.omit_users[wc.user_id]) return false;
    if (b.channel_id && !this.isMember(this.channels.get(b.channel_id), wc.user_id)) return false;
    return true;
  }

  /** Broadcasts an event to every connection (active or inactive) it is addressed to (§2.1). */
  broadcast(ev) {
    const out = [];
    const b = ev.broadcast || {};
    for (const wc of [...this.wcs.values()]) {
      if (!this.shouldSend(wc, b)) continue;
      const e = ev.forUser ? { ...ev, data: ev.forUser(wc.user_id), forUser: undefined } : ev;
      const r = this.sendEvent(wc, e);
      if (r) out.push(r);
    }
    this.changed();
    return out;
  }

  onFrame(sock, data, isBinary) {
    if (sock.ghost) return;
    const { rec } = sock;
    rec.frames_received += 1;
    if (data.length > this.config.max_frame_bytes) {
      this.protocolError('ws_frame_too_large', { connection: sock.num, bytes: data.length, limit: this.config.max_frame_bytes });
      rec.closed_by = 'server';
      sock.ws.close(1009, 'message too big');
      return;
    }
    if (isBinary) {
      // The server would decode msgpack; the fake does not, and a decode error closes the socket.
      this.protocolError('ws_binary_frame', { connection: sock.num, bytes: data.length });
      rec.closed_by = 'server';
      sock.ws.terminate();
      return;
    }
    const text = data.toString('utf8');
    this.log(`<- ${sock.num}: ${text.slice(0, 300)}`);
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = undefined;
    }
    if (!isObj(msg)) {
      this.protocolError('ws_non_json_frame', { connection: sock.num, frame: text.slice(0, 500) });
      rec.closed_by = 'server';
      sock.ws.terminate();
      return;
    }
    const act = {
      seq: ++this.seq,
      at: Date.now(),
      connection: sock.num,
      connection_id: sock.wc ? sock.wc.id : null,
      user_id: sock.user ? sock.user.id : null,
      authenticated: Boolean(sock.user),
      action: msg.action,
      req_seq: msg.seq,
      data: msg.action === 'authentication_challenge' && isObj(msg.data) ? { ...msg.data, token: '[redacted]' } : msg.data,
      reply: null,
      ignored: false,
    };
    this.actionLog.push(act);
    this.onAction(sock, msg, act);
    this.changed();
  }

  reply(sock, act, reply) {
    act.reply = reply;
    this.writeRaw(sock, M.replyText(reply, this.config.frame_style));
  }

  wsFail(sock, act, id, status, kind, name) {
    if (kind) this.protocolError(kind, { connection: sock.num, action: act.action, req_seq: act.req_seq });
    const error = M.appError(id, status, { name });
    this.reply(sock, act, { status: 'FAIL', seq_reply: typeof act.req_seq === 'number' ? act.req_seq : 0, error });
  }

  onAction(sock, msg, act) {
    const seqOk = typeof msg.seq === 'number' && Number.isInteger(msg.seq) && msg.seq > 0;
    if (!sock.user) {
      if (msg.action !== 'authentication_challenge') {
        // A reply would go through the hub, which does not know the socket: nothing is sent.
        act.ignored = true;
        this.protocolError('ws_action_before_auth', { connection: sock.num, action: msg.action });
        return;
      }
      if (!seqOk) {
        act.ignored = true;
        this.protocolError('ws_bad_seq', { connection: sock.num, action: msg.action, req_seq: msg.seq });
        return;
      }
      const token = isObj(msg.data) ? msg.data.token : undefined;
      const user = typeof token === 'string' ? this.userByToken(token) : null;
      if (!user) {
        // Missing or bad token: the server closes the socket, no FAIL reply.
        this.protocolError('ws_challenge_bad_token', { connection: sock.num, detail: typeof token === 'string' ? 'not a valid session' : 'data.token missing or not a string' });
        sock.rec.closed_by = 'server';
        sock.ws.terminate();
        return;
      }
      sock.rec.auth = sock.rec.auth === 'bad_token' ? 'bad_token+challenge' : 'challenge';
      const ok = { status: 'OK', seq_reply: msg.seq };
      if (!this.config.hello_before_ok) this.reply(sock, act, ok);
      this.register(sock, user, null); // no session on the upgrade: always fresh
      if (this.config.hello_before_ok) this.reply(sock, act, ok);
      return;
    }
    if (msg.action === 'authentication_challenge') {
      // Already authenticated (header or earlier challenge): silently ignored.
      act.ignored = true;
      return;
    }
    if (typeof msg.action !== 'string' || !msg.action) {
      this.wsFail(sock, act, 'api.web_socket_router.no_action.app_error', 400, 'ws_no_action');
      return;
    }
    if (!seqOk) {
      this.wsFail(sock, act, 'api.web_socket_router.bad_seq.app_error', 400, 'ws_bad_seq');
      return;
    }
    if (msg.action.startsWith('custom_')) {
      act.ignored = true; // for plugins; no router reply
      return;
    }
    const data = isObj(msg.data) ? msg.data : {};
    const c = this.config;
    switch (msg.action) {
      case 'ping':
        this.reply(sock, act, {
          status: 'OK', seq_reply: msg.seq, data: { text: 'pong', version: c.server_version.split('.').slice(0, 3).join('.'), server_time: Date.now(), node_id: '' },
        });
        return;
      case 'user_typing': {
        const channelId = data.channel_id;
        if (!isValidId(channelId)) {
          this.wsFail(sock, act, 'api.websocket_handler.invalid_param.app_error', 400, 'ws_invalid_param', 'channel_id');
          return;
        }
        const ch = this.channels.get(channelId);
        if (!ch || !this.isMember(ch, sock.user.id)) {
          this.wsFail(sock, act, 'api.context.permissions.app_error', 403, 'not_channel_member');
          return;
        }
        this.reply(sock, act, { status: 'OK', seq_reply: msg.seq });
        this.broadcast({
          event: 'typing',
          data: { parent_id: typeof data.parent_id === 'string' ? data.parent_id : '', user_id: sock.user.id },
          broadcast: { channel_id: ch.id, omit_users: { [sock.user.id]: true } },
        });
        return;
      }
      case 'get_statuses':
        this.reply(sock, act, { status: 'OK', seq_reply: msg.seq, data: this.statuses(this.allUsers().map((u) => u.id)) });
        return;
      case 'get_statuses_by_ids': {
        const ids = data.user_ids;
        if (!Array.isArray(ids) || !ids.length || ids.some((x) => !isValidId(x))) {
          this.wsFail(sock, act, 'api.websocket_handler.invalid_param.app_error', 400, 'ws_invalid_param', 'user_ids');
          return;
        }
        this.reply(sock, act, { status: 'OK', seq_reply: msg.seq, data: this.statuses(ids) });
        return;
      }
      case 'user_update_active_status':
      case 'presence':
      case 'posted_notify_ack':
        this.reply(sock, act, { status: 'OK', seq_reply: msg.seq });
        return;
      default:
        this.wsFail(sock, act, 'api.web_socket_router.bad_action.app_error', 500, 'ws_unknown_action');
    }
  }

  statuses(ids) {
    const online = new Set([...this.wcs.values()].filter((wc) => wc.sock).map((wc) => wc.user_id));
    const out = {};
    for (const id of ids) out[id] = online.has(id) ? 'online' : 'offline';
    return out;
  }

  // ------------------------------------------------------ control: inject

  channelArg(args, fallback = 'town-square') {
    const arg = args.channel || args.channel_id || fallback;
    const ch = this.resolveChannel(arg);
    if (!ch) {
      throw new ControlError(400, {
        ok: false, error: 'unknown_channel', channel: arg, known: [...this.channels.values()].map((c) => ({ id: c.id, name: c.name, type: c.type })),
      });
    }
    return ch;
  }

  userArg(arg, fallback) {
    const u = this.resolveUser(arg || fallback);
    if (!u) throw new ControlError(400, { ok: false, error: 'unknown_user', user: arg, known: this.allUsers().map((x) => ({ id: x.id, username: x.username })) });
    return u;
  }

  /**
   * A post by someone else: stored, and `posted` sent to every connection of
   * the channel's members (queued for inactive ones).
   */
  async injectPost(args = {}) {
    let root = null;
    if (args.root_id) {
      root = this.postStore.get(args.root_id);
      if (!root) throw new ControlError(404, { ok: false, error: 'root_not_found', root_id: args.root_id });
      if (root.root_id && !args.force) {
        throw new ControlError(400, { ok: false, error: 'root_is_a_reply', root_id: args.root_id, its_root_id: root.root_id, hint: 'use its root_id, or force:true' });
      }
    }
    const ch = args.channel || args.channel_id || !root ? this.channelArg(args) : this.channels.get(root.channel_id);
    if (root && root.channel_id !== ch.id) throw new ControlError(400, { ok: false, error: 'root_in_another_channel', root_id: root.id, root_channel_id: root.channel_id });
    const user = this.userArg(args.user || args.user_id, 'alice');
    let message = args.message;
    if (message === undefined && typeof args.text === 'string') message = args.text;
    if (typeof message !== 'string') {
      if (typeof args.type === 'string' && args.type.startsWith('system_')) message = '';
      else throw new ControlError(400, { ok: false, error: 'message_required' });
    }
    if (args.mention) message = `@${this.config.bot_username} ${message}`;
    const props = isObj(args.props) ? clone(args.props) : {};
    if (user.is_bot || args.from_bot) props.from_bot = 'true';
    if (args.from_webhook) props.from_webhook = 'true';
    if (args.override_username) props.override_username = args.override_username;
    if (typeof args.type === 'string' && args.type.startsWith('system_') && !props.username && args.type === 'system_join_channel') props.username = user.username;
    const post = this.storePost({
      id: args.id, user_id: user.id, channel_id: ch.id, root_id: args.root_id || '', message, props, type: args.type || '', file_ids: args.file_ids, create_at: args.create_at,
    });
    const deliveries = this.publishPost(post, 'posted');
    return { ok: true, post: this.clientPost(post), deliveries };
  }

  async injectEdit(args = {}) {
    const p = args.post_id && this.postStore.get(args.post_id);
    if (!p) throw new ControlError(404, { ok: false, error: 'post_not_found', post_id: args.post_id });
    if (typeof args.message !== 'string' && !isObj(args.props)) throw new ControlError(400, { ok: false, error: 'message_or_props_required' });
    const now = this.nowMs();
    if (typeof args.message === 'string') p.message = args.message;
    if (isObj(args.props)) p.props = clone(args.props);
    p.edit_at = now;
    p.update_at = now;
    return { ok: true, post: this.clientPost(p), deliveries: this.publishPost(p, 'post_edited') };
  }

  async injectDelete(args = {}) {
    const p = args.post_id && this.postStore.get(args.post_id);
    if (!p) throw new ControlError(404, { ok: false, error: 'post_not_found', post_id: args.post_id });
    const now = this.nowMs();
    p.delete_at = now;
    p.update_at = now;
    if (args.user) p.deleted_by = this.userArg(args.user).id;
    return { ok: true, post: this.clientPost(p), deliveries: this.publishPost(p, 'post_deleted') };
  }

  /** Any event: {event, data, broadcast: {user_id, channel_id, team_id, omit_users, connection_id, omit_connection_id}}. */
  async injectEvent(args = {}) {
    if (typeof args.event !== 'string' || !args.event) throw new ControlError(400, { ok: false, error: 'event_required' });
    const ev = { event: args.event, data: isObj(args.data) ? clone(args.data) : {}, broadcast: isObj(args.broadcast) ? clone(args.broadcast) : {} };
    return { ok: true, deliveries: this.broadcast(ev) };
  }

  /** Simulates a button click (§4.2): POSTs the integration request, applies update / ephemeral_text. */
  async injectClick(args = {}) {
    const c = this.config;
    let post = args.post_id ? this.postStore.get(args.post_id) : null;
    const actionsOf = (p) => {
      const out = [];
      for (const a of (p && p.props && Array.isArray(p.props.attachments) ? p.props.attachments : [])) {
        for (const act of (a && Array.isArray(a.actions) ? a.actions : [])) out.push(act);
      }
      return out;
    };
    const pick = (p) => actionsOf(p).find((a) => (args.action_id === undefined || a.id === args.action_id) && (args.name === undefined || a.name === args.name));
    if (!post && !args.post_id) {
      const all = [...this.postStore.values()].sort((a, b) => b.create_at - a.create_at);
      post = all.find((p) => pick(p));
    }
    if (!post) throw new ControlError(404, { ok: false, error: 'post_not_found', post_id: args.post_id || null });
    const action = pick(post);
    if (!action) throw new ControlError(404, { ok: false, error: 'no_such_action', available: actionsOf(post).map((a) => ({ id: a.id, name: a.name })) });
    const integration = action.integration || {};
    if (typeof integration.url !== 'string' || !/^https?:\/\//.test(integration.url)) {
      throw new ControlError(400, { ok: false, error: 'action_without_http_integration_url', action });
    }
    const user = this.userArg(args.user || args.user_id, 'alice');
    const ch = this.channels.get(post.channel_id) || { id: post.channel_id, name: '', team_id: '' };
    const context = isObj(integration.context) ? clone(integration.context) : {};
    if (action.type === 'select' && args.selected_option !== undefined) context.selected_option = args.selected_option;
    const triggerId = Buffer.from(`${newId()}:${user.id}:${Date.now()}`).toString('base64');
    const request = {
      user_id: user.id,
      user_name: user.username,
      channel_id: ch.id,
      channel_name: ch.name,
      team_id: ch.team_id || c.team_id,
      team_domain: c.team_name,
      post_id: post.id,
      trigger_id: triggerId,
      type: action.type || 'button',
      data_source: action.data_source || '',
      context,
    };
    const click = {
      seq: ++this.seq, at: Date.now(), post_id: post.id, action_id: action.id, user_id: user.id, url: integration.url, request, status: null, response: null, error: null,
    };
    this.clickLog.push(click);
    let res;
    let text;
    try {
      res = await fetch(integration.url, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(request), signal: AbortSignal.timeout(Number(args.timeout_ms || 30000)),
      });
      text = await res.text();
    } catch (err) {
      click.error = `request failed: ${err.message}`;
      this.changed();
      return { ok: false, error: 'action_failed', detail: click.error, request };
    }
    click.status = res.status;
    let body = null;
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        click.error = 'response is not JSON';
      }
    }
    click.response = body === null ? text : body;
    if (res.status !== 200 || click.error) {
      click.error = click.error || `status ${res.status}`;
      this.changed();
      return { ok: false, error: 'action_failed', detail: click.error, status: res.status, request };
    }
    const deliveries = [];
    if (isObj(body) && isObj(body.update)) {
      const u = body.update;
      if (typeof u.message === 'string') post.message = u.message;
      if (u.props === null || u.props === undefined) {
        // keep the props
      } else if (isObj(u.props) && !Object.keys(u.props).length) {
        const keep = {};
        for (const k of ['override_username', 'override_icon_url', 'from_bot', 'from_webhook']) if (post.props[k] !== undefined) keep[k] = post.props[k];
        post.props = keep;
      } else if (isObj(u.props)) {
        post.props = { ...clone(u.props), ...(post.props.from_bot ? { from_bot: post.props.from_bot } : {}) };
      }
      const now = this.nowMs();
      post.update_at = now;
      post.edit_at = now;
      deliveries.push(...this.publishPost(post, 'post_edited'));
    }
    if (isObj(body) && typeof body.ephemeral_text === 'string' && body.ephemeral_text) {
      const now = this.nowMs();
      const eph = {
        id: newId(), create_at: now, update_at: now, edit_at: 0, delete_at: 0, user_id: post.user_id, channel_id: post.channel_id, root_id: post.root_id || post.id, message: body.ephemeral_text, type: 'system_ephemeral', props: {},
      };
      deliveries.push(...this.broadcast({ event: 'ephemeral_message', data: { post: JSON.stringify(M.postObject(eph)) }, broadcast: { user_id: user.id } }));
    }
    this.changed();
    return {
      ok: true, status: res.status, response: click.response, request, trigger_id: triggerId, post: this.clientPost(post), deliveries,
    };
  }

  // --------------------------------------------------- control: faults

  /** Open sockets named by `connection`: a socket number or a connection_id; default all open. */
  targets(args) {
    const t = args.connection ?? args.connection_id;
    if (t !== undefined && t !== null && t !== '') {
      const s = this.findSock(t);
      if (!s || s.state !== 'open') throw new ControlError(409, { ok: false, error: 'connection_not_open', connection: t });
      return [s];
    }
    const open = this.openSocks();
    if (!open.length) throw new ControlError(409, { ok: false, error: 'no_open_connection' });
    return open;
  }

  findSock(t) {
    if (typeof t === 'number' || /^\d+$/.test(String(t))) return this.socks.get(Number(t)) || null;
    const wc = this.wcs.get(String(t));
    return wc && wc.sock ? wc.sock : null;
  }

  async malformed(args = {}) {
    const kind = args.kind || 'non_json';
    const kinds = ['non_json', 'empty', 'truncated', 'binary', 'json_array', 'unknown_event', 'reply_unknown_seq', 'post_not_json', 'no_seq', 'raw'];
    if (!kinds.includes(kind)) throw new ControlError(400, { ok: false, error: 'unknown_malformed_kind', kinds });
    const socks = this.targets(args);
    const sent = [];
    for (const sock of socks) {
      const wc = sock.wc;
      switch (kind) {
        case 'non_json': this.writeRaw(sock, 'this is not JSON {'); break;
        case 'empty': this.writeRaw(sock, ''); break;
        case 'truncated': this.writeRaw(sock, '{"event": "posted", "data": {"channel_type": "O", "post": "{\\"id\\":\\"'); break;
        case 'binary': this.writeRaw(sock, Buffer.from([0x82, 0xa5, 0x65, 0x76, 0x65, 0x6e, 0x74, 0xff]), true); break;
        case 'json_array': this.writeRaw(sock, '[1,2,3]'); break;
        case 'reply_unknown_seq': this.writeRaw(sock, M.replyText({ status: 'OK', seq_reply: 99999 }, this.config.frame_style)); break;
        case 'no_seq': this.writeRaw(sock, JSON.stringify({ event: 'status_change', data: { status: 'online', user_id: sock.rec.user_id || '' }, broadcast: M.broadcastObject() })); break;
        case 'unknown_event':
        case 'post_not_json': {
          if (!wc) throw new ControlError(409, { ok: false, error: 'connection_not_authenticated', connection: sock.num });
          const ev = kind === 'unknown_event'
            ? { event: 'brand_new_event', data: { note: 'clients must ignore events they do not know' }, broadcast: { user_id: wc.user_id } }
            : {
              event: 'posted',
              data: {
                channel_display_name: 'Town Square', channel_name: 'town-square', channel_type: 'O', post: '{"id": "not closed', sender_name: '@alice', set_online: true, team_id: this.config.team_id,
              },
              broadcast: { channel_id: fixedId('chtownsquare') },
            };
          this.writeEvent(wc, ev); // takes a seq like any event
          break;
        }
        case 'raw': {
          let frame = args.frame;
          const binary = Boolean(args.binary);
          if (binary && typeof frame === 'string') frame = Buffer.from(frame, 'base64');
          else if (typeof frame !== 'string' && !Buffer.isBuffer(frame)) frame = JSON.stringify(frame);
          this.writeRaw(sock, frame, binary);
          break;
        }
        default: break;
      }
      sent.push(sock.num);
    }
    this.changed();
    return { ok: true, kind, connections: sent };
  }

  /**
   * Drops sockets: `reset` (TCP reset, no Close frame), `close` (Close frame
   * with `code`, default 1001), `ghost` (the socket stays open but the fake
   * neither writes nor reads on it: events are kept for replay, pings and
   * action replies stop). The Mattermost connection stays resumable.
   */
  async drop(args = {}) {
    const mode = args.mode || 'reset';
    if (!['reset', 'close', 'ghost'].includes(mode)) throw new ControlError(400, { ok: false, error: 'unknown_drop_mode', modes: ['reset', 'close', 'ghost'] });
    const socks = this.targets(args);
    for (const sock of socks) {
      if (mode === 'reset') {
        sock.rec.closed_by = 'drop';
        const s = sock.ws._socket;
        if (s && s.resetAndDestroy) s.resetAndDestroy();
        else sock.ws.terminate();
      } else if (mode === 'close') {
        sock.rec.closed_by = 'server';
        sock.ws.close(Number(args.code || 1001), String(args.reason || 'dropped by test'));
      } else {
        sock.ghost = true;
        sock.rec.ghost = true;
      }
    }
    this.changed();
    return { ok: true, mode, connections: socks.map((s) => s.num), connection_ids: socks.map((s) => (s.wc ? s.wc.id : null)) };
  }

  /**
   * Skips `count` sequence numbers on a connection: its next event carries a
   * seq the client does not expect. A client that resumes from there finds its
   * sequence number missing from the dead queue and gets a new connection ID
   * and hello, as on a real server.
   */
  async forceGap(args = {}) {
    const count = Number(args.count ?? 1);
    const socks = this.targets(args).filter((s) => s.wc);
    if (!socks.length) throw new ControlError(409, { ok: false, error: 'no_authenticated_connection' });
    for (const s of socks) s.wc.seq += count;
    const out = { ok: true, count, connections: socks.map((s) => s.num), connection_ids: socks.map((s) => s.wc.id) };
    if (args.send_event !== false) {
      // An event, so the client sees the gap at once.
      for (const s of socks) this.writeEvent(s.wc, { event: 'status_change', data: { status: 'online', user_id: s.wc.user_id }, broadcast: { user_id: s.wc.user_id } });
    }
    this.changed();
    return out;
  }

  /**
   * Forgets Mattermost connections (all, or `connection_id`), as after a long
   * absence or a server restart: a resume with the old ID gets a new ID and
   * hello. Open sockets are reset unless `drop` is false (then the state is
   * dropped when they close).
   */
  async forgetConnections(args = {}) {
    const drop = args.drop !== false;
    const list = args.connection_id ? [this.wcs.get(args.connection_id)].filter(Boolean) : [...this.wcs.values()];
    if (args.connection_id && !list.length) throw new ControlError(404, { ok: false, error: 'unknown_connection_id', connection_id: args.connection_id });
    const forgotten = [];
    for (const wc of list) {
      forgotten.push(wc.id);
      clearTimeout(wc.reapTimer);
      if (wc.sock && drop) {
        const sock = wc.sock;
        wc.forgotten = true;
        this.wcs.delete(wc.id);
        sock.rec.closed_by = 'drop';
        const s = sock.ws._socket;
        if (s && s.resetAndDestroy) s.resetAndDestroy();
        else sock.ws.terminate();
      } else if (wc.sock) {
        wc.forgotten = true;
      } else {
        this.wcs.delete(wc.id);
      }
    }
    this.changed();
    return { ok: true, forgotten };
  }

  /** A server restart: every socket reset, every connection forgotten. */
  async restart() {
    const closed = this.openSocks().map((s) => s.num);
    const res = await this.forgetConnections({ drop: true });
    for (const sock of this.openSocks()) {
      sock.rec.closed_by = 'drop';
      sock.ws.terminate();
    }
    return { ok: true, forgotten: res.forgotten, connections: closed };
  }

  async refuseConnections(args = {}) {
    this.refusals.push({ status: Number(args.status || 503), remaining: Number(args.count ?? 1) });
    return { ok: true };
  }

  checkEndpoint(e) {
    if (!e) throw new ControlError(400, { ok: false, error: 'endpoint_required', endpoints: ['*', ...ENDPOINTS] });
    if (e !== '*' && !ENDPOINTS.includes(e)) throw new ControlError(400, { ok: false, error: 'unknown_endpoint', endpoint: e, endpoints: ['*', ...ENDPOINTS] });
  }

  /** The next `count` calls of `endpoint` get 429 with a plain-text body and rate-limit headers. */
  async rateLimit(args = {}) {
    this.checkEndpoint(args.endpoint);
    this.faults.push({
      kind: 'rate_limit', endpoint: args.endpoint, remaining: Number(args.count ?? 1), retry_after: Number(args.retry_after ?? 1), delay_ms: 0,
    });
    return { ok: true };
  }

  /** The next `count` calls of `endpoint` fail: `status` (AppError body or `body`), `reset` (connection dropped), or just `delay_ms`. */
  async fail(args = {}) {
    this.checkEndpoint(args.endpoint);
    if (!args.status && !args.reset && !args.delay_ms) throw new ControlError(400, { ok: false, error: 'status_reset_or_delay_ms_required' });
    this.faults.push({
      kind: 'fail',
      endpoint: args.endpoint,
      remaining: Number(args.count ?? 1),
      status: args.status ? Number(args.status) : null,
      id: args.id,
      body: args.body,
      reset: Boolean(args.reset),
      delay_ms: Number(args.delay_ms || 0),
    });
    return { ok: true };
  }

  // ---------------------------------------------------- control: settings

  async info() {
    const c = this.config;
    return {
      ok: true,
      url: this.url,
      api: this.apiUrl,
      ws: this.wsUrl,
      control: this.controlUrl,
      tls: Boolean(this.tls),
      bot_token: c.bot_token,
      bot_user_id: c.bot_user_id,
      bot_username: c.bot_username,
      team_id: c.team_id,
      users: this.allUsers().map((u) => ({ ...u })),
      channels: [...this.channels.values()].map((ch) => ({ ...ch, members: [...ch.members] })),
      endpoints: ENDPOINTS,
    };
  }

  async configure(args) {
    if (args && Object.keys(args).length) this.config = this.checkConfig({ ...this.config, ...args });
    return { ok: true, config: { ...this.config } };
  }

  async reset(args = {}) {
    if (args.close_connections) {
      for (const s of this.socks.values()) {
        this.clearSockTimers(s);
        s.ws.terminate();
      }
      for (const wc of this.wcs.values()) clearTimeout(wc.reapTimer);
      this.wcs.clear();
    }
    this.clearState();
    this.changed();
    return { ok: true };
  }

  async addUser(args = {}) {
    if (!args.username) throw new ControlError(400, { ok: false, error: 'username_required' });
    if (args.id !== undefined && !isValidId(args.id)) throw new ControlError(400, { ok: false, error: 'id_must_be_26_alphanumerics' });
    const u = { id: args.id || newId(), ...args };
    u.id = u.id || newId();
    this.users.set(u.id, u);
    for (const chId of args.channels || []) {
      const ch = this.resolveChannel(chId);
      if (ch && !ch.members.includes(u.id)) ch.members.push(u.id);
    }
    return { ok: true, user: u };
  }

  async addChannel(args = {}) {
    if (!['O', 'P', 'D', 'G'].includes(args.type)) throw new ControlError(400, { ok: false, error: 'type_must_be_O_P_D_or_G' });
    if (args.id !== undefined && !isValidId(args.id)) throw new ControlError(400, { ok: false, error: 'id_must_be_26_alphanumerics' });
    const members = (args.members || [this.config.bot_user_id]).map((m) => this.userArg(m).id);
    let name = args.name;
    if (!name && args.type === 'D') name = M.directChannelName(members[0], members[1] || members[0]);
    if (!name && args.type === 'G') name = M.groupChannelName(members);
    if (!name) throw new ControlError(400, { ok: false, error: 'name_required' });
    const ch = {
      id: args.id || newId(), type: args.type, name, display_name: args.display_name || '', team_id: ['D', 'G'].includes(args.type) ? '' : (args.team_id || this.config.team_id), members,
    };
    this.channels.set(ch.id, ch);
    return { ok: true, channel: ch };
  }

  async addMember(args = {}) {
    const ch = this.channelArg(args, null);
    const u = this.userArg(args.user || args.user_id, this.config.bot_user_id);
    if (!ch.members.includes(u.id)) ch.members.push(u.id);
    return { ok: true, channel_id: ch.id, members: [...ch.members] };
  }

  async removeMember(args = {}) {
    const ch = this.channelArg(args, null);
    const u = this.userArg(args.user || args.user_id, this.config.bot_user_id);
    ch.members = ch.members.filter((m) => m !== u.id);
    return { ok: true, channel_id: ch.id, members: [...ch.members] };
  }

  // ---------------------------------------------------- control: bench

  /**
   * Benchmarks (tests/bench/bench_mm.py): injects `count` posts at `rate`
   * per second, paced here so that the driver's own speed does not matter,
   * round robin over `channels` and `users`; `text` has `{i}` replaced by
   * the post's index. Answers at once; `bench_report` says when each
   * `posted` event was written to the bot (process.hrtime, microseconds).
   */
  async benchInject(args = {}) {
    const rate = Number(args.rate);
    const count = Number(args.count);
    const tag = String(args.tag || '');
    const channels = (Array.isArray(args.channels) && args.channels.length ? args.channels : ['town-square'])
      .map((c) => this.channelArg({ channel: String(c) }).id);
    const users = Array.isArray(args.users) && args.users.length ? args.users.map(String) : ['alice'];
    const text = typeof args.text === 'string' ? args.text : 'ping {i}';
    if (!tag || !(rate > 0) || !Number.isInteger(count) || count < 0 || count > 1e6) {
      throw new ControlError(400, { ok: false, error: 'tag_rate_count_required' });
    }
    if (this.benchRuns.has(tag)) throw new ControlError(409, { ok: false, error: 'tag_in_use', tag });
    const bot = this.config.bot_user_id;
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
        // injectPost has no await: the events are written (and logged)
        // before it returns.
        const k0 = this.eventLog.length;
        this.injectPost({
          channel: channels[i % channels.length], user: users[i % users.length], message: text.split('{i}').join(String(i)),
        }).catch((err) => run.errors.push(String(err && err.message)));
        const ev = this.eventLog.slice(k0).find((e) => e.user_id === bot && e.event === 'posted' && e.written);
        run.items.push([i, ev ? ev.hr_us : null]);
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

  /** A bench run's progress and timings: sent = [[i, sent_hr_us, null, 1], ...]. */
  async benchReport(args = {}) {
    const run = this.benchRuns.get(String(args.tag));
    if (!run) throw new ControlError(404, { ok: false, error: 'unknown_tag', tag: args.tag });
    const lags = [...run.lags].sort((a, b) => a - b);
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
      sent: run.items.map(([i, hr]) => [i, hr, null, hr === null ? 0 : 1]),
    };
  }

  /** The bot's posts after seq `since` (0: all), compactly: posts = [[seq, hr_us, channel_id, message], ...]. */
  async benchPosts(args = {}) {
    const since = Number(args.since || 0);
    const posts = [];
    for (let k = this.postLog.length - 1; k >= 0 && this.postLog[k].seq > since; k--) {
      const p = this.postLog[k];
      posts.push([p.seq, p.hr_us, p.channel_id, p.message]);
    }
    posts.reverse();
    return { ok: true, now_hr_us: hrUs(), last_seq: this.seq, posts };
  }

  // ---------------------------------------------------- control: records

  records(kind) {
    switch (kind) {
      case 'posts': return this.postLog;
      case 'updates': return this.updateLog;
      case 'calls': return this.callLog;
      case 'connections': return this.connLog;
      case 'events': return this.eventLog;
      case 'actions': return this.actionLog;
      case 'errors': return this.errorLog;
      case 'clicks': return this.clickLog;
      case 'messages': return [...this.postStore.values()].sort((a, b) => a.create_at - b.create_at);
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
  FakeMattermost.prototype[kind] = async function list(args = {}) { return this.select(kind, args); };
  FakeMattermost.prototype[camel(`wait_${kind}`)] = function wait(args = {}) { return this.wait(kind, args); };
}

const USAGE = `usage: node fake_mattermost.js [--port N] [--control-port N] [--host 127.0.0.1]
                              [--tls-cert FILE --tls-key FILE] [--print-errors]
                              [--<config_key> VALUE ...]   e.g. --ping-interval-ms 2000 --verbose
Prints one JSON line {"url": ..., "api": ..., "ws": ..., "control": ..., "bot_token": ...}
on stdout, then serves until SIGTERM/SIGINT or until its stdin (if a pipe) is closed.
`;

async function startFromCli(opts) {
  const fake = new FakeMattermost({ print_errors: true, ...opts });
  await fake.start();
  const info = await fake.info();
  return {
    fake,
    info: {
      url: info.url,
      api: info.api,
      ws: info.ws,
      control: info.control,
      tls: info.tls,
      bot_token: info.bot_token,
      bot_user_id: info.bot_user_id,
      bot_username: info.bot_username,
      team_id: info.team_id,
      pid: process.pid,
    },
  };
}

module.exports = {
  FakeMattermost, DEFAULT_CONFIG, DEFAULT_USERS, DEFAULT_CHANNELS, CONTROL_ROUTES, ENDPOINTS, USERS: U,
};

if (require.main === module) {
  runCli(startFromCli, USAGE).catch((err) => {
    process.stderr.write(`fake_mattermost: ${err.stack}\n`);
    process.exit(1);
  });
}
