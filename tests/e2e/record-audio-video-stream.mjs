// record-audio-video-stream in a real browser: the page sends the fake
// camera and a fake-microphone tone for ~5 s, then Stop. The page must offer
// the recording (HEAD → 200); downloaded, ffprobe must read an Opus audio
// stream and a VP8 video stream and a duration within 1 s of how long the
// page was connected. A second download is byte-identical (the file was
// finalized before the DELETE answered), and bad names are 404.
// usage: node tests/e2e/record-audio-video-stream.mjs --browser chromium|firefox --base URL

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { assert } from './browsers.mjs';
import { runMediaTest, openExample, startExample, waitForStats } from './_media.mjs';

const EXAMPLE = 'record-audio-video-stream';
const RECORD_MS = 5000;
const TOL_S = 1;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

runMediaTest(EXAMPLE, [EXAMPLE], async (ctx) => {
  const browser = await ctx.open(ctx.kind === 'chromium' ? 660 : 1000);
  const page = await openExample(browser, ctx.base, EXAMPLE);
  const c = await startExample(page, EXAMPLE);
  const sending = await waitForStats(page,
    (s) => (s.outbound.video?.framesEncoded ?? s.outbound.video?.framesSent ?? 0) > 0, 15000,
    'video being sent');
  // The call's length, as far as a recorder can know it, runs from the first
  // media the browser sends (Firefox's fake devices start ~2 s after the
  // connection is up) to Stop.
  // The page's stats are a poll behind: date the first frame back by the
  // frames already sent (the fake cameras run at 30 fps).
  const framesSoFar = sending.outbound.video?.framesEncoded ?? sending.outbound.video?.framesSent ?? 0;
  const mediaFrom = Date.now() - (framesSoFar * 1000) / 30;
  await sleep(RECORD_MS);

  const mediaUntil = Date.now();
  await page.click('#stop');
  const t = await page.waitFor(() => window.__tern.recording && window.__tern, undefined, 10000);
  assert(t.deleteStatus === 200, `DELETE -> 200 on Stop (got ${t.deleteStatus})`);
  const rec = t.recording;
  assert(rec.status === 200, `HEAD ${rec.url} -> 200 (got ${rec.status})`);
  const shown = await page.evaluate(() => document.querySelector('#download')?.getAttribute('href'));
  assert(shown === rec.url, `the page shows a download link (${shown})`);

  const url = `${ctx.base}/${EXAMPLE}/recordings/${rec.file}`;
  const res = await fetch(url);
  assert(res.status === 200, `GET ${url} -> 200 (got ${res.status})`);
  assert(res.headers.get('content-type') === 'video/webm', `Content-Type video/webm (${res.headers.get('content-type')})`);
  const body = Buffer.from(await res.arrayBuffer());
  assert(body.length === rec.bytes && body.length > 10000, `${body.length} bytes, HEAD said ${rec.bytes}`);
  const again = Buffer.from(await (await fetch(url)).arrayBuffer());
  assert(again.equals(body), 'a second download is identical');
  for (const bad of ['..%2F.env', 'x.txt', '.webm', 'nope.webm']) {
    const r = await fetch(`${ctx.base}/${EXAMPLE}/recordings/${bad}`);
    assert(r.status === 404, `GET recordings/${bad} -> 404 (got ${r.status})`);
  }

  const file = path.join(os.tmpdir(), `tern-e2e-${process.pid}-${rec.file}`);
  fs.writeFileSync(file, body);
  let probe;
  try {
    probe = JSON.parse(execFileSync('ffprobe',
      ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height:format=duration',
        '-of', 'json', file], { encoding: 'utf8' }));
  } finally {
    fs.rmSync(file, { force: true });
  }
  const streams = probe.streams || [];
  const audio = streams.find((s) => s.codec_type === 'audio');
  const video = streams.find((s) => s.codec_type === 'video');
  assert(audio && audio.codec_name === 'opus', `an Opus audio stream (${JSON.stringify(streams)})`);
  assert(video && video.codec_name === 'vp8', `a VP8 video stream (${JSON.stringify(streams)})`);
  const duration = Number(probe.format?.duration);
  const expected = (mediaUntil - mediaFrom) / 1000;
  assert(Math.abs(duration - expected) <= TOL_S,
    `duration ${duration} s within ${TOL_S} s of the call's ${expected.toFixed(2)} s with media `
    + `(connected ${(t.recordedMs / 1000).toFixed(2)} s)`);

  ctx.log(`connected in ${c.connectMs} ms; recorded ${expected.toFixed(2)} s → ${rec.file}: `
    + `${body.length} bytes, ${duration.toFixed(2)} s, opus + vp8 ${video.width}×${video.height}`);
});
