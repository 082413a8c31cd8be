/* sdp — the SDP model, parser and writer for WebRTC session descriptions.
 *
 * `struct tern_sdp` is a plain value: fixed-size arrays and char buffers, no
 * pointers (not even into the parsed text), so it can be copied with memcpy
 * and freed with one free(). A zeroed struct (memset 0 or tern_sdp_init) is a
 * valid empty description; fill it by hand or with the tern_sdp_add_* helpers
 * and serialise it with tern_sdp_write.
 *
 * Parsing is strict about what the server relies on (ICE credentials, DTLS
 * fingerprint, payload types, ports) and lenient about the rest: unknown
 * lines and attributes are skipped. Errors carry one human-readable reason
 * (it becomes the body of an HTTP 400 / a WebSocket close reason), e.g.
 * "line 7: a=fingerprint: unknown hash 'md5'".
 *
 * Caps: structural overflow (too many m= lines) is a parse error naming the
 * cap; optional overflow (codecs, rtcp-fb, extmaps, candidates, ssrcs, ssrc
 * groups, extra fingerprints) is dropped and counted in `tern_sdp.dropped`.
 * A string longer than its buffer is an error naming the attribute.
 * sizeof(struct tern_sdp) is about 460 KiB: allocate it on the heap, parse,
 * keep what you need; do not keep one per peer on a hot path.
 *
 * RFCs: 8866 (SDP), 8829 (JSEP), 8839 (ICE SDP), 8843 (BUNDLE), 8122 and
 * 8842 (fingerprint/setup), 8841 (SCTP over DTLS SDP), 8285 (extmap),
 * 4585 (rtcp-fb), 5576 (ssrc), 8830 (msid), 5761 (rtcp-mux), 5506 (rsize).
 * See docs/sdp.md.
 */
#ifndef TERN_SDP_H
#define TERN_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Input limits. */
#define TERN_SDP_MAX_INPUT 65536 /* bytes of SDP text */
#define TERN_SDP_MAX_LINE 1024   /* bytes per line, without CRLF */

/* Counts. */
#define TERN_SDP_MAX_MEDIA 16          /* structural: beyond is an error */
#define TERN_SDP_MAX_CODECS 32         /* per m-line; beyond: dropped */
#define TERN_SDP_MAX_RTCP_FB 8         /* per codec; beyond: dropped */
#define TERN_SDP_MAX_EXTMAPS 16        /* per m-line; beyond: dropped */
#define TERN_SDP_MAX_SSRCS 8           /* per m-line; beyond: dropped */
#define TERN_SDP_MAX_SSRC_GROUPS 4     /* per m-line; beyond: dropped */
#define TERN_SDP_MAX_GROUP_SSRCS 4     /* per ssrc-group; beyond: dropped */
#define TERN_SDP_MAX_CANDIDATES 16     /* per m-line; beyond: dropped */

/* String buffer sizes, NUL included (so the longest value is one less). */
#define TERN_SDP_UFRAG_LEN 257       /* RFC 8839: 4..256 ice-chars */
#define TERN_SDP_PWD_LEN 257         /* RFC 8839: 22..256 ice-chars */
#define TERN_SDP_ICE_OPTIONS_LEN 64
#define TERN_SDP_FP_ALG_LEN 8        /* "sha-256" */
#define TERN_SDP_FP_VALUE_LEN 192    /* 64 bytes as "XX:" * 64 - 1 */
#define TERN_SDP_FP_MAX_BYTES 64
#define TERN_SDP_MID_LEN 33
#define TERN_SDP_ADDR_LEN 64         /* IPv4, IPv6 or an mDNS/FQDN name */
#define TERN_SDP_KIND_LEN 16
#define TERN_SDP_PROTO_LEN 32
#define TERN_SDP_FMT_LEN 64          /* non-RTP fmt list, e.g. "webrtc-datachannel" */
#define TERN_SDP_CODEC_NAME_LEN 32
#define TERN_SDP_FMTP_LEN 256
#define TERN_SDP_RTCP_FB_LEN 32      /* "nack pli", "goog-remb", ... */
#define TERN_SDP_URI_LEN 128
#define TERN_SDP_ID_LEN 65           /* msid stream/track ids, cname: 1..64 */
#define TERN_SDP_SEMANTICS_LEN 16    /* ssrc-group semantics: FID, SIM, FEC-FR */
#define TERN_SDP_MSID_SEMANTIC_LEN 256
#define TERN_SDP_FOUNDATION_LEN 33   /* RFC 8839: 1..32 ice-chars */
#define TERN_SDP_TRANSPORT_LEN 8
#define TERN_SDP_CAND_TYPE_LEN 8
#define TERN_SDP_CAND_RAW_LEN 256

