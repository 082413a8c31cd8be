#include "sdp/negotiate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "sdp/sdp.h"

#define CAND_HOST_PRIORITY(i) ((126u << 24) | ((65535u - (unsigned)(i)) << 8) | 255u)

static enum tern_sdp_setup to_sdp_setup(enum tern_setup s) {
  switch (s) {
  case TERN_SETUP_ACTPASS: return TERN_SDP_SETUP_ACTPASS;
  case TERN_SETUP_ACTIVE: return TERN_SDP_SETUP_ACTIVE;
  case TERN_SETUP_PASSIVE: return TERN_SDP_SETUP_PASSIVE;
  default: return TERN_SDP_SETUP_NONE;
  }
}

static enum tern_setup from_sdp_setup(enum tern_sdp_setup s) {
  switch (s) {
  case TERN_SDP_SETUP_ACTPASS: return TERN_SETUP_ACTPASS;
  case TERN_SDP_SETUP_ACTIVE: return TERN_SETUP_ACTIVE;
  case TERN_SDP_SETUP_PASSIVE: return TERN_SETUP_PASSIVE;
  default: return TERN_SETUP_NONE;
  }
}

/* Fills the transport attributes every accepted m-line of ours carries. */
static int fill_transport(const struct tern_local_params *l, struct tern_sdp_media *m) {
  char host[INET6_ADDRSTRLEN];
  if (tern_sdp_set_str(m->ice_ufrag, sizeof m->ice_ufrag, l->ice_ufrag) ||
      tern_sdp_set_str(m->ice_pwd, sizeof m->ice_pwd, l->ice_pwd) ||
      tern_sdp_set_str(m->fingerprint.alg, sizeof m->fingerprint.alg, "sha-256") ||
      tern_sdp_set_str(m->fingerprint.value, sizeof m->fingerprint.value, l->fingerprint))
    return -E2BIG;
  m->setup = to_sdp_setup(l->setup);
  m->port = 9; /* RFC 8840: the real ports are in the candidates */
  tern_sdp_set_str(m->c_addr, sizeof m->c_addr, "0.0.0.0");
  for (int i = 0; i < l->n_candidates; i++) {
    const struct sockaddr_storage *ss = &l->candidates[i];
    uint16_t port;
    if (ss->ss_family == AF_INET) {
      const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
      inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
      port = ntohs(in->sin_port);
    } else {
      const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
      inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
      port = ntohs(in6->sin6_port);
    }
    char foundation[12];
    snprintf(foundation, sizeof foundation, "%d", i + 1);
    if (tern_sdp_add_candidate(m, foundation, 1, "udp", CAND_HOST_PRIORITY(i), host, port,
                               "host") < 0)
      return -ENOSPC;
  }
  m->end_of_candidates = true;
  return 0;
}

static void fill_session(const struct tern_local_params *l, struct tern_sdp *s) {
  tern_sdp_init(s);
  s->session_id = l->session_id;
  s->session_version = l->session_version;
  s->ice_lite = l->ice_lite;
  tern_sdp_set_str(s->msid_semantic, sizeof s->msid_semantic, "WMS");
}

static void fill_application(const struct tern_local_params *l, struct tern_sdp_media *m) {
  m->sctp_port = l->sctp_port;
  m->has_max_message_size = true;
  m->max_message_size = l->max_message_size;
}

static const char *const MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid";
static const char *const AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";

/* An audio (Opus) or video (VP8) m-line: the codecs both browsers decode
 * and Tern's media blocks handle, with the feedback Tern answers (NACK and
 * keyframe requests for video). */
