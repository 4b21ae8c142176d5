#!/usr/bin/env node
// Verifies one JWT with jsonwebtoken (the library Twilio's Node helper signs
// with), as an independent judge of tokens convctl mints.
//
// Usage: VERIFY_SECRET=… node verify-jwt.js [--at UNIX_SECONDS] < token
//
// The secret comes from the environment, never argv, so it stays out of ps.
// On success prints {"header":…,"payload":…} and exits 0; on failure prints
// the error's name and message on stderr and exits 1; bad usage exits 2.
'use strict';

const jwt = require('jsonwebtoken');

function main() {
  const secret = process.env.VERIFY_SECRET;
  if (!secret) {
    process.stderr.write('verify-jwt: VERIFY_SECRET is not set\n');
    process.exit(2);
  }
  const opts = { algorithms: ['HS256', 'HS384', 'HS512'], complete: true };
  const at = process.argv.indexOf('--at');
  if (at !== -1) {
    const n = Number(process.argv[at + 1]);
    if (!Number.isInteger(n)) {
      process.stderr.write('verify-jwt: --at needs unix seconds\n');
      process.exit(2);
    }
    opts.clockTimestamp = n;
  }
  const token = require('fs').readFileSync(0, 'utf8').trim();
  try {
    const { header, payload } = jwt.verify(token, secret, opts);
    process.stdout.write(JSON.stringify({ header, payload }) + '\n');
  } catch (err) {
    process.stderr.write(`${err.name}: ${err.message}\n`);
    process.exit(1);
  }
}

main();
