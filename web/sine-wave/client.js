// sine-wave: the server generates a sine tone (mono Opus, 440 Hz to start)
// and sends it to the page; the page plays it, draws its waveform and shows
// the pitch it measures. Changing the frequency sends the new value (a
// decimal number as text, e.g. "1250") on the data channel "frequency" that
// the server creates, as node-webrtc-examples does.
//
// window.__tern adds:
//   tone, tones        the received audio's readings { frequency, levelDb, at }
//   sentFrequency      the last frequency sent on the channel (number|null)
//   sends              how many values were sent
//   channelState       'none' | 'connecting' | 'open' | 'closed'
//   stats              lib/media.js summarizeStats()

import { createExample, el } from '../lib/example.js';
import {
  attach, describeTone, detach, figure, figureRows, pollStats, remember,
  remoteStream, scopeCanvas, serverChannel, tapAudio,
} from '../lib/media.js';

const DEFAULT_HZ = 440; // the server starts at this frequency

const description = 'The server generates a sine wave and sends it to this '
  + 'page as an audio track. Change the frequency below: the new value goes to '
  + 'the server over the RTCDataChannel “frequency”. The page measures the '
  + 'pitch of what it receives and draws the waveform.';

const frequency = el('input', { id: 'frequency', type: 'number', value: String(DEFAULT_HZ), min: '20', max: '20000', step: '1' });
const slider = el('input', { id: 'frequency-slider', type: 'range', value: String(DEFAULT_HZ), min: '20', max: '2000', step: '1' });
const detected = el('p', { id: 'detected', class: 'big', text: '– Hz' });
const audio = el('audio', { id: 'remote-audio' });
audio.controls = true;
audio.autoplay = true;
const scope = scopeCanvas('scope');
const figures = el('div', { class: 'figures' });

const ex = createExample('sine-wave', description, { beforeAnswer });
ex.main.append(
  el('label', {}, 'Frequency (Hz):', frequency),
  el('label', {}, 'Or slide:', slider),
  figure('the tone as received (detected pitch below)', scope),
  detected,
  audio,
  figures,
);

let channel = null;

function reset() {
  Object.assign(ex.test, { tone: null, tones: [], sentFrequency: null, sends: 0, channelState: 'none', stats: null });
  render();
}

function render() {
  const t = ex.test;
  detected.textContent = t.tone && t.tone.frequency !== null ? `${Math.round(t.tone.frequency)} Hz` : '– Hz';
  figures.replaceChildren(...figureRows([
    ['received', describeTone(t.tone)],
    ['asked for', t.sentFrequency === null ? `${DEFAULT_HZ} Hz (server default)` : `${t.sentFrequency} Hz`],
    ['data channel', t.channelState],
    ['audio packets', String(t.stats?.inbound.audio?.packetsReceived ?? '–')],
    ['codec', t.stats?.inbound.audio?.codec ?? '–'],
  ]));
}
reset();

function sendFrequency() {
  const hz = Number(frequency.value);
  if (!Number.isFinite(hz) || hz <= 0) return;
  if (channel && channel.send(String(hz))) {
    ex.test.sentFrequency = hz;
    ex.test.sends += 1;
    ex.log(`asked the server for ${hz} Hz`);
    render();
  }
}

frequency.addEventListener('change', () => {
  slider.value = frequency.value;
  sendFrequency();
});
slider.addEventListener('input', () => { frequency.value = slider.value; });
slider.addEventListener('change', () => {
  frequency.value = slider.value;
  sendFrequency();
});

function beforeAnswer(pc) {
  reset();
  const cleanups = [];
  pc.addEventListener('ternclose', () => {
    for (const f of cleanups.reverse()) f();
    channel = null;
    ex.test.channelState = 'closed';
    render();
  }, { once: true });

  channel = serverChannel(pc, 'frequency', {
    log: ex.log,
    onOpen: () => {
      ex.test.channelState = 'open';
      // A frequency chosen before Start applies as soon as it can.
      if (Number(frequency.value) !== DEFAULT_HZ) sendFrequency();
      render();
    },
    onClose: () => { ex.test.channelState = 'closed'; render(); },
  });
  ex.test.channelState = 'connecting';

  const stream = remoteStream(pc, 'audio');
  attach(audio, stream, ex.log);
  cleanups.push(() => detach(audio));

  const tap = tapAudio(stream, {
    scopes: { tone: scope },
    log: ex.log,
    onReading: ({ tone }) => {
      ex.test.tone = tone;
      remember(ex.test.tones, tone);
      render();
    },
  });
  cleanups.push(() => tap.stop());
  cleanups.push(pollStats(pc, (stats) => { ex.test.stats = stats; render(); }));
}