static int fill_track(const struct tern_local_params *l, const struct tern_local_track *t,
                      struct tern_sdp_media *m) {
  struct tern_sdp_codec *c;
  int rc = fill_transport(l, m);
  if (rc < 0)
    return rc;
  m->has_direction = true;
  m->direction = (enum tern_sdp_dir)t->dir; /* same order */
  m->rtcp_rsize = true;
  if (t->kind == TERN_TRACK_AUDIO) {
    c = tern_sdp_add_codec(m, t->pt, "opus", 48000, 2,
                           t->stereo ? "minptime=10;useinbandfec=1;stereo=1;sprop-stereo=1"
                                     : "minptime=10;useinbandfec=1");
  } else {
    c = tern_sdp_add_codec(m, t->pt, "VP8", 90000, 0, "");
    if (c && (tern_sdp_add_rtcp_fb(c, "nack") < 0 || tern_sdp_add_rtcp_fb(c, "nack pli") < 0 ||
              tern_sdp_add_rtcp_fb(c, "ccm fir") < 0))
      return -ENOSPC;
  }
  if (!c || (t->ext_mid && tern_sdp_add_extmap(m, t->ext_mid, MID_URI) < 0) ||
      (t->ext_audio_level && tern_sdp_add_extmap(m, t->ext_audio_level, AUDIO_LEVEL_URI) < 0))
    return -ENOSPC;
  if (t->dir == TERN_DIR_SENDRECV || t->dir == TERN_DIR_SENDONLY) {
    char track_id[40];
    snprintf(track_id, sizeof track_id, "%s-%s", t->kind == TERN_TRACK_AUDIO ? "audio" : "video",
             t->mid);
    if (tern_sdp_set_str(m->msid_stream, sizeof m->msid_stream, l->msid_stream) ||
        tern_sdp_set_str(m->msid_track, sizeof m->msid_track, track_id))
      return -E2BIG;
    m->ssrc_count = 1;
    m->ssrcs[0].ssrc = t->ssrc;
    if (tern_sdp_set_str(m->ssrcs[0].cname, sizeof m->ssrcs[0].cname, l->cname) ||
        tern_sdp_set_str(m->ssrcs[0].msid_stream, sizeof m->ssrcs[0].msid_stream, l->msid_stream) ||
        tern_sdp_set_str(m->ssrcs[0].msid_track, sizeof m->ssrcs[0].msid_track, track_id))
      return -E2BIG;
  }
  return 0;
}

int tern_negotiate_write_offer(const struct tern_local_params *l, char *buf, size_t cap,
                               char *err, size_t errcap) {
  struct tern_sdp *s = malloc(sizeof *s);
  int rc;
  if (!s)
    return -ENOMEM;
  fill_session(l, s);
  if (!l->datachannel && l->n_tracks == 0) {
    snprintf(err, errcap, "nothing to offer: no data channel or track was added");
    rc = -EINVAL;
    goto out;
  }
  for (int i = 0; i < l->n_tracks; i++) {
    const struct tern_local_track *t = &l->tracks[i];
    struct tern_sdp_media *tm = tern_sdp_add_media(
        s, t->kind == TERN_TRACK_AUDIO ? TERN_SDP_KIND_AUDIO : TERN_SDP_KIND_VIDEO, t->mid);
    if (!tm || (rc = fill_track(l, t, tm)) < 0) {
      snprintf(err, errcap, "could not build the offer's m-line for mid %s", t->mid);
      rc = -EINVAL;
      goto out;
    }
  }
  if (!l->datachannel) {
    rc = tern_sdp_write(s, buf, cap);
    if (rc < 0)
      snprintf(err, errcap, "could not write the offer (%d)", rc);
    goto out;
  }
  char app_mid[8];
  snprintf(app_mid, sizeof app_mid, "%d", l->n_tracks);
  struct tern_sdp_media *m = tern_sdp_add_media(s, TERN_SDP_KIND_APPLICATION, app_mid);
  if (!m || (rc = fill_transport(l, m)) < 0) {
    snprintf(err, errcap, "could not build the offer");
    rc = -EINVAL;
    goto out;
  }
  fill_application(l, m);
  rc = tern_sdp_write(s, buf, cap);
  if (rc < 0)
    snprintf(err, errcap, "could not write the offer (%d)", rc);
out:
  free(s);
  return rc;
}

/* Turns one a=candidate into an address we can send checks to. Only UDP
 * component-1 candidates with literal addresses are usable here: mDNS names
 * (".local") would need a resolver, TCP candidates a TCP transport. */
static bool candidate_addr(const struct tern_sdp_candidate *c, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (c->component != 1 || strcasecmp(c->transport, "udp") != 0 || c->port == 0)
    return false;
  struct sockaddr_in *in = (struct sockaddr_in *)out;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, c->address, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(c->port);
    return true;
  }
  if (inet_pton(AF_INET6, c->address, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(c->port);
    return true;
  }
  return false;
}

