/* sdp_write.c — struct tern_sdp to SDP text (RFC 8866 line order, CRLF).
 *
 * Every value goes through one appender that refuses control characters, so
 * a string field set from untrusted input can never add a line of its own.
 */
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct writer {
  char *buf;
  size_t cap, len;
  int err; /* first error: -ENOSPC or -EINVAL */
};

static void wf(struct writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void wf(struct writer *w, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (w->err)
    return;
  va_start(ap, fmt);
  n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= w->cap - w->len) {
    w->err = -ENOSPC;
    return;
  }
  for (int i = 0; i < n; i++) {
    unsigned char c = (unsigned char)w->buf[w->len + (size_t)i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      w->err = -EINVAL;
      return;
    }
  }
  w->len += (size_t)n;
}

static void eol(struct writer *w)
{
  if (w->err)
    return;
  if (w->cap - w->len < 3) {
    w->err = -ENOSPC;
    return;
  }
  memcpy(w->buf + w->len, "\r\n", 3);
  w->len += 2;
}

#define LINE(w, ...)                                                           \
  do {                                                                         \
    wf(w, __VA_ARGS__);                                                        \
    eol(w);                                                                    \
  } while (0)

static const char *ipver(const char *addr)
{
  return strchr(addr, ':') ? "IP6" : "IP4";
}

/* The attributes allowed at both levels. */
static void transport(struct writer *w, const char *ufrag, const char *pwd,
                      const char *options,
                      const struct tern_sdp_fingerprint *fp,
                      enum tern_sdp_setup setup)
{
  if (ufrag[0])
    LINE(w, "a=ice-ufrag:%s", ufrag);
  if (pwd[0])
    LINE(w, "a=ice-pwd:%s", pwd);
  if (options[0])
    LINE(w, "a=ice-options:%s", options);
  if (fp->alg[0])
    LINE(w, "a=fingerprint:%s %s", fp->alg, fp->value);
  if (setup != TERN_SDP_SETUP_NONE)
    LINE(w, "a=setup:%s", tern_sdp_setup_name(setup));
}

static void codecs(struct writer *w, const struct tern_sdp_media *m)
{
  for (unsigned i = 0; i < m->codec_count; i++) {
    const struct tern_sdp_codec *c = &m->codecs[i];
    if (c->rtcp_fb_count > TERN_SDP_MAX_RTCP_FB) {
      w->err = w->err ? w->err : -EINVAL;
      return;
    }
    if (c->name[0]) {
      wf(w, "a=rtpmap:%u %s/%" PRIu32, c->pt, c->name, c->clock_rate);
      if (c->channels)
        wf(w, "/%u", c->channels);
      eol(w);
    }
    for (unsigned j = 0; j < c->rtcp_fb_count; j++)
      LINE(w, "a=rtcp-fb:%u %s", c->pt, c->rtcp_fb[j]);
    if (c->fmtp[0])
      LINE(w, "a=fmtp:%u %s", c->pt, c->fmtp);
  }
}

static void ssrcs(struct writer *w, const struct tern_sdp_media *m)
{
  for (unsigned i = 0; i < m->ssrc_group_count; i++) {
    const struct tern_sdp_ssrc_group *g = &m->ssrc_groups[i];
    if (g->ssrc_count > TERN_SDP_MAX_GROUP_SSRCS) {
      w->err = w->err ? w->err : -EINVAL;
      return;
    }
    wf(w, "a=ssrc-group:%s", g->semantics);
    for (unsigned j = 0; j < g->ssrc_count; j++)
      wf(w, " %" PRIu32, g->ssrcs[j]);
    eol(w);
  }
  for (unsigned i = 0; i < m->ssrc_count; i++) {
    const struct tern_sdp_ssrc *e = &m->ssrcs[i];
    if (e->cname[0])
      LINE(w, "a=ssrc:%" PRIu32 " cname:%s", e->ssrc, e->cname);
    if (e->msid_stream[0]) {
      wf(w, "a=ssrc:%" PRIu32 " msid:%s", e->ssrc, e->msid_stream);
      if (e->msid_track[0])
        wf(w, " %s", e->msid_track);
      eol(w);
    }
  }
}

static void candidates(struct writer *w, const struct tern_sdp_media *m)
{
  for (unsigned i = 0; i < m->candidate_count; i++) {
    const struct tern_sdp_candidate *c = &m->candidates[i];
    if (c->raw[0])
      LINE(w, "a=%s", c->raw);
    else
      LINE(w, "a=candidate:%s %u %s %" PRIu32 " %s %u typ %s", c->foundation,
           c->component, c->transport, c->priority, c->address, c->port,
           c->type);
  }
  if (m->end_of_candidates)
    LINE(w, "a=end-of-candidates");
}

