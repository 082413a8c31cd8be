// The frame every example page shares: title, description, Start/Stop,
// a status line (ICE and connection state, errors) and a log.
//
// Like node-webrtc-examples' lib/browser/example.js: Start negotiates one
// RTCPeerConnection through ConnectionClient with the page's beforeAnswer
// hook; Stop closes it (which DELETEs it on the server).
//
// Test hook: window.__tern holds what the page measured, read by
// tests/e2e/*.mjs. Fields set here:
//   example, state ('idle'|'connecting'|'connected'|'closed'|'error'),
//   connectionId, iceConnectionState, connectionState, error (string|null),
//   errorStatus (HTTP status when Start failed on an HTTP error),
//   deleteStatus (HTTP status of the DELETE after Stop), starts
// Examples add their own fields (pongs, downloadedBytes, ...).

import { ConnectionClient } from './connection-client.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

export { el };

export function createExample(name, description, options = {}) {
  const { beforeAnswer, stereo = false, prefix = '.', onStart, onStop } = options;

  const test = (window.__tern = {
    example: name,
    state: 'idle',
    connectionId: null,
    iceConnectionState: null,
    connectionState: null,
    error: null,
    errorStatus: null,
    deleteStatus: null,
    starts: 0,
  });

  document.title = `${name} — Tern examples`;
  const startButton = el('button', { id: 'start', type: 'button', text: 'Start' });
  const stopButton = el('button', { id: 'stop', type: 'button', text: 'Stop' });
  stopButton.disabled = true;
  const status = el('span', { id: 'status', class: 'status', text: 'idle' });
  const main = el('div', { id: 'example', class: 'example' });
  const logBox = el('pre', { id: 'log', class: 'log' });
  const descriptionTag = el('p', { class: 'description' });
  descriptionTag.innerHTML = description;

  document.body.append(
    el('nav', {}, el('a', { href: '../index.html', text: '← all examples' })),
    el('h1', { text: name }),
    descriptionTag,
    el('p', { class: 'hint' }, 'Click “Start” to begin.'),
    el('div', { class: 'controls' }, startButton, stopButton, status),
    main,
    logBox,
  );

  const client = new ConnectionClient({ prefix });
  let pc = null;

  function log(text) {
    const line = `${new Date().toISOString().slice(11, 23)}  ${text}\n`;
    logBox.append(line);
    // Keep the log bounded: a long ping-pong session must not grow the DOM forever.
    while (logBox.childNodes.length > 500) logBox.firstChild.remove();
    logBox.scrollTop = logBox.scrollHeight;
  }

  function render() {
    const parts = [test.state];
    if (test.iceConnectionState) parts.push(`ICE ${test.iceConnectionState}`);
    if (test.connectionState) parts.push(`connection ${test.connectionState}`);
    if (test.error) parts.push(`error: ${test.error}`);
    status.textContent = parts.join(' · ');
    status.classList.toggle('error', Boolean(test.error));
  }

  function setState(state) {
    test.state = state;
    render();
  }

  function showError(err) {
    const message = err && err.message ? err.message : String(err);
    test.error = message;
    log(`error: ${message}`);
    render();
  }

  function resetButtons() {
    startButton.disabled = false;
    stopButton.disabled = true;
  }

  function watch(peer) {
    const update = () => {
      test.iceConnectionState = peer.iceConnectionState;
      test.connectionState = peer.connectionState ?? null;
      if (peer.connectionState === 'connected' || (peer.connectionState === undefined
          && ['connected', 'completed'].includes(peer.iceConnectionState))) {
        test.state = 'connected';
      }
      if (peer.connectionState === 'failed' || peer.iceConnectionState === 'failed') {
        test.state = 'error';
        test.error = test.error || 'ICE failed';
      }
      render();
    };
    peer.addEventListener('iceconnectionstatechange', () => {
      log(`ICE ${peer.iceConnectionState}`);
      update();
    });
    peer.addEventListener('connectionstatechange', update);
    peer.addEventListener('ternclose', () => {
      if (pc === peer) pc = null;
      // A closed pc fires no more state events: show the final state here.
      test.iceConnectionState = peer.iceConnectionState;
      test.connectionState = peer.connectionState ?? null;
      if (test.state !== 'error') setState('closed');
      resetButtons();
      peer.ternClosed.then((r) => {
        test.deleteStatus = typeof r === 'number' ? r : null;
        log(`DELETE connection ${peer.ternConnectionId} → ${typeof r === 'number' ? r : r.message}`);
      });
      if (onStop) onStop(peer);
    });
    update();
  }

  async function start() {
    startButton.disabled = true;
    test.error = null;
    test.errorStatus = null;
    test.deleteStatus = null;
    test.starts += 1;
    setState('connecting');
    try {
      pc = await client.createConnection({
        stereo,
        beforeAnswer: async (peer) => {
          test.connectionId = peer.ternConnectionId;
          log(`connection ${peer.ternConnectionId}: offer received, answering`);
          watch(peer);
          if (beforeAnswer) await beforeAnswer(peer);
        },
      });
      window.peerConnection = pc;
      stopButton.disabled = false;
      log('answer sent');
      if (onStart) await onStart(pc);
    } catch (err) {
      test.state = 'error';
      test.errorStatus = err && err.status ? err.status : null;
      // 404 on the POST: the server has no such example (e.g. an older build).
      if (err && err.name === 'ConnectionError' && err.status === 404) {
        showError(new Error(`404: this server does not serve ${name} (POST /${name}/connections)`));
      } else {
        showError(err);
      }
      resetButtons();
    }
  }

  function stop() {
    stopButton.disabled = true;
    if (pc) pc.close();
    else resetButtons();
  }

  startButton.addEventListener('click', start);
  stopButton.addEventListener('click', stop);
  // Leaving the page closes the connection (DELETE with keepalive) instead
  // of leaving it to the server's timeout.
  window.addEventListener('pagehide', () => { if (pc) pc.close(); });
  window.addEventListener('unhandledrejection', (ev) => showError(ev.reason));
  window.addEventListener('error', (ev) => showError(ev.error || ev.message));

  render();
  return {
    main,
    log,
    showError,
    test,
    get pc() { return pc; },
    start,
    stop,
  };
}