enum tern_sdp_kind {
  TERN_SDP_KIND_AUDIO = 0,
  TERN_SDP_KIND_VIDEO,
  TERN_SDP_KIND_APPLICATION,
  TERN_SDP_KIND_OTHER, /* see tern_sdp_media.kind_str */
};

/* sendrecv is 0 so a zeroed struct means the SDP default. */
enum tern_sdp_dir {
  TERN_SDP_DIR_SENDRECV = 0,
  TERN_SDP_DIR_SENDONLY,
  TERN_SDP_DIR_RECVONLY,
  TERN_SDP_DIR_INACTIVE,
};

enum tern_sdp_setup {
  TERN_SDP_SETUP_NONE = 0, /* attribute absent */
  TERN_SDP_SETUP_ACTPASS,
  TERN_SDP_SETUP_ACTIVE,
  TERN_SDP_SETUP_PASSIVE,
  TERN_SDP_SETUP_HOLDCONN,
};

/* a=fingerprint (RFC 8122). alg is lower-case ("sha-256"); value is the
 * upper-case colon-separated hex as written on the wire. Empty alg = absent. */
struct tern_sdp_fingerprint {
  char alg[TERN_SDP_FP_ALG_LEN];
  char value[TERN_SDP_FP_VALUE_LEN];
};

/* One payload type of an RTP m-line: from the m= fmt list, completed by
 * a=rtpmap / a=fmtp / a=rtcp-fb (in any order; "a=rtcp-fb:*" is copied to
 * every codec). A static payload type without rtpmap gets its RFC 3551 name.
 * channels is 0 when rtpmap gave none (which means 1). */
struct tern_sdp_codec {
  uint8_t pt;
  char name[TERN_SDP_CODEC_NAME_LEN];
  uint32_t clock_rate;
  uint8_t channels;
  char fmtp[TERN_SDP_FMTP_LEN];
  unsigned rtcp_fb_count;
  char rtcp_fb[TERN_SDP_MAX_RTCP_FB][TERN_SDP_RTCP_FB_LEN];
};

/* a=extmap:<id>[/<direction>] <uri> (RFC 8285). Extension attributes after
 * the URI are not kept. */
struct tern_sdp_extmap {
  uint16_t id; /* 1..255 */
  bool has_direction;
  enum tern_sdp_dir direction;
  char uri[TERN_SDP_URI_LEN];
};

/* The a=ssrc lines of one SSRC (RFC 5576); only cname and msid are kept,
 * and an SSRC is recorded when one of those two is given. */
struct tern_sdp_ssrc {
  uint32_t ssrc;
  char cname[TERN_SDP_ID_LEN];
  char msid_stream[TERN_SDP_ID_LEN];
  char msid_track[TERN_SDP_ID_LEN];
};

struct tern_sdp_ssrc_group {
  char semantics[TERN_SDP_SEMANTICS_LEN]; /* "FID", "SIM", ... */
  unsigned ssrc_count;
  uint32_t ssrcs[TERN_SDP_MAX_GROUP_SSRCS];
};

/* a=candidate (RFC 8839 §5.1). raw is the attribute value ("candidate:...",
 * without "a="), exactly as received. The writer emits raw when it is set,
 * otherwise it formats the fields; so when editing a parsed candidate, clear
 * raw. Extensions (raddr, tcptype, generation, ...) live only in raw. */
struct tern_sdp_candidate {
  char foundation[TERN_SDP_FOUNDATION_LEN];
  uint16_t component;
  char transport[TERN_SDP_TRANSPORT_LEN]; /* as written: "udp", "UDP", "tcp" */
  uint32_t priority;
  char address[TERN_SDP_ADDR_LEN];
  uint16_t port;
  char type[TERN_SDP_CAND_TYPE_LEN]; /* host, srflx, prflx, relay */
  char raw[TERN_SDP_CAND_RAW_LEN];
};

struct tern_sdp_media {
  enum tern_sdp_kind kind;
  char kind_str[TERN_SDP_KIND_LEN]; /* as written ("audio", ...) */
  uint16_t port;
  bool rejected;    /* port 0 without a=bundle-only */
  bool bundle_only; /* RFC 8843 a=bundle-only */
  char proto[TERN_SDP_PROTO_LEN]; /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" */
  /* fmt list of a non-RTP m-line. For RTP protos the formats are
   * codecs[].pt (the writer derives the m= fmt list from them). */
  char fmt[TERN_SDP_FMT_LEN];
  char c_addr[TERN_SDP_ADDR_LEN]; /* c= address; IP6 when it has a ':' */

