/* test_claims — X-User-Claim parsing, HS256 JWT verification, Bearer
 * parsing and conversation ids (src/api/claims.c).
 *
 * Tokens are built here with our own base64url encoder and OpenSSL's HMAC,
 * and some are fixed literals computed outside this code base (python3's
 * hmac/base64/json, and the example token published on jwt.io), so the
 * verifier is checked against independent implementations. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include "api/claims.h"
#include "test.h"

static const char SECRET[] = "correct horse battery staple";
#define SEC ((const uint8_t *)SECRET), (sizeof SECRET - 1)
#define NOW ((int64_t)1800000000)

/* A failure reason is a short printable-ASCII sentence (it becomes an HTTP
 * body and a log line). */
static bool printable(const char *s) {
  if (!s[0])
    return false;
  for (; *s; s++)
    if (*s < 0x20 || *s > 0x7e)
      return false;
  return true;
}

static bool cleared(const struct tern_claims *c) {
  return c->userid[0] == '\0' && c->clientid[0] == '\0';
}

/* ---- X-User-Claim ---------------------------------------------------------- */

struct header_case {
  const char *name;
  const char *in;
  size_t len; /* 0: strlen(in) (in != NULL) */
  int rc;
  const char *reason; /* substring of the reason on failure */
  const char *userid, *clientid;
};

static void check_header_case(const struct header_case *c, const char *in, size_t len) {
  struct tern_claims out;
  char reason[128];
  memset(&out, 'X', sizeof out);
  memset(reason, 'X', sizeof reason);
  int rc = tern_claims_from_header(in, len, &out, reason, sizeof reason);
  if (rc != c->rc)
    fprintf(stderr, "  case %s: rc %d (%s)\n", c->name, rc, rc ? reason : "");
  CHECK_EQ_INT(rc, c->rc);
  if (c->rc == 0) {
    CHECK_EQ_STR(out.userid, c->userid);
    CHECK_EQ_STR(out.clientid, c->clientid);
  } else {
    CHECK(cleared(&out));
    CHECK(printable(reason));
    if (!strstr(reason, c->reason))
      fprintf(stderr, "  case %s: reason \"%s\", want \"%s\"\n", c->name, reason, c->reason);
    CHECK(strstr(reason, c->reason) != NULL);
  }
}

