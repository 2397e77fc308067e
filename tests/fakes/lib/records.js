'use strict';
// records.js - small helpers both fakes share: a monotonic microsecond clock
// for the benchmarks, PEM loading for TLS options, and record filtering for
// the control API's GET endpoints.

const fs = require('node:fs');

// Monotonic high-resolution clock in microseconds (for the benchmarks).
const hrUs = () => Number(process.hrtime.bigint()) / 1000;

/** PEM text as given, or read from the path given; undefined for none. */
function pem(v) {
  if (!v) return undefined;
  const s = Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  return s.includes('-----BEGIN') ? s : fs.readFileSync(s, 'utf8');
}

/** Matches a record against filters given as strings (query) or values (JSON). */
function matches(rec, filters) {
  for (const [k, want] of Object.entries(filters)) {
    if (want === undefined || want === null) continue;
    if (String(rec[k]) !== String(want)) return false;
  }
  return true;
}

module.exports = { hrUs, pem, matches };