  uint16_t rtcp_port; /* a=rtcp; 0 = absent */
  char rtcp_addr[TERN_SDP_ADDR_LEN];

  char mid[TERN_SDP_MID_LEN];
  bool has_direction;
  enum tern_sdp_dir direction;
  bool rtcp_mux;
  bool rtcp_rsize;
  bool extmap_allow_mixed;

  /* Transport: empty = not given at media level (see the lookup helpers). */
  char ice_ufrag[TERN_SDP_UFRAG_LEN];
  char ice_pwd[TERN_SDP_PWD_LEN];
  char ice_options[TERN_SDP_ICE_OPTIONS_LEN];
  struct tern_sdp_fingerprint fingerprint;
  enum tern_sdp_setup setup;

  uint16_t sctp_port; /* 0 = absent */
  bool has_max_message_size;
  uint64_t max_message_size; /* RFC 8841: 0 means "no limit" */

  unsigned codec_count;
  struct tern_sdp_codec codecs[TERN_SDP_MAX_CODECS];
  unsigned extmap_count;
  struct tern_sdp_extmap extmaps[TERN_SDP_MAX_EXTMAPS];

  char msid_stream[TERN_SDP_ID_LEN]; /* a=msid:<stream> [<track>] */
  char msid_track[TERN_SDP_ID_LEN];
  unsigned ssrc_count;
  struct tern_sdp_ssrc ssrcs[TERN_SDP_MAX_SSRCS];
  unsigned ssrc_group_count;
  struct tern_sdp_ssrc_group ssrc_groups[TERN_SDP_MAX_SSRC_GROUPS];

  unsigned candidate_count;
  struct tern_sdp_candidate candidates[TERN_SDP_MAX_CANDIDATES];
  bool end_of_candidates;
};

/* What the parser dropped because a cap was reached. */
struct tern_sdp_dropped {
  unsigned codecs, rtcp_fbs, extmaps, ssrcs, ssrc_groups, group_ssrcs;
  unsigned candidates, fingerprints;
};

struct tern_sdp {
  uint64_t session_id;      /* o= <sess-id> */
  uint64_t session_version; /* o= <sess-version> */
  char origin_addr[TERN_SDP_ADDR_LEN]; /* o= address; writer default 127.0.0.1 */
  char c_addr[TERN_SDP_ADDR_LEN];      /* session-level c=, if any */

  bool ice_lite;
  char ice_ufrag[TERN_SDP_UFRAG_LEN];
  char ice_pwd[TERN_SDP_PWD_LEN];
  char ice_options[TERN_SDP_ICE_OPTIONS_LEN];
  struct tern_sdp_fingerprint fingerprint;
  enum tern_sdp_setup setup;
  bool has_direction; /* Firefox puts a=sendrecv at session level */
  enum tern_sdp_dir direction;
  bool extmap_allow_mixed;

  unsigned bundle_count; /* a=group:BUNDLE; bundle_mids[0] is the tag */
  char bundle_mids[TERN_SDP_MAX_MEDIA][TERN_SDP_MID_LEN];
  char msid_semantic[TERN_SDP_MSID_SEMANTIC_LEN]; /* "WMS", "WMS *", ... */

  unsigned media_count;
  struct tern_sdp_media media[TERN_SDP_MAX_MEDIA];

  struct tern_sdp_dropped dropped;
};

/* Zeroes s (a valid, empty description). */
void tern_sdp_init(struct tern_sdp *s);

/* Parses len bytes of text (need not be NUL-terminated; never read past len)
 * into *out (overwritten, also on error). Returns 0, or -EINVAL with a reason
 * in err ("line N: ..." when tied to a line), -E2BIG when the input or the
 * m= line count exceeds a cap. err may be NULL; it is always NUL-terminated
 * when errcap > 0. Checks beyond syntax: at least one m= line, every
 * non-rejected m= line has a mid and (at some level) ice-ufrag, ice-pwd and
 * a fingerprint, mids are unique, BUNDLE names only existing mids; and
 * exactly one o= line. Round trip: for any SDP this accepts that has a c=
 * line for every m-line (session or media level) and dropped nothing,
 * parse(write(parse(x))) is memcmp-equal to parse(x) (the parser zero-fills
 * every unused byte). */
