// conversation: a Beep voice client (SPEC §2, seed 000) in one page.
//
// Connect does what the seed's README JavaScript does: open the WebSocket
// GET /connect, take the microphone, addTrack, createOffer, wait until ICE
// gathering is complete (non-trickle), send pc.localDescription.sdp as the
// first text message, apply the one text message that comes back as the
// answer. The server closes the socket with 1000 once ICE + DTLS are up; any
// other close code is an error (1007 unusable SDP, 1011 timeout or setup
// failure, 1008 policy) and its reason is shown. Join POSTs
// /join/<conversation>; it works before or after Connect. Everyone else in
// the conversation is heard on the one audio track, mixed by the server.
//
// Identity: behind Beep's auth proxy the proxy sets X-User-Claim, which a
// page cannot do on a WebSocket. So the page passes ?userid=&clientid=,
// which only a server started with AUTH_DEV_QUERY=1 accepts, and only from
// loopback (development). With a token filled in (AUTH=jwt) it sends
// ?token= on /connect and Authorization: Bearer on /join instead.
// The fields can be prefilled from this page's URL: ?userid=&clientid=&conversation=
//
// Test hook, window.__tern:
//   example 'conversation'; state 'idle'|'connecting'|'connected'|'closed'|'error'
//   userid, clientid          the identity of the last Connect/Join
//   conversation              the last conversation joined (200), or null
//   joinStatus, joinText      HTTP status and body of the last POST /join
//   joins                     [{ conversation, status, text, ms, sentWall, doneWall }] (last 20;
//                             the walls are Date.now() when the POST was sent / answered)
//   ws                        'none'|'connecting'|'open'|'closed'
//   wsClose                   { code, reason, wasClean, afterAnswer } of the signalling socket
//   answerReceived, offerBytes, gatherMs (offer gathering), connectMs (click → connected)
//   iceConnectionState, connectionState, iceGatheringState
//   error (string|null), errorStatus (HTTP status when /connect was refused before the upgrade)
//   tone, tones               readings of what the page hears every 200 ms (tones: the
//                             last 100) — lib/media.js ToneMeter { frequency, levelDb,
//                             peaks, at } plus wall (Date.now()) and bands { hz: dB } (see probes)
//   probes                    frequencies (Hz) whose level (strongest FFT bin within
//                             ±probeTolHz) every reading reports in bands; null = silent
//   localTone                 the page's reading of its own microphone
//   speaking, othersSpeaking  level above SPEAKING_DB (microphone / what is heard)
//   contributors              RTCRtpReceiver.getContributingSources(): [{ source, audioLevel }]
//   stats                     lib/media.js summarizeStats()
//   connects                  Connect clicks

import { el } from '../lib/example.js';
import {
  acquireAudioContext, attach, audioConstraints, describeTone, detach, figureRows, pollStats,
  releaseAudioContext, remember, tapAudio, ToneMeter,
} from '../lib/media.js';

const GATHER_LIMIT_MS = 5000; // send what was gathered by then
const CONNECT_LIMIT_MS = 20000; // the server gives up after 10 s + 15 s at most
const SPEAKING_DB = -50; // dBFS RMS
const SHOWN_PEAKS_DB = 30; // peaks this close to the strongest are listed as tones

const params = new URLSearchParams(location.search);
const randomId = (prefix) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

const test = (window.__tern = {
  example: 'conversation',
  state: 'idle',
  userid: null,
  clientid: null,
  conversation: null,
  joinStatus: null,
  joinText: null,
  joins: [],
  ws: 'none',
  wsClose: null,
  answerReceived: false,
  offerBytes: 0,
  gatherMs: null,
  connectMs: null,
  iceConnectionState: null,
  connectionState: null,
  iceGatheringState: null,
  error: null,
  errorStatus: null,
  tone: null,
  tones: [],
  probes: [],
  probeTolHz: 15,
  localTone: null,
  speaking: false,
  othersSpeaking: false,
  contributors: [],
  stats: null,
  connects: 0,
});

