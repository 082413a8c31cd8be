/* fuzz_claims — the identity layer of the Beep API (src/api/claims.c):
 * X-User-Claim headers, JWTs, Authorization headers and conversation ids,
 * all of which come straight from the network.
 *
 * The first input byte picks a mode (mod 5), the rest is the data:
 *   0  the data as an X-User-Claim header;
 *   1  the data as a token, verified with SECRET;
 *   2  a token signed here with SECRET: data[0] says where the data splits
 *      into header JSON and payload JSON, the next 4 bytes are "now";
 *   3  a token signed here with a fixed HS256 header and the data as the
 *      payload, compared with the header parser on the same JSON;
 *   4  the data (NUL-terminated) as an Authorization value and as a
 *      conversation id.
 *
 * Properties checked besides the sanitizers:
 *   - a failure comes with a non-empty printable-ASCII reason and empty
 *     claims; a success yields non-empty NUL-terminated UTF-8 ids of at most
 *     256 characters without control characters;
 *   - header: a success round-trips through jansson's encoder, and only
 *     happens for headers of at most 1024 bytes;
 *   - token: a success means the signature segment is exactly the
 *     base64url of our own HMAC-SHA256 over header.payload (so no
 *     alternative encoding, alg confusion or unsigned token gets through),
 *     the same token fails under another secret, and so does the same MAC
 *     spelt with an unused bit set;
 *   - a token we signed: accepted only with alg exactly "HS256", with the
 *     claims jansson reads from the payload; any changed signature
 *     character is refused;
 *   - payload vs header parser: accepted as a token implies accepted as a
 *     header with the same ids; accepted as a header without exp/nbf
 *     implies accepted as a token;
 *   - bearer: the token lies inside the value and is made of b64token
 *     characters; conversation ids agree with a plain reimplementation.
 */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <strings.h>

#include "api/claims.h"
#include "fuzz.h"

static const char SECRET[] = "correct horse battery staple";
static const char OTHER[] = "correct horse battery staplf";
#define NOW ((int64_t)1800000000)

static const char A64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64url(const uint8_t *p, size_t n, char *out) {
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = A64[v >> 18], out[o++] = A64[v >> 12 & 63], out[o++] = A64[v >> 6 & 63],
    out[o++] = A64[v & 63];
  }
  if (n - i) {
    uint32_t v = (uint32_t)p[i] << 16 | (n - i == 2 ? (uint32_t)p[i + 1] << 8 : 0);
    out[o++] = A64[v >> 18], out[o++] = A64[v >> 12 & 63];
    if (n - i == 2)
      out[o++] = A64[v >> 6 & 63];
  }
  return o;
}

/* b64url(HMAC-SHA256(secret, msg)) into out (44 bytes); returns its length. */
static size_t mac64(const char *secret, const char *msg, size_t n, char *out) {
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  FUZZ_ASSERT(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)msg, n, mac, &len),
              "HMAC");
  return b64url(mac, len, out);
}