static void test_header_table(void) {
  static const struct header_case cases[] = {
      {"missing", NULL, 0, -EINVAL, "missing X-User-Claim header", 0, 0},
      {"empty", "", 0, -EINVAL, "empty", 0, 0},
      {"blank", "  \t ", 0, -EINVAL, "empty", 0, 0},
      {"not json", "userid=alice", 0, -EINVAL, "not JSON", 0, 0},
      {"truncated", "{\"userid\":\"a\",\"clientid\":\"c\"", 0, -EINVAL, "not JSON", 0, 0},
      {"trailing garbage", "{\"userid\":\"a\",\"clientid\":\"c\"} x", 0, -EINVAL, "not JSON", 0, 0},
      {"two objects", "{\"userid\":\"a\",\"clientid\":\"c\"}{}", 0, -EINVAL, "not JSON", 0, 0},
      {"array", "[\"alice\",\"phone\"]", 0, -EINVAL, "must be a JSON object", 0, 0},
      {"string", "\"alice\"", 0, -EINVAL, "must be a JSON object", 0, 0},
      {"number", "42", 0, -EINVAL, "must be a JSON object", 0, 0},
      {"null", "null", 0, -EINVAL, "must be a JSON object", 0, 0},
      {"empty object", "{}", 0, -EINVAL, "userid must be a non-empty string", 0, 0},
      {"userid number", "{\"userid\":1,\"clientid\":\"c\"}", 0, -EINVAL,
       "userid must be a non-empty string", 0, 0},
      {"clientid number", "{\"userid\":\"a\",\"clientid\":2}", 0, -EINVAL,
       "clientid must be a non-empty string", 0, 0},
      {"userid null", "{\"userid\":null,\"clientid\":\"c\"}", 0, -EINVAL, "userid must be", 0, 0},
      {"userid bool", "{\"userid\":true,\"clientid\":\"c\"}", 0, -EINVAL, "userid must be", 0, 0},
      {"userid object", "{\"userid\":{},\"clientid\":\"c\"}", 0, -EINVAL, "userid must be", 0, 0},
      {"userid array", "{\"userid\":[\"a\"],\"clientid\":\"c\"}", 0, -EINVAL, "userid must be", 0,
       0},
      {"no clientid", "{\"userid\":\"a\"}", 0, -EINVAL, "clientid must be a non-empty string", 0, 0},
      {"no userid", "{\"clientid\":\"c\"}", 0, -EINVAL, "userid must be a non-empty string", 0, 0},
      {"empty userid", "{\"userid\":\"\",\"clientid\":\"c\"}", 0, -EINVAL,
       "userid must be a non-empty string", 0, 0},
      {"empty clientid", "{\"userid\":\"a\",\"clientid\":\"\"}", 0, -EINVAL,
       "clientid must be a non-empty string", 0, 0},
      {"keys are case-sensitive", "{\"UserId\":\"a\",\"clientid\":\"c\"}", 0, -EINVAL,
       "userid must be", 0, 0},
      {"duplicate userid", "{\"userid\":\"a\",\"userid\":\"b\",\"clientid\":\"c\"}", 0, -EINVAL,
       "duplicate key", 0, 0},
      {"duplicate in extra", "{\"userid\":\"a\",\"clientid\":\"c\",\"x\":{\"k\":1,\"k\":2}}", 0,
       -EINVAL, "duplicate key", 0, 0},
      {"NUL escape", "{\"userid\":\"a\\u0000b\",\"clientid\":\"c\"}", 0, -EINVAL, "NUL", 0, 0},
      {"NUL escape in extra", "{\"userid\":\"a\",\"clientid\":\"c\",\"x\":\"\\u0000\"}", 0, -EINVAL,
       "NUL", 0, 0},
      {"raw NUL byte", "{\"userid\":\"a\0b\",\"clientid\":\"c\"}", 31, -EINVAL, "X-User-Claim", 0,
       0},
      {"control \\u0001", "{\"userid\":\"a\\u0001\",\"clientid\":\"c\"}", 0, -EINVAL,
       "userid must not contain control characters", 0, 0},
      {"control newline", "{\"userid\":\"a\",\"clientid\":\"c\\nX-Admin: 1\"}", 0, -EINVAL,
       "clientid must not contain control characters", 0, 0},
      {"control tab", "{\"userid\":\"a\\tb\",\"clientid\":\"c\"}", 0, -EINVAL, "control", 0, 0},
      {"control DEL", "{\"userid\":\"a\\u007f\",\"clientid\":\"c\"}", 0, -EINVAL, "control", 0, 0},
      {"control C1 NEL", "{\"userid\":\"a\\u0085\",\"clientid\":\"c\"}", 0, -EINVAL, "control", 0,
       0},
      {"control C1 raw", "{\"userid\":\"\xc2\x9f\",\"clientid\":\"c\"}", 0, -EINVAL, "control", 0,
       0},
      {"raw control in string", "{\"userid\":\"a\x01\",\"clientid\":\"c\"}", 0, -EINVAL,
       "not JSON", 0, 0},
      {"invalid UTF-8", "{\"userid\":\"\xff\",\"clientid\":\"c\"}", 0, -EINVAL, "not JSON", 0, 0},
      {"lone surrogate", "{\"userid\":\"\\ud800\",\"clientid\":\"c\"}", 0, -EINVAL, "not JSON", 0,
       0},
      {"ok", "{\"userid\":\"alice\",\"clientid\":\"phone-1\"}", 0, 0, 0, "alice", "phone-1"},
      {"ok reordered, spaced", " { \"clientid\" : \"c\" ,\n \"userid\" : \"u\" } ", 0, 0, 0, "u",
       "c"},
      {"extra fields ignored",
       "{\"userid\":\"a\",\"clientid\":\"c\",\"role\":\"admin\",\"n\":[1,2.5,{\"z\":null}]}", 0, 0,
       0, "a", "c"},
      {"spaces inside ids", "{\"userid\":\" a b \",\"clientid\":\"c\"}", 0, 0, 0, " a b ", "c"},
      {"unicode raw", "{\"userid\":\"Zo\xc3\xab \xf0\x9f\x98\x80\",\"clientid\":\"\xe6\x89\x8b\"}",
       0, 0, 0, "Zo\xc3\xab \xf0\x9f\x98\x80", "\xe6\x89\x8b"},
      {"unicode escapes", "{\"userid\":\"\\u00e9\\ud83d\\ude00\",\"clientid\":\"\\u00a0\"}", 0, 0, 0,
       "\xc3\xa9\xf0\x9f\x98\x80", "\xc2\xa0"},
      {"escaped quote and slash", "{\"userid\":\"a\\\"b\\/c\\\\\",\"clientid\":\"c\"}", 0, 0, 0,
       "a\"b/c\\", "c"},
      /* len is what counts, not a NUL: the "x" after the object is not read. */
      {"len shorter than string", "{\"userid\":\"a\",\"clientid\":\"c\"}x", 29, 0, 0, "a", "c"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct header_case *c = &cases[i];
    size_t len = c->len ? c->len : (c->in ? strlen(c->in) : 0);
    /* An exact-size heap copy so ASan catches any read past len. */
    char *copy = NULL;
    if (c->in) {
      copy = malloc(len ? len : 1);
      REQUIRE(copy);
      memcpy(copy, c->in, len);
    }
    check_header_case(c, copy, len);
    free(copy);
  }
}

/* userid of n copies of utf8 (one character), clientid "c". */
static char *claim_with_userid(const char *utf8, size_t n) {
  size_t w = strlen(utf8);
  char *s = malloc(n * w + 64);
  if (!s)
    return NULL;
  size_t o = (size_t)sprintf(s, "{\"userid\":\"");
  for (size_t i = 0; i < n; i++, o += w)
    memcpy(s + o, utf8, w);
  strcpy(s + o, "\",\"clientid\":\"c\"}");
  return s;
}

static void test_header_field_length(void) {
  struct tern_claims out;
  char reason[128];
  /* 256 vs 257 characters, in 1-byte and in 2-byte characters (counted as
   * characters, not bytes). */
  const char *chars[] = {"u", "\xc3\xa9"};
  const size_t width[] = {1, 2};
  for (size_t k = 0; k < 2; k++) {
    char *s = claim_with_userid(chars[k], 256);
    REQUIRE(s);
    CHECK_EQ_INT(tern_claims_from_header(s, strlen(s), &out, reason, sizeof reason), 0);
    CHECK_EQ_INT(strlen(out.userid), 256 * width[k]);
    free(s);
    s = claim_with_userid(chars[k], 257);
    REQUIRE(s);
    CHECK_EQ_INT(tern_claims_from_header(s, strlen(s), &out, reason, sizeof reason), -EINVAL);
    CHECK_EQ_STR(reason, "userid is longer than 256 characters");
    free(s);
  }
  /* clientid too. */
  char s[400];
  int n = sprintf(s, "{\"userid\":\"u\",\"clientid\":\"");
  memset(s + n, 'c', 257);
  strcpy(s + n + 257, "\"}");
  CHECK_EQ_INT(tern_claims_from_header(s, strlen(s), &out, reason, sizeof reason), -EINVAL);
  CHECK_EQ_STR(reason, "clientid is longer than 256 characters");
  s[n + 256] = '"', s[n + 257] = '}', s[n + 258] = '\0';
  CHECK_EQ_INT(tern_claims_from_header(s, strlen(s), &out, reason, sizeof reason), 0);
  CHECK_EQ_INT(strlen(out.clientid), 256);
}

static void test_header_size(void) {
  struct tern_claims out;
  char reason[128];
  char *s = malloc(TERN_CLAIM_MAX_HEADER + 2);
  REQUIRE(s);
  /* Exactly 1024 bytes: {"userid":"u","clientid":"c","pad":"xxx…"} */
  const char *head = "{\"userid\":\"u\",\"clientid\":\"c\",\"pad\":\"";
  size_t h = strlen(head);
  for (size_t total = TERN_CLAIM_MAX_HEADER; total <= TERN_CLAIM_MAX_HEADER + 1; total++) {
    memcpy(s, head, h);
    memset(s + h, 'x', total - h - 2);
    memcpy(s + total - 2, "\"}", 2);
    int rc = tern_claims_from_header(s, total, &out, reason, sizeof reason);
    if (total == TERN_CLAIM_MAX_HEADER) {
      CHECK_EQ_INT(rc, 0);
      CHECK_EQ_STR(out.userid, "u");
    } else {
      CHECK_EQ_INT(rc, -EINVAL);
      CHECK_EQ_STR(reason, "X-User-Claim is larger than 1024 bytes");
    }
  }
  free(s);
}

static void test_header_reason_buffer(void) {
  struct tern_claims out;
  char small[8];
  /* A short buffer truncates but stays terminated; NULL/0 is allowed. */
  CHECK_EQ_INT(tern_claims_from_header(NULL, 0, &out, small, sizeof small), -EINVAL);
  CHECK_EQ_STR(small, "missing");
  CHECK_EQ_INT(tern_claims_from_header("[]", 2, &out, NULL, 0), -EINVAL);
  CHECK_EQ_INT(tern_claims_from_header("{\"userid\":\"a\",\"clientid\":\"b\"}", 29, NULL, NULL, 0),
               -EINVAL);
}

/* ---- JWT ------------------------------------------------------------------ */

static size_t b64url(const void *in, size_t n, char *out) {
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const uint8_t *p = in;
  size_t o = 0, i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[o++] = A[v >> 18], out[o++] = A[v >> 12 & 63], out[o++] = A[v >> 6 & 63],
    out[o++] = A[v & 63];
  }
  if (n - i == 1) {
    uint32_t v = (uint32_t)p[i] << 16;
    out[o++] = A[v >> 18], out[o++] = A[v >> 12 & 63];
  } else if (n - i == 2) {
    uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
    out[o++] = A[v >> 18], out[o++] = A[v >> 12 & 63], out[o++] = A[v >> 6 & 63];
  }
  out[o] = '\0';
  return o;
}

