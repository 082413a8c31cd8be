/* sdp_parse_media.c — the m-line attributes that describe media and
 * transport candidates: RTP payload types (rtpmap, fmtp, rtcp-fb), header
 * extensions, SSRCs, msid, ICE candidates and the SCTP parameters. The line
 * loop, the session-level and transport attributes are in sdp_parse.c.
 */
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* "pt" of a=rtpmap/fmtp/rtcp-fb: 0..127. */
static int parse_pt(struct parser *ps, struct span v, const char *attr,
                    uint8_t *pt)
{
  uint64_t x;

  if (!num(v, UINT64_MAX, &x))
    return fail(ps, "%s: bad payload type '%s'", attr, q(v).s);
  if (x > 127)
    return fail(ps, "%s: payload type %s out of range (0-127)", attr, q(v).s);
  *pt = (uint8_t)x;
  return 0;
}

static bool rtp(const struct parser *ps)
{
  return ps->m && tern_sdp__proto_is_rtp(ps->m->proto);
}

static int a_rtcp(struct parser *ps, struct span v)
{
  struct span port = tok(&v), net = tok(&v), at = tok(&v), addr = tok(&v);
  uint64_t x;

  (void)net;
  (void)at;
  if (!num(port, 65535, &x) || x == 0)
    return fail(ps, "a=rtcp: bad port '%s'", q(port).s);
  ps->m->rtcp_port = (uint16_t)x;
  return put(ps, ps->m->rtcp_addr, sizeof(ps->m->rtcp_addr), addr,
             "a=rtcp: address");
}

static int a_flag_rtcp_mux(struct parser *ps, struct span v)
{
  (void)v;
  ps->m->rtcp_mux = true;
  return 0;
}
static int a_flag_rtcp_rsize(struct parser *ps, struct span v)
{
  (void)v;
  ps->m->rtcp_rsize = true;
  return 0;
}
static int a_flag_bundle_only(struct parser *ps, struct span v)
{
  (void)v;
  ps->m->bundle_only = true;
  return 0;
}
static int a_flag_eoc(struct parser *ps, struct span v)
{
  (void)v;
  ps->m->end_of_candidates = true;
  return 0;
}

static int a_rtpmap(struct parser *ps, struct span v)
{
  struct span ptv = tok(&v), enc = tok(&v), name, clock, ch;
  struct tern_sdp_codec *c;
  bool has_clock, has_ch;
  uint64_t rate, chans = 0;
  uint8_t pt;
  int rc;

  if (!rtp(ps))
    return 0;
  if ((rc = parse_pt(ps, ptv, "a=rtpmap", &pt)))
    return rc;
  clock = split(enc, '/', &name, &has_clock);
  ch = split(clock, '/', &clock, &has_ch);
  if (!name.n)
    return fail(ps, "a=rtpmap: missing encoding name");
  if (name.n >= TERN_SDP_CODEC_NAME_LEN)
    return fail(ps, "a=rtpmap: encoding name too long (%zu bytes, limit %d)",
                name.n, TERN_SDP_CODEC_NAME_LEN - 1);
  if (!has_clock)
    return fail(ps, "a=rtpmap: missing clock rate");
  if (!num(clock, UINT32_MAX, &rate) || rate == 0)
    return fail(ps, "a=rtpmap: bad clock rate '%s'", q(clock).s);
  if (has_ch && (!num(ch, 255, &chans) || chans == 0))
    return fail(ps, "a=rtpmap: bad channel count '%s'", q(ch).s);
  c = codec_by_pt(ps->m, pt);
  if (!c)
    return 0; /* not in the m= list (or dropped): nothing to describe */
  put(ps, c->name, sizeof(c->name), name, "a=rtpmap: name"); /* fits */
  c->clock_rate = (uint32_t)rate;
  c->channels = (uint8_t)chans;
  return 0;
}

static int a_fmtp(struct parser *ps, struct span v)
{
  struct span ptv = tok(&v);
  struct tern_sdp_codec *c;
  uint8_t pt;
  int rc;

  if (!rtp(ps))
    return 0;
  if ((rc = parse_pt(ps, ptv, "a=fmtp", &pt)))
    return rc;
  v = trim(v);
  if (v.n >= TERN_SDP_FMTP_LEN)
    return fail(ps, "a=fmtp: parameters too long (%zu bytes, limit %d)", v.n,
                TERN_SDP_FMTP_LEN - 1);
  if ((c = codec_by_pt(ps->m, pt)))
    return put(ps, c->fmtp, sizeof(c->fmtp), v, "a=fmtp:");
  return 0;
}

