#!/usr/bin/env python3
"""Writes the seed corpora (tests/fuzz/corpus/<target>/) and dictionaries.

The seeds are checked in; this script documents where each comes from and
regenerates them (python3 tests/fuzz/make_seeds.py, from the repository
root). Sources: RFC 5769 test vectors, browser SDPs in tests/data/, messages
shaped like what Chromium/Firefox send, and a few malformed variants of each.
"""
import hashlib
import hmac
import json
import os
import shutil
import struct
import zlib

ROOT = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(ROOT, "corpus")
DATA = os.path.join(ROOT, "..", "data")
COOKIE = 0x2112A442
KEY = b"VOkJxbRl1RmTxUk/WvJxBt"  # RFC 5769 password

# RFC 5769 §2.1-2.3, as in tests/unit/test_stun.c.
RFC_REQ = bytes.fromhex(
    "000100582112a442b7e7a701bc34d686fa87dfae802200105354554e207465737420636c"
    "69656e74002400046e0001ff80290008932ff9b151263b36000600096576746a3a68367659"
    "202020000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a280280004e57a3bcf")
RFC_RESP4 = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000"
    "2000080001a147e112a643000800142b91f599fd9e90c38c7489f92af9ba53f06be7d78028"
    "0004c07d4c96")
RFC_RESP6 = bytes.fromhex(
    "010100482112a442b7e7a701bc34d686fa87dfae8022000b7465737420766563746f722000"
    "2000140002a1470113a9faa5d3f179bc25f4b5bed2b9d900080014a382954e4be67bf11784"
    "c97c8292c275bfe3ed4180280004c8fb0b4c")


def attr(t, v):
    pad = (4 - len(v) % 4) % 4
    return struct.pack("!HH", t, len(v)) + v + b"\0" * pad