// ---- the page

document.title = 'conversation (Beep) — Tern examples';
const input = (id, value) => el('input', { id, type: 'text', value, autocomplete: 'off', spellcheck: 'false' });
const userInput = input('userid', params.get('userid') || randomId('user'));
const clientInput = input('clientid', params.get('clientid') || randomId('web'));
const tokenInput = input('token', params.get('token') || '');
tokenInput.placeholder = 'only for AUTH=jwt';
const conversationInput = input('conversation', params.get('conversation') || 'lobby');
const voice = el('input', { id: 'voice-processing', type: 'checkbox' });
voice.checked = true;

const connectButton = el('button', { id: 'connect', type: 'button', text: 'Connect' });
const disconnectButton = el('button', { id: 'disconnect', type: 'button', text: 'Disconnect' });
disconnectButton.disabled = true;
const joinButton = el('button', { id: 'join', type: 'button', text: 'Join' });
const status = el('span', { id: 'status', class: 'status', text: 'idle' });
const joinStatus = el('span', { id: 'join-status', class: 'status', text: 'not in a conversation' });
const remoteAudio = el('audio', { id: 'remote-audio', controls: '' });
remoteAudio.autoplay = true;
const level = el('meter', { id: 'level', min: '-100', max: '0', low: '-60', high: '-20', optimum: '-30', value: '-100' });
const tonesLine = el('p', { id: 'tones', class: 'big', text: 'Heard: –' });
const speakingLine = el('p', { id: 'speaking', text: '' });
const figures = el('div', { class: 'figures' });
const logBox = el('pre', { id: 'log', class: 'log' });

const description = el('p', { class: 'description' });
description.innerHTML = 'A Beep voice client: '
  + '<code>GET /connect</code> (WebSocket signalling, then WebRTC audio) and '
  + '<code>POST /join/:conversationid</code>. Everyone in the same conversation '
  + 'hears everyone else, mixed by the server; you never hear yourself. Open this '
  + 'page in two tabs with different user ids to talk to yourself.';

document.body.append(
  el('nav', {}, el('a', { href: '../index.html', text: '← all examples' })),
  el('h1', { text: 'conversation (Beep)' }),
  description,
  el('p', { class: 'hint' }, 'Identity by query string needs a server started with '
    + 'AUTH_DEV_QUERY=1 (development, loopback only). Connect and Join work in either order.'),
  el('div', { id: 'example', class: 'example' },
    el('div', { class: 'identity' },
      el('label', { for: 'userid', text: 'user id' }), userInput,
      el('label', { for: 'clientid', text: 'client id' }), clientInput,
      el('label', { for: 'token', text: 'token' }), tokenInput,
      el('label', { for: 'conversation', text: 'conversation' }), conversationInput),
    el('label', {}, 'Voice processing (echo cancellation, noise suppression, gain control)', voice),
    el('div', { class: 'controls' }, connectButton, disconnectButton, status),
    el('div', { class: 'controls' }, joinButton, joinStatus),
    el('p', {}, 'Level of what you hear: ', level),
    tonesLine,
    speakingLine,
    remoteAudio,
    figures),
  logBox,
);

function log(text) {
  logBox.append(`${new Date().toISOString().slice(11, 23)}  ${text}\n`);
  while (logBox.childNodes.length > 500) logBox.firstChild.remove();
  logBox.scrollTop = logBox.scrollHeight;
}

function heardTones(m) {
  if (!m || m.frequency === null || !m.peaks.length) return [];
  return m.peaks.filter((p) => p.db >= m.peaks[0].db - SHOWN_PEAKS_DB);
}

