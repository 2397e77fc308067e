'use strict';
// Long-poll support: a test asks "wait until N records match", the fake calls
// notify() after every change, and the waiter resolves as soon as it holds.
const { ControlError } = require('./http_util');

class Waiters {
  constructor() {
    this.pending = new Set();
  }

  /**
   * Resolves with `select()` once `select().length >= count`; rejects with a
   * ControlError 408 (body {ok:false, error:'timeout', count, items}) after
   * timeoutMs.
   */
  waitCount(select, count, timeoutMs) {
    const n = Number(count ?? 1);
    const now = select();
    if (now.length >= n) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          const items = select();
          if (items.length < n) return false;
          this.pending.delete(w);
          clearTimeout(w.timer);
          resolve(items);
          return true;
        },
        cancel: (err) => {
          this.pending.delete(w);
          clearTimeout(w.timer);
          reject(err);
        },
      };
      w.timer = setTimeout(() => {
        const items = select();
        w.cancel(new ControlError(408, {
          ok: false, error: 'timeout', wanted: n, count: items.length, items,
        }));
      }, Number(timeoutMs ?? 5000));
      this.pending.add(w);
    });
  }

  notify() {
    for (const w of [...this.pending]) w.check();
  }

  cancelAll(reason = 'server_stopped') {
    for (const w of [...this.pending]) w.cancel(new ControlError(503, { ok: false, error: reason }));
  }
}

module.exports = { Waiters };
