/* track — the media half of a peer: transceivers, SRTP, RTP/RTCP routing.
 *
 * Incoming: the transport hands us SRTP/SRTCP from a verified address; RTCP
 * is told apart by its packet type (RFC 5761 §4: 64–95 with the marker bit
 * masked), decrypted in place, and routed: RTP by payload type (each of our
 * m-lines has its own), RTCP keyframe requests by the media SSRC they name.
 * Outgoing: the packet is copied into the peer's scratch buffer (the caller's
 * packet may be sent to many peers), rewritten, protected and sent; nothing
 * is allocated per packet. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/log.h"
#include "peer/peer_int.h"
#include "rtp/rtcp.h"
#include "rtp/rtp.h"
#include "srtp/srtp.h"

#define PT_AUDIO_BASE 111 /* Opus, as browsers number it */
#define PT_VIDEO_BASE 96  /* VP8 */


struct tern_track *tern_peer_add_track(struct tern_peer *p, const struct tern_track_init *init,
                                       const struct tern_track_ops *ops, void *user) {
  if (p->closed || p->local_sdp || p->n_tracks == TERN_PEER_MAX_TRACKS)
    return NULL;
  struct tern_track *t = &p->tracks[p->n_tracks];
  int same_kind = 0;
  for (int i = 0; i < p->n_tracks; i++)
    same_kind += p->tracks[i].local.kind == init->kind;
  memset(t, 0, sizeof *t);
  t->peer = p;
  t->ops = ops;
  t->user = user;
  t->local.kind = init->kind;
  t->local.dir = init->dir;
  t->local.stereo = init->stereo;
  /* Distinct payload types per m-line: 111, 112… for audio, 96, 97… for video. */
  t->local.pt = (uint8_t)((init->kind == TERN_TRACK_AUDIO ? PT_AUDIO_BASE : PT_VIDEO_BASE) +
                          same_kind);
  snprintf(t->local.mid, sizeof t->local.mid, "%d", p->n_tracks);
  t->local.ext_mid = 1;
  t->local.ext_audio_level = init->kind == TERN_TRACK_AUDIO ? 2 : 0;
  do
    getrandom(&t->local.ssrc, sizeof t->local.ssrc, 0);
  while (t->local.ssrc == 0);
  getrandom(&t->seq, sizeof t->seq, 0);
  if (!p->cname[0]) {
    uint8_t r[8];
    getrandom(r, sizeof r, 0);
    for (int i = 0; i < 8; i++)
      snprintf(p->cname + 2 * i, 3, "%02x", r[i]);
  }
  p->n_tracks++;
  return t;
}

void tern_peer_tracks_local(struct tern_peer *p, struct tern_local_track *out) {
  for (int i = 0; i < p->n_tracks; i++)
    out[i] = p->tracks[i].local;
}

/* Answering: each usable audio/video m-line of the offer becomes a track
 * with the offerer's mid and payload type; the direction mirrors theirs. */
void tern_peer_tracks_from_offer(struct tern_peer *p) {
  static const enum tern_track_dir mirror[] = {
      [TERN_DIR_SENDRECV] = TERN_DIR_SENDRECV, [TERN_DIR_SENDONLY] = TERN_DIR_RECVONLY,
      [TERN_DIR_RECVONLY] = TERN_DIR_SENDONLY, [TERN_DIR_INACTIVE] = TERN_DIR_INACTIVE};
  for (int i = 0; i < p->remote.n_tracks && p->n_tracks < TERN_PEER_MAX_TRACKS; i++) {
    const struct tern_remote_track *rt = &p->remote.tracks[i];
    if (rt->rejected)
      continue;
    struct tern_track_init init = {.kind = rt->kind, .dir = mirror[rt->dir], .stereo = rt->stereo};
    struct tern_track *t = tern_peer_add_track(p, &init, NULL, NULL);
    if (!t)
      break;
    t->local.pt = rt->pt;
    t->local.ext_mid = rt->ext_mid;
    t->local.ext_audio_level = rt->ext_audio_level;
    snprintf(t->local.mid, sizeof t->local.mid, "%s", rt->mid);
    t->remote_ssrc = rt->ssrc;
    if (p->ops->track)
      p->ops->track(p, p->user, t);
    if (p->closed)
      return;
  }
}

