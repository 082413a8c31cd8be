// Media helpers shared by the audio/video example pages: one AudioContext,
// showing streams in <video>/<audio>, a tone meter (level + FFT peak) with a
// scope, getStats polling, and the server's data channels.
//
// Facts these depend on (tests/e2e/README.md, BROWSER-TESTING.md):
// - Chromium feeds a *remote* track into WebAudio only while the stream is
//   also attached to a media element, so tapAudio() attaches it to a muted,
//   hidden <audio> as well.
// - Firefox starts an AudioContext only with an audio backend (the tests give
//   it a PulseAudio null sink); a context that stays 'suspended' is reported
//   instead of reading silence quietly.

import { el } from './example.js';

// ---- one AudioContext per page, shared and reference-counted

let audioContext = null;
let audioRefs = 0;

export function acquireAudioContext() {
  if (!audioContext) audioContext = new AudioContext();
  audioRefs += 1;
  // Called from Start's click handler chain: resume() is allowed there.
  if (audioContext.state === 'suspended') audioContext.resume().catch(() => {});
  return audioContext;
}

export function releaseAudioContext() {
  if (audioRefs === 0) return;
  audioRefs -= 1;
  if (audioRefs === 0 && audioContext) {
    audioContext.close().catch(() => {});
    audioContext = null;
  }
}

// ---- streams and elements

// The tracks the server offered to send us, available right after the
// offer is applied (i.e. in beforeAnswer), before any packet arrives.
export function remoteStream(pc, kind) {
  const tracks = pc.getReceivers().map((r) => r.track)
    .filter((t) => t && (!kind || t.kind === kind));
  return new MediaStream(tracks);
}

// Shows a stream in a media element; a refused autoplay is reported, not
// thrown (the page stays usable, the element has controls).
export function attach(element, stream, log) {
  element.srcObject = stream;
  const p = element.play();
  if (p && p.catch) {
    p.catch((err) => {
      if (log && stream) log(`${element.tagName.toLowerCase()} did not start playing: ${err.message}`);
    });
  }
}

export function detach(element) {
  element.srcObject = null;
}

export function videoElement(id, { muted = false, controls = false } = {}) {
  const v = el('video', { id, playsinline: '' });
  v.autoplay = true;
  v.muted = muted;
  v.controls = controls;
  return v;
}

export function figure(caption, ...children) {
  return el('figure', { class: 'media' }, ...children, el('figcaption', { text: caption }));
}

// getUserMedia audio constraints. The browsers' voice processing (noise
// suppression, gain control, echo cancellation) is right for speech and wrong
// for a tone meant to be measured: noise suppression treats a steady tone as
// noise. Pages offer a checkbox; the tests turn it off.
export function audioConstraints(voiceProcessing) {
  return voiceProcessing ? true
    : { echoCancellation: false, noiseSuppression: false, autoGainControl: false };
}

// ---- measuring audio

const SILENCE_DB = -60;

// Peak of an FFT in dB, refined by a parabola through the three bins around
// it: pure tones come out within a Hz or two of the truth.
function peakFrequency(spectrum, sampleRate, fftSize, minHz = 30) {
  const binHz = sampleRate / fftSize;
  let best = -1;
  let bestDb = -Infinity;
  for (let i = Math.max(1, Math.ceil(minHz / binHz)); i < spectrum.length - 1; i++) {
    if (spectrum[i] > bestDb) { bestDb = spectrum[i]; best = i; }
  }
  if (best < 0 || !Number.isFinite(bestDb)) return null;
  const a = spectrum[best - 1];
  const b = spectrum[best];
  const c = spectrum[best + 1];
  const denom = a - 2 * b + c;
  const shift = Number.isFinite(denom) && denom !== 0 ? 0.5 * (a - c) / denom : 0;
  return (best + Math.max(-0.5, Math.min(0.5, shift))) * binHz;
}

