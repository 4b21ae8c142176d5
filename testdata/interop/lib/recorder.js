'use strict';
// The recorder is the driver's only output: one JSON object per line on stdout,
// {t_ms, kind, name, data}, in the order the SDK emitted them, then one summary
// line. The Go side parses nothing else, so nothing else may go to stdout; the
// SDKs log to the console only at levels the drivers switch off.

const { performance } = require('node:perf_hooks');

class TimeoutError extends Error {}

class Recorder {
  constructor(out = process.stdout) {
    this.out = out;
    this.t0 = performance.now();
    this.entries = [];
    this.waiters = new Set();
  }

  now() {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }

  /** record writes one line. kind is "state" (a public connection state), "event" (any other SDK event) or "driver" (what the driver did). */
  record(kind, name, data) {
    const entry = { t_ms: this.now(), kind, name, data: data === undefined ? null : data };
    this.entries.push(entry);
    this.out.write(JSON.stringify(entry) + '\n');
    for (const w of this.waiters) {
      if (w.match(entry)) w.resolve(entry);
    }
    return entry;
  }

  state(name) { return this.record('state', name); }
  event(name, data) { return this.record('event', name, data); }
  driver(name, data) { return this.record('driver', name, data); }

  /** mark returns a position in the log, so a later wait only matches what happens after it. */
  mark() { return this.entries.length; }

  /**
   * waitFor resolves with the first entry at or after position `from` that
   * satisfies match, or rejects with a TimeoutError after ms. The driver waits
   * on what the SDK emits, never on a fixed sleep, except where a scenario must
   * watch for something that should NOT happen (see observe).
   */
  waitFor(match, { from = 0, ms = 10000, what = 'event' } = {}) {
    for (let i = from; i < this.entries.length; i++) {
      if (match(this.entries[i])) return Promise.resolve(this.entries[i]);
    }
    return new Promise((resolve, reject) => {
      const w = {
        match,
        resolve: (e) => { clearTimeout(timer); this.waiters.delete(w); resolve(e); },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new TimeoutError(`no ${what} within ${ms} ms`));
      }, ms);
      this.waiters.add(w);
    });
  }

  waitState(name, opts = {}) {
    return this.waitFor((e) => e.kind === 'state' && e.name === name, { what: `state ${name}`, ...opts });
  }

  waitEvent(name, opts = {}) {
    return this.waitFor((e) => e.kind === 'event' && e.name === name, { what: `event ${name}`, ...opts });
  }

  /**
   * observe watches for ms and returns every entry recorded meanwhile. It is
   * the one deliberate wait: proving that the SDK does NOT retry after a denial
   * needs a window longer than its first backoff (about 1 s, ±20%).
   */
  observe(ms) {
    const from = this.mark();
    return new Promise((resolve) => setTimeout(() => resolve(this.entries.slice(from)), ms));
  }

  summary(fields) {
    const states = this.entries.filter((e) => e.kind === 'state').map((e) => e.name);
    const events = this.entries.filter((e) => e.kind === 'event').map((e) => e.name);
    return { t_ms: this.now(), kind: 'summary', name: 'summary', data: { states, events, ...fields } };
  }
}

module.exports = { Recorder, TimeoutError };
