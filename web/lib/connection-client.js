// ConnectionClient: the browser half of the REST negotiation API (SPEC §3).
//
// The server always offers (non-trickle, its candidates inside the SDP) and
// the page always answers:
//   POST   {prefix}/connections                      -> { id, localDescription: offer, ... }
//   POST   {prefix}/connections/{id}/remote-description  <- { type: 'answer', sdp }
//   DELETE {prefix}/connections/{id}                  (when the page closes the pc)
//
// This mirrors node-webrtc-examples' lib/client ConnectionClient, with two
// deliberate differences: the answer is sent only once ICE gathering is
// complete (or after a bounded wait), so it carries the page's candidates, and
// a non-2xx response becomes an Error carrying the server's text instead of a
// JSON parse failure further down.

const TIME_TO_HOST_CANDIDATES_MS = 3000;

// Thrown for any non-2xx answer from the server; `message` is the body text.
export class ConnectionError extends Error {
  constructor(method, url, status, text) {
    super(text ? `${status}: ${text}` : `${method} ${url} failed with HTTP ${status}`);
    this.name = 'ConnectionError';
    this.status = status;
    this.responseText = text;
  }
}

async function request(method, url, body) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new ConnectionError(method, url, res.status, text.trim());
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${method} ${url}: server sent invalid JSON (${e.message})`);
  }
}

// Resolves when gathering is complete, or after timeoutMs with whatever has
// been gathered so far: a half-gathered answer is still usable (the server
// learns peer-reflexive candidates from our checks), a hang is not.
function waitForIceGathering(pc, timeoutMs) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function check() {
      if (pc.iceGatheringState === 'complete') done();
    }
    function onCandidate(ev) {
      if (!ev.candidate) done();
    }
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    }
    pc.addEventListener('icegatheringstatechange', check);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

// Ask for stereo Opus (sine-wave-stereo). In the *answer* this tells the
// server we want stereo, and tells our own decoder to output two channels.
export function enableStereoOpus(sdp) {
  const rtpmap = /^a=rtpmap:(\d+) opus\/48000(?:\/2)?(?=\r?$)/im.exec(sdp);
  if (!rtpmap) return sdp;
  const pt = rtpmap[1];
  const fmtp = new RegExp(`^(a=fmtp:${pt} )(.*?)(\\r?)$`, 'm');
  if (fmtp.test(sdp)) {
    return sdp.replace(fmtp, (line, head, params, cr) => {
      if (/(^|;)\s*stereo=1/.test(params)) return line;
      return `${head}${params};stereo=1;sprop-stereo=1${cr}`;
    });
  }
  return sdp.replace(rtpmap[0], `${rtpmap[0]}\r\na=fmtp:${pt} stereo=1;sprop-stereo=1`);
}

export class ConnectionClient {
  // options.prefix: where the example's REST API is mounted ('.' = next to
  // the page, i.e. /<example>); options.host: origin, '' = this page's.
  constructor(options = {}) {
    this.options = {
      host: '',
      prefix: '.',
      RTCPeerConnection: window.RTCPeerConnection,
      timeToHostCandidates: TIME_TO_HOST_CANDIDATES_MS,
      ...options,
    };
  }

  // Returns the answered RTCPeerConnection. Extra properties on it:
  //   ternConnectionId  the server's id for this connection
  //   ternClosed        Promise of the DELETE's HTTP status (or the Error),
  //                     settled once close() has been called
  // close() also dispatches an Event('ternclose') on the pc, once, so pages
  // can stop timers whoever closed it.
  async createConnection(options = {}) {
    const { beforeAnswer = () => {}, stereo = false } = options;
    const { host, prefix, RTCPeerConnection, timeToHostCandidates } = this.options;
    const base = `${host}${prefix}/connections`;

    const remote = await request('POST', base);
    const { id } = remote;
    if (!id || !remote.localDescription || !remote.localDescription.sdp) {
      throw new Error(`POST ${base}: response has no id or offer`);
    }

    const pc = new RTCPeerConnection({ sdpSemantics: 'unified-plan' });
    pc.ternConnectionId = id;
    let closed = null;
    pc.ternClosed = new Promise((resolve) => { closed = resolve; });
    let closeCalled = false;
    pc.close = function close(...args) {
      const first = !closeCalled;
      closeCalled = true;
      if (first) {
        // keepalive: the DELETE must still go out when the page is unloading.
        fetch(`${base}/${encodeURIComponent(id)}`, { method: 'DELETE', keepalive: true })
          .then((res) => closed(res.status), (err) => closed(err));
      }
      const result = RTCPeerConnection.prototype.close.apply(this, args);
      if (first) this.dispatchEvent(new Event('ternclose'));
      return result;
    };

    try {
      await pc.setRemoteDescription(remote.localDescription);
      await beforeAnswer(pc);

      const answer = await pc.createAnswer();
      const sdp = stereo ? enableStereoOpus(answer.sdp) : answer.sdp;
      try {
        await pc.setLocalDescription({ type: 'answer', sdp });
      } catch (err) {
        // A browser that refuses the munged answer still decodes what the
        // server sends; tell the server our stereo wish anyway.
        if (sdp === answer.sdp) throw err;
        await pc.setLocalDescription(answer);
      }
      await waitForIceGathering(pc, timeToHostCandidates);

      const localSdp = stereo ? enableStereoOpus(pc.localDescription.sdp) : pc.localDescription.sdp;
      await request('POST', `${base}/${encodeURIComponent(id)}/remote-description`,
        { type: 'answer', sdp: localSdp });
      return pc;
    } catch (err) {
      pc.close();
      throw err;
    }
  }
}
