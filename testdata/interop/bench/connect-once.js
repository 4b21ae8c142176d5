#!/usr/bin/env node
'use strict';
// Whole-process baseline for `convctl connect`: Twilio's real TwilsockClient
// connects to URL with the token in FILE and disconnects, then the process exits.
// Usage: node connect-once.js URL TOKEN_FILE
const fs = require('node:fs');
const { TwilsockClient } = require('twilsock');
const [url, file] = process.argv.slice(2);
const token = fs.readFileSync(file, 'utf8').trim();
const client = new TwilsockClient(token, 'ip_messaging', { twilsock: { uri: url }, logLevel: 'silent' });
client.on('stateChanged', (s) => {
  if (s === 'connected') client.disconnect();
  if (s === 'disconnected') process.exit(0);
  if (s === 'denied') process.exit(1);
});
client.connect();
setTimeout(() => process.exit(3), 10000).unref();