static void add_fb(struct parser *ps, struct tern_sdp_codec *c, struct span v)
{
  for (unsigned i = 0; i < c->rtcp_fb_count; i++)
    if (eq(v, c->rtcp_fb[i]))
      return;
  if (c->rtcp_fb_count >= TERN_SDP_MAX_RTCP_FB) {
    ps->s->dropped.rtcp_fbs++;
    return;
  }
  memcpy(c->rtcp_fb[c->rtcp_fb_count], v.p, v.n);
  c->rtcp_fb[c->rtcp_fb_count++][v.n] = '\0';
}

static int a_rtcp_fb(struct parser *ps, struct span v)
{
  struct span ptv = tok(&v);
  struct tern_sdp_codec *c;
  uint8_t pt;
  int rc;

  if (!rtp(ps))
    return 0;
  v = trim(v);
  if (!v.n)
    return fail(ps, "a=rtcp-fb: missing feedback type");
  if (v.n >= TERN_SDP_RTCP_FB_LEN)
    return fail(ps, "a=rtcp-fb: value too long (%zu bytes, limit %d)", v.n,
                TERN_SDP_RTCP_FB_LEN - 1);
  if (eq(ptv, "*")) {
    for (unsigned i = 0; i < ps->m->codec_count; i++)
      add_fb(ps, &ps->m->codecs[i], v);
    return 0;
  }
  if ((rc = parse_pt(ps, ptv, "a=rtcp-fb", &pt)))
    return rc;
  if ((c = codec_by_pt(ps->m, pt)))
    add_fb(ps, c, v);
  return 0;
}

static int parse_dir(struct span v, enum tern_sdp_dir *d)
{
  for (int i = TERN_SDP_DIR_SENDRECV; i <= TERN_SDP_DIR_INACTIVE; i++) {
    if (eq(v, tern_sdp_dir_name((enum tern_sdp_dir)i))) {
      *d = (enum tern_sdp_dir)i;
      return 0;
    }
  }
  return -1;
}

static int a_extmap(struct parser *ps, struct span v)
{
  struct tern_sdp_media *m = ps->m;
  struct span idv = tok(&v), uri = tok(&v), dirv;
  struct tern_sdp_extmap *e;
  enum tern_sdp_dir dir = TERN_SDP_DIR_SENDRECV;
  bool has_dir;
  uint64_t id;

  dirv = split(idv, '/', &idv, &has_dir);
  if (!num(idv, UINT64_MAX, &id) || id == 0 || id > 255)
    return fail(ps, "a=extmap: id '%s' out of range (1-255)", q(idv).s);
  if (has_dir && parse_dir(dirv, &dir))
    return fail(ps, "a=extmap: unknown direction '%s'", q(dirv).s);
  if (!uri.n)
    return fail(ps, "a=extmap: missing URI");
  if (uri.n >= TERN_SDP_URI_LEN)
    return fail(ps, "a=extmap: URI too long (%zu bytes, limit %d)", uri.n,
                TERN_SDP_URI_LEN - 1);
  for (unsigned i = 0; i < m->extmap_count; i++)
    if (m->extmaps[i].id == id)
      return fail(ps, "a=extmap: duplicate id %u", (unsigned)id);
  if (m->extmap_count >= TERN_SDP_MAX_EXTMAPS) {
    ps->s->dropped.extmaps++;
    return 0;
  }
  e = &m->extmaps[m->extmap_count++];
  e->id = (uint16_t)id;
  e->has_direction = has_dir;
  e->direction = dir;
  memcpy(e->uri, uri.p, uri.n);
  e->uri[uri.n] = '\0';
  return 0;
}

/* "<stream> [<track>]" of a=msid and a=ssrc:<n> msid:. */
static int msid_pair(struct parser *ps, struct span v, char *stream,
                     char *track, const char *attr)
{
  struct span st = tok(&v), tr = tok(&v);
  int rc;

  if (!st.n)
    return fail(ps, "%s: missing stream id", attr);
  if (st.n >= TERN_SDP_ID_LEN || tr.n >= TERN_SDP_ID_LEN)
    return fail(ps, "%s: id too long (limit %d bytes)", attr,
                TERN_SDP_ID_LEN - 1);
  if ((rc = put(ps, stream, TERN_SDP_ID_LEN, st, attr)))
    return rc;
  return put(ps, track, TERN_SDP_ID_LEN, tr, attr);
}

