// ping-pong: the server creates data channel "ping-pong" and answers each
// "ping" with "pong". The page sends a ping every second while the channel is
// open and shows each pong with its round-trip time.
//
// window.__tern adds: pings, pongs, rttMs (last 50 round trips), channelState.

import { createExample, el } from '../lib/example.js';

const description = 'This example sends a “ping” from the page to the server '
  + 'over an RTCDataChannel every second. Upon receipt, the server responds '
  + 'with a “pong”.';

const PING_INTERVAL_MS = 1000;

const counters = el('div', { class: 'figures' });
const ex = createExample('ping-pong', description, { beforeAnswer });
ex.main.append(counters);
Object.assign(ex.test, { pings: 0, pongs: 0, rttMs: [], channelState: null });

function showCounters() {
  const last = ex.test.rttMs[ex.test.rttMs.length - 1];
  counters.replaceChildren(
    el('span', { text: 'pings sent' }), el('span', { id: 'pings', text: String(ex.test.pings) }),
    el('span', { text: 'pongs received' }), el('span', { id: 'pongs', text: String(ex.test.pongs) }),
    el('span', { text: 'last round trip' }), el('span', { text: last === undefined ? '–' : `${last.toFixed(1)} ms` }),
  );
}
showCounters();

function beforeAnswer(pc) {
  let channel = null;
  let interval = null;
  const sentAt = []; // pongs come back in order on a reliable ordered channel

  function sendPing() {
    if (!channel || channel.readyState !== 'open') return;
    channel.send('ping');
    sentAt.push(performance.now());
    ex.test.pings += 1;
    ex.log('sent ping');
    showCounters();
  }

  function onMessage({ data }) {
    if (data !== 'pong') {
      ex.log(`unexpected message: ${String(data).slice(0, 80)}`);
      return;
    }
    const t0 = sentAt.shift();
    ex.test.pongs += 1;
    if (t0 !== undefined) {
      ex.test.rttMs.push(performance.now() - t0);
      if (ex.test.rttMs.length > 50) ex.test.rttMs.shift();
    }
    ex.log('received pong');
    showCounters();
  }

  function onOpen() {
    ex.test.channelState = channel.readyState;
    ex.log('data channel "ping-pong" open');
    sendPing();
    interval = setInterval(sendPing, PING_INTERVAL_MS);
  }

  function stop() {
    if (interval) clearInterval(interval);
    interval = null;
    if (channel) {
      channel.removeEventListener('message', onMessage);
      ex.test.channelState = 'closed';
    }
  }

  pc.addEventListener('datachannel', (ev) => {
    if (ev.channel.label !== 'ping-pong') return;
    channel = ev.channel;
    ex.test.channelState = channel.readyState;
    channel.addEventListener('message', onMessage);
    channel.addEventListener('close', () => { stop(); ex.log('data channel closed'); });
    if (channel.readyState === 'open') onOpen();
    else channel.addEventListener('open', onOpen, { once: true });
  });
  pc.addEventListener('ternclose', stop);
}
