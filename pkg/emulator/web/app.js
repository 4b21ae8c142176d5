'use strict';
// The dashboard of convctl serve: live connections from the event stream
// (GET control/events), a form per control API action, each showing its
// answer. Every string from the server goes into the page as text, never as
// markup: identities come from tokens, which anyone can write.

(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const list = $('#conn-list');
  const tmpl = $('#conn-template');
  const conns = new Map(); // id → {el, info}
  const gone = new Set();   // ids closed: ids are never reused, and nothing brings one back
  let skew = 0;            // server clock minus ours, from each event's "at"
  let seenSinceOpen = null; // ids the stream's opening snapshot named

  const wsURL = new URL('v3/wsconnect', location.href);
  wsURL.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  wsURL.search = '';
  $('#ws-url').textContent = wsURL.href;

  // ---- time words

  const now = () => Date.now() + skew;
  function span(ms) {
    const s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  }
  const clock = (t) => new Date(t).toISOString().slice(11, 19) + ' UTC';

  function expiryWords(info) {
    if (!info.token_expires_at) return info.state === 'denied' ? 'no token accepted' : 'no token yet';
    const exp = Date.parse(info.token_expires_at);
    const about = Date.parse(info.about_to_expire_at);
    const left = exp - now();
    if (left <= 0) return 'expired ' + span(left) + ' ago (' + clock(exp) + ')';
    const warn = now() >= about ? ', about to expire' : '';
    return 'in ' + span(left) + warn + ' (' + clock(exp) + ')';
  }

  // ---- connections

  function render(info) {
    let c = conns.get(info.id);
    if (!c) {
      const el = tmpl.content.firstElementChild.cloneNode(true);
      el.dataset.connId = info.id;
      $('[data-field="id"]', el).textContent = info.id;
      el.querySelectorAll('form').forEach((f) => { f.dataset.target = info.id; });
      c = { el, info };
      conns.set(info.id, c);
      list.prepend(el);
    }
    c.info = info;
    const el = c.el;
    el.dataset.state = info.state;
    $('[data-field="state"]', el).textContent = info.state;
    $('[data-field="identity"]', el).textContent = info.identity ? info.identity : '(no identity yet)';
    $('[data-field="remote"]', el).textContent = info.remote || '–';
    $('[data-field="opened"]', el).textContent = clock(Date.parse(info.opened_at)) +
      (info.connected_at ? ', connected in ' + (Date.parse(info.connected_at) - Date.parse(info.opened_at)) + ' ms' : '');
    $('[data-field="continuation-token"]', el).textContent = info.continuation_token || '–';
    tick(c);
    counts();
  }

  function tick(c) {
    const tx = $('[data-field="token-expires"]', c.el);
    tx.textContent = expiryWords(c.info);
    const exp = c.info.token_expires_at && Date.parse(c.info.token_expires_at);
    tx.dataset.warn = exp && now() >= Date.parse(c.info.about_to_expire_at) ? 'yes' : 'no';
  }

  function closed(info) {
    gone.add(info.id);
    const c = conns.get(info.id);
    if (!c) return;
    conns.delete(info.id);
    c.info = info;
    // No longer a live connection for scripts ([data-conn-id]); it stays in
    // view for a moment, marked closed, then goes.
    delete c.el.dataset.connId;
    c.el.dataset.closedConnId = info.id;
    c.el.dataset.state = 'closed';
    $('[data-field="state"]', c.el).textContent = 'closed';
    c.el.querySelectorAll('button, input').forEach((b) => { b.disabled = true; });
    setTimeout(() => c.el.remove(), 8000);
    counts();
  }

  function counts() {
    const n = conns.size;
    $('#conn-count').textContent = n + ' open';
    $('#no-conns').hidden = n > 0 || list.children.length > 0;
  }

  setInterval(() => conns.forEach(tick), 1000);

  // ---- faults and counters

  function faultWords(f) {
    const parts = [];
    if (f.deny) parts.push('deny ' + (f.deny.every ? 'every init' : 'the next ' + plural(f.deny.remaining, 'init')) + ' with ' + f.deny.code);
    if (f.refuse_upgrades > 0) parts.push('refuse the next ' + plural(f.refuse_upgrades, 'upgrade') + ' with 503');
    if (f.init_delay_ms > 0) parts.push('delay each init ' + f.init_delay_ms + ' ms');
    return parts.length ? parts.join('; ') : 'none: every connection is served normally';
  }
  const plural = (n, w) => n + ' ' + w + (n === 1 ? '' : 's');
  function showFaults(f) {
    const p = $('[data-field="faults"]');
    p.textContent = faultWords(f);
    p.dataset.active = (f.deny || f.refuse_upgrades > 0 || f.init_delay_ms > 0) ? 'yes' : 'no';
  }

  const statNames = ['active', 'connected', 'upgrades', 'refused', 'inits', 'denied', 'updates', 'messages',
    'about_to_expire', 'expired', 'offloads', 'server_closes', 'drops', 'client_closes'];
  let statsPending = false;
  function refreshStats() {
    if (statsPending) return;
    statsPending = true;
    setTimeout(async () => {
      statsPending = false;
      try {
        const st = await (await fetch('control/stats', { cache: 'no-store' })).json();
        const dl = $('#stats');
        dl.replaceChildren();
        for (const k of statNames) {
          const d = document.createElement('div');
          const dt = document.createElement('dt');
          dt.textContent = k.replaceAll('_', ' ');
          const dd = document.createElement('dd');
          dd.textContent = st[k];
          d.append(dt, dd);
          dl.append(d);
        }
      } catch (e) { /* the stream's status already says the server is gone */ }
    }, 200);
  }

  // ---- the event log

  const log = $('#events');
  function logEvent(ev) {
    const tr = document.createElement('tr');
    tr.dataset.event = ev.event;
    let detail = '';
    switch (ev.event) {
      case 'opened': detail = 'from ' + (ev.remote || '?'); break;
      case 'state': detail = ev.state + (ev.state === 'connected' && ev.identity ? ' as ' + ev.identity : ''); break;
      case 'token': detail = 'new token for ' + ev.identity + ', expires ' + clock(Date.parse(ev.token_expires_at)); break;
      case 'closed': detail = 'socket closed'; break;
      case 'action': detail = ev.action + (ev.code ? ' ' + ev.code : '') + ' (control API)'; break;
      case 'faults': detail = faultWords(ev.faults); break;
    }
    for (const text of [clock(Date.parse(ev.at)).replace(' UTC', ''), ev.id || 'server', ev.event, detail]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    log.prepend(tr);
    while (log.children.length > 200) log.lastElementChild.remove();
  }

  // ---- the stream

  const stream = $('#stream');
  function streamStatus(live, words) {
    document.body.dataset.stream = live ? 'live' : 'connecting';
    stream.textContent = words;
  }

  function onEvent(msg) {
    let ev;
    try { ev = JSON.parse(msg.data); } catch (e) { return; }
    if (ev.at) skew = Date.parse(ev.at) - Date.now();
    if (seenSinceOpen && ev.event === 'opened') seenSinceOpen.add(ev.id);
    switch (ev.event) {
      case 'faults':
        showFaults(ev.faults);
        if (seenSinceOpen) {
          // The opening snapshot ends with the faults: whatever it did not
          // name closed while the stream was away.
          for (const [id, c] of conns) if (!seenSinceOpen.has(id)) closed({ ...c.info, state: 'closed' });
          seenSinceOpen = null;
          streamStatus(true, 'live');
          return refreshStats();
        }
        break;
      case 'closed': closed(ev); break;
      default: if (!gone.has(ev.id)) render(ev);
    }
    // The opening snapshot is the state of things, not news: not logged.
    if (!seenSinceOpen) logEvent(ev);
    refreshStats();
  }

  function connect() {
    const es = new EventSource('control/events');
    es.onopen = () => { seenSinceOpen = new Set(); };
    es.onmessage = onEvent;
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        streamStatus(false, 'disconnected: reload the page');
      } else {
        streamStatus(false, 'reconnecting to the event stream…');
      }
    };
  }

  // ---- actions

  async function act(form, button) {
    const action = button.dataset.action;
    const target = form.dataset.target;
    const out = form.closest('article, section').querySelector('output[data-field="result"]');
    const q = new URLSearchParams();
    let url, method = 'POST';
    const val = (name) => form.querySelector('[name="' + name + '"]').value;
    switch (action) {
      case 'about-to-expire':
      case 'drop':
        url = 'control/connections/' + target + '/' + action; break;
      case 'close':
        q.set('code', form.querySelector('[data-field="code"]').value);
        for (const [field, param] of [['error-code', 'error_code'], ['backoff-ms', 'backoff_ms']]) {
          const input = form.querySelector('[data-field="' + field + '"]');
          if (input && input.value !== '') q.set(param, input.value);
        }
        url = 'control/connections/' + target + '/close'; break;
      case 'deny':
        q.set('code', val('code')); q.set('count', val('count'));
        url = 'control/faults/deny'; break;
      case 'refuse-upgrades':
        q.set('count', val('count'));
        url = 'control/faults/refuse-upgrades'; break;
      case 'init-delay':
        q.set('delay_ms', val('delay_ms'));
        url = 'control/faults/init-delay'; break;
      case 'clear':
        url = 'control/faults/clear'; break;
      case 'mint':
        q.set('identity', val('identity'));
        url = 'token'; method = 'GET'; break;
      default: return;
    }
    if ([...q].length) url += '?' + q;
    out.dataset.ok = '';
    out.textContent = action + '…';
    button.disabled = true;
    try {
      const res = await fetch(url, { method, cache: 'no-store' });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        out.dataset.ok = 'no';
        out.textContent = '✗ ' + action + ' failed: HTTP ' + res.status + (body.error ? ': ' + body.error : '');
        return;
      }
      out.dataset.ok = 'yes';
      out.textContent = '✓ ' + resultWords(action, body, q);
      if (action === 'mint') showToken(body);
      if (body.deny !== undefined) showFaults(body);
    } catch (e) {
      out.dataset.ok = 'no';
      out.textContent = '✗ ' + action + ': the server did not answer (' + e.message + ')';
    } finally {
      button.disabled = false;
    }
  }

  function resultWords(action, body, q) {
    if (body.connections) {
      const ids = body.connections;
      const what = action === 'close' ? 'close ' + q.get('code') : action;
      return ids.length ? what + ' sent to ' + ids.join(', ') : 'no connection in a state ' + action + ' applies to';
    }
    if (action === 'mint') return 'token for ' + body.identity;
    if (body.deny !== undefined) return 'faults now: ' + faultWords(body);
    return action + ' done';
  }

  function showToken(body) {
    const ta = $('#minted');
    ta.hidden = false;
    ta.value = body.token;
    ta.focus();
    ta.select();
    ta.scrollTop = 0;
  }

  document.addEventListener('submit', (e) => {
    e.preventDefault();
    const button = e.submitter && e.submitter.dataset.action ? e.submitter : e.target.querySelector('[data-action]');
    if (button) act(e.target, button);
  });

  // ---- start

  fetch('control/server', { cache: 'no-store' }).then((r) => r.json()).then((info) => {
    if (!info.token_endpoint) {
      $('#mint-off').hidden = false;
      $('#mint').querySelectorAll('input, button').forEach((b) => { b.disabled = true; });
    }
  }).catch(() => {});
  counts();
  connect();
  refreshStats();
})();
