// A stand-in for Tern's server side of the audio examples, for checking the
// pages and tests in tests/e2e/ before (or independently of) the C server:
// the server half of sine-wave, sine-wave-stereo and pitch-detector runs in
// a headless Chromium page (libwebrtc — what node-webrtc-examples used),
// behind the same REST API (SPEC §3), and web/ is served as Tern serves it.
// A development tool only: not a test (run.sh skips names starting with _),
// not part of `make e2e`. Run it and a test inside the loopback namespace:
//
//   tests/e2e/netns.sh bash -c 'node tests/e2e/_reference-server.mjs --port 3999 &
//     sleep 4; node tests/e2e/sine-wave.mjs --browser firefox --base http://127.0.0.1:3999'
//
// Protocol as in node-webrtc-examples: sine-wave (440 Hz, channel
// "frequency" takes a number as text), sine-wave-stereo (channel "panning",
// 0 = left only .. 100 = right only), pitch-detector (the detected frequency
// as text on channel "frequency", about 4 per second).

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './browsers.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
const EXAMPLES = ['sine-wave', 'sine-wave-stereo', 'pitch-detector'];
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

let port = 3999;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--port') port = Number(process.argv[++i]);
}

// Runs in the server page.
function serverSide() {
  const conns = new Map();
  let next = 1;
  let ctx = null;
  const audio = () => { ctx ??= new AudioContext(); ctx.resume(); return ctx; };

  function gathered(pc) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      setTimeout(resolve, 3000);
    });
  }

  function peakHz(analyser, spectrum) {
    analyser.getFloatFrequencyData(spectrum);
    let best = 1;
    for (let i = 2; i < spectrum.length - 1; i++) if (spectrum[i] > spectrum[best]) best = i;
    if (spectrum[best] < -70) return null;
    const [a, b, c] = [spectrum[best - 1], spectrum[best], spectrum[best + 1]];
    const shift = 0.5 * (a - c) / (a - 2 * b + c) || 0;
    return (best + shift) * ctx.sampleRate / analyser.fftSize;
  }

  const setups = {
    'sine-wave'(pc, cleanup) {
      const c = audio();
      const osc = c.createOscillator();
      osc.frequency.value = 440;
      const gain = c.createGain();
      gain.gain.value = 0.5;
      const dest = c.createMediaStreamDestination();
      osc.connect(gain).connect(dest);
      osc.start();
      pc.addTransceiver(dest.stream.getAudioTracks()[0], { direction: 'sendonly', streams: [dest.stream] });
      const dc = pc.createDataChannel('frequency');
      dc.onmessage = ({ data }) => { const f = Number(data); if (f > 0) osc.frequency.value = f; };
      cleanup.push(() => osc.stop());
    },
    'sine-wave-stereo'(pc, cleanup) {
      const c = audio();
      const osc = c.createOscillator();
      osc.frequency.value = 440;
      const left = c.createGain();
      const right = c.createGain();
      const merger = c.createChannelMerger(2);
      const dest = c.createMediaStreamDestination();
      dest.channelCount = 2;
      osc.connect(left).connect(merger, 0, 0);
      osc.connect(right).connect(merger, 0, 1);
      merger.connect(dest);
      const pan = (p) => { left.gain.value = 0.5 * (1 - p / 100); right.gain.value = 0.5 * (p / 100); };
      pan(50);
      osc.start();
      pc.addTransceiver(dest.stream.getAudioTracks()[0], { direction: 'sendonly', streams: [dest.stream] });
      const dc = pc.createDataChannel('panning');
      dc.onmessage = ({ data }) => { const p = Number(data); if (p >= 0 && p <= 100) pan(p); };
      cleanup.push(() => osc.stop());
    },
    'pitch-detector'(pc, cleanup) {
      const c = audio();
      const { receiver } = pc.addTransceiver('audio', { direction: 'recvonly' });
      const stream = new MediaStream([receiver.track]);
      const sink = document.createElement('audio');
      sink.muted = true;
      sink.srcObject = stream;
      sink.play().catch(() => {});
      const analyser = c.createAnalyser();
      analyser.fftSize = 8192;
      analyser.smoothingTimeConstant = 0;
      c.createMediaStreamSource(stream).connect(analyser);
      const spectrum = new Float32Array(analyser.frequencyBinCount);
      const dc = pc.createDataChannel('frequency');
      const timer = setInterval(() => {
        const f = peakHz(analyser, spectrum);
        if (f && dc.readyState === 'open') dc.send(JSON.stringify(Math.round(f * 10) / 10));
      }, 250);
      cleanup.push(() => clearInterval(timer));
    },
  };

  window.ref = {
    async create(example) {
      const pc = new RTCPeerConnection();
      const cleanup = [];
      setups[example](pc, cleanup);
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const id = String(next++);
      conns.set(id, { pc, cleanup, example });
      return { id, sdp: pc.localDescription.sdp };
    },
    async answer(id, sdp) {
      const c = conns.get(id);
      if (!c) return false;
      await c.pc.setRemoteDescription({ type: 'answer', sdp });
      return true;
    },
    close(id) {
      const c = conns.get(id);
      if (!c) return false;
      for (const f of c.cleanup) f();
      c.pc.close();
      conns.delete(id);
      return true;
    },
    list(example) {
      return [...conns.entries()].filter(([, c]) => c.example === example)
        .map(([id, c]) => ({ id, iceConnectionState: c.pc.iceConnectionState }));
    },
  };
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'Content-Type': type });
  res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
}

