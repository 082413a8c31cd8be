// sine-wave-stereo: the server generates a stereo sine tone (stereo Opus);
// the panning, 0 (left only) to 100 (right only), is sent as text (e.g.
// "25") on the data channel "panning" that the server creates, as in
// node-webrtc-examples. The page asks for stereo Opus in its answer
// (ConnectionClient's stereo option: fmtp stereo=1;sprop-stereo=1), splits
// what it receives into left and right, and shows each side's level, pitch
// and waveform.
//
// window.__tern adds:
//   left, right          last reading per side { frequency, levelDb, at }
//   lefts, rights        the last 30 readings per side
//   sentPanning          the last panning sent (number|null); sends
//   channelState         'none' | 'connecting' | 'open' | 'closed'
//   stats                lib/media.js summarizeStats()

import { createExample, el } from '../lib/example.js';
import {
  attach, describeTone, detach, figure, figureRows, pollStats, remember,
  remoteStream, scopeCanvas, serverChannel, tapAudio,
} from '../lib/media.js';

const description = 'The server generates a stereo sine wave and sends it to '
  + 'this page as an audio track. Change the panning below (0 = left only, '
  + '100 = right only): the new value goes to the server over the '
  + 'RTCDataChannel “panning”. The page shows the left and right channels it '
  + 'receives.';

const panning = el('input', { id: 'panning', type: 'number', value: '50', min: '0', max: '100', step: '1' });
const slider = el('input', { id: 'panning-slider', type: 'range', value: '50', min: '0', max: '100', step: '1' });
const audio = el('audio', { id: 'remote-audio' });
audio.controls = true;
audio.autoplay = true;
const leftScope = scopeCanvas('scope-left');
const rightScope = scopeCanvas('scope-right');
const figures = el('div', { class: 'figures' });

const ex = createExample('sine-wave-stereo', description, { beforeAnswer, stereo: true });
ex.main.append(
  el('label', {}, 'Panning (0–100):', panning),
  el('label', {}, 'Or slide:', slider),
  el('div', { class: 'grid' }, figure('left', leftScope), figure('right', rightScope)),
  audio,
  figures,
);

let channel = null;

function reset() {
  Object.assign(ex.test, {
    left: null, right: null, lefts: [], rights: [],
    sentPanning: null, sends: 0, channelState: 'none', stats: null,
  });
  render();
}

function render() {
  const t = ex.test;
  const a = t.stats?.inbound.audio;
  figures.replaceChildren(...figureRows([
    ['left', describeTone(t.left)],
    ['right', describeTone(t.right)],
    ['panning sent', t.sentPanning === null ? '–' : String(t.sentPanning)],
    ['data channel', t.channelState],
    ['audio packets', String(a?.packetsReceived ?? '–')],
    ['codec', a?.codec ? `${a.codec}${a.channels ? `, ${a.channels} channels` : ''}` : '–'],
  ]));
}
reset();

function sendPanning() {
  const value = Math.round(Number(panning.value));
  if (!Number.isFinite(value) || value < 0 || value > 100) return;
  if (channel && channel.send(String(value))) {
    ex.test.sentPanning = value;
    ex.test.sends += 1;
    ex.log(`panning ${value}`);
    render();
  }
}

panning.addEventListener('change', () => {
  slider.value = panning.value;
  sendPanning();
});
slider.addEventListener('input', () => { panning.value = slider.value; });
slider.addEventListener('change', () => {
  panning.value = slider.value;
  sendPanning();
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

  channel = serverChannel(pc, 'panning', {
    log: ex.log,
    onOpen: () => {
      ex.test.channelState = 'open';
      // What the page shows is what the server plays, whatever its default.
      sendPanning();
      render();
    },
    onClose: () => { ex.test.channelState = 'closed'; render(); },
  });
  ex.test.channelState = 'connecting';

  const stream = remoteStream(pc, 'audio');
  attach(audio, stream, ex.log);
  cleanups.push(() => detach(audio));

  const tap = tapAudio(stream, {
    channels: { left: 0, right: 1 },
    scopes: { left: leftScope, right: rightScope },
    log: ex.log,
    onReading: ({ left, right }) => {
      ex.test.left = left;
      ex.test.right = right;
      remember(ex.test.lefts, left);
      remember(ex.test.rights, right);
      render();
    },
  });
  cleanups.push(() => tap.stop());
  cleanups.push(pollStats(pc, (stats) => { ex.test.stats = stats; render(); }));
}
