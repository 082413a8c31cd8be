#include "ice/stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#define ATTR_HDR 4
#define MI_LEN 20 /* HMAC-SHA1 */
#define FP_LEN 4

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         (uint32_t)p[3];
}

static uint64_t rd64(const uint8_t *p) {
  return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v) {
  wr16(p, (uint16_t)(v >> 16));
  wr16(p + 2, (uint16_t)v);
}

static void wr64(uint8_t *p, uint64_t v) {
  wr32(p, (uint32_t)(v >> 32));
  wr32(p + 4, (uint32_t)v);
}

static size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

/* A nibble table keeps CRC-32 small (64 bytes of rodata) while staying fast
 * enough for STUN-sized messages; zlib would add a link dependency for ~100
 * bytes per check. Reflected polynomial 0xEDB88320. */
static const uint32_t crc_nibble[16] = {
    0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
    0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
    0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C,
};

uint32_t tern_stun_crc32(const uint8_t *buf, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; i++) {
    crc ^= buf[i];
    crc = (crc >> 4) ^ crc_nibble[crc & 0xF];
    crc = (crc >> 4) ^ crc_nibble[crc & 0xF];
  }
  return crc ^ 0xFFFFFFFFu;
}

/* HMAC-SHA1 of a || b. Two pieces so the verifier can feed a patched copy of
 * the header without copying the (const) message. */
static int hmac_sha1(const char *key, size_t key_len, const uint8_t *a,
                     size_t alen, const uint8_t *b, size_t blen,
                     uint8_t out[MI_LEN]) {
  EVP_MAC *mac;
  EVP_MAC_CTX *ctx;
  size_t outl = 0;
  int ret = -EINVAL;
  char digest[] = "SHA1";
  OSSL_PARAM params[2];

  if (!key || key_len == 0)
    return -EINVAL;
  mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (!mac)
    return -ENOMEM;
  ctx = EVP_MAC_CTX_new(mac);
  if (!ctx)
    goto free_mac;
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
  params[1] = OSSL_PARAM_construct_end();
  if (EVP_MAC_init(ctx, (const unsigned char *)key, key_len, params) != 1 ||
      EVP_MAC_update(ctx, a, alen) != 1 ||
      (blen && EVP_MAC_update(ctx, b, blen) != 1) ||
      EVP_MAC_final(ctx, out, &outl, MI_LEN) != 1 || outl != MI_LEN)
    goto free_ctx;
  ret = 0;
free_ctx:
  EVP_MAC_CTX_free(ctx);
free_mac:
  EVP_MAC_free(mac);
  return ret;
}

