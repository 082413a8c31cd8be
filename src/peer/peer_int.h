/* peer_int — the inside of struct tern_peer, shared by peer.c (signalling,
 * ICE, DTLS, data channels) and track.c (SRTP, RTP/RTCP, transceivers).
 * Nothing outside src/peer includes this. */
#ifndef TERN_PEER_INT_H
#define TERN_PEER_INT_H

#include "dtls/dtls.h"
#include "net/transport.h"
#include "peer/peer.h"
#include "sdp/negotiate.h"

#define SCTP_PORT 5000
/* What we accept per message; the browsers send up to 256 KiB (Chromium)
 * and tests send 1 MiB, so take a little more. */
#define MAX_MESSAGE_SIZE ((1u << 20) + 65536)
#define SDP_CAP 16384
#define MAX_BOUND 8 /* remote addresses that passed a check, or that we check */

#define TERN_PEER_MAX_TRACKS 8
#define TERN_TRACK_MAX_SSRC_CHANGES 16
/* Video we send is kept this many packets back for NACKs (RFC 4585 §6.2.1):
 * ~0.6 s at 1 Mbit/s, enough for a LAN or a continent's round trip. */
#define TERN_RTX_SLOTS 64
#define TERN_RTX_MAX_PACKET 1300

struct tern_rtx_cache {
  uint16_t seq[TERN_RTX_SLOTS];
  uint16_t len[TERN_RTX_SLOTS]; /* 0 = empty */
  uint8_t buf[TERN_RTX_SLOTS][TERN_RTX_MAX_PACKET];
};
#define TERN_PEER_EARLY_DTLS 4
#define TERN_PEER_EARLY_DTLS_MAX 1500
#define TERN_PEER_SCRATCH 1600

struct tern_track {
  struct tern_peer *peer;
  struct tern_local_track local; /* mid, our payload type and SSRC, direction */
  const struct tern_track_ops *ops;
  void *user;
  bool rejected;       /* the answer said port 0 */
  uint32_t remote_ssrc; /* from the answer, else the first packet */
  unsigned ssrc_changes; /* the sender restarted its stream; bounded */
  struct tern_rtx_cache *rtx; /* video we send, for NACKs; made on first use */
  uint16_t seq;        /* for packets we originate */
  struct tern_track_stats stats;
  /* Forwarding (tern_track_send_rtp): the outgoing stream stays one
   * continuous sequence/timeline when its source changes (a new
   * broadcaster): offsets are re-based at each switch. */
  bool fwd_started;
  uint32_t fwd_src_ssrc;
  uint16_t fwd_seq_delta, fwd_last_seq;
  uint32_t fwd_ts_delta, fwd_last_ts;
  /* Sender reports for what we send (RFC 3550 §6.4.1). */
  uint64_t last_sr_ms;
  uint32_t last_ts_out;
  uint64_t payload_bytes_out;
};

struct tern_peer {
  struct tern_peer_env *env;
  char id[40];
  const struct tern_peer_ops *ops;
  void *user;
  bool controlling;
  bool closed;

  struct tern_transport_endpoint ep;
  struct tern_ice_agent *ice;
  struct tern_dtls *dtls;
  struct tern_dc_set *dcs;
  uv_timer_t timer;

  enum tern_ice_state ice_state;
  enum tern_peer_state state;
  enum tern_signaling_state sig;

  char *local_sdp, *remote_sdp;
  enum tern_sdp_type local_type, remote_type;
  struct tern_sdp *remote_offer; /* kept until we answer it */
  struct tern_remote_params remote;
  bool have_remote;
  enum tern_dtls_role dtls_role;
  bool dtls_started;
  uint64_t dtls_deadline; /* the handshake must end by then, once ICE is up */
  uint64_t session_id, session_version;

  /* Where DTLS goes: the nominated address, or until then the latest
   * address that passed a check (browsers start DTLS before nominating). */
  struct sockaddr_storage remote_addr;
  bool have_remote_addr;
  struct sockaddr_storage bound[MAX_BOUND];
  int n_bound;

  /* DTLS that arrives before the answer does (the client checked, ICE-lite
   * answered, the ClientHello raced the HTTP POST of the answer): kept and
   * replayed once the DTLS session exists, instead of costing the client a
   * 400 ms+ retransmission. Bounded: a few datagrams, allocated only then. */
  struct early_dtls {
    uint16_t len[TERN_PEER_EARLY_DTLS];
    uint8_t buf[TERN_PEER_EARLY_DTLS][TERN_PEER_EARLY_DTLS_MAX];
    int n;
  } *early;

  /* Media (track.c): transceivers in m-line order, SRTP once DTLS is up. */
  struct tern_track tracks[TERN_PEER_MAX_TRACKS];
  int n_tracks;
  struct tern_srtp *srtp;
  char cname[17];
  uint8_t scratch[TERN_PEER_SCRATCH]; /* one packet being protected */
};


/* track.c, called by peer.c */
void tern_peer_tracks_local(struct tern_peer *p, struct tern_local_track *out);
void tern_peer_tracks_apply_answer(struct tern_peer *p);
void tern_peer_tracks_from_offer(struct tern_peer *p); /* JSEP: an offer makes transceivers */
int tern_peer_media_start(struct tern_peer *p); /* DTLS connected: SRTP keys */
void tern_peer_media_free(struct tern_peer *p);
void tern_peer_on_rtp(void *user, const struct sockaddr *from, uint8_t *buf, size_t len);
uint64_t tern_peer_now_ms(const struct tern_peer *p);
void tern_peer_send_raw(struct tern_peer *p, const uint8_t *buf, size_t len);

#endif
