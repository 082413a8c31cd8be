// sine-wave in a real browser: the page hears the server's tone at 440 Hz,
// then at 1250 Hz after the page sends 1250 on the "frequency" channel.
// Also prints the audio packet rate (the server should pace 50 packets/s).
// usage: node tests/e2e/sine-wave.mjs --browser chromium|firefox --base URL

import { assert } from './browsers.mjs';
import { runMediaTest, openExample, startExample, waitForTone, describeReadings } from './_media.mjs';

const EXAMPLE = 'sine-wave';
const TOL_HZ = 10;

runMediaTest(EXAMPLE, [EXAMPLE], async (ctx) => {
  const browser = await ctx.open(null);
  const page = await openExample(browser, ctx.base, EXAMPLE);
  const c = await startExample(page, EXAMPLE);

  const first = await waitForTone(page, 'tone', 440, TOL_HZ, { timeoutMs: 20000, what: 'the server\'s tone' });

  // Packet rate over ~2 s of steady playback.
  const rate = await page.evaluate(async () => {
    const count = async () => {
      const s = await window.peerConnection.getStats();
      let n = 0;
      s.forEach((x) => { if (x.type === 'inbound-rtp' && (x.kind ?? x.mediaType) === 'audio') n += x.packetsReceived || 0; });
      return n;
    };
    const n0 = await count();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 2000));
    return ((await count()) - n0) / ((performance.now() - t0) / 1000);
  });

  const channel = await page.waitFor(() => window.__tern.channelState !== 'connecting' && window.__tern.channelState,
    undefined, 10000);
  assert(channel === 'open', `data channel "frequency" open (${channel})`);
  const t1 = Date.now();
  await page.fill('#frequency', 1250);
  const sent = await page.evaluate(() => window.__tern.sentFrequency);
  assert(sent === 1250, `the page sent 1250 on "frequency" (sentFrequency ${sent})`);
  const second = await waitForTone(page, 'tone', 1250, TOL_HZ, { timeoutMs: 10000, what: 'after sending 1250' });
  const shown = await page.evaluate(() => document.querySelector('#detected').textContent);
  assert(/^12[45]\d Hz$/.test(shown), `the page displays the detected frequency (~1250 Hz, shows "${shown}")`);

  ctx.log(`connected in ${c.connectMs} ms; 440 Hz heard after ${first.ms} ms (${describeReadings(first.readings)}); `
    + `${rate.toFixed(1)} audio packets/s; 1250 Hz heard ${Date.now() - t1} ms after the change `
    + `(${describeReadings(second.readings)})`);
});
