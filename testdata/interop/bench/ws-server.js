'use strict';
// A minimal Twilsock init server on Node's `ws` (the library the transcript's
// throwaway emulator used), for one comparison only: how many init handshakes
// per second it completes next to `convctl serve` (pkg/emulator
// BenchmarkHandshake). It does the same work per connection that matters: a
// WebSocket upgrade with permessage-deflate declined, parse the init frame,
// verify the token's HS256 signature and expiry (jsonwebtoken), answer with an
// init reply shaped as the transcript's, and close when the client sends
// `close`. It does nothing else (no timers, no faults, no control API).
//
// Usage: BENCH_SECRET=… node ws-server.js   prints its ws:// URL, then serves
// until stdin closes.

const crypto = require('crypto');
const { WebSocketServer } = require('ws');
const jwt = require('jsonwebtoken');

if (!process.env.BENCH_SECRET) {
  console.error('BENCH_SECRET is not set');
  process.exit(2);
}
// A KeyObject, not the string: given a string, jsonwebtoken 9 first tries it
// as a public key and pays for the exception on every call (about 350 us
// against 12 us here), which would make this baseline look worse than Node is.
const secret = crypto.createSecretKey(Buffer.from(process.env.BENCH_SECRET));
const MAGIC = Buffer.from('TWILSOCK V3.0 ');

function parse(buf) {
  if (buf.length < MAGIC.length + 4 || buf.compare(MAGIC, 0, MAGIC.length, 0, MAGIC.length) !== 0) return null;
  const eol = buf.indexOf('\r\n', MAGIC.length);
  if (eol < 0) return null;
  const n = Number(buf.toString('latin1', MAGIC.length, eol));
  const start = eol + 2;
  if (!Number.isInteger(n) || start + n + 2 > buf.length) return null;
  try {
    return JSON.parse(buf.toString('utf8', start, start + n));
  } catch {
    return null;
  }
}

function encode(header) {
  const h = Buffer.from(JSON.stringify(header));
  return Buffer.concat([MAGIC, Buffer.from(`${h.length}\r\n`), h, Buffer.from('\r\n')]);
}

let conns = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v3/wsconnect', perMessageDeflate: false });
wss.on('listening', () => {
  process.stdout.write(`ws://127.0.0.1:${wss.address().port}/v3/wsconnect\n`);
});
wss.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
wss.on('connection', (ws) => {
  const n = ++conns;
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    if (!isBinary) return;
    const h = parse(data);
    if (!h) return;
    if (h.method === 'close') {
      ws.close();
      return;
    }
    if (h.method !== 'init') return;
    let reply;
    try {
      jwt.verify(h.token, secret, { algorithms: ['HS256'] });
      reply = {
        id: h.id, method: 'reply', payload_type: 'application/json', status: { code: 200, status: 'OK' },
        continuation_token: `CT-${crypto.randomUUID()}`,
        continuation_token_status: { reused: false, restored: false, restore_error: null, invalid: false, expired: false },
        capabilities: ['client_update', 'offline_storage', 'telemetry.v1'],
        offline_storage: { ip_messaging: { storage_id: 'emulator-storage' } },
        init_registrations: h.registrations || [],
        debug_info: { host: 'node-ws', conn: n },
        payload_size: 0,
      };
    } catch (e) {
      reply = {
        id: h.id, method: 'reply', payload_type: 'application/json',
        status: { code: 401, status: 'Unauthorized', errorCode: 20107, description: 'Invalid Access Token signature' },
        payload_size: 0,
      };
    }
    ws.send(encode(reply), { binary: true });
  });
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
