/* sdp_parse.c — SDP text to struct tern_sdp.
 *
 * One pass over the lines; every value is a (pointer, length) span into the
 * caller's buffer, bounded by len, and is copied into the model only after
 * its length was checked. Error texts go back to remote clients, so values
 * echoed in them are cut short and stripped of non-printable bytes.
 */
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int tern_sdp__fail(struct parser *ps, const char *fmt, ...)
{
  va_list ap;
  int n = 0;

  if (!ps->err || ps->errcap == 0)
    return -EINVAL;
  if (ps->line)
    n = snprintf(ps->err, ps->errcap, "line %u: ", ps->line);
  if (n >= 0 && (size_t)n < ps->errcap) {
    va_start(ap, fmt);
    vsnprintf(ps->err + n, ps->errcap - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -EINVAL;
}

/* RFC 3551 static payload types browsers still offer without a=rtpmap. */
static void static_pt(struct tern_sdp_codec *c)
{
  static const struct {
    uint8_t pt;
    const char *name;
    uint32_t rate;
  } tab[] = {{0, "PCMU", 8000}, {8, "PCMA", 8000}, {9, "G722", 8000},
             {13, "CN", 8000}, {18, "G729", 8000}};
  for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
    if (tab[i].pt == c->pt) {
      strcpy(c->name, tab[i].name);
      c->clock_rate = tab[i].rate;
    }
  }
}

/* ---- session / media lines ---------------------------------------------- */

static int line_o(struct parser *ps, struct span v)
{
  struct span user = tok(&v), id = tok(&v), ver = tok(&v);
  struct span net = tok(&v), at = tok(&v), addr = tok(&v);

  if (ps->m)
    return fail(ps, "o= inside a media section");
  if (ps->s->origin_addr[0])
    return fail(ps, "duplicate o= line");
  if (!addr.n)
    return fail(ps, "o=: expected '<username> <sess-id> <sess-version> IN "
                    "IP4|IP6 <address>'");
  (void)user;
  (void)net;
  (void)at;
  if (!num(id, UINT64_MAX, &ps->s->session_id))
    return fail(ps, "o=: bad session id '%s'", q(id).s);
  if (!num(ver, UINT64_MAX, &ps->s->session_version))
    return fail(ps, "o=: bad session version '%s'", q(ver).s);
  return put(ps, ps->s->origin_addr, sizeof(ps->s->origin_addr), addr,
             "o= address");
}

static int line_c(struct parser *ps, struct span v)
{
  struct span net = tok(&v), at = tok(&v), addr = tok(&v);
  char *dst = ps->m ? ps->m->c_addr : ps->s->c_addr;

  if (!eq(net, "IN") || !(eq(at, "IP4") || eq(at, "IP6")) || !addr.n)
    return fail(ps, "c=: expected 'IN IP4|IP6 <address>'");
  split(addr, '/', &addr, NULL); /* multicast TTL / count */
  return put(ps, dst, TERN_SDP_ADDR_LEN, addr, "c= address");
}

static int line_m(struct parser *ps, struct span v)
{
  struct tern_sdp *s = ps->s;
  struct tern_sdp_media *m;
  struct span kind = tok(&v), portv = tok(&v), proto = tok(&v), nports, f;
  bool slash;
  uint64_t x;
  int rc;

  if (s->media_count >= TERN_SDP_MAX_MEDIA) {
    fail(ps, "too many m= lines (limit %d)", TERN_SDP_MAX_MEDIA);
    return -E2BIG;
  }
  if (!proto.n || !trim(v).n)
    return fail(ps, "m=: expected '<media> <port> <proto> <fmt> ...'");
  m = &s->media[s->media_count++];
  ps->m = m;
  if ((rc = put(ps, m->kind_str, sizeof(m->kind_str), kind, "m= media")))
    return rc;
  if (eq(kind, "audio"))
    m->kind = TERN_SDP_KIND_AUDIO;
  else if (eq(kind, "video"))
    m->kind = TERN_SDP_KIND_VIDEO;
  else if (eq(kind, "application"))
    m->kind = TERN_SDP_KIND_APPLICATION;
  else
    m->kind = TERN_SDP_KIND_OTHER;

  nports = split(portv, '/', &portv, &slash);
  if (!num(portv, 65535, &x) || (slash && !num(nports, 65535, &(uint64_t){0})))
    return fail(ps, "m=: bad port '%s'", q(portv).s);
  m->port = (uint16_t)x;
  if ((rc = put(ps, m->proto, sizeof(m->proto), proto, "m= proto")))
    return rc;

  if (!tern_sdp__proto_is_rtp(m->proto)) {
    /* Keep the list with single spaces, as the writer will print it. */
    size_t n = 0;
    while ((f = tok(&v)).n) {
      if (n + (n ? 1 : 0) + f.n >= sizeof(m->fmt))
        return fail(ps, "m=: format list too long (limit %zu bytes)",
                    sizeof(m->fmt) - 1);
      if (n)
        m->fmt[n++] = ' ';
      memcpy(m->fmt + n, f.p, f.n);
      n += f.n;
      m->fmt[n] = '\0';
    }
    return 0;
  }
  while ((f = tok(&v)).n) {
    if (!num(f, UINT64_MAX, &x))
      return fail(ps, "m=: bad payload type '%s'", q(f).s);
    if (x > 127)
      return fail(ps, "m=: payload type %s out of range (0-127)", q(f).s);
    if (codec_by_pt(m, (uint8_t)x))
      continue;
    if (m->codec_count >= TERN_SDP_MAX_CODECS) {
      s->dropped.codecs++;
      continue;
    }
    m->codecs[m->codec_count].pt = (uint8_t)x;
    static_pt(&m->codecs[m->codec_count++]);
  }
  return 0;
}

/* ---- attributes --------------------------------------------------------- */

static int ice_str(struct parser *ps, struct span v, char *dst, size_t cap,
                   size_t min, const char *attr)
{
  v = trim(v);
  if (dst[0])
    return fail(ps, "duplicate a=%s", attr);
  if (v.n >= cap)
    return fail(ps, "a=%s: too long (%zu bytes, limit %zu)", attr, v.n, cap - 1);
  if (v.n < min)
    return fail(ps, "a=%s: too short (%zu chars, minimum %zu)", attr, v.n, min);
  for (size_t i = 0; i < v.n; i++)
    if (!tern_sdp__is_ice_char((unsigned char)v.p[i]))
      return fail(ps, "a=%s: invalid character '%c'", attr,
                  v.p[i] >= 0x20 && v.p[i] < 0x7f ? v.p[i] : '?');
  return put(ps, dst, cap, v, attr);
}

static int a_ice_ufrag(struct parser *ps, struct span v)
{
  return ice_str(ps, v, ps->m ? ps->m->ice_ufrag : ps->s->ice_ufrag,
                 TERN_SDP_UFRAG_LEN, 4, "ice-ufrag");
}

static int a_ice_pwd(struct parser *ps, struct span v)
{
  return ice_str(ps, v, ps->m ? ps->m->ice_pwd : ps->s->ice_pwd,
                 TERN_SDP_PWD_LEN, 22, "ice-pwd");
}

static int a_ice_options(struct parser *ps, struct span v)
{
  return put(ps, ps->m ? ps->m->ice_options : ps->s->ice_options,
             TERN_SDP_ICE_OPTIONS_LEN, trim(v), "a=ice-options:");
}

static int a_fingerprint(struct parser *ps, struct span v)
{
  struct tern_sdp_fingerprint *fp =
      ps->m ? &ps->m->fingerprint : &ps->s->fingerprint;
  struct span alg = tok(&v), val = tok(&v);
  size_t want = tern_sdp__hash_len(alg.p, alg.n), bytes = 0, i = 0;

  if (!alg.n)
    return fail(ps, "a=fingerprint: missing hash function");
  if (!want)
    return fail(ps, "a=fingerprint: unknown hash '%s'", q(alg).s);
  if (!val.n)
    return fail(ps, "a=fingerprint: missing value");
  /* "XX:XX:...": two hex digits per byte, one ':' between bytes. */
  while (i < val.n) {
    if (i + 1 >= val.n || !is_hex(val.p[i]) || !is_hex(val.p[i + 1]))
      return fail(ps, "a=fingerprint: bad hex at byte %zu", bytes + 1);
    bytes++;
    i += 2;
    if (i == val.n)
      break;
    if (val.p[i++] != ':')
      return fail(ps, "a=fingerprint: expected ':' after byte %zu", bytes);
    if (i == val.n)
      return fail(ps, "a=fingerprint: trailing ':'");
  }
  if (bytes != want)
    return fail(ps, "a=fingerprint: %s digest must be %zu bytes, got %zu",
                q(alg).s, want, bytes);
  if (fp->alg[0]) { /* RFC 8122 allows several; the first one is used */
    ps->s->dropped.fingerprints++;
    return 0;
  }
  for (i = 0; i < alg.n; i++)
    fp->alg[i] = (char)(alg.p[i] >= 'A' && alg.p[i] <= 'Z' ? alg.p[i] + 32
                                                          : alg.p[i]);
  fp->alg[alg.n] = '\0';
  for (i = 0; i < val.n; i++)
    fp->value[i] = (char)(val.p[i] >= 'a' && val.p[i] <= 'f' ? val.p[i] - 32
                                                            : val.p[i]);
  fp->value[val.n] = '\0';
  return 0;
}

static int a_setup(struct parser *ps, struct span v)
{
  enum tern_sdp_setup *dst = ps->m ? &ps->m->setup : &ps->s->setup;

  v = trim(v);
  if (*dst != TERN_SDP_SETUP_NONE)
    return fail(ps, "duplicate a=setup");
  for (int r = TERN_SDP_SETUP_ACTPASS; r <= TERN_SDP_SETUP_HOLDCONN; r++) {
    if (eq(v, tern_sdp_setup_name((enum tern_sdp_setup)r))) {
      *dst = (enum tern_sdp_setup)r;
      return 0;
    }
  }
  return fail(ps, "a=setup: unknown role '%s'", q(v).s);
}

static int set_dir(struct parser *ps, enum tern_sdp_dir d)
{
  if (ps->m) {
    ps->m->has_direction = true;
    ps->m->direction = d;
  } else {
    ps->s->has_direction = true;
    ps->s->direction = d;
  }
  return 0;
}

static int a_sendrecv(struct parser *ps, struct span v)
{
  (void)v;
  return set_dir(ps, TERN_SDP_DIR_SENDRECV);
}
static int a_sendonly(struct parser *ps, struct span v)
{
  (void)v;
  return set_dir(ps, TERN_SDP_DIR_SENDONLY);
}
static int a_recvonly(struct parser *ps, struct span v)
{
  (void)v;
  return set_dir(ps, TERN_SDP_DIR_RECVONLY);
}
static int a_inactive(struct parser *ps, struct span v)
{
  (void)v;
  return set_dir(ps, TERN_SDP_DIR_INACTIVE);
}

static int a_extmap_allow_mixed(struct parser *ps, struct span v)
{
  (void)v;
  if (ps->m)
    ps->m->extmap_allow_mixed = true;
  else
    ps->s->extmap_allow_mixed = true;
  return 0;
}

static int a_group(struct parser *ps, struct span v)
{
  struct tern_sdp *s = ps->s;
  struct span sem = tok(&v), mid;
  int rc;

  if (ps->m || !ieq(sem, "BUNDLE"))
    return 0; /* LS, FID... groups are not used */
  if (s->bundle_count)
    return fail(ps, "a=group:BUNDLE: only one BUNDLE group is supported");
  while ((mid = tok(&v)).n) {
    if (s->bundle_count >= TERN_SDP_MAX_MEDIA)
      return fail(ps, "a=group:BUNDLE: more than %d mids", TERN_SDP_MAX_MEDIA);
    if ((rc = put(ps, s->bundle_mids[s->bundle_count], TERN_SDP_MID_LEN, mid,
                  "a=group:BUNDLE mid")))
      return rc;
    s->bundle_count++;
  }
  return 0;
}

static int a_msid_semantic(struct parser *ps, struct span v)
{
  if (ps->m)
    return 0;
  return put(ps, ps->s->msid_semantic, sizeof(ps->s->msid_semantic), trim(v),
             "a=msid-semantic:");
}

static int a_ice_lite(struct parser *ps, struct span v)
{
  (void)v;
  if (!ps->m)
    ps->s->ice_lite = true;
  return 0;
}

static int a_mid(struct parser *ps, struct span v)
{
  struct span rest = v, mid = tok(&rest);

  if (ps->m->mid[0])
    return fail(ps, "duplicate a=mid");
  if (!mid.n || trim(rest).n)
    return fail(ps, "a=mid: expected one token, got '%s'", q(trim(v)).s);
  return put(ps, ps->m->mid, sizeof(ps->m->mid), mid, "a=mid:");
}

static const struct tern_sdp__attr attrs[] = {
    {"ice-ufrag", SDP_AT_SESSION | SDP_AT_MEDIA, a_ice_ufrag},
    {"ice-pwd", SDP_AT_SESSION | SDP_AT_MEDIA, a_ice_pwd},
    {"ice-options", SDP_AT_SESSION | SDP_AT_MEDIA, a_ice_options},
    {"fingerprint", SDP_AT_SESSION | SDP_AT_MEDIA, a_fingerprint},
    {"setup", SDP_AT_SESSION | SDP_AT_MEDIA, a_setup},
    {"sendrecv", SDP_AT_SESSION | SDP_AT_MEDIA, a_sendrecv},
    {"sendonly", SDP_AT_SESSION | SDP_AT_MEDIA, a_sendonly},
    {"recvonly", SDP_AT_SESSION | SDP_AT_MEDIA, a_recvonly},
    {"inactive", SDP_AT_SESSION | SDP_AT_MEDIA, a_inactive},
    {"extmap-allow-mixed", SDP_AT_SESSION | SDP_AT_MEDIA, a_extmap_allow_mixed},
    {"group", SDP_AT_SESSION, a_group},
    {"msid-semantic", SDP_AT_SESSION, a_msid_semantic},
    {"ice-lite", SDP_AT_SESSION, a_ice_lite},
    {"mid", SDP_AT_MEDIA, a_mid},
};

static const struct tern_sdp__attr *find_attr(const struct tern_sdp__attr *t,
                                              size_t n, struct span name)
{
  for (size_t i = 0; i < n; i++)
    if (eq(name, t[i].name))
      return &t[i];
  return NULL;
}

static int line_a(struct parser *ps, struct span v)
{
  struct span name, value = split(v, ':', &name, NULL);
  int where = ps->m ? SDP_AT_MEDIA : SDP_AT_SESSION;
  const struct tern_sdp__attr *a =
      find_attr(attrs, sizeof(attrs) / sizeof(attrs[0]), name);

  if (!a)
    a = find_attr(tern_sdp__media_attrs, tern_sdp__media_attrs_count, name);
  if (!a || !(a->where & where))
    return 0; /* unknown or misplaced attributes are ignored (RFC 8866) */
  return a->fn(ps, value);
}

/* ---- whole description -------------------------------------------------- */

static int check(struct parser *ps)
{
  struct tern_sdp *s = ps->s;

  ps->line = 0;
  if (!s->origin_addr[0])
    return fail(ps, "no o= line");
  if (s->media_count == 0)
    return fail(ps, "no m= line");
  for (unsigned i = 0; i < s->bundle_count; i++)
    if (!tern_sdp_find_mid(s, s->bundle_mids[i]))
      return fail(ps, "a=group:BUNDLE names mid '%s' but no m= line has it",
                  s->bundle_mids[i]);
  for (unsigned i = 0; i < s->media_count; i++) {
    struct tern_sdp_media *m = &s->media[i];
    const char *mid = m->mid;

    m->rejected = m->port == 0 && !m->bundle_only;
    if (m->rejected)
      continue;
    if (!mid[0])
      return fail(ps, "missing a=mid for m=%s (m-line %u)", m->kind_str, i + 1);
    for (unsigned j = 0; j < i; j++)
      if (strcmp(s->media[j].mid, mid) == 0)
        return fail(ps, "duplicate mid '%s' (m-lines %u and %u)", mid, j + 1,
                    i + 1);
    if (!tern_sdp_media_ice_ufrag(s, m)[0])
      return fail(ps, "missing ice-ufrag for m=%s (mid %s)", m->kind_str, mid);
    if (!tern_sdp_media_ice_pwd(s, m)[0])
      return fail(ps, "missing ice-pwd for m=%s (mid %s)", m->kind_str, mid);
    if (!tern_sdp_media_fingerprint(s, m))
      return fail(ps, "missing fingerprint for m=%s (mid %s)", m->kind_str,
                  mid);
  }
  return 0;
}

static int parse_line(struct parser *ps, struct span l)
{
  struct span v = {l.p + 2, l.n - 2};

  for (size_t i = 0; i < l.n; i++) {
    unsigned char c = (unsigned char)l.p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return fail(ps, "control character 0x%02x", c);
  }
  if (l.n < 2 || l.p[1] != '=' || l.p[0] < 'a' || l.p[0] > 'z')
    return fail(ps, "expected '<type>=<value>', got '%s'", q(l).s);
  switch (l.p[0]) {
  case 'v':
    if (ps->line != 1 || !eq(v, "0"))
      return fail(ps, "v= must be the first line and be v=0");
    return 0;
  case 'o': return line_o(ps, v);
  case 'c': return line_c(ps, v);
  case 'm': return line_m(ps, v);
  case 'a':
    return line_a(ps, v);
  default:
    return 0; /* s= t= i= u= e= p= b= z= k= r=: nothing we use */
  }
}

int tern_sdp_parse(const char *text, size_t len, struct tern_sdp *out,
                   char *err, size_t errcap)
{
  struct parser ps = {.s = out, .err = err, .errcap = errcap};
  const char *p = text, *end = text + len, *nul;
  int rc;

  memset(out, 0, sizeof(*out));
  if (err && errcap)
    err[0] = '\0';
  if (!text || len == 0)
    return fail(&ps, "empty SDP");
  if (len > TERN_SDP_MAX_INPUT) {
    fail(&ps, "SDP too large (%zu bytes, limit %d)", len, TERN_SDP_MAX_INPUT);
    return -E2BIG;
  }
  if ((nul = memchr(text, '\0', len))) {
    ps.line = 1;
    for (const char *x = text; x < nul; x++)
      ps.line += *x == '\n';
    return fail(&ps, "NUL byte in SDP");
  }
  if (len < 3 || memcmp(text, "v=0", 3) != 0 ||
      (len > 3 && text[3] != '\r' && text[3] != '\n'))
    return fail(&ps, "input is not SDP (must start with v=0)");

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    struct span l = {p, (size_t)((nl ? nl : end) - p)};

    p = nl ? nl + 1 : end;
    ps.line++;
    if (l.n && l.p[l.n - 1] == '\r')
      l.n--;
    if (l.n > TERN_SDP_MAX_LINE)
      return fail(&ps, "line too long (%zu bytes, limit %d)", l.n,
                  TERN_SDP_MAX_LINE);
    if (l.n == 0)
      continue; /* tolerate blank lines, e.g. a trailing one */
    if ((rc = parse_line(&ps, l)))
      return rc;
  }
  return check(&ps);
}
