'use strict';
// The control interface of a fake: plain HTTP, JSON in and out, one route per
// method of the fake. GET arguments come from the query string, POST ones from
// a JSON body (an empty body is {}).
const http = require('node:http');
const { ControlError, readBody, sendJson, listen, closeServer } = require('./http_util');

/**
 * routes: { name: { methods: ['GET'|'POST', ...], fn: async (args) => result } }
 * served as `/control/<name>`. Returns {server, port, close()}.
 */
async function startControlServer(routes, { host = '127.0.0.1', port = 0, log = () => {} } = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://control');
    const m = /^\/control\/([a-z_]+)\/?$/.exec(url.pathname);
    const route = m && Object.prototype.hasOwnProperty.call(routes, m[1]) ? routes[m[1]] : null;
    if (!route) {
      sendJson(res, 404, { ok: false, error: 'unknown_control_endpoint', endpoints: Object.keys(routes).sort() });
      return;
    }
    if (!route.methods.includes(req.method)) {
      sendJson(res, 405, { ok: false, error: 'method_not_allowed', allowed: route.methods });
      return;
    }
    try {
      let args = {};
      if (req.method === 'GET') {
        for (const [k, v] of url.searchParams) args[k] = v;
      } else {
        const raw = (await readBody(req)).toString('utf8').trim();
        if (raw) {
          try {
            args = JSON.parse(raw);
          } catch (e) {
            throw new ControlError(400, { ok: false, error: 'invalid_json', detail: e.message });
          }
          if (args === null || typeof args !== 'object' || Array.isArray(args)) {
            throw new ControlError(400, { ok: false, error: 'body_must_be_a_json_object' });
          }
        }
      }
      const result = await route.fn(args);
      sendJson(res, 200, result === undefined ? { ok: true } : result);
    } catch (err) {
      if (err instanceof ControlError) {
        sendJson(res, err.status, err.body);
      } else {
        log(`control ${m[1]} failed: ${err && err.stack}`);
        sendJson(res, 500, { ok: false, error: 'internal', detail: String(err && err.message) });
      }
    }
  });
  const bound = await listen(server, port, host);
  return { server, port: bound, close: () => closeServer(server) };
}

module.exports = { startControlServer };
