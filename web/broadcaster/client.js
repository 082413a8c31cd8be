// broadcaster: the page sends its camera and microphone to the server, which
// forwards them to every viewer (../viewer/). A new broadcast replaces the
// previous one for all viewers. The server offers a recvonly audio and video
// transceiver; addTrack() reuses them, so the answer is sendonly.
//
// window.__tern adds:
//   stats        lib/media.js summarizeStats(): outbound.video.framesEncoded, ...
//   localTone    the page's own reading of the microphone it sends
//   sending      labels of the tracks sent

import { createExample, el } from '../lib/example.js';
import {
  acquireAudioContext, attach, audioConstraints, describeTone, describeVideo, detach, figure,
  figureRows, pollStats, releaseAudioContext, ToneMeter, videoElement,
} from '../lib/media.js';

const description = 'Start a broadcast: your camera and microphone go to the '
  + 'server, which forwards them to every <a href="../viewer/index.html">viewer</a>. '
  + 'Starting another broadcast replaces this one for everyone.';

const voice = el('input', { id: 'voice-processing', type: 'checkbox' });
voice.checked = true;
const localVideo = videoElement('local-video', { muted: true });
const figures = el('div', { class: 'figures' });

const ex = createExample('broadcaster', description, { beforeAnswer });
ex.main.append(
  el('label', {}, 'Voice processing (echo cancellation, noise suppression, gain control)', voice),
  el('div', { class: 'grid' }, figure('your broadcast', localVideo)),
  figures,
);

function reset() {
  Object.assign(ex.test, { stats: null, localTone: null, sending: [] });
  render();
}

function render() {
  const s = ex.test.stats;
  figures.replaceChildren(...figureRows([
    ['video sent', describeVideo(s?.outbound.video)],
    ['audio packets sent', String(s?.outbound.audio?.packetsSent ?? '–')],
    ['microphone', describeTone(ex.test.localTone)],
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
  ex.test.sending = local.getTracks().map((t) => `${t.kind}: ${t.label}`);
  ex.log(`broadcasting ${ex.test.sending.join(', ')}`);
  attach(localVideo, local, ex.log);

  // A level meter on the microphone: a person sees that sound goes out.
  const context = acquireAudioContext();
  const node = context.createMediaStreamSource(local);
  const meter = new ToneMeter(context, node);
  const timer = setInterval(() => {
    if (context.state === 'running') ex.test.localTone = meter.measure();
    render();
  }, 250);
  cleanups.push(() => { clearInterval(timer); meter.close(); releaseAudioContext(); });

  cleanups.push(pollStats(pc, (stats) => { ex.test.stats = stats; render(); }));
}