static int a_msid(struct parser *ps, struct span v)
{
  if (ps->m->msid_stream[0])
    return 0; /* several streams: the first is kept */
  return msid_pair(ps, v, ps->m->msid_stream, ps->m->msid_track, "a=msid");
}

static int a_ssrc(struct parser *ps, struct span v)
{
  struct tern_sdp_media *m = ps->m;
  struct span idv = tok(&v), attr, val;
  struct tern_sdp_ssrc *e = NULL;
  uint64_t id;

  if (!num(idv, UINT32_MAX, &id))
    return fail(ps, "a=ssrc: bad ssrc '%s'", q(idv).s);
  val = split(trim(v), ':', &attr, NULL);
  if (!attr.n)
    return fail(ps, "a=ssrc: missing attribute");
  /* Only cname and msid are kept; an SSRC is recorded once one of them is
   * seen (RFC 5576 requires a cname for every SSRC). */
  if (!eq(attr, "cname") && !eq(attr, "msid"))
    return 0;
  if (eq(attr, "cname") && !trim(val).n)
    return fail(ps, "a=ssrc: empty cname");
  for (unsigned i = 0; i < m->ssrc_count; i++)
    if (m->ssrcs[i].ssrc == id)
      e = &m->ssrcs[i];
  if (!e) {
    if (m->ssrc_count >= TERN_SDP_MAX_SSRCS) {
      ps->s->dropped.ssrcs++;
      return 0;
    }
    e = &m->ssrcs[m->ssrc_count++];
    e->ssrc = (uint32_t)id;
  }
  if (eq(attr, "cname"))
    return put(ps, e->cname, sizeof(e->cname), trim(val), "a=ssrc: cname");
  return msid_pair(ps, val, e->msid_stream, e->msid_track, "a=ssrc: msid");
}

static int a_ssrc_group(struct parser *ps, struct span v)
{
  struct tern_sdp_media *m = ps->m;
  struct span sem = tok(&v), idv;
  struct tern_sdp_ssrc_group g;
  uint64_t id;
  int rc;

  memset(&g, 0, sizeof(g));
  if ((rc = put(ps, g.semantics, sizeof(g.semantics), sem,
                "a=ssrc-group: semantics")))
    return rc;
  if (!sem.n)
    return fail(ps, "a=ssrc-group: missing semantics");
  while ((idv = tok(&v)).n) {
    if (!num(idv, UINT32_MAX, &id))
      return fail(ps, "a=ssrc-group: bad ssrc '%s'", q(idv).s);
    if (g.ssrc_count >= TERN_SDP_MAX_GROUP_SSRCS)
      ps->s->dropped.group_ssrcs++;
    else
      g.ssrcs[g.ssrc_count++] = (uint32_t)id;
  }
  if (!g.ssrc_count)
    return fail(ps, "a=ssrc-group: no ssrcs");
  if (m->ssrc_group_count >= TERN_SDP_MAX_SSRC_GROUPS) {
    ps->s->dropped.ssrc_groups++;
    return 0;
  }
  m->ssrc_groups[m->ssrc_group_count++] = g;
  return 0;
}

