// datachannel-buffer-limits in a real browser: 2 MiB up in 64 KiB chunks,
// the server sends the same 2 MiB back; exact byte counts both ways.
// usage: node tests/e2e/datachannel-buffer-limits.mjs --browser chromium|firefox --base URL

import { runTest, assert } from './browsers.mjs';

const MB = 2; // the page's unit is MiB
const CHUNK_KB = 64;
const BYTES = MB * 1024 * 1024;

runTest('datachannel-buffer-limits', async (browser, { base, browser: kind }) => {
  const page = await browser.newPage();
  await page.goto(`${base}/datachannel-buffer-limits/index.html`);
  await page.waitFor(() => window.__tern && window.__tern.state === 'idle', undefined, 10000);
  await page.fill('#data-size', MB);
  await page.fill('#chunk-size', CHUNK_KB);

  const t0 = Date.now();
  await page.click('#start');
  const r = await page.waitFor(
    () => (window.__tern.done || window.__tern.state === 'error') && window.__tern, undefined, 60000);
  const totalMs = Date.now() - t0;
  assert(!r.error, `no page error (${r.error})`);
  assert(r.done, 'transfer finished');
  assert(r.dataBytes === BYTES, `page asked for ${BYTES} bytes (got ${r.dataBytes})`);
  assert(r.uploadedBytes === BYTES, `uploaded exactly ${BYTES} bytes (got ${r.uploadedBytes})`);
  assert(r.downloadedBytes === BYTES, `server sent back exactly ${BYTES} bytes (got ${r.downloadedBytes})`);
  assert(Number.isFinite(r.uploadMs) && r.uploadMs >= 0, `server reported the upload time (#START ${r.uploadMs})`);
  assert(Number.isFinite(r.serverQueueMs) && r.serverQueueMs >= 0, `server reported its queue time (#STOP ${r.serverQueueMs})`);

  // The page closes the connection after #STOP; the server must accept the DELETE.
  const closed = await page.waitFor(() => window.__tern.deleteStatus !== null && window.__tern, undefined, 5000);
  assert(closed.deleteStatus === 200, `DELETE -> 200 (got ${closed.deleteStatus})`);

  const mbit = (bytes, ms) => (ms > 0 ? ((bytes * 8) / ms / 1000).toFixed(1) : 'inf');
  console.log(`  ${kind}: ${BYTES} bytes up in ${r.uploadMs} ms (server-timed, ${mbit(BYTES, r.uploadMs)} Mbit/s), `
    + `${r.downloadedBytes} bytes back in ${r.downloadMs} ms (${mbit(r.downloadedBytes, r.downloadMs)} Mbit/s), `
    + `server queued in ${r.serverQueueMs} ms, page queued in ${r.localQueueMs} ms, total ${totalMs} ms`);
});