static void collect_candidates(const struct tern_sdp *s, struct tern_remote_params *r) {
  for (unsigned i = 0; i < s->media_count; i++) {
    const struct tern_sdp_media *m = &s->media[i];
    if (m->rejected)
      continue;
    for (unsigned j = 0; j < m->candidate_count && r->n_candidates < TERN_NEG_MAX_CANDIDATES;
         j++) {
      struct sockaddr_storage ss;
      if (!candidate_addr(&m->candidates[j], &ss))
        continue;
      bool dup = false;
      for (int k = 0; k < r->n_candidates && !dup; k++)
        dup = memcmp(&r->candidates[k], &ss, sizeof ss) == 0;
      if (dup)
        continue;
      r->candidates[r->n_candidates] = ss;
      r->priorities[r->n_candidates] = m->candidates[j].priority;
      r->n_candidates++;
    }
  }
}

int tern_negotiate_read(const char *sdp, size_t len, bool is_answer, const char *our_offer,
                        struct tern_remote_params *r, struct tern_sdp **parsed, char *err,
                        size_t errcap) {
  struct tern_sdp *s = malloc(sizeof *s), *ours = NULL;
  const struct tern_sdp_media *first = NULL;
  int rc = -EINVAL;

  *parsed = NULL;
  memset(r, 0, sizeof *r);
  if (!s)
    return -ENOMEM;
  if ((rc = tern_sdp_parse(sdp, len, s, err, errcap)) < 0)
    goto out;
  rc = -EINVAL;
  if (is_answer) {
    /* JSEP §5.3.1: an answer has the offer's m-lines, in order. */
    if (!our_offer || !(ours = malloc(sizeof *ours)) ||
        tern_sdp_parse(our_offer, strlen(our_offer), ours, NULL, 0) < 0) {
      snprintf(err, errcap, "no local offer to match the answer against");
      goto out;
    }
    if (s->media_count != ours->media_count) {
      snprintf(err, errcap, "the answer has %u m-line(s), the offer had %u", s->media_count,
               ours->media_count);
      goto out;
    }
    for (unsigned i = 0; i < s->media_count; i++) {
      if (s->media[i].kind != ours->media[i].kind ||
          strcmp(s->media[i].mid, ours->media[i].mid) != 0) {
        snprintf(err, errcap, "m-line %u of the answer (%s, mid %s) does not match the offer's (%s, mid %s)",
                 i + 1, s->media[i].kind_str, s->media[i].mid, ours->media[i].kind_str,
                 ours->media[i].mid);
        goto out;
      }
      /* The data channel we offered must come back accepted as one; an
       * m=application of ours that was no data channel (we only ever
       * write that when declining one) may be declined in turn. */
      const struct tern_sdp_media *om = &ours->media[i];
      bool offered_dc = om->kind == TERN_SDP_KIND_APPLICATION && !om->rejected &&
                        strstr(om->proto, "SCTP") && strstr(om->fmt, "webrtc-datachannel");
      if (offered_dc && (s->media[i].rejected || !strstr(s->media[i].proto, "SCTP") ||
                         !strstr(s->media[i].fmt, "webrtc-datachannel"))) {
        snprintf(err, errcap, "the answer rejected the data channel m-line (mid %s)",
                 s->media[i].mid);
        goto out;
      }
      if (ours->media[i].kind == TERN_SDP_KIND_APPLICATION)
        continue;
      /* A track: accepted with our payload type, or rejected. */
      struct tern_remote_track *rt = &r->tracks[r->n_tracks++];
      const struct tern_sdp_media *am = &s->media[i];
      rt->rejected = am->rejected;
      rt->dir = (enum tern_track_dir)tern_sdp_media_direction(s, am);
      rt->ssrc = am->ssrc_count ? am->ssrcs[0].ssrc : 0;
      if (!am->rejected) {
        bool found = false;
        for (unsigned k = 0; k < am->codec_count && !found; k++)
          found = am->codecs[k].pt == ours->media[i].codecs[0].pt;
        if (!found) {
          snprintf(err, errcap, "the answer's %s m-line (mid %s) lacks payload type %u (%s)",
                   am->kind_str, am->mid, ours->media[i].codecs[0].pt,
                   ours->media[i].codecs[0].name);
          goto out;
        }
      }
    }
  }
  for (unsigned i = 0; !is_answer && i < s->media_count; i++) {
    const struct tern_sdp_media *m = &s->media[i];
    if (m->kind != TERN_SDP_KIND_AUDIO && m->kind != TERN_SDP_KIND_VIDEO)
      continue;
    struct tern_remote_track *rt = &r->tracks[r->n_tracks++];
    const struct tern_sdp_codec *c =
        m->kind == TERN_SDP_KIND_AUDIO ? tern_sdp_find_codec(m, "opus", 48000, 0)
                                       : tern_sdp_find_codec(m, "VP8", 90000, 0);
    rt->kind = m->kind == TERN_SDP_KIND_AUDIO ? TERN_TRACK_AUDIO : TERN_TRACK_VIDEO;
    tern_sdp_set_str(rt->mid, sizeof rt->mid, m->mid);
    rt->rejected = m->rejected || !c;
    rt->pt = c ? c->pt : 0;
    rt->stereo = c && strstr(c->fmtp, "stereo=1") != NULL;
    rt->dir = (enum tern_track_dir)tern_sdp_media_direction(s, m);
    rt->ssrc = m->ssrc_count ? m->ssrcs[0].ssrc : 0;
    for (unsigned k = 0; k < m->extmap_count; k++) {
      if (m->extmaps[k].id > 14)
        continue; /* keep to one-byte headers (RFC 8285 §4.2) */
      if (strcmp(m->extmaps[k].uri, MID_URI) == 0)
        rt->ext_mid = (uint8_t)m->extmaps[k].id;
      else if (strcmp(m->extmaps[k].uri, AUDIO_LEVEL_URI) == 0 && rt->kind == TERN_TRACK_AUDIO)
        rt->ext_audio_level = (uint8_t)m->extmaps[k].id;
    }
  }
  for (unsigned i = 0; i < s->media_count; i++) {
    const struct tern_sdp_media *m = &s->media[i];
    if (m->rejected)
      continue;
    if (!first)
      first = m;
    if (m->kind == TERN_SDP_KIND_APPLICATION && !r->datachannel &&
        strstr(m->proto, "SCTP") && strstr(m->fmt, "webrtc-datachannel")) {
      if (!m->sctp_port) {
        snprintf(err, errcap, "m=application (mid %s) has no a=sctp-port", m->mid);
        goto out;
      }
      r->datachannel = true;
      tern_sdp_set_str(r->app_mid, sizeof r->app_mid, m->mid);
      r->sctp_port = m->sctp_port;
      /* RFC 8841 §6.1: absent means 64 KiB; 0 means no limit. */
      uint64_t mms = m->has_max_message_size ? m->max_message_size : 65536;
      r->max_message_size = (mms == 0 || mms > UINT32_MAX) ? UINT32_MAX : (uint32_t)mms;
    }
  }
  if (!first) {
    snprintf(err, errcap, "every m-line is rejected: nothing to connect");
    goto out;
  }
  /* BUNDLE (RFC 8843): one transport, described by the first m-line. */
  const struct tern_sdp_fingerprint *fp = tern_sdp_media_fingerprint(s, first);
  if (!fp) {
    snprintf(err, errcap, "no a=fingerprint for mid %s", first->mid);
    goto out;
  }
  if (strcmp(fp->alg, "sha-256") && strcmp(fp->alg, "sha-1") && strcmp(fp->alg, "sha-384") &&
      strcmp(fp->alg, "sha-512")) {
    snprintf(err, errcap, "a=fingerprint hash '%s' is not supported (use sha-256)", fp->alg);
    goto out;
  }
  tern_sdp_set_str(r->fp_alg, sizeof r->fp_alg, fp->alg);
  tern_sdp_set_str(r->fp_value, sizeof r->fp_value, fp->value);
  tern_sdp_set_str(r->ice_ufrag, sizeof r->ice_ufrag, tern_sdp_media_ice_ufrag(s, first));
  tern_sdp_set_str(r->ice_pwd, sizeof r->ice_pwd, tern_sdp_media_ice_pwd(s, first));
  if (!r->ice_ufrag[0] || !r->ice_pwd[0]) {
    snprintf(err, errcap, "no a=ice-ufrag/a=ice-pwd for mid %s", first->mid);
    goto out;
  }
  r->setup = from_sdp_setup(tern_sdp_media_setup(s, first));
  if (tern_sdp_media_setup(s, first) == TERN_SDP_SETUP_HOLDCONN) {
    snprintf(err, errcap, "a=setup:holdconn is not supported");
    goto out;
  }
  r->ice_lite = s->ice_lite;
  collect_candidates(s, r);
  rc = 0;
  *parsed = s;
  s = NULL;
out:
  free(s);
  free(ours);
  return rc;
}

