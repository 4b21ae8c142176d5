'use strict';
// What the driver does in each scenario. A scenario only drives the SDK and
// waits on what it emits; it judges nothing. The Go test (internal/cli/
// interop_test.go) starts the server with the matching faults and asserts the
// recorded sequence against what Twilio's clients were seen doing
// (docs/protocol.md, "Observed behaviour, scenario by scenario").
//
// Each run(ctx) gets:
//   ctx.rec      the Recorder
//   ctx.mint(o)  a token from the pinned helper: o.ttl (s), o.nbf (unix s), o.wrongSecret
//   ctx.open(t)  the scenario's client (twilsock or conversations) on token t
//   ctx.act(n,f) runs the SDK call f, records its outcome as driver event n
//   ctx.disconnect(c[, name])  disconnect()/shutdown(), then waits for the
//                public state disconnected
//   ctx.post(p)  POSTs to the server's control endpoint
//   ctx.opts     command-line options (ttl, ...)

const { expiresAtMs } = require('./tokens');

// No retry after a denial must hold for longer than the SDK's first backoff
// (1 s ±20%), or "no retry" would be proved by not waiting long enough.
const NO_RETRY_WINDOW_MS = 1500;

async function connectThenDisconnect(ctx, waitMs = 10000) {
  const c = ctx.open(ctx.mint());
  await ctx.rec.waitState('connected', { ms: waitMs });
  await ctx.disconnect(c);
}

async function expectDenied(ctx, token) {
  ctx.open(token);
  await ctx.rec.waitState('denied');
  ctx.rec.driver('observe', { ms: NO_RETRY_WINDOW_MS });
  await ctx.rec.observe(NO_RETRY_WINDOW_MS);
}

// The connection goes away once (drop, offload) and must come back by itself.
async function reconnects(ctx) {
  const c = ctx.open(ctx.mint());
  await ctx.rec.waitState('connected');
  const lost = ctx.rec.mark();
  await ctx.rec.waitState('connecting', { from: lost, ms: 10000 });
  await ctx.rec.waitState('connected', { from: lost, ms: 15000 });
  await ctx.disconnect(c);
}

