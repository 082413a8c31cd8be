/* broadcast — one broadcaster, N viewers, realistic media through the
 * server's /broadcaster and /viewer examples: the forwarding cost.
 *
 * Setup: the broadcaster first (POST /broadcaster/connections; its answer
 * mirrors the server's recvonly audio+video into sendonly tracks), then the
 * viewers, --parallel at a time (POST /viewer/connections). These examples
 * have no data channel, so "up" is the client peer reaching CONNECTED (DTLS
 * done, SRTP keyed). No session.c here: sessions wait for a data channel.
 *
 * Media, paced on a uv timer against a monotonic schedule (late ticks catch
 * up, so timer jitter does not lower the rate): audio 50 packets/s of 100
 * bytes, timestamp +960; video 30 frames/s of 4167 bytes (≈ 1 Mbit/s), each
 * frame in 4 packets ≤ 1100 bytes, marker on the last, timestamp +3000.
 * Tern forwards without decoding, so the payload bytes are arbitrary.
 *
 * Measure: 1 s of warm-up, then --seconds of window: packets sent, packets
 * received by all viewers (= forwarded), and the server's user+system CPU
 * time from /proc/<--server-pid>/stat at both ends. Then sending stops, 500
 * ms drain, loss over the whole sending period, DELETE everything.
 *
 * Every wait is bounded: setup and hang-up fail when nothing progresses for
 * --timeout-ms. The last stdout line is "result k=v …" for scripts. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "http.h"
#include "net/transport.h"

#define AUDIO_INTERVAL_MS 20
#define AUDIO_PAYLOAD 100
#define AUDIO_TS_STEP 960
#define VIDEO_FPS 30
#define VIDEO_FRAME_BYTES 4167 /* 30 × 4167 × 8 ≈ 1.0 Mbit/s */
#define VIDEO_MAX_PACKET 1100
#define VIDEO_TS_STEP 3000
#define TICK_MS 5
#define MAX_LAG_MS 200 /* further behind than this: resynchronise, count it */
#define WARMUP_MS 1000
#define DRAIN_MS 500

enum phase { PH_SETUP, PH_WARMUP, PH_MEASURE, PH_DRAIN, PH_HANGUP, PH_END };

struct bcast;

struct bpeer {
  struct bcast *b;
  bool viewer;
  unsigned index; /* viewers: 1..N */
  char id[64];
  struct tern_transport transport;
  bool transport_open;
  struct tern_peer_env env;
  struct tern_peer *peer;
  struct bc_http *http;
  struct tern_track *audio, *video;
  bool connected, dropped, deleting, deleted;
  uint64_t rx_audio, rx_video;
};

struct counts {
  uint64_t tx_audio, tx_video, rx_audio, rx_video;
};

struct bcast {
  struct bc_client c;
  const struct bc_opts *o;
  struct bpeer *peers; /* [0] the broadcaster, [1..n) viewers */
  unsigned n, started, in_setup, connected;
  enum phase phase;
  uv_timer_t watchdog, tick, phase_timer;
  uv_signal_t sigint, sigterm;
  uint64_t progress_ms; /* uv_now of the last setup/hang-up step done */
  uint64_t send_start_ns, audio_n, frames_n, resyncs;
  uint32_t audio_ts, video_ts;
  struct counts tx_rx;
  uint64_t tx_errors;
  struct counts w0, w1;
  uint64_t w0_ns, w1_ns;
  double srv0_ms, srv1_ms, cli0_ms, cli1_ms;
  bool have_server_cpu;
  unsigned deletes_active;
  int rc;
};

static void stop(struct bcast *b);
static void start_viewers(struct bcast *b);
static void on_tick(uv_timer_t *t);
static void on_phase(uv_timer_t *t);
static void delete_more(struct bcast *b);
static void maybe_end(struct bcast *b);

/* A setup request that finishes after stop(): hang up what it made. */
static void after_http(struct bcast *b) {
  if (b->phase == PH_HANGUP) {
    delete_more(b);
    maybe_end(b);
  }
}