function render() {
  const parts = [test.state];
  if (test.ws !== 'none') parts.push(`signalling ${test.ws}${test.wsClose ? ` (${test.wsClose.code}${test.wsClose.reason ? ` ${test.wsClose.reason}` : ''})` : ''}`);
  if (test.iceConnectionState) parts.push(`ICE ${test.iceConnectionState}`);
  if (test.connectionState) parts.push(`connection ${test.connectionState}`);
  if (test.error) parts.push(`error: ${test.error}`);
  status.textContent = parts.join(' · ');
  status.classList.toggle('error', Boolean(test.error));

  const m = test.tone;
  level.value = m && m.levelDb !== null ? Math.max(-100, m.levelDb) : -100;
  const tones = heardTones(m);
  tonesLine.textContent = `Heard: ${tones.length ? tones.map((p) => `${p.frequency} Hz`).join(' + ') : (m ? 'silence' : '–')}`;
  const who = [];
  if (test.speaking) who.push('you are speaking');
  if (test.othersSpeaking) who.push('someone in the conversation is speaking');
  for (const c of test.contributors) who.push(`source ${c.source}${c.audioLevel !== null ? ` (level ${c.audioLevel})` : ''}`);
  speakingLine.textContent = who.join(' · ');
  speakingLine.classList.toggle('speaking', who.length > 0);

  const s = test.stats;
  const a = s?.inbound.audio;
  figures.replaceChildren(...figureRows([
    ['you', `${test.userid ?? userInput.value} / ${test.clientid ?? clientInput.value}`],
    ['conversation', test.conversation ?? '–'],
    ['what you hear', describeTone(m)],
    ['spectral peaks', m && m.peaks.length ? m.peaks.map((p) => `${p.frequency} Hz ${p.db} dB`).join(', ') : '–'],
    ['your microphone', describeTone(test.localTone)],
    ['audio received', a ? `${a.packetsReceived ?? 0} packets, ${a.packetsLost ?? 0} lost, ${a.codec ?? '?'}` : '–'],
    ['audio sent', s?.outbound.audio ? `${s.outbound.audio.packetsSent ?? 0} packets` : '–'],
    ['candidate pair', s?.pair ?? '–'],
  ]));
}

function fail(err, statusCode = null) {
  const message = err && err.message ? err.message : String(err);
  test.error = message;
  test.errorStatus = statusCode;
  test.state = 'error';
  log(`error: ${message}`);
  render();
}

// ---- identity

function identity() {
  const userid = userInput.value.trim();
  const clientid = clientInput.value.trim();
  const token = tokenInput.value.trim();
  if (!token && (!userid || !clientid)) throw new Error('user id and client id are needed');
  return { userid, clientid, token };
}

function identityQuery({ userid, clientid, token }) {
  const q = new URLSearchParams();
  if (token) q.set('token', token);
  else { q.set('userid', userid); q.set('clientid', clientid); }
  return q.toString();
}

// ---- Join

async function join() {
  let who;
  try {
    who = identity();
  } catch (err) {
    fail(err);
    return;
  }
  const conversation = conversationInput.value.trim();
  const t0 = performance.now();
  const sentWall = Date.now();
  joinButton.disabled = true;
  joinStatus.textContent = `joining ${conversation}…`;
  let entry;
  try {
    const headers = who.token ? { Authorization: `Bearer ${who.token}` } : {};
    const query = who.token ? '' : `?${identityQuery(who)}`;
    const res = await fetch(`../join/${encodeURIComponent(conversation)}${query}`, { method: 'POST', headers });
    const text = await res.text();
    entry = { conversation, status: res.status, text, ms: Math.round(performance.now() - t0), sentWall, doneWall: Date.now() };
  } catch (err) {
    entry = { conversation, status: null, text: err.message, ms: Math.round(performance.now() - t0), sentWall, doneWall: Date.now() };
  } finally {
    joinButton.disabled = false;
  }
  test.userid = who.userid;
  test.clientid = who.clientid;
  test.joinStatus = entry.status;
  test.joinText = entry.text;
  remember(test.joins, entry, 20);
  if (entry.status === 200) {
    test.conversation = conversation;
    joinStatus.textContent = `in conversation ${conversation}`;
    joinStatus.classList.remove('error');
    log(`joined ${conversation} (${entry.ms} ms)`);
  } else {
    joinStatus.textContent = `join ${conversation} failed: ${entry.status ?? 'network error'} ${entry.text}`;
    joinStatus.classList.add('error');
    log(`POST /join/${conversation} → ${entry.status ?? 'network error'} ${entry.text}`);
  }
  render();
}

