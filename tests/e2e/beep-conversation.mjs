// Beep conversations in real browsers, through the conversation page
// (web/conversation/: GET /connect WebSocket signalling, POST /join).
//
// --browser chromium: three Chromium processes with distinct fake-microphone
//   tones (440/660/880 Hz) in conversation A, a fourth (1100 Hz) in B.
//   Each of A hears the other two tones and not its own (nor 1100); the one
//   in B hears none of A's (it is alone). Joins happen before and after
//   Connect. Then participant 3 (880 Hz) joins B: within 2 s of the POST's
//   200 (the FFT window adds ~0.3 s of its own) participants 1
//   and 2 no longer hear 880, the B participant hears it, and 3 hears 1100.
// --browser firefox: a Firefox participant (fake tone 1000 Hz, PulseAudio)
//   and a Chromium participant (440 Hz) in one conversation: each hears the
//   other and not itself.
// usage: node tests/e2e/beep-conversation.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import { runMediaTest } from './_media.mjs';
import {
  connect, holdHearing, join, openParticipant, requireConnect, summarize, timeToHearing, waitHearing,
} from './_beep.mjs';

const SWITCH_LIMIT_MS = 2000;

async function participant(ctx, browser, spec) {
  const page = await openParticipant(browser, ctx.base, spec);
  page.tone = spec.tone;
  return page;
}

function pageErrors(pages) {
  return pages.flatMap((p) => p.browser.consoleLines.filter((l) => l.startsWith('pageerror')));
}

async function chromiumFour(ctx) {
  const A = 'conversation-a';
  const B = 'conversation-b';
  const tones = [440, 660, 880, 1100];
  const probes = tones;
  const browsers = await Promise.all(tones.map((t, i) => ctx.open(t, `participant ${i + 1} (${t} Hz)`)));
  const [p1, p2, p3, p4] = await Promise.all(browsers.map((b, i) => participant(ctx, b, {
    userid: `user${i + 1}`, probes, tone: tones[i], label: `participant ${i + 1} (${tones[i]} Hz)`,
  })));

  // 1 and 2 join before connecting, 3 after; 4 joins B first.
  const setups = await Promise.all([
    (async () => { await join(p1, A); return connect(p1); })(),
    (async () => { await join(p2, A); return connect(p2); })(),
    (async () => { const c = await connect(p3); await join(p3, A); return c; })(),
    (async () => { await join(p4, B); return connect(p4); })(),
  ]);
  ctx.log(`connected in ${setups.map((s) => `${s.connectMs} ms`).join(', ')} `
    + `(offers gathered in ${setups.map((s) => `${s.gatherMs}`).join('/')} ms, signalling closed with `
    + `${setups.map((s) => s.wsClose?.code ?? 'open').join('/')})`);
  for (const s of setups) assert(s.offerBytes > 0 && s.answerReceived, 'offer sent and answer received');

  // Conversation A: the other two, not oneself, not B's 1100 Hz.
  const inA = [p1, p2, p3];
  const others = (p) => inA.filter((q) => q !== p).map((q) => q.tone);
  const t0 = Date.now();
  const firstA = await Promise.all(inA.map((p) => waitHearing(p, others(p), [p.tone, 1100], { timeoutMs: 20000 })));
  ctx.log(`A hears each other after ${Date.now() - t0} ms`);
  // Steady, and B stays silent of A meanwhile.
  const [h1, h2, h3, h4] = await Promise.all([
    ...inA.map((p) => holdHearing(p, others(p), [p.tone, 1100], 2000)),
    holdHearing(p4, [], [440, 660, 880], 2000),
  ]);
  for (const [p, h] of [[p1, h1], [p2, h2], [p3, h3]]) {
    ctx.log(`${p.label} in A hears ${summarize(h, others(p), [p.tone, 1100])}`);
  }
  ctx.log(`${p4.label} in B hears ${summarize(h4, [], [440, 660, 880])}`);
  void firstA;

  // Participant 3 moves to B: audio follows within SWITCH_LIMIT_MS.
  // Timed from the 200 (the join has taken effect on the server by then);
  // the POST's own round trip is printed beside.
  const moved = await join(p3, B);
  const since = moved.doneAt;
  const [s1, s2, s3, s4] = await Promise.all([
    timeToHearing(p1, [660], [440, 880, 1100], since),
    timeToHearing(p2, [440], [660, 880, 1100], since),
    timeToHearing(p3, [1100], [440, 660, 880], since),
    timeToHearing(p4, [880], [440, 660, 1100], since),
  ]);
  ctx.log(`participant 3 joined B (POST answered 200 in ${moved.ms} ms); audio followed, counted from the 200, after: `
    + `p1 ${s1.ms} ms (${summarize(s1.readings, [660], [440, 880, 1100])}), `
    + `p2 ${s2.ms} ms (${summarize(s2.readings, [440], [660, 880, 1100])}), `
    + `p3 ${s3.ms} ms (${summarize(s3.readings, [1100], [440, 660, 880])}), `
    + `p4 ${s4.ms} ms (${summarize(s4.readings, [880], [440, 660, 1100])})`);
  for (const [p, s] of [[p1, s1], [p2, s2], [p3, s3], [p4, s4]]) {
    assert(s.ms <= SWITCH_LIMIT_MS, `${p.label}: audio followed the join within ${SWITCH_LIMIT_MS} ms (took ${s.ms} ms; `
      + `readings until then: ${s.timeline})`);
  }

  const stats = await Promise.all([p1, p2, p3, p4].map((p) => p.evaluate(() => window.__tern.stats)));
  ctx.log(`audio packets received ${stats.map((s) => s?.inbound.audio?.packetsReceived ?? '?').join('/')}, `
    + `lost ${stats.map((s) => s?.inbound.audio?.packetsLost ?? '?').join('/')}, codec ${stats[0]?.inbound.audio?.codec}, `
    + `pair ${stats[0]?.pair}`);
  const errors = pageErrors([p1, p2, p3, p4]);
  assert(!errors.length, `no page errors (got ${errors.join(' | ')})`);
}

