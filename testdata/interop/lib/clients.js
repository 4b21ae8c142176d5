'use strict';
// Wraps Twilio's real clients so every public event lands in the recorder.
// Nothing here changes how the clients behave: the only option we set beyond
// the URL is a silent log level, so their console output cannot corrupt the
// JSON lines on stdout.

// Each driver loads only the client its scenario uses (load, below):
// @twilio/conversations costs more CPU than most scenarios, and the suite runs
// many drivers at once.

const modules = {
  twilsock: () => require('twilsock'),
  conversations: () => require('@twilio/conversations'),
};

/**
 * load requires a client's package up front. Under a loaded machine that can
 * take seconds, which must not eat into the life of a short token minted
 * just before the client opens.
 */
function load(kind) {
  modules[kind]();
}

/** compactError keeps the public fields of a connectionError / initFailed payload. */
function compactError(err) {
  if (err === null || err === undefined) return null;
  if (typeof err !== 'object') return { message: String(err) };
  const out = {};
  for (const k of ['terminal', 'message', 'httpStatusCode', 'errorCode']) {
    if (k in err) out[k] = err[k] === undefined ? null : err[k];
  }
  return out;
}

/**
 * twilsock opens a bare TwilsockClient, the transport every Conversations SDK
 * uses, with productId ip_messaging (the Conversations grant on the wire).
 * Its public states arrive as stateChanged.
 */
function twilsock(rec, { url, token }) {
  const { TwilsockClient } = modules.twilsock();
  const client = new TwilsockClient(token, 'ip_messaging', { twilsock: { uri: url }, logLevel: 'silent' });
  client.on('stateChanged', (s) => rec.state(s));
  client.on('connected', () => rec.event('connected'));
  client.on('disconnected', () => rec.event('disconnected'));
  client.on('initialized', (r) => rec.event('initialized', {
    continuationToken: r && r.continuationToken ? 'present' : null,
    confirmedCapabilities: r && r.confirmedCapabilities ? [...r.confirmedCapabilities] : null,
  }));
  client.on('tokenAboutToExpire', () => rec.event('tokenAboutToExpire'));
  client.on('tokenExpired', () => rec.event('tokenExpired'));
  client.on('connectionError', (e) => rec.event('connectionError', compactError(e)));
  client.on('message', (type) => rec.event('message', { type: type === undefined ? null : type }));
  client.connect();
  return {
    kind: 'twilsock',
    sdk: client,
    state: () => client.state,
    updateToken: (t) => client.updateToken(t),
    close: () => client.disconnect(),
  };
}

/**
 * conversations opens the real Conversations Client. Its connection states
 * arrive as connectionStateChanged; its own lifecycle (initialized / failed)
 * as stateChanged, which we record as an event so the two never mix.
 */
function conversations(rec, { url, token }) {
  const { Client: ConversationsClient } = modules.conversations();
  const client = new ConversationsClient(token, { twilsock: { uri: url }, logLevel: 'silent' });
  client.on('connectionStateChanged', (s) => rec.state(s));
  client.on('stateChanged', (s) => rec.event('stateChanged', s));
  client.on('initialized', () => rec.event('initialized'));
  client.on('initFailed', (e) => rec.event('initFailed', compactError(e && e.error)));
  client.on('tokenAboutToExpire', () => rec.event('tokenAboutToExpire'));
  client.on('tokenExpired', () => rec.event('tokenExpired'));
  client.on('connectionError', (e) => rec.event('connectionError', compactError(e)));
  return {
    kind: 'conversations',
    sdk: client,
    state: () => client.connectionState,
    updateToken: (t) => client.updateToken(t),
    close: () => client.shutdown(),
  };
}

module.exports = { twilsock, conversations, load, compactError };