uint16_t tern_stun_type(uint16_t method, enum tern_stun_class cls) {
  unsigned m = method & 0xFFF, c = (unsigned)cls & 3;
  return (uint16_t)((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                    ((c & 1) << 4) | ((c & 2) << 7));
}

/*  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |0 0|     STUN Message Type     |         Message Length        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Magic Cookie                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Transaction ID (96 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * then attributes: Type (16) | Length (16) | Value, padded to 4 bytes.
 * Message Length counts the bytes after the 20-byte header.
 */
bool tern_stun_is_stun(const uint8_t *buf, size_t len) {
  if (!buf || len < TERN_STUN_HEADER_LEN || (buf[0] & 0xC0) != 0)
    return false;
  if (rd32(buf + 4) != TERN_STUN_MAGIC_COOKIE)
    return false;
  size_t mlen = rd16(buf + 2);
  return (mlen & 3) == 0 && mlen + TERN_STUN_HEADER_LEN == len;
}

/* XOR-MAPPED-ADDRESS (RFC 8489 §14.2):
 * | 0 0 0 0 0 0 0 0 | Family (1/2) | X-Port (16) | X-Address (32 or 128) |
 * The port is xored with the cookie's top 16 bits, an IPv4 address with the
 * cookie, an IPv6 address with cookie || transaction id. */
static int parse_xor_address(const uint8_t *v, size_t alen, const uint8_t *hdr,
                             struct sockaddr_storage *out) {
  if (alen < 4)
    return -EPROTO;
  uint16_t port = rd16(v + 2) ^ (uint16_t)(TERN_STUN_MAGIC_COOKIE >> 16);
  memset(out, 0, sizeof(*out));
  if (v[1] == 0x01) {
    if (alen != 8)
      return -EPROTO;
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(rd32(v + 4) ^ TERN_STUN_MAGIC_COOKIE);
    return 0;
  }
  if (v[1] == 0x02) {
    if (alen != 20)
      return -EPROTO;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    /* hdr + 4 is cookie || txid: exactly the 16-byte xor mask. */
    for (int i = 0; i < 16; i++)
      sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ hdr[4 + i];
    return 0;
  }
  return -EPROTO;
}

static bool known_required(uint16_t t) {
  switch (t) {
  case TERN_STUN_ATTR_MAPPED_ADDRESS:
  case TERN_STUN_ATTR_USERNAME:
  case TERN_STUN_ATTR_MESSAGE_INTEGRITY:
  case TERN_STUN_ATTR_ERROR_CODE:
  case TERN_STUN_ATTR_UNKNOWN_ATTRIBUTES:
  case TERN_STUN_ATTR_REALM:
  case TERN_STUN_ATTR_NONCE:
  case TERN_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
  case TERN_STUN_ATTR_PASSWORD_ALGORITHM:
  case TERN_STUN_ATTR_USERHASH:
  case TERN_STUN_ATTR_XOR_MAPPED_ADDRESS:
  case TERN_STUN_ATTR_PRIORITY:
  case TERN_STUN_ATTR_USE_CANDIDATE:
    return true;
  default:
    return false;
  }
}

/* One attribute before MESSAGE-INTEGRITY. v has alen readable bytes. */
static int parse_attr(struct tern_stun_msg *m, const uint8_t *buf,
                      uint16_t type, const uint8_t *v, size_t alen) {
  switch (type) {
  case TERN_STUN_ATTR_USERNAME:
    if (alen > 513) /* RFC 8489 §14.3: < 513 bytes */
      return -EPROTO;
    if (!m->username) {
      m->username = v;
      m->username_len = alen;
    }
    return 0;
  case TERN_STUN_ATTR_PRIORITY:
    if (alen != 4)
      return -EPROTO;
    if (!m->has_priority) {
      m->has_priority = true;
      m->priority = rd32(v);
    }
    return 0;
  case TERN_STUN_ATTR_USE_CANDIDATE:
    if (alen != 0)
      return -EPROTO;
    m->use_candidate = true;
    return 0;
  case TERN_STUN_ATTR_ICE_CONTROLLING:
    if (alen != 8)
      return -EPROTO;
    if (!m->has_ice_controlling) {
      m->has_ice_controlling = true;
      m->ice_controlling = rd64(v);
    }
    return 0;
  case TERN_STUN_ATTR_ICE_CONTROLLED:
    if (alen != 8)
      return -EPROTO;
    if (!m->has_ice_controlled) {
      m->has_ice_controlled = true;
      m->ice_controlled = rd64(v);
    }
    return 0;
  case TERN_STUN_ATTR_XOR_MAPPED_ADDRESS:
    if (m->has_xor_mapped_address)
      return 0;
    if (parse_xor_address(v, alen, buf, &m->xor_mapped_address) < 0)
      return -EPROTO;
    m->has_xor_mapped_address = true;
    return 0;
  case TERN_STUN_ATTR_ERROR_CODE: {
    /* | Reserved (21 bits) | Class (3) | Number (8) | Reason (UTF-8) | */
    if (alen < 4 || alen > 4 + 763)
      return -EPROTO;
    unsigned cls = v[2] & 7, num = v[3];
    if (cls < 3 || cls > 6 || num > 99)
      return -EPROTO;
    if (!m->has_error_code) {
      m->has_error_code = true;
      m->error_code = (uint16_t)(cls * 100 + num);
      m->error_reason = v + 4;
      m->error_reason_len = alen - 4;
    }
    return 0;
  }
  default:
    if (type < 0x8000 && !known_required(type) &&
        m->n_unknown < TERN_STUN_MAX_UNKNOWN)
      m->unknown[m->n_unknown++] = type;
    return 0;
  }
}

int tern_stun_parse(const uint8_t *buf, size_t len, struct tern_stun_msg *m) {
  if (!m || !tern_stun_is_stun(buf, len))
    return -EPROTO;
  memset(m, 0, sizeof(*m));
  uint16_t type = rd16(buf);
  m->type = type;
  m->method = (uint16_t)((type & 0x000F) | ((type >> 1) & 0x0070) |
                         ((type >> 2) & 0x0F80));
  m->cls = (uint8_t)(((type >> 4) & 1) | ((type >> 7) & 2));
  memcpy(m->txid, buf + 8, TERN_STUN_TXID_LEN);
  m->length = len;

  size_t off = TERN_STUN_HEADER_LEN;
  while (off < len) {
    if (m->has_fingerprint)
      return -EPROTO; /* FINGERPRINT must be last */
    if (len - off < ATTR_HDR)
      return -EPROTO;
    uint16_t at = rd16(buf + off);
    size_t alen = rd16(buf + off + 2);
    if (pad4(alen) > len - off - ATTR_HDR)
      return -EPROTO;
    const uint8_t *v = buf + off + ATTR_HDR;

    if (at == TERN_STUN_ATTR_FINGERPRINT) {
      if (alen != FP_LEN)
        return -EPROTO;
      /* Covers everything before it; the header length already includes it
       * because it must be the last attribute. */
      uint32_t want = tern_stun_crc32(buf, off) ^ TERN_STUN_FINGERPRINT_XOR;
      m->has_fingerprint = true;
      m->fingerprint_ok = rd32(v) == want;
    } else if (m->has_integrity) {
      /* §14.5: ignore everything after MESSAGE-INTEGRITY but FINGERPRINT. */
    } else if (at == TERN_STUN_ATTR_MESSAGE_INTEGRITY) {
      if (alen != MI_LEN)
        return -EPROTO;
      m->has_integrity = true;
      m->integrity_offset = off;
    } else if (parse_attr(m, buf, at, v, alen) < 0) {
      return -EPROTO;
    }
    off += ATTR_HDR + pad4(alen);
  }
  return 0;
}

bool tern_stun_check_integrity(const uint8_t *buf, size_t len,
                               const struct tern_stun_msg *m, const char *key,
                               size_t key_len) {
  uint8_t hdr[TERN_STUN_HEADER_LEN], mac[MI_LEN];

  if (!buf || !m || !m->has_integrity || m->length != len)
    return false;
  size_t off = m->integrity_offset;
  if (off < TERN_STUN_HEADER_LEN || off > len || len - off < ATTR_HDR + MI_LEN)
    return false;
  if (rd16(buf + off) != TERN_STUN_ATTR_MESSAGE_INTEGRITY)
    return false;
  /* The HMAC was computed with the length ending at MESSAGE-INTEGRITY, before
   * FINGERPRINT (if any) was appended. */
  memcpy(hdr, buf, sizeof(hdr));
  wr16(hdr + 2, (uint16_t)(off + ATTR_HDR + MI_LEN - TERN_STUN_HEADER_LEN));
  if (hmac_sha1(key, key_len, hdr, sizeof(hdr), buf + TERN_STUN_HEADER_LEN,
                off - TERN_STUN_HEADER_LEN, mac) < 0)
    return false;
  return CRYPTO_memcmp(mac, buf + off + ATTR_HDR, MI_LEN) == 0;
}

int tern_stun_username_split(const struct tern_stun_msg *m,
                             const uint8_t **local, size_t *local_len,
                             const uint8_t **remote, size_t *remote_len) {
  if (!m || !m->username)
    return -ENOENT;
  const uint8_t *colon = memchr(m->username, ':', m->username_len);
  if (!colon)
    return -EPROTO;
  size_t l = (size_t)(colon - m->username);
  if (local) {
    *local = m->username;
    *local_len = l;
  }
  if (remote) {
    *remote = colon + 1;
    *remote_len = m->username_len - l - 1;
  }
  return 0;
}

int tern_stun_username_local(const struct tern_stun_msg *m, char *out,
                             size_t cap) {
  const uint8_t *l;
  size_t llen;
  int r = tern_stun_username_split(m, &l, &llen, NULL, NULL);
  if (r < 0)
    return r;
  if (!out || llen + 1 > cap)
    return -ENOSPC;
  memcpy(out, l, llen);
  out[llen] = '\0';
  return (int)llen;
}

/* ---- writer ---- */

void tern_stun_writer_begin(struct tern_stun_writer *w, uint8_t *buf,
                            size_t cap, uint16_t type,
                            const uint8_t txid[TERN_STUN_TXID_LEN]) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->err = 0;
  if (!buf || cap < TERN_STUN_HEADER_LEN) {
    w->err = -ENOSPC;
    return;
  }
  wr16(buf, type & 0x3FFF);
  wr16(buf + 2, 0);
  wr32(buf + 4, TERN_STUN_MAGIC_COOKIE);
  memcpy(buf + 8, txid, TERN_STUN_TXID_LEN);
  w->len = TERN_STUN_HEADER_LEN;
}