static void failf(struct bcast *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(struct bcast *b, const char *fmt, ...) {
  va_list ap;
  if (!b->rc) {
    char msg[400];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bc_fail("%s", msg);
  }
  b->rc = 1;
  stop(b);
}

static const char *who(const struct bpeer *p, char *out, size_t cap) {
  if (p->viewer)
    snprintf(out, cap, "viewer %u (connection %s)", p->index, p->id[0] ? p->id : "-");
  else
    snprintf(out, cap, "broadcaster (connection %s)", p->id[0] ? p->id : "-");
  return out;
}

/* user+system CPU time of a process, ms; -1 if unreadable. The command
 * name (field 2) may hold spaces and parentheses: parse after the last ')'. */
static double proc_cpu_ms(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  unsigned long long ut, st;
  /* After ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime(14) stime(15). */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
    return -1;
  return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_ms(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
}

static struct counts snapshot(const struct bcast *b) {
  struct counts c = b->tx_rx;
  c.rx_audio = c.rx_video = 0;
  for (unsigned i = 1; i < b->n; i++) {
    c.rx_audio += b->peers[i].rx_audio;
    c.rx_video += b->peers[i].rx_video;
  }
  return c;
}

/* ---- the peers ------------------------------------------------------------ */

static void on_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct bpeer *p = user;
  (void)pkt;
  (void)len;
  if (t == p->audio)
    p->rx_audio++;
  else if (t == p->video)
    p->rx_video++;
}

static const struct tern_track_ops track_ops = {.rtp = on_rtp};

static void on_track(struct tern_peer *peer, void *user, struct tern_track *t) {
  struct bpeer *p = user;
  (void)peer;
  if (tern_track_kind(t) == TERN_TRACK_AUDIO && !p->audio)
    p->audio = t;
  else if (tern_track_kind(t) == TERN_TRACK_VIDEO && !p->video)
    p->video = t;
  tern_track_set_ops(t, &track_ops, p);
}

static void on_channel(struct tern_peer *peer, void *user, struct tern_dc *dc) {
  (void)peer;
  (void)user;
  tern_dc_close(dc); /* not used here */
}

static void peer_up(struct bpeer *p) {
  struct bcast *b = p->b;
  char w[120];
  p->connected = true;
  b->connected++;
  b->in_setup--;
  b->progress_ms = uv_now(&b->c.loop);
  if (b->o->verbose)
    printf("broadcast: %s connected\n", who(p, w, sizeof w));
  if (b->phase != PH_SETUP)
    return;
  if (!p->viewer) {
    if (!p->audio || !p->video || !tern_track_is_active(p->audio) ||
        !tern_track_is_active(p->video)) {
      failf(b, "%s: the server's offer has no usable audio and video", who(p, w, sizeof w));
      return;
    }
  } else if (!p->audio || !p->video) {
    failf(b, "%s: the server's offer has no audio and video tracks", who(p, w, sizeof w));
    return;
  }
  start_viewers(b);
}

static void on_state(struct tern_peer *peer, void *user, enum tern_peer_state st) {
  struct bpeer *p = user;
  struct bcast *b = p->b;
  char w[120];
  (void)peer;
  if (st == TERN_PEER_CONNECTED && !p->connected) {
    peer_up(p);
  } else if (st == TERN_PEER_FAILED || st == TERN_PEER_DISCONNECTED || st == TERN_PEER_CLOSED) {
    if (p->deleting || b->phase >= PH_HANGUP)
      return;
    if (!p->connected) {
      failf(b, "%s: peer connection %s during setup", who(p, w, sizeof w),
            tern_peer_state_name(st));
    } else if (!p->dropped) {
      p->dropped = true;
      failf(b, "%s: peer connection %s while streaming", who(p, w, sizeof w),
            tern_peer_state_name(st));
    }
  }
}

static const struct tern_peer_ops peer_ops = {
    .state = on_state, .datachannel = on_channel, .track = on_track};

/* ---- REST -------------------------------------------------------------------- */

static const char *example(const struct bpeer *p) { return p->viewer ? "viewer" : "broadcaster"; }

static bool http_ok(struct bpeer *p, const char *what, int err, const struct bc_http_resp *r,
                    const char *reason) {
  char w[120], body[120];
  if (err) {
    failf(p->b, "%s: %s: %s", who(p, w, sizeof w), what, reason);
    return false;
  }
  if (r->status < 200 || r->status > 299) {
    size_t n = r->body_len < sizeof body - 1 ? r->body_len : sizeof body - 1;
    for (size_t i = 0; i < n; i++)
      body[i] = (r->body[i] == '\n' || r->body[i] == '\r' || !r->body[i]) ? ' ' : r->body[i];
    body[n] = 0;
    failf(p->b, "%s: %s: HTTP %d: %s", who(p, w, sizeof w), what, r->status, body);
    return false;
  }
  return true;
}

static bool request(struct bpeer *p, const char *method, const char *path, const char *body,
                    bc_http_cb cb) {
  const struct bc_target *t = &p->b->c.target;
  char reason[160], w[120];
  p->http = bc_http_request(t->loop, (const struct sockaddr *)&t->server, t->host, method, path,
                            body, body ? strlen(body) : 0, t->step_timeout_ms, cb, p, reason,
                            sizeof reason);
  if (!p->http)
    failf(p->b, "%s: %s %s: %s", who(p, w, sizeof w), method, path, reason);
  return p->http != NULL;
}

static void on_answer_posted(void *user, int err, const struct bc_http_resp *r,
                             const char *reason) {
  struct bpeer *p = user;
  p->http = NULL;
  if (http_ok(p, "POST remote-description", err, r, reason))
    p->b->progress_ms = uv_now(&p->b->c.loop);
  after_http(p->b);
}

static void answer(struct bpeer *p, const char *offer) {
  struct bcast *b = p->b;
  char err[256], path[200], logid[24], w[120];
  snprintf(logid, sizeof logid, "cli-%.8s", p->id);
  p->peer = tern_peer_create(&p->env, true, &peer_ops, p, logid);
  if (!p->peer) {
    failf(b, "%s: cannot create the client peer", who(p, w, sizeof w));
    return;
  }
  if (tern_peer_set_remote_description(p->peer, TERN_SDP_OFFER, offer, strlen(offer), err,
                                       sizeof err) < 0) {
    failf(b, "%s: the server's offer is unusable: %s", who(p, w, sizeof w), err);
    return;
  }
  if (tern_peer_create_answer(p->peer, err, sizeof err) < 0) {
    failf(b, "%s: cannot answer the server's offer: %s", who(p, w, sizeof w), err);
    return;
  }
  json_t *j = json_pack("{s:s, s:s}", "type", "answer", "sdp",
                        tern_peer_local_description(p->peer));
  char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!body) {
    failf(b, "out of memory (answer JSON)");
    return;
  }
  snprintf(path, sizeof path, "/%s/connections/%s/remote-description", example(p), p->id);
  request(p, "POST", path, body, on_answer_posted);
  free(body);
}

