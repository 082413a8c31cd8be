#!/usr/bin/env bash
# NATS publishing (SPEC §2, api/nats.h): starts a fake NATS server (node: INFO
# on connect, PONG for PING, logs CONNECT and each PUB with its payload) and
# build/tern (or $TERN_BIN) with NATS pointing at it, on free loopback ports,
# from a temporary directory, and checks:
#  - Tern connects (CONNECT) and keeps serving;
#  - with one Chromium participant in conversation "nats-conv" (silent fake
#    microphone, so it is a listener and the room's shared mix is encoded),
#    frames arrive on subject "bite" with the conversation id, a timestamp
#    and an Opus payload, about 50 a second (skipped when Chromium or
#    playwright-core is missing);
#  - stopping the NATS server does not disturb Tern: /healthz keeps
#    answering promptly, the participant stays connected and keeps
#    receiving audio; restarting it, Tern reconnects and frames flow again.
# Bounded: under a minute.
set -u
smoke_name=nats_smoke
. "$(dirname "$0")/smoke_lib.sh"
NATS_PORT=$(free_port); HTTP_PORT=$(free_port); MEDIA_PORT=$(free_port)

cat > "$work/fake_nats.mjs" <<'JS'
// Just enough of the NATS client protocol for a publisher.
import net from 'node:net';
const srv = net.createServer((sock) => {
  sock.write('INFO {"server_id":"fake","version":"2.9.0","proto":1,"max_payload":1048576,"headers":true}\r\n');
  let buf = Buffer.alloc(0);
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const eol = buf.indexOf('\r\n');
      if (eol < 0) return;
      const line = buf.subarray(0, eol).toString();
      if (line.startsWith('PUB ')) {
        const parts = line.split(' ');
        const len = Number(parts[parts.length - 1]);
        if (buf.length < eol + 2 + len + 2) return;
        console.log(`PUB ${parts[1]} ${buf.subarray(eol + 2, eol + 2 + len).toString()}`);
        buf = buf.subarray(eol + 2 + len + 2);
        continue;
      }
      if (line.startsWith('CONNECT')) console.log('CONNECT');
      if (line === 'PING') sock.write('PONG\r\n');
      buf = buf.subarray(eol + 2);
    }
  });
  sock.on('error', () => {});
});
srv.listen(Number(process.argv[2]), '127.0.0.1');
JS
start_nats() {
  node "$work/fake_nats.mjs" "$NATS_PORT" >> "$work/nats.log" 2>&1 &
  nats_pid=$!
  pids+=($nats_pid)
}
count() { grep -c "$1" "$work/nats.log" 2>/dev/null || true; }
wait_for() { # pattern, min count, seconds
  local end=$((SECONDS + $3))
  while [ $SECONDS -lt $end ]; do [ "$(count "$1")" -ge "$2" ] && return 0; sleep 0.1; done
  return 1
}
: > "$work/nats.log"
start_nats

(cd "$work" && WEB_ROOT="$repo/web" LISTEN=127.0.0.1:$HTTP_PORT MEDIA_LISTEN=127.0.0.1:$MEDIA_PORT \
  AUTH_DEV_QUERY=1 NATS=nats://127.0.0.1:$NATS_PORT LOG_LEVEL=debug exec "$tern_bin") \
  > "$work/tern.log" 2>&1 &
tern_pid=$!
pids+=($tern_pid)
base=http://127.0.0.1:$HTTP_PORT
for _ in $(seq 100); do curl -fs -m 1 "$base/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

expect "Tern connects to NATS" "0" "$(wait_for '^CONNECT' 1 10; echo $?)"
expect "/healthz" "200" "$(curl -s -m 2 -o /dev/null -w '%{http_code}' "$base/healthz")"

# The participant, driven by node in the background: it prints
# "connected", then "rx <packets received>" every second until killed.
browser=0
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -d node_modules/playwright-core ]; then
  browser=1
  cat > "$work/participant.mjs" <<JS