// ---- Connect

let session = null; // everything one Connect opened, closed by Disconnect or failure

// Resolves when ICE gathering is complete (the offer then holds every
// candidate) or after GATHER_LIMIT_MS, whichever comes first.
function gathered(pc) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') { resolve(true); return; }
    const done = (complete) => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve(complete);
    };
    const onState = () => {
      test.iceGatheringState = pc.iceGatheringState;
      if (pc.iceGatheringState === 'complete') done(true);
    };
    const onCandidate = (e) => { if (e.candidate === null) done(true); };
    const timer = setTimeout(() => done(false), GATHER_LIMIT_MS);
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

// Why the WebSocket closed before it opened: the browser hides the HTTP
// status of a refused upgrade (and a plain GET /connect is no upgrade), so
// ask POST /join with the same identity and an invalid conversation id "!":
// no side effect, but the server checks the identity first. 404 = no Beep.
async function whyRefused(who) {
  try {
    const headers = who.token ? { Authorization: `Bearer ${who.token}` } : {};
    const query = who.token ? '' : `?${identityQuery(who)}`;
    const res = await fetch(`../join/%21${query}`, { method: 'POST', headers, signal: AbortSignal.timeout(3000) });
    const text = (await res.text()).trim().slice(0, 200);
    if (res.status === 404) return { status: 404, message: 'this server does not serve Beep (/connect, /join): 404' };
    if ((res.status === 400 || res.status === 401) && !/conversation id/i.test(text)) {
      const hint = who.token ? '' : ' (?userid=&clientid= needs a server started with AUTH_DEV_QUERY=1, and this page on loopback)';
      return { status: res.status, message: `the server refused this identity: ${res.status} ${text}${hint}` };
    }
  } catch { /* fall through */ }
  return { status: null, message: 'the /connect WebSocket upgrade was refused (the browser does not say why)' };
}

function closeSession(s, finalState) {
  if (!s || s.closed) return;
  s.closed = true;
  for (const f of s.cleanups.reverse()) {
    try { f(); } catch { /* best effort */ }
  }
  if (s.ws && s.ws.readyState <= WebSocket.OPEN) s.ws.close(1000, 'client disconnected');
  if (s.pc) {
    test.iceConnectionState = s.pc.iceConnectionState;
    test.connectionState = s.pc.connectionState ?? null;
    s.pc.close();
  }
  if (session === s) session = null;
  if (finalState && test.state !== 'error') test.state = finalState;
  connectButton.disabled = false;
  disconnectButton.disabled = true;
  test.speaking = false;
  test.othersSpeaking = false;
  render();
}

function watchPeer(s) {
  const { pc } = s;
  const update = () => {
    if (s.closed) return;
    test.iceConnectionState = pc.iceConnectionState;
    test.connectionState = pc.connectionState ?? null;
    const up = pc.connectionState === 'connected'
      || (pc.connectionState === undefined && ['connected', 'completed'].includes(pc.iceConnectionState));
    if (up && test.state === 'connecting') {
      test.state = 'connected';
      test.connectMs = Math.round(performance.now() - s.t0);
      clearTimeout(s.connectTimer);
      log(`connected in ${test.connectMs} ms`);
    }
    if (pc.connectionState === 'failed' || pc.iceConnectionState === 'failed') {
      fail(new Error('the peer connection failed (ICE/DTLS)'));
      closeSession(s);
    }
    render();
  };
  pc.addEventListener('iceconnectionstatechange', () => { log(`ICE ${pc.iceConnectionState}`); update(); });
  pc.addEventListener('connectionstatechange', update);
}

