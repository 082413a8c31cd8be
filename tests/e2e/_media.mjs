// Shared pieces of the media tests (audio-video-loopback, sine-wave, ...):
// fake-microphone tones, a runner that may open several browsers, and the
// page-side measurements the tests wait for. Not a test itself (the leading
// underscore keeps run.sh from running it).
//
// Fake microphones (BROWSER-TESTING.md):
// - Chromium plays a WAV file (mono, 16-bit, 48 kHz) given at launch with
//   --use-file-for-fake-audio-capture: one tone per browser process.
// - Firefox's fake microphone is a sine at the pref
//   media.navigator.audio.fake_frequency, also per process; its AudioContext
//   needs an audio backend, so every Firefox gets a private PulseAudio.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launch, parseArgs, http, startPulseAudio } from './browsers.mjs';

// ---- tones

const RATE = 48000;

// Writes a WAV of a pure tone and returns its path. A whole number of
// seconds holds a whole number of periods of an integer frequency, so the
// file loops without a click.
export function toneWav(hz, { seconds = 2, amplitude = 0.5, dir = os.tmpdir() } = {}) {
  if (!Number.isInteger(hz) || hz <= 0 || hz >= RATE / 2) throw new Error(`toneWav: bad frequency ${hz}`);
  const n = RATE * seconds;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write('WAVE', 8);
  buf.write('fmt ', 12);
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(RATE, 24);
  buf.writeUInt32LE(RATE * 2, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * hz * i) / RATE) * amplitude * 32767);
    buf.writeInt16LE(v, 44 + i * 2);
  }
  const file = path.join(dir, `tern-tone-${hz}hz-${process.pid}.wav`);
  fs.writeFileSync(file, buf);
  return file;
}

// ---- the runner

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// Thrown when the server has no such example: the message says so plainly.
export class NotServed extends Error {}

// Before launching anything: does this server mount /<example>? The REST API
// lists connections at GET /<example>/connections; a server without the
// example answers 404 (see also the page's own 404 message on Start).
export async function requireExample(base, example) {
  let r;
  try {
    r = await http('GET', `${base}/${example}/connections`);
  } catch (err) {
    throw new Error(`cannot reach ${base}: ${err.message}`);
  }
  if (r.status === 404) {
    throw new NotServed(`server does not serve ${example} yet (GET /${example}/connections -> 404)`);
  }
  if (r.status !== 200) throw new Error(`GET /${example}/connections -> ${r.status} ${r.text.slice(0, 200)}`);
}

