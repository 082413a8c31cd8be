// datachannel-buffer-limits: upload N MB over data channel
// "datachannel-buffer-limits", the server sends the same amount back.
//
// Protocol (as node-webrtc-examples):
//   page   -> server  "#START <chunk kB>", the data in chunks, "#STOP"
//   server -> page    "#START <upload ms>", the same byte count in chunks of
//                     <chunk kB>, "#STOP <queue ms>"
// Unlike the original, the page respects back-pressure (bufferedAmount /
// bufferedamountlow) instead of queueing everything at once, and sends
// exactly the requested byte count (the last chunk may be shorter).
//
// window.__tern adds: dataBytes, chunkBytes, uploadedBytes, downloadedBytes,
// uploadMs (as measured by the server), downloadMs, serverQueueMs,
// localQueueMs, done.

import { createExample, el } from '../lib/example.js';

const description = 'This example sends a given amount of data from the page '
  + 'over an RTCDataChannel. Upon receipt, the server sends the data back. '
  + 'Data is sent in chunks: adjust the chunk size and total size to test the '
  + 'buffer limits of the RTCDataChannel.';

const LABEL = 'datachannel-buffer-limits';
const MiB = 1024 * 1024;
// Keep at most this much queued in the browser; refill below the threshold.
const HIGH_WATER = 4 * MiB;
const LOW_WATER = 1 * MiB;

const dataSize = el('input', { id: 'data-size', type: 'number', value: '10', min: '1', max: '1024' });
const chunkSize = el('input', { id: 'chunk-size', type: 'number', value: '64', min: '16', max: '512', step: '16' });
const upload = el('span', { id: 'upload', text: '–' });
const download = el('span', { id: 'download', text: '–' });

const ex = createExample(LABEL, description, { beforeAnswer });
ex.main.append(
  el('label', {}, 'Data size to send (MB):', dataSize),
  el('label', {}, 'Chunk size (kB):', chunkSize),
  el('div', { class: 'figures' },
    el('span', { text: 'upload' }), upload,
    el('span', { text: 'download' }), download),
);

function resetMeasures() {
  Object.assign(ex.test, {
    dataBytes: 0, chunkBytes: 0, uploadedBytes: 0, downloadedBytes: 0,
    uploadMs: null, downloadMs: null, serverQueueMs: null, localQueueMs: null, done: false,
  });
}
resetMeasures();

const mbps = (bytes, ms) => (ms > 0 ? ((bytes * 8) / (ms / 1000) / 1e6).toFixed(2) : '∞');
const byteLength = (data) => {
  if (typeof data === 'string') return new TextEncoder().encode(data).length;
  return data.byteLength ?? data.size ?? 0;
};

function beforeAnswer(pc) {
  resetMeasures();
  const t = ex.test;
  const chunkKB = Math.trunc(Number(chunkSize.value));
  t.dataBytes = Math.trunc(Number(dataSize.value)) * MiB;
  t.chunkBytes = chunkKB * 1024;
  if (!(t.dataBytes > 0) || !(t.chunkBytes > 0)) throw new Error('data size and chunk size must be positive numbers');
  upload.textContent = '…';
  download.textContent = '…';

  let channel = null;
  let downloadStart = 0;
  let aborted = false;

  function finish() {
    download.textContent = `total ${t.downloadedBytes} B, ${t.downloadMs} ms, ~${mbps(t.downloadedBytes, t.downloadMs)} Mbit/s`
      + ` (server queued in ${t.serverQueueMs} ms)`;
    ex.log(`download done: ${t.downloadedBytes} bytes in ${t.downloadMs} ms`);
    t.done = true;
    pc.close();
  }

  function onMessage({ data }) {
    if (typeof data === 'string' && data.startsWith('#START')) {
      downloadStart = performance.now();
      t.uploadMs = Number(data.split(' ')[1]);
      upload.textContent = `total ${t.uploadedBytes} B, ${t.uploadMs} ms (server), ~${mbps(t.uploadedBytes, t.uploadMs)} Mbit/s`;
      ex.log(`server received the upload in ${t.uploadMs} ms`);
      return;
    }
    if (typeof data === 'string' && data.startsWith('#STOP')) {
      t.downloadMs = Math.round(performance.now() - downloadStart);
      t.serverQueueMs = Number(data.split(' ')[1]);
      finish();
      return;
    }
    t.downloadedBytes += byteLength(data);
  }

  function drained() {
    return new Promise((resolve) => {
      const done = () => {
        channel.removeEventListener('bufferedamountlow', done);
        channel.removeEventListener('close', done);
        resolve();
      };
      channel.addEventListener('bufferedamountlow', done);
      channel.addEventListener('close', done);
    });
  }

  async function sendAll() {
    const max = pc.sctp && pc.sctp.maxMessageSize;
    if (max && t.chunkBytes > max) {
      throw new Error(`chunk of ${t.chunkBytes} bytes exceeds the connection's max message size (${max})`);
    }
    const chunk = '.'.repeat(t.chunkBytes);
    const t0 = performance.now();
    channel.bufferedAmountLowThreshold = LOW_WATER;
    channel.send(`#START ${chunkKB}`);
    while (t.uploadedBytes < t.dataBytes) {
      if (aborted || channel.readyState !== 'open') return;
      if (channel.bufferedAmount > HIGH_WATER) {
        await drained();
        continue;
      }
      const n = Math.min(t.chunkBytes, t.dataBytes - t.uploadedBytes);
      channel.send(n === t.chunkBytes ? chunk : chunk.slice(0, n));
      t.uploadedBytes += n;
    }
    channel.send('#STOP');
    t.localQueueMs = Math.round(performance.now() - t0);
    ex.log(`queued ${t.uploadedBytes} bytes in ${t.localQueueMs} ms`);
  }

  function onOpen() {
    ex.log(`data channel "${LABEL}" open, sending ${t.dataBytes} bytes in ${t.chunkBytes}-byte chunks`);
    sendAll().catch((err) => {
      ex.showError(err);
      pc.close();
    });
  }

  pc.addEventListener('datachannel', (ev) => {
    if (ev.channel.label !== LABEL) return;
    channel = ev.channel;
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('message', onMessage);
    if (channel.readyState === 'open') onOpen();
    else channel.addEventListener('open', onOpen, { once: true });
  });
  pc.addEventListener('ternclose', () => {
    aborted = true;
    if (channel) channel.removeEventListener('message', onMessage);
  });
}
