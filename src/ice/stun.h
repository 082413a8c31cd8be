/* stun — STUN message codec for ICE (RFC 5389 / RFC 8489, RFC 8445 §16).
 *
 * A reader and a writer, nothing else: no sockets, no timers, no
 * transactions (those live in ice.c). The reader never allocates and never
 * copies: tern_stun_parse() fills a struct whose pointers (USERNAME,
 * ERROR-CODE reason) point into the caller's buffer, so the parsed struct is
 * only valid while that buffer is. The writer fills a caller buffer and
 * reports -ENOSPC instead of growing it.
 *
 * Invariants kept by the reader:
 *   - every length is bounds-checked before the bytes it covers are read;
 *   - the datagram must be exactly one message (20 + header length == len);
 *   - only the first occurrence of an attribute is used (RFC 8489 §14);
 *   - attributes after MESSAGE-INTEGRITY other than FINGERPRINT are ignored
 *     (§14.5), and FINGERPRINT must be the last attribute (§14.7);
 *   - a malformed attribute we understand (wrong length, bad family) makes the
 *     whole message invalid (-EPROTO); unknown comprehension-optional
 *     attributes (>= 0x8000) are skipped, unknown comprehension-required ones
 *     are reported in unknown[] so a server can answer 420.
 *
 * MESSAGE-INTEGRITY is HMAC-SHA1 (OpenSSL) with the short-term credential key
 * (the ICE password as bytes: ICE passwords are ice-chars, so SASLprep is the
 * identity). FINGERPRINT is CRC-32 xor 0x5354554e. MESSAGE-INTEGRITY-SHA256
 * and long-term credentials are not implemented: ICE between browsers and
 * servers does not use them. Test vectors: RFC 5769.
 */
#ifndef TERN_STUN_H
#define TERN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TERN_STUN_HEADER_LEN 20
#define TERN_STUN_MAGIC_COOKIE 0x2112A442u
#define TERN_STUN_TXID_LEN 12
#define TERN_STUN_FINGERPRINT_XOR 0x5354554eu
#define TERN_STUN_MAX_UNKNOWN 4

enum tern_stun_class {
  TERN_STUN_REQUEST = 0,
  TERN_STUN_INDICATION = 1,
  TERN_STUN_SUCCESS = 2,
  TERN_STUN_ERROR = 3,
};

#define TERN_STUN_METHOD_BINDING 0x001

/* Message types (method + class, §5) used by ICE. */
#define TERN_STUN_BINDING_REQUEST 0x0001
#define TERN_STUN_BINDING_INDICATION 0x0011
#define TERN_STUN_BINDING_SUCCESS 0x0101
#define TERN_STUN_BINDING_ERROR 0x0111

/* Attribute types. */
#define TERN_STUN_ATTR_MAPPED_ADDRESS 0x0001
#define TERN_STUN_ATTR_USERNAME 0x0006
#define TERN_STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define TERN_STUN_ATTR_ERROR_CODE 0x0009
#define TERN_STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define TERN_STUN_ATTR_REALM 0x0014
#define TERN_STUN_ATTR_NONCE 0x0015
#define TERN_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 0x001C
#define TERN_STUN_ATTR_PASSWORD_ALGORITHM 0x001D
#define TERN_STUN_ATTR_USERHASH 0x001E
#define TERN_STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define TERN_STUN_ATTR_PRIORITY 0x0024
#define TERN_STUN_ATTR_USE_CANDIDATE 0x0025
#define TERN_STUN_ATTR_SOFTWARE 0x8022
#define TERN_STUN_ATTR_ALTERNATE_SERVER 0x8023
#define TERN_STUN_ATTR_FINGERPRINT 0x8028
#define TERN_STUN_ATTR_ICE_CONTROLLED 0x8029
#define TERN_STUN_ATTR_ICE_CONTROLLING 0x802A

/* Error codes used by ICE (RFC 8489 §14.8, RFC 8445 §7.3.1.1). */
#define TERN_STUN_ERR_BAD_REQUEST 400
#define TERN_STUN_ERR_UNAUTHORIZED 401
#define TERN_STUN_ERR_UNKNOWN_ATTRIBUTE 420
#define TERN_STUN_ERR_ROLE_CONFLICT 487

struct tern_stun_msg {
  uint16_t type;   /* raw message type, e.g. TERN_STUN_BINDING_REQUEST */
  uint16_t method; /* 12-bit method */
  uint8_t cls;     /* enum tern_stun_class */
  uint8_t txid[TERN_STUN_TXID_LEN];
  size_t length; /* whole message, header included */

  const uint8_t *username; /* into the parsed buffer; NULL if absent */
  size_t username_len;

