// sine-wave-stereo in a real browser: with the page's default panning 50 the
// tone is in both ears; panning 0 -> left only; panning 100 -> right only.
// "Only" means the tone is heard on that side and the other side is silent
// or at least 30 dB quieter.
// usage: node tests/e2e/sine-wave-stereo.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import { runMediaTest, openExample, startExample, waitForReadings, near, describeReadings } from './_media.mjs';

const EXAMPLE = 'sine-wave-stereo';
const HZ = 440;
const TOL_HZ = 10;
const ONLY_DB = 30; // the other side at least this much quieter
const BOTH_DB = 6; // centred: both sides within this of each other

const show = (s) => `L ${describeReadings([s.left])} / R ${describeReadings([s.right])}`;
const quieter = (m, than) => !m || m.levelDb === null || m.frequency === null || m.levelDb <= than.levelDb - ONLY_DB;

runMediaTest(EXAMPLE, [EXAMPLE], async (ctx) => {
  const browser = await ctx.open(null);
  const page = await openExample(browser, ctx.base, EXAMPLE);
  const c = await startExample(page, EXAMPLE);
  const channel = await page.waitFor(() => window.__tern.channelState !== 'connecting' && window.__tern.channelState,
    undefined, 10000);
  assert(channel === 'open', `data channel "panning" open (${channel})`);
  const opts = (what) => ({ keys: ['left', 'right'], timeoutMs: 15000, what, describe: show });

  const steps = [
    { panning: 50, what: 'panning 50: the tone in both ears',
      ok: (s) => near(s.left, HZ, TOL_HZ) && near(s.right, HZ, TOL_HZ)
        && Math.abs(s.left.levelDb - s.right.levelDb) <= BOTH_DB },
    { panning: 0, what: 'panning 0: left only',
      ok: (s) => near(s.left, HZ, TOL_HZ) && quieter(s.right, s.left) },
    { panning: 100, what: 'panning 100: right only',
      ok: (s) => near(s.right, HZ, TOL_HZ) && quieter(s.left, s.right) },
  ];
  const report = [];
  for (const step of steps) {
    const t0 = Date.now();
    await page.fill('#panning', step.panning);
    const sent = await page.evaluate(() => window.__tern.sentPanning);
    assert(sent === step.panning, `the page sent ${step.panning} on "panning" (sentPanning ${sent})`);
    const o = opts(step.what);
    const r = await waitForReadings(page, o.keys, step.ok, o);
    report.push(`${step.panning}: ${show(r.samples[r.samples.length - 1])} after ${Date.now() - t0} ms`);
  }
  const codec = await page.evaluate(() => window.__tern.stats?.inbound.audio?.codec ?? null);
  ctx.log(`connected in ${c.connectMs} ms; ${codec}; ${report.join('; ')}`);
});