static void on_offer(void *user, int err, const struct bc_http_resp *r, const char *reason) {
  struct bpeer *p = user;
  json_error_t jerr;
  char w[120];
  p->http = NULL;
  if (!http_ok(p, "POST /connections", err, r, reason)) {
    after_http(p->b);
    return;
  }
  p->b->progress_ms = uv_now(&p->b->c.loop);
  json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
  const char *id = json_string_value(json_object_get(j, "id"));
  json_t *ld = json_object_get(j, "localDescription");
  const char *type = json_string_value(json_object_get(ld, "type"));
  const char *sdp = json_string_value(json_object_get(ld, "sdp"));
  if (!j)
    failf(p->b, "%s: POST /connections: the response is not JSON: %s", who(p, w, sizeof w),
          jerr.text);
  else if (!id || !id[0] || strlen(id) >= sizeof p->id ||
           strspn(id, "0123456789abcdef-") != strlen(id))
    failf(p->b, "%s: POST /connections: the response has no usable \"id\"", who(p, w, sizeof w));
  else if (!type || strcmp(type, "offer") != 0 || !sdp)
    failf(p->b, "%s: POST /connections: localDescription is not an offer", who(p, w, sizeof w));
  else {
    snprintf(p->id, sizeof p->id, "%s", id);
    if (p->b->phase < PH_HANGUP)
      answer(p, sdp);
  }
  json_decref(j);
  after_http(p->b);
}

