// pitch-detector in a real browser: the page sends the fake microphone's
// tone and shows the frequency the server detects (data channel
// "frequency"): within ±10 Hz. Then the page switches to its own 440 Hz sine
// wave (replaceTrack) and the detection follows.
// usage: node tests/e2e/pitch-detector.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import { runMediaTest, openExample, startExample } from './_media.mjs';

const EXAMPLE = 'pitch-detector';
const TOL_HZ = 10;
const NEED = 3; // consecutive detections in tolerance

// Waits for NEED consecutive new detections within tolerance of hz; checks
// the page displays it too.
async function waitForDetection(page, hz, timeoutMs, what) {
  const t0 = Date.now();
  let seen = 0;
  let run = 0;
  const got = [];
  while (Date.now() - t0 < timeoutMs) {
    const t = await page.evaluate(() => ({
      n: window.__tern.detections, f: window.__tern.detectedFrequency,
      state: window.__tern.state, error: window.__tern.error,
      shown: document.querySelector('#detected').textContent,
    }));
    if (t.state === 'error') throw new Error(`${what}: page error: ${t.error}`);
    if (t.n > seen) {
      seen = t.n;
      got.push(t.f);
      run = Math.abs(t.f - hz) <= TOL_HZ ? run + 1 : 0;
      if (run >= NEED) {
        assert(t.shown.includes(t.f.toFixed(1)), `the page displays the detected frequency ("${t.shown}")`);
        return { ms: Date.now() - t0, got: got.slice(-NEED), count: seen };
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: no ${NEED} detections of ${hz} ± ${TOL_HZ} Hz within ${timeoutMs} ms; `
    + `${seen} detections, last: ${got.slice(-10).join(', ') || 'none'}`);
}

runMediaTest(EXAMPLE, [EXAMPLE], async (ctx) => {
  const tone = ctx.kind === 'chromium' ? 660 : 1000;
  const browser = await ctx.open(tone);
  const page = await openExample(browser, ctx.base, EXAMPLE);
  await page.fill('#source', 'microphone');
  const c = await startExample(page, EXAMPLE);

  // Firefox's fake microphone can take 3-5 s to start sounding.
  const mic = await waitForDetection(page, tone, 20000, `detecting the microphone's ${tone} Hz`);

  await page.fill('#frequency', 440);
  await page.fill('#source', 'oscillator');
  const osc = await waitForDetection(page, 440, 10000, 'detecting the page\'s 440 Hz sine wave');
  const total = await page.evaluate(() => window.__tern.detections);
  const secs = (mic.ms + osc.ms) / 1000;

  ctx.log(`connected in ${c.connectMs} ms; microphone ${tone} Hz detected as [${mic.got.join(', ')}] after ${mic.ms} ms; `
    + `page sine 440 Hz detected as [${osc.got.join(', ')}] ${osc.ms} ms after switching; `
    + `${total} detections in ~${secs.toFixed(1)} s`);
});