void tern_peer_tracks_apply_answer(struct tern_peer *p) {
  for (int i = 0; i < p->n_tracks && i < p->remote.n_tracks; i++) {
    p->tracks[i].rejected = p->remote.tracks[i].rejected;
    p->tracks[i].remote_ssrc = p->remote.tracks[i].ssrc;
  }
}

int tern_peer_media_start(struct tern_peer *p) {
  struct tern_srtp_keying k;
  if (p->n_tracks == 0 || p->srtp)
    return 0;
  int rc = tern_dtls_srtp_keying(p->dtls, &k);
  if (rc < 0)
    return rc;
  p->srtp = tern_srtp_create(&k);
  memset(&k, 0, sizeof k); /* keys live in libsrtp now */
  if (!p->srtp)
    return -EIO;
  return 0;
}

void tern_peer_media_free(struct tern_peer *p) {
  for (int i = 0; i < p->n_tracks; i++) {
    free(p->tracks[i].rtx);
    p->tracks[i].rtx = NULL;
  }
  if (p->srtp)
    tern_srtp_destroy(p->srtp);
  p->srtp = NULL;
}

static struct tern_track *track_by_pt(struct tern_peer *p, uint8_t pt) {
  for (int i = 0; i < p->n_tracks; i++)
    if (p->tracks[i].local.pt == pt && !p->tracks[i].rejected)
      return &p->tracks[i];
  return NULL;
}

static struct tern_track *track_by_local_ssrc(struct tern_peer *p, uint32_t ssrc) {
  for (int i = 0; i < p->n_tracks; i++)
    if (p->tracks[i].local.ssrc == ssrc)
      return &p->tracks[i];
  return NULL;
}

/* Keeps a copy of an outgoing video packet (clear text, already rewritten)
 * so a NACK can be answered by protecting it again (libsrtp allows the
 * repeat: allow_repeat_tx). Audio is not cached: a late audio packet is
 * useless to a jitter buffer, and Opus has FEC. */
static void rtx_store(struct tern_track *t, const uint8_t *pkt, size_t len) {
  if (t->local.kind != TERN_TRACK_VIDEO || len > TERN_RTX_MAX_PACKET)
    return;
  if (!t->rtx && !(t->rtx = calloc(1, sizeof *t->rtx)))
    return;
  uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
  unsigned slot = seq % TERN_RTX_SLOTS;
  t->rtx->seq[slot] = seq;
  t->rtx->len[slot] = (uint16_t)len;
  memcpy(t->rtx->buf[slot], pkt, len);
}

static int protect_and_send(struct tern_peer *p, size_t len, bool rtcp);

static void rtx_resend(struct tern_track *t, const uint16_t *seqs, int n) {
  struct tern_peer *p = t->peer;
  t->stats.nacks_in += (uint64_t)n;
  if (!t->rtx)
    return;
  for (int i = 0; i < n; i++) {
    unsigned slot = seqs[i] % TERN_RTX_SLOTS;
    if (t->rtx->len[slot] == 0 || t->rtx->seq[slot] != seqs[i])
      continue; /* too old: the receiver will ask for a keyframe */
    memcpy(p->scratch, t->rtx->buf[slot], t->rtx->len[slot]);
    if (protect_and_send(p, t->rtx->len[slot], false) == 0)
      t->stats.retransmits_out++;
  }
}

/* Acts on the feedback in a compound RTCP packet — NACKs, keyframe requests
 * (PLI, FIR), sender reports; the walk and every length check are rtcp.c's. */