import { launch } from '$repo/tests/e2e/browsers.mjs';
import { toneWav } from '$repo/tests/e2e/_media.mjs';
import { openParticipant, join, connect } from '$repo/tests/e2e/_beep.mjs';
const b = await launch('chromium', { fakeAudioFile: toneWav(440, { amplitude: 0, dir: '$work' }) });
const stop = async () => { await b.close(); process.exit(0); };
process.on('SIGTERM', stop);
try {
  const p = await openParticipant(b, '$base', { userid: 'listener' });
  await join(p, 'nats-conv');
  await connect(p);
  console.log('connected');
  for (;;) {
    const rx = await p.evaluate(() => window.__tern.stats?.inbound?.audio?.packetsReceived ?? -1);
    const st = await p.evaluate(() => window.__tern.state);
    console.log('rx ' + rx + ' ' + st);
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (e) { console.log('error ' + e.message); await b.close(); process.exit(1); }
JS
  node "$work/participant.mjs" > "$work/participant.log" 2>&1 &
  part_pid=$!
  pids+=($part_pid)
  for _ in $(seq 300); do grep -q '^connected\|^error' "$work/participant.log" && break; sleep 0.1; done
  expect "participant connected" "connected" "$(grep -m1 -o '^connected\|^error.*' "$work/participant.log")"
  n0=$(count '^PUB bite .*"conversationid":"nats-conv"')
  sleep 2
  n1=$(count '^PUB bite .*"conversationid":"nats-conv"')
  rate=$(( (n1 - n0) / 2 ))
  expect "frames of nats-conv on \"bite\", ~50/s" "1" "$([ $rate -ge 35 ] && [ $rate -le 60 ] && echo 1 || echo "0 ($rate/s)")"
  line=$(grep -m1 '^PUB bite .*"conversationid":"nats-conv"' "$work/nats.log")
  expect "envelope" "1" "$(echo "$line" | grep -cE '^PUB bite \{"conversationid":"nats-conv","timestamp":[0-9]{13},"duration":20,"codec":"opus/48000/1","opus":"[A-Za-z0-9+/]+=*"\}$')"
  ts=$(echo "$line" | sed -E 's/.*"timestamp":([0-9]+).*/\1/')
  now=$(date +%s%3N)
  expect "timestamp is ms since the epoch (within 60 s)" "1" "$([ $((now - ts)) -lt 60000 ] && [ $((now - ts)) -ge 0 ] && echo 1 || echo 0)"
else
  echo "  skip frames from a real conversation (needs Chromium and playwright-core: make deps)"
fi

# NATS goes away.
kill -KILL $nats_pid; wait $nats_pid 2>/dev/null
rx0=$(grep '^rx ' "$work/participant.log" 2>/dev/null | tail -1 | cut -d' ' -f2)
slow=0
for _ in $(seq 20); do
  t=$(curl -s -m 2 -o /dev/null -w '%{time_total}' "$base/healthz")
  awk -v t="$t" 'BEGIN { exit !(t > 0.5) }' && slow=$((slow + 1))
  sleep 0.1
done
expect "/healthz prompt (< 0.5 s) while NATS is down" "0" "$slow"
if [ $browser = 1 ]; then
  sleep 1.5
  last=$(grep '^rx ' "$work/participant.log" | tail -1)
  rx1=$(echo "$last" | cut -d' ' -f2)
  expect "participant still connected" "connected" "$(echo "$last" | cut -d' ' -f3)"
  expect "participant still receiving audio" "1" "$([ "${rx1:-0}" -gt "${rx0:-0}" ] && echo 1 || echo "0 ($rx0 → $rx1)")"
fi

# NATS comes back: reconnect (libnats retries every second).
start_nats
expect "Tern reconnects" "0" "$(wait_for '^CONNECT' 2 10; echo $?)"
if [ $browser = 1 ]; then
  n2=$(count '^PUB bite .*"conversationid":"nats-conv"')
  sleep 1
  n3=$(count '^PUB bite .*"conversationid":"nats-conv"')
  expect "frames flow again" "1" "$([ $((n3 - n2)) -ge 20 ] && echo 1 || echo "0 ($((n3 - n2)))")"
  kill -TERM $part_pid; wait $part_pid 2>/dev/null
fi
expect "Tern still running" "0" "$(kill -0 $tern_pid 2>/dev/null; echo $?)"

kill -TERM $tern_pid
for _ in $(seq 80); do kill -0 $tern_pid 2>/dev/null || break; sleep 0.1; done
wait $tern_pid; rc=$?
expect "clean exit on SIGTERM" "0" "$rc"
[ $fail -eq 0 ] || { echo "--- tern log (tail)"; grep -v DEBUG "$work/tern.log" | tail -n 30; echo "--- participant"; tail -5 "$work/participant.log" 2>/dev/null; echo "--- nats (head)"; head -c 1500 "$work/nats.log"; }
exit $fail
