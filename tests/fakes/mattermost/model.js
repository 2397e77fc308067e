'use strict';
// Mattermost data shapes for the fake server: IDs, users, channels, posts,
// AppError bodies and websocket frames, written from
// shared/protocols/mattermost.md (§1.5, §1.7, §2, §3).
const crypto = require('node:crypto');

// model.NewId(): 16 random bytes in base32 with this alphabet, 26 characters.
const ID_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';

function newId() {
  const bytes = crypto.randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ID_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ID_ALPHABET[(value << (5 - bits)) & 31];
  return out; // 26 characters
}

/** model.IsValidId: 26 letters or digits. */
function isValidId(s) {
  return typeof s === 'string' && /^[A-Za-z0-9]{26}$/.test(s);
}

/** A readable fixed ID: `prefix` padded with zeros to 26 characters. */
function fixedId(prefix) {
  const id = prefix.padEnd(26, '0');
  if (!isValidId(id)) throw new Error(`bad fixed id ${id}`);
  return id;
}

/** Name of a group message channel: sha1 hex of the sorted member IDs. */
function groupChannelName(userIds) {
  const h = crypto.createHash('sha1');
  for (const id of [...userIds].sort()) h.update(id);
  return h.digest('hex');
}

/** Name of a direct channel: the two user IDs, sorted, joined by "__". */
function directChannelName(a, b) {
  return [a, b].sort().join('__');
}

/** Code points, as utf8.RuneCountInString counts them. */
function runeCount(s) {
  let n = 0;
  for (const _ of String(s)) n += 1; // eslint-disable-line no-unused-vars
  return n;
}

/** A copy of a plain object with its keys sorted (Go marshals maps so). */
function sortedKeys(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return obj;
  const out = {};
  for (const k of Object.keys(obj).sort()) out[k] = obj[k];
  return out;
}

// Messages of the AppErrors the fake returns (the real text is localised;
// clients match on `id`).
const ERROR_TEXT = {
  'api.context.session_expired.app_error': 'Invalid or expired session, please login again.',
  'api.context.token_provided.app_error': 'Session is not OAuth but token was provided in the query string.',
  'api.context.permissions.app_error': 'You do not have the appropriate permissions.',
  'api.context.404.app_error': 'Sorry, we could not find the page.',
  'api.context.invalid_body_param.app_error': 'Invalid or missing {{.Name}} in request body.',
  'api.context.invalid_param.app_error': 'Invalid {{.Name}} parameter.',
  'api.context.invalid_url_param.app_error': 'Invalid or missing {{.Name}} parameter in request URL.',
  'model.post.is_valid.message_length.app_error': 'Post Message property is longer than the maximum permitted length.',
  'model.post.is_valid.file_ids.app_error': 'Invalid file ids. Note that uploads are limited to 10 files maximum. Please use additional posts for more files.',
  'api.post.create_post.root_id.app_error': 'Invalid RootId parameter.',
  'api.post.create_post.channel_root_id.app_error': 'Invalid ChannelId for RootId parameter.',
  'app.post.get.app_error': 'Unable to get the post.',
  'api.post.update_post.find.app_error': "We couldn't find the existing post or comment to update.",
  'app.channel.get.existing.app_error': 'Unable to find the existing channel.',
  'app.user.missing_account.const': 'Unable to find the user.',
  'api.channel.create_direct_channel.invalid_user.app_error': 'Invalid user ID for direct channel creation.',
  'api.config.client.old_format.app_error': 'New format for the client configuration is not supported yet. Please specify format=old in the query string.',
  'api.fake.injected_failure': 'We encountered an error. Please try again.',
  'api.web_socket_router.no_action.app_error': 'No websocket action.',
  'api.web_socket_router.bad_seq.app_error': 'Invalid sequence for WebSocket message.',
  'api.web_socket_router.bad_action.app_error': 'Unknown WebSocket action.',
  'api.websocket_handler.invalid_param.app_error': 'Invalid {{.Name}} parameter.',
};

/** An AppError body (§3.6). */
function appError(id, status, { requestId, name, detailed = '' } = {}) {
  let message = ERROR_TEXT[id] || id;
  if (name) message = message.replace('{{.Name}}', name);
  if (status >= 500 && id !== 'api.fake.injected_failure' && !id.startsWith('api.web')) {
    message = 'We encountered an error. Please try again.';
  }
  const body = { id, message, detailed_error: detailed };
  if (requestId) body.request_id = requestId;
  body.status_code = status;
  return body;
}

/** The user object of GET /users/{id} (server/public/model/user.go). */
function userObject(u, { self = false } = {}) {
  const out = {
    id: u.id,
    create_at: 1700000000000,
    update_at: 1700000000000,
    delete_at: u.delete_at || 0,
    username: u.username,
    auth_data: '',
    auth_service: '',
    email: self || u.show_email ? (u.email || `${u.username}@localhost`) : '',
    nickname: u.nickname || '',
    first_name: u.first_name || '',
    last_name: u.last_name || '',
    position: u.position || '',
    roles: u.roles || 'system_user',
    props: {},
    locale: 'en',
    timezone: { automaticTimezone: '', manualTimezone: '', useAutomaticTimezone: 'true' },
    disable_welcome_email: false,
  };
  if (self) {
    out.notify_props = {
      channel: 'true', comments: 'never', desktop: 'mention', desktop_sound: 'true', email: 'true', first_name: 'false',
      mention_keys: '', push: 'mention', push_status: 'away',
    };
    out.last_password_update = 1700000000000;
  }
  if (u.is_bot) {
    out.is_bot = true;
    out.bot_description = u.bot_description || '';
  }
  return out;
}

