// ward's dashboard: plain JavaScript, no framework, nothing loaded from elsewhere.
// Everything comes from ward's API with the token as a Bearer header (never in a
// URL or a cookie); events arrive live as server-sent events read with fetch().
'use strict';

const HOUR = 3600 * 1000;
const KEY = 'ward-token';
const ui = {
  token: sessionStorage.getItem(KEY) || '',
  events: [],            // every event of the last hour, by seq
  lastSeq: 0,
  instances: [],
  logs: null,            // AbortController of the followed log
  statusTimer: null,
  generation: 0,         // bumps on every (re)connect, ends older streams
};

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function svg(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function say(text, error) {
  const m = $('#message');
  m.textContent = text;
  m.className = error ? 'error' : '';
}

function conn(text, cls) {
  const c = $('#conn');
  c.textContent = text;
  c.className = 'conn ' + cls;
}

function call(path, init) {
  const headers = Object.assign({ Authorization: 'Bearer ' + ui.token }, (init && init.headers) || {});
  return fetch(path, Object.assign({ cache: 'no-store' }, init, { headers }));
}

async function json(path, init) {
  const r = await call(path, init);
  const body = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

// ---- the instance table -------------------------------------------------

function scheduleStatus(delay) {
  clearTimeout(ui.statusTimer);
  ui.statusTimer = setTimeout(refreshStatus, delay);
}

async function refreshStatus() {
  try {
    ui.instances = (await json('/v1/status')).instances;
    drawTable();
  } catch (e) {
    say('status: ' + e.message, true);
  }
  scheduleStatus(5000); // keeps uptimes current; events refresh it at once
}

function ago(ms) {
  if (ms == null) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return s + 's';
  if (s < 3600) return Math.floor(s / 60) + 'm' + (s % 60) + 's';
  return Math.floor(s / 3600) + 'h' + Math.floor((s % 3600) / 60) + 'm';
}

function plural(n, word) {
  return n + ' ' + word + (n === 1 ? '' : 's');
}

function exitText(x) {
  if (!x) return '-';
  if (x.code != null) return 'code ' + x.code;
  if (x.signal_name) return x.signal_name;
  if (x.signal != null) return 'signal ' + x.signal;
  return 'unknown';
}

function drawTable() {
  const body = $('#instances tbody');
  body.replaceChildren();
  for (const i of ui.instances) {
    const id = i.service + '/' + i.replica;
    const actions = el('td', {});
    for (const act of ['restart', 'stop', 'start', 'unblock', 'isolate']) {
      actions.append(el('button', { 'data-act': act, title: act + ' ' + id + ' (operator token)' }, act));
    }
    actions.append(el('button', { 'data-show': 'why' }, 'why'), el('button', { 'data-show': 'logs' }, 'logs'));
    const last = i.last_exit ? el('a', { class: 'exit', 'data-show': 'dossier' }, exitText(i.last_exit)) : '-';
    const gate = i.gate.state + (i.gate.crashes ? ' (' + i.gate.crashes + '/' + i.gate.threshold + ')' : '');
    body.append(el('tr', { 'data-id': id },
      el('td', {}, id), el('td', {}, el('span', { class: 'state ' + i.state }, i.state)),
      el('td', {}, i.state === 'ready' ? 'yes' : '-'), el('td', {}, i.pid == null ? '-' : i.pid),
      el('td', { class: 'restarts' }, i.restarts), el('td', {}, ago(i.uptime_ms)),
      el('td', {}, last), el('td', {}, gate), actions));
  }
}

async function act(verb, target) {
  say(verb + ' ' + target + '…');
  try {
    const r = await json('/v1/' + verb, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ target }),
    });
    say(r.message);
  } catch (e) {
    say(verb + ' ' + target + ': ' + e.message, true);
  }
  scheduleStatus(50);
}

// ---- events: the live stream and the timeline ---------------------------

