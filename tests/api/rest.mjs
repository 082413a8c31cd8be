// The REST negotiation API (SPEC §3) against a running tern: every route and
// status, the JSON shapes, answer validation, and the time-to-connected rule.
import { readFileSync } from 'node:fs';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

const base = process.argv[2];
const prefix = `${base}/ping-pong`;
let failures = 0;

async function test(name, fn) {
  try { await fn(); console.log(`  ok   ${name}`); }
  catch (e) { failures++; console.log(`  FAIL ${name}\n       ${e.stack.split('\n').slice(0, 3).join('\n       ')}`); }
}
const post = (url, body, type = 'application/json') => fetch(url, {
  method: 'POST', headers: { 'content-type': type },
  body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A real Chromium answer, retargeted at the mid the server offered.
const chromiumAnswer = readFileSync('tests/data/sdp-answer-datachannel-chromium.txt', 'utf8');

await test('GET /healthz is 200 ok', async () => {
  const r = await fetch(`${base}/healthz`);
  assert.equal(r.status, 200);
});

let conn;
await test('POST /connections offers with host candidates, no trickle', async () => {
  const r = await post(`${prefix}/connections`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /application\/json/);
  conn = await r.json();
  assert.match(conn.id, /^[0-9a-f-]{36}$/);
  assert.equal(conn.state, 'open');
  assert.equal(conn.iceConnectionState, 'new');
  assert.equal(conn.signalingState, 'have-local-offer');
  assert.equal(conn.localDescription.type, 'offer');
  const sdp = conn.localDescription.sdp;
  assert.match(sdp, /^v=0\r\n/);
  assert.match(sdp, /m=application 9 UDP\/DTLS\/SCTP webrtc-datachannel/);
  assert.match(sdp, /a=setup:actpass/);
  assert.match(sdp, /a=ice-lite/);
  assert.match(sdp, /a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}/);
  assert.match(sdp, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
  assert.match(sdp, /a=end-of-candidates/);
  assert.doesNotMatch(sdp, /trickle/);
  assert.deepEqual(conn.remoteDescription, {});
});

await test('GET /connections lists it; GET /connections/:id returns it', async () => {
  const all = await (await fetch(`${prefix}/connections`)).json();
  assert.ok(Array.isArray(all));
  assert.ok(all.some((c) => c.id === conn.id));
  const one = await fetch(`${prefix}/connections/${conn.id}`);
  assert.equal(one.status, 200);
  assert.equal((await one.json()).id, conn.id);
});

await test('GET local-description and (empty) remote-description', async () => {
  const l = await (await fetch(`${prefix}/connections/${conn.id}/local-description`)).json();
  assert.equal(l.type, 'offer');
  assert.equal(l.sdp, conn.localDescription.sdp);
  const r = await fetch(`${prefix}/connections/${conn.id}/remote-description`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), {});
});

await test('unknown ids are 404 on every route', async () => {
  const id = '00000000-0000-4000-8000-000000000000';
  for (const [m, p] of [['GET', ''], ['DELETE', ''], ['GET', '/local-description'],
    ['GET', '/remote-description'], ['POST', '/remote-description']]) {
    const r = await fetch(`${prefix}/connections/${id}${p}`, { method: m,
      body: m === 'POST' ? '{}' : undefined });
    assert.equal(r.status, 404, `${m} ${p}`);
  }
});

await test('garbage answers are 400 with a reason', async () => {
  const cases = [
    ['not json', 'this is not json', /not JSON/],
    ['no sdp', { type: 'answer' }, /expected/],
    ['offer type', { type: 'offer', sdp: chromiumAnswer }, /must be "answer"/],
    ['garbage sdp', { type: 'answer', sdp: 'hello world' }, /unusable answer/],
    ['no fingerprint', { type: 'answer', sdp: chromiumAnswer.replace(/a=fingerprint.*\r?\n/, '') }, /fingerprint/],
    ['wrong mid', { type: 'answer', sdp: chromiumAnswer.replace(/a=mid:0/, 'a=mid:7').replace('BUNDLE 0', 'BUNDLE 7') }, /does not match/],
  ];
  for (const [name, body, re] of cases) {
    const r = await post(`${prefix}/connections/${conn.id}/remote-description`, body);
    const text = await r.text();
    assert.equal(r.status, 400, `${name}: ${text}`);
    assert.match(text, re, name);
  }
});

await test('a real Chromium answer is accepted', async () => {
  const r = await post(`${prefix}/connections/${conn.id}/remote-description`,
    { type: 'answer', sdp: chromiumAnswer });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  const body = JSON.parse(text);
  assert.equal(body.type, 'answer');
  assert.equal(body.sdp, chromiumAnswer);
  const c = await (await fetch(`${prefix}/connections/${conn.id}`)).json();
  assert.equal(c.signalingState, 'stable');
  assert.equal(c.remoteDescription.type, 'answer');
});

await test('a second answer is refused', async () => {
  const r = await post(`${prefix}/connections/${conn.id}/remote-description`,
    { type: 'answer', sdp: chromiumAnswer });
  assert.equal(r.status, 400);
});

await test('DELETE closes: 200 with state closed, then 404', async () => {
  const r = await fetch(`${prefix}/connections/${conn.id}`, { method: 'DELETE' });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.state, 'closed');
  assert.equal(body.id, conn.id);
  assert.equal((await fetch(`${prefix}/connections/${conn.id}`)).status, 404);
});

await test('a never-answered connection is removed after TIME_TO_CONNECTED_MS', async () => {
  const c = await (await post(`${prefix}/connections`)).json();
  assert.equal((await fetch(`${prefix}/connections/${c.id}`)).status, 200);
  await sleep(2500); // the test server runs with TIME_TO_CONNECTED_MS=1500
  assert.equal((await fetch(`${prefix}/connections/${c.id}`)).status, 404);
});

