// Launch helpers for the real-browser tests: Debian's Chromium through
// playwright-core, Debian's Firefox ESR through puppeteer-core over WebDriver
// BiDi (see /work/shared/BROWSER-TESTING.md for why each flag/pref is there).
//
// One small interface over both drivers:
//   const b = await launch('chromium' | 'firefox', opts);
//   const page = await b.newPage();
//   await page.goto(url); await page.click('#start');
//   await page.evaluate(fn, arg); await page.waitFor(fn, arg, timeoutMs);
//   await b.close();
// Every browser gets a fresh temporary profile, removed on close. Browsers
// still open when the process exits (test failure, timeout, signal) are
// killed by the drivers' exit hooks, and their profiles removed by ours.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

export const BROWSERS = ['chromium', 'firefox'];

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // fake-ui also matters on data-channel-only pages: it grants the media
  // permission, without which Chromium hides host addresses behind mDNS (whose
  // responder cannot start in the namespace) and gathers no candidate at all.
  '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
  // Without it Chromium gathers no loopback candidate and ICE stays 'new'.
  '--allow-loopback-in-peer-connection',
];

const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.navigator.audio.fake_frequency': 1000,
  'media.autoplay.default': 0,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
};

// Temporary directories and helper processes to remove/kill on exit,
// whatever the reason for exiting.
const leftovers = new Set();
const helpers = new Set();
process.on('exit', () => {
  for (const p of helpers) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
  for (const dir of leftovers) fs.rmSync(dir, { recursive: true, force: true });
});
// Turn signals into a normal exit so the 'exit' hooks above (and the drivers'
// own, which kill their browser process groups) run.
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => process.exit(code));
}

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  leftovers.add(dir);
  return dir;
}

