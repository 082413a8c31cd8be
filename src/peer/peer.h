/* peer — one WebRTC peer connection: the face apps use.
 *
 * A peer composes the protocol layers, each of which owns no socket or timer:
 *
 *   transport ─► ICE agent (STUN)                      consent, nomination
 *             └► DTLS ─► SCTP ─► data channels         (RFC 8831/8832)
 *
 * It is symmetric: the server role is an ICE-lite controlled agent; the
 * client role (tests, the load generator) is a controlling agent. Either can
 * offer or answer; the DTLS role follows a=setup (RFC 8842): the answerer to
 * "actpass" picks "active" as a client and "passive" as the server, so an
 * ICE-lite server never has to initiate a handshake towards an address it
 * only learns from the client's checks.
 *
 * Lifetime: created by an owner (a REST connection, a Beep client, a test);
 * tern_peer_close() stops every callback at once and frees the peer at the
 * end of the loop iteration (it owns a uv_timer_t). Callbacks may call
 * tern_peer_close() on their own peer.
 */
#ifndef TERN_PEER_H
#define TERN_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "ice/ice.h"
#include "sctp/datachannel.h"
#include "sdp/negotiate.h"

struct tern_transport;
struct tern_dtls_ctx;
struct tern_sctp_stack;
struct tern_iplimit;

#define TERN_PEER_MAX_CANDIDATES 8

/* Shared by every peer on one loop; owned by the server (or a test). */
struct tern_peer_env {
  uv_loop_t *loop;
  struct tern_transport *transport;
  struct tern_dtls_ctx *dtls;
  const char *fingerprint; /* sha-256 of the DTLS certificate */
  struct tern_sctp_stack *sctp;
  /* Addresses announced as host candidates (ANNOUNCED_IP or the interfaces). */
  struct sockaddr_storage candidates[TERN_PEER_MAX_CANDIDATES];
  int n_candidates;
  uint32_t consent_timeout_ms;    /* ICE: disconnected after this much silence */
  uint32_t handshake_timeout_ms;  /* DTLS must finish within this once ICE is up */
  uint64_t peers_created, peers_live; /* counters for /metrics */
  uint64_t peers_allocated; /* closed but not yet freed ones too: the shared
                               pieces must outlive every peer */
  struct tern_iplimit *per_ip; /* MAX_PEERS_PER_IP, kept by the peer's owners */
};

enum tern_peer_state { /* RTCPeerConnectionState */
  TERN_PEER_NEW,
  TERN_PEER_CONNECTING,
  TERN_PEER_CONNECTED,
  TERN_PEER_DISCONNECTED,
  TERN_PEER_FAILED,
  TERN_PEER_CLOSED,
};

enum tern_signaling_state {
  TERN_SIGNALING_STABLE,
  TERN_SIGNALING_HAVE_LOCAL_OFFER,
  TERN_SIGNALING_HAVE_REMOTE_OFFER,
  TERN_SIGNALING_CLOSED,
};

enum tern_sdp_type { TERN_SDP_OFFER, TERN_SDP_ANSWER };

struct tern_peer;
struct tern_track;

struct tern_peer_ops {
  void (*ice_state)(struct tern_peer *p, void *user, enum tern_ice_state s);
  void (*state)(struct tern_peer *p, void *user, enum tern_peer_state s);
  /* The remote side opened a data channel; set its ops in here. */
  void (*datachannel)(struct tern_peer *p, void *user, struct tern_dc *dc);
  /* A remote offer made a transceiver (like RTCPeerConnection.ontrack, but
   * at setRemoteDescription time): set its ops with tern_track_set_ops. */
  void (*track)(struct tern_peer *p, void *user, struct tern_track *t);
};

struct tern_peer *tern_peer_create(struct tern_peer_env *env, bool controlling,
                                   const struct tern_peer_ops *ops, void *user,
                                   const char *id);
void tern_peer_close(struct tern_peer *p);

/* JSEP, simplified: one offer/answer exchange, gathering is instant (host
 * candidates only) so descriptions are complete when these return.
 * On failure err holds a reason fit for an HTTP 400 body. */
int tern_peer_create_offer(struct tern_peer *p, char *err, size_t errcap);
int tern_peer_create_answer(struct tern_peer *p, char *err, size_t errcap);
int tern_peer_set_remote_description(struct tern_peer *p, enum tern_sdp_type type,
                                     const char *sdp, size_t len, char *err,
                                     size_t errcap);