def stun(mtype, txid, attrs, key=KEY, fingerprint=True):
    body = b"".join(attrs)
    if key is not None:
        hdr = struct.pack("!HHI", mtype, len(body) + 24, COOKIE) + txid
        mac = hmac.new(key, hdr + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    if fingerprint:
        hdr = struct.pack("!HHI", mtype, len(body) + 8, COOKIE) + txid
        crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(0x8028, struct.pack("!I", crc))
    return struct.pack("!HHI", mtype, len(body), COOKIE) + txid + body


def browser_request(user, controlling=True, use_candidate=True, key=KEY):
    """Shaped like a Chromium check: GOOG-NETWORK-INFO, ICE-CONTROLLING,
    USE-CANDIDATE, PRIORITY, USERNAME, MESSAGE-INTEGRITY, FINGERPRINT."""
    attrs = [attr(0x0006, user), attr(0xC057, b"\x00\x01\x00\x0a")]
    attrs.append(attr(0x802A if controlling else 0x8029, bytes(range(8))))
    if use_candidate:
        attrs.append(attr(0x0025, b""))
    attrs.append(attr(0x0024, struct.pack("!I", 0x6E7F1EFF)))
    return stun(0x0001, bytes(range(1, 13)), attrs, key)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read_data(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def stun_seeds():
    t = "stun"
    write(t, "rfc5769-request", RFC_REQ)
    write(t, "rfc5769-response-ipv4", RFC_RESP4)
    write(t, "rfc5769-response-ipv6", RFC_RESP6)
    write(t, "chromium-like-request", browser_request(b"fuzzufrg:Ab1x"))
    write(t, "firefox-like-request", browser_request(b"fuzzufrg:cafe", use_candidate=False))
    err = stun(0x0111, bytes(12), [attr(0x0009, b"\0\0\x04\x57Role Conflict"),
                                   attr(0x000A, b"\x00\x33\x00\x00")])
    write(t, "error-487", err)
    write(t, "indication", stun(0x0011, bytes(12), [], key=None))
    # Malformed: truncated, header length off by 4, attribute length past the
    # end, FINGERPRINT not last, bad XOR-MAPPED-ADDRESS family.
    write(t, "bad-truncated", RFC_REQ[:50])
    bad = bytearray(RFC_REQ)
    bad[3] -= 4
    write(t, "bad-header-length", bytes(bad))
    bad = bytearray(RFC_REQ)
    bad[22:24] = b"\xff\xf0"
    write(t, "bad-attr-length", bytes(bad))
    write(t, "bad-fingerprint-not-last",
          stun(0x0001, bytes(12), [attr(0x8028, b"\0\0\0\0"), attr(0x0024, b"\0\0\0\1")],
               key=None, fingerprint=False))
    write(t, "bad-xor-family",
          stun(0x0101, bytes(12), [attr(0x0020, b"\x00\x03\x12\x34\1\2\3\4")], key=None))


def ice_seeds():
    t = "ice"
    # flags: 1 controlling, 2 remote credentials, 4 candidates, 8 start.
    def built(op, f, prio=0x6E7F1EFF, tb=0x0102030405060708, txid=bytes(12)):
        return (bytes([op]) + struct.pack("!HI", f, prio) +
                struct.pack("!Q", tb) + txid)
    # f bits: 0-2 USERNAME mode (0 right), 8 PRIORITY, 0x10 USE-CANDIDATE,
    # 0x20 ICE-CONTROLLING, 0x40 ICE-CONTROLLED, 0x80 unknown attribute,
    # 0x200 no FINGERPRINT, 0x100 bad FINGERPRINT, 0x800 XOR-MAPPED-ADDRESS,
    # 0x4000 error response, 0x8000 answer the agent's last check,
    # bits 12-13 key (0 right, 2 wrong, 3 none).
    ok = 0x08 | 0x20
    nominate = ok | 0x10
    time = lambda ms, big=False: bytes([0x04 | (0x80 if big else 0)]) + struct.pack("!H", ms)
    write(t, "lite-nominate-consent",
          bytes([0x0A]) + built(0x01, ok) + built(0x11, nominate) + time(3000) +
          built(0x11, nominate) + time(150, True) + bytes([0x06]) + built(0x11, nominate))
    write(t, "lite-hostile-requests",
          bytes([0x0A]) + built(0x01, ok | 0x40) + built(0x01, ok | 0x80) +
          built(0x01, ok | 0x2000) + built(0x01, ok | 0x3000) + built(0x01, ok | 0x200) +
          built(0x01, ok | 0x100) + built(0x01, ok | 0x03) + built(0x01, ok | 0x05) +
          built(0x01, ok | 0x07) + built(0x03, 0x800))
    write(t, "lite-before-answer", bytes([0x08]) + built(0x01, nominate) +
          bytes([0x07]) + b"\x04\x00\x17" + b"rmtU" + b"remotePasswordRemotePw1" +
          built(0x11, nominate))
    write(t, "lite-raw-rfc5769", bytes([0x0A]) + b"\x00" + struct.pack("!H", len(RFC_REQ)) + RFC_REQ)
    # Controlling: checks go to the highest-priority candidate (index 3).
    write(t, "controlling-connect",
          bytes([0x0F]) + built(0x33, 0x8800) + time(5000) + bytes([0x06]) +
          built(0x33, 0x8800) + time(11000, False) + bytes([0x06]))
    write(t, "controlling-errors",
          bytes([0x0F]) + built(0x33, 0xC000, prio=187) + bytes([0x06]) +
          built(0x03, 0x8800) + built(0x33, 0xA800) + time(20, True) + bytes([0x06]) +
          bytes([0x47, 0xCC]))


def sdp_seeds():
    for f in sorted(os.listdir(DATA)):
        if f.startswith("sdp-") and f.endswith(".txt"):
            write("sdp", f, read_data(f))
            write("negotiate", f, read_data(f))
    offer = read_data("sdp-offer-datachannel-chromium.txt")
    write("sdp", "bad-truncated", offer[: len(offer) // 2])
    write("sdp", "bad-no-media", b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")
    write("sdp", "bad-fingerprint",
          offer.replace(b"a=fingerprint:sha-256", b"a=fingerprint:md5"))
    write("sdp", "lf-only-no-c-line", offer.replace(b"\r\n", b"\n").replace(b"c=IN IP4 127.0.0.1\n", b""))
    write("negotiate", "bad-holdconn", offer.replace(b"a=setup:actpass", b"a=setup:holdconn"))
    write("negotiate", "bad-rejected-app",
          offer.replace(b"m=application 47815", b"m=application 0"))


def tern_answer():
    """An answer to the fixed offer of fuzz_negotiate/fuzz_http_json
    (one m=application, mid 0), shaped like Chromium's."""
    return ("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
            "a=group:BUNDLE 0\r\na=msid-semantic: WMS\r\n"
            "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
            "a=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n"
            "a=candidate:2 1 udp 2122194687 2001:db8::10 50001 typ host\r\n"
            "a=ice-ufrag:Ab1x\r\na=ice-pwd:tG96cYUStsYegQ3obwZGp7fc\r\n"
            "a=ice-options:trickle\r\n"
            "a=fingerprint:sha-256 A5:E9:68:FD:F6:E3:51:C1:40:C2:CD:03:17:C3:CC:52:"
            "1F:5A:4A:D2:D6:49:73:4B:AD:F5:7A:0E:3B:A8:C1:5E\r\n"
            "a=setup:active\r\na=mid:0\r\na=sctp-port:5000\r\n"
            "a=max-message-size:262144\r\n")


def tern_av_answer():
    """An answer to fuzz_negotiate's audio + video + data channel offer
    (mids 0, 1, 2; Opus 111, VP8 96)."""
    t = tern_answer().replace("a=group:BUNDLE 0", "a=group:BUNDLE 0 1 2")
    head, app = t.split("m=application")
    cand = ("c=IN IP4 0.0.0.0\r\na=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host\r\n"
            "a=ice-ufrag:Ab1x\r\na=ice-pwd:tG96cYUStsYegQ3obwZGp7fc\r\n"
            "a=fingerprint:sha-256 A5:E9:68:FD:F6:E3:51:C1:40:C2:CD:03:17:C3:CC:52:"
            "1F:5A:4A:D2:D6:49:73:4B:AD:F5:7A:0E:3B:A8:C1:5E\r\na=setup:active\r\n")
    audio = ("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n" + cand + "a=mid:0\r\n"
             "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
             "a=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
             "a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
             "a=fmtp:111 minptime=10;useinbandfec=1\r\na=ssrc:1001 cname:x\r\n")
    video = ("m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" + cand + "a=mid:1\r\n"
             "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
             "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
             "a=rtcp-fb:96 nack pli\r\n")
    return head + audio + video + "m=application" + app.replace("a=mid:0", "a=mid:2")


def negotiate_extra():
    write("negotiate", "tern-style-answer", tern_answer())
    write("negotiate", "tern-style-av-answer", tern_av_answer())


def dcep_seeds():
    t = "dcep"
    def open_msg(ctype, prio, param, label, proto):
        return struct.pack("!BBHIHH", 3, ctype, prio, param, len(label), len(proto)) + label + proto
    write(t, "open-reliable-chat", open_msg(0x00, 256, 0, b"chat", b""))
    write(t, "open-unordered-rexmit", open_msg(0x81, 128, 3, b"game", b"x-proto"))
    write(t, "open-timed-protocol", open_msg(0x02, 512, 1500, b"", b"json"))
    write(t, "ack", b"\x02")
    write(t, "bad-truncated", open_msg(0x00, 256, 0, b"chat", b"")[:10])
    write(t, "bad-label-overflow", struct.pack("!BBHIHH", 3, 0, 256, 0, 0xFFFF, 1) + b"ab")
    write(t, "bad-channel-type", open_msg(0x05, 256, 0, b"x", b""))


def config_seeds():
    t = "config"
    write(t, "repository-env", "LISTEN=:3000\n")
    write(t, "all-settings",
          "# every setting\nLISTEN=127.0.0.1:3000\nMEDIA_LISTEN=[::1]:7882\n"
          "ANNOUNCED_IP=203.0.113.7\nTIME_TO_CONNECTED_MS=10000\n"
          "TIME_TO_RECONNECT_MS=5000\nICE_CONSENT_TIMEOUT_MS=30000\nAUTH=jwt\n"
          "SECRET='s3cr#t'\nAUTH_DEV_QUERY=0\nRECORDINGS_DIR=./recordings\n"
          "WEB_ROOT=./web\nMAX_PEERS=1000\nMAX_PEERS_PER_IP=50\nMAX_BODY_BYTES=65536\n"
          "HTTP_MAX_CONNECTIONS=4096\nHTTP_MAX_CONNECTIONS_PER_IP=256\nLOG_LEVEL=debug\n"
          "PERMISSIONS_HOST=http://permissions:8080\nNATS=nats://nats:4222\n")
    write(t, "quotes-export-comments",
          'export LISTEN = ":8080"  # http\r\n\n  # comment\nWEB_ROOT="./web \\"x\\" \\n"\n'
          "OTHER_SERVICE_KEY=ignored\nLOG_LEVEL=warn # trailing\n")
    write(t, "bad-no-equals", "LISTEN\n")
    write(t, "bad-unterminated-quote", 'SECRET="abc\n')
    write(t, "bad-value", "MEDIA_LISTEN=:99999\n")
    write(t, "bad-jwt-without-secret", "AUTH=jwt\n")
    write(t, "hostport-v6", "[2001:db8::1]:443\n")


def demux_seeds():
    t = "transport_demux"
    # byte 0: source 0 = A's address, 1 = B's, 2/3 = unknown.
    write(t, "stun-request-for-A", b"\x02" + browser_request(b"fuzzufrg:Ab1x"))
    write(t, "stun-request-for-B", b"\x03" + browser_request(b"peerBufr:cafe"))
    write(t, "stun-request-unknown-ufrag", b"\x00" + RFC_REQ)
    write(t, "stun-response-from-A", b"\x00" + RFC_RESP4)
    write(t, "stun-response-unknown-addr", b"\x02" + RFC_RESP6)
    hello = bytes.fromhex("16fefd0000000000000000") + b"\x00\x60" + bytes(96)
    write(t, "dtls-from-A", b"\x00" + hello)
    write(t, "dtls-unknown-addr", b"\x02" + hello)
    rtp = bytes.fromhex("806f0001000000640000abcd") + bytes(40)
    write(t, "rtp-from-A", b"\x00" + rtp)
    write(t, "rtp-from-B-no-handler", b"\x01" + rtp)
    write(t, "rtcp-from-A", b"\x00" + bytes.fromhex("80c800060000abcd") + bytes(20))
    write(t, "unclassified", b"\x00\x40\x01\x02\x03")
    write(t, "bad-stun-first-byte", b"\x00\x01\x01\x00")


def http_json_seeds():
    t = "http_json"
    write(t, "answer-tern-style", json.dumps({"type": "answer", "sdp": tern_answer()}))
    write(t, "answer-chromium-fixture",
          json.dumps({"type": "answer",
                      "sdp": read_data("sdp-answer-datachannel-chromium.txt").decode()}))
    write(t, "answer-firefox-fixture",
          json.dumps({"type": "answer",
                      "sdp": read_data("sdp-answer-datachannel-firefox.txt").decode()}))
    write(t, "bad-type-offer", json.dumps({"type": "offer", "sdp": tern_answer()}))
    write(t, "bad-duplicate-key", '{"type":"answer","type":"answer","sdp":"v=0"}')
    write(t, "bad-nul-in-sdp", '{"type":"answer","sdp":"v=0\\r\\n\\u0000m=application"}')
    write(t, "bad-not-object", '["answer", "v=0"]')
    write(t, "bad-deep-nesting", "[" * 3000 + "]" * 3000)
    write(t, "bad-truncated", '{"type":"answer","sdp":"v=0\\r')


def http_path_seeds():
    t = "http_path"
    paths = [(0, "/"), (0, "/a/"), (0, "/a"), (0, "/a/app.js"), (3, "/index.html"),
             (1, "/ping-pong/connections"), (0, "/ping-pong/connections/abc/local-description"),
             (1, "/datachannel-buffer-limits/connections/x1/remote-description/"),
             (2, "/ping-pong/connections/abc"), (4, "/ping-pong/connections"),
             (1, "/join/conv-1.a_b"), (0, "/connect"), (0, "/metrics"),
             (0, "/../etc/passwd"), (0, "/.env"), (0, "/out/passwd"), (0, "/a/up/etc/passwd"),
             (0, "/passwd"), (0, "//a//index.html"), (0, "/a\\..\\.env"), (0, "/a/%2e%2e/x")]
    for i, (m, p) in enumerate(paths):
        write(t, "path-%02d" % i, bytes([m]) + p.encode())
    write(t, "nul-in-path", b"\x00/index.html\x00/../.env")


DICTS = {
    "sdp": ["v=0", "o=- ", "s=-", "t=0 0", "c=IN IP4 ", "c=IN IP6 ", "m=audio ", "m=video ",
            "m=application ", " UDP/TLS/RTP/SAVPF ", " UDP/DTLS/SCTP ", "webrtc-datachannel",
            "a=group:BUNDLE ", "a=mid:", "a=ice-ufrag:", "a=ice-pwd:", "a=ice-options:",
            "a=ice-lite", "a=fingerprint:sha-256 ", "a=setup:", "actpass", "active", "passive",
            "holdconn", "a=sctp-port:", "a=max-message-size:", "a=rtpmap:", "a=fmtp:",
            "a=rtcp-fb:", "a=extmap:", "a=ssrc:", "a=ssrc-group:FID ", "a=msid:",
            "a=msid-semantic:", "a=candidate:", " typ host", " typ srflx", " raddr ",
            "a=end-of-candidates", "a=rtcp-mux", "a=rtcp-rsize", "a=rtcp:", "a=sendrecv",
            "a=recvonly", "a=sendonly", "a=inactive", "a=bundle-only",
            "a=extmap-allow-mixed", "opus/48000/2", "VP8/90000", " cname:", "\r\n"],
}
DICTS["negotiate"] = DICTS["sdp"]
DICTS["http_json"] = DICTS["sdp"] + ['{"type":"answer","sdp":"', '"}', "\\r\\n", "\\u0000",
                                      '"type"', '"sdp"', '"offer"']
DICTS["config"] = ["LISTEN=", "MEDIA_LISTEN=", "ANNOUNCED_IP=", "TIME_TO_CONNECTED_MS=",
                   "TIME_TO_RECONNECT_MS=", "ICE_CONSENT_TIMEOUT_MS=", "AUTH=jwt", "AUTH=header",
                   "SECRET=", "AUTH_DEV_QUERY=", "RECORDINGS_DIR=", "WEB_ROOT=", "MAX_PEERS=",
                   "MAX_PEERS_PER_IP=", "MAX_BODY_BYTES=", "HTTP_MAX_CONNECTIONS=",
                   "HTTP_MAX_CONNECTIONS_PER_IP=", "LOG_LEVEL=", "PERMISSIONS_HOST=", "NATS=",
                   "export ", "nats://", "tls://", "http://", "https://", "[::1]:", "localhost"]


def write_dicts():
    for name, words in DICTS.items():
        with open(os.path.join(ROOT, name + ".dict"), "w") as f:
            f.write("# libFuzzer dictionary for fuzz_%s (generated by make_seeds.py)\n" % name)
            for w in words:
                f.write('"%s"\n' % "".join(
                    c if 32 <= ord(c) < 127 and c not in '"\\' else "\\x%02x" % ord(c)
                    for c in w))


if __name__ == "__main__":
    # Only the corpora this script owns: other targets (e.g. claims) keep
    # their hand-made seeds.
    for target in ("stun", "ice", "sdp", "negotiate", "dcep", "config",
                   "transport_demux", "http_json", "http_path"):
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    stun_seeds()
    ice_seeds()
    sdp_seeds()
    negotiate_extra()
    dcep_seeds()
    config_seeds()
    demux_seeds()
    http_json_seeds()
    http_path_seeds()
    write_dicts()