const body = (req) => new Promise((resolve) => {
  let s = '';
  req.on('data', (d) => { s += d; });
  req.on('end', () => resolve(s));
});

let page = null;
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/__ref/blank') return send(res, 200, '<!doctype html><title>ref</title>', TYPES['.html']);
    const m = /^\/([a-z-]+)\/connections(?:\/([^/]+))?(\/remote-description)?$/.exec(url.pathname);
    if (m) {
      const [, ex, id, remote] = m;
      if (!EXAMPLES.includes(ex)) return send(res, 404, 'not found', 'text/plain');
      if (req.method === 'GET' && !id) return send(res, 200, await page.evaluate((e) => window.ref.list(e), ex));
      if (req.method === 'POST' && !id) {
        const { id: cid, sdp } = await page.evaluate((e) => window.ref.create(e), ex);
        return send(res, 200, { id: cid, state: 'open', localDescription: { type: 'offer', sdp }, remoteDescription: {} });
      }
      if (req.method === 'POST' && remote) {
        const d = JSON.parse(await body(req));
        const ok = await page.evaluate(([i, s]) => window.ref.answer(i, s), [id, d.sdp]);
        return ok ? send(res, 200, d) : send(res, 404, 'no such connection', 'text/plain');
      }
      if (req.method === 'DELETE' && id) {
        const ok = await page.evaluate((i) => window.ref.close(i), id);
        return ok ? send(res, 200, { id, state: 'closed' }) : send(res, 404, 'no such connection', 'text/plain');
      }
      return send(res, 405, 'method not allowed', 'text/plain');
    }
    let file = path.normalize(path.join(ROOT, decodeURIComponent(url.pathname)));
    if (!file.startsWith(ROOT)) return send(res, 403, 'forbidden', 'text/plain');
    if (file.endsWith('/')) file += 'index.html';
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) return send(res, 404, 'not found', 'text/plain');
    return send(res, 200, fs.readFileSync(file), TYPES[path.extname(file)] || 'application/octet-stream');
  } catch (err) {
    return send(res, 500, String(err && err.message), 'text/plain');
  }
});

await new Promise((r) => server.listen(port, '127.0.0.1', r));
const browser = await launch('chromium');
page = await browser.newPage();
await page.goto(`http://127.0.0.1:${port}/__ref/blank`);
await page.evaluate(`(${serverSide.toString()})()`);
console.log(`reference server on http://127.0.0.1:${port} (${EXAMPLES.join(', ')})`);
const stop = async () => { await browser.close(); server.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
