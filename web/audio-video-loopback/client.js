// audio-video-loopback: the page sends its camera and microphone; the server
// sends the same media straight back. The page shows both videos, the
// returned audio's waveform and pitch, and what getStats says.
//
// The server offers an audio and a video transceiver; addTrack() reuses
// them, so the answer is sendrecv on both (as in node-webrtc-examples).
//
// window.__tern adds:
//   stats     lib/media.js summarizeStats(): inbound.video.framesDecoded, ...
//   tone      last reading of the returned audio { frequency, levelDb, at }
//   tones     the last 30 readings
//   remoteVideoWidth, remoteVideoHeight   what the <video> element shows

import { createExample, el } from '../lib/example.js';
import {
  attach, audioConstraints, describeTone, describeVideo, detach, figure, figureRows,
  pollStats, remember, remoteStream, scopeCanvas, tapAudio, videoElement,
} from '../lib/media.js';

const description = 'This example sends your camera and microphone to the '
  + 'server, which sends the same audio and video straight back over the same '
  + 'RTCPeerConnection. The returned audio starts muted (to avoid feedback '
  + 'through your speakers): unmute it in the player, or watch its waveform and '
  + 'pitch below.';

const voice = el('input', { id: 'voice-processing', type: 'checkbox' });
voice.checked = true;
const localVideo = videoElement('local-video', { muted: true });
const remoteVideo = videoElement('remote-video', { muted: true, controls: true });
const scope = scopeCanvas('scope');
const figures = el('div', { class: 'figures', id: 'figures' });

const ex = createExample('audio-video-loopback', description, { beforeAnswer });
ex.main.append(
  el('label', {}, 'Voice processing (echo cancellation, noise suppression, gain control)', voice),
  el('div', { class: 'grid' },
    figure('your camera', localVideo),
    figure('back from the server', remoteVideo)),
  figure('returned audio', scope),
  figures,
);

function reset() {
  Object.assign(ex.test, { stats: null, tone: null, tones: [], remoteVideoWidth: 0, remoteVideoHeight: 0 });
  render();
}

function render() {
  const s = ex.test.stats;
  figures.replaceChildren(...figureRows([
    ['returned video', describeVideo(s?.inbound.video)],
    ['returned audio', describeTone(ex.test.tone)],
    ['audio packets back', String(s?.inbound.audio?.packetsReceived ?? '–')],
    ['sent video', describeVideo(s?.outbound.video)],
    ['sent audio packets', String(s?.outbound.audio?.packetsSent ?? '–')],
    ['candidate pair', s?.pair ?? '–'],
  ]));
}
reset();

async function beforeAnswer(pc) {
  reset();
  const cleanups = [];
  pc.addEventListener('ternclose', () => { for (const f of cleanups.reverse()) f(); }, { once: true });

  const local = await navigator.mediaDevices.getUserMedia({
    audio: audioConstraints(voice.checked),
    video: true,
  });
  cleanups.push(() => { local.getTracks().forEach((t) => t.stop()); detach(localVideo); });
  for (const track of local.getTracks()) pc.addTrack(track, local);
  attach(localVideo, local, ex.log);
  ex.log(`sending ${local.getTracks().map((t) => `${t.kind} "${t.label}"`).join(', ')}`);

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