await test('other examples are mounted under their own prefix', async () => {
  const r = await post(`${base}/datachannel-buffer-limits/connections`);
  assert.equal(r.status, 200);
  const c = await r.json();
  assert.match(c.localDescription.sdp, /webrtc-datachannel/);
  assert.equal((await fetch(`${prefix}/connections/${c.id}`)).status, 404);
  await fetch(`${base}/datachannel-buffer-limits/connections/${c.id}`, { method: 'DELETE' });
});

await test('unknown routes are 404, wrong methods 405', async () => {
  assert.equal((await fetch(`${base}/no-such-example/connections`, { method: 'POST' })).status, 404);
  assert.equal((await fetch(`${prefix}/connections`, { method: 'PUT' })).status, 405);
});

await test('oversized bodies are 413', async () => {
  const c = await (await post(`${prefix}/connections`)).json();
  const r = await post(`${prefix}/connections/${c.id}/remote-description`,
    JSON.stringify({ type: 'answer', sdp: 'x'.repeat(200000) }));
  assert.equal(r.status, 413);
  await fetch(`${prefix}/connections/${c.id}`, { method: 'DELETE' });
});

await test('the server still serves after all of the above', async () => {
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const r = await post(`${prefix}/connections`);
  assert.equal(r.status, 200);
  const c = await r.json();
  await fetch(`${prefix}/connections/${c.id}`, { method: 'DELETE' });
});

await test('GET /metrics: Prometheus text with peers, packets and drops', async () => {
  const r = await fetch(`${base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/plain/);
  const text = await r.text();
  assert.match(text, /^# TYPE tern_peers gauge$/m);
  assert.match(text, /^tern_peers \d+$/m);
  assert.match(text, /^tern_peers_created_total [1-9]\d*$/m); // the tests above made some
  assert.match(text, /^tern_udp_packets_in_total \d+$/m);
  assert.match(text, /^tern_udp_drops_total\{reason="unknown_ufrag"\} \d+$/m);
});

// Hostile datagrams on the media port: garbage, truncated STUN, STUN for an
// unknown ufrag, DTLS and RTP from addresses no check verified. All must be
// dropped and counted, and the server keep serving.
await test('hostile UDP datagrams are dropped and counted, the server keeps serving', async () => {
  const media = process.argv[3];
  const [host, port] = [media.slice(0, media.lastIndexOf(':')), Number(media.slice(media.lastIndexOf(':') + 1))];
  const drops = async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    let sum = 0;
    for (const m of text.matchAll(/^tern_udp_drops_total\{reason="[a-z_]+"\} (\d+)$/gm)) sum += Number(m[1]);
    return sum;
  };
  const before = await drops();
  const sock = dgram.createSocket('udp4');
  const send = (buf) => new Promise((r) => sock.send(buf, port, host, r));
  const stun = (ufrag) => {
    const user = Buffer.from(`${ufrag}:abcd`);
    const pad = (4 - (user.length % 4)) % 4;
    const attr = Buffer.concat([Buffer.from([0x00, 0x06, 0, user.length]), user, Buffer.alloc(pad)]);
    const hdr = Buffer.from([0x00, 0x01, 0, attr.length, 0x21, 0x12, 0xa4, 0x42, ...randomBytes(12)]);
    return Buffer.concat([hdr, attr]);
  };
  let sent = 0;
  for (let i = 0; i < 300; i++) {
    await send(randomBytes(1 + (i % 200)));                 // random bytes
    await send(stun('nosuchufrag').subarray(0, 10 + (i % 20))); // truncated STUN
    await send(stun('nosuchufrag'));                        // unknown ufrag, no integrity
    await send(Buffer.from([22, 254, 253, ...randomBytes(60)])); // a DTLS record from a stranger
    await send(Buffer.from([0x80, 111, ...randomBytes(100)]));   // RTP from a stranger
    sent += 5;
  }
  sock.close();
  await sleep(300);
  const after = await drops();
  assert.ok(after - before >= sent * 0.9, `drops rose by ${after - before} for ${sent} hostile datagrams`);
  assert.equal((await fetch(`${base}/healthz`)).status, 200);
  const r = await post(`${prefix}/connections`);
  assert.equal(r.status, 200);
  await fetch(`${prefix}/connections/${(await r.json()).id}`, { method: 'DELETE' });
});

await test('MAX_PEERS_PER_IP: one address gets 429 at its limit, and its slots come back', async () => {
  const ids = [];
  let refused = null;
  for (let i = 0; i < 40 && !refused; i++) {
    const r = await post(`${prefix}/connections`);
    if (r.status === 200) ids.push((await r.json()).id);
    else refused = { status: r.status, text: await r.text() };
  }
  assert.ok(refused, 'a refusal came');
  assert.equal(refused.status, 429, refused.text);
  assert.match(refused.text, /MAX_PEERS_PER_IP=20/);
  assert.ok(ids.length <= 20, `${ids.length} connections were allowed`);
  for (const id of ids) await fetch(`${prefix}/connections/${id}`, { method: 'DELETE' });
  const again = await post(`${prefix}/connections`);
  assert.equal(again.status, 200, 'a slot is free again after DELETE');
  await fetch(`${prefix}/connections/${(await again.json()).id}`, { method: 'DELETE' });
});

await test('connections left open are closed by the shutdown (run.sh checks the exit)', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await post(`${prefix}/connections`)).status, 200);
});

console.log(failures ? `rest: ${failures} failure(s)` : 'rest: all passed');
process.exit(failures ? 1 : 0);