async function firefoxWithChromium(ctx) {
  const C = 'conversation-ff';
  const [ffTone, crTone] = [1000, 440];
  const probes = [ffTone, crTone];
  // Firefox takes ~5 s to start: launch both together.
  const [ffBrowser, crBrowser] = await Promise.all([
    ctx.open(ffTone, `Firefox (${ffTone} Hz)`, 'firefox'),
    ctx.open(crTone, `Chromium (${crTone} Hz)`, 'chromium'),
  ]);
  const [ff, cr] = await Promise.all([
    participant(ctx, ffBrowser, { userid: 'firefox-user', probes, tone: ffTone, label: `Firefox (${ffTone} Hz)` }),
    participant(ctx, crBrowser, { userid: 'chromium-user', probes, tone: crTone, label: `Chromium (${crTone} Hz)` }),
  ]);
  const [cf, cc] = await Promise.all([
    (async () => { await join(ff, C); return connect(ff); })(),
    (async () => { const c = await connect(cr); await join(cr, C); return c; })(),
  ]);
  ctx.log(`Firefox connected in ${cf.connectMs} ms, Chromium in ${cc.connectMs} ms`);
  const t0 = Date.now();
  // Firefox's fake microphone may start sending several seconds late.
  await Promise.all([
    waitHearing(ff, [crTone], [ffTone], { timeoutMs: 25000 }),
    waitHearing(cr, [ffTone], [crTone], { timeoutMs: 25000 }),
  ]);
  const firstMs = Date.now() - t0;
  const [hf, hc] = await Promise.all([
    holdHearing(ff, [crTone], [ffTone], 2000),
    holdHearing(cr, [ffTone], [crTone], 2000),
  ]);
  const stats = await Promise.all([ff, cr].map((p) => p.evaluate(() => window.__tern.stats)));
  ctx.log(`each hears the other after ${firstMs} ms: Firefox hears ${summarize(hf, [crTone], [ffTone])}; `
    + `Chromium hears ${summarize(hc, [ffTone], [crTone])}; audio packets received `
    + `${stats.map((s) => s?.inbound.audio?.packetsReceived ?? '?').join('/')} (Firefox/Chromium), `
    + `Firefox pair ${stats[0]?.pair}`);
  const errors = pageErrors([ff, cr]);
  assert(!errors.length, `no page errors (got ${errors.join(' | ')})`);
}

runMediaTest('beep-conversation', [], async (ctx) => {
  await requireConnect(ctx.base);
  if (ctx.kind === 'chromium') await chromiumFour(ctx);
  else await firefoxWithChromium(ctx);
});