int tern_sdp_parse(const char *text, size_t len, struct tern_sdp *out,
                   char *err, size_t errcap);

/* Writes s as SDP text with CRLF line endings into buf and NUL-terminates
 * it. Returns the length (without the NUL), -ENOSPC when cap is too small,
 * -EINVAL when a string field holds a control character other than TAB (it
 * could inject lines) or a count exceeds its cap. An m-line without c= gets
 * "c=IN IP4 0.0.0.0" unless the session has a c=; an empty origin_addr is
 * written as 127.0.0.1; a non-RTP m-line without fmt gets
 * "webrtc-datachannel" (application) or "-". */
int tern_sdp_write(const struct tern_sdp *s, char *buf, size_t cap);

/* Transport lookups: the media-level value, else (for a bundled m-line) the
 * BUNDLE tag's m-line value, else the session-level value. Strings are ""
 * when absent (never NULL); fingerprint returns NULL when absent. */
const char *tern_sdp_media_ice_ufrag(const struct tern_sdp *s,
                                     const struct tern_sdp_media *m);
const char *tern_sdp_media_ice_pwd(const struct tern_sdp *s,
                                   const struct tern_sdp_media *m);
const struct tern_sdp_fingerprint *
tern_sdp_media_fingerprint(const struct tern_sdp *s,
                           const struct tern_sdp_media *m);
enum tern_sdp_setup tern_sdp_media_setup(const struct tern_sdp *s,
                                         const struct tern_sdp_media *m);
/* Media-level direction, else session-level, else sendrecv. */
enum tern_sdp_dir tern_sdp_media_direction(const struct tern_sdp *s,
                                           const struct tern_sdp_media *m);

const struct tern_sdp_media *tern_sdp_find_mid(const struct tern_sdp *s,
                                               const char *mid);
/* First codec with that encoding name (case-insensitive); clock_rate 0 and
 * channels 0 match any; a codec without channels counts as 1. */
const struct tern_sdp_codec *tern_sdp_find_codec(const struct tern_sdp_media *m,
                                                 const char *name,
                                                 uint32_t clock_rate,
                                                 unsigned channels);
bool tern_sdp_is_bundled(const struct tern_sdp *s, const char *mid);
bool tern_sdp_codec_has_fb(const struct tern_sdp_codec *c, const char *fb);

/* Fingerprint value <-> bytes. bytes returns the digest length or -EINVAL;
 * set formats "XX:XX:..." and returns 0, or -EINVAL for an unknown alg or a
 * length that does not match it. Known algs: sha-1, sha-224, sha-256,
 * sha-384, sha-512. */
int tern_sdp_fingerprint_bytes(const struct tern_sdp_fingerprint *fp,
                               uint8_t *out, size_t cap);
int tern_sdp_fingerprint_set(struct tern_sdp_fingerprint *fp, const char *alg,
                             const uint8_t *digest, size_t len);

/* Builders for hand-made descriptions. Strings are copied; each returns
 * NULL / -ENOSPC when the array is full and -E2BIG (or NULL) when a string
 * does not fit. add_media zeroes the slot and sets kind, kind_str, mid, the
 * WebRTC proto for the kind, fmt "webrtc-datachannel" for application, and
 * rtcp-mux for audio/video; it also appends mid to the BUNDLE group. */
struct tern_sdp_media *tern_sdp_add_media(struct tern_sdp *s,
                                          enum tern_sdp_kind kind,
                                          const char *mid);
struct tern_sdp_codec *tern_sdp_add_codec(struct tern_sdp_media *m, uint8_t pt,
                                          const char *name,
                                          uint32_t clock_rate,
                                          unsigned channels, const char *fmtp);
int tern_sdp_add_rtcp_fb(struct tern_sdp_codec *c, const char *fb);
int tern_sdp_add_extmap(struct tern_sdp_media *m, uint16_t id,
                        const char *uri);
/* Fills the fields and raw ("candidate:<foundation> <component> ..."). */
int tern_sdp_add_candidate(struct tern_sdp_media *m, const char *foundation,
                           uint16_t component, const char *transport,
                           uint32_t priority, const char *address,
                           uint16_t port, const char *type);
/* Copies src into a char[cap] field; -E2BIG if it does not fit. */
int tern_sdp_set_str(char *dst, size_t cap, const char *src);

const char *tern_sdp_kind_name(enum tern_sdp_kind kind);
const char *tern_sdp_dir_name(enum tern_sdp_dir dir);
const char *tern_sdp_setup_name(enum tern_sdp_setup setup);

#endif
