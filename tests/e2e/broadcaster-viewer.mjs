// broadcaster + viewer in real browsers. Broadcaster A (fake camera, tone A)
// is live before the viewer joins, so the viewer joins mid-stream: it must
// get a picture at once (>= 30 frames decoded) and hear tone A. Then
// broadcaster B (another browser process: another fake-microphone tone)
// starts: the viewer, without doing anything, hears tone B instead (A's
// tone is gone, not mixed in) and keeps decoding frames.
// usage: node tests/e2e/broadcaster-viewer.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import {
  runMediaTest, openExample, startExample, setChecked, waitForStats, waitForTone, describeReadings,
} from './_media.mjs';

const FRAMES = 30;
const TOL_HZ = 15;
const MIXED_DB = 30; // a second tone within this of the strongest counts as heard

async function broadcast(browser, base, label) {
  const page = await openExample(browser, base, 'broadcaster');
  await setChecked(page, '#voice-processing', false);
  const c = await startExample(page, 'broadcaster');
  const s = await waitForStats(page, (x) => (x.outbound.video?.framesEncoded ?? 0) > 0
    && (x.outbound.audio?.packetsSent ?? 0) > 0, 15000, `${label} sends audio and video`);
  return { page, connectMs: c.connectMs, stats: s };
}

runMediaTest('broadcaster-viewer', ['broadcaster', 'viewer'], async (ctx) => {
  const [toneA, toneB] = ctx.kind === 'chromium' ? [660, 880] : [1000, 600];
  // Both browsers start together: Firefox takes ~5 s each.
  const [browserA, browserB] = await Promise.all([ctx.open(toneA), ctx.open(toneB)]);

  const a = await broadcast(browserA, ctx.base, `broadcaster A (${toneA} Hz)`);
  ctx.log(`broadcaster A connected in ${a.connectMs} ms, sending`);

  // The viewer is the newest tab (Firefox throttles timers in background tabs).
  const viewer = await openExample(browserA, ctx.base, 'viewer');
  const v = await startExample(viewer, 'viewer');
  const t0 = Date.now();
  const firstFrame = await waitForStats(viewer, (s) => (s.inbound.video?.framesDecoded ?? 0) > 0,
    10000, 'the viewer joining mid-stream decodes a first frame (keyframe request)');
  const firstFrameMs = Date.now() - t0;
  const frames = await waitForStats(viewer, (s) => (s.inbound.video?.framesDecoded ?? 0) >= FRAMES,
    15000, `the viewer decodes ${FRAMES} frames of broadcast A`);
  const framesMs = Date.now() - t0;
  const heardA = await waitForTone(viewer, 'tone', toneA, TOL_HZ, { timeoutMs: 20000, what: 'viewer hearing broadcast A' });
  const size = await viewer.evaluate(() => [window.__tern.remoteVideoWidth, window.__tern.remoteVideoHeight]);
  assert(size[0] > 0 && size[1] > 0, `the viewer's <video> shows a picture (${size[0]}×${size[1]})`);

  const b = await broadcast(browserB, ctx.base, `broadcaster B (${toneB} Hz)`);
  const t1 = Date.now();
  const before = (await viewer.evaluate(() => window.__tern.stats)).inbound.video.framesDecoded;
  const heardB = await waitForTone(viewer, 'tone', toneB, TOL_HZ, { timeoutMs: 15000, what: 'viewer switching to broadcast B' });
  const switchMs = Date.now() - t1;
  // Replaced, not mixed: broadcast A's tone is gone from what the viewer hears.
  const residue = (m) => (m.peaks || []).find((p) => Math.abs(p.frequency - toneA) <= TOL_HZ && p.db > m.peaks[0].db - MIXED_DB);
  for (const m of heardB.readings) {
    const r = residue(m);
    assert(!r, `after the switch the viewer no longer hears A's ${toneA} Hz (peaks ${JSON.stringify(m.peaks)})`);
  }
  const after = await waitForStats(viewer, (s) => s.inbound.video.framesDecoded >= before + FRAMES,
    15000, `the viewer decodes ${FRAMES} more frames after the switch`);

  ctx.log(`viewer connected in ${v.connectMs} ms; first frame ${firstFrameMs} ms later, ${FRAMES} frames after ${framesMs} ms `
    + `(${size[0]}×${size[1]}, ${frames.inbound.video.codec}); heard A ${toneA} Hz: ${describeReadings(heardA.readings)}; `
    + `broadcaster B connected in ${b.connectMs} ms; viewer heard B ${toneB} Hz ${switchMs} ms later: `
    + `${describeReadings(heardB.readings)}; frames ${before} -> ${after.inbound.video.framesDecoded}, `
    + `${after.inbound.video.keyFramesDecoded ?? '?'} keyframes, ${after.inbound.video.packetsLost ?? 0} packets lost`);
});