/* Reserves an attribute and returns its value pointer (padding zeroed). */
static uint8_t *attr(struct tern_stun_writer *w, uint16_t type, size_t vlen) {
  if (w->err)
    return NULL;
  if (vlen > 0xFFFF) {
    w->err = -EINVAL;
    return NULL;
  }
  size_t need = ATTR_HDR + pad4(vlen);
  if (w->cap - w->len < need || w->len + need - TERN_STUN_HEADER_LEN > 0xFFFF) {
    w->err = -ENOSPC;
    return NULL;
  }
  uint8_t *p = w->buf + w->len;
  wr16(p, type);
  wr16(p + 2, (uint16_t)vlen);
  memset(p + ATTR_HDR + vlen, 0, pad4(vlen) - vlen);
  w->len += need;
  return p + ATTR_HDR;
}

static int add_bytes(struct tern_stun_writer *w, uint16_t type, const void *s,
                     size_t len) {
  uint8_t *v = attr(w, type, len);
  if (!v)
    return w->err;
  if (len)
    memcpy(v, s, len);
  return 0;
}

int tern_stun_add_username(struct tern_stun_writer *w, const char *s,
                           size_t len) {
  if (len > 513 && !w->err)
    w->err = -EINVAL;
  return add_bytes(w, TERN_STUN_ATTR_USERNAME, s, len);
}

