// video-compositing: the page sends its camera; the server decodes it, draws
// it into a 640×480 canvas under a spinning, colour-cycling "Tern", encodes
// that and sends it back. The page shows both videos side by side.
//
// The server offers one video transceiver; addTrack() reuses it, so the
// answer is sendrecv (as in node-webrtc-examples).
//
// Each returned frame is compared with the camera frame shown at the same
// moment, through small canvases: where the text turns (the centre) many
// pixels must differ strongly, far more than in a strip at the bottom, which
// the text never reaches. A plain echo fails that; so does a lagging echo of
// a moving picture, which differs everywhere alike.
//
// window.__tern adds:
//   stats       lib/media.js summarizeStats(): inbound.video.framesDecoded, ...
//   compared    returned frames compared with the local one
//   overlaid    of those, frames that show the overlay (the rule above)
//   lastDiff    { centre, edge }: fraction (0..1) of pixels whose mean RGB
//               difference exceeds STRONG, in the centre box and the strip
//   remoteVideoWidth, remoteVideoHeight   what the <video> element shows

import { createExample, el } from '../lib/example.js';
import {
  attach, describeVideo, detach, figure, figureRows, pollStats, remoteStream, videoElement,
} from '../lib/media.js';

const description = 'This example sends your camera to the server, which '
  + 'decodes the VP8 video, draws it into a 640×480 canvas with cairo, '
  + 'superimposes a spinning, colourful “Tern” and sends the result back as '
  + 'a new VP8 stream at 30 frames per second. Until your first frame '
  + 'arrives the canvas fades to white.';

// Compared at 160×120: the text (≈ 150×45 px at 640×480) covers 4–6 % of
// the centre box (240×240 at full size) at any angle — measured on the
// server's compositor. The bottom strip is out of its reach.
const CW = 160;
const CH = 120;
const CENTRE = { x: 50, y: 30, w: 60, h: 60 };
const EDGE = { x: 0, y: 104, w: 160, h: 16 };
const STRONG = 40; // mean |ΔR|,|ΔG|,|ΔB| of a pixel, 0..255
const MIN_CENTRE = 0.015;
const EDGE_FACTOR = 3;

const localVideo = videoElement('local-video', { muted: true });
const remoteVideo = videoElement('remote-video', { muted: true, controls: true });
const figures = el('div', { class: 'figures', id: 'figures' });

const ex = createExample('video-compositing', description, { beforeAnswer });
ex.main.append(
  el('div', { class: 'grid' },
    figure('your camera', localVideo),
    figure('composited by the server', remoteVideo)),
  figures,
);

function reset() {
  Object.assign(ex.test, {
    stats: null, compared: 0, overlaid: 0, lastDiff: null, remoteVideoWidth: 0, remoteVideoHeight: 0,
  });
  render();
}

function render() {
  const s = ex.test.stats;
  const d = ex.test.lastDiff;
  figures.replaceChildren(...figureRows([
    ['returned video', describeVideo(s?.inbound.video)],
    ['sent video', describeVideo(s?.outbound.video)],
    ['frames with the overlay', `${ex.test.overlaid} of ${ex.test.compared} compared`],
    ['pixels changed, centre / bottom', d ? `${(100 * d.centre).toFixed(1)} % / ${(100 * d.edge).toFixed(1)} %` : '–'],
    ['candidate pair', s?.pair ?? '–'],
  ]));
}
reset();

function canvas2d() {
  const c = el('canvas', { width: String(CW), height: String(CH) });
  return c.getContext('2d', { willReadFrequently: true });
}

// Fraction of the box's pixels that differ strongly between a and b.
function strongDiff(a, b, box) {
  let n = 0;
  for (let y = box.y; y < box.y + box.h; y++) {
    for (let x = box.x; x < box.x + box.w; x++) {
      const i = (y * CW + x) * 4;
      const d = Math.abs(a[i] - b[i]) + Math.abs(a[i + 1] - b[i + 1]) + Math.abs(a[i + 2] - b[i + 2]);
      if (d > 3 * STRONG) n += 1;
    }
  }
  return n / (box.w * box.h);
}

// Compares every returned frame (requestVideoFrameCallback where the browser
// has it, else polling for a new presentation time). Returns stop().
function compareFrames() {
  const local = canvas2d();
  const remote = canvas2d();
  let stopped = false;
  let lastTime = -1;
  const check = () => {
    if (remoteVideo.videoWidth === 0 || localVideo.videoWidth === 0) return;
    local.drawImage(localVideo, 0, 0, CW, CH);
    remote.drawImage(remoteVideo, 0, 0, CW, CH);
    const a = local.getImageData(0, 0, CW, CH).data;
    const b = remote.getImageData(0, 0, CW, CH).data;
    const d = { centre: strongDiff(a, b, CENTRE), edge: strongDiff(a, b, EDGE) };
    ex.test.lastDiff = d;
    ex.test.compared += 1;
    if (d.centre >= MIN_CENTRE && d.centre > EDGE_FACTOR * d.edge) ex.test.overlaid += 1;
  };
  if ('requestVideoFrameCallback' in HTMLVideoElement.prototype) {
    const onFrame = () => {
      if (stopped) return;
      check();
      remoteVideo.requestVideoFrameCallback(onFrame);
    };
    remoteVideo.requestVideoFrameCallback(onFrame);
    return () => { stopped = true; };
  }
  const timer = setInterval(() => {
    if (remoteVideo.currentTime === lastTime) return;
    lastTime = remoteVideo.currentTime;
    check();
  }, 20);
  return () => clearInterval(timer);
}

async function beforeAnswer(pc) {
  reset();
  const cleanups = [];
  pc.addEventListener('ternclose', () => { for (const f of cleanups.reverse()) f(); }, { once: true });

  const local = await navigator.mediaDevices.getUserMedia({
    audio: false,
    video: { width: 640, height: 480 },
  });
  cleanups.push(() => { local.getTracks().forEach((t) => t.stop()); detach(localVideo); });
  for (const track of local.getTracks()) pc.addTrack(track, local);
  attach(localVideo, local, ex.log);
  ex.log(`sending ${local.getTracks().map((t) => `${t.kind} "${t.label}"`).join(', ')}`);

  attach(remoteVideo, remoteStream(pc, 'video'), ex.log);
  cleanups.push(() => detach(remoteVideo));
  cleanups.push(compareFrames());

  cleanups.push(pollStats(pc, (stats) => {
    ex.test.stats = stats;
    ex.test.remoteVideoWidth = remoteVideo.videoWidth;
    ex.test.remoteVideoHeight = remoteVideo.videoHeight;
    render();
  }));
}
