/* dtls — DTLS 1.2 for DTLS-SRTP keying and data channels (OpenSSL 3).
 *
 * One tern_dtls is one peer's DTLS association (RFC 6347) over an ICE
 * transport. It owns no socket and no timer: the owner feeds it received
 * datagrams with tern_dtls_input, gets datagrams to send through ops->send,
 * and drives retransmissions by calling tern_dtls_handle_timeout once its
 * clock reaches tern_dtls_next_timeout. Every "now_ms" is the owner's
 * monotonic clock in milliseconds (e.g. uv_now).
 *
 * WebRTC rules followed (RFC 8827 §6.5, RFC 8826): only DTLS 1.2, ECDHE
 * suites, both sides present certificates; the peer's certificate is accepted
 * whatever its chain, then its digest is compared (hex case-insensitively)
 * with the a=fingerprint from the SDP (RFC 8122). A mismatch aborts the
 * handshake with a fatal alert before our Finished, so neither side ever
 * gets keys: "connected" means handshake done AND fingerprint verified. use_srtp (RFC 5764) offers
 * SRTP_AEAD_AES_128_GCM (RFC 7714) before SRTP_AES128_CM_SHA1_80; keys come
 * from the "EXTRACTOR-dtls_srtp" exporter (RFC 5764 §4.2).
 *
 * Datagrams: every write OpenSSL makes becomes exactly one datagram (a
 * custom BIO). During the handshake OpenSSL buffers a flight and flushes it
 * in writes that fit the MTU (1200 bytes of UDP payload by default): it
 * counts buffered bytes against the MTU and fragments handshake messages, so
 * a datagram holds whole records, several small ones together, never more
 * than the MTU. After the handshake one tern_dtls_send is one record in one
 * datagram. Received datagrams must be whole sequences of DTLS records;
 * others are dropped and counted (stats.bad_records). Datagrams that arrive
 * before tern_dtls_start are kept (up to 4) and processed at start.
 *
 * Timers: OpenSSL 3.0 runs its retransmission timer on the wall clock
 * (gettimeofday) and has no clock hook, so the owner's clock only schedules:
 * next_timeout is "now + what OpenSSL says is left", and a retransmission
 * happens when OpenSSL agrees the time has come. Retransmissions start at
 * 400 ms and double up to 3.2 s; after 6 retransmissions of one flight without
 * progress, or 20 s after start without completion (owner's clock), the
 * handshake fails with reason "timeout".
 *
 * Callbacks: ops->send is called from inside OpenSSL (from start, input,
 * handle_timeout, send and close) and must only copy/queue the datagram — it
 * must not call any tern_dtls function on this object. connected, failed,
 * closed and data are called from start/input/handle_timeout after OpenSSL
 * has returned; they may call tern_dtls_send, tern_dtls_srtp_keying,
 * tern_dtls_close, but must never destroy the object (mark it and destroy it
 * later). failed and closed are reported at most once, and nothing is
 * reported after either.
 *
 * Threads: an object and its context belong to one loop thread; a context
 * may be shared by every connection on that thread.
 */
#ifndef TERN_DTLS_H
#define TERN_DTLS_H

#include <stddef.h>
#include <stdint.h>

#include "dtls/cert.h"

/* RFC 5764 / RFC 7714 SRTP protection profile ids. */
#define TERN_SRTP_AES128_CM_SHA1_80 0x0001
#define TERN_SRTP_AEAD_AES_128_GCM 0x0007

/* Default UDP payload limit: what both browsers assume for DTLS over ICE. */
#define TERN_DTLS_DEFAULT_MTU 1200
/* Larger datagrams are not DTLS from a WebRTC peer: dropped, counted. */
#define TERN_DTLS_MAX_DATAGRAM 8192

struct tern_dtls_ctx;
struct tern_dtls;

/* Tunables of a context; a zero field means the default. */
struct tern_dtls_ctx_opts {
  const char *srtp_profiles;  /* OpenSSL use_srtp list, in preference order */
  unsigned initial_rto_ms;    /* first retransmission timeout: 400 */
  unsigned max_rto_ms;        /* doubling stops here: 3200 */
  unsigned max_retransmits;   /* per flight, then failed("timeout"): 6 */
  unsigned handshake_timeout_ms; /* from start to connected: 20000 */
};

/* One SSL_CTX for every connection of a server (or of a client). Takes its
 * own references to the cert's key and certificate. NULL on failure. */
struct tern_dtls_ctx *tern_dtls_ctx_create(const struct tern_cert *cert);
struct tern_dtls_ctx *tern_dtls_ctx_create_ex(const struct tern_cert *cert,
                                              const struct tern_dtls_ctx_opts *opts);
/* Only after every tern_dtls made from it is destroyed. */
void tern_dtls_ctx_destroy(struct tern_dtls_ctx *ctx);

