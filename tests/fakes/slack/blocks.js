'use strict';
// Block Kit checks the fake applies to chat.postMessage / chat.update, with
// Slack's error style: "<message> [json-pointer:/blocks/0/text/text]".
// Limits: docs.slack.dev block reference (50 blocks per message, 3000 chars of
// section text, 25 elements per actions block, button text 75, action_id 255,
// value 2000, block_id 255).
const crypto = require('node:crypto');

const KNOWN_BLOCKS = new Set([
  'actions', 'context', 'divider', 'file', 'header', 'image', 'input', 'markdown',
  'rich_text', 'section', 'video', 'table', 'context_actions',
]);

function isObj(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function checkText(errs, t, ptr, { plainOnly = false, max = 3000 } = {}) {
  if (!isObj(t)) {
    errs.push(`must provide an object [json-pointer:${ptr}]`);
    return;
  }
  const types = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (!types.includes(t.type)) errs.push(`must be one of ${types.join(', ')} [json-pointer:${ptr}/type]`);
  if (typeof t.text !== 'string' || t.text.length === 0) {
    errs.push(`must be more than 0 characters [json-pointer:${ptr}/text]`);
  } else if ([...t.text].length > max) {
    errs.push(`must be less than ${max + 1} characters [json-pointer:${ptr}/text]`);
  }
}

function checkButton(errs, el, ptr) {
  checkText(errs, el.text, `${ptr}/text`, { plainOnly: true, max: 75 });
  if (el.action_id !== undefined && (typeof el.action_id !== 'string' || el.action_id.length > 255)) {
    errs.push(`must be a string of at most 255 characters [json-pointer:${ptr}/action_id]`);
  }
  if (el.value !== undefined && (typeof el.value !== 'string' || el.value.length > 2000)) {
    errs.push(`must be a string of at most 2000 characters [json-pointer:${ptr}/value]`);
  }
  if (el.style !== undefined && !['primary', 'danger'].includes(el.style)) {
    errs.push(`must be one of primary, danger [json-pointer:${ptr}/style]`);
  }
}

/** Returns a list of error strings (empty when the blocks are acceptable). */
function validateBlocks(blocks) {
  const errs = [];
  if (!Array.isArray(blocks)) return ['must provide an array [json-pointer:/blocks]'];
  if (blocks.length > 50) errs.push('no more than 50 items allowed [json-pointer:/blocks]');
  const ids = new Set();
  blocks.forEach((b, i) => {
    const ptr = `/blocks/${i}`;
    if (!isObj(b)) {
      errs.push(`must provide an object [json-pointer:${ptr}]`);
      return;
    }
    if (!KNOWN_BLOCKS.has(b.type)) {
      errs.push(`unsupported type: ${b.type} [json-pointer:${ptr}/type]`);
      return;
    }
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > 255) {
        errs.push(`must be a string of at most 255 characters [json-pointer:${ptr}/block_id]`);
      } else if (ids.has(b.block_id)) {
        errs.push(`duplicate block_id [json-pointer:${ptr}/block_id]`);
      }
      ids.add(b.block_id);
    }
    if (b.type === 'section') {
      if (b.text === undefined && b.fields === undefined) {
        errs.push(`must provide text or fields [json-pointer:${ptr}]`);
      }
      if (b.text !== undefined) checkText(errs, b.text, `${ptr}/text`);
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length > 10) {
          errs.push(`must provide an array of at most 10 items [json-pointer:${ptr}/fields]`);
        } else {
          b.fields.forEach((f, j) => checkText(errs, f, `${ptr}/fields/${j}`, { max: 2000 }));
        }
      }
    } else if (b.type === 'header') {
      checkText(errs, b.text, `${ptr}/text`, { plainOnly: true, max: 150 });
    } else if (b.type === 'actions') {
      if (!Array.isArray(b.elements) || b.elements.length === 0) {
        errs.push(`must provide a non-empty array [json-pointer:${ptr}/elements]`);
      } else {
        if (b.elements.length > 25) errs.push(`no more than 25 items allowed [json-pointer:${ptr}/elements]`);
        const actionIds = new Set();
        b.elements.forEach((el, j) => {
          const eptr = `${ptr}/elements/${j}`;
          if (!isObj(el) || typeof el.type !== 'string') {
            errs.push(`must provide an element object [json-pointer:${eptr}]`);
            return;
          }
          if (el.type === 'button') checkButton(errs, el, eptr);
          if (typeof el.action_id === 'string') {
            if (actionIds.has(el.action_id)) errs.push(`duplicate action_id [json-pointer:${eptr}/action_id]`);
            actionIds.add(el.action_id);
          }
        });
      }
    } else if (b.type === 'context') {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) {
        errs.push(`must provide an array of 1 to 10 items [json-pointer:${ptr}/elements]`);
      }
    }
  });
  return errs;
}

function randomId(n = 5) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (const b of bytes) s += abc[b % abc.length];
  return s;
}

/**
 * The blocks as Slack stores and echoes them: every block gets a block_id,
 * button and header plain_text gets "emoji": true, action elements without
 * action_id get a random one.
 */
function normalizeBlocks(blocks) {
  return blocks.map((b) => {
    const out = JSON.parse(JSON.stringify(b));
    if (out.block_id === undefined) out.block_id = randomId(4);
    if (out.type === 'actions' && Array.isArray(out.elements)) {
      for (const el of out.elements) {
        if (el.action_id === undefined) el.action_id = randomId(4);
        if (el.text && el.text.type === 'plain_text' && el.text.emoji === undefined) el.text.emoji = true;
      }
    }
    if (out.type === 'header' && out.text && out.text.emoji === undefined) out.text.emoji = true;
    return out;
  });
}

/** The rich_text block a Slack client attaches to a message typed by a human. */
function richTextFor(text) {
  return [{
    type: 'rich_text',
    block_id: randomId(4),
    elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
  }];
}

module.exports = { validateBlocks, normalizeBlocks, richTextFor, randomId };
