/* negotiate — what a peer says in SDP and what it needs from the other side.
 *
 * The SDP model (sdp.h) is a faithful copy of any description; this layer
 * reduces it to the few facts the stack acts on (ICE credentials and
 * candidates, the DTLS fingerprint and role, the SCTP port and message size,
 * which m-lines are accepted) and writes our own offers and answers from
 * the same facts, so peer.c never walks SDP lines. JSEP (RFC 8829) rules
 * applied: BUNDLE on one transport (RFC 8843), rtcp-mux, no trickle
 * (candidates inside, a=end-of-candidates), a=setup per RFC 8842.
 */
#ifndef TERN_NEGOTIATE_H
#define TERN_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TERN_NEG_MAX_CANDIDATES 16
#define TERN_NEG_MAX_MEDIA 16

enum tern_setup { TERN_SETUP_NONE, TERN_SETUP_ACTPASS, TERN_SETUP_ACTIVE, TERN_SETUP_PASSIVE };

enum tern_track_kind { TERN_TRACK_AUDIO, TERN_TRACK_VIDEO };
enum tern_track_dir { TERN_DIR_SENDRECV, TERN_DIR_SENDONLY, TERN_DIR_RECVONLY, TERN_DIR_INACTIVE };

/* One audio or video m-line of ours. Every m-line gets its own payload type
 * so that incoming RTP maps to its transceiver by PT alone (the browser
 * answers with our numbers), whatever the browser does with SSRCs and MIDs. */
struct tern_local_track {
  enum tern_track_kind kind;
  char mid[33];
  enum tern_track_dir dir;
  uint8_t pt;
  uint32_t ssrc; /* what we send with (sendrecv/sendonly) */
  bool stereo;   /* audio: Opus stereo=1; sprop-stereo=1 */
  /* RTP header extension ids (RFC 8285), 0 = not used. In an answer they
   * must be the offer's numbers. */
  uint8_t ext_mid, ext_audio_level;
};

/* Our side of a description. */
struct tern_local_params {
  const char *ice_ufrag, *ice_pwd;
  const char *fingerprint; /* sha-256 value */
  bool ice_lite;
  enum tern_setup setup;
  const struct sockaddr_storage *candidates; /* with the media port */
  int n_candidates;
  uint64_t session_id, session_version;
  bool datachannel; /* offers: add m=application (after the tracks) */
  const struct tern_local_track *tracks;
  int n_tracks;
  const char *cname, *msid_stream; /* for a=ssrc / a=msid of what we send */
  uint16_t sctp_port;
  uint32_t max_message_size;
};

/* What the other side said about one of our tracks' m-lines. */
struct tern_remote_track {
  bool rejected;           /* port 0, or (offers) no codec Tern handles */
  enum tern_track_kind kind;
  char mid[33];
  uint8_t pt;              /* offers: their Opus / VP8 payload type */
  bool stereo;             /* offers: Opus with stereo=1 */
  enum tern_track_dir dir; /* theirs, as written */
  uint32_t ssrc;           /* first a=ssrc, 0 if none */
  uint8_t ext_mid, ext_audio_level; /* offers: their extmap ids, 0 if absent */
};

/* The other side's description, reduced. */
struct tern_remote_params {
  char ice_ufrag[257], ice_pwd[257];
  char fp_alg[16], fp_value[192];
  enum tern_setup setup;
  bool ice_lite;
  bool datachannel; /* an accepted m=application */
  char app_mid[33];
  uint16_t sctp_port;
  uint32_t max_message_size; /* 65536 when absent (RFC 8841 §6.1) */
  struct sockaddr_storage candidates[TERN_NEG_MAX_CANDIDATES];
  uint32_t priorities[TERN_NEG_MAX_CANDIDATES];
  int n_candidates;
  /* Answers: per track of our offer, in order. Offers: per audio/video
   * m-line of theirs, in order. */
  struct tern_remote_track tracks[TERN_NEG_MAX_MEDIA];
  int n_tracks;
};

struct tern_sdp;

/* Writes an offer. Returns its length or a negative error. */
int tern_negotiate_write_offer(const struct tern_local_params *l, char *buf, size_t cap,
                               char *err, size_t errcap);
/* Parses and checks a remote description. For an answer, our offer is given
 * so the m-lines can be matched to it. On success *parsed (heap, free()) is
 * kept for writing an answer. */
int tern_negotiate_read(const char *sdp, size_t len, bool is_answer, const char *our_offer,
                        struct tern_remote_params *out, struct tern_sdp **parsed, char *err,
                        size_t errcap);
/* Writes an answer to a parsed offer: the data channel m-line and every
 * audio/video m-line with a local track of the same mid are accepted (with
 * only the codec we use), anything else rejected (port 0). */
int tern_negotiate_write_answer(const struct tern_local_params *l, const struct tern_sdp *offer,
                                char *buf, size_t cap, char *err, size_t errcap);

#endif
