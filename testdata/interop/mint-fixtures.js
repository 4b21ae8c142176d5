#!/usr/bin/env node
// Writes testdata/tokens/*.json: Access Tokens minted by Twilio's own Node
// helper library (the pinned `twilio` package), so convctl's Go code is judged
// against the real peer rather than against itself.
//
// Usage (from testdata/interop):  node mint-fixtures.js [--real-clock]
//
// The helper reads the current time (Date.now) for iat and jti. By default this
// script pins that clock to FIXTURE_NOW so regenerating the fixtures gives the
// same bytes; --real-clock uses the wall clock instead (the Go tests read iat
// from each file, so either works). Every SID is fake but well-formed, and the
// secret is a test value that signs nothing real.
'use strict';

const fs = require('fs');
const path = require('path');
const twilio = require('twilio');
const jwt = require('jsonwebtoken');

const AccessToken = twilio.jwt.AccessToken;
const { ChatGrant, SyncGrant, VoiceGrant, VideoGrant } = AccessToken;

const FIXTURE_NOW = 1764064800; // 2025-11-25T10:00:00Z

const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
const API_KEY_SID = 'SKfedcba9876543210fedcba9876543210';
const CHAT_SERVICE_SID = 'IS00112233445566778899aabbccddeeff';
const SYNC_SERVICE_SID = 'ISffeeddccbbaa99887766554433221100';
const VOICE_APP_SID = 'AP0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const MESSAGING_SERVICE_SID = 'MG00112233445566778899aabbccddeeff';
const SECRET = 'convctl-test-secret-0123456789abcdef';

for (const [name, sid] of Object.entries({ ACCOUNT_SID, API_KEY_SID, CHAT_SERVICE_SID, SYNC_SERVICE_SID, VOICE_APP_SID, MESSAGING_SERVICE_SID })) {
  if (!/^[A-Z]{2}[0-9a-f]{32}$/.test(sid)) throw new Error(`${name} is not a well-formed SID: ${sid}`);
}

