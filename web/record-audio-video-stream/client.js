// record-audio-video-stream: the page sends its camera and microphone; the
// server writes them, as received (Opus + VP8, no re-encoding), to
// RECORDINGS_DIR/<connection id>.webm. Stop closes the connection, which
// finalizes the file (duration, cues); the page then offers it for download
// from GET ./recordings/<connection id>.webm.
//
// The server offers recvonly audio and video transceivers; addTrack()
// reuses them, so the answer is sendonly on both.
//
// window.__tern adds:
//   stats       lib/media.js summarizeStats(): outbound.video.framesEncoded, ...
//   recording   null, then { file, url, status, bytes } once Stop's DELETE
//               returned (status: HTTP status of a HEAD on url; 200 = ready)
//   recordedMs  how long the connection was connected (what the file should last)

import { createExample, el } from '../lib/example.js';
import {
  attach, audioConstraints, describeVideo, detach, figure, figureRows, pollStats, videoElement,
} from '../lib/media.js';

const description = 'This example sends your camera and microphone to the '
  + 'server, which records them to a WebM file (Opus audio and VP8 video, '
  + 'exactly as your browser encoded them) in its recordings directory, one '
  + 'file per connection. Click “Stop” to finish the recording; a link to '
  + 'download it then appears below.';

const localVideo = videoElement('local-video', { muted: true });
const figures = el('div', { class: 'figures', id: 'figures' });
const result = el('p', { id: 'recording', class: 'hint' });

let connectedAt = 0;

const ex = createExample('record-audio-video-stream', description, { beforeAnswer, onStop });
ex.main.append(
  figure('your camera (being recorded)', localVideo),
  figures,
  result,
);

function reset() {
  Object.assign(ex.test, { stats: null, recording: null, recordedMs: 0 });
  connectedAt = 0;
  result.replaceChildren();
  render();
}

function render() {
  const s = ex.test.stats;
  const seconds = connectedAt ? ((Date.now() - connectedAt) / 1000).toFixed(1) : '–';
  figures.replaceChildren(...figureRows([
    ['recording for', connectedAt ? `${seconds} s` : '–'],
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
  const onState = () => {
    if (!connectedAt && pc.connectionState === 'connected') {
      connectedAt = Date.now();
      ex.log('connected: recording');
    }
  };
  pc.addEventListener('connectionstatechange', onState);

  const local = await navigator.mediaDevices.getUserMedia({
    audio: audioConstraints(true),
    video: true,
  });
  cleanups.push(() => { local.getTracks().forEach((t) => t.stop()); detach(localVideo); });
  for (const track of local.getTracks()) pc.addTrack(track, local);
  attach(localVideo, local, ex.log);
  ex.log(`sending ${local.getTracks().map((t) => `${t.kind} "${t.label}"`).join(', ')}`);

  cleanups.push(pollStats(pc, (stats) => {
    ex.test.stats = stats;
    onState();
    render();
  }));
}

// The server finalizes the file while it handles the DELETE, so once that
// answered the file is complete.
async function onStop(pc) {
  ex.test.recordedMs = connectedAt ? Date.now() - connectedAt : 0;
  connectedAt = 0;
  render();
  await pc.ternClosed;
  const file = `${pc.ternConnectionId}.webm`;
  const url = `./recordings/${encodeURIComponent(file)}`;
  let status = 0;
  let bytes = 0;
  try {
    const res = await fetch(url, { method: 'HEAD', cache: 'no-store' });
    status = res.status;
    bytes = Number(res.headers.get('content-length') || 0);
  } catch (err) {
    ex.log(`HEAD ${url}: ${err.message}`);
  }
  ex.test.recording = { file, url, status, bytes };
  if (status === 200) {
    const link = el('a', { id: 'download', href: url, download: file, text: file });
    result.replaceChildren('Recorded: ', link,
      ` (${(bytes / 1024).toFixed(0)} KiB; on the server: RECORDINGS_DIR/${file})`);
    ex.log(`recording ready: ${file}, ${bytes} bytes`);
  } else {
    result.replaceChildren(status === 404
      ? 'No recording: the server received no video key frame before Stop.'
      : `The recording is not available (HTTP ${status || 'error'}).`);
    ex.log(`recording ${file}: HTTP ${status}`);
  }
}