// runMediaTest(name, examples, body): checks the server mounts every example
// in `examples`, then runs body(ctx) where
//   ctx.kind       'chromium' | 'firefox'; ctx.base: the server's URL
//   ctx.open(tone) launches a browser whose fake microphone plays `tone` Hz
//                  (Chromium: a WAV; Firefox: fake_frequency; null: the
//                  browser's default) — one process per call; all are
//                  closed at the end, whatever happens
//   ctx.open(tone, label, kind)  the same with another browser than the
//                  one under test (tests that pair Firefox with Chromium)
//   ctx.log(text)  prints an indented line
// Prints PASS/FAIL with the time taken and sets the exit status; on failure
// the console of every page opened is printed (last 40 lines per browser).
export async function runMediaTest(name, examples, body) {
  let args;
  try {
    args = parseArgs();
  } catch (err) {
    console.error(`${name}: ${err.message}\nusage: node tests/e2e/${name}.mjs --browser chromium|firefox [--base URL]`);
    process.exit(2);
  }
  const started = Date.now();
  const browsers = [];
  const files = [];
  let pulse = null;
  let ok = false;
  const ctx = {
    kind: args.browser,
    base: args.base,
    log: (text) => console.log(`  ${args.browser}: ${text}`),
    async open(tone, label = tone ? `tone ${tone} Hz` : 'no tone', kind = args.browser) {
      const t0 = Date.now();
      let b;
      if (kind === 'chromium') {
        const opts = {};
        if (tone) {
          opts.fakeAudioFile = toneWav(tone);
          files.push(opts.fakeAudioFile);
        }
        b = await launch('chromium', opts);
      } else {
        if (!pulse) pulse = await startPulseAudio();
        b = await launch('firefox', { fakeFrequency: tone || undefined, env: pulse.env });
      }
      b.label = label;
      browsers.push(b);
      ctx.log(`${label}: browser up in ${Date.now() - t0} ms`);
      return b;
    },
  };
  try {
    for (const ex of examples) await requireExample(args.base, ex);
    await body(ctx);
    ok = true;
  } catch (err) {
    if (err instanceof NotServed) {
      console.error(`  ${name} [${args.browser}]: ${err.message}`);
    } else {
      console.error(`  ${name} [${args.browser}]: ${err && err.stack ? err.stack : err}`);
      for (const b of browsers) {
        if (!b.consoleLines.length) continue;
        console.error(`  page console of the browser with ${b.label} (last 40 lines):`);
        for (const line of b.consoleLines.slice(-40)) console.error(`    ${line}`);
      }
    }
  } finally {
    await Promise.all(browsers.map((b) => b.close()));
    if (pulse) await pulse.stop().catch(() => {});
    for (const f of files) fs.rmSync(f, { force: true });
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name} [${args.browser}] ${secs}s`);
  process.exit(ok ? 0 : 1);
}

// ---- driving the example pages

// Opens /<example>/index.html, waits for the page to be idle.
export async function openExample(browser, base, example) {
  const page = await browser.newPage();
  await page.goto(`${base}/${example}/index.html`);
  await page.waitFor(() => window.__tern && window.__tern.state === 'idle', undefined, 10000);
  return page;
}

// Clicks Start and waits for 'connected'. A 404 from the server becomes
// NotServed; any other page error fails with the page's own message.
export async function startExample(page, example, timeoutMs = 15000) {
  const t0 = Date.now();
  await page.click('#start');
  const t = await page.waitFor(
    () => ['connected', 'error'].includes(window.__tern.state) && window.__tern, undefined, timeoutMs)
    .catch(async (err) => {
      const now = await page.evaluate(() => window.__tern);
      throw new Error(`${example}: not connected within ${timeoutMs} ms (state ${now.state}, `
        + `ICE ${now.iceConnectionState}, connection ${now.connectionState}): ${err.message}`);
    });
  if (t.state === 'error' && t.errorStatus === 404) {
    throw new NotServed(`server does not serve ${example} yet (${t.error})`);
  }
  if (t.state !== 'connected') throw new Error(`${example}: page error on Start: ${t.error}`);
  return { ...t, connectMs: Date.now() - t0 };
}

// Sets a checkbox as a user's click would (change event).
export async function setChecked(page, selector, checked) {
  await page.evaluate(([sel, on]) => {
    const box = document.querySelector(sel);
    if (!box) throw new Error(`no element ${sel}`);
    if (box.checked !== on) {
      box.checked = on;
      box.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }, [selector, checked]);
}

// Polls the page until `need` consecutive fresh samples satisfy ok(sample),
// or throws after timeoutMs with the last samples. A sample is
// { key: window.__tern[key] for each of keys } and is fresh when the first
// key's reading has a new `at`. Returns { samples, ms }.
export async function waitForReadings(page, keys, ok, { need = 3, timeoutMs = 20000, what, describe } = {}) {
  const t0 = Date.now();
  const seen = [];
  let run = 0;
  let lastAt = null;
  while (Date.now() - t0 < timeoutMs) {
    const r = await page.evaluate((ks) => {
      const t = window.__tern;
      const sample = {};
      for (const k of ks) sample[k] = t[k];
      return { sample, state: t.state, error: t.error };
    }, keys);
    if (r.state === 'error') throw new Error(`${what}: page error while listening: ${r.error}`);
    const first = r.sample[keys[0]];
    if (first && first.at !== lastAt) {
      lastAt = first.at;
      seen.push(r.sample);
      run = ok(r.sample) ? run + 1 : 0;
      if (run >= need) return { samples: seen.slice(-need), ms: Date.now() - t0 };
    }
    await sleep(150);
  }
  const show = describe || ((x) => JSON.stringify(x));
  throw new Error(`${what}: not within ${timeoutMs} ms; last samples: `
    + `${seen.length ? seen.slice(-8).map(show).join(' | ') : 'none (no reading at all: AudioContext not running?)'}`);
}

export const near = (m, hz, tol) => Boolean(m) && m.frequency !== null && Math.abs(m.frequency - hz) <= tol;

// Waits for `need` consecutive readings of window.__tern[key] (a tone
// reading { frequency, levelDb, at }) within ±tol Hz of hz.
// Returns { readings, ms }.
export async function waitForTone(page, key, hz, tol, { need = 3, timeoutMs = 20000, what = key } = {}) {
  const r = await waitForReadings(page, [key], (s) => near(s[key], hz, tol), {
    need, timeoutMs, what: `${what}: a ${hz} ± ${tol} Hz tone`, describe: (s) => describeReadings([s[key]]),
  });
  return { readings: r.samples.map((s) => s[key]), ms: r.ms };
}

export function describeReadings(list) {
  if (!list.length) return 'none (no audio reading at all: AudioContext not running?)';
  return list.map((m) => {
    if (!m) return 'none';
    if (m.frequency === null) return m.levelDb === null ? 'silent' : `silent(${m.levelDb}dB)`;
    return `${m.frequency}Hz@${m.levelDb}dB`;
  }).join(' ');
}

// Polls the page's getStats summary until pred(stats) holds; returns it.
export async function waitForStats(page, pred, timeoutMs, what) {
  const t0 = Date.now();
  let last = null;
  while (Date.now() - t0 < timeoutMs) {
    const r = await page.evaluate(() => ({ stats: window.__tern.stats, state: window.__tern.state, error: window.__tern.error }));
    if (r.state === 'error') throw new Error(`${what}: page error: ${r.error}`);
    last = r.stats;
    if (last && pred(last)) return last;
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms; last stats: ${JSON.stringify(last)}`);
}

export const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : null;
};