/* header.payload.HMAC-SHA256(secret); out must hold 2 * (|h| + |p|) + 64. */
static char *sign(const char *header, const char *payload, const char *secret, char *out) {
  size_t o = b64url(header, strlen(header), out);
  out[o++] = '.';
  o += b64url(payload, strlen(payload), out + o);
  uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), secret, (int)strlen(secret), (const uint8_t *)out, o, mac, &mac_len);
  out[o++] = '.';
  b64url(mac, mac_len, out + o);
  return out;
}

static const char HS256[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static int verify(const char *tok, int64_t now, struct tern_claims *out, char *reason, size_t cap) {
  size_t n = strlen(tok);
  char *copy = malloc(n ? n : 1); /* exact size: no reading past len */
  if (!copy)
    return -ENOMEM;
  memcpy(copy, tok, n);
  memset(out, 'X', sizeof *out);
  int rc = tern_claims_from_jwt(copy, n, SEC, now, out, reason, cap);
  free(copy);
  return rc;
}

/* Fixed tokens computed with python3 (hmac, hashlib, base64, json), not
 * with this code:
 *   tok({"alg":"HS256","typ":"JWT"}, {"userid":"alice","clientid":"phone-1",
 *       "exp":1900000000,"iat":1700000000}, b"correct horse battery staple")
 * where tok signs b64url(json(h)) + "." + b64url(json(p)) with HMAC-SHA256. */
static const char PY_ALICE[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJ1c2VyaWQiOiJhbGljZSIsImNsaWVudGlkIjoicGhvbmUtMSIsImV4cCI6MTkwMDAwMDAwMCwiaWF0IjoxNzAwMDAw"
    "MDAwfQ.tiDGyw0yhcmQmLLFXqXpoGRmMeE4gV3NSTftfk2XrKQ";
/* {"userid":"Zoë 😀","clientid":"web"}, no exp */
static const char PY_ZOE[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyaWQiOiJab8OrIPCfmIAiLCJjbGllbnRpZCI6IndlYiJ9."
    "MV65CK8gNqi_6tx2k37d6TnCgvW6Uc6PQCRv3og2soE";
/* {"userid":"bob","clientid":"laptop","exp":1600000000} */
static const char PY_BOB_EXP[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJ1c2VyaWQiOiJib2IiLCJjbGllbnRpZCI6ImxhcHRvcCIsImV4cCI6MTYwMDAwMDAwMH0."
    "eal3J58t-lYdu1hrM6DidCaYAHVh28SXIbRP7p3ztvA";
/* The example on jwt.io, signed with "your-256-bit-secret"; it has no
 * userid, so a correct verifier gets past the signature and then refuses. */
static const char JWTIO[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

static void test_jwt_fixed(void) {
  struct tern_claims out;
  char reason[128];
  CHECK_EQ_INT(verify(PY_ALICE, NOW, &out, reason, sizeof reason), 0);
  CHECK_EQ_STR(out.userid, "alice");
  CHECK_EQ_STR(out.clientid, "phone-1");
  CHECK_EQ_INT(verify(PY_ALICE, 1900000000 + TERN_JWT_LEEWAY_S, &out, reason, sizeof reason),
               -EACCES);
  CHECK_EQ_STR(reason, "token expired");

  CHECK_EQ_INT(verify(PY_ZOE, NOW, &out, reason, sizeof reason), 0);
  CHECK_EQ_STR(out.userid, "Zo\xc3\xab \xf0\x9f\x98\x80");
  CHECK_EQ_STR(out.clientid, "web");

  CHECK_EQ_INT(verify(PY_BOB_EXP, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "token expired");
  CHECK(cleared(&out));
  CHECK_EQ_INT(verify(PY_BOB_EXP, 1600000000 + TERN_JWT_LEEWAY_S - 1, &out, reason, sizeof reason),
               0);
  CHECK_EQ_STR(out.userid, "bob");

  static const char jwtio_secret[] = "your-256-bit-secret";
  CHECK_EQ_INT(tern_claims_from_jwt(JWTIO, strlen(JWTIO), (const uint8_t *)jwtio_secret,
                                    strlen(jwtio_secret), NOW, &out, reason, sizeof reason),
               -EACCES);
  CHECK_EQ_STR(reason, "userid must be a non-empty string");
  CHECK_EQ_INT(verify(JWTIO, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "bad signature");

  /* Our encoder + HMAC reproduce python's token byte for byte. */
  char tok[512];
  sign(HS256, "{\"userid\":\"alice\",\"clientid\":\"phone-1\",\"exp\":1900000000,\"iat\":1700000000}",
       SECRET, tok);
  CHECK_EQ_STR(tok, PY_ALICE);
}

struct jwt_case {
  const char *name;
  const char *header, *payload; /* signed with SECRET */
  int64_t now;
  int rc;
  const char *reason; /* substring */
};

static void test_jwt_table(void) {
  static const struct jwt_case cases[] = {
      {"good", HS256, "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, 0, 0},
      {"good no typ", "{\"alg\":\"HS256\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, 0, 0},
      {"good typ lower, kid", "{\"alg\":\"HS256\",\"typ\":\"jwt\",\"kid\":\"k1\"}",
       "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, 0, 0},
      {"extra claims", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"iss\":\"x\",\"aud\":[1]}",
       NOW, 0, 0},
      {"exp just inside leeway", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"exp\":1799999971}",
       NOW, 0, 0},
      {"exp at leeway", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"exp\":1799999970}", NOW,
       -EACCES, "token expired"},
      {"exp long ago", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"exp\":1}", NOW, -EACCES,
       "token expired"},
      {"exp real", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"exp\":1799999969.5}", NOW,
       -EACCES, "token expired"},
      {"exp future", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"exp\":1800000600}", NOW, 0, 0},
      {"exp string", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"exp\":\"1900000000\"}", NOW,
       -EACCES, "malformed token (exp is not a number)"},
      {"nbf future", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"nbf\":1800000031}", NOW,
       -EACCES, "token not yet valid"},
      {"nbf within leeway", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"nbf\":1800000030}", NOW,
       0, 0},
      {"nbf past", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"nbf\":1700000000}", NOW, 0, 0},
      {"nbf null", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"nbf\":null}", NOW, -EACCES,
       "malformed token (nbf is not a number)"},
      {"alg none", "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW,
       -EACCES, "alg none is not accepted"},
      {"alg NoNe", "{\"alg\":\"NoNe\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "alg none is not accepted"},
      {"alg HS512", "{\"alg\":\"HS512\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "only alg HS256 is accepted"},
      {"alg RS256", "{\"alg\":\"RS256\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "only alg HS256 is accepted"},
      {"alg hs256", "{\"alg\":\"hs256\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "only alg HS256 is accepted"},
      {"alg missing", "{\"typ\":\"JWT\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "malformed token (no alg)"},
      {"alg number", "{\"alg\":256}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "malformed token (no alg)"},
      {"typ JWE", "{\"alg\":\"HS256\",\"typ\":\"JWE\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW,
       -EACCES, "malformed token (typ is not JWT)"},
      {"crit", "{\"alg\":\"HS256\",\"crit\":[\"exp\"]}", "{\"userid\":\"u\",\"clientid\":\"c\"}",
       NOW, -EACCES, "malformed token (unsupported crit header)"},
      {"header duplicate alg", "{\"alg\":\"none\",\"alg\":\"HS256\"}",
       "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES, "token header has a duplicate key"},
      {"header array", "[\"HS256\"]", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "token header must be a JSON object"},
      {"header not JSON", "HS256", "{\"userid\":\"u\",\"clientid\":\"c\"}", NOW, -EACCES,
       "token header is not JSON"},
      {"missing claims", HS256, "{\"sub\":\"u\"}", NOW, -EACCES,
       "userid must be a non-empty string"},
      {"missing clientid", HS256, "{\"userid\":\"u\"}", NOW, -EACCES,
       "clientid must be a non-empty string"},
      {"userid number", HS256, "{\"userid\":7,\"clientid\":\"c\"}", NOW, -EACCES,
       "userid must be a non-empty string"},
      {"empty userid", HS256, "{\"userid\":\"\",\"clientid\":\"c\"}", NOW, -EACCES,
       "userid must be a non-empty string"},
      {"control in clientid", HS256, "{\"userid\":\"u\",\"clientid\":\"c\\r\\n\"}", NOW, -EACCES,
       "clientid must not contain control characters"},
      {"NUL in userid", HS256, "{\"userid\":\"u\\u0000admin\",\"clientid\":\"c\"}", NOW, -EACCES,
       "token payload contains a NUL character"},
      {"duplicate userid", HS256, "{\"userid\":\"u\",\"clientid\":\"c\",\"userid\":\"admin\"}", NOW,
       -EACCES, "token payload has a duplicate key"},
      {"payload array", HS256, "[{\"userid\":\"u\",\"clientid\":\"c\"}]", NOW, -EACCES,
       "token payload must be a JSON object"},
      {"payload empty", HS256, "", NOW, -EACCES, "token payload is not JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct jwt_case *c = &cases[i];
    char tok[1024], reason[128];
    struct tern_claims out;
    sign(c->header, c->payload, SECRET, tok);
    int rc = verify(tok, c->now, &out, reason, sizeof reason);
    if (rc != c->rc || (rc && !strstr(reason, c->reason)))
      fprintf(stderr, "  case %s: rc %d reason \"%s\"\n", c->name, rc, rc ? reason : "");
    CHECK_EQ_INT(rc, c->rc);
    if (c->rc) {
      CHECK(strstr(reason, c->reason) != NULL);
      CHECK(printable(reason));
      CHECK(cleared(&out));
    } else {
      CHECK(out.userid[0] && out.clientid[0]);
    }
  }
}

static void test_jwt_signature(void) {
  char tok[512], other[600], reason[128];
  struct tern_claims out;
  sign(HS256, "{\"userid\":\"u\",\"clientid\":\"c\"}", SECRET, tok);
  REQUIRE(verify(tok, NOW, &out, reason, sizeof reason) == 0);
  size_t n = strlen(tok);
  const char *sig = strrchr(tok, '.') + 1;
  size_t sig_off = (size_t)(sig - tok);

  /* Wrong secret, and a secret one byte longer (HMAC keys are not prefixes). */
  sign(HS256, "{\"userid\":\"u\",\"clientid\":\"c\"}", "correct horse battery stapl", other);
  CHECK_EQ_INT(verify(other, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "bad signature");
  sign(HS256, "{\"userid\":\"u\",\"clientid\":\"c\"}", "correct horse battery staple!", other);
  CHECK_EQ_INT(verify(other, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "bad signature");

  /* Every single-character change of the signature is refused, including
   * ones that touch only the unused low bits of the last character. */
  int refused = 0;
  for (size_t i = sig_off; i < n; i++) {
    memcpy(other, tok, n + 1);
    other[i] = other[i] == 'A' ? 'B' : 'A';
    refused += verify(other, NOW, &out, reason, sizeof reason) == -EACCES;
  }
  CHECK_EQ_INT(refused, (int)(n - sig_off));
  /* 32 bytes take 43 characters; the last one carries 2 bits and 4 unused
   * ones. Setting an unused bit leaves the decoded bytes equal, so only the
   * strict decoder refuses it (else the signature would be malleable). */
  static const char A64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  REQUIRE(n - sig_off == 43);
  memcpy(other, tok, n + 1);
  other[n - 1] = A64[(strchr(A64, tok[n - 1]) - A64) ^ 1];
  CHECK_EQ_INT(verify(other, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "malformed token (signature is not base64url)");

  /* A valid signature moved onto another payload. */
  char forged[512];
  sign(HS256, "{\"userid\":\"admin\",\"clientid\":\"c\"}", "guess", forged);
  strcpy(strrchr(forged, '.') + 1, sig);
  CHECK_EQ_INT(verify(forged, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "bad signature");

  /* Truncated or extended signature. */
  memcpy(other, tok, n + 1);
  other[n - 1] = '\0';
  CHECK_EQ_INT(verify(other, NOW, &out, reason, sizeof reason), -EACCES);
  snprintf(other, sizeof other, "%sAAAA", tok);
  CHECK_EQ_INT(verify(other, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "bad signature");

  /* alg none: without a signature, and with the HMAC a HS256 token would carry. */
  char none[512];
  sign("{\"alg\":\"none\"}", "{\"userid\":\"u\",\"clientid\":\"c\"}", SECRET, none);
  CHECK_EQ_INT(verify(none, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "alg none is not accepted");
  *(strrchr(none, '.') + 1) = '\0';
  CHECK_EQ_INT(verify(none, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "alg none is not accepted");

  /* No secret at all never verifies, even a token signed with "". */
  sign(HS256, "{\"userid\":\"u\",\"clientid\":\"c\"}", "", other);
  CHECK_EQ_INT(tern_claims_from_jwt(other, strlen(other), (const uint8_t *)"", 0, NOW, &out,
                                    reason, sizeof reason),
               -EACCES);
  CHECK_EQ_STR(reason, "no usable JWT secret configured");
}

static void test_jwt_malformed(void) {
  char good[512], reason[128], buf[600];
  struct tern_claims out;
  sign(HS256, "{\"userid\":\"u\",\"clientid\":\"c\"}", SECRET, good);
  const char *dot2 = strrchr(good, '.');

  static const struct {
    const char *tok, *reason;
  } cases[] = {
      {"", "missing token"},
      {"abc", "malformed token (not three segments)"},
      {"a.b", "malformed token (not three segments)"},
      {"a.b.c.d", "malformed token (not three segments)"},
      {"a.b.c.d.e", "encrypted tokens (JWE) are not accepted"},
      {"..", "token header is not JSON (error at byte 0)"},
      {"!!!!.e30.AAAA", "malformed token (header is not base64url)"},
      {"eyJhbGciOiJIUzI1NiJ9 .e30.AAAA", "malformed token (header is not base64url)"},
      {"e.e30.AAAA", "malformed token (header is not base64url)"}, /* length 1 mod 4 */
      {"eyJhbGciOiJIUzI1NiJ9.e30.AA+A", "malformed token (signature is not base64url)"},
      {"eyJhbGciOiJIUzI1NiJ9.e30.AA/A", "malformed token (signature is not base64url)"},
      {"eyJhbGciOiJIUzI1NiJ9==.e30.AAAA", "malformed token (base64url padding is not allowed)"},
      /* standard base64 of the header, not url-safe: a valid char set but
       * '+'/'/' are not base64url */
      {"eyJhbGciOiJIUzI1NiJ9+.e30.AAAA", "malformed token (header is not base64url)"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc = verify(cases[i].tok, NOW, &out, reason, sizeof reason);
    if (rc != -EACCES || strcmp(reason, cases[i].reason))
      fprintf(stderr, "  token \"%s\": rc %d reason \"%s\"\n", cases[i].tok, rc, reason);
    CHECK_EQ_INT(rc, -EACCES);
    CHECK_EQ_STR(reason, cases[i].reason);
  }

  /* Padding on the signature of an otherwise good token. */
  snprintf(buf, sizeof buf, "%s=", good);
  CHECK_EQ_INT(verify(buf, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "malformed token (base64url padding is not allowed)");
  /* Whitespace around or inside. */
  snprintf(buf, sizeof buf, " %s", good);
  CHECK_EQ_INT(verify(buf, NOW, &out, reason, sizeof reason), -EACCES);
  snprintf(buf, sizeof buf, "%s\n", good);
  CHECK_EQ_INT(verify(buf, NOW, &out, reason, sizeof reason), -EACCES);
  snprintf(buf, sizeof buf, "%.*s %s", (int)(dot2 - good), good, dot2);
  CHECK_EQ_INT(verify(buf, NOW, &out, reason, sizeof reason), -EACCES);

  /* Only len bytes count: a good token followed by junk, given its length. */
  snprintf(buf, sizeof buf, "%s.junk", good);
  CHECK_EQ_INT(tern_claims_from_jwt(buf, strlen(good), SEC, NOW, &out, reason, sizeof reason), 0);
  CHECK_EQ_INT(tern_claims_from_jwt(buf, strlen(buf), SEC, NOW, &out, reason, sizeof reason),
               -EACCES);
  /* NULL token. */
  CHECK_EQ_INT(tern_claims_from_jwt(NULL, 0, SEC, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "missing token");
}

static void test_jwt_sizes(void) {
  char reason[128];
  struct tern_claims out;
  char *payload = malloc(TERN_JWT_MAX), *tok = malloc(2 * TERN_JWT_MAX + 200);
  REQUIRE(payload && tok);

  /* The largest token under the limit verifies; one more byte of claims
   * makes it too large. */
  size_t best = 0;
  for (size_t pad = 1; pad < TERN_JWT_MAX; pad++) {
    int n = snprintf(payload, TERN_JWT_MAX, "{\"userid\":\"u\",\"clientid\":\"c\",\"p\":\"%*s\"}",
                     (int)pad, "");
    if (n >= TERN_JWT_MAX)
      break;
    sign(HS256, payload, SECRET, tok);
    if (strlen(tok) > TERN_JWT_MAX)
      break;
    best = pad;
  }
  REQUIRE(best > 0);
  snprintf(payload, TERN_JWT_MAX, "{\"userid\":\"u\",\"clientid\":\"c\",\"p\":\"%*s\"}", (int)best, "");
  sign(HS256, payload, SECRET, tok);
  CHECK(strlen(tok) >= TERN_JWT_MAX - 1);
  CHECK_EQ_INT(verify(tok, NOW, &out, reason, sizeof reason), 0);
  snprintf(payload, TERN_JWT_MAX, "{\"userid\":\"u\",\"clientid\":\"c\",\"p\":\"%*s\"}",
           (int)best + 1, "");
  sign(HS256, payload, SECRET, tok);
  CHECK(strlen(tok) > TERN_JWT_MAX);
  CHECK_EQ_INT(verify(tok, NOW, &out, reason, sizeof reason), -EACCES);
  CHECK_EQ_STR(reason, "token is larger than 4096 bytes");

  /* 256 four-byte characters fill a field's 1024 bytes; 257 are refused. */
  for (int n = 256; n <= 257; n++) {
    int o = sprintf(payload, "{\"clientid\":\"c\",\"userid\":\"");
    for (int i = 0; i < n; i++, o += 4)
      memcpy(payload + o, "\xf0\x9f\x98\x80", 4);
    strcpy(payload + o, "\"}");
    sign(HS256, payload, SECRET, tok);
    int rc = verify(tok, NOW, &out, reason, sizeof reason);
    if (n == 256) {
      CHECK_EQ_INT(rc, 0);
      CHECK_EQ_INT(strlen(out.userid), 1024);
      CHECK(memcmp(out.userid + 1020, "\xf0\x9f\x98\x80", 4) == 0);
    } else {
      CHECK_EQ_INT(rc, -EACCES);
      CHECK_EQ_STR(reason, "userid is longer than 256 characters");
    }
  }
  free(payload);
  free(tok);
}

/* ---- Bearer ------------------------------------------------------------------ */

static void test_bearer(void) {
  static const struct {
    const char *in;
    int rc;
    const char *token;
  } cases[] = {
      {"Bearer abc.def.ghi", 0, "abc.def.ghi"},
      {"bearer abc", 0, "abc"},
      {"BEARER abc", 0, "abc"},
      {"BeArEr abc", 0, "abc"},
      {"  Bearer     abc  ", 0, "abc"},
      {"Bearer\tabc\t", 0, "abc"},
      {"Bearer a-b_c~d+e/f==", 0, "a-b_c~d+e/f=="},
      {NULL, -ENOENT, NULL},
      {"", -ENOENT, NULL},
      {"Basic dXNlcjpwYXNz", -ENOENT, NULL},
      {"Bearerabc", -ENOENT, NULL},
      {"Bear abc", -ENOENT, NULL},
      {"Bearer", -EINVAL, NULL},
      {"Bearer    ", -EINVAL, NULL},
      {"Bearer a b", -EINVAL, NULL},
      {"Bearer a,b", -EINVAL, NULL},
      {"Bearer =abc", -EINVAL, NULL},
      {"Bearer abc=d", -EINVAL, NULL},
      {"Bearer \"abc\"", -EINVAL, NULL},
      {"Bearer abc\r\n", -EINVAL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *tok = (const char *)1;
    size_t len = 99;
    int rc = tern_claims_bearer(cases[i].in, &tok, &len);
    if (rc != cases[i].rc)
      fprintf(stderr, "  bearer \"%s\": rc %d\n", cases[i].in ? cases[i].in : "(null)", rc);
    CHECK_EQ_INT(rc, cases[i].rc);
    if (cases[i].rc == 0) {
      CHECK(tok >= cases[i].in && tok < cases[i].in + strlen(cases[i].in));
      CHECK_EQ_INT(len, strlen(cases[i].token));
      CHECK(tok && strncmp(tok, cases[i].token, len) == 0);
    } else {
      CHECK(tok == NULL && len == 0);
    }
  }

  /* End to end: header → token → claims. */
  char hdr[600], reason[128];
  struct tern_claims out;
  snprintf(hdr, sizeof hdr, "Bearer  %s ", PY_ALICE);
  const char *tok;
  size_t len;
  REQUIRE(tern_claims_bearer(hdr, &tok, &len) == 0);
  CHECK_EQ_INT(tern_claims_from_jwt(tok, len, SEC, NOW, &out, reason, sizeof reason), 0);
  CHECK_EQ_STR(out.userid, "alice");
}

/* ---- conversation ids ------------------------------------------------------ */

static void test_conversation_ids(void) {
  static const struct {
    const char *id;
    bool ok;
  } cases[] = {
      {"a", true},          {"general", true},   {"Team-42_x.y", true}, {"0", true},
      {"a..b", true},       {"...", true},       {".hidden", true},     {"-", true},
      {NULL, false},        {"", false},         {".", false},          {"..", false},
      {"a/b", false},       {"/", false},        {"../x", false},       {"a%2Fb", false},
      {"%", false},         {"a b", false},      {"a\tb", false},       {"a\nb", false},
      {"caf\xc3\xa9", false}, {"a?b", false},    {"a#b", false},        {"a+b", false},
      {"a:b", false},       {"a\\b", false},     {"~a", false},         {"a\"b", false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    bool ok = tern_conversation_id_valid(cases[i].id);
    if (ok != cases[i].ok)
      fprintf(stderr, "  id \"%s\": %d\n", cases[i].id ? cases[i].id : "(null)", ok);
    CHECK(ok == cases[i].ok);
  }
  char id[TERN_CONVERSATION_ID_MAX + 2];
  memset(id, 'x', sizeof id);
  id[TERN_CONVERSATION_ID_MAX] = '\0';
  CHECK(tern_conversation_id_valid(id)); /* 128 */
  id[TERN_CONVERSATION_ID_MAX] = 'x';
  id[TERN_CONVERSATION_ID_MAX + 1] = '\0';
  CHECK(!tern_conversation_id_valid(id)); /* 129 */
  /* Every byte outside the set is refused on its own. */
  int accepted = 0;
  for (int c = 1; c < 256; c++) {
    char s[2] = {(char)c, 0};
    accepted += tern_conversation_id_valid(s);
  }
  CHECK_EQ_INT(accepted, 26 + 26 + 10 + 2); /* '.' alone is refused */
}

int main(void) {
  RUN(test_header_table);
  RUN(test_header_field_length);
  RUN(test_header_size);
  RUN(test_header_reason_buffer);
  RUN(test_jwt_fixed);
  RUN(test_jwt_table);
  RUN(test_jwt_signature);
  RUN(test_jwt_malformed);
  RUN(test_jwt_sizes);
  RUN(test_bearer);
  RUN(test_conversation_ids);
  return TEST_RESULT();
}
