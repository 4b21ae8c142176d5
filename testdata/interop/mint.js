#!/usr/bin/env node
'use strict';
// Prints one Conversations Access Token minted with Twilio's helper library,
// for `convctl connect --token-cmd` in the interop tests: the same tokens the
// SDK drivers use, so both clients face identical input.
//
// Usage:
//   node mint.js --secret-file PATH [--ttl SECONDS] [--nbf-in SECONDS] [--wrong-secret]

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
    case '--nbf-in': opts.nbfIn = Number(val()); break;
    case '--wrong-secret': opts.wrong = true; break;
    default: fail(`unknown argument ${a}`);
  }
}
if (!opts.secretFile) fail('--secret-file is required');

let secret;
try {
  secret = fs.readFileSync(opts.secretFile, 'utf8').trim();
} catch (e) {
  fail(`cannot read secret: ${e.message}`);
}

const { ttl } = opts;
try {
  const nbf = Number.isInteger(opts.nbfIn) ? Math.floor(Date.now() / 1000) + opts.nbfIn : undefined;
  process.stdout.write(mint({ secret: opts.wrong ? wrongSecret(secret) : secret, ttl, nbf }) + '\n');
} catch (e) {
  fail(e.message);
}
