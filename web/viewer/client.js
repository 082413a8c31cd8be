// viewer: watch the current broadcast (../broadcaster/). The server offers a
// sendonly audio and video transceiver and forwards the broadcaster's media
// on them; when a new broadcast starts, the same tracks carry it. The page
// plays the broadcast and shows what it receives: frames, the audio's level
// and pitch, getStats.
//
// window.__tern adds:
//   stats        lib/media.js summarizeStats(): inbound.video.framesDecoded, ...
//   tone, tones  readings of the received audio { frequency, levelDb, at }
//   remoteVideoWidth, remoteVideoHeight   what the <video> element shows

import { createExample, el } from '../lib/example.js';
import {
  attach, describeTone, describeVideo, detach, figure, figureRows, pollStats, remember,
  remoteStream, scopeCanvas, tapAudio, videoElement,
} from '../lib/media.js';

const description = 'Watch the broadcast. Start the '
  + '<a href="../broadcaster/index.html">broadcaster</a> example first (in '
  + 'another tab or on another machine); when someone starts a new broadcast, '
  + 'this page switches to it.';

const remoteVideo = videoElement('remote-video', { controls: true });
const scope = scopeCanvas('scope');
const waiting = el('p', { id: 'waiting', class: 'hint', text: '' });
const figures = el('div', { class: 'figures' });

const ex = createExample('viewer', description, { beforeAnswer });
ex.main.append(
  el('div', { class: 'grid' }, figure('the broadcast', remoteVideo), figure('its audio', scope)),
  waiting,
  figures,
);

function reset() {
  Object.assign(ex.test, { stats: null, tone: null, tones: [], remoteVideoWidth: 0, remoteVideoHeight: 0 });
  render();
}

function render() {
  const s = ex.test.stats;
  const frames = s?.inbound.video?.framesDecoded ?? 0;
  waiting.textContent = ex.test.state === 'connected' && frames === 0 ? 'Waiting for a broadcast…' : '';
  figures.replaceChildren(...figureRows([
    ['video', describeVideo(s?.inbound.video)],
    ['audio', describeTone(ex.test.tone)],
    ['audio packets', String(s?.inbound.audio?.packetsReceived ?? '–')],
    ['candidate pair', s?.pair ?? '–'],
  ]));
}
reset();

function beforeAnswer(pc) {
  reset();
  const cleanups = [];
  pc.addEventListener('ternclose', () => { for (const f of cleanups.reverse()) f(); render(); }, { once: true });

  attach(remoteVideo, remoteStream(pc), ex.log);
  cleanups.push(() => detach(remoteVideo));

  const tap = tapAudio(remoteStream(pc, 'audio'), {
    scopes: { tone: scope },
    log: ex.log,
    onReading: ({ tone }) => {
      ex.test.tone = tone;
      remember(ex.test.tones, tone);
      render();
    },
  });
  cleanups.push(() => tap.stop());

  cleanups.push(pollStats(pc, (stats) => {
    ex.test.stats = stats;
    ex.test.remoteVideoWidth = remoteVideo.videoWidth;
    ex.test.remoteVideoHeight = remoteVideo.videoHeight;
    render();
  }));
}