// Each case is what an application would write with the helper. "mint" holds
// the same options in the shape of convctl's inspect.MintOptions (Go field
// names), so the Go tests can mint the token themselves and compare bytes;
// cases that show a mistake Mint refuses to make have mint: null.
const cases = [
  {
    name: 'conversations',
    description: 'the Conversations quickstart: identity and a chat grant, default TTL',
    build: () => token({ identity: 'alice' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: { Identity: 'alice', ChatServiceSID: CHAT_SERVICE_SID },
  },
  {
    name: 'conversations-region',
    description: 'a chat grant for the ie1 region with a 10-minute TTL',
    build: () => token({ identity: 'bob', ttl: 600, region: 'ie1' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: { Identity: 'bob', ChatServiceSID: CHAT_SERVICE_SID, TTLSeconds: 600, Region: 'ie1' },
  },
  {
    name: 'sync',
    description: 'a Sync grant',
    build: () => token({ identity: 'carol' }, [new SyncGrant({ serviceSid: SYNC_SERVICE_SID })]),
    mint: { Identity: 'carol', SyncServiceSID: SYNC_SERVICE_SID },
  },
  {
    name: 'voice',
    description: 'a Voice grant allowing incoming calls and outgoing calls through a TwiML app',
    build: () => token({ identity: 'dave' }, [new VoiceGrant({ incomingAllow: true, outgoingApplicationSid: VOICE_APP_SID })]),
    mint: { Identity: 'dave', VoiceAppSID: VOICE_APP_SID, VoiceIncomingAllow: true },
  },
  {
    name: 'video',
    description: 'a Video grant for one room',
    build: () => token({ identity: 'erin' }, [new VideoGrant({ room: 'daily-standup' })]),
    mint: { Identity: 'erin', VideoRoom: 'daily-standup' },
  },
  {
    name: 'all-grants',
    description: 'every grant, the maximum 24-hour TTL and nbf equal to iat',
    build: () => token({ identity: 'frank', ttl: 86400, nbf: nowSeconds() }, [
      new ChatGrant({ serviceSid: CHAT_SERVICE_SID }),
      new SyncGrant({ serviceSid: SYNC_SERVICE_SID }),
      new VoiceGrant({ incomingAllow: true, outgoingApplicationSid: VOICE_APP_SID }),
      new VideoGrant({ room: 'all-hands' }),
    ]),
    mint: { Identity: 'frank', ChatServiceSID: CHAT_SERVICE_SID, SyncServiceSID: SYNC_SERVICE_SID, VoiceAppSID: VOICE_APP_SID, VoiceIncomingAllow: true, VideoRoom: 'all-hands', TTLSeconds: 86400, NotBeforeIsIat: true },
  },
  {
    name: 'hs384',
    description: 'signed with HS384, which the helper allows but Twilio documents HS256',
    build: () => token({ identity: 'grace' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })], 'HS384'),
    mint: { Identity: 'grace', ChatServiceSID: CHAT_SERVICE_SID, Algorithm: 'HS384' },
  },
  {
    name: 'hs512',
    description: 'signed with HS512',
    build: () => token({ identity: 'heidi' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })], 'HS512'),
    mint: { Identity: 'heidi', ChatServiceSID: CHAT_SERVICE_SID, Algorithm: 'HS512' },
  },
  {
    name: 'unicode-identity',
    description: 'an identity with non-ASCII characters and characters JSON escapes differently per library',
    build: () => token({ identity: 'zoë <ops&dev> "quoted" \u{1F680}' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: { Identity: 'zoë <ops&dev> "quoted" \u{1F680}', ChatServiceSID: CHAT_SERVICE_SID },
  },
  {
    name: 'numeric-identity',
    description: 'an integer identity, which the helper turns into a string',
    build: () => token({ identity: 42 }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: { Identity: '42', ChatServiceSID: CHAT_SERVICE_SID },
  },
  {
    name: 'short-ttl',
    description: 'a 2-minute TTL: accepted, but shorter than the 3-minute about-to-expire window',
    build: () => token({ identity: 'ivan', ttl: 120 }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: { Identity: 'ivan', ChatServiceSID: CHAT_SERVICE_SID, TTLSeconds: 120 },
  },
  {
    name: 'not-before-future',
    description: 'nbf ten minutes after iat',
    build: () => token({ identity: 'judy', nbf: nowSeconds() + 600 }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: { Identity: 'judy', ChatServiceSID: CHAT_SERVICE_SID, NotBeforeOffsetSeconds: 600 },
  },
  // The mistakes below are ones the helper lets an application make.
  {
    name: 'ttl-in-milliseconds',
    description: 'ttl given in milliseconds (3600000 meaning one hour)',
    build: () => token({ identity: 'mallory', ttl: 3600000 }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })]),
    mint: null,
  },
  {
    name: 'account-sid-as-issuer',
    description: 'the Account SID passed where the API Key SID belongs',
    build: () => token({ identity: 'alice' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })], undefined, { keySid: ACCOUNT_SID }),
    mint: null,
  },
  {
    name: 'swapped-sids',
    description: 'Account SID and API Key SID swapped',
    build: () => token({ identity: 'alice' }, [new ChatGrant({ serviceSid: CHAT_SERVICE_SID })], undefined, { accountSid: API_KEY_SID, keySid: ACCOUNT_SID }),
    mint: null,
  },
  {
    name: 'messaging-service-sid',
    description: 'a Messaging Service SID where the Conversations Service SID belongs',
    build: () => token({ identity: 'alice' }, [new ChatGrant({ serviceSid: MESSAGING_SERVICE_SID })]),
    mint: null,
  },
  {
    name: 'chat-grant-without-service',
    description: 'a chat grant with no service SID',
    build: () => token({ identity: 'alice' }, [new ChatGrant({})]),
    mint: null,
  },
  {
    name: 'no-grant',
    description: 'identity only, no product grant',
    build: () => token({ identity: 'alice' }, []),
    mint: null,
  },
];

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

function token(options, grants, algorithm, sids = {}) {
  const t = new AccessToken(sids.accountSid || ACCOUNT_SID, sids.keySid || API_KEY_SID, SECRET, options);
  for (const g of grants) t.addGrant(g);
  return t.toJwt(algorithm);
}

function b64json(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

function main() {
  const realClock = process.argv.includes('--real-clock');
  if (!realClock) {
    Date.now = () => FIXTURE_NOW * 1000;
  }
  const outDir = path.join(__dirname, '..', 'tokens');
  fs.mkdirSync(outDir, { recursive: true });
  const twilioVersion = require('twilio/package.json').version;
  const jwtVersion = require('jsonwebtoken/package.json').version;

  for (const c of cases) {
    const tok = c.build();
    const [h, p] = tok.split('.');
    const header = b64json(h);
    const payload = b64json(p);
    // The helper's token must verify with jsonwebtoken before it becomes a fixture.
    jwt.verify(tok, SECRET, { algorithms: [header.alg], clockTimestamp: payload.iat, ignoreNotBefore: true, ignoreExpiration: true });
    const fixture = {
      name: c.name,
      description: c.description,
      generator: `twilio@${twilioVersion} AccessToken, jsonwebtoken@${jwtVersion}`,
      token: tok,
      secret: SECRET,
      account_sid: payload.sub,
      api_key_sid: payload.iss,
      iat: payload.iat,
      exp: payload.exp,
      nbf: payload.nbf === undefined ? null : payload.nbf,
      header,
      payload,
      mint: c.mint,
    };
    const file = path.join(outDir, `${c.name}.json`);
    fs.writeFileSync(file, JSON.stringify(fixture, null, 2) + '\n');
    process.stderr.write(`wrote ${path.relative(process.cwd(), file)}\n`);
  }
}

main();