/* Client role only: where to send checks (the server's candidates are taken
 * from its description automatically; this adds more). */
const char *tern_peer_local_description(const struct tern_peer *p);
const char *tern_peer_remote_description(const struct tern_peer *p);
enum tern_sdp_type tern_peer_local_type(const struct tern_peer *p);
enum tern_sdp_type tern_peer_remote_type(const struct tern_peer *p);

/* Data channels created before the offer put an m=application in it. */
struct tern_dc *tern_peer_create_datachannel(struct tern_peer *p,
                                             const struct tern_dc_init *init,
                                             const struct tern_dc_ops *ops, void *user);

/* ---- media: one transceiver per audio/video m-line ----------------------
 *
 * Tracks are added before the offer (the server offers them, with Opus for
 * audio and VP8 for video). Incoming RTP is decrypted and handed to the
 * track whose payload type it carries; RTCP keyframe requests (PLI/FIR) for
 * what we send come to keyframe_request. Sending needs the SRTP keys, so
 * nothing is sent before the peer is connected (tern_track_send_* return
 * -ENOTCONN then). */
struct tern_track_ops {
  /* One decrypted RTP packet; the buffer is valid during the call only. */
  void (*rtp)(struct tern_track *t, void *user, const uint8_t *pkt, size_t len);
  /* The remote side asked (PLI or FIR) for a keyframe of what we send. */
  void (*keyframe_request)(struct tern_track *t, void *user);
};
struct tern_track_init {
  enum tern_track_kind kind;
  enum tern_track_dir dir; /* ours: sendrecv, sendonly, recvonly */
  bool stereo;             /* audio: offer stereo Opus */
};
struct tern_track_stats {
  uint64_t packets_in, bytes_in, packets_out, bytes_out;
  uint64_t keyframe_requests_in, keyframe_requests_out;
  uint64_t sender_reports_in;
  uint64_t nacks_in, retransmits_out; /* lost packets asked for, and resent */
};
struct tern_track *tern_peer_add_track(struct tern_peer *p, const struct tern_track_init *init,
                                       const struct tern_track_ops *ops, void *user);
/* Forwards an RTP packet: our SSRC and payload type replace the packet's;
 * sequence number, timestamp, marker and extensions are kept. */
int tern_track_send_rtp(struct tern_track *t, const uint8_t *pkt, size_t len);
/* Originates a packet: header built here (our SSRC, PT, next sequence). */
int tern_track_send_payload(struct tern_track *t, const uint8_t *payload, size_t len,
                            uint32_t timestamp, bool marker);
/* Asks the sender of what we receive on this track to resend these
 * sequence numbers (generic NACK). */
int tern_track_request_retransmit(struct tern_track *t, const uint16_t *seqs, size_t n);
/* Sends a PLI for the stream we receive on this track. */
int tern_track_request_keyframe(struct tern_track *t);
bool tern_track_is_active(const struct tern_track *t); /* negotiated, not rejected */
void tern_track_set_ops(struct tern_track *t, const struct tern_track_ops *ops, void *user);
enum tern_track_kind tern_track_kind(const struct tern_track *t);
/* The negotiated id of the ssrc-audio-level extension (RFC 6464), 0 if none. */
int tern_track_audio_level_ext_id(const struct tern_track *t);
/* The RTP timestamp of the last packet sent: a new source of payloads on the
 * same track (another conversation) continues the timeline from here, since
 * a receiver drops packets whose timestamps jump backwards. */
uint32_t tern_track_last_timestamp(const struct tern_track *t);
struct tern_peer *tern_track_peer(const struct tern_track *t);
const struct tern_track_stats *tern_track_get_stats(const struct tern_track *t);

const char *tern_peer_id(const struct tern_peer *p);
enum tern_ice_state tern_peer_ice_state(const struct tern_peer *p);
enum tern_peer_state tern_peer_state(const struct tern_peer *p);
enum tern_signaling_state tern_peer_signaling_state(const struct tern_peer *p);
const char *tern_peer_state_name(enum tern_peer_state s);
const char *tern_signaling_state_name(enum tern_signaling_state s);
const char *tern_sdp_type_name(enum tern_sdp_type t);

#endif
