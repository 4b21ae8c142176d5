#!/usr/bin/env node
'use strict';
// Prints one Conversations Access Token minted with Twilio's helper library,
// for `convctl connect --token-cmd` in the interop tests: the same tokens the
// SDK drivers use, so both clients face identical input.
//
// Usage:
//   node mint.js --secret-file PATH [--ttl SECONDS] [--nbf-in SECONDS] [--wrong-secret]
//                [--count-file PATH --later-ttl SECONDS]
//
// --count-file makes the first call mint with --ttl and every later call with
// --later-ttl, so a client that fetches a fresh token (--renew) gets a long
// one after a short first one, as a real token endpoint would.

const fs = require('node:fs');
const { mint, wrongSecret } = require('./lib/tokens');

function fail(msg) {
  process.stderr.write(`mint.js: ${msg}\n`);
  process.exit(2);
}

const opts = { ttl: 3600 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => (i + 1 < argv.length ? argv[++i] : fail(`${a} needs a value`));
  switch (a) {
    case '--secret-file': opts.secretFile = val(); break;
    case '--ttl': opts.ttl = Number(val()); break;
    case '--later-ttl': opts.laterTTL = Number(val()); break;
    case '--count-file': opts.countFile = val(); break;
    case '--nbf-in': opts.nbfIn = Number(val()); break;
    case '--wrong-secret': opts.wrong = true; break;
    default: fail(`unknown argument ${a}`);
  }
}
if (!opts.secretFile) fail('--secret-file is required');
if (opts.countFile && !Number.isInteger(opts.laterTTL)) fail('--count-file needs --later-ttl');

let secret;
try {
  secret = fs.readFileSync(opts.secretFile, 'utf8').trim();
} catch (e) {
  fail(`cannot read secret: ${e.message}`);
}

let ttl = opts.ttl;
if (opts.countFile) {
  let n = 0;
  try {
    n = Number(fs.readFileSync(opts.countFile, 'utf8')) || 0;
  } catch (_) {
    // First call: no count yet.
  }
  fs.writeFileSync(opts.countFile, String(n + 1));
  if (n > 0) ttl = opts.laterTTL;
}

try {
  const nbf = Number.isInteger(opts.nbfIn) ? Math.floor(Date.now() / 1000) + opts.nbfIn : undefined;
  process.stdout.write(mint({ secret: opts.wrong ? wrongSecret(secret) : secret, ttl, nbf }) + '\n');
} catch (e) {
  fail(e.message);
}