static void handle_rtcp(struct tern_peer *p, const uint8_t *b, size_t len) {
  struct tern_rtcp_iter it;
  struct tern_rtcp_pkt pkt;
  struct tern_rtcp_fb fb;
  struct tern_rtcp_fir_entry fir;
  tern_rtcp_iter_init(&it, b, len);
  while (tern_rtcp_next(&it, &pkt) == 1) {
    struct tern_rtcp_sr sr;
    if (pkt.type == TERN_RTCP_SR && tern_rtcp_parse_sr(&pkt, &sr) == 0) {
      for (int i = 0; i < p->n_tracks; i++)
        if (p->tracks[i].remote_ssrc == sr.ssrc)
          p->tracks[i].stats.sender_reports_in++;
      continue;
    }
    if (pkt.type == TERN_RTCP_RTPFB && tern_rtcp_parse_fb(&pkt, &fb) == 0 &&
        fb.fmt == TERN_RTCP_FMT_NACK) {
      uint16_t lost[64];
      struct tern_track *t = track_by_local_ssrc(p, fb.media_ssrc);
      int n = tern_rtcp_nack_lost(&fb, lost, sizeof lost / sizeof lost[0]);
      if (t && n > 0)
        rtx_resend(t, lost, n);
      continue;
    }
    if (pkt.type != TERN_RTCP_PSFB || tern_rtcp_parse_fb(&pkt, &fb) < 0)
      continue;
    uint32_t ssrc;
    if (fb.fmt == TERN_RTCP_FMT_PLI)
      ssrc = fb.media_ssrc;
    else if (fb.fmt == TERN_RTCP_FMT_FIR && tern_rtcp_fir_entry(&fb, 0, &fir) == 0)
      ssrc = fir.ssrc; /* FIR names the stream in its FCI (RFC 5104 §4.3.1) */
    else
      continue;
    struct tern_track *t = track_by_local_ssrc(p, ssrc);
    if (!t)
      continue;
    t->stats.keyframe_requests_in++;
    if (t->ops && t->ops->keyframe_request)
      t->ops->keyframe_request(t, t->user);
    if (p->closed)
      return;
  }
}

void tern_peer_on_rtp(void *user, const struct sockaddr *from, uint8_t *buf, size_t len) {
  struct tern_peer *p = user;
  (void)from;
  if (p->closed || !p->srtp || len < 12)
    return;
  uint8_t pt = tern_rtp_payload_type(buf);
  if (tern_rtp_is_rtcp(buf, len)) {
    if (tern_srtp_unprotect_rtcp(p->srtp, buf, &len) == 0)
      handle_rtcp(p, buf, len);
    return;
  }
  /* Route on the clear header first: a payload type no track has, or an
   * endless parade of new SSRCs (libsrtp keeps state per SSRC), is dropped
   * before any decryption or allocation. */
  struct tern_track *t = track_by_pt(p, pt);
  if (!t)
    return;
  uint32_t ssrc = tern_rtp_ssrc(buf);
  if (t->remote_ssrc && ssrc != t->remote_ssrc && t->ssrc_changes >= TERN_TRACK_MAX_SSRC_CHANGES)
    return;
  if (tern_srtp_unprotect(p->srtp, buf, &len) < 0)
    return; /* counted in the SRTP stats */
  if (t->remote_ssrc != ssrc) {
    if (t->remote_ssrc)
      t->ssrc_changes++;
    t->remote_ssrc = ssrc;
  }
  t->stats.packets_in++;
  t->stats.bytes_in += len;
  if (t->ops && t->ops->rtp)
    t->ops->rtp(t, t->user, buf, len);
}

static int can_send(const struct tern_track *t) {
  const struct tern_peer *p = t->peer;
  if (p->closed || t->rejected)
    return -EPIPE;
  if (!p->srtp || !p->have_remote_addr)
    return -ENOTCONN;
  if (t->local.dir == TERN_DIR_RECVONLY || t->local.dir == TERN_DIR_INACTIVE)
    return -EPERM;
  return 0;
}