// The strongest local maxima of a spectrum, at least minApartHz apart:
// [{ frequency, db }] strongest first. Two tones summed show two peaks.
function strongestPeaks(spectrum, binHz, count = 3, minApartHz = 50) {
  const maxima = [];
  for (let i = 2; i < spectrum.length - 1; i++) {
    if (spectrum[i] > spectrum[i - 1] && spectrum[i] >= spectrum[i + 1] && Number.isFinite(spectrum[i])) {
      maxima.push(i);
    }
  }
  maxima.sort((a, b) => spectrum[b] - spectrum[a]);
  const out = [];
  for (const i of maxima) {
    const frequency = i * binHz;
    if (out.some((p) => Math.abs(p.frequency - frequency) < minApartHz)) continue;
    out.push({ frequency: Math.round(frequency), db: Math.round(spectrum[i] * 10) / 10 });
    if (out.length === count) break;
  }
  return out;
}

// Level (RMS, dBFS) and dominant frequency of one audio node's output.
// measure() returns { frequency (Hz, null when silent), levelDb, peaks, at }
// where peaks are the three strongest spectral peaks ([] when silent).
export class ToneMeter {
  constructor(context, source, { output = 0, fftSize = 16384 } = {}) {
    this.context = context;
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = fftSize;
    this.analyser.smoothingTimeConstant = 0;
    this.source = source;
    this.output = output;
    source.connect(this.analyser, output);
    this.spectrum = new Float32Array(this.analyser.frequencyBinCount);
    this.samples = new Float32Array(this.analyser.fftSize);
  }

  measure() {
    const { analyser, spectrum, samples } = this;
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i] * samples[i];
    const rms = Math.sqrt(sum / samples.length);
    const levelDb = rms > 0 ? 20 * Math.log10(rms) : -Infinity;
    let frequency = null;
    let peaks = [];
    if (levelDb > SILENCE_DB) {
      analyser.getFloatFrequencyData(spectrum);
      frequency = peakFrequency(spectrum, this.context.sampleRate, analyser.fftSize);
      peaks = strongestPeaks(spectrum, this.context.sampleRate / analyser.fftSize);
    }
    return {
      frequency: frequency === null ? null : Math.round(frequency * 10) / 10,
      levelDb: Number.isFinite(levelDb) ? Math.round(levelDb * 10) / 10 : null,
      peaks,
      at: Math.round(performance.now()),
    };
  }

  close() {
    try { this.source.disconnect(this.analyser); } catch { /* already */ }
  }
}

// An oscilloscope: the waveform, triggered on a rising zero crossing so a
// steady tone stands still.
export class Scope {
  constructor(context, source, canvas, { output = 0, color = '#0b6bcb' } = {}) {
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 4096;
    this.source = source;
    source.connect(this.analyser, output);
    this.canvas = canvas;
    this.color = color;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.frame = 0;
    const draw = () => {
      this.draw();
      this.frame = requestAnimationFrame(draw);
    };
    this.frame = requestAnimationFrame(draw);
  }

  draw() {
    const { canvas, samples } = this;
    const g = canvas.getContext('2d');
    const w = canvas.width;
    const h = canvas.height;
    this.analyser.getFloatTimeDomainData(samples);
    let start = 0;
    for (let i = 1; i < samples.length / 2; i++) {
      if (samples[i - 1] < 0 && samples[i] >= 0) { start = i; break; }
    }
    const n = Math.min(samples.length - start, 1024);
    g.fillStyle = '#10151a';
    g.fillRect(0, 0, w, h);
    g.strokeStyle = '#33404c';
    g.beginPath(); g.moveTo(0, h / 2); g.lineTo(w, h / 2); g.stroke();
    g.strokeStyle = this.color;
    g.lineWidth = 2;
    g.beginPath();
    for (let i = 0; i < n; i++) {
      const x = (i / (n - 1)) * w;
      const y = h / 2 - samples[start + i] * (h / 2) * 0.95;
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    }
    g.stroke();
  }

