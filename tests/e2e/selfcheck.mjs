// Self-check of the harness, independent of Tern's WebRTC stack: tells
// "browser / namespace / flags broken" apart from "server broken".
//   1. the browser launches (inside the loopback-only namespace);
//   2. two RTCPeerConnections inside one page connect to each other over
//      loopback and exchange data-channel messages (proves the ICE flags,
//      prefs and default routes are right);
//   3. with a server: / lists every example and /ping-pong/index.html loads
//      its page script (proves static serving and the ES modules).
// usage: node tests/e2e/selfcheck.mjs --browser chromium|firefox [--base URL] [--no-pages]

import http from 'node:http';
import { launch, parseArgs, assert } from './browsers.mjs';

const EXAMPLES = ['ping-pong', 'audio-video-loopback', 'sine-wave', 'sine-wave-stereo',
  'pitch-detector', 'broadcaster', 'viewer', 'datachannel-buffer-limits',
  'video-compositing', 'record-audio-video-stream', 'conversation'];

const argv = process.argv.slice(2);
const noPages = argv.includes('--no-pages');
const args = parseArgs(argv.filter((a) => a !== '--no-pages'));

// Runs in the page: a data-channel pair over loopback, non-trickle like Tern.
// Bounded: rejects after 10 s whatever step hangs.
async function loopbackPair() {
  const t0 = performance.now();
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  const candidates = (sdp) => sdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate'));
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(
    `no connection after 10 s: ICE gathering a=${a.iceGatheringState} b=${b.iceGatheringState}, `
    + `ICE a=${a.iceConnectionState} b=${b.iceConnectionState}; offer candidates: `
    + `${JSON.stringify(a.localDescription ? candidates(a.localDescription.sdp) : null)}`)), 10000); });
  const gathered = (pc) => Promise.race([timeout, new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') resolve();
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') resolve();
    });
  })]);
  try {
    const dc = a.createDataChannel('selfcheck');
    const gotChannel = new Promise((resolve) => { b.ondatachannel = (ev) => resolve(ev.channel); });
    await a.setLocalDescription(await a.createOffer());
    await gathered(a);
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await gathered(b);
    await a.setRemoteDescription(b.localDescription);
    const channelB = await Promise.race([gotChannel, timeout]);
    if (dc.readyState !== 'open') {
      await Promise.race([new Promise((r) => dc.addEventListener('open', r, { once: true })), timeout]);
    }
    const echoed = new Promise((resolve) => { dc.onmessage = (ev) => resolve(ev.data); });
    channelB.onmessage = (ev) => channelB.send(`echo ${ev.data}`);
    dc.send('hello');
    const reply = await Promise.race([echoed, timeout]);
    const connectMs = Math.round(performance.now() - t0);

    let pair = null;
    const stats = await a.getStats();
    stats.forEach((s) => {
      if (s.type === 'candidate-pair' && (s.selected || s.nominated) && s.state === 'succeeded') {
        const local = stats.get(s.localCandidateId);
        const remote = stats.get(s.remoteCandidateId);
        pair = `${local?.address ?? local?.ip}:${local?.port} <-> ${remote?.address ?? remote?.ip}:${remote?.port}`;
      }
    });
    return { reply, connectMs, pair, offerCandidates: candidates(a.localDescription.sdp) };
  } finally {
    clearTimeout(timer);
    a.close();
    b.close();
  }
}

// Chromium gathers no candidates on about:blank, so the pair runs on a blank
// page from this process's own HTTP server (not Tern's: this part must not
// depend on the server under test).
async function blankPageServer() {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>selfcheck</title>');
  });
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).on('error', reject));
  return server;
}

let browser;
let blank;
let ok = false;
const started = Date.now();
try {
  const t0 = Date.now();
  browser = await launch(args.browser);
  console.log(`  ${args.browser}: launched in ${Date.now() - t0} ms`);
  const page = await browser.newPage();
  blank = await blankPageServer();
  await page.goto(`http://127.0.0.1:${blank.address().port}/`);
  const r = await page.evaluate(loopbackPair);
  console.log(`  ${args.browser}: loopback pc pair connected in ${r.connectMs} ms, pair ${r.pair}, `
    + `${r.offerCandidates.length} offer candidate(s)`);
  assert(r.reply === 'echo hello', `data-channel echo, got ${JSON.stringify(r.reply)}`);
  assert(r.offerCandidates.length > 0, 'the offer has candidates');
  for (const line of r.offerCandidates) {
    assert(/ (127\.0\.0\.1|::1) /.test(line), `candidate on loopback only: ${line}`);
  }

  if (!noPages) {
    await page.goto(`${args.base}/index.html`);
    const links = await page.evaluate(() => [...document.querySelectorAll('ul.examples a')]
      .map((a) => new URL(a.href).pathname));
    for (const ex of EXAMPLES) {
      assert(links.includes(`/${ex}/index.html`), `index.html links /${ex}/index.html (has ${links.join(' ')})`);
    }
    console.log(`  ${args.browser}: index.html lists ${links.length} examples`);

    await page.goto(`${args.base}/ping-pong/index.html`);
    const state = await page.waitFor(() => window.__tern && document.querySelector('#start')
      && !document.querySelector('#start').disabled && window.__tern.state, undefined, 10000);
    assert(state === 'idle', `ping-pong page idle, got ${state}`);
    const css = await page.evaluate(() => getComputedStyle(document.body).maxWidth);
    assert(css !== 'none', 'lib/style.css applied');
    console.log(`  ${args.browser}: ping-pong page loaded (module scripts ran, state ${state})`);
  }
  ok = true;
} catch (err) {
  console.error(`  selfcheck [${args.browser}]: ${err && err.stack ? err.stack : err}`);
  if (browser) for (const line of browser.consoleLines.slice(-40)) console.error(`    ${line}`);
} finally {
  if (browser) await browser.close();
  if (blank) blank.close();
}
console.log(`${ok ? 'PASS' : 'FAIL'} selfcheck [${args.browser}] ${((Date.now() - started) / 1000).toFixed(1)}s`);
process.exit(ok ? 0 : 1);