#define SR_INTERVAL_MS 1000
#define NTP_UNIX_OFFSET 2208988800ULL /* seconds from 1900 to 1970 */

/* A compound SR + SDES(CNAME) once a second per sending track, right after
 * a packet so that the NTP time and RTP timestamp describe the same instant
 * (browsers use them for lip sync and round-trip time). Checked on the send
 * path, so an idle track sends none, which RFC 3550 allows. */
static void maybe_send_sr(struct tern_track *t) {
  struct tern_peer *p = t->peer;
  uint64_t now = tern_peer_now_ms(p);
  if (t->last_sr_ms && now - t->last_sr_ms < SR_INTERVAL_MS)
    return;
  t->last_sr_ms = now;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tern_rtcp_sr sr = {
      .ssrc = t->local.ssrc,
      .ntp = ((uint64_t)ts.tv_sec + NTP_UNIX_OFFSET) << 32 |
             (uint64_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000ULL),
      .rtp_ts = t->last_ts_out,
      .packets = (uint32_t)t->stats.packets_out,
      .octets = (uint32_t)t->payload_bytes_out,
  };
  int n = tern_rtcp_write_sr(p->scratch, sizeof p->scratch, &sr);
  if (n < 0)
    return;
  int m = tern_rtcp_write_sdes_cname(p->scratch + n, sizeof p->scratch - (size_t)n,
                                     t->local.ssrc, p->cname, strlen(p->cname));
  if (m > 0)
    protect_and_send(p, (size_t)(n + m), true);
}

static int protect_and_send(struct tern_peer *p, size_t len, bool rtcp) {
  int rc = rtcp ? tern_srtp_protect_rtcp(p->srtp, p->scratch, &len, sizeof p->scratch)
                : tern_srtp_protect(p->srtp, p->scratch, &len, sizeof p->scratch);
  if (rc < 0)
    return rc;
  tern_peer_send_raw(p, p->scratch, len);
  return 0;
}

/* Keeps the outgoing sequence and timestamp continuous across a change of
 * source: the first packet of a new source continues right after the last
 * one sent (one 20 ms audio frame / one 30 fps video frame later), and the
 * new source's own spacing is kept from there (RFC 7667 §3.7, what a
 * switching SFU does). A single source passes through unchanged. */
static void rewrite_forwarded(struct tern_track *t, uint8_t *h) {
  uint32_t ssrc = tern_rtp_ssrc(h);
  uint16_t seq = tern_rtp_seq(h);
  uint32_t ts = tern_rtp_timestamp(h);
  if (!t->fwd_started) {
    t->fwd_started = true;
    t->fwd_src_ssrc = ssrc;
  } else if (ssrc != t->fwd_src_ssrc) {
    uint32_t step = t->local.kind == TERN_TRACK_AUDIO ? 960 : 3000;
    t->fwd_src_ssrc = ssrc;
    t->fwd_seq_delta = (uint16_t)(t->fwd_last_seq + 1 - seq);
    t->fwd_ts_delta = t->fwd_last_ts + step - ts;
  }
  seq = (uint16_t)(seq + t->fwd_seq_delta);
  ts += t->fwd_ts_delta;
  tern_rtp_set_seq(h, seq);
  tern_rtp_set_timestamp(h, ts);
  /* Only move forward: a late packet of the old timeline must not rewind. */
  if ((int16_t)(seq - t->fwd_last_seq) > 0 || t->stats.packets_out == 0) {
    t->fwd_last_seq = seq;
    t->fwd_last_ts = ts;
  }
}

/* The scratch buffer holds a finished clear-text packet of this track: keep
 * it for NACKs, protect, send, count, and add a sender report when due. */
