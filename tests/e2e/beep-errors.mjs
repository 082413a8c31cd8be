// Beep error paths, while a conversation goes on.
//
// HTTP, from node with the real X-User-Claim header:
// - GET /connect (upgrade) without identity -> 400 before the upgrade, with a
//   reason; with a malformed claim -> 400;
// - POST /join/x without a claim -> 400 with a reason body; with a malformed
//   claim -> 400; POST /join/bad%2Fid, /join/<129 characters>, /join/a%20b
//   -> 400; POST /join/ok-id -> 200 with an empty body.
// Then two participants (distinct fake-microphone tones, the browser under
// test) talk in one conversation, and from a page's own WebSocket:
// - garbage sent as the offer -> the socket is closed with 1007 and a reason;
// - an offer without audio (data channel only) -> 1007;
// - an offer whose audio has no Opus (only PCMU/PCMA) -> 1007;
// - a socket that never sends an offer -> closed with 1011 (timeout);
// meanwhile the two keep hearing each other: >= 90 % of their readings over
// the whole error phase hear the other's tone (and not their own), and their
// received audio keeps flowing at >= 40 packets/s.
// usage: node tests/e2e/beep-errors.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import { runMediaTest } from './_media.mjs';
import {
  UPGRADE_HEADERS, claim, connect, describe, join, judge, openParticipant, rawRequest, readingsSince,
  requireConnect, summarize, waitHearing,
} from './_beep.mjs';

const GOOD_SHARE = 0.9;
const MIN_PACKET_RATE = 40;

async function httpErrors(ctx) {
  const base = ctx.base;
  const results = [];
  const failures = [];
  // Every check runs (and is reported) even when an earlier one failed.
  const expect = async (what, method, path, headers, status, check) => {
    const r = await rawRequest(base, method, path, headers);
    results.push(`${what} -> ${r.status}${r.body.trim() ? ` "${r.body.trim().slice(0, 80)}"` : ''}`);
    try {
      assert(r.status === status, `${what}: ${method} ${path} -> ${status} (got ${r.statusLine} ${r.body.trim().slice(0, 200)})`);
      if (check) check(r);
    } catch (err) {
      failures.push(err.message);
    }
  };
  const hasReason = (what) => (r) => assert(r.body.trim().length > 0, `${what}: the 400 says why (empty body)`);
  await expect('upgrade without identity', 'GET', '/connect', UPGRADE_HEADERS, 400, hasReason('GET /connect'));
  await expect('upgrade with a claim missing clientid', 'GET', '/connect',
    { ...UPGRADE_HEADERS, 'X-User-Claim': '{"userid":"u"}' }, 400, hasReason('GET /connect bad claim'));
  await expect('join without a claim', 'POST', '/join/x', { 'Content-Length': '0' }, 400, hasReason('POST /join/x'));
  await expect('join with a non-JSON claim', 'POST', '/join/x',
    { 'Content-Length': '0', 'X-User-Claim': 'not json' }, 400, hasReason('POST /join/x bad claim'));
  await expect('join bad%2Fid', 'POST', '/join/bad%2Fid', { 'Content-Length': '0', ...claim('u', 'c') }, 400);
  await expect('join a%20b', 'POST', '/join/a%20b', { 'Content-Length': '0', ...claim('u', 'c') }, 400);
  await expect('join 129 characters', 'POST', `/join/${'x'.repeat(129)}`, { 'Content-Length': '0', ...claim('u', 'c') }, 400);
  await expect('join ok-id', 'POST', '/join/ok-id', { 'Content-Length': '0', ...claim('u', 'c') }, 200,
    (r) => assert(r.body === '', `POST /join/ok-id answers an empty body (got ${JSON.stringify(r.body)})`));
  ctx.log(`HTTP: ${results.join('; ')}`);
  return failures;
}