  bool has_priority;
  uint32_t priority;
  bool use_candidate;
  bool has_ice_controlling;
  uint64_t ice_controlling; /* tie-breaker */
  bool has_ice_controlled;
  uint64_t ice_controlled; /* tie-breaker */

  bool has_xor_mapped_address;
  struct sockaddr_storage xor_mapped_address; /* AF_INET or AF_INET6 */

  bool has_error_code;
  uint16_t error_code;         /* 300..699 */
  const uint8_t *error_reason; /* into the buffer, not NUL-terminated */
  size_t error_reason_len;

  bool has_integrity;
  size_t integrity_offset; /* offset of the MESSAGE-INTEGRITY attribute header */
  bool has_fingerprint;
  bool fingerprint_ok; /* only meaningful if has_fingerprint */

  /* Unknown comprehension-required attributes (before MESSAGE-INTEGRITY). */
  uint8_t n_unknown; /* how many were seen, capped at TERN_STUN_MAX_UNKNOWN */
  uint16_t unknown[TERN_STUN_MAX_UNKNOWN];
};

/* Cheap classification (RFC 7983 demux already put the first byte in 0..3):
 * top two bits zero, length >= 20, magic cookie, header length a multiple of
 * 4 and equal to the datagram's length minus the header. */
bool tern_stun_is_stun(const uint8_t *buf, size_t len);

/* Parses one message; 0 or -EPROTO. On error *msg is unspecified. */
int tern_stun_parse(const uint8_t *buf, size_t len, struct tern_stun_msg *msg);

/* HMAC-SHA1 over buf up to MESSAGE-INTEGRITY, with the header length
 * adjusted to end just after it (RFC 8489 §14.5), compared in constant time.
 * False if msg has no MESSAGE-INTEGRITY, the key is empty or msg was not
 * parsed from this buf/len. Allocates inside OpenSSL (EVP_MAC), so call it
 * per STUN request, never per media packet. */
bool tern_stun_check_integrity(const uint8_t *buf, size_t len,
                               const struct tern_stun_msg *msg,
                               const char *key, size_t key_len);

/* USERNAME is "<receiver ufrag>:<sender ufrag>" in ICE. Splits it at the
 * first ':'; 0, or -ENOENT (no USERNAME) / -EPROTO (no ':'). Pointers point
 * into the parsed buffer. */
int tern_stun_username_split(const struct tern_stun_msg *m,
                             const uint8_t **local, size_t *local_len,
                             const uint8_t **remote, size_t *remote_len);

/* Copies the part before ':' (the receiver's, i.e. our, ufrag) into out as a
 * NUL-terminated string; returns its length, or -ENOENT / -EPROTO as above,
 * or -ENOSPC if cap is too small. */
int tern_stun_username_local(const struct tern_stun_msg *m, char *out,
                             size_t cap);

/* Message type from method and class (RFC 8489 §5 bit interleaving). */
uint16_t tern_stun_type(uint16_t method, enum tern_stun_class cls);

/* CRC-32 (IEEE 802.3, as zlib), exposed for tests. */
uint32_t tern_stun_crc32(const uint8_t *buf, size_t len);

/* Writer. Errors are sticky: an add that does not fit records -ENOSPC (or
 * -EINVAL / -EAFNOSUPPORT for bad arguments), later adds do nothing, and
 * finish returns the first error. Padding bytes are zero. */
struct tern_stun_writer {
  uint8_t *buf;
  size_t cap;
  size_t len;
  int err;
};

void tern_stun_writer_begin(struct tern_stun_writer *w, uint8_t *buf,
                            size_t cap, uint16_t type,
                            const uint8_t txid[TERN_STUN_TXID_LEN]);
int tern_stun_add_username(struct tern_stun_writer *w, const char *s,
                           size_t len);
int tern_stun_add_priority(struct tern_stun_writer *w, uint32_t prio);
int tern_stun_add_use_candidate(struct tern_stun_writer *w);
int tern_stun_add_ice_controlling(struct tern_stun_writer *w, uint64_t tb);
int tern_stun_add_ice_controlled(struct tern_stun_writer *w, uint64_t tb);
int tern_stun_add_xor_mapped_address(struct tern_stun_writer *w,
                                     const struct sockaddr *sa);
/* code 300..699; reason may be NULL. */
int tern_stun_add_error_code(struct tern_stun_writer *w, uint16_t code,
                             const char *reason);
int tern_stun_add_unknown_attributes(struct tern_stun_writer *w,
                                     const uint16_t *types, size_t n);
int tern_stun_add_software(struct tern_stun_writer *w, const char *s);
/* Appends MESSAGE-INTEGRITY keyed with key (unless key is NULL) and then
 * FINGERPRINT (if asked), fixes the header length and returns the message
 * length, or the first error. */
int tern_stun_writer_finish(struct tern_stun_writer *w, const char *key,
                            size_t key_len, bool add_fingerprint);

#endif