function listen(s, track) {
  const stream = new MediaStream([track]);
  attach(remoteAudio, stream, log);
  s.cleanups.push(() => detach(remoteAudio));
  const tap = tapAudio(stream, {
    onReading: ({ tone }) => {
      tone.wall = Date.now();
      tone.bands = probeBands(tap, tone);
      test.tone = tone;
      test.othersSpeaking = tone.levelDb !== null && tone.levelDb > SPEAKING_DB;
      remember(test.tones, tone, 100);
      render();
    },
    log,
  });
  s.cleanups.push(() => tap.stop());
  // A second analyser on the same source for the probe frequencies
  // (ToneMeter keeps its own to itself).
  const probe = tap.context.createAnalyser();
  probe.fftSize = 16384;
  probe.smoothingTimeConstant = 0;
  tap.source.connect(probe);
  tap.probe = probe;
  s.cleanups.push(() => { try { tap.source.disconnect(probe); } catch { /* already */ } });
  // Who is speaking, if the server names them: the CSRCs of the mix.
  const receiver = s.pc.getReceivers().find((r) => r.track === track);
  if (receiver && receiver.getContributingSources) {
    const timer = setInterval(() => {
      test.contributors = receiver.getContributingSources()
        .map((c) => ({ source: c.source, audioLevel: c.audioLevel ?? null }));
    }, 500);
    s.cleanups.push(() => { clearInterval(timer); test.contributors = []; });
  }
}

// The level of each probe frequency in the current spectrum: the strongest
// bin within ±probeTolHz (dB as AnalyserNode reports it), null when silent.
let spectrum = null;
function probeBands(tap, reading) {
  const bands = {};
  if (!test.probes.length) return bands;
  const analyser = tap.probe;
  for (const hz of test.probes) bands[hz] = null;
  if (reading.frequency === null || !analyser) return bands;
  if (!spectrum || spectrum.length !== analyser.frequencyBinCount) spectrum = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(spectrum);
  const binHz = tap.context.sampleRate / analyser.fftSize;
  for (const hz of test.probes) {
    let best = -Infinity;
    const lo = Math.max(1, Math.floor((hz - test.probeTolHz) / binHz));
    const hi = Math.min(spectrum.length - 1, Math.ceil((hz + test.probeTolHz) / binHz));
    for (let i = lo; i <= hi; i++) best = Math.max(best, spectrum[i]);
    bands[hz] = Number.isFinite(best) ? Math.round(best * 10) / 10 : null;
  }
  return bands;
}

function meterLocal(s, stream) {
  const context = acquireAudioContext();
  const node = context.createMediaStreamSource(stream);
  const meter = new ToneMeter(context, node);
  const timer = setInterval(() => {
    if (context.state !== 'running') return;
    test.localTone = meter.measure();
    test.speaking = test.localTone.levelDb !== null && test.localTone.levelDb > SPEAKING_DB;
  }, 250);
  s.cleanups.push(() => { clearInterval(timer); meter.close(); releaseAudioContext(); });
}

