/* sdp_int — internals shared by the sdp/ sources only; not a public API.
 * The parser helpers work on spans (pointer + length into the caller's
 * text, never NUL-terminated) so nothing reads past the input's length.
 */
#ifndef TERN_SDP_INT_H
#define TERN_SDP_INT_H

#include "sdp/sdp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Digest length in bytes of a fingerprint hash name (case-insensitive, n
 * bytes, not NUL-terminated), or 0 when it is not one we accept. */
size_t tern_sdp__hash_len(const char *alg, size_t n);

/* RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/". */
static inline int tern_sdp__is_ice_char(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* True when proto names an RTP profile, whose fmts are payload types. */
int tern_sdp__proto_is_rtp(const char *proto);

/* ---- parser internals (sdp_parse.c, sdp_parse_media.c) ---------------- */

/* A slice of the caller's text; never NUL-terminated. */
struct span {
  const char *p;
  size_t n;
};

struct parser {
  struct tern_sdp *s;
  struct tern_sdp_media *m; /* current m-line; NULL in the session part */
  unsigned line;
  char *err;
  size_t errcap;
};

/* Writes "line N: <reason>" into the caller's err; returns -EINVAL. */
int tern_sdp__fail(struct parser *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define fail tern_sdp__fail

/* Attribute handlers, found by name; where says at which level they apply. */
enum { SDP_AT_SESSION = 1, SDP_AT_MEDIA = 2 };
struct tern_sdp__attr {
  const char *name;
  int where;
  int (*fn)(struct parser *ps, struct span value);
};
extern const struct tern_sdp__attr tern_sdp__media_attrs[];
extern const size_t tern_sdp__media_attrs_count;

/* A printable, shortened copy of v for error messages. */
struct quoted {
  char s[44];
};

static inline struct quoted q(struct span v)
{
  struct quoted o;
  size_t max = sizeof(o.s) - 4, i;

  for (i = 0; i < v.n && i < max; i++) {
    unsigned char c = (unsigned char)v.p[i];
    o.s[i] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
  }
  if (v.n > max) {
    memcpy(o.s + i, "...", 3);
    i += 3;
  }
  o.s[i] = '\0';
  return o;
}

static inline bool is_ws(char c) { return c == ' ' || c == '\t'; }

static inline bool is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

static inline struct span trim(struct span v)
{
  while (v.n && is_ws(v.p[0])) {
    v.p++;
    v.n--;
  }
  while (v.n && is_ws(v.p[v.n - 1]))
    v.n--;
  return v;
}

/* Next whitespace-separated token of *rest; n == 0 when there is none. */
static inline struct span tok(struct span *rest)
{
  struct span t;

  *rest = trim(*rest);
  t.p = rest->p;
  t.n = 0;
  while (t.n < rest->n && !is_ws(rest->p[t.n]))
    t.n++;
  rest->p += t.n;
  rest->n -= t.n;
  return t;
}

/* Splits v at the first c: *head before, returns after (n == 0 if absent);
 * *found tells whether c was there. */
static inline struct span split(struct span v, char c, struct span *head,
                                bool *found)
{
  const char *x = v.n ? memchr(v.p, c, v.n) : NULL;
  struct span rest = {v.p + v.n, 0};

  *head = v;
  if (found)
    *found = x != NULL;
  if (x) {
    head->n = (size_t)(x - v.p);
    rest.p = x + 1;
    rest.n = v.n - head->n - 1;
  }
  return rest;
}

static inline bool eq(struct span v, const char *lit)
{
  return strlen(lit) == v.n && memcmp(v.p, lit, v.n) == 0;
}

static inline bool ieq(struct span v, const char *lit)
{
  return strlen(lit) == v.n && strncasecmp(v.p, lit, v.n) == 0;
}

/* Decimal digits only, at most max. */
static inline bool num(struct span v, uint64_t max, uint64_t *out)
{
  uint64_t x = 0;

  if (v.n == 0 || v.n > 20)
    return false;
  for (size_t i = 0; i < v.n; i++) {
    unsigned d = (unsigned char)v.p[i] - '0';
    if (d > 9 || x > (UINT64_MAX - d) / 10)
      return false;
    x = x * 10 + d;
  }
  if (x > max)
    return false;
  *out = x;
  return true;
}

/* Copies v into dst[cap], or fails naming what. The tail is zeroed too, so a value set twice (a repeated a=fmtp) leaves
 * no bytes of the old one: equal models are memcmp-equal. */
static inline int put(struct parser *ps, char *dst, size_t cap, struct span v,
                      const char *what)
{
  if (v.n >= cap)
    return fail(ps, "%s too long (%zu bytes, limit %zu)", what, v.n, cap - 1);
  memcpy(dst, v.p, v.n);
  memset(dst + v.n, 0, cap - v.n);
  return 0;
}


static inline struct tern_sdp_codec *codec_by_pt(struct tern_sdp_media *m, uint8_t pt)
{
  for (unsigned i = 0; i < m->codec_count; i++)
    if (m->codecs[i].pt == pt)
      return &m->codecs[i];
  return NULL;
}

#endif