  stop() {
    cancelAnimationFrame(this.frame);
    try { this.source.disconnect(this.analyser); } catch { /* already */ }
  }
}

export function scopeCanvas(id) {
  return el('canvas', { id, class: 'scope', width: '480', height: '160' });
}

export function describeTone(m) {
  if (!m || m.levelDb === null) return '–';
  if (m.frequency === null) return `silent (${m.levelDb} dBFS)`;
  return `${m.frequency.toFixed(1)} Hz at ${m.levelDb} dBFS`;
}

// Listens to a stream's audio: a hidden muted <audio> keeps Chromium's
// remote audio flowing into WebAudio; each meter reads one channel (or the
// mix); every intervalMs the readings go to onReading(readings) — an object
// keyed like `channels`. Returns { context, source, stop() }.
//   channels: { tone: null } (mix) or { left: 0, right: 1 } (split)
export function tapAudio(stream, { channels = { tone: null }, intervalMs = 200, onReading, scopes = {}, log } = {}) {
  const context = acquireAudioContext();
  const sink = el('audio', { class: 'tap', hidden: '' });
  sink.muted = true;
  document.body.append(sink);
  attach(sink, stream, log);

  const source = context.createMediaStreamSource(stream);
  const indexes = Object.values(channels).filter((c) => c !== null);
  let splitter = null;
  if (indexes.length) {
    splitter = context.createChannelSplitter(Math.max(2, ...indexes.map((i) => i + 1)));
    source.connect(splitter);
  }
  const meters = {};
  const drawn = [];
  for (const [name, index] of Object.entries(channels)) {
    const node = index === null ? source : splitter;
    const output = index === null ? 0 : index;
    meters[name] = new ToneMeter(context, node, { output });
    if (scopes[name]) drawn.push(new Scope(context, node, scopes[name], { output }));
  }

  let warnedSuspended = false;
  const timer = setInterval(() => {
    if (context.state !== 'running') {
      if (!warnedSuspended && log) log(`AudioContext is ${context.state}: no audio output device?`);
      warnedSuspended = true;
      return;
    }
    const readings = {};
    for (const [name, meter] of Object.entries(meters)) readings[name] = meter.measure();
    if (onReading) onReading(readings);
  }, intervalMs);

  return {
    context,
    source,
    stop() {
      clearInterval(timer);
      for (const s of drawn) s.stop();
      for (const m of Object.values(meters)) m.close();
      if (splitter) { try { source.disconnect(splitter); } catch { /* already */ } }
      detach(sink);
      sink.remove();
      releaseAudioContext();
    },
  };
}

// Keeps the last `max` readings of one meter in `list` (for the test hook).
export function remember(list, reading, max = 30) {
  list.push(reading);
  if (list.length > max) list.splice(0, list.length - max);
}

// ---- getStats