static int start_peer(struct bcast *b, struct bpeer *p) {
  char path[100], w[120];
  int rc = tern_transport_init(&p->transport, &b->c.loop, b->o->bind, 0);
  if (rc < 0) {
    failf(b, "%s: cannot bind a UDP socket on %s: %s%s", who(p, w, sizeof w), b->o->bind,
          uv_strerror(rc), rc == UV_EMFILE ? " (raise ulimit -n)" : "");
    return -1;
  }
  p->transport_open = true;
  /* A client starved of CPU by the server on the same cores must not count
   * its own socket overflow as forwarding loss: 1 MiB per viewer socket
   * (FORCE when root, beyond rmem_max; otherwise what the kernel allows). */
  uv_os_fd_t fd;
  int rcvbuf = 1 << 20;
  if (uv_fileno((uv_handle_t *)&p->transport.udp, &fd) == 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  p->env = *b->c.target.env;
  p->env.transport = &p->transport;
  /* Consent checks go unretransmitted every 5 s; on a loaded 2-core machine
   * two lost to a starved client would end a viewer mid-run. 30 s keeps the
   * run about the server's forwarding. */
  p->env.consent_timeout_ms = 30000;
  b->started++;
  b->in_setup++;
  snprintf(path, sizeof path, "/%s/connections", example(p));
  return request(p, "POST", path, NULL, on_offer) ? 0 : -1;
}

static void start_viewers(struct bcast *b) {
  while (b->phase == PH_SETUP && b->started < b->n && b->in_setup < b->o->parallel)
    if (start_peer(b, &b->peers[b->started]) < 0)
      return;
  if (b->phase == PH_SETUP && b->connected == b->n) {
    printf("broadcast: %u viewers connected, streaming\n", b->n - 1);
    fflush(stdout);
    b->phase = PH_WARMUP;
    b->send_start_ns = uv_hrtime();
    uv_timer_start(&b->tick, on_tick, 0, TICK_MS);
    uv_timer_start(&b->phase_timer, on_phase, WARMUP_MS, 0);
  }
}

/* ---- sending ------------------------------------------------------------------- */

static void send_audio(struct bcast *b) {
  static const uint8_t payload[AUDIO_PAYLOAD] = {0xfc}; /* an Opus TOC byte, then zeros */
  struct bpeer *bc = &b->peers[0];
  b->audio_ts += AUDIO_TS_STEP;
  if (tern_track_send_payload(bc->audio, payload, sizeof payload, b->audio_ts, true) == 0)
    b->tx_rx.tx_audio++;
  else
    b->tx_errors++;
}

static void send_frame(struct bcast *b) {
  static const uint8_t payload[VIDEO_MAX_PACKET] = {0x10}; /* VP8 descriptor: S bit */
  struct bpeer *bc = &b->peers[0];
  const size_t npk = (VIDEO_FRAME_BYTES + VIDEO_MAX_PACKET - 1) / VIDEO_MAX_PACKET;
  b->video_ts += VIDEO_TS_STEP;
  size_t left = VIDEO_FRAME_BYTES;
  for (size_t i = 0; i < npk; i++) {
    size_t len = left / (npk - i); /* even split: 1042, 1042, 1042, 1041 */
    left -= len;
    if (tern_track_send_payload(bc->video, payload, len, b->video_ts, i == npk - 1) == 0)
      b->tx_rx.tx_video++;
    else
      b->tx_errors++;
  }
}

static void on_tick(uv_timer_t *t) {
  struct bcast *b = t->data;
  if (b->phase != PH_WARMUP && b->phase != PH_MEASURE)
    return;
  uint64_t elapsed = (uv_hrtime() - b->send_start_ns) / 1000000;
  uint64_t audio_due = elapsed / AUDIO_INTERVAL_MS + 1;
  uint64_t frames_due = elapsed * VIDEO_FPS / 1000 + 1;
  /* A client that cannot keep up resynchronises rather than bursting. */
  if ((audio_due - b->audio_n) * AUDIO_INTERVAL_MS > MAX_LAG_MS) {
    b->resyncs++;
    b->audio_n = audio_due - 1;
  }
  if ((frames_due - b->frames_n) * 1000 / VIDEO_FPS > MAX_LAG_MS) {
    b->resyncs++;
    b->frames_n = frames_due - 1;
  }
  for (; b->audio_n < audio_due; b->audio_n++)
    send_audio(b);
  for (; b->frames_n < frames_due; b->frames_n++)
    send_frame(b);
}

/* ---- phases ------------------------------------------------------------------------ */

static void begin_window(struct bcast *b) {
  b->phase = PH_MEASURE;
  b->w0 = snapshot(b);
  b->w0_ns = uv_hrtime();
  b->srv0_ms = b->o->server_pid ? proc_cpu_ms(b->o->server_pid) : -1;
  b->cli0_ms = self_cpu_ms();
  uv_timer_start(&b->phase_timer, on_phase, (uint64_t)b->o->seconds * 1000, 0);
}

static void end_window(struct bcast *b) {
  b->w1 = snapshot(b);
  b->w1_ns = uv_hrtime();
  b->srv1_ms = b->o->server_pid ? proc_cpu_ms(b->o->server_pid) : -1;
  b->cli1_ms = self_cpu_ms();
  b->have_server_cpu = b->srv0_ms >= 0 && b->srv1_ms >= 0;
  if (b->o->server_pid && !b->have_server_cpu)
    failf(b, "the server (pid %d) is gone: cannot read /proc/%d/stat", b->o->server_pid,
          b->o->server_pid);
  b->phase = PH_DRAIN;
  uv_timer_stop(&b->tick);
  uv_timer_start(&b->phase_timer, on_phase, DRAIN_MS, 0);
}

static void on_phase(uv_timer_t *t) {
  struct bcast *b = t->data;
  if (b->phase == PH_WARMUP)
    begin_window(b);
  else if (b->phase == PH_MEASURE)
    end_window(b);
  else if (b->phase == PH_DRAIN) {
    b->tx_rx = snapshot(b); /* totals over the whole sending period */
    stop(b);
  }
}

/* ---- hanging up ---------------------------------------------------------------------- */

static void maybe_end(struct bcast *b) {
  if (b->phase == PH_HANGUP && b->deletes_active == 0) {
    for (unsigned i = 0; i < b->started; i++)
      if (b->peers[i].http)
        return; /* a setup request still running: it ends by its timeout */
    b->phase = PH_END;
    uv_stop(&b->c.loop);
  }
}

static void on_deleted(void *user, int err, const struct bc_http_resp *r, const char *reason) {
  struct bpeer *p = user;
  struct bcast *b = p->b;
  p->http = NULL;
  b->deletes_active--;
  p->deleted = true;
  if (http_ok(p, "DELETE", err, r, reason))
    b->progress_ms = uv_now(&b->c.loop);
  delete_more(b);
  maybe_end(b);
}

static void delete_more(struct bcast *b) {
  char path[200];
  for (unsigned i = 0; i < b->started && b->deletes_active < b->o->parallel; i++) {
    struct bpeer *p = &b->peers[i];
    if (!p->id[0] || p->deleting || p->http)
      continue;
    p->deleting = true;
    snprintf(path, sizeof path, "/%s/connections/%s", example(p), p->id);
    if (request(p, "DELETE", path, NULL, on_deleted))
      b->deletes_active++;
  }
}

/* Stops streaming, DELETEs every connection the server gave us (P at a
 * time, far from its per-IP HTTP limit), then ends the loop. Requests
 * still in setup finish or time out on their own. */
static void stop(struct bcast *b) {
  if (b->phase >= PH_HANGUP)
    return;
  if (b->phase == PH_WARMUP || b->phase == PH_MEASURE)
    b->tx_rx = snapshot(b);
  b->phase = PH_HANGUP;
  b->progress_ms = uv_now(&b->c.loop);
  uv_timer_stop(&b->tick);
  uv_timer_stop(&b->phase_timer);
  delete_more(b);
  maybe_end(b);
}

static void on_watchdog(uv_timer_t *t) {
  struct bcast *b = t->data;
  uint64_t quiet = uv_now(&b->c.loop) - b->progress_ms;
  if (b->phase != PH_SETUP && b->phase != PH_HANGUP)
    return;
  /* HTTP requests time out by themselves; this catches ICE/DTLS that never
   * finish (no HTTP pending) and bounds the whole hang-up. */
  if (quiet <= (uint64_t)b->o->timeout_ms + 1000)
    return;
  if (b->phase == PH_SETUP) {
    failf(b, "setup stalled: %u of %u connected, nothing within %u ms", b->connected, b->n,
          b->o->timeout_ms);
  } else {
    failf(b, "hang-up stalled: nothing within %u ms", b->o->timeout_ms);
    b->phase = PH_END;
    uv_stop(&b->c.loop);
  }
}

static void on_signal(uv_signal_t *h, int signum) {
  struct bcast *b = h->data;
  uv_signal_stop(&b->sigint); /* a second signal: the default action */
  uv_signal_stop(&b->sigterm);
  failf(b, "interrupted (%s)", strsignal(signum));
}

/* ---- report ------------------------------------------------------------------------------ */

static double pct_lost(uint64_t sent, uint64_t got) {
  return sent ? 100.0 * ((double)sent - (double)got) / (double)sent : 0.0;
}

static void report(const struct bcast *b) {
  unsigned nv = b->n - 1;
  double secs = ((double)b->w1_ns - (double)b->w0_ns) / 1e9;
  uint64_t tx = (b->w1.tx_audio + b->w1.tx_video) - (b->w0.tx_audio + b->w0.tx_video);
  uint64_t rx = (b->w1.rx_audio + b->w1.rx_video) - (b->w0.rx_audio + b->w0.rx_video);
  double tx_pps = (double)tx / secs, fwd_pps = (double)rx / secs;
  double ta = (double)b->tx_rx.tx_audio * nv, tv = (double)b->tx_rx.tx_video * nv;
  double loss_a = pct_lost((uint64_t)ta, b->tx_rx.rx_audio);
  double loss_v = pct_lost((uint64_t)tv, b->tx_rx.rx_video);
  double loss = pct_lost((uint64_t)(ta + tv), b->tx_rx.rx_audio + b->tx_rx.rx_video);
  double cli_ms_s = (b->cli1_ms - b->cli0_ms) / secs;

  printf("broadcast: 1 broadcaster, %u viewers, window %.2f s (after %d ms warm-up)\n", nv, secs,
         WARMUP_MS);
  printf("broadcast: sent %.1f packets/s (audio %.1f, video %.1f)\n", tx_pps,
         (double)(b->w1.tx_audio - b->w0.tx_audio) / secs,
         (double)(b->w1.tx_video - b->w0.tx_video) / secs);
  printf("broadcast: received by all viewers %.1f packets/s = forwarded (%.1f per viewer)\n",
         fwd_pps, nv ? fwd_pps / nv : 0.0);
  uint64_t lo = UINT64_MAX, hi = 0;
  unsigned starved = 0;
  for (unsigned i = 1; i < b->n; i++) {
    uint64_t got = b->peers[i].rx_audio + b->peers[i].rx_video;
    lo = got < lo ? got : lo;
    hi = got > hi ? got : hi;
    starved += got == 0;
  }
  printf("broadcast: per viewer %llu to %llu packets received in all, %u viewers got none\n",
         (unsigned long long)lo, (unsigned long long)hi, starved);
  printf("broadcast: loss %.3f %% (audio %.3f %%, video %.3f %%) over %llu packets expected\n",
         loss, loss_a, loss_v, (unsigned long long)(ta + tv));
  const struct tern_transport_stats *bs = &b->peers[0].transport.stats;
  printf("broadcast: broadcaster socket: %llu datagrams out, %llu sends failed (EAGAIN)\n",
         (unsigned long long)bs->packets_out,
         (unsigned long long)bs->drops[TERN_DROP_SEND_FAILED]);
  if (b->tx_errors || b->resyncs)
    printf("broadcast: %llu send errors, %llu schedule resyncs (the client fell behind)\n",
           (unsigned long long)b->tx_errors, (unsigned long long)b->resyncs);
  printf("broadcast: client CPU %.1f ms/s (this process: sending, receiving, SRTP)\n", cli_ms_s);
  if (b->have_server_cpu) {
    double srv_ms_s = (b->srv1_ms - b->srv0_ms) / secs;
    double us_pkt = rx ? (b->srv1_ms - b->srv0_ms) * 1000.0 / (double)rx : 0.0;
    double per_core = srv_ms_s > 0 ? fwd_pps / (srv_ms_s / 1000.0) : 0.0;
    printf("broadcast: server CPU %.1f ms/s, %.2f us per forwarded packet, "
           "%.0f forwarded packets/s per core\n",
           srv_ms_s, us_pkt, per_core);
    printf("result viewers=%u tx_pps=%.1f fwd_pps=%.1f loss_pct=%.3f srv_cpu_ms_per_s=%.1f "
           "us_per_pkt=%.3f pps_per_core=%.0f cli_cpu_ms_per_s=%.1f\n",
           nv, tx_pps, fwd_pps, loss, srv_ms_s, us_pkt, per_core, cli_ms_s);
  } else {
    printf("broadcast: server CPU not measured (pass --server-pid)\n");
    printf("result viewers=%u tx_pps=%.1f fwd_pps=%.1f loss_pct=%.3f cli_cpu_ms_per_s=%.1f\n", nv,
           tx_pps, fwd_pps, loss, cli_ms_s);
  }
}

int bc_run_broadcast(const struct bc_opts *o) {
  struct bcast b = {.o = o};
  if (!o->viewers) {
    bc_fail("broadcast needs --viewers N");
    return 2;
  }
  if (o->server_pid && proc_cpu_ms(o->server_pid) < 0) {
    bc_fail("cannot read /proc/%d/stat (is --server-pid the server's?)", o->server_pid);
    return 2;
  }
  if (bc_client_init(&b.c, o) < 0)
    return 1;
  b.n = o->viewers + 1;
  b.peers = calloc(b.n, sizeof *b.peers);
  if (!b.peers) {
    bc_fail("out of memory");
    bc_client_finish(&b.c, NULL, 0);
    return 1;
  }
  for (unsigned i = 0; i < b.n; i++) {
    b.peers[i].b = &b;
    b.peers[i].viewer = i > 0;
    b.peers[i].index = i;
  }
  uv_signal_init(&b.c.loop, &b.sigint);
  uv_signal_init(&b.c.loop, &b.sigterm);
  b.sigint.data = b.sigterm.data = &b;
  uv_signal_start(&b.sigint, on_signal, SIGINT);
  uv_signal_start(&b.sigterm, on_signal, SIGTERM);
  uv_timer_init(&b.c.loop, &b.watchdog);
  uv_timer_init(&b.c.loop, &b.tick);
  uv_timer_init(&b.c.loop, &b.phase_timer);
  b.watchdog.data = b.tick.data = b.phase_timer.data = &b;
  uv_update_time(&b.c.loop);
  b.progress_ms = uv_now(&b.c.loop);
  uv_timer_start(&b.watchdog, on_watchdog, 100, 100);

  /* The broadcaster alone first; its CONNECTED starts the viewers. */
  if (start_peer(&b, &b.peers[0]) == 0)
    uv_run(&b.c.loop, UV_RUN_DEFAULT);
  bool measured = b.w1_ns != 0;

  for (unsigned i = 0; i < b.n; i++) {
    struct bpeer *p = &b.peers[i];
    bc_http_cancel(p->http);
    p->http = NULL;
    if (p->peer)
      tern_peer_close(p->peer);
    p->peer = NULL;
    if (p->transport_open)
      tern_transport_close(&p->transport);
    p->transport_open = false;
  }
  bc_client_finish(&b.c, NULL, 0);
  if (measured && !b.rc)
    report(&b);
  free(b.peers);
  return b.rc;
}