int tern_stun_add_software(struct tern_stun_writer *w, const char *s) {
  return add_bytes(w, TERN_STUN_ATTR_SOFTWARE, s, s ? strlen(s) : 0);
}

int tern_stun_add_priority(struct tern_stun_writer *w, uint32_t prio) {
  uint8_t *v = attr(w, TERN_STUN_ATTR_PRIORITY, 4);
  if (!v)
    return w->err;
  wr32(v, prio);
  return 0;
}

int tern_stun_add_use_candidate(struct tern_stun_writer *w) {
  return attr(w, TERN_STUN_ATTR_USE_CANDIDATE, 0) ? 0 : w->err;
}

static int add_u64(struct tern_stun_writer *w, uint16_t type, uint64_t x) {
  uint8_t *v = attr(w, type, 8);
  if (!v)
    return w->err;
  wr64(v, x);
  return 0;
}

int tern_stun_add_ice_controlling(struct tern_stun_writer *w, uint64_t tb) {
  return add_u64(w, TERN_STUN_ATTR_ICE_CONTROLLING, tb);
}

int tern_stun_add_ice_controlled(struct tern_stun_writer *w, uint64_t tb) {
  return add_u64(w, TERN_STUN_ATTR_ICE_CONTROLLED, tb);
}

int tern_stun_add_xor_mapped_address(struct tern_stun_writer *w,
                                     const struct sockaddr *sa) {
  uint8_t *v;
  if (w->err)
    return w->err;
  if (sa && sa->sa_family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    if (!(v = attr(w, TERN_STUN_ATTR_XOR_MAPPED_ADDRESS, 8)))
      return w->err;
    v[0] = 0;
    v[1] = 0x01;
    wr16(v + 2, ntohs(sin->sin_port) ^ (uint16_t)(TERN_STUN_MAGIC_COOKIE >> 16));
    wr32(v + 4, ntohl(sin->sin_addr.s_addr) ^ TERN_STUN_MAGIC_COOKIE);
    return 0;
  }
  if (sa && sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
    if (!(v = attr(w, TERN_STUN_ATTR_XOR_MAPPED_ADDRESS, 20)))
      return w->err;
    v[0] = 0;
    v[1] = 0x02;
    wr16(v + 2,
         ntohs(sin6->sin6_port) ^ (uint16_t)(TERN_STUN_MAGIC_COOKIE >> 16));
    for (int i = 0; i < 16; i++)
      v[4 + i] = sin6->sin6_addr.s6_addr[i] ^ w->buf[4 + i];
    return 0;
  }
  w->err = -EAFNOSUPPORT;
  return w->err;
}

