#!/usr/bin/env python3
"""WebSocket checks for tests/api/http_smoke.sh, with only the standard library.

Usage: ws_check.py PORT   (talks to tests/api/http_test_server on 127.0.0.1)

A minimal RFC 6455 client: handshake, masked text frames (optionally
fragmented), reading frames, close codes. Each check prints one line; exit
status 1 if any failed.
"""
import base64
import os
import socket
import struct
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1])
failures = 0


def check(name, cond, detail=""):
    global failures
    print(("ok    " if cond else "FAIL  ") + name + ("" if cond else "  " + detail))
    if not cond:
        failures += 1


class WS:
    def __init__(self, path, extra_headers=""):
        self.s = socket.create_connection((HOST, PORT), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               f"{extra_headers}\r\n")
        self.s.sendall(req.encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        self.head = head.decode(errors="replace")
        self.status = int(self.head.split(" ")[1]) if self.head else 0

    def body(self):
        # For a refused upgrade: read Content-Length bytes of body.
        n = 0
        for line in self.head.split("\r\n"):
            if line.lower().startswith("content-length:"):
                n = int(line.split(":")[1])
        while len(self.buf) < n:
            chunk = self.s.recv(4096)
            if not chunk:
                break
            self.buf += chunk
        return self.buf[:n].decode(errors="replace")

    def send_frame(self, opcode, payload, fin=True):
        hdr = bytes([(0x80 if fin else 0) | opcode])
        n = len(payload)
        if n < 126:
            hdr += bytes([0x80 | n])
        elif n < 65536:
            hdr += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.s.sendall(hdr + mask + masked)

    def send_text(self, text):
        self.send_frame(1, text.encode())

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_frame(self):
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)

    def recv(self):
        """Next data message or ('close', code, reason); answers pings."""
        while True:
            op, data = self.recv_frame()
            if op == 9:
                self.send_frame(10, data)
                continue
            if op == 8:
                code = struct.unpack("!H", data[:2])[0] if len(data) >= 2 else None
                return ("close", code, data[2:].decode(errors="replace"))
            return ("text" if op == 1 else "op%d" % op, data)

    def close(self):
        self.s.close()


# Echo, including a message sent in three fragments.
ws = WS("/ws?hello=hi")
check("upgrade answers 101", ws.status == 101, ws.head)
check("open op can send at once", ws.recv() == ("text", b"hi"))
ws.send_text("ping")
check("text echo", ws.recv() == ("text", b"ping"))
ws.send_frame(1, b"frag", fin=False)
ws.send_frame(0, b"men", fin=False)
ws.send_frame(0, b"ted", fin=True)
check("fragments reassembled", ws.recv() == ("text", b"fragmented"))
ws.send_text("big")
kind, data = ws.recv()
check("200 kB message from the server", kind == "text" and len(data) == 200000)
ws.send_text("close")
check("queued message before close", ws.recv() == ("text", b"closing"))
check("close code and reason", ws.recv() == ("close", 4000, "bye now"))
ws.close()

# Too big: max_body is 65536.
ws = WS("/ws")
ws.send_text("x" * 70000)
r = ws.recv()
check("oversized message closes with 1009", r[0] == "close" and r[1] == 1009, str(r))
ws.close()

# Binary is not supported.
ws = WS("/ws")
ws.send_frame(2, b"\x00\x01")
r = ws.recv()
check("binary message closes with 1003", r[0] == "close" and r[1] == 1003, str(r))
ws.close()

# Refusals before the upgrade are HTTP statuses.
ws = WS("/ws?deny=1")
check("accept hook refuses with 403", ws.status == 403, ws.head)
check("refusal carries the reason", "denied by the accept hook" in ws.body())
ws.close()
ws = WS("/nows")
check("no WebSocket route: 404", ws.status == 404, ws.head)
ws.close()

# A client that just disconnects: the server stays up (checked by the next one).
ws = WS("/ws")
ws.send_text("half")
ws.close()
ws = WS("/ws")
ws.send_text("again")
check("server fine after an abrupt disconnect", ws.recv() == ("text", b"again"))
ws.close()

sys.exit(1 if failures else 0)
