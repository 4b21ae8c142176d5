#!/usr/bin/env node
// Verifies JWTs with jsonwebtoken (the library Twilio's Node helper signs
// with), as an independent judge of the tokens convctl mints and inspects.
//
// One token:  VERIFY_SECRET=… node verify-jwt.js [--at UNIX_SECONDS] < token
//   On success prints {"header":…,"payload":…} and exits 0; on failure prints
//   the error's name and message on stderr and exits 1; bad usage exits 2.
//
// Many:       VERIFY_SECRET=… node verify-jwt.js --lines < requests
//   Each input line is {"token": "…", "at": UNIX_SECONDS}; each output line
//   is {"ok": true} or {"ok": false, "error": "TokenExpiredError", "message": "…"},
//   in order. Exits 0 unless the input itself is unreadable.
//
// The secret comes from the environment, never argv, so it stays out of ps.
'use strict';

const fs = require('fs');
const jwt = require('jsonwebtoken');

const ALGORITHMS = ['HS256', 'HS384', 'HS512'];

function verify(token, secret, at) {
  const opts = { algorithms: ALGORITHMS, complete: true };
  if (at !== undefined) opts.clockTimestamp = at;
  return jwt.verify(token, secret, opts);
}

function main() {
  const secret = process.env.VERIFY_SECRET;
  if (!secret) {
    process.stderr.write('verify-jwt: VERIFY_SECRET is not set\n');
    process.exit(2);
  }
  const input = fs.readFileSync(0, 'utf8');

  if (process.argv.includes('--lines')) {
    const out = [];
    for (const line of input.split('\n')) {
      if (line.trim() === '') continue;
      const req = JSON.parse(line);
      try {
        verify(req.token, secret, req.at);
        out.push(JSON.stringify({ ok: true }));
      } catch (err) {
        out.push(JSON.stringify({ ok: false, error: err.name, message: err.message }));
      }
    }
    process.stdout.write(out.join('\n') + '\n');
    return;
  }

  let at;
  const i = process.argv.indexOf('--at');
  if (i !== -1) {
    at = Number(process.argv[i + 1]);
    if (!Number.isInteger(at)) {
      process.stderr.write('verify-jwt: --at needs unix seconds\n');
      process.exit(2);
    }
  }
  try {
    const { header, payload } = verify(input.trim(), secret, at);
    process.stdout.write(JSON.stringify({ header, payload }) + '\n');
  } catch (err) {
    process.stderr.write(`${err.name}: ${err.message}\n`);
    process.exit(1);
  }
}

main();