/* Strict UTF-8 (RFC 3629); returns the number of characters or -1. */
static long utf8_chars(const unsigned char *s, size_t n) {
  long chars = 0;
  for (size_t i = 0; i < n; chars++) {
    unsigned c = s[i], need;
    uint32_t cp;
    if (c < 0x80)
      need = 0, cp = c;
    else if (c >= 0xc2 && c <= 0xdf)
      need = 1, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
      need = 2, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
      need = 3, cp = c & 0x07;
    else
      return -1;
    if (need && i + need >= n)
      return -1;
    for (unsigned k = 1; k <= need; k++) {
      if ((s[i + k] & 0xc0) != 0x80)
        return -1;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
      return -1;
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
      return -1; /* control characters count as invalid here */
    i += need + 1;
  }
  return chars;
}

static void check_field(const char *f) {
  size_t n = strnlen(f, TERN_CLAIM_FIELD_BYTES);
  FUZZ_ASSERT(n > 0 && n < TERN_CLAIM_FIELD_BYTES, "field length %zu", n);
  long chars = utf8_chars((const unsigned char *)f, n);
  FUZZ_ASSERT(chars > 0 && chars <= TERN_CLAIM_MAX_FIELD, "field chars %ld", chars);
}

static void check_result(int rc, int err, const struct tern_claims *c, const char *reason) {
  FUZZ_ASSERT(rc == 0 || rc == err, "rc %d", rc);
  if (rc == 0) {
    check_field(c->userid);
    check_field(c->clientid);
    return;
  }
  FUZZ_ASSERT(!c->userid[0] && !c->clientid[0], "claims left behind on failure");
  FUZZ_ASSERT(reason[0], "empty reason");
  for (const char *r = reason; *r; r++)
    FUZZ_ASSERT(*r >= 0x20 && *r <= 0x7e, "unprintable reason byte 0x%02x", (unsigned char)*r);
}

static bool same(const struct tern_claims *a, const struct tern_claims *b) {
  return strcmp(a->userid, b->userid) == 0 && strcmp(a->clientid, b->clientid) == 0;
}

static void fuzz_header(const uint8_t *d, size_t n) {
  struct tern_claims c, c2;
  char reason[128];
  int rc = tern_claims_from_header((const char *)d, n, &c, reason, sizeof reason);
  check_result(rc, -EINVAL, &c, reason);
  if (rc)
    return;
  FUZZ_ASSERT(n <= TERN_CLAIM_MAX_HEADER, "accepted %zu bytes", n);
  /* Round trip through an independent encoder. */
  json_t *j = json_pack("{s:s,s:s}", "userid", c.userid, "clientid", c.clientid);
  FUZZ_ASSERT(j, "json_pack refused accepted ids");
  char *s = json_dumps(j, JSON_COMPACT);
  json_decref(j);
  FUZZ_ASSERT(s, "json_dumps");
  size_t len = strlen(s);
  if (len <= TERN_CLAIM_MAX_HEADER) {
    rc = tern_claims_from_header(s, len, &c2, reason, sizeof reason);
    FUZZ_ASSERT(rc == 0 && same(&c, &c2), "round trip: %d %s", rc, reason);
  }
  free(s);
}

/* The signature segment of an accepted token must be exactly ours. */
static void check_accepted_token(const char *tok, size_t n) {
  const char *dot = memrchr(tok, '.', n);
  FUZZ_ASSERT(dot, "accepted token without '.'");
  char mine[64];
  size_t m = mac64(SECRET, tok, (size_t)(dot - tok), mine);
  size_t sig = n - (size_t)(dot - tok) - 1;
  FUZZ_ASSERT(sig == m && memcmp(dot + 1, mine, m) == 0, "accepted a signature that is not ours");
  struct tern_claims c;
  char reason[128];
  FUZZ_ASSERT(tern_claims_from_jwt(tok, n, (const uint8_t *)OTHER, strlen(OTHER), NOW, &c, reason,
                                   sizeof reason) == -EACCES,
              "accepted under another secret");
  /* 43 characters carry 32 bytes plus 4 unused bits, all zero in ours;
   * setting one decodes to the same MAC and must still be refused. */
  char *alt = (char *)fuzz_dup((const uint8_t *)tok, n);
  FUZZ_ASSERT(alt, "malloc");
  alt[n - 1] = A64[(strchr(A64, tok[n - 1]) - A64) ^ 1];
  FUZZ_ASSERT(tern_claims_from_jwt(alt, n, (const uint8_t *)SECRET, strlen(SECRET), NOW, &c, reason,
                                   sizeof reason) == -EACCES,
              "accepted a non-canonical signature");
  free(alt);
}

static int verify(const char *tok, size_t n, int64_t now, struct tern_claims *c, char *reason,
                  size_t cap) {
  int rc = tern_claims_from_jwt(tok, n, (const uint8_t *)SECRET, strlen(SECRET), now, c, reason,
                                cap);
  check_result(rc, -EACCES, c, reason);
  if (rc == 0)
    check_accepted_token(tok, n);
  return rc;
}

/* header.payload.signature, signed with SECRET; caller frees. */
static char *sign(const uint8_t *h, size_t hn, const uint8_t *p, size_t pn, size_t *len) {
  char *t = malloc((hn + pn) * 4 / 3 + 64);
  FUZZ_ASSERT(t, "malloc");
  size_t o = b64url(h, hn, t);
  t[o++] = '.';
  o += b64url(p, pn, t + o);
  size_t m = mac64(SECRET, t, o, t + o + 1);
  t[o] = '.';
  *len = o + 1 + m;
  return t;
}

/* The string member name of a JSON text, as jansson reads it (NULL if not
 * an object with such a string). */
static bool json_str_eq(const uint8_t *d, size_t n, const char *name, const char *want) {
  json_t *j = json_loadb((const char *)d, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
  const char *v = json_string_value(json_object_get(j, name));
  bool eq = v && strcmp(v, want) == 0;
  json_decref(j);
  return eq;
}

static void fuzz_signed(const uint8_t *d, size_t n) {
  struct fuzz_in in = {d, n};
  size_t split = fuzz_u8(&in), hn, pn;
  int64_t now = fuzz_u32(&in);
  const uint8_t *h = fuzz_bytes(&in, split, &hn);
  const uint8_t *p = fuzz_bytes(&in, in.left, &pn);
  size_t len;
  char *tok = sign(h, hn, p, pn, &len);
  char *exact = (char *)fuzz_dup((const uint8_t *)tok, len);
  struct tern_claims c;
  char reason[128];
  int rc = verify(exact, len, now, &c, reason, sizeof reason);
  if (rc == 0) {
    FUZZ_ASSERT(json_str_eq(h, hn, "alg", "HS256"), "accepted alg other than HS256");
    FUZZ_ASSERT(json_str_eq(p, pn, "userid", c.userid), "userid differs from jansson's");
    FUZZ_ASSERT(json_str_eq(p, pn, "clientid", c.clientid), "clientid differs from jansson's");
    /* Any other character in the signature is refused. */
    size_t i = len - 1 - (pn ? p[0] % 43 : 0);
    char saved = exact[i];
    exact[i] = saved == 'A' ? '_' : 'A';
    FUZZ_ASSERT(tern_claims_from_jwt(exact, len, (const uint8_t *)SECRET, strlen(SECRET), now, &c,
                                     reason, sizeof reason) == -EACCES,
                "changed signature accepted");
  }
  free(exact);
  free(tok);
}

static void fuzz_payload_vs_header(const uint8_t *d, size_t n) {
  static const char H[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  size_t len;
  char *tok = sign((const uint8_t *)H, sizeof H - 1, d, n, &len);
  char *exact = (char *)fuzz_dup((const uint8_t *)tok, len);
  struct tern_claims jc, hc;
  char reason[128];
  int jrc = verify(exact, len, NOW, &jc, reason, sizeof reason);
  int hrc = tern_claims_from_header((const char *)d, n, &hc, reason, sizeof reason);
  check_result(hrc, -EINVAL, &hc, reason);
  if (n <= TERN_CLAIM_MAX_HEADER && jrc == 0)
    FUZZ_ASSERT(hrc == 0 && same(&jc, &hc), "token accepted, same JSON as header refused: %s",
                reason);
  if (hrc == 0 && len <= TERN_JWT_MAX) {
    json_t *j = json_loadb((const char *)d, n, 0, NULL);
    bool timed = json_object_get(j, "exp") || json_object_get(j, "nbf");
    json_decref(j);
    if (!timed)
      FUZZ_ASSERT(jrc == 0 && same(&jc, &hc), "header accepted, same JSON as token refused");
  }
  free(exact);
  free(tok);
}

static bool b64token_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         strchr("-._~+/", c);
}

static void fuzz_strings(const uint8_t *d, size_t n) {
  char *s = malloc(n + 1);
  FUZZ_ASSERT(s, "malloc");
  memcpy(s, d, n);
  s[n] = '\0';
  size_t slen = strlen(s);

  const char *tok = (const char *)1;
  size_t tlen = 99;
  int rc = tern_claims_bearer(s, &tok, &tlen);
  FUZZ_ASSERT(rc == 0 || rc == -ENOENT || rc == -EINVAL, "bearer rc %d", rc);
  if (rc == 0) {
    FUZZ_ASSERT(tok > s && tok + tlen <= s + slen && tlen > 0, "token outside the value");
    FUZZ_ASSERT(b64token_char((unsigned char)tok[0]), "token starts with 0x%02x", tok[0]);
    for (size_t i = 0; i < tlen; i++)
      FUZZ_ASSERT(b64token_char((unsigned char)tok[i]) || tok[i] == '=', "token byte 0x%02x",
                  (unsigned char)tok[i]);
    FUZZ_ASSERT(strncasecmp(s + strspn(s, " \t"), "bearer", 6) == 0, "not Bearer");
  } else {
    FUZZ_ASSERT(tok == NULL && tlen == 0, "outputs set on failure");
  }

  bool want = slen >= 1 && slen <= TERN_CONVERSATION_ID_MAX && strcmp(s, ".") && strcmp(s, "..");
  for (size_t i = 0; i < slen && want; i++)
    want = (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
           (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-';
  FUZZ_ASSERT(tern_conversation_id_valid(s) == want, "conversation id \"%s\": want %d", s, want);
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  /* Exact-size copy of the data after the mode byte, for ASan. */
  uint8_t *d = fuzz_dup(data + 1, size - 1);
  size_t n = size - 1;
  FUZZ_ASSERT(d, "malloc");
  switch (data[0] % 5) {
  case 0:
    fuzz_header(d, n);
    break;
  case 1: {
    struct tern_claims c;
    char reason[128];
    verify((const char *)d, n, NOW, &c, reason, sizeof reason);
    break;
  }
  case 2:
    fuzz_signed(d, n);
    break;
  case 3:
    fuzz_payload_vs_header(d, n);
    break;
  default:
    fuzz_strings(d, n);
  }
  free(d);
  return 0;
}