function removeDir(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  leftovers.delete(dir);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// A private PulseAudio with a null sink, for Firefox pages that analyse
// received audio (its AudioContext never starts without an audio backend).
export async function startPulseAudio() {
  const dir = tempDir('tern-pulse-');
  const env = { ...process.env, XDG_RUNTIME_DIR: dir, HOME: dir, PULSE_RUNTIME_PATH: path.join(dir, 'pulse') };
  const proc = spawn('pulseaudio', ['--daemonize=no', '-n', '--exit-idle-time=-1', '--disallow-exit',
    '--load=module-null-sink', '--load=module-native-protocol-unix', '--use-pid-file=no',
    '--system=false', '--disable-shm=true'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  helpers.add(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const socket = path.join(dir, 'pulse', 'native');
  const deadline = Date.now() + 5000;
  while (!fs.existsSync(socket)) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`pulseaudio did not start: ${stderr.trim().slice(-400)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    env: { PULSE_SERVER: `unix:${socket}` },
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => { if (proc.exitCode !== null) r(); else proc.once('exit', r); });
      helpers.delete(proc);
      removeDir(dir);
    },
  };
}

// Page wrapper: the same calls whichever driver is underneath.
function wrapPage(raw, kind, consoleLines) {
  const record = (text) => {
    consoleLines.push(text);
    if (process.env.E2E_VERBOSE) console.log(`  [${kind}] ${text}`);
  };
  raw.on('console', (msg) => record(`console.${msg.type()}: ${msg.text()}`));
  raw.on('pageerror', (err) => record(`pageerror: ${err && err.message ? err.message : err}`));
  return {
    raw,
    goto: (url, timeoutMs = 15000) => raw.goto(url, { timeout: timeoutMs, waitUntil: 'load' }),
    click: (selector) => raw.click(selector),
    // Sets an <input>'s value the way a user's typing would end up.
    fill: (selector, value) => raw.evaluate(([sel, v]) => {
      const input = document.querySelector(sel);
      if (!input) throw new Error(`no element ${sel}`);
      input.value = String(v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, [selector, value]),
    evaluate: (fn, arg) => raw.evaluate(fn, arg),
    // Polls fn(arg) in the page until truthy; returns its value.
    waitFor: async (fn, arg, timeoutMs = 10000) => {
      const handle = kind === 'chromium'
        ? await raw.waitForFunction(fn, arg, { timeout: timeoutMs, polling: 100 })
        : await raw.waitForFunction(fn, { timeout: timeoutMs, polling: 100 }, arg);
      const value = await handle.jsonValue();
      await handle.dispose();
      return value;
    },
    content: () => raw.content(),
  };
}

// opts: { fakeAudioFile (Chromium: WAV the fake mic plays), fakeFrequency
// (Firefox fake mic tone, Hz), env (extra environment for the browser),
// launchTimeoutMs }
export async function launch(kind, opts = {}) {
  const launchTimeoutMs = opts.launchTimeoutMs ?? 30000;
  const profile = tempDir(`tern-${kind}-`);
  const consoleLines = [];
  const env = { ...process.env, ...(opts.env || {}) };
  let context; // playwright BrowserContext or puppeteer Browser
  try {
    if (kind === 'chromium') {
      const args = [...CHROMIUM_ARGS];
      if (opts.fakeAudioFile) args.push(`--use-file-for-fake-audio-capture=${opts.fakeAudioFile}`);
      context = await withTimeout(chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args,
        env,
        timeout: launchTimeoutMs,
        handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      }), launchTimeoutMs + 1000, 'Chromium launch');
    } else if (kind === 'firefox') {
      const prefs = { ...FIREFOX_PREFS };
      if (opts.fakeFrequency) prefs['media.navigator.audio.fake_frequency'] = opts.fakeFrequency;
      context = await withTimeout(puppeteer.launch({
        browser: 'firefox',
        protocol: 'webDriverBiDi',
        executablePath: FIREFOX,
        headless: true,
        userDataDir: profile,
        extraPrefsFirefox: prefs,
        env: { ...env, MOZ_HEADLESS: '1' },
        timeout: launchTimeoutMs,
        handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      }), launchTimeoutMs + 1000, 'Firefox launch');
    } else {
      throw new Error(`unknown browser ${kind} (want ${BROWSERS.join(' or ')})`);
    }
  } catch (err) {
    removeDir(profile);
    throw err;
  }

  let closed = false;
  return {
    kind,
    consoleLines,
    version: async () => (kind === 'chromium' ? context.browser()?.version() ?? 'chromium' : context.version()),
    async newPage() {
      const raw = await context.newPage();
      return wrapPage(raw, kind, consoleLines);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await withTimeout(context.close(), 15000, `${kind} close`);
      } catch (err) {
        // A browser that will not close is killed with the process at exit.
        console.error(`  warning: ${err.message}`);
      } finally {
        removeDir(profile);
      }
    },
  };
}

// Command-line options shared by the test files:
//   --browser chromium|firefox   (required)
//   --base http://127.0.0.1:3000 (Tern's HTTP address; default $TERN_BASE)
export function parseArgs(argv = process.argv.slice(2)) {
  const out = { browser: null, base: process.env.TERN_BASE || 'http://127.0.0.1:3000' };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--browser') out.browser = argv[++i];
    else if (argv[i] === '--base') out.base = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!BROWSERS.includes(out.browser)) throw new Error(`--browser must be one of ${BROWSERS.join(', ')}`);
  out.base = out.base.replace(/\/$/, '');
  return out;
}

// Runs body(browser) with one browser, closes it whatever happens, prints
// PASS/FAIL and sets the exit code. On failure the page console is printed.
export async function runTest(name, body) {
  let args;
  try {
    args = parseArgs();
  } catch (err) {
    console.error(`${name}: ${err.message}\nusage: node tests/e2e/${name}.mjs --browser chromium|firefox [--base URL]`);
    process.exit(2);
  }
  const started = Date.now();
  let browser = null;
  let ok = false;
  try {
    browser = await launch(args.browser);
    await body(browser, args);
    ok = true;
  } catch (err) {
    console.error(`  ${name} [${args.browser}]: ${err && err.stack ? err.stack : err}`);
    if (browser && browser.consoleLines.length) {
      console.error('  page console (last 40 lines):');
      for (const line of browser.consoleLines.slice(-40)) console.error(`    ${line}`);
    }
  } finally {
    if (browser) await browser.close();
  }
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name} [${args.browser}] ${secs}s`);
  process.exit(ok ? 0 : 1);
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

// Plain HTTP from the test process (node 20 has fetch).
export async function http(method, url, body) {
  const res = await fetch(url, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, text, json };
}