const scenarios = {
  valid: {
    client: 'twilsock',
    about: 'a valid token connects; updateToken with a fresh token succeeds and stays connected; disconnect() ends disconnected',
    async run(ctx) {
      const c = ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      await ctx.act('updateToken', () => c.updateToken(ctx.mint()));
      ctx.rec.driver('stateAfterUpdate', c.state());
      await ctx.disconnect(c);
    },
  },

  'update-bad-signature': {
    client: 'twilsock',
    about: 'updateToken with a badly signed token while connected is denied (20107); a good updateToken then reconnects',
    async run(ctx) {
      const c = ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      await ctx.act('updateToken(bad)', () => c.updateToken(ctx.mint({ wrongSecret: true })));
      await ctx.rec.waitState('denied');
      // Wait until the SDK has closed the denied socket: an updateToken issued
      // before that races the old socket's close event, which throws the new
      // connection into retrying and costs a full backoff (about 1 s).
      await ctx.rec.waitEvent('disconnected');
      const m = ctx.rec.mark();
      await ctx.act('updateToken(good)', () => c.updateToken(ctx.mint()));
      await ctx.rec.waitState('connected', { from: m });
      await ctx.disconnect(c);
    },
  },

  'oversize-init': {
    client: 'twilsock',
    about: 'an init whose header is over 64 KiB (a token for a 70,000-character identity) is answered 413: a connectionError that is not terminal, then the SDK retries with backoff and hears 413 again',
    async run(ctx) {
      const c = ctx.open(ctx.mint({ identity: 'a'.repeat(70000) }));
      await ctx.rec.waitEvent('connectionError', { ms: 10000 });
      const m = ctx.rec.mark();
      await ctx.rec.waitEvent('connectionError', { from: m, ms: 10000 });
      await ctx.disconnect(c);
    },
  },

  'bad-signature': {
    client: 'twilsock',
    about: 'a token signed with the wrong secret is denied: connectionError 401/20107, no retry',
    run: (ctx) => expectDenied(ctx, ctx.mint({ wrongSecret: true })),
  },

  expired: {
    client: 'twilsock',
    about: 'an expired token is denied: tokenExpired, connectionError 401/20104, no retry',
    run: (ctx) => expectDenied(ctx, ctx.mint({ ttl: -60 })),
  },

  'not-yet-valid': {
    client: 'twilsock',
    about: 'a token whose nbf is 5 minutes ahead (clock skew) is denied: connectionError 401/20105, no tokenExpired',
    run: (ctx) => expectDenied(ctx, ctx.mint({ nbf: Math.floor(Date.now() / 1000) + 300 })),
  },

  'ttl-in-ms': {
    client: 'twilsock',
    about: 'a TTL given in milliseconds (3600000 s, over 24 h) is denied: connectionError 401/20157',
    run: (ctx) => expectDenied(ctx, ctx.mint({ ttl: 3600 * 1000 })),
  },

  deny: {
    client: 'twilsock',
    about: 'a valid token against `serve --deny CODE` is denied with that Twilio error code',
    run: (ctx) => expectDenied(ctx, ctx.mint()),
  },

  expiry: {
    client: 'twilsock',
    about: 'a short token gets tokenAboutToExpire, then at exp the server closes 410: tokenExpired, disconnected, no retry',
    async run(ctx) {
      const token = ctx.mint({ ttl: ctx.opts.ttl || 5 });
      const untilExp = expiresAtMs(token) - Date.now();
      // On the recorder's clock, so the test can time the server's
      // about-to-expire and close 410 against the token's own exp.
      ctx.rec.driver('token', { expires_at_t_ms: ctx.rec.now() + untilExp });
      ctx.open(token);
      await ctx.rec.waitState('connected');
      await ctx.rec.waitEvent('tokenAboutToExpire', { ms: untilExp + 2000 });
      await ctx.rec.waitEvent('tokenExpired', { ms: untilExp + 3000 });
      // The SDK sits in disconnecting for its 3 s DISCONNECTING_TIMEOUT.
      await ctx.rec.waitState('disconnected', { ms: 6000 });
      ctx.rec.driver('observe', { ms: NO_RETRY_WINDOW_MS });
      await ctx.rec.observe(NO_RETRY_WINDOW_MS);
    },
  },

  renew: {
    client: 'twilsock',
    about: 'a short token renewed with updateToken on tokenAboutToExpire outlives its first exp: no 410, no tokenExpired',
    async run(ctx) {
      const token = ctx.mint({ ttl: ctx.opts.ttl || 5 });
      const exp = expiresAtMs(token);
      ctx.rec.driver('token', { expires_at_t_ms: ctx.rec.now() + (exp - Date.now()) });
      const c = ctx.open(token);
      await ctx.rec.waitState('connected');
      await ctx.rec.waitEvent('tokenAboutToExpire', { ms: exp - Date.now() + 2000 });
      await ctx.act('updateToken', () => c.updateToken(ctx.mint({ ttl: 3600 })));
      // Watch past the first token's exp (whole seconds, so up to 1 s early) and
      // then some: a server that forgot the update would close 410 in there.
      const watch = Math.max(0, exp - Date.now()) + 1500;
      ctx.rec.driver('observe', { ms: watch });
      await ctx.rec.observe(watch);
      ctx.rec.driver('stateAfterFirstExp', c.state());
      await ctx.disconnect(c);
    },
  },

  drop: {
    client: 'twilsock',
    about: '`serve --drop-after` cuts TCP with no close frame: the client retries after about 1 s and connects again',
    run: reconnects,
  },

  offload: {
    client: 'twilsock',
    about: '`serve --offload-after` sends close 308 with backoff_policy: disconnecting (3 s), connecting, connected after reconnect_min_ms',
    run: reconnects,
  },

  'refuse-upgrades': {
    client: 'twilsock',
    about: '`serve --refuse-upgrades N` answers N upgrades 503: N non-terminal connectionErrors and "retrying", then connected',
    run: (ctx) => connectThenDisconnect(ctx, 20000),
  },

  'init-delay': {
    client: 'twilsock',
    about: '`serve --init-delay` holds the init reply: the client stays connecting, then connects',
    run: (ctx) => connectThenDisconnect(ctx),
  },

  'control-about-to-expire': {
    client: 'twilsock',
    about: 'POST /control/connections/all/about-to-expire: tokenAboutToExpire, still connected',
    async run(ctx) {
      const c = ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      await ctx.act('control about-to-expire', () => ctx.post('/connections/all/about-to-expire'));
      await ctx.rec.waitEvent('tokenAboutToExpire');
      ctx.rec.driver('stateAfterAboutToExpire', c.state());
      await ctx.disconnect(c);
    },
  },

  'control-close-410': {
    client: 'twilsock',
    about: 'POST /control/connections/all/close?code=410: tokenExpired, disconnecting (3 s), disconnected, no retry',
    async run(ctx) {
      ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      await ctx.act('control close 410', () => ctx.post('/connections/all/close?code=410'));
      await ctx.rec.waitState('disconnected', { ms: 6000 });
      ctx.rec.driver('observe', { ms: NO_RETRY_WINDOW_MS });
      await ctx.rec.observe(NO_RETRY_WINDOW_MS);
    },
  },

  'control-close-401': {
    client: 'twilsock',
    about: 'POST /control/connections/all/close?code=401: disconnecting (3 s), disconnected, no tokenExpired, no retry',
    async run(ctx) {
      ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      await ctx.act('control close 401', () => ctx.post('/connections/all/close?code=401'));
      await ctx.rec.waitState('disconnected', { ms: 6000 });
      ctx.rec.driver('observe', { ms: NO_RETRY_WINDOW_MS });
      await ctx.rec.observe(NO_RETRY_WINDOW_MS);
    },
  },

  'server-shutdown': {
    client: 'twilsock',
    about: 'the server stops (SIGINT) while the client is connected: close 308, so the client treats it as an offload and retries; the app then gives up with disconnect()',
    async run(ctx) {
      const c = ctx.open(ctx.mint());
      // The test stops the server when it reads this state from our stdout.
      await ctx.rec.waitState('connected');
      const m = ctx.rec.mark();
      await ctx.rec.waitState('disconnecting', { from: m });
      await ctx.rec.waitState('connecting', { from: m, ms: 6000 });
      await ctx.rec.waitEvent('connectionError', { from: m, ms: 6000 });
      await ctx.disconnect(c);
    },
  },

  conversations: {
    client: 'conversations',
    about: 'the Conversations Client reaches connectionState connected; its Configuration fetch gets 404 so it reports failed; shutdown() ends disconnected',
    async run(ctx) {
      const c = ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      // Expected without aim/cds emulation (docs/protocol.md, "The Conversations client on top").
      await ctx.rec.waitEvent('initFailed', { ms: 10000 });
      ctx.rec.driver('stateAfterInitFailed', c.state());
      await ctx.disconnect(c, 'shutdown');
    },
  },

  'conversations-bad-signature': {
    client: 'conversations',
    about: 'the Conversations Client with a badly signed token: connectionState denied, connectionError 401/20107',
    run: (ctx) => expectDenied(ctx, ctx.mint({ wrongSecret: true })),
  },

  'conversations-drop': {
    client: 'conversations',
    about: 'the Conversations Client gets its connection back after a TCP drop',
    async run(ctx) {
      const c = ctx.open(ctx.mint());
      await ctx.rec.waitState('connected');
      const lost = ctx.rec.mark();
      await ctx.rec.waitState('connecting', { from: lost, ms: 10000 });
      await ctx.rec.waitState('connected', { from: lost, ms: 15000 });
      // shutdown() waits for the client's own init to settle (here: failed).
      await ctx.disconnect(c, 'shutdown');
    },
  },
};

module.exports = { scenarios, NO_RETRY_WINDOW_MS };