enum tern_dtls_role { TERN_DTLS_ROLE_CLIENT, TERN_DTLS_ROLE_SERVER };

enum tern_dtls_state {
  TERN_DTLS_NEW,
  TERN_DTLS_CONNECTING,
  TERN_DTLS_CONNECTED,
  TERN_DTLS_FAILED,
  TERN_DTLS_CLOSED,
};

struct tern_dtls_ops {
  void (*send)(void *user, const uint8_t *buf, size_t len); /* one datagram */
  void (*connected)(void *user);          /* handshake done, fingerprint ok */
  void (*failed)(void *user, const char *reason);
  void (*closed)(void *user);             /* peer's close_notify received */
  void (*data)(void *user, const uint8_t *buf, size_t len); /* app data */
};

struct tern_dtls_stats {
  uint64_t datagrams_in, bytes_in;    /* accepted for processing */
  uint64_t datagrams_out, bytes_out;
  uint64_t bad_records;   /* datagrams not framed as DTLS records: dropped */
  uint64_t dropped;       /* well-framed but unusable now: too big, early
                             queue full, after close/failure */
  uint64_t retransmits;   /* flights retransmitted on timeout */
  uint64_t app_in, app_out; /* application data messages */
};

/* remote_fp_alg/value are the SDP a=fingerprint (e.g. "sha-256",
 * "AB:CD:…"); both may be NULL if not known yet, but then
 * tern_dtls_set_remote_fingerprint must be called before start. log_id (may
 * be NULL) is copied and prefixed to log lines. Returns NULL on a malformed
 * fingerprint, an unsupported hash, or out of memory. */
struct tern_dtls *tern_dtls_create(struct tern_dtls_ctx *ctx, enum tern_dtls_role role,
                                   const char *remote_fp_alg, const char *remote_fp_value,
                                   const struct tern_dtls_ops *ops, void *user,
                                   const char *log_id);
/* 0, or -EINVAL for a malformed/unsupported fingerprint, -EBUSY after start. */
int tern_dtls_set_remote_fingerprint(struct tern_dtls *d, const char *alg,
                                     const char *value);
/* UDP payload limit (>= 256), before start: 0, -EINVAL, -EBUSY. */
int tern_dtls_set_mtu(struct tern_dtls *d, size_t mtu);

/* Client: sends the ClientHello. Server: processes any early ClientHello and
 * waits. Fails at once (failed callback) if no remote fingerprint is set. */
void tern_dtls_start(struct tern_dtls *d, uint64_t now_ms);
/* One received datagram (the demultiplexer saw a first byte in 20..63). */
void tern_dtls_input(struct tern_dtls *d, const uint8_t *buf, size_t len, uint64_t now_ms);
/* One application message (an SCTP packet) as one record: 0, -ENOTCONN
 * before connected or after close/failure, -EMSGSIZE above 16384 bytes
 * (keep it within tern_dtls_max_payload to avoid IP fragmentation), -EIO. */
int tern_dtls_send(struct tern_dtls *d, const uint8_t *buf, size_t len);
/* Largest application message that fits one datagram of the MTU with the
 * negotiated cipher (1163 for AES-GCM at MTU 1200); 0 before connected. */
size_t tern_dtls_max_payload(const struct tern_dtls *d);

/* Absolute time (owner's clock) for the next tern_dtls_handle_timeout, or
 * UINT64_MAX when no timer is needed. Changes after every call above. */
uint64_t tern_dtls_next_timeout(const struct tern_dtls *d);
void tern_dtls_handle_timeout(struct tern_dtls *d, uint64_t now_ms);

enum tern_dtls_state tern_dtls_state(const struct tern_dtls *d);
const struct tern_dtls_stats *tern_dtls_get_stats(const struct tern_dtls *d);

struct tern_srtp_keying {
  int profile; /* TERN_SRTP_AEAD_AES_128_GCM or TERN_SRTP_AES128_CM_SHA1_80 */
  uint8_t local_key[16], local_salt[14], remote_key[16], remote_salt[14];
  size_t key_len, salt_len; /* GCM: 16/12, CM: 16/14 */
};
/* Once connected: 0, -ENOTCONN, -ENOENT if the peer negotiated no SRTP
 * profile (data channels only), -ENOTSUP for another profile, -EIO.
 * "local" protects what we send, "remote" what we receive. */
int tern_dtls_srtp_keying(const struct tern_dtls *d, struct tern_srtp_keying *out);

/* Sends close_notify once (if the handshake got that far) and moves to
 * CLOSED; no callback follows. Safe to call in any state. */
void tern_dtls_close(struct tern_dtls *d);
void tern_dtls_destroy(struct tern_dtls *d);

#endif
