'use strict';
// Access Tokens minted with Twilio's own helper library (twilio@6.2.0), exactly
// as an application backend mints them, so the server under test judges the
// same bytes a real deployment would hand to the SDK.

// The helper's own AccessToken module (what require('twilio').jwt.AccessToken
// returns), loaded without the REST client around it, which drivers never use.
const AccessToken = require('twilio/lib/jwt/AccessToken');

const { ChatGrant } = AccessToken;

// Well-formed but fake SIDs: the server checks their shape (SK/AC/IS + 32 hex),
// and nothing here can reach Twilio.
const ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
const API_KEY_SID = 'SK' + 'b2'.repeat(16);
const SERVICE_SID = 'IS' + 'c3'.repeat(16);
const IDENTITY = 'alice';

// The environment variable that carries the API Key secret into every driver.
const SECRET_ENV = 'CONVCTL_INTEROP_SECRET';

/**
 * mint returns a Conversations Access Token.
 * ttl is in seconds; a negative ttl mints a token that is already expired
 * (the helper writes exp = iat + ttl). ttl 0 is refused because the helper
 * would silently turn it into its 3600 s default. nbf, when given, is unix
 * seconds (the helper's own option).
 */
function mint({ secret, ttl = 3600, identity = IDENTITY, nbf }) {
  if (!secret) throw new Error('mint: no secret (set ' + SECRET_ENV + ')');
  if (!Number.isInteger(ttl) || ttl === 0) throw new Error('mint: ttl must be a non-zero integer, got ' + ttl);
  const token = new AccessToken(ACCOUNT_SID, API_KEY_SID, secret, { identity, ttl, nbf });
  token.addGrant(new ChatGrant({ serviceSid: SERVICE_SID }));
  return token.toJwt();
}

/** wrongSecret derives a different secret, for a token whose signature the server must reject. */
function wrongSecret(secret) {
  return 'not-' + secret;
}

/** expiresAtMs reads exp back out of a token, so drivers can time their observation windows. */
function expiresAtMs(jwt) {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
  return payload.exp * 1000;
}

module.exports = { mint, wrongSecret, expiresAtMs, SECRET_ENV, ACCOUNT_SID, API_KEY_SID, SERVICE_SID, IDENTITY };
