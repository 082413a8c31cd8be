/* claims — X-User-Claim, HS256 JWT, Bearer and conversation ids; see
 * claims.h for the rules. */
#include "api/claims.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SHA256_LEN 32
/* A segment of a TERN_JWT_MAX token decodes to at most 3/4 of it. */
#define JWT_SEGMENT_MAX (TERN_JWT_MAX / 4 * 3 + 3)

static int fail(char *reason, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *reason, size_t cap, int rc, const char *fmt, ...) {
  if (reason && cap) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, cap, fmt, ap);
    va_end(ap);
  }
  return rc;
}

static void clear(struct tern_claims *out) {
  if (out)
    out->userid[0] = out->clientid[0] = '\0';
}

/* ---- the two identity fields ----------------------------------------------- */

/* Copies obj[name] into dst (TERN_CLAIM_FIELD_BYTES) if it is a valid id.
 * jansson has already checked that the string is well-formed UTF-8 without
 * NUL (JSON_ALLOW_NUL is off), so the walk only needs lead bytes. */
static int read_field(json_t *obj, const char *name, char *dst, int rc, char *reason, size_t cap) {
  json_t *v = json_object_get(obj, name);
  if (!json_is_string(v) || json_string_length(v) == 0)
    return fail(reason, cap, rc, "%s must be a non-empty string", name);
  const unsigned char *s = (const unsigned char *)json_string_value(v);
  size_t n = json_string_length(v), chars = 0;

  for (size_t i = 0; i < n; i++) {
    unsigned char c = s[i];
    /* C0, DEL, and C1 (U+0080-U+009F is 0xC2 0x80-0x9F in UTF-8): an id
     * with these could forge log lines or confuse whatever prints it. */
    if (c < 0x20 || c == 0x7f || (c == 0xc2 && i + 1 < n && s[i + 1] < 0xa0))
      return fail(reason, cap, rc, "%s must not contain control characters", name);
    if ((c & 0xc0) != 0x80)
      chars++;
  }
  if (chars > TERN_CLAIM_MAX_FIELD)
    return fail(reason, cap, rc, "%s is longer than %d characters", name, TERN_CLAIM_MAX_FIELD);
  if (n >= TERN_CLAIM_FIELD_BYTES) /* cannot happen for valid UTF-8; belt and braces */
    return fail(reason, cap, rc, "%s is longer than %d characters", name, TERN_CLAIM_MAX_FIELD);
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 0;
}

static int read_identity(json_t *obj, struct tern_claims *out, int rc, char *reason, size_t cap) {
  int err = read_field(obj, "userid", out->userid, rc, reason, cap);
  if (!err)
    err = read_field(obj, "clientid", out->clientid, rc, reason, cap);
  if (err)
    clear(out);
  return err;
}

/* Parses buf as JSON. On failure says why in terms of what (a name for the
 * text, e.g. "X-User-Claim"); jansson's own message is not used because it
 * quotes the input ("invalid token near '…'"). */
static json_t *parse_json(const char *buf, size_t len, const char *what, int rc, int *err,
                          char *reason, size_t cap) {
  json_error_t je;
  /* DECODE_ANY so that a bare string or number is reported as "not an
   * object" rather than "not JSON"; duplicates would make "which userid?"
   * depend on the parser. */
  json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
  if (!j) {
    switch (json_error_code(&je)) {
    case json_error_null_character:
      *err = fail(reason, cap, rc, "%s contains a NUL character", what);
      break;
    case json_error_duplicate_key:
      *err = fail(reason, cap, rc, "%s has a duplicate key", what);
      break;
    default:
      *err = fail(reason, cap, rc, "%s is not JSON (error at byte %d)", what, je.position);
    }
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    *err = fail(reason, cap, rc, "%s must be a JSON object", what);
    return NULL;
  }
  return j;
}

