'use strict';
// The server's control endpoint (docs/control-api.md) lives on the same port as
// the WebSocket, under /control/. Drivers use it to make the server act at a
// moment chosen relative to what the SDK has done (for example: push
// token_about_to_expire once the client is connected), which flags that fire
// on a timer cannot do.

/** controlBase turns ws://host:port/v3/wsconnect into http://host:port/control. */
function controlBase(wsURL) {
  const u = new URL(wsURL);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '/control';
  u.search = '';
  return u.toString().replace(/\/$/, '');
}

/** post sends POST <base><path> and returns {status, body}; a non-2xx answer is an error. */
async function post(wsURL, path, { ms = 5000 } = {}) {
  const url = controlBase(wsURL) + path;
  const res = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(ms) });
  const body = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status}: ${body.trim()}`);
  return { status: res.status, body };
}

module.exports = { controlBase, post };