async function connect() {
  let who;
  try {
    who = identity();
  } catch (err) {
    fail(err);
    return;
  }
  connectButton.disabled = true;
  disconnectButton.disabled = false;
  Object.assign(test, {
    state: 'connecting', error: null, errorStatus: null, ws: 'connecting', wsClose: null,
    answerReceived: false, offerBytes: 0, gatherMs: null, connectMs: null,
    iceConnectionState: null, connectionState: null, iceGatheringState: null,
    tone: null, tones: [], localTone: null, stats: null, contributors: [],
    userid: who.userid, clientid: who.clientid,
  });
  test.connects += 1;
  render();

  const s = { closed: false, cleanups: [], pc: null, ws: null, t0: performance.now(), connectTimer: 0 };
  session = s;
  // Created in the click's task, so the browser lets it start.
  acquireAudioContext();
  s.cleanups.push(releaseAudioContext);
  s.connectTimer = setTimeout(() => {
    if (!s.closed && test.state === 'connecting') {
      fail(new Error(`not connected within ${CONNECT_LIMIT_MS / 1000} s`));
      closeSession(s);
    }
  }, CONNECT_LIMIT_MS);
  s.cleanups.push(() => clearTimeout(s.connectTimer));

  const query = identityQuery(who);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}${new URL('../connect', location.href).pathname}?${query}`);
  s.ws = ws;
  let opened = false;
  ws.addEventListener('open', () => { opened = true; test.ws = 'open'; log('signalling socket open'); render(); });
  ws.addEventListener('message', async (e) => {
    if (s.closed) return;
    if (test.answerReceived) { log(`ignored an extra signalling message (${String(e.data).length} bytes)`); return; }
    test.answerReceived = true;
    log(`answer received (${String(e.data).length} bytes)`);
    try {
      await s.pc.setRemoteDescription({ type: 'answer', sdp: String(e.data) });
    } catch (err) {
      fail(new Error(`the server's answer was not accepted: ${err.message}`));
      closeSession(s);
    }
  });
  ws.addEventListener('close', async (e) => {
    test.ws = 'closed';
    test.wsClose = { code: e.code, reason: e.reason, wasClean: e.wasClean, afterAnswer: test.answerReceived };
    log(`signalling socket closed: ${e.code}${e.reason ? ` ${e.reason}` : ''}`);
    if (s.closed) { render(); return; }
    if (!opened) {
      const why = await whyRefused(who);
      fail(new Error(why.message), why.status);
      closeSession(s);
    } else if (e.code !== 1000) {
      fail(new Error(`the server closed the signalling socket: ${e.code}${e.reason ? ` ${e.reason}` : ''}`));
      closeSession(s);
    }
    render();
  });

  try {
    const local = await navigator.mediaDevices.getUserMedia({ audio: audioConstraints(voice.checked) });
    s.cleanups.push(() => local.getTracks().forEach((t) => t.stop()));
    if (s.closed) return;
    meterLocal(s, local);

    const pc = new RTCPeerConnection();
    s.pc = pc;
    window.peerConnection = pc;
    watchPeer(s);
    pc.addEventListener('track', (e) => {
      log(`receiving ${e.track.kind}`);
      if (e.track.kind === 'audio') listen(s, e.track);
    });
    for (const track of local.getAudioTracks()) pc.addTrack(track, local);
    log(`microphone: ${local.getAudioTracks().map((t) => t.label).join(', ') || 'none'}`);
    s.cleanups.push(pollStats(pc, (stats) => { test.stats = stats; render(); }));

    const g0 = performance.now();
    await pc.setLocalDescription(await pc.createOffer());
    const complete = await gathered(pc);
    test.gatherMs = Math.round(performance.now() - g0);
    if (s.closed) return;
    if (!complete) log(`ICE gathering not complete after ${GATHER_LIMIT_MS} ms: sending the candidates found so far`);
    if (ws.readyState === WebSocket.CONNECTING) {
      await new Promise((resolve) => {
        ws.addEventListener('open', resolve, { once: true });
        ws.addEventListener('close', resolve, { once: true });
      });
    }
    if (s.closed || ws.readyState !== WebSocket.OPEN) return;
    const sdp = pc.localDescription.sdp;
    ws.send(sdp);
    test.offerBytes = sdp.length;
    log(`offer sent (${sdp.length} bytes, gathered in ${test.gatherMs} ms)`);
    render();
  } catch (err) {
    if (!s.closed) {
      fail(err);
      closeSession(s);
    }
  }
}

function disconnect() {
  log('disconnect');
  closeSession(session, 'closed');
}

connectButton.addEventListener('click', connect);
disconnectButton.addEventListener('click', disconnect);
joinButton.addEventListener('click', join);
window.addEventListener('pagehide', () => closeSession(session, 'closed'));
window.addEventListener('unhandledrejection', (ev) => fail(ev.reason));
window.addEventListener('error', (ev) => fail(ev.error || ev.message));
render();