int tern_claims_from_header(const char *header, size_t len, struct tern_claims *out,
                            char *reason, size_t cap) {
  int err = 0;
  clear(out);
  if (reason && cap)
    reason[0] = '\0';
  if (!out)
    return fail(reason, cap, -EINVAL, "no output");
  if (!header)
    return fail(reason, cap, -EINVAL, "missing X-User-Claim header");
  if (len > TERN_CLAIM_MAX_HEADER)
    return fail(reason, cap, -EINVAL, "X-User-Claim is larger than %d bytes",
                TERN_CLAIM_MAX_HEADER);
  size_t blank = 0;
  while (blank < len && (header[blank] == ' ' || header[blank] == '\t'))
    blank++;
  if (blank == len)
    return fail(reason, cap, -EINVAL, "X-User-Claim header is empty");

  json_t *j = parse_json(header, len, "X-User-Claim", -EINVAL, &err, reason, cap);
  if (!j)
    return err;
  err = read_identity(j, out, -EINVAL, reason, cap);
  json_decref(j);
  return err;
}

/* ---- JWT ------------------------------------------------------------------ */

static int b64url_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}

/* Strict unpadded base64url (RFC 7515 §2, RFC 4648 §5): only the 64
 * characters, no length of 1 mod 4, and the unused low bits of the last
 * character zero, so each byte string has exactly one encoding and a token
 * cannot be altered without changing what it decodes to. Returns the
 * decoded length or -1. */
static long b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap) {
  if (n % 4 == 1)
    return -1;
  size_t need = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
  if (need > cap)
    return -1;
  uint32_t acc = 0;
  unsigned bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64url_value((unsigned char)in[i]);
    if (v < 0)
      return -1;
    acc = (acc << 6 | (uint32_t)v) & 0xfffff; /* never more than 14 live bits */
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
    }
  }
  if (acc & ((1u << bits) - 1))
    return -1;
  return (long)o;
}

/* Checks exp/nbf (RFC 7519 §4.1.4-5). Doubles hold every realistic
 * NumericDate exactly and cannot overflow on + leeway. */
static int check_times(json_t *payload, int64_t now_s, char *reason, size_t cap) {
  double now = (double)now_s;
  json_t *exp = json_object_get(payload, "exp");
  json_t *nbf = json_object_get(payload, "nbf");
  if (exp && !json_is_number(exp))
    return fail(reason, cap, -EACCES, "malformed token (exp is not a number)");
  if (nbf && !json_is_number(nbf))
    return fail(reason, cap, -EACCES, "malformed token (nbf is not a number)");
  if (exp && now >= json_number_value(exp) + TERN_JWT_LEEWAY_S)
    return fail(reason, cap, -EACCES, "token expired");
  if (nbf && now + TERN_JWT_LEEWAY_S < json_number_value(nbf))
    return fail(reason, cap, -EACCES, "token not yet valid");
  return 0;
}

static int check_header(json_t *h, char *reason, size_t cap) {
  json_t *alg = json_object_get(h, "alg"), *typ = json_object_get(h, "typ");
  if (!json_is_string(alg))
    return fail(reason, cap, -EACCES, "malformed token (no alg)");
  /* Any case of "none": some verifiers compared case-insensitively and
   * were fooled by "nOnE"; say plainly what was refused. */
  if (strcasecmp(json_string_value(alg), "none") == 0)
    return fail(reason, cap, -EACCES, "alg none is not accepted");
  if (strcmp(json_string_value(alg), "HS256") != 0 || json_string_length(alg) != 5)
    return fail(reason, cap, -EACCES, "only alg HS256 is accepted");
  if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0 ||
              json_string_length(typ) != 3))
    return fail(reason, cap, -EACCES, "malformed token (typ is not JWT)");
  if (json_object_get(h, "crit"))
    return fail(reason, cap, -EACCES, "malformed token (unsupported crit header)");
  return 0;
}

static json_t *decode_part(const char *seg, size_t n, const char *what, uint8_t *buf,
                           int *err, char *reason, size_t cap) {
  long m = b64url_decode(seg, n, buf, JWT_SEGMENT_MAX);
  if (m < 0) {
    *err = fail(reason, cap, -EACCES, "malformed token (%s is not base64url)", what);
    return NULL;
  }
  char name[32];
  snprintf(name, sizeof name, "token %s", what);
  return parse_json((const char *)buf, (size_t)m, name, -EACCES, err, reason, cap);
}

