// video-compositing in a real browser: the page sends the fake camera; what
// comes back is the server's composite, so >= 30 returned frames must be
// decoded, at 640×480, and >= 30 of them must differ from the camera frame
// shown at the same time in the centre, where the server draws its spinning
// text (compared through a canvas in the page; see web/video-compositing).
// Then Stop: DELETE -> 200.
// usage: node tests/e2e/video-compositing.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import { runMediaTest, openExample, startExample, waitForStats } from './_media.mjs';

const EXAMPLE = 'video-compositing';
const FRAMES = 30;

runMediaTest(EXAMPLE, [EXAMPLE], async (ctx) => {
  const browser = await ctx.open(0);
  const page = await openExample(browser, ctx.base, EXAMPLE);
  const c = await startExample(page, EXAMPLE);
  const t0 = Date.now();

  const v0 = await waitForStats(page, (s) => (s.inbound.video?.framesDecoded ?? 0) >= FRAMES,
    20000, `${FRAMES} composited frames decoded`);
  const framesMs = Date.now() - t0;
  const seen = await page.waitFor(() => window.__tern.overlaid >= 30 && window.__tern, undefined, 20000)
    .catch(async () => {
      const t = await page.evaluate(() => window.__tern);
      throw new Error(`overlay seen in ${t.overlaid} of ${t.compared} compared frames `
        + `(last changed fraction centre/bottom ${JSON.stringify(t.lastDiff)})`);
    });
  assert(seen.remoteVideoWidth === 640 && seen.remoteVideoHeight === 480,
    `the composite is 640×480 (<video> is ${seen.remoteVideoWidth}×${seen.remoteVideoHeight})`);
  const v = seen.stats?.inbound.video ?? v0.inbound.video;
  assert(/vp8/i.test(v.codec ?? ''), `the composite is VP8 (got ${v.codec})`);

  await page.click('#stop');
  const stopped = await page.waitFor(() => window.__tern.deleteStatus !== null && window.__tern, undefined, 5000);
  assert(stopped.deleteStatus === 200, `DELETE -> 200 on Stop (got ${stopped.deleteStatus})`);

  ctx.log(`connected in ${c.connectMs} ms; ${FRAMES} frames back after ${framesMs} ms; `
    + `overlay in ${seen.overlaid} of ${seen.compared} compared frames (changed pixels centre/bottom `
    + `${(100 * seen.lastDiff.centre).toFixed(1)}%/${(100 * seen.lastDiff.edge).toFixed(1)}%); ${v.framesDecoded} frames `
    + `${v.frameWidth}×${v.frameHeight} ${v.codec}, ${v.framesPerSecond ?? '?'} fps, ${v.keyFramesDecoded ?? '?'} keyframes, `
    + `${v.packetsLost ?? 0} packets lost; DELETE ${stopped.deleteStatus}`);
});