static int send_scratch(struct tern_track *t, size_t len, size_t payload_len) {
  struct tern_peer *p = t->peer;
  t->last_ts_out = tern_rtp_timestamp(p->scratch);
  rtx_store(t, p->scratch, len);
  int rc = protect_and_send(p, len, false);
  if (rc == 0) {
    t->stats.packets_out++;
    t->stats.bytes_out += len;
    t->payload_bytes_out += payload_len;
    maybe_send_sr(t);
  }
  return rc;
}

int tern_track_send_rtp(struct tern_track *t, const uint8_t *pkt, size_t len) {
  struct tern_peer *p = t->peer;
  int rc = can_send(t);
  if (rc < 0)
    return rc;
  if (len < 12 || len + TERN_SRTP_MAX_OVERHEAD > sizeof p->scratch)
    return -EMSGSIZE;
  memcpy(p->scratch, pkt, len);
  rewrite_forwarded(t, p->scratch);
  tern_rtp_set_payload_type(p->scratch, t->local.pt);
  tern_rtp_set_ssrc(p->scratch, t->local.ssrc);
  return send_scratch(t, len, len - 12);
}

int tern_track_send_payload(struct tern_track *t, const uint8_t *payload, size_t len,
                            uint32_t timestamp, bool marker) {
  struct tern_peer *p = t->peer;
  int rc = can_send(t);
  if (rc < 0)
    return rc;
  if (len + 12 + TERN_SRTP_MAX_OVERHEAD > sizeof p->scratch)
    return -EMSGSIZE;
  uint8_t *h = p->scratch;
  h[0] = 0x80; /* V=2, no padding, extension or CSRCs */
  tern_rtp_set_marker(h, marker);
  tern_rtp_set_payload_type(h, t->local.pt);
  tern_rtp_set_seq(h, ++t->seq);
  tern_rtp_set_timestamp(h, timestamp);
  tern_rtp_set_ssrc(h, t->local.ssrc);
  memcpy(h + 12, payload, len);
  return send_scratch(t, len + 12, len);
}

int tern_track_request_retransmit(struct tern_track *t, const uint16_t *seqs, size_t n) {
  struct tern_peer *p = t->peer;
  if (p->closed || !p->srtp || !p->have_remote_addr)
    return -ENOTCONN;
  if (!t->remote_ssrc)
    return -ENOENT;
  int len = tern_rtcp_write_nack(p->scratch, sizeof p->scratch, t->local.ssrc, t->remote_ssrc,
                                 seqs, n);
  return len < 0 ? len : protect_and_send(p, (size_t)len, true);
}

int tern_track_request_keyframe(struct tern_track *t) {
  struct tern_peer *p = t->peer;
  if (p->closed || !p->srtp || !p->have_remote_addr)
    return -ENOTCONN;
  if (!t->remote_ssrc)
    return -ENOENT; /* nothing received yet: nothing to refresh */
  int n = tern_rtcp_write_pli(p->scratch, sizeof p->scratch, t->local.ssrc, t->remote_ssrc);
  int rc = n < 0 ? n : protect_and_send(p, (size_t)n, true);
  if (rc == 0)
    t->stats.keyframe_requests_out++;
  return rc;
}

bool tern_track_is_active(const struct tern_track *t) {
  return t->peer->have_remote && !t->rejected;
}
void tern_track_set_ops(struct tern_track *t, const struct tern_track_ops *ops, void *user) {
  t->ops = ops;
  t->user = user;
}
enum tern_track_kind tern_track_kind(const struct tern_track *t) { return t->local.kind; }
int tern_track_audio_level_ext_id(const struct tern_track *t) { return t->local.ext_audio_level; }
uint32_t tern_track_last_timestamp(const struct tern_track *t) { return t->last_ts_out; }
struct tern_peer *tern_track_peer(const struct tern_track *t) { return t->peer; }
const struct tern_track_stats *tern_track_get_stats(const struct tern_track *t) {
  return &t->stats;
}