int tern_claims_from_jwt(const char *token, size_t len, const uint8_t *secret, size_t secret_len,
                         int64_t now_s, struct tern_claims *out, char *reason, size_t cap) {
  uint8_t buf[JWT_SEGMENT_MAX];
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  int err = 0;

  clear(out);
  if (reason && cap)
    reason[0] = '\0';
  if (!out)
    return fail(reason, cap, -EACCES, "no output");
  if (!secret || !secret_len || secret_len > INT_MAX)
    return fail(reason, cap, -EACCES, "no usable JWT secret configured");
  if (!token || !len)
    return fail(reason, cap, -EACCES, "missing token");
  if (len > TERN_JWT_MAX)
    return fail(reason, cap, -EACCES, "token is larger than %d bytes", TERN_JWT_MAX);
  if (memchr(token, '=', len))
    return fail(reason, cap, -EACCES, "malformed token (base64url padding is not allowed)");

  size_t dots[2] = {0, 0}, ndots = 0;
  for (size_t i = 0; i < len; i++)
    if (token[i] == '.' && ndots++ < 2)
      dots[ndots - 1] = i;
  if (ndots == 4)
    return fail(reason, cap, -EACCES, "encrypted tokens (JWE) are not accepted");
  if (ndots != 2)
    return fail(reason, cap, -EACCES, "malformed token (not three segments)");
  const char *hseg = token, *pseg = token + dots[0] + 1, *sseg = token + dots[1] + 1;
  size_t hlen = dots[0], plen = dots[1] - dots[0] - 1, slen = len - dots[1] - 1;

  /* The header decides how to verify, so it is read before the signature;
   * the payload is only looked at once the signature holds. */
  json_t *h = decode_part(hseg, hlen, "header", buf, &err, reason, cap);
  if (!h)
    return err;
  err = check_header(h, reason, cap);
  json_decref(h);
  if (err)
    return err;

  long sig_len = b64url_decode(sseg, slen, buf, sizeof buf);
  if (sig_len < 0)
    return fail(reason, cap, -EACCES, "malformed token (signature is not base64url)");
  if (!HMAC(EVP_sha256(), secret, (int)secret_len, (const unsigned char *)token, dots[1], mac,
            &mac_len) ||
      mac_len != SHA256_LEN)
    return fail(reason, cap, -EACCES, "could not compute HMAC-SHA256");
  /* Length is not secret (always 32 for HS256); the bytes are compared in
   * constant time so a forger learns nothing from timing. */
  int bad = sig_len != SHA256_LEN || CRYPTO_memcmp(buf, mac, SHA256_LEN) != 0;
  OPENSSL_cleanse(mac, sizeof mac);
  if (bad)
    return fail(reason, cap, -EACCES, "bad signature");

  json_t *p = decode_part(pseg, plen, "payload", buf, &err, reason, cap);
  if (!p)
    return err;
  err = check_times(p, now_s, reason, cap);
  if (!err)
    err = read_identity(p, out, -EACCES, reason, cap);
  json_decref(p);
  return err;
}

/* ---- Authorization: Bearer ----------------------------------------------- */

static bool b64token_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int tern_claims_bearer(const char *authorization, const char **token, size_t *len) {
  const char *p = authorization;
  if (token)
    *token = NULL;
  if (len)
    *len = 0;
  if (!p)
    return -ENOENT;
  while (*p == ' ' || *p == '\t')
    p++;
  /* RFC 7235 §2.1: the auth-scheme is case-insensitive. */
  if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] && p[6] != ' ' && p[6] != '\t'))
    return -ENOENT;
  p += 6;
  while (*p == ' ' || *p == '\t')
    p++;
  const char *start = p;
  while (b64token_char((unsigned char)*p))
    p++;
  if (p == start)
    return -EINVAL;
  while (*p == '=')
    p++;
  const char *end = p;
  while (*p == ' ' || *p == '\t')
    p++;
  if (*p)
    return -EINVAL; /* a second word, or a character no token has */
  if (token)
    *token = start;
  if (len)
    *len = (size_t)(end - start);
  return 0;
}

/* ---- conversation ids ------------------------------------------------------ */

bool tern_conversation_id_valid(const char *id) {
  if (!id)
    return false;
  size_t n = 0;
  for (; id[n]; n++) {
    unsigned char c = (unsigned char)id[n];
    if (n >= TERN_CONVERSATION_ID_MAX)
      return false;
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '-'))
      return false;
  }
  return n > 0 && strcmp(id, ".") != 0 && strcmp(id, "..") != 0;
}
