// Shared pieces of the Beep tests (beep-conversation, beep-errors): raw HTTP
// (a WebSocket upgrade whose status line we can read: fetch cannot upgrade),
// the conversation page driven as a participant, and the rules for "hears a
// tone" / "does not hear it". Not a test itself (leading underscore).
//
// The page (web/conversation/) gives its identity as ?userid=&clientid=,
// which the server accepts only with AUTH_DEV_QUERY=1 and from loopback;
// run.sh starts the server that way. Node's requests use the real
// X-User-Claim header.
//
// What a participant hears is judged on the page's readings (every 200 ms, a
// 16384-point FFT of the received audio): a tone is *heard* when one of the
// three strongest spectral peaks is within ±TOL_HZ of it; a tone is *absent*
// when the reading is silent or the strongest FFT bin within ±TOL_HZ of it
// (the page's `bands`) is at least BELOW_DB under the weakest tone that must
// be heard — or, when nothing must be heard, under NONE_DB absolute.

import net from 'node:net';
import { NotServed, setChecked, waitForReadings } from './_media.mjs';

export const TOL_HZ = 15;
export const BELOW_DB = 20;
export const NONE_DB = -70; // an AnalyserNode bin; an audible tone here is ~-20..-40 dB

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- raw HTTP

// Sends one HTTP/1.1 request over a fresh TCP connection and reads the
// response: { status, statusLine, headers, body }. For a 101 the socket is
// closed at once (the test only wanted to know the upgrade was accepted).
export function rawRequest(base, method, path, headers = {}, { timeoutMs = 5000 } = {}) {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port || 80), url.hostname);
    let buf = Buffer.alloc(0);
    let head = null;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${method} ${path}: no complete response within ${timeoutMs} ms `
        + `(got ${JSON.stringify(buf.toString('latin1').slice(0, 200))})`));
    }, timeoutMs);
    const finish = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const tryParse = (ended) => {
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (ended) finish({ status: null, statusLine: null, headers: {}, body: buf.toString('latin1') });
          return;
        }
        const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
        const statusLine = lines[0];
        const status = Number((statusLine.match(/^HTTP\/1\.[01] (\d{3})/) || [])[1] ?? NaN);
        const hdrs = {};
        for (const l of lines.slice(1)) {
          const i = l.indexOf(':');
          if (i > 0) hdrs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        head = { status, statusLine, headers: hdrs, bodyStart: end + 4 };
        if (status === 101) { finish({ status, statusLine, headers: hdrs, body: '' }); return; }
      }
      const body = buf.subarray(head.bodyStart);
      const len = head.headers['content-length'];
      if ((len !== undefined && body.length >= Number(len)) || ended) {
        finish({ status: head.status, statusLine: head.statusLine, headers: head.headers,
          body: body.subarray(0, len !== undefined ? Number(len) : body.length).toString('utf8') });
      }
    };
    socket.on('connect', () => {
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${url.host}`];
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (d) => { buf = Buffer.concat([buf, d]); tryParse(false); });
    socket.on('end', () => tryParse(true));
    socket.on('error', (err) => { clearTimeout(timer); reject(new Error(`${method} ${path}: ${err.message}`)); });
  });
}

export const UPGRADE_HEADERS = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
};

export const claim = (userid, clientid) => ({ 'X-User-Claim': JSON.stringify({ userid, clientid }) });

// Before launching any browser: does this server serve GET /connect, and
// accept the page's development identity?
export async function requireConnect(base) {
  let r;
  try {
    r = await rawRequest(base, 'GET', '/connect?userid=probe&clientid=probe', UPGRADE_HEADERS);
  } catch (err) {
    throw new Error(`cannot reach ${base}: ${err.message}`);
  }
  if (r.status === 404) throw new NotServed(`server does not serve /connect yet (GET /connect upgrade -> 404)`);
  if (r.status === 400 || r.status === 401) {
    throw new Error(`GET /connect?userid=probe&clientid=probe -> ${r.status} ${r.body.trim()}: `
      + 'the page needs the server started with AUTH_DEV_QUERY=1 (run.sh does that)');
  }
  if (r.status !== 101) throw new Error(`GET /connect upgrade -> ${r.statusLine} ${r.body.trim().slice(0, 200)}`);
}