/** The channel object of GET /channels/{id} (server/public/model/channel.go). */
function channelObject(ch) {
  return {
    id: ch.id,
    create_at: 1700000000000,
    update_at: 1700000000000,
    delete_at: ch.delete_at || 0,
    team_id: ch.team_id || '',
    type: ch.type,
    display_name: ch.display_name || '',
    name: ch.name,
    header: ch.header || '',
    purpose: ch.purpose || '',
    last_post_at: ch.last_post_at || 0,
    total_msg_count: ch.total_msg_count || 0,
    extra_update_at: 0,
    creator_id: ch.creator_id || '',
    scheme_id: null,
    props: null,
    group_constrained: null,
    shared: null,
    total_msg_count_root: ch.total_msg_count_root || 0,
    policy_id: null,
    last_root_post_at: ch.last_root_post_at || 0,
  };
}

/** Removes `integration` (URL and context) from attachment actions (StripActionIntegrations). */
function stripIntegrations(props) {
  if (!props || !Array.isArray(props.attachments)) return props;
  const out = { ...props };
  out.attachments = props.attachments.map((a) => {
    if (!a || !Array.isArray(a.actions)) return a;
    return {
      ...a,
      actions: a.actions.map((act) => {
        if (!act || typeof act !== 'object') return act;
        const copy = { ...act };
        delete copy.integration;
        return copy;
      }),
    };
  });
  return out;
}

/**
 * The post as clients see it (REST answers and websocket events), keys in the
 * order of model.Post; `props` sorted as Go marshals a map.
 */
function postObject(p, { replyCount = 0, lastReplyAt = 0 } = {}) {
  const out = {
    id: p.id,
    create_at: p.create_at,
    update_at: p.update_at,
    edit_at: p.edit_at,
    delete_at: p.delete_at,
    is_pinned: Boolean(p.is_pinned),
    user_id: p.user_id,
    channel_id: p.channel_id,
    root_id: p.root_id || '',
    original_id: '',
    message: p.message,
    type: p.type || '',
    props: sortedKeys(stripIntegrations(p.props || {})),
    hashtags: p.hashtags || '',
    file_ids: p.file_ids || [],
    pending_post_id: p.pending_post_id || '',
    reply_count: replyCount,
    last_reply_at: lastReplyAt,
    participants: null,
    metadata: {},
  };
  if (p.remote_id) out.remote_id = p.remote_id;
  return out;
}

function broadcastObject(b = {}) {
  return {
    omit_users: b.omit_users || null,
    user_id: b.user_id || '',
    channel_id: b.channel_id || '',
    team_id: b.team_id || '',
    connection_id: b.connection_id || '',
    omit_connection_id: b.omit_connection_id || '',
  };
}

/**
 * Serialises an event as the server writes it (§1.7). style:
 *  - 'real': broadcast events in the precomputed form
 *    `{"event": "posted", "data": {...}, "broadcast": {...}, "seq": 5}` (no
 *    newline), other events (hello) compact with a trailing newline;
 *  - 'compact': plain JSON.stringify;
 *  - 'pretty': indented JSON over several lines, with a trailing newline.
 */
function eventText(ev, seq, style) {
  const data = sortedKeys(ev.data || {});
  const broadcast = broadcastObject(ev.broadcast);
  if (style === 'compact') return JSON.stringify({ event: ev.event, data, broadcast, seq });
  if (style === 'pretty') return `${JSON.stringify({ event: ev.event, data, broadcast, seq }, null, 2)}\n`;
  if (ev.precomputed === false) return `${JSON.stringify({ event: ev.event, data, broadcast, seq })}\n`;
  return `{"event": ${JSON.stringify(ev.event)}, "data": ${JSON.stringify(data)}, "broadcast": ${JSON.stringify(broadcast)}, "seq": ${seq}}`;
}

/** A reply to an action (§1.6): status, seq_reply, data / error only when set; no event, no seq. */
function replyText(reply, style) {
  const out = { status: reply.status };
  if (reply.seq_reply) out.seq_reply = reply.seq_reply;
  if (reply.data !== undefined) out.data = reply.data;
  if (reply.error !== undefined) out.error = reply.error;
  if (style === 'compact') return JSON.stringify(out);
  if (style === 'pretty') return `${JSON.stringify(out, null, 2)}\n`;
  return `${JSON.stringify(out)}\n`;
}

module.exports = {
  newId,
  isValidId,
  fixedId,
  groupChannelName,
  directChannelName,
  runeCount,
  sortedKeys,
  appError,
  userObject,
  channelObject,
  stripIntegrations,
  postObject,
  broadcastObject,
  eventText,
  replyText,
};