int tern_stun_add_error_code(struct tern_stun_writer *w, uint16_t code,
                             const char *reason) {
  size_t rlen = reason ? strlen(reason) : 0;
  if (!w->err && (code < 300 || code > 699 || rlen > 763))
    w->err = -EINVAL;
  uint8_t *v = attr(w, TERN_STUN_ATTR_ERROR_CODE, 4 + rlen);
  if (!v)
    return w->err;
  v[0] = v[1] = 0;
  v[2] = (uint8_t)(code / 100);
  v[3] = (uint8_t)(code % 100);
  if (rlen)
    memcpy(v + 4, reason, rlen);
  return 0;
}

int tern_stun_add_unknown_attributes(struct tern_stun_writer *w,
                                     const uint16_t *types, size_t n) {
  uint8_t *v = attr(w, TERN_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);
  if (!v)
    return w->err;
  for (size_t i = 0; i < n; i++)
    wr16(v + 2 * i, types[i]);
  return 0;
}

int tern_stun_writer_finish(struct tern_stun_writer *w, const char *key,
                            size_t key_len, bool add_fingerprint) {
  if (w->err)
    return w->err;
  size_t need = (key ? ATTR_HDR + MI_LEN : 0) +
                (add_fingerprint ? ATTR_HDR + FP_LEN : 0);
  if (w->cap - w->len < need ||
      w->len + need - TERN_STUN_HEADER_LEN > 0xFFFF)
    return w->err = -ENOSPC;
  if (key) {
    if (key_len == 0)
      return w->err = -EINVAL;
    size_t off = w->len;
    /* The HMAC covers a header whose length ends after MESSAGE-INTEGRITY. */
    wr16(w->buf + 2, (uint16_t)(off + ATTR_HDR + MI_LEN - TERN_STUN_HEADER_LEN));
    uint8_t *v = attr(w, TERN_STUN_ATTR_MESSAGE_INTEGRITY, MI_LEN);
    int r = hmac_sha1(key, key_len, w->buf, off, NULL, 0, v);
    if (r < 0)
      return w->err = r;
  }
  if (add_fingerprint) {
    size_t off = w->len;
    wr16(w->buf + 2, (uint16_t)(off + ATTR_HDR + FP_LEN - TERN_STUN_HEADER_LEN));
    uint8_t *v = attr(w, TERN_STUN_ATTR_FINGERPRINT, FP_LEN);
    wr32(v, tern_stun_crc32(w->buf, off) ^ TERN_STUN_FINGERPRINT_XOR);
  }
  wr16(w->buf + 2, (uint16_t)(w->len - TERN_STUN_HEADER_LEN));
  return (int)w->len;
}
