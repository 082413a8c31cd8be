// ping-pong in a real browser: Start, at least 3 pongs within 15 s, Stop,
// and the server no longer lists the connection.
// usage: node tests/e2e/ping-pong.mjs --browser chromium|firefox --base URL

import { runTest, assert, http } from './browsers.mjs';

const PONGS = 3;
const PONG_DEADLINE_MS = 15000;

runTest('ping-pong', async (browser, { base, browser: kind }) => {
  const page = await browser.newPage();
  await page.goto(`${base}/ping-pong/index.html`);
  await page.waitFor(() => window.__tern && window.__tern.state === 'idle', undefined, 10000);

  const t0 = Date.now();
  await page.click('#start');
  const connected = await page.waitFor(
    () => ['connected', 'error'].includes(window.__tern.state) && window.__tern,
    undefined, PONG_DEADLINE_MS);
  assert(connected.state === 'connected', `page connected (state ${connected.state}, error ${connected.error})`);
  const connectMs = Date.now() - t0;
  const id = connected.connectionId;
  assert(id, 'page knows its connection id');

  const got = await page.waitFor(
    (n) => (window.__tern.pongs >= n || window.__tern.state === 'error') && window.__tern,
    PONGS, Math.max(1000, PONG_DEADLINE_MS - (Date.now() - t0)));
  assert(!got.error, `no page error (${got.error})`);
  assert(got.pongs >= PONGS, `${PONGS} pongs (got ${got.pongs})`);
  assert(got.pongs <= got.pings, `no pong without a ping (${got.pongs} pongs, ${got.pings} pings)`);
  const pongsMs = Date.now() - t0;

  // While open, the server shows the connection.
  const one = await http('GET', `${base}/ping-pong/connections/${id}`);
  assert(one.status === 200, `GET /ping-pong/connections/${id} -> 200 while open (got ${one.status} ${one.text})`);
  assert(one.json && one.json.id === id, `GET returns this connection (${one.text.slice(0, 200)})`);

  await page.click('#stop');
  const stopped = await page.waitFor(
    () => window.__tern.deleteStatus !== null && window.__tern, undefined, 5000);
  assert(stopped.state === 'closed', `page closed (state ${stopped.state})`);
  assert(stopped.deleteStatus === 200, `DELETE -> 200 (got ${stopped.deleteStatus})`);

  // The server forgets it: not listed, and GET by id is 404.
  let list;
  let byId;
  const deadline = Date.now() + 3000;
  for (;;) {
    list = await http('GET', `${base}/ping-pong/connections`);
    byId = await http('GET', `${base}/ping-pong/connections/${id}`);
    const listed = Array.isArray(list.json) && list.json.some((c) => c && c.id === id);
    if ((list.status === 200 && !listed && byId.status === 404) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert(list.status === 200 && Array.isArray(list.json),
    `GET /ping-pong/connections -> 200 with a JSON array (got ${list.status} ${list.text.slice(0, 200)})`);
  assert(!list.json.some((c) => c && c.id === id), `connection ${id} no longer listed after Stop`);
  assert(byId.status === 404, `GET /ping-pong/connections/${id} -> 404 after Stop (got ${byId.status})`);

  // No pong arrives after Stop.
  const before = await page.evaluate(() => window.__tern.pongs);
  await new Promise((r) => setTimeout(r, 1500));
  const after = await page.evaluate(() => window.__tern.pongs);
  assert(after === before, `no pong after Stop (${before} -> ${after})`);

  const rtts = got.rttMs.map((x) => x.toFixed(1)).join(', ');
  console.log(`  ${kind}: connected in ${connectMs} ms, ${got.pongs} pongs for ${got.pings} pings by ${pongsMs} ms, `
    + `round trips [${rtts}] ms, DELETE ${stopped.deleteStatus}, connection ${id} gone`);
});