/* foundation component transport priority address port "typ" type [ext]... */
static int a_candidate(struct parser *ps, struct span v)
{
  struct tern_sdp_media *m = ps->m;
  struct tern_sdp_candidate c;
  struct span all = trim(v);
  struct span fd = tok(&v), comp = tok(&v), tr = tok(&v), prio = tok(&v);
  struct span addr = tok(&v), port = tok(&v), typ = tok(&v), type = tok(&v);
  uint64_t x;

  memset(&c, 0, sizeof(c));
  if (!fd.n)
    return fail(ps, "a=candidate: missing foundation");
  if (fd.n >= sizeof(c.foundation))
    return fail(ps, "a=candidate: foundation too long (limit %zu)",
                sizeof(c.foundation) - 1);
  for (size_t i = 0; i < fd.n; i++)
    if (!tern_sdp__is_ice_char((unsigned char)fd.p[i]))
      return fail(ps, "a=candidate: bad foundation '%s'", q(fd).s);
  memcpy(c.foundation, fd.p, fd.n);
  if (!comp.n)
    return fail(ps, "a=candidate: missing component id");
  if (!num(comp, 256, &x) || x == 0)
    return fail(ps, "a=candidate: bad component id '%s'", q(comp).s);
  c.component = (uint16_t)x;
  if (!tr.n)
    return fail(ps, "a=candidate: missing transport");
  if (tr.n >= sizeof(c.transport))
    return fail(ps, "a=candidate: bad transport '%s'", q(tr).s);
  memcpy(c.transport, tr.p, tr.n);
  if (!prio.n)
    return fail(ps, "a=candidate: missing priority");
  if (!num(prio, UINT32_MAX, &x) || x == 0)
    return fail(ps, "a=candidate: bad priority '%s'", q(prio).s);
  c.priority = (uint32_t)x;
  if (!addr.n)
    return fail(ps, "a=candidate: missing address");
  if (addr.n >= sizeof(c.address))
    return fail(ps, "a=candidate: address too long (limit %zu)",
                sizeof(c.address) - 1);
  memcpy(c.address, addr.p, addr.n);
  if (!port.n)
    return fail(ps, "a=candidate: missing port");
  if (!num(port, 65535, &x))
    return fail(ps, "a=candidate: bad port '%s'", q(port).s);
  c.port = (uint16_t)x;
  if (!typ.n)
    return fail(ps, "a=candidate: missing 'typ'");
  if (!eq(typ, "typ"))
    return fail(ps, "a=candidate: expected 'typ', got '%s'", q(typ).s);
  if (!type.n)
    return fail(ps, "a=candidate: missing candidate type");
  if (type.n >= sizeof(c.type))
    return fail(ps, "a=candidate: bad candidate type '%s'", q(type).s);
  memcpy(c.type, type.p, type.n);
  if (all.n + strlen("candidate:") >= sizeof(c.raw))
    return fail(ps, "a=candidate: too long (%zu bytes, limit %zu)",
                all.n + strlen("candidate:"), sizeof(c.raw) - 1);
  memcpy(c.raw, "candidate:", 10);
  memcpy(c.raw + 10, all.p, all.n);
  if (m->candidate_count >= TERN_SDP_MAX_CANDIDATES) {
    ps->s->dropped.candidates++;
    return 0;
  }
  m->candidates[m->candidate_count++] = c;
  return 0;
}

static int a_sctp_port(struct parser *ps, struct span v)
{
  uint64_t x;

  if (!num(trim(v), 65535, &x) || x == 0)
    return fail(ps, "a=sctp-port: bad port '%s'", q(trim(v)).s);
  ps->m->sctp_port = (uint16_t)x;
  return 0;
}

static int a_max_message_size(struct parser *ps, struct span v)
{
  uint64_t x;

  if (!num(trim(v), UINT64_MAX, &x))
    return fail(ps, "a=max-message-size: bad value '%s'", q(trim(v)).s);
  ps->m->has_max_message_size = true;
  ps->m->max_message_size = x;
  return 0;
}

const struct tern_sdp__attr tern_sdp__media_attrs[] = {
    {"rtcp", SDP_AT_MEDIA, a_rtcp},
    {"rtcp-mux", SDP_AT_MEDIA, a_flag_rtcp_mux},
    {"rtcp-rsize", SDP_AT_MEDIA, a_flag_rtcp_rsize},
    {"bundle-only", SDP_AT_MEDIA, a_flag_bundle_only},
    {"end-of-candidates", SDP_AT_MEDIA, a_flag_eoc},
    {"rtpmap", SDP_AT_MEDIA, a_rtpmap},
    {"fmtp", SDP_AT_MEDIA, a_fmtp},
    {"rtcp-fb", SDP_AT_MEDIA, a_rtcp_fb},
    {"extmap", SDP_AT_MEDIA, a_extmap},
    {"msid", SDP_AT_MEDIA, a_msid},
    {"ssrc", SDP_AT_MEDIA, a_ssrc},
    {"ssrc-group", SDP_AT_MEDIA, a_ssrc_group},
    {"candidate", SDP_AT_MEDIA, a_candidate},
    {"sctp-port", SDP_AT_MEDIA, a_sctp_port},
    {"max-message-size", SDP_AT_MEDIA, a_max_message_size},
};
const size_t tern_sdp__media_attrs_count =
    sizeof(tern_sdp__media_attrs) / sizeof(tern_sdp__media_attrs[0]);
