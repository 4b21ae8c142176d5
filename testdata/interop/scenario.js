#!/usr/bin/env node
'use strict';
// Drives one of Twilio's real JavaScript clients through one scenario against
// a Twilsock server and prints what the client did, one JSON line per event:
//
//   {"t_ms": 12.3, "kind": "state"|"event"|"driver", "name": "...", "data": ...}
//
// then one summary line {"kind": "summary", "data": {ok, scenario, states, events, error}}.
//
// Usage:
//   CONVCTL_INTEROP_SECRET=... node scenario.js NAME --url ws://127.0.0.1:PORT/v3/wsconnect
//       [--ttl SECONDS] [--timeout-ms MS]
//   node scenario.js --list          scenario names and what each proves, as JSON
//
// Exit codes: 0 the scenario ran to its end; 1 something the scenario waited for
// never came (the summary says what); 2 usage; 3 the hard timeout fired.
// The process always exits by itself: the hard timeout (default 30 s) ends it
// whatever the SDK is doing.

const { Recorder, TimeoutError } = require('./lib/recorder');
const { mint, wrongSecret, SECRET_ENV } = require('./lib/tokens');
const clients = require('./lib/clients');
const control = require('./lib/control');
const { scenarios } = require('./lib/scenarios');

const ACT_TIMEOUT_MS = 10000;
const CLEANUP_TIMEOUT_MS = 5000;
const DRAIN_MS = 25;

function usage(msg) {
  process.stderr.write(`scenario.js: ${msg}\nusage: node scenario.js NAME --url WS_URL [--ttl S] [--timeout-ms MS] | --list\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { timeoutMs: 30000 };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const int = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) usage(`${a}: not an integer: ${v}`);
      return n;
    };
    switch (a) {
      case '--list': opts.list = true; break;
      case '--url': opts.url = val(); break;
      case '--ttl': opts.ttl = int(val()); break;
      case '--timeout-ms': opts.timeoutMs = int(val()); break;
      default:
        if (a.startsWith('-')) usage(`unknown flag ${a}`);
        rest.push(a);
    }
  }
  if (opts.list) return opts;
  if (rest.length !== 1) usage('exactly one scenario NAME');
  opts.scenario = rest[0];
  if (!opts.url) usage('--url is required');
  return opts;
}

function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

function errMessage(e) {
  return e && e.message ? e.message : String(e);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    const list = Object.entries(scenarios).map(([name, s]) => ({ name, client: s.client, about: s.about }));
    process.stdout.write(JSON.stringify(list) + '\n');
    process.exit(0);
  }
  const sc = scenarios[opts.scenario];
  if (!sc) usage(`unknown scenario ${JSON.stringify(opts.scenario)} (try --list)`);
  const secret = process.env[SECRET_ENV];
  if (!secret) usage(`${SECRET_ENV} is not set`);

  clients.load(sc.client);
  const rec = new Recorder();
  let handle = null;
  let finished = false;

  const finish = (code, fields) => {
    if (finished) return;
    finished = true;
    const line = JSON.stringify(rec.summary({ scenario: opts.scenario, client: sc.client, ok: code === 0, ...fields })) + '\n';
    // Exit only once the last line is flushed, whatever kind of stream stdout is.
    process.stdout.write(line, () => process.exit(code));
  };

  // The hard bound: whatever state the SDK is stuck in, the process ends.
  setTimeout(() => finish(3, { error: `hard timeout after ${opts.timeoutMs} ms` }), opts.timeoutMs);

  // An unhandled rejection inside the SDK would otherwise kill the process
  // (docs/protocol.md, "The Conversations client on top"); record it so the test can fail on it.
  process.on('unhandledRejection', (reason) => rec.event('unhandledRejection', { message: errMessage(reason) }));
  process.on('uncaughtException', (err) => rec.event('uncaughtException', { message: errMessage(err) }));

  const ctx = {
    rec,
    opts,
    mint: ({ ttl = 3600, nbf, identity, wrongSecret: wrong = false } = {}) => mint({ secret: wrong ? wrongSecret(secret) : secret, ttl, nbf, identity }),
    open: (token) => {
      handle = clients[sc.client](rec, { url: opts.url, token });
      return handle;
    },
    post: (path) => control.post(opts.url, path),
    act: async (name, fn) => {
      rec.driver(name, { phase: 'start' });
      try {
        await withTimeout(Promise.resolve().then(fn), ACT_TIMEOUT_MS, name);
        rec.driver(name, { phase: 'done', ok: true });
        return { ok: true };
      } catch (e) {
        rec.driver(name, { phase: 'done', ok: false, error: errMessage(e) });
        return { ok: false, error: errMessage(e) };
      }
    },
  };

  ctx.disconnect = async (c, name = 'disconnect') => {
    const from = rec.mark();
    const res = await ctx.act(name, () => c.close());
    // The SDK emits its states from setTimeout(0): the promise can settle
    // before "disconnected" is reported.
    await rec.waitState('disconnected', { from, ms: CLEANUP_TIMEOUT_MS });
    return res;
  };

  let code = 0;
  let error = null;
  try {
    await sc.run(ctx);
  } catch (e) {
    code = 1;
    error = errMessage(e);
    rec.driver('failed', { error });
  }

  // Leave nothing connected behind. A client already denied or disconnected
  // has closed its socket; calling disconnect() there would only start the
  // SDK's 3 s disconnecting timer.
  const final = handle ? handle.state() : null;
  if (handle && final !== 'disconnected' && final !== 'denied') {
    rec.driver('cleanup', { state: final });
    try {
      await withTimeout(Promise.resolve().then(() => handle.close()), CLEANUP_TIMEOUT_MS, 'cleanup');
    } catch (e) {
      rec.driver('cleanup', { ok: false, error: errMessage(e) });
    }
  }
  // Let the SDK's setTimeout(0)-deferred emissions that are already queued
  // (an event that trails a state, say) reach the log before the summary.
  await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
  finish(code, { error, final_state: handle ? handle.state() : null });
}

main().catch((e) => {
  process.stderr.write(`scenario.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