async function follow(generation) {
  while (generation === ui.generation) {
    try {
      const from = ui.lastSeq ? '&since=' + (ui.lastSeq + 1) : '&since_ms=' + (Date.now() - HOUR);
      const r = await call('/v1/events?follow=true' + from);
      if (!r.ok) {
        const body = await r.json().catch(() => ({}));
        conn('refused', 'off');
        say('events: ' + (body.error || r.statusText), true);
        return;
      }
      conn('live', 'live');
      const reader = r.body.getReader();
      const text = new TextDecoder();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done || generation !== ui.generation) break;
        buf += text.decode(value, { stream: true });
        let end;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          frame(buf.slice(0, end));
          buf = buf.slice(end + 2);
        }
      }
    } catch (e) {
      // the connection dropped: try again below
    }
    if (generation !== ui.generation) return;
    conn('reconnecting', 'off');
    await new Promise((ok) => setTimeout(ok, 2000));
  }
}

function frame(text) {
  let kind = 'message';
  let data = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('event: ')) kind = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (kind === 'lagged') {
    say('this page fell behind and missed some events', true);
    return;
  }
  if (kind !== 'event') return;
  const ev = JSON.parse(data);
  if (ev.seq <= ui.lastSeq) return;
  ui.lastSeq = ev.seq;
  ui.events.push(ev);
  scheduleTimeline();
  scheduleStatus(100);
}

let timelineTimer = null;
function scheduleTimeline() {
  clearTimeout(timelineTimer);
  timelineTimer = setTimeout(drawTimeline, 100);
}

function drawTimeline() {
  const now = Date.now();
  const from = now - HOUR;
  ui.events = ui.events.filter((e) => e.ts_ms >= from || (e.until_ms || 0) >= from);
  const services = [...new Set(ui.instances.map((i) => i.service).concat(ui.events.map((e) => e.service)))].sort();
  const x = (t) => Math.max(0, Math.min(1000, ((t - from) / HOUR) * 1000)).toFixed(1);
  const box = $('#timeline');
  box.replaceChildren();
  for (const service of services) {
    const track = svg('svg', { class: 'track', viewBox: '0 0 1000 34', preserveAspectRatio: 'none' });
    const mine = ui.events.filter((e) => e.service === service);
    for (const e of mine) {
      if ((e.kind === 'backoff' || e.kind === 'crashloop') && e.until_ms) {
        const w = Math.max(1, x(Math.min(e.until_ms, now)) - x(e.ts_ms));
        track.append(svg('rect', { class: e.kind, x: x(e.ts_ms), y: 2, width: w, height: 30, 'data-kind': e.kind }));
      }
    }
    for (const e of mine) {
      const mark = { started: [24, 6], exited: [4, 8], restarted: [14, 7] }[e.kind];
      if (!mark) continue;
      const at = Math.max(0, Math.min(994, x(e.ts_ms) - 3));
      const r = svg('rect', { class: e.kind, x: at, y: mark[0], width: 6, height: mark[1],
        'data-kind': e.kind, 'data-seq': e.seq });
      const what = e.kind + ' ' + e.service + '/' + e.replica + ' at ' + e.ts + (e.exit ? ' (' + exitText(e.exit) + ')' : '');
      r.append(svg('title', {}));
      r.lastChild.textContent = what;
      track.append(r);
    }
    for (const m of [0, 15, 30, 45]) {
      const t = svg('text', { class: 'axis', x: (m / 60) * 1000 + 2, y: 33 });
      t.textContent = '-' + (60 - m) + 'm';
      track.append(t);
    }
    const restarts = mine.filter((e) => e.kind === 'restarted').length;
    const exits = mine.filter((e) => e.kind === 'exited').length;
    box.append(el('div', { class: 'service-row', 'data-service': service },
      el('span', { class: 'name' }, service), track,
      el('span', { class: 'count', 'data-restarts': restarts }, plural(restarts, 'restart') + ', ' + plural(exits, 'exit'))));
  }
}

// ---- dossier, why, logs -------------------------------------------------