int tern_negotiate_write_answer(const struct tern_local_params *l, const struct tern_sdp *offer,
                                char *buf, size_t cap, char *err, size_t errcap) {
  struct tern_sdp *s = malloc(sizeof *s);
  unsigned accepted = 0;
  bool datachannel_done = false;
  int rc = -EINVAL;
  if (!s)
    return -ENOMEM;
  fill_session(l, s);
  for (unsigned i = 0; i < offer->media_count; i++) {
    const struct tern_sdp_media *o = &offer->media[i];
    struct tern_sdp_media *m = tern_sdp_add_media(s, o->kind, o->mid);
    if (!m) {
      snprintf(err, errcap, "could not build the answer");
      goto out;
    }
    tern_sdp_set_str(m->kind_str, sizeof m->kind_str, o->kind_str);
    tern_sdp_set_str(m->proto, sizeof m->proto, o->proto);
    const struct tern_local_track *t = NULL;
    for (int k = 0; k < l->n_tracks && !o->rejected; k++)
      if (strcmp(l->tracks[k].mid, o->mid) == 0)
        t = &l->tracks[k];
    if (t) {
      if ((rc = fill_track(l, t, m)) < 0) {
        snprintf(err, errcap, "could not build the answer's m-line for mid %s", o->mid);
        goto out;
      }
      accepted++;
      continue;
    }
    bool usable = !o->rejected && o->kind == TERN_SDP_KIND_APPLICATION && o->sctp_port &&
                  strstr(o->proto, "SCTP") &&
                  strstr(o->fmt, "webrtc-datachannel") && !datachannel_done;
    if (usable) {
      if ((rc = fill_transport(l, m)) < 0) {
        snprintf(err, errcap, "could not build the answer");
        goto out;
      }
      fill_application(l, m);
      accepted++;
      datachannel_done = true;
      continue;
    }
    /* Declined (RFC 8829 §5.3.1): port 0, the offered formats echoed, and
     * out of the BUNDLE group. */
    m->rejected = true;
    m->port = 0;
    m->rtcp_mux = false;
    tern_sdp_set_str(m->c_addr, sizeof m->c_addr, "0.0.0.0");
    tern_sdp_set_str(m->fmt, sizeof m->fmt, o->fmt);
    if (o->codec_count > 0)
      tern_sdp_add_codec(m, o->codecs[0].pt, o->codecs[0].name, o->codecs[0].clock_rate,
                         o->codecs[0].channels, "");
    m->has_direction = true;
    m->direction = TERN_SDP_DIR_INACTIVE;
    for (unsigned b = 0; b < s->bundle_count; b++)
      if (strcmp(s->bundle_mids[b], o->mid) == 0) {
        memmove(s->bundle_mids[b], s->bundle_mids[b + 1],
                (s->bundle_count - b - 1) * sizeof s->bundle_mids[0]);
        s->bundle_count--;
        break;
      }
  }
  if (!accepted) {
    snprintf(err, errcap, "nothing in the offer can be accepted (Tern takes Opus audio, VP8 video and data channels)");
    rc = -EINVAL;
    goto out;
  }
  rc = tern_sdp_write(s, buf, cap);
  if (rc < 0)
    snprintf(err, errcap, "could not write the answer (%d)", rc);
out:
  free(s);
  return rc;
}