static void media(struct writer *w, const struct tern_sdp *s,
                  const struct tern_sdp_media *m)
{
  bool is_rtp;
  const char *proto = m->proto;

  if (m->codec_count > TERN_SDP_MAX_CODECS ||
      m->extmap_count > TERN_SDP_MAX_EXTMAPS ||
      m->ssrc_count > TERN_SDP_MAX_SSRCS ||
      m->ssrc_group_count > TERN_SDP_MAX_SSRC_GROUPS ||
      m->candidate_count > TERN_SDP_MAX_CANDIDATES) {
    w->err = w->err ? w->err : -EINVAL;
    return;
  }
  if (!proto[0])
    proto = m->kind == TERN_SDP_KIND_APPLICATION ? "UDP/DTLS/SCTP"
                                                  : "UDP/TLS/RTP/SAVPF";
  is_rtp = tern_sdp__proto_is_rtp(proto);
  wf(w, "m=%s %u %s",
     m->kind == TERN_SDP_KIND_OTHER ? m->kind_str : tern_sdp_kind_name(m->kind),
     m->port, proto);
  if (is_rtp) {
    for (unsigned i = 0; i < m->codec_count; i++)
      wf(w, " %u", m->codecs[i].pt);
  } else {
    wf(w, " %s", m->fmt[0] ? m->fmt
                           : (m->kind == TERN_SDP_KIND_APPLICATION
                                  ? "webrtc-datachannel"
                                  : "-"));
  }
  eol(w);
  if (m->c_addr[0])
    LINE(w, "c=IN %s %s", ipver(m->c_addr), m->c_addr);
  else if (!s->c_addr[0])
    LINE(w, "c=IN IP4 0.0.0.0");
  if (m->rtcp_port) {
    wf(w, "a=rtcp:%u", m->rtcp_port);
    if (m->rtcp_addr[0])
      wf(w, " IN %s %s", ipver(m->rtcp_addr), m->rtcp_addr);
    eol(w);
  }
  transport(w, m->ice_ufrag, m->ice_pwd, m->ice_options, &m->fingerprint,
            m->setup);
  if (m->mid[0])
    LINE(w, "a=mid:%s", m->mid);
  if (m->bundle_only)
    LINE(w, "a=bundle-only");
  for (unsigned i = 0; i < m->extmap_count; i++) {
    const struct tern_sdp_extmap *e = &m->extmaps[i];
    wf(w, "a=extmap:%u", e->id);
    if (e->has_direction)
      wf(w, "/%s", tern_sdp_dir_name(e->direction));
    LINE(w, " %s", e->uri);
  }
  if (m->extmap_allow_mixed)
    LINE(w, "a=extmap-allow-mixed");
  if (m->has_direction)
    LINE(w, "a=%s", tern_sdp_dir_name(m->direction));
  if (m->msid_stream[0]) {
    wf(w, "a=msid:%s", m->msid_stream);
    if (m->msid_track[0])
      wf(w, " %s", m->msid_track);
    eol(w);
  }
  if (m->rtcp_mux)
    LINE(w, "a=rtcp-mux");
  if (m->rtcp_rsize)
    LINE(w, "a=rtcp-rsize");
  codecs(w, m);
  ssrcs(w, m);
  if (m->sctp_port)
    LINE(w, "a=sctp-port:%u", m->sctp_port);
  if (m->has_max_message_size)
    LINE(w, "a=max-message-size:%" PRIu64, m->max_message_size);
  candidates(w, m);
}

int tern_sdp_write(const struct tern_sdp *s, char *buf, size_t cap)
{
  struct writer w = {.buf = buf, .cap = cap};
  const char *origin = s->origin_addr[0] ? s->origin_addr : "127.0.0.1";

  if (!buf || cap == 0)
    return -ENOSPC;
  buf[0] = '\0';
  if (s->media_count > TERN_SDP_MAX_MEDIA ||
      s->bundle_count > TERN_SDP_MAX_MEDIA)
    return -EINVAL;

  LINE(&w, "v=0");
  LINE(&w, "o=- %" PRIu64 " %" PRIu64 " IN %s %s", s->session_id,
       s->session_version, ipver(origin), origin);
  LINE(&w, "s=-");
  if (s->c_addr[0])
    LINE(&w, "c=IN %s %s", ipver(s->c_addr), s->c_addr);
  LINE(&w, "t=0 0");
  if (s->bundle_count) {
    wf(&w, "a=group:BUNDLE");
    for (unsigned i = 0; i < s->bundle_count; i++)
      wf(&w, " %s", s->bundle_mids[i]);
    eol(&w);
  }
  if (s->extmap_allow_mixed)
    LINE(&w, "a=extmap-allow-mixed");
  if (s->msid_semantic[0])
    LINE(&w, "a=msid-semantic:%s", s->msid_semantic);
  if (s->ice_lite)
    LINE(&w, "a=ice-lite");
  transport(&w, s->ice_ufrag, s->ice_pwd, s->ice_options, &s->fingerprint,
            s->setup);
  if (s->has_direction)
    LINE(&w, "a=%s", tern_sdp_dir_name(s->direction));
  for (unsigned i = 0; i < s->media_count; i++)
    media(&w, s, &s->media[i]);

  if (w.err) {
    buf[0] = '\0';
    return w.err;
  }
  return (int)w.len;
}