function showDossier(ev) {
  $('#dossier-of').textContent = ev ? ev.service + '/' + ev.replica + ' #' + ev.seq : '';
  const box = $('#dossier');
  if (!ev) {
    box.replaceChildren(el('p', { class: 'hint' }, 'No exit of this instance in the last hour.'));
    return;
  }
  const d = ev.dossier || {};
  const dec = d.decision || {};
  const rows = [
    ['exit', exitText(ev.exit) + (d.oom_killed ? ' (OOM-killed)' : '')],
    ['ran for', ago(ev.run_ms)],
    ['when', ev.ts],
    ['cpu', d.rusage ? d.rusage.cpu_ms + ' ms' : '-'],
    ['max rss', d.rusage ? d.rusage.max_rss_kb + ' KiB' : '-'],
    ['restarts before', d.restarts == null ? '-' : d.restarts],
    ['decision', (dec.state || '-') + (dec.until_ms ? ' until ' + new Date(dec.until_ms).toLocaleTimeString() : '')],
    ['reason', dec.reason || '-'],
  ];
  const dl = el('dl', {});
  for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, v));
  box.replaceChildren(dl, el('pre', { class: 'output' }, (d.output || []).join('\n') || '(no output)'));
}

function lastExitOf(id) {
  const [service, replica] = id.split('/');
  const exits = ui.events.filter((e) => e.kind === 'exited' && e.service === service && String(e.replica) === replica);
  return exits[exits.length - 1];
}

async function showWhy(id) {
  $('#why-of').textContent = id;
  const box = $('#why');
  try {
    const r = await json('/v1/why?target=' + encodeURIComponent(id));
    box.textContent = r.instances.map((i) => i.text).join('\n');
    box.className = '';
  } catch (e) {
    box.textContent = e.message;
  }
}

async function followLogs(id) {
  if (ui.logs) ui.logs.abort();
  const stop = new AbortController();
  ui.logs = stop;
  $('#logs-of').textContent = id + ' (following)';
  const box = $('#logs');
  box.textContent = '';
  box.className = '';
  try {
    const r = await call('/v1/logs?target=' + encodeURIComponent(id) + '&n=200&follow=true', { signal: stop.signal });
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || r.statusText);
    const reader = r.body.getReader();
    const text = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
      box.textContent = (box.textContent + text.decode(value, { stream: true })).split('\n').slice(-2000).join('\n');
      if (stick) box.scrollTop = box.scrollHeight;
    }
  } catch (e) {
    if (!stop.signal.aborted) box.textContent += '\n[' + e.message + ']';
  }
}

// ---- wiring -------------------------------------------------------------

function connect() {
  ui.generation += 1;
  ui.events = [];
  ui.lastSeq = 0;
  if (!ui.token) {
    conn('no token', 'off');
    say('Paste a token: a read-only one to watch, an operator one to act.');
    return;
  }
  say('');
  refreshStatus();
  follow(ui.generation);
}

document.addEventListener('DOMContentLoaded', () => {
  $('#token').value = ui.token;
  $('#login').addEventListener('submit', (e) => {
    e.preventDefault();
    ui.token = $('#token').value.trim();
    sessionStorage.setItem(KEY, ui.token);
    connect();
  });
  $('#forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    ui.token = '';
    $('#token').value = '';
    connect();
  });
  $('#instances').addEventListener('click', (e) => {
    const b = e.target.closest('[data-act], [data-show]');
    const row = e.target.closest('tr[data-id]');
    if (!b || !row) return;
    const id = row.getAttribute('data-id');
    if (b.dataset.act) act(b.dataset.act, id);
    else if (b.dataset.show === 'why') showWhy(id);
    else if (b.dataset.show === 'logs') followLogs(id);
    else if (b.dataset.show === 'dossier') showDossier(lastExitOf(id));
  });
  $('#timeline').addEventListener('click', (e) => {
    const seq = e.target.getAttribute && e.target.getAttribute('data-seq');
    const ev = seq && ui.events.find((x) => String(x.seq) === seq && x.kind === 'exited');
    if (ev) showDossier(ev);
  });
  setInterval(drawTimeline, 30000); // slide the hour along
  connect();
});
