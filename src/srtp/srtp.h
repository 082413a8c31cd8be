/* srtp — SRTP/SRTCP protection of one peer's media (libsrtp2).
 *
 * One tern_srtp protects what a peer sends and unprotects what it receives,
 * keyed from the DTLS-SRTP exporter (RFC 5764 §4.2, see dtls.h:
 * tern_dtls_srtp_keying). Two profiles: AEAD_AES_128_GCM (RFC 7714, 16-byte
 * tag; preferred) and AES_CM_128_HMAC_SHA1_80 (RFC 3711, 10-byte tag). Inside
 * are two libsrtp sessions: the outbound one keyed with the local key/salt
 * under an ssrc_any_outbound policy, the inbound one with the remote key/salt
 * under ssrc_any_inbound (libsrtp allows one wildcard template per session,
 * so a session cannot hold both). A new SSRC therefore needs no setup: libsrtp
 * clones the template the first time it sees that SSRC — inbound only after
 * the packet authenticated, so an attacker without the key cannot make it
 * allocate.
 *
 * Per packet: no allocation (except that one clone per new SSRC), no lock,
 * no log. Every failure is counted in the stats and returned; nothing a peer
 * sends can crash it.
 *
 * Replay protection (RFC 3711 §3.3.2) is on for SRTP and SRTCP. The SRTP
 * replay window is 1024 packets by default instead of libsrtp's 128: video
 * sent in bursts (a keyframe is tens of packets) and reordered by the network
 * must not be mistaken for replays. SRTCP uses libsrtp's fixed 128-entry
 * window. Outbound, repeating a sequence number is allowed (allow_repeat_tx)
 * so that a NACKed packet can be resent unchanged on its own SSRC.
 *
 * Buffers: protect works in place and appends the trailer (auth tag, plus the
 * 4-byte SRTCP index for RTCP): `cap` must leave room for
 * tern_srtp_rtp_overhead / tern_srtp_rtcp_overhead bytes after `*len`.
 * Unprotect works in place and shrinks *len.
 *
 * Process-wide state: libsrtp keeps a crypto kernel in globals, set up by
 * srtp_init() and torn down by srtp_shutdown(); neither is thread-safe nor
 * idempotent, and srtp_shutdown() pulls the kernel from under live sessions.
 * So both are wrapped in a mutex-protected reference count: every tern_srtp
 * holds a reference, and the first reference calls srtp_init(). Initialising
 * costs ≈ 46 ms here (libsrtp self-tests every cipher, on NSS), so a server
 * should hold its own reference (tern_srtp_library_ref) for its whole life;
 * otherwise the first session after the last one closed pays it again. The
 * mutex is taken only in create/destroy/ref/unref, never per packet.
 *
 * Threads: one tern_srtp belongs to one thread at a time; different objects
 * may be used on different threads.
 *
 * RFCs: 3711 (SRTP), 7714 (AES-GCM for SRTP), 5764 (DTLS-SRTP keying),
 * 3550 (RTP/RTCP framing).
 */
#ifndef TERN_SRTP_H
#define TERN_SRTP_H

#include <stddef.h>
#include <stdint.h>

struct tern_srtp;
struct tern_srtp_keying; /* dtls/dtls.h */

#define TERN_SRTP_DEFAULT_REPLAY_WINDOW 1024
/* The most any profile appends: GCM's 16-byte tag + the 4-byte SRTCP index. */
#define TERN_SRTP_MAX_OVERHEAD 20

struct tern_srtp_stats {
  uint64_t rtp_protected, rtp_unprotected;   /* successes */
  uint64_t rtcp_protected, rtcp_unprotected;
  uint64_t auth_failures; /* unprotect: tag did not verify */
  uint64_t replays;       /* unprotect: index already seen or too old */
  uint64_t errors;        /* malformed/short packets, no room, other errors */
};

/* Takes one reference on libsrtp's process-wide state, initialising it on
 * the first. 0, or -EIO if srtp_init failed. */
int tern_srtp_library_ref(void);
void tern_srtp_library_unref(void);

/* A session from DTLS keying material. NULL on an unknown profile, bad
 * key/salt lengths, libsrtp failure or out of memory. The keying is not kept
 * (libsrtp copies the keys). */
struct tern_srtp *tern_srtp_create(const struct tern_srtp_keying *k);
/* Same with an SRTP replay window of 64..32768 packets (0 = default). */
struct tern_srtp *tern_srtp_create_ex(const struct tern_srtp_keying *k,
                                      unsigned replay_window);
void tern_srtp_destroy(struct tern_srtp *s);

/* RTP in place: *len grows by tern_srtp_rtp_overhead. 0; -EINVAL if not an
 * RTP packet (shorter than 12 bytes, version ≠ 2, bad header lengths);
 * -ENOSPC if *len + overhead > cap; -EIO on another libsrtp error. */
int tern_srtp_protect(struct tern_srtp *s, uint8_t *buf, size_t *len, size_t cap);
/* SRTP in place: *len shrinks to the RTP packet. 0; -EBADMSG if
 * authentication failed; -EALREADY for a replayed or too old packet; -EINVAL
 * if malformed or too short; -EIO otherwise. */
int tern_srtp_unprotect(struct tern_srtp *s, uint8_t *buf, size_t *len);
/* The same for compound RTCP (RFC 3711 §3.4; always encrypted). */
int tern_srtp_protect_rtcp(struct tern_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int tern_srtp_unprotect_rtcp(struct tern_srtp *s, uint8_t *buf, size_t *len);

/* Bytes protect adds: RTP 16 (GCM) or 10 (CM); RTCP 20 or 14. */
size_t tern_srtp_rtp_overhead(const struct tern_srtp *s);
size_t tern_srtp_rtcp_overhead(const struct tern_srtp *s);
/* The profile it was made with (TERN_SRTP_AEAD_AES_128_GCM / …_CM_SHA1_80). */
int tern_srtp_profile(const struct tern_srtp *s);
const struct tern_srtp_stats *tern_srtp_get_stats(const struct tern_srtp *s);

#endif