// ---- the conversation page as a participant

// Opens the page in a new tab with this identity, voice processing off (it
// would suppress a steady tone) and the probe frequencies set.
export async function openParticipant(browser, base, { userid, clientid = `${userid}-c`, probes = [], label }) {
  const page = await browser.newPage();
  await page.goto(`${base}/conversation/index.html`);
  await page.waitFor(() => window.__tern && window.__tern.state === 'idle', undefined, 10000);
  await page.fill('#userid', userid);
  await page.fill('#clientid', clientid);
  await setChecked(page, '#voice-processing', false);
  await page.evaluate((p) => { window.__tern.probes = p; }, probes);
  page.label = label || userid;
  page.browser = browser;
  return page;
}

// Clicks Join for `conversation`; waits for the POST's answer, asserts 200.
// Returns { ms: the POST's round trip, sentAt, doneAt (Date.now() in the
// page when it was sent / answered) }.
export async function join(page, conversation) {
  const before = await page.evaluate(() => window.__tern.joins.length);
  await page.fill('#conversation', conversation);
  await page.click('#join');
  const t = await page.waitFor((n) => window.__tern.joins.length > n && window.__tern, before, 10000);
  const j = t.joins[t.joins.length - 1];
  if (j.status !== 200) throw new Error(`${page.label}: POST /join/${conversation} -> ${j.status} ${j.text}`);
  return { ms: j.ms, sentAt: j.sentWall, doneAt: j.doneWall };
}

// Clicks Connect; waits for 'connected' (ICE + DTLS up) and returns the
// page's state with connectMs.
export async function connect(page, timeoutMs = 20000) {
  await page.click('#connect');
  const t = await page.waitFor(() => ['connected', 'error'].includes(window.__tern.state) && window.__tern,
    undefined, timeoutMs).catch(async (err) => {
    const now = await page.evaluate(() => window.__tern);
    throw new Error(`${page.label}: not connected within ${timeoutMs} ms (signalling ${now.ws} `
      + `${JSON.stringify(now.wsClose)}, ICE ${now.iceConnectionState}, connection ${now.connectionState}): ${err.message}`);
  });
  if (t.state === 'error') {
    if (t.errorStatus === 404) throw new NotServed(`server does not serve /connect yet (${t.error})`);
    throw new Error(`${page.label}: Connect failed: ${t.error}`);
  }
  return t;
}

// ---- judging what is heard

const silent = (m) => !m || m.frequency === null;
const peakNear = (m, hz) => !silent(m) && m.peaks.some((p) => Math.abs(p.frequency - hz) <= TOL_HZ);
const band = (m, hz) => (m.bands && m.bands[hz] !== undefined ? m.bands[hz] : null);

// Checks one reading: every tone in `hear` is heard, every tone in `absent`
// is absent. Returns null when it holds, else why not.
export function judge(m, hear, absent) {
  if (hear.length) {
    if (silent(m)) return 'silent';
    const missing = hear.filter((hz) => !peakNear(m, hz));
    if (missing.length) return `no peak at ${missing.join('/')} Hz`;
    const levels = hear.map((hz) => band(m, hz)).filter((x) => x !== null);
    const ref = Math.min(...levels);
    const loud = absent.filter((hz) => band(m, hz) !== null && band(m, hz) > ref - BELOW_DB);
    if (loud.length) return `${loud.map((hz) => `${hz} Hz at ${band(m, hz)} dB`).join(', ')} not ${BELOW_DB} dB under ${ref} dB`;
    return null;
  }
  if (silent(m)) return null;
  const loud = absent.filter((hz) => peakNear(m, hz) || (band(m, hz) !== null && band(m, hz) > NONE_DB));
  if (loud.length) return `hears ${loud.map((hz) => `${hz} Hz (${band(m, hz)} dB)`).join(', ')}`;
  return null;
}

// One reading in a line: "440Hz@-23.1 660Hz@-24.0 | bands 440:-23 880:-95".
export function describe(m) {
  if (!m) return 'none';
  if (silent(m)) return m.levelDb === null ? 'silent' : `silent(${m.levelDb}dB)`;
  const peaks = m.peaks.map((p) => `${p.frequency}Hz@${p.db}`).join(' ');
  const bands = Object.entries(m.bands || {}).map(([hz, db]) => `${hz}:${db ?? '-'}`).join(' ');
  return `[${m.levelDb}dBFS] ${peaks} | bands ${bands}`;
}

