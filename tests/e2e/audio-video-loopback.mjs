// audio-video-loopback in a real browser: the page sends the fake camera and
// a fake-microphone tone; what comes back must show as video (>= 30 frames
// decoded, the <video> has a size) and sound at the same pitch (±15 Hz).
// Then Stop: DELETE -> 200.
// usage: node tests/e2e/audio-video-loopback.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import {
  runMediaTest, openExample, startExample, setChecked, waitForStats, waitForTone, describeReadings,
} from './_media.mjs';

const EXAMPLE = 'audio-video-loopback';
const FRAMES = 30;
const TOL_HZ = 15;

runMediaTest(EXAMPLE, [EXAMPLE], async (ctx) => {
  // Firefox's fake microphone tone is set by pref; 1000 Hz is the harness default.
  const tone = ctx.kind === 'chromium' ? 660 : 1000;
  const browser = await ctx.open(tone);
  const page = await openExample(browser, ctx.base, EXAMPLE);
  // Noise suppression would treat a steady tone as noise.
  await setChecked(page, '#voice-processing', false);
  const c = await startExample(page, EXAMPLE);
  const t0 = Date.now();

  const video = await waitForStats(page, (s) => (s.inbound.video?.framesDecoded ?? 0) >= FRAMES,
    20000, `${FRAMES} returned video frames decoded`);
  const framesMs = Date.now() - t0;
  const heard = await waitForTone(page, 'tone', tone, TOL_HZ, { timeoutMs: 20000, what: 'returned audio' });

  const seen = await page.evaluate(() => ({
    width: document.querySelector('#remote-video').videoWidth,
    height: document.querySelector('#remote-video').videoHeight,
    stats: window.__tern.stats,
  }));
  assert(seen.width > 0 && seen.height > 0, `the returned video shows a picture (<video> is ${seen.width}×${seen.height})`);
  const v = seen.stats.inbound.video;
  const a = seen.stats.inbound.audio || {};

  await page.click('#stop');
  const stopped = await page.waitFor(() => window.__tern.deleteStatus !== null && window.__tern, undefined, 5000);
  assert(stopped.deleteStatus === 200, `DELETE -> 200 on Stop (got ${stopped.deleteStatus})`);

  ctx.log(`connected in ${c.connectMs} ms; ${FRAMES} frames back after ${framesMs} ms; now ${v.framesDecoded} frames `
    + `${v.frameWidth}×${v.frameHeight} ${v.codec}, ${v.keyFramesDecoded ?? '?'} keyframes, ${v.packetsLost ?? 0} video packets lost; `
    + `sent ${tone} Hz, heard ${describeReadings(heard.readings)} (${a.packetsReceived ?? '?'} audio packets, ${a.codec}); `
    + `pair ${seen.stats.pair}; DELETE ${stopped.deleteStatus}`);
});
