/* sdp.c — names, lookups, fingerprints and builders for the SDP model.
 * The parser is in sdp_parse.c, the writer in sdp_write.c.
 */
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
  const char *name;
  size_t len;
} hashes[] = {
    {"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32},
    {"sha-384", 48}, {"sha-512", 64},
};

size_t tern_sdp__hash_len(const char *alg, size_t n)
{
  for (size_t i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++)
    if (strlen(hashes[i].name) == n && strncasecmp(hashes[i].name, alg, n) == 0)
      return hashes[i].len;
  return 0;
}

int tern_sdp__proto_is_rtp(const char *proto)
{
  /* "RTP/AVP", "UDP/TLS/RTP/SAVPF", "TCP/DTLS/RTP/SAVPF"... */
  return strncmp(proto, "RTP/", 4) == 0 || strstr(proto, "/RTP/") != NULL;
}

void tern_sdp_init(struct tern_sdp *s)
{
  memset(s, 0, sizeof(*s));
}

const char *tern_sdp_kind_name(enum tern_sdp_kind kind)
{
  switch (kind) {
  case TERN_SDP_KIND_AUDIO: return "audio";
  case TERN_SDP_KIND_VIDEO: return "video";
  case TERN_SDP_KIND_APPLICATION: return "application";
  case TERN_SDP_KIND_OTHER: break;
  }
  return "other";
}

const char *tern_sdp_dir_name(enum tern_sdp_dir dir)
{
  switch (dir) {
  case TERN_SDP_DIR_SENDRECV: return "sendrecv";
  case TERN_SDP_DIR_SENDONLY: return "sendonly";
  case TERN_SDP_DIR_RECVONLY: return "recvonly";
  case TERN_SDP_DIR_INACTIVE: return "inactive";
  }
  return "?";
}

const char *tern_sdp_setup_name(enum tern_sdp_setup setup)
{
  switch (setup) {
  case TERN_SDP_SETUP_NONE: return "";
  case TERN_SDP_SETUP_ACTPASS: return "actpass";
  case TERN_SDP_SETUP_ACTIVE: return "active";
  case TERN_SDP_SETUP_PASSIVE: return "passive";
  case TERN_SDP_SETUP_HOLDCONN: return "holdconn";
  }
  return "?";
}

const struct tern_sdp_media *tern_sdp_find_mid(const struct tern_sdp *s,
                                               const char *mid)
{
  if (!mid || !*mid)
    return NULL;
  for (unsigned i = 0; i < s->media_count && i < TERN_SDP_MAX_MEDIA; i++)
    if (strcmp(s->media[i].mid, mid) == 0)
      return &s->media[i];
  return NULL;
}

bool tern_sdp_is_bundled(const struct tern_sdp *s, const char *mid)
{
  if (!mid || !*mid)
    return false;
  for (unsigned i = 0; i < s->bundle_count && i < TERN_SDP_MAX_MEDIA; i++)
    if (strcmp(s->bundle_mids[i], mid) == 0)
      return true;
  return false;
}

/* RFC 8843: bundled m-lines share the tagged m-line's transport, and an
 * answerer may write the transport attributes only there. */
static const struct tern_sdp_media *bundle_tag(const struct tern_sdp *s,
                                               const struct tern_sdp_media *m)
{
  if (s->bundle_count == 0 || !tern_sdp_is_bundled(s, m->mid))
    return NULL;
  const struct tern_sdp_media *tag = tern_sdp_find_mid(s, s->bundle_mids[0]);
  return tag == m ? NULL : tag;
}

const char *tern_sdp_media_ice_ufrag(const struct tern_sdp *s,
                                     const struct tern_sdp_media *m)
{
  const struct tern_sdp_media *tag = bundle_tag(s, m);
  if (m->ice_ufrag[0])
    return m->ice_ufrag;
  if (tag && tag->ice_ufrag[0])
    return tag->ice_ufrag;
  return s->ice_ufrag;
}

const char *tern_sdp_media_ice_pwd(const struct tern_sdp *s,
                                   const struct tern_sdp_media *m)
{
  const struct tern_sdp_media *tag = bundle_tag(s, m);
  if (m->ice_pwd[0])
    return m->ice_pwd;
  if (tag && tag->ice_pwd[0])
    return tag->ice_pwd;
  return s->ice_pwd;
}

const struct tern_sdp_fingerprint *
tern_sdp_media_fingerprint(const struct tern_sdp *s,
                           const struct tern_sdp_media *m)
{
  const struct tern_sdp_media *tag = bundle_tag(s, m);
  if (m->fingerprint.alg[0])
    return &m->fingerprint;
  if (tag && tag->fingerprint.alg[0])
    return &tag->fingerprint;
  return s->fingerprint.alg[0] ? &s->fingerprint : NULL;
}

enum tern_sdp_setup tern_sdp_media_setup(const struct tern_sdp *s,
                                         const struct tern_sdp_media *m)
{
  const struct tern_sdp_media *tag = bundle_tag(s, m);
  if (m->setup != TERN_SDP_SETUP_NONE)
    return m->setup;
  if (tag && tag->setup != TERN_SDP_SETUP_NONE)
    return tag->setup;
  return s->setup;
}

enum tern_sdp_dir tern_sdp_media_direction(const struct tern_sdp *s,
                                           const struct tern_sdp_media *m)
{
  if (m->has_direction)
    return m->direction;
  if (s->has_direction)
    return s->direction;
  return TERN_SDP_DIR_SENDRECV;
}

const struct tern_sdp_codec *tern_sdp_find_codec(const struct tern_sdp_media *m,
                                                 const char *name,
                                                 uint32_t clock_rate,
                                                 unsigned channels)
{
  for (unsigned i = 0; i < m->codec_count && i < TERN_SDP_MAX_CODECS; i++) {
    const struct tern_sdp_codec *c = &m->codecs[i];
    unsigned ch = c->channels ? c->channels : 1;
    if (strcasecmp(c->name, name) != 0)
      continue;
    if (clock_rate && c->clock_rate != clock_rate)
      continue;
    if (channels && ch != channels)
      continue;
    return c;
  }
  return NULL;
}

bool tern_sdp_codec_has_fb(const struct tern_sdp_codec *c, const char *fb)
{
  for (unsigned i = 0; i < c->rtcp_fb_count && i < TERN_SDP_MAX_RTCP_FB; i++)
    if (strcmp(c->rtcp_fb[i], fb) == 0)
      return true;
  return false;
}

static int hexval(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int tern_sdp_fingerprint_bytes(const struct tern_sdp_fingerprint *fp,
                               uint8_t *out, size_t cap)
{
  size_t want = tern_sdp__hash_len(fp->alg, strlen(fp->alg));
  const char *v = fp->value;
  size_t n = 0;

  if (want == 0 || want > cap)
    return -EINVAL;
  for (;;) {
    int hi = hexval((unsigned char)v[0]);
    int lo = hi < 0 ? -1 : hexval((unsigned char)v[1]);
    if (lo < 0 || n == want)
      return -EINVAL;
    out[n++] = (uint8_t)(hi << 4 | lo);
    v += 2;
    if (*v == '\0')
      break;
    if (*v++ != ':')
      return -EINVAL;
  }
  return n == want ? (int)n : -EINVAL;
}

int tern_sdp_fingerprint_set(struct tern_sdp_fingerprint *fp, const char *alg,
                             const uint8_t *digest, size_t len)
{
  size_t want = tern_sdp__hash_len(alg, strlen(alg));

  if (want == 0 || want != len || strlen(alg) >= sizeof(fp->alg))
    return -EINVAL;
  for (size_t i = 0; alg[i]; i++)
    fp->alg[i] = (char)(alg[i] >= 'A' && alg[i] <= 'Z' ? alg[i] + 32 : alg[i]);
  fp->alg[strlen(alg)] = '\0';
  for (size_t i = 0; i < len; i++)
    snprintf(fp->value + 3 * i, 4, i + 1 < len ? "%02X:" : "%02X", digest[i]);
  return 0;
}

int tern_sdp_set_str(char *dst, size_t cap, const char *src)
{
  size_t n = strlen(src);
  if (n >= cap)
    return -E2BIG;
  memcpy(dst, src, n + 1);
  return 0;
}

struct tern_sdp_media *tern_sdp_add_media(struct tern_sdp *s,
                                          enum tern_sdp_kind kind,
                                          const char *mid)
{
  struct tern_sdp_media *m;

  if (s->media_count >= TERN_SDP_MAX_MEDIA ||
      strlen(mid) >= TERN_SDP_MID_LEN || tern_sdp_find_mid(s, mid))
    return NULL;
  m = &s->media[s->media_count++];
  memset(m, 0, sizeof(*m));
  m->kind = kind;
  tern_sdp_set_str(m->kind_str, sizeof(m->kind_str), tern_sdp_kind_name(kind));
  tern_sdp_set_str(m->mid, sizeof(m->mid), mid);
  if (kind == TERN_SDP_KIND_APPLICATION) {
    strcpy(m->proto, "UDP/DTLS/SCTP");
    strcpy(m->fmt, "webrtc-datachannel");
  } else {
    strcpy(m->proto, "UDP/TLS/RTP/SAVPF");
    m->rtcp_mux = true;
  }
  if (s->bundle_count < TERN_SDP_MAX_MEDIA)
    strcpy(s->bundle_mids[s->bundle_count++], m->mid);
  return m;
}

struct tern_sdp_codec *tern_sdp_add_codec(struct tern_sdp_media *m, uint8_t pt,
                                          const char *name,
                                          uint32_t clock_rate,
                                          unsigned channels, const char *fmtp)
{
  struct tern_sdp_codec *c;

  if (m->codec_count >= TERN_SDP_MAX_CODECS || pt > 127 || channels > 255 ||
      strlen(name) >= TERN_SDP_CODEC_NAME_LEN ||
      (fmtp && strlen(fmtp) >= TERN_SDP_FMTP_LEN))
    return NULL;
  c = &m->codecs[m->codec_count++];
  memset(c, 0, sizeof(*c));
  c->pt = pt;
  strcpy(c->name, name);
  c->clock_rate = clock_rate;
  c->channels = (uint8_t)channels;
  if (fmtp)
    strcpy(c->fmtp, fmtp);
  return c;
}

int tern_sdp_add_rtcp_fb(struct tern_sdp_codec *c, const char *fb)
{
  if (c->rtcp_fb_count >= TERN_SDP_MAX_RTCP_FB)
    return -ENOSPC;
  if (tern_sdp_set_str(c->rtcp_fb[c->rtcp_fb_count], TERN_SDP_RTCP_FB_LEN, fb))
    return -E2BIG;
  c->rtcp_fb_count++;
  return 0;
}

int tern_sdp_add_extmap(struct tern_sdp_media *m, uint16_t id, const char *uri)
{
  struct tern_sdp_extmap *e;

  if (m->extmap_count >= TERN_SDP_MAX_EXTMAPS)
    return -ENOSPC;
  if (id == 0 || id > 255)
    return -EINVAL;
  e = &m->extmaps[m->extmap_count];
  memset(e, 0, sizeof(*e));
  if (tern_sdp_set_str(e->uri, sizeof(e->uri), uri))
    return -E2BIG;
  e->id = id;
  m->extmap_count++;
  return 0;
}

int tern_sdp_add_candidate(struct tern_sdp_media *m, const char *foundation,
                           uint16_t component, const char *transport,
                           uint32_t priority, const char *address,
                           uint16_t port, const char *type)
{
  struct tern_sdp_candidate *c;

  if (m->candidate_count >= TERN_SDP_MAX_CANDIDATES)
    return -ENOSPC;
  c = &m->candidates[m->candidate_count];
  memset(c, 0, sizeof(*c));
  if (tern_sdp_set_str(c->foundation, sizeof(c->foundation), foundation) ||
      tern_sdp_set_str(c->transport, sizeof(c->transport), transport) ||
      tern_sdp_set_str(c->address, sizeof(c->address), address) ||
      tern_sdp_set_str(c->type, sizeof(c->type), type))
    return -E2BIG;
  c->component = component;
  c->priority = priority;
  c->port = port;
  /* Keep raw in step with the fields, as the parser does. */
  if (snprintf(c->raw, sizeof(c->raw), "candidate:%s %u %s %u %s %u typ %s",
               foundation, component, transport, (unsigned)priority, address,
               port, type) >= (int)sizeof(c->raw))
    return -E2BIG;
  m->candidate_count++;
  return 0;
}