// Waits until `need` consecutive readings pass judge(hear, absent).
export async function waitHearing(page, hear, absent, { need = 3, timeoutMs = 20000 } = {}) {
  const what = `${page.label} hears ${hear.length ? hear.join(' + ') : 'nothing'} Hz`
    + `${absent.length ? ` and not ${absent.join('/')}` : ''}`;
  const r = await waitForReadings(page, ['tone'], (s) => judge(s.tone, hear, absent) === null, {
    need, timeoutMs, what, describe: (s) => `${describe(s.tone)}${judge(s.tone, hear, absent) ? ` (${judge(s.tone, hear, absent)})` : ''}`,
  });
  return { readings: r.samples.map((s) => s.tone), ms: r.ms };
}

// The page's readings (its last 100) taken at or after `since` (Date.now()).
export async function readingsSince(page, since) {
  return page.evaluate((t) => window.__tern.tones.filter((m) => m.wall >= t), since);
}

// Keeps reading for `ms` and asserts that every reading passes; returns
// them. At least ms/400 readings are required (one per 200 ms expected).
export async function holdHearing(page, hear, absent, ms) {
  const since = Date.now();
  await sleep(ms);
  const list = await readingsSince(page, since);
  if (list.length < ms / 400) {
    throw new Error(`${page.label}: only ${list.length} readings in ${ms} ms (AudioContext not running?)`);
  }
  const bad = list.filter((m) => judge(m, hear, absent) !== null);
  if (bad.length) {
    throw new Error(`${page.label}: ${bad.length} of ${list.length} readings over ${ms} ms break "hears `
      + `${hear.join(' + ') || 'nothing'}, not ${absent.join('/')}": `
      + `${bad.slice(0, 4).map((m) => `${describe(m)} (${judge(m, hear, absent)})`).join(' | ')}`);
  }
  return list;
}

// Time from `since` to the first reading after which every reading (at
// least `need`) passes; polls until timeoutMs. Returns { ms, readings } or
// throws with the readings seen.
export async function timeToHearing(page, hear, absent, since, { need = 3, timeoutMs = 8000 } = {}) {
  const deadline = since + timeoutMs;
  let list = [];
  while (Date.now() < deadline) {
    list = await readingsSince(page, since);
    let start = -1;
    for (let i = list.length - 1; i >= 0 && judge(list[i], hear, absent) === null; i--) start = i;
    if (start >= 0 && list.length - start >= need) {
      // What was heard on the way, for a log or a failure message.
      const timeline = list.slice(0, start + 1).slice(-12)
        .map((m) => `+${m.wall - since}ms ${describe(m)} (${judge(m, hear, absent) ?? 'ok'})`).join(' | ');
      return { ms: list[start].wall - since, readings: list.slice(start), timeline };
    }
    await sleep(100);
  }
  throw new Error(`${page.label}: not hearing ${hear.join(' + ') || 'nothing'} (without ${absent.join('/')}) `
    + `within ${timeoutMs} ms; readings: ${list.slice(-8).map((m) => `${describe(m)} (${judge(m, hear, absent) ?? 'ok'})`).join(' | ')}`);
}

// Level summary of a set of readings for the log: "660 -23.4 dB, 880 -23.9 dB; 440 <= -92".
export function summarize(readings, hear, absent) {
  const med = (xs) => { const s = xs.filter((x) => x !== null).sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : null; };
  const level = (hz) => med(readings.map((m) => band(m, hz)));
  const worst = (hz) => {
    const xs = readings.map((m) => (silent(m) ? null : band(m, hz))).filter((x) => x !== null);
    return xs.length ? Math.max(...xs) : 'silent';
  };
  const heard = hear.map((hz) => `${hz} Hz ${level(hz)} dB`).join(', ');
  const not = absent.map((hz) => `${hz} ≤ ${worst(hz)}`).join(', ');
  return `${heard || 'nothing'}${not ? `; not ${not}` : ''} (${readings.length} readings)`;
}
