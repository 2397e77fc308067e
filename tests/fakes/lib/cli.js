'use strict';
// Running a fake as a program: parse --options, start it, print one JSON line
// with its addresses on stdout, run until SIGTERM/SIGINT or until stdin (when
// it is a pipe or socket) reaches end of file.
const fs = require('node:fs');

/**
 * Parses `--some-key value`, `--some-key=value` and bare `--flag` into
 * {some_key: value}. Values that parse as JSON (numbers, booleans, arrays,
 * objects) are decoded; others stay strings.
 */
function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      out.help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    let key = a.slice(2);
    let val;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      val = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) {
      val = argv[++i];
    } else {
      val = 'true';
    }
    key = key.replace(/-/g, '_');
    try {
      out[key] = JSON.parse(val);
    } catch {
      out[key] = val;
    }
  }
  return out;
}

function stdinIsPipe() {
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

/**
 * start(options) must resolve with {fake, info} where info is the object
 * printed on stdout and fake has an async stop().
 */
async function runCli(start, usage, argv = process.argv.slice(2)) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write(usage);
    return;
  }
  const { fake, info } = await start(opts);
  process.stdout.write(`${JSON.stringify(info)}\n`);
  let stopping = false;
  const stop = async (why) => {
    if (stopping) return;
    stopping = true;
    if (opts.verbose) process.stderr.write(`fake: stopping (${why})\n`);
    await fake.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (stdinIsPipe()) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
    process.stdin.resume();
  }
}

module.exports = { parseArgs, runCli };