// One summary of the stats a person (or a test) cares about:
//   inbound.video  { framesDecoded, framesPerSecond, frameWidth, frameHeight,
//                    packetsReceived, packetsLost, keyFramesDecoded, codec }
//   inbound.audio  { packetsReceived, packetsLost, audioLevel, codec, channels }
//   outbound.video { packetsSent, framesEncoded, frameWidth, frameHeight, codec }
//   outbound.audio { packetsSent, codec }
//   pair           'local:port <-> remote:port' of the selected candidate pair
// Several inbound streams of one kind (a forwarded stream whose SSRC
// changed) are summed.
export async function summarizeStats(pc) {
  const stats = await pc.getStats();
  const out = { inbound: {}, outbound: {}, pair: null, at: Math.round(performance.now()) };
  const codecOf = (s) => {
    const c = s.codecId && stats.get(s.codecId);
    return c ? { codec: c.mimeType, channels: c.channels ?? null } : { codec: null, channels: null };
  };
  const add = (dst, key, v) => { if (typeof v === 'number') dst[key] = (dst[key] ?? 0) + v; };
  const max = (dst, key, v) => { if (typeof v === 'number') dst[key] = Math.max(dst[key] ?? 0, v); };
  stats.forEach((s) => {
    const kind = s.kind ?? s.mediaType;
    if (s.type === 'inbound-rtp' && !s.isRemote && (kind === 'audio' || kind === 'video')) {
      const d = (out.inbound[kind] ??= {});
      add(d, 'packetsReceived', s.packetsReceived);
      add(d, 'packetsLost', s.packetsLost);
      add(d, 'bytesReceived', s.bytesReceived);
      if (kind === 'video') {
        add(d, 'framesDecoded', s.framesDecoded);
        add(d, 'keyFramesDecoded', s.keyFramesDecoded);
        add(d, 'nackCount', s.nackCount);
        add(d, 'pliCount', s.pliCount);
        max(d, 'frameWidth', s.frameWidth);
        max(d, 'frameHeight', s.frameHeight);
        max(d, 'framesPerSecond', s.framesPerSecond);
      } else {
        max(d, 'audioLevel', s.audioLevel);
      }
      Object.assign(d, codecOf(s));
    } else if (s.type === 'outbound-rtp' && !s.isRemote && (kind === 'audio' || kind === 'video')) {
      const d = (out.outbound[kind] ??= {});
      add(d, 'packetsSent', s.packetsSent);
      add(d, 'bytesSent', s.bytesSent);
      if (kind === 'video') {
        add(d, 'framesEncoded', s.framesEncoded);
        max(d, 'frameWidth', s.frameWidth);
        max(d, 'frameHeight', s.frameHeight);
      }
      Object.assign(d, codecOf(s));
    } else if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.selected || s.nominated)) {
      const l = stats.get(s.localCandidateId);
      const r = stats.get(s.remoteCandidateId);
      if (l && r) out.pair = `${l.address ?? l.ip}:${l.port} <-> ${r.address ?? r.ip}:${r.port}`;
    }
  });
  return out;
}

// Polls summarizeStats every intervalMs; onStats(summary). Returns stop().
export function pollStats(pc, onStats, intervalMs = 500) {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy || pc.signalingState === 'closed') return;
    busy = true;
    try {
      onStats(await summarizeStats(pc));
    } catch { /* the pc closed under us */ } finally {
      busy = false;
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

// Rows for a .figures grid from [label, value] pairs.
export function figureRows(rows) {
  const out = [];
  for (const [label, value] of rows) out.push(el('span', { text: label }), el('span', { text: value }));
  return out;
}

export function describeVideo(v) {
  if (!v) return '–';
  const size = v.frameWidth ? `${v.frameWidth}×${v.frameHeight}` : '?×?';
  const fps = v.framesPerSecond ? `, ${Math.round(v.framesPerSecond)} fps` : '';
  return `${v.framesDecoded ?? v.framesEncoded ?? 0} frames, ${size}${fps}${v.codec ? `, ${v.codec}` : ''}`;
}

// ---- the server's data channels

// The data channel the server creates with this label. send() returns false
// (and sends nothing) until it is open; onOpen/onMessage/onClose are optional.
export function serverChannel(pc, label, { onOpen, onMessage, onClose, log } = {}) {
  const handle = { channel: null, state: 'none', send };
  function send(text) {
    if (!handle.channel || handle.channel.readyState !== 'open') return false;
    handle.channel.send(text);
    return true;
  }
  pc.addEventListener('datachannel', ({ channel }) => {
    if (channel.label !== label) return;
    handle.channel = channel;
    handle.state = channel.readyState;
    const opened = () => {
      handle.state = 'open';
      if (log) log(`data channel "${label}" open`);
      if (onOpen) onOpen(channel);
    };
    if (onMessage) channel.addEventListener('message', onMessage);
    channel.addEventListener('close', () => {
      handle.state = 'closed';
      if (log) log(`data channel "${label}" closed`);
      if (onClose) onClose(channel);
    });
    if (channel.readyState === 'open') opened();
    else channel.addEventListener('open', opened, { once: true });
  });
  return handle;
}
