'use strict';
// Small HTTP helpers shared by the fake chat servers (Slack, Mattermost).

/** An error a control or API handler throws to answer with a given status and JSON body. */
class ControlError extends Error {
  constructor(status, body) {
    super(typeof body === 'string' ? body : (body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = typeof body === 'string' ? { ok: false, error: body } : body;
  }
}

/** Reads a request body into a Buffer (rejects above `limit` bytes). */
function readBody(req, limit = 8 * 1024 * 1024) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        reject(new ControlError(413, 'body_too_large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj, headers = {}) {
  const body = Buffer.from(JSON.stringify(obj));
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
    ...headers,
  });
  res.end(body);
}

/** Media type of a request without parameters, lower case ('' if absent). */
function mediaType(req) {
  return String(req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
}

/** Parameters of the Content-Type header, e.g. {charset: 'utf-8'}. */
function mediaParams(req) {
  const out = {};
  for (const part of String(req.headers['content-type'] || '').split(';').slice(1)) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim().toLowerCase()] = part.slice(i + 1).trim().replace(/^"|"$/g, '');
  }
  return out;
}

/** Promise-based listen: resolves with the bound port. */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      resolve(server.address().port);
    });
  });
}

/** Closes a server and every connection it still holds. */
function closeServer(server) {
  return new Promise((resolve) => {
    if (!server || !server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    if (server.closeAllConnections) server.closeAllConnections();
  });
}

module.exports = { ControlError, readBody, sendJson, mediaType, mediaParams, listen, closeServer };