// In a page: opens /connect with a throwaway identity, sends `offer` (a
// string; 'garbage', 'no-audio', 'no-opus' build one; null sends nothing)
// and resolves with how the server closed the socket.
function attempt(page, kind, userid, waitMs) {
  return page.evaluate(async ([k, uid, limit]) => {
    async function offerOf(build) {
      const pc = new RTCPeerConnection();
      try {
        build(pc);
        await pc.setLocalDescription(await pc.createOffer());
        await new Promise((resolve) => {
          if (pc.iceGatheringState === 'complete') resolve();
          pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
          setTimeout(resolve, 3000);
        });
        return pc.localDescription.sdp;
      } finally {
        pc.close();
      }
    }
    let offer = null;
    if (k === 'garbage') offer = 'this is not an SDP offer\r\nv=banana\r\n';
    else if (k === 'no-audio') offer = await offerOf((pc) => pc.createDataChannel('chat'));
    else if (k === 'no-opus') {
      // A real audio offer, with every payload type but PCMU/PCMA removed.
      const sdp = await offerOf((pc) => pc.addTransceiver('audio'));
      const lines = sdp.split('\r\n');
      const keep = new Set(['0', '8']);
      offer = lines.filter((l) => {
        const m = l.match(/^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)/);
        return !m || keep.has(m[1]);
      }).map((l) => (l.startsWith('m=audio ') ? l.split(' ').filter((f, i) => i < 3 || keep.has(f)).join(' ') : l)).join('\r\n');
      if (/opus/i.test(offer)) throw new Error('munged offer still names opus');
    }
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/connect?userid=${uid}&clientid=${uid}-c`;
    const t0 = performance.now();
    const ws = new WebSocket(url);
    return new Promise((resolve) => {
      let opened = false;
      let messages = 0;
      const timer = setTimeout(() => { ws.close(); resolve({ code: null, reason: `still open after ${limit} ms`, opened, messages }); }, limit);
      ws.onopen = () => { opened = true; if (offer !== null) ws.send(offer); };
      ws.onmessage = () => { messages += 1; };
      ws.onclose = (e) => {
        clearTimeout(timer);
        resolve({ code: e.code, reason: e.reason, opened, messages, ms: Math.round(performance.now() - t0), offerBytes: offer ? offer.length : 0 });
      };
    });
  }, [kind, userid, waitMs]);
}

runMediaTest('beep-errors', [], async (ctx) => {
  await requireConnect(ctx.base);
  const httpFailures = await httpErrors(ctx);

  const C = 'talk';
  const tones = ctx.kind === 'chromium' ? [440, 660] : [1000, 600];
  const browsers = await Promise.all(tones.map((t, i) => ctx.open(t, `participant ${i + 1} (${t} Hz)`)));
  const [p1, p2] = await Promise.all(browsers.map((b, i) => openParticipant(b, ctx.base, {
    userid: `talker${i + 1}`, probes: tones, label: `participant ${i + 1} (${tones[i]} Hz)`,
  })));
  const conns = await Promise.all([p1, p2].map(async (p) => { await join(p, C); return connect(p); }));
  ctx.log(`two participants connected in ${conns.map((c) => c.connectMs).join('/')} ms`);
  const hears = [[p1, [tones[1]], [tones[0]]], [p2, [tones[0]], [tones[1]]]];
  await Promise.all(hears.map(([p, h, a]) => waitHearing(p, h, a, { timeoutMs: ctx.kind === 'firefox' ? 25000 : 15000 })));

  const packets = () => Promise.all([p1, p2].map((p) => p.evaluate(() => window.__tern.stats?.inbound.audio?.packetsReceived ?? 0)));
  const since = Date.now();
  const before = await packets();

  // The silent socket runs alongside the others (the server waits 10 s).
  const silentP = attempt(p2, null, 'mallory-silent', 20000);
  const garbage = await attempt(p1, 'garbage', 'mallory-garbage', 10000);
  const noAudio = await attempt(p1, 'no-audio', 'mallory-noaudio', 10000);
  const noOpus = await attempt(p1, 'no-opus', 'mallory-noopus', 10000);
  const silent = await silentP;
  const show = (r) => `${r.code ?? 'none'} "${r.reason}" after ${r.ms ?? '?'} ms${r.messages ? `, ${r.messages} message(s)` : ''}`;
  ctx.log(`garbage offer: ${show(garbage)}; data-only offer (${noAudio.offerBytes} bytes): ${show(noAudio)}; `
    + `PCMU/PCMA-only offer (${noOpus.offerBytes} bytes): ${show(noOpus)}; no offer: ${show(silent)}`);

  const after = await packets();
  const secs = (Date.now() - since) / 1000;
  const rates = after.map((n, i) => (n - before[i]) / secs);
  const lists = await Promise.all([p1, p2].map((p) => readingsSince(p, since)));
  for (const [i, [p, h, a]] of hears.entries()) {
    const list = lists[i];
    const bad = list.filter((m) => judge(m, h, a) !== null);
    ctx.log(`${p.label} during the errors (${secs.toFixed(1)} s): ${summarize(list, h, a)}, ${bad.length} off, `
      + `${rates[i].toFixed(1)} packets/s`);
    assert(list.length >= secs * 2, `${p.label}: readings kept coming during the errors (${list.length} in ${secs.toFixed(1)} s)`);
    assert(list.length - bad.length >= GOOD_SHARE * list.length, `${p.label} kept hearing ${h} Hz during the errors `
      + `(${bad.length} of ${list.length} readings off: ${bad.slice(0, 4).map((m) => `${describe(m)} (${judge(m, h, a)})`).join(' | ')})`);
    assert(rates[i] >= MIN_PACKET_RATE, `${p.label}: audio kept flowing (${rates[i].toFixed(1)} packets/s)`);
  }

  for (const [what, r, code] of [['garbage offer', garbage, 1007], ['offer without audio', noAudio, 1007],
    ['offer without Opus', noOpus, 1007], ['no offer', silent, 1011]]) {
    assert(r.opened, `${what}: the WebSocket upgrade succeeded (identity is fine; the error comes after)`);
    assert(r.messages === 0, `${what}: no answer was sent (${r.messages} messages)`);
    assert(r.code === code, `${what}: closed with ${code} (got ${r.code} "${r.reason}")`);
    assert(r.reason && r.reason.length > 0, `${what}: the close frame has a reason`);
  }
  // And they still hear each other at the end.
  await Promise.all(hears.map(([p, h, a]) => waitHearing(p, h, a, { timeoutMs: 5000 })));
  assert(!httpFailures.length, `HTTP error answers as specified: ${httpFailures.join('; ')}`);
});
