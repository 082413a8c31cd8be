/* test_sdp — the SDP parser and writer against real browser SDPs
 * (tests/data, captured from Chromium and Firefox), malformed inputs with
 * the reason each must give, and write -> parse round trips.
 * Runs with cwd = repository root.
 */
#include "sdp/sdp.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <strings.h>

/* ---- helpers ------------------------------------------------------------ */

static char *load(const char *name, size_t *len)
{
  char path[256];
  FILE *f;
  char *buf;
  long n;

  snprintf(path, sizeof(path), "tests/data/%s", name);
  f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open fixture %s (run from the repo root)\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf)
    buf[n] = '\0';
  *len = (size_t)n;
  return buf;
}

/* Parses a fixture into a fresh heap model; NULL (and a failed check) if
 * the file is missing or does not parse. */
static struct tern_sdp *parse_fixture(const char *name)
{
  size_t len;
  char err[256];
  char *text = load(name, &len);
  struct tern_sdp *s = malloc(sizeof(*s));
  int rc;

  CHECK(text != NULL);
  if (!text || !s) {
    free(text);
    free(s);
    return NULL;
  }
  rc = tern_sdp_parse(text, len, s, err, sizeof(err));
  if (rc)
    fprintf(stderr, "%s: %s\n", name, err);
  CHECK_EQ_INT(rc, 0);
  free(text);
  if (rc) {
    free(s);
    return NULL;
  }
  return s;
}

static int fp_len(const struct tern_sdp_fingerprint *fp)
{
  uint8_t b[64];
  return fp ? tern_sdp_fingerprint_bytes(fp, b, sizeof(b)) : -1;
}

static bool has_candidate(const struct tern_sdp_media *m, const char *addr)
{
  for (unsigned i = 0; i < m->candidate_count; i++)
    if (strcmp(m->candidates[i].address, addr) == 0)
      return true;
  return false;
}

/* ---- every fixture: common facts ---------------------------------------- */

struct fixture {
  const char *file;
  unsigned media_count;
  enum tern_sdp_kind kind0;
  const char *ufrag, *pwd; /* resolved for media[0] */
  const char *fp_head;     /* start of the resolved fingerprint value */
  enum tern_sdp_setup setup;
  unsigned bundle_count;
  unsigned cand0;       /* candidates in media[0] */
  uint16_t cand0_port;  /* port of its first candidate */
  bool v6;              /* media[0] has a ::1 candidate */
  bool eoc;             /* a=end-of-candidates in media[0] */
};

static const struct fixture fixtures[] = {
    {"sdp-offer-audio-chromium.txt", 1, TERN_SDP_KIND_AUDIO, "ZFER",
     "crRIDQ+I0xI3kV+dgUsA/B97", "B9:F7:80:74", TERN_SDP_SETUP_ACTPASS, 1, 2,
     58932, false, false},
    {"sdp-offer-audio-firefox.txt", 1, TERN_SDP_KIND_AUDIO, "6f461876",
     "90051743e42d6a567936ec52c5cf5909", "EC:2D:23:32", TERN_SDP_SETUP_ACTPASS,
     1, 8, 51262, true, true},
    {"sdp-offer-audio-video-chromium.txt", 2, TERN_SDP_KIND_AUDIO, "Z4xC",
     "caKofNqoFnsB+r0a/RV2T47m", "1B:19:31:67", TERN_SDP_SETUP_ACTPASS, 2, 2,
     54268, false, false},
    {"sdp-offer-audio-video-firefox.txt", 2, TERN_SDP_KIND_AUDIO, "6daec505",
     "201c44814479dfb317cefddeca2cb3e8", "84:03:E8:9B", TERN_SDP_SETUP_ACTPASS,
     2, 8, 46738, true, true},
    {"sdp-offer-datachannel-chromium.txt", 1, TERN_SDP_KIND_APPLICATION,
     "91H7", "tG96cYUStsYegQ3obwZGp7fc", "A5:E9:68:FD", TERN_SDP_SETUP_ACTPASS,
     1, 2, 47815, false, false},
    {"sdp-offer-datachannel-firefox.txt", 1, TERN_SDP_KIND_APPLICATION,
     "07d57f4f", "f8c1b2a3e7353e7192a56305b5f7445c", "5D:3E:7D:3B",
     TERN_SDP_SETUP_ACTPASS, 1, 4, 36889, true, true},
    {"sdp-answer-audio-video-chromium.txt", 2, TERN_SDP_KIND_AUDIO, "PU/C",
     "wmpxHF0s1+bG1h6Hu1FUWYps", "F5:21:10:39", TERN_SDP_SETUP_ACTIVE, 2, 1,
     38476, false, false},
    {"sdp-answer-audio-video-firefox.txt", 2, TERN_SDP_KIND_AUDIO, "f867b139",
     "026ad8a1469a6d82c0617d73de1bd890", "E0:CE:BE:A1", TERN_SDP_SETUP_ACTIVE,
     2, 4, 42874, true, true},
    {"sdp-answer-datachannel-chromium.txt", 1, TERN_SDP_KIND_APPLICATION,
     "fY+g", "5VtaDfnddPoNaZjnfhbqvQxo", "48:B7:F0:2B", TERN_SDP_SETUP_ACTIVE,
     1, 1, 44010, false, false},
    {"sdp-answer-datachannel-firefox.txt", 1, TERN_SDP_KIND_APPLICATION,
     "e5cd81b7", "a229519a787e73d41094a5ec151bd65f", "2B:EB:D7:30",
     TERN_SDP_SETUP_ACTIVE, 1, 4, 50226, true, true},
};

static void test_fixtures_common(void)
{
  for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
    const struct fixture *fx = &fixtures[i];
    struct tern_sdp *s = parse_fixture(fx->file);
    const struct tern_sdp_media *m;
    const struct tern_sdp_fingerprint *fp;

    fprintf(stderr, "  fixture %s\n", fx->file);
    if (!s)
      continue;
    m = &s->media[0];
    fp = tern_sdp_media_fingerprint(s, m);
    CHECK_EQ_INT(s->media_count, fx->media_count);
    CHECK_EQ_INT(m->kind, fx->kind0);
    CHECK(!m->rejected);
    CHECK_EQ_STR(m->mid, "0");
    CHECK_EQ_STR(tern_sdp_media_ice_ufrag(s, m), fx->ufrag);
    CHECK_EQ_STR(tern_sdp_media_ice_pwd(s, m), fx->pwd);
    CHECK(fp != NULL);
    if (fp) {
      CHECK_EQ_STR(fp->alg, "sha-256");
      CHECK(strncmp(fp->value, fx->fp_head, strlen(fx->fp_head)) == 0);
    }
    CHECK_EQ_INT(fp_len(fp), 32);
    CHECK_EQ_INT(tern_sdp_media_setup(s, m), fx->setup);
    CHECK_EQ_INT(tern_sdp_media_direction(s, m), TERN_SDP_DIR_SENDRECV);
    CHECK_EQ_INT(s->bundle_count, fx->bundle_count);
    CHECK(tern_sdp_is_bundled(s, "0"));
    CHECK(!tern_sdp_is_bundled(s, "7"));
    CHECK(tern_sdp_find_mid(s, "0") == m);
    CHECK_EQ_INT(m->candidate_count, fx->cand0);
    if (m->candidate_count) {
      const struct tern_sdp_candidate *c = &m->candidates[0];
      CHECK_EQ_STR(c->address, "127.0.0.1");
      CHECK_EQ_INT(c->port, fx->cand0_port);
      CHECK_EQ_INT(c->component, 1);
      CHECK(strcasecmp(c->transport, "udp") == 0);
      CHECK_EQ_STR(c->type, "host");
      CHECK(strncmp(c->raw, "candidate:", 10) == 0);
    }
    CHECK_EQ_INT(has_candidate(m, "::1"), fx->v6);
    CHECK_EQ_INT(m->end_of_candidates, fx->eoc);
    CHECK_EQ_STR(m->c_addr, "127.0.0.1");
    CHECK(memcmp(&s->dropped, &(struct tern_sdp_dropped){0},
                 sizeof(s->dropped)) == 0);
    free(s);
  }
}

/* ---- data-channel answers ------------------------------------------------ */

static void check_dc_answer(const char *file, uint64_t mms, uint16_t port)
{
  struct tern_sdp *s = parse_fixture(file);
  const struct tern_sdp_media *m;

  REQUIRE(s != NULL);
  m = &s->media[0];
  CHECK_EQ_INT(s->media_count, 1);
  CHECK_EQ_INT(m->kind, TERN_SDP_KIND_APPLICATION);
  CHECK_EQ_STR(m->kind_str, "application");
  CHECK_EQ_STR(m->proto, "UDP/DTLS/SCTP");
  CHECK_EQ_STR(m->fmt, "webrtc-datachannel");
  CHECK_EQ_INT(m->port, port);
  CHECK_EQ_INT(m->sctp_port, 5000);
  CHECK(m->has_max_message_size);
  CHECK_EQ_INT(m->max_message_size, mms);
  CHECK_EQ_INT(m->setup, TERN_SDP_SETUP_ACTIVE);
  CHECK_EQ_INT(m->codec_count, 0);
  free(s);
}

static void test_dc_answers(void)
{
  struct tern_sdp *s;

  check_dc_answer("sdp-answer-datachannel-chromium.txt", 262144, 44010);
  check_dc_answer("sdp-answer-datachannel-firefox.txt", 1073741823, 50226);

  /* Firefox writes the fingerprint and a=sendrecv at session level. */
  s = parse_fixture("sdp-answer-datachannel-firefox.txt");
  REQUIRE(s != NULL);
  CHECK_EQ_STR(s->fingerprint.alg, "sha-256");
  CHECK_EQ_STR(s->media[0].fingerprint.alg, "");
  CHECK(s->has_direction);
  CHECK_EQ_STR(s->msid_semantic, "WMS *");
  CHECK_EQ_INT(s->session_id, 1441108066221127609ULL);
  CHECK_EQ_STR(s->origin_addr, "0.0.0.0");
  CHECK_EQ_STR(s->media[0].candidates[1].address, "::1");
  CHECK_EQ_INT(s->media[0].candidates[1].port, 60211);
  CHECK_EQ_STR(s->media[0].candidates[2].transport, "TCP");
  free(s);

  s = parse_fixture("sdp-answer-datachannel-chromium.txt");
  REQUIRE(s != NULL);
  CHECK_EQ_STR(s->media[0].candidates[0].raw,
               "candidate:3671440876 1 udp 2122260223 127.0.0.1 44010 typ "
               "host generation 0 network-id 1 network-cost 50");
  CHECK_EQ_INT(s->media[0].candidates[0].priority, 2122260223u);
  CHECK_EQ_STR(s->media[0].candidates[0].foundation, "3671440876");
  CHECK_EQ_STR(s->media[0].ice_options, "trickle");
  CHECK_EQ_STR(s->msid_semantic, "WMS");
  CHECK(s->extmap_allow_mixed);
  CHECK_EQ_INT(s->session_version, 2);
  free(s);
}

/* ---- audio + video offers ------------------------------------------------ */

static const char *const video_fb[] = {"nack", "nack pli", "ccm fir",
                                       "goog-remb", "transport-cc"};

static void test_av_offer_chromium(void)
{
  struct tern_sdp *s = parse_fixture("sdp-offer-audio-video-chromium.txt");
  const struct tern_sdp_media *a, *v;
  const struct tern_sdp_codec *c;

  REQUIRE(s != NULL);
  a = tern_sdp_find_mid(s, "0");
  v = tern_sdp_find_mid(s, "1");
  REQUIRE(a && v);
  CHECK_EQ_STR(s->bundle_mids[0], "0");
  CHECK_EQ_STR(s->bundle_mids[1], "1");
  CHECK_EQ_STR(s->msid_semantic, "WMS 5f7df367-439f-4aaa-8457-45461677fec1");

  CHECK_EQ_INT(a->kind, TERN_SDP_KIND_AUDIO);
  CHECK_EQ_STR(a->proto, "UDP/TLS/RTP/SAVPF");
  CHECK_EQ_INT(a->codec_count, 8);
  c = tern_sdp_find_codec(a, "opus", 48000, 2);
  REQUIRE(c != NULL);
  CHECK_EQ_INT(c->pt, 111);
  CHECK_EQ_STR(c->fmtp, "minptime=10;useinbandfec=1");
  CHECK(tern_sdp_codec_has_fb(c, "transport-cc"));
  CHECK(tern_sdp_find_codec(a, "OPUS", 0, 0) == c);
  CHECK(tern_sdp_find_codec(a, "opus", 48000, 1) == NULL);
  c = tern_sdp_find_codec(a, "G722", 8000, 1); /* no channels = 1 */
  REQUIRE(c != NULL);
  CHECK_EQ_INT(c->channels, 0);
  CHECK_EQ_INT(a->extmap_count, 4);
  CHECK_EQ_INT(a->extmaps[0].id, 1);
  CHECK_EQ_STR(a->extmaps[0].uri, "urn:ietf:params:rtp-hdrext:ssrc-audio-level");
  CHECK(a->rtcp_mux && a->rtcp_rsize);
  CHECK_EQ_INT(a->rtcp_port, 9);
  CHECK_EQ_STR(a->rtcp_addr, "0.0.0.0");
  CHECK(a->has_direction && a->direction == TERN_SDP_DIR_SENDRECV);
  CHECK_EQ_STR(a->msid_stream, "5f7df367-439f-4aaa-8457-45461677fec1");
  CHECK_EQ_STR(a->msid_track, "9162a611-bd3d-4c36-81fe-09120617fcf9");
  REQUIRE(a->ssrc_count == 1);
  CHECK_EQ_INT(a->ssrcs[0].ssrc, 3287449021u);
  CHECK_EQ_STR(a->ssrcs[0].cname, "04JRRaRG+TDp2sKR");
  CHECK_EQ_STR(a->ssrcs[0].msid_track, "9162a611-bd3d-4c36-81fe-09120617fcf9");

  CHECK_EQ_INT(v->kind, TERN_SDP_KIND_VIDEO);
  CHECK_EQ_INT(v->codec_count, 23);
  CHECK_EQ_INT(v->codecs[0].pt, 96);
  CHECK_EQ_INT(v->codecs[22].pt, 120);
  CHECK_EQ_STR(v->codecs[22].name, "ulpfec");
  c = tern_sdp_find_codec(v, "VP8", 90000, 0);
  REQUIRE(c != NULL);
  CHECK_EQ_INT(c->pt, 96);
  CHECK_EQ_INT(c->rtcp_fb_count, 5);
  for (size_t i = 0; i < 5; i++)
    CHECK(tern_sdp_codec_has_fb(c, video_fb[i]));
  CHECK_EQ_STR(c->fmtp, "");
  CHECK_EQ_STR(v->codecs[1].name, "rtx");
  CHECK_EQ_STR(v->codecs[1].fmtp, "apt=96");
  c = tern_sdp_find_codec(v, "H264", 90000, 0);
  REQUIRE(c != NULL);
  CHECK_EQ_STR(c->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;"
                        "profile-level-id=42001f");
  CHECK_EQ_INT(v->extmap_count, 11);
  CHECK_EQ_INT(v->extmaps[0].id, 14);
  CHECK_EQ_STR(v->extmaps[0].uri, "urn:ietf:params:rtp-hdrext:toffset");
  CHECK_EQ_INT(v->extmaps[10].id, 11);
  REQUIRE(v->ssrc_group_count == 1);
  CHECK_EQ_STR(v->ssrc_groups[0].semantics, "FID");
  CHECK_EQ_INT(v->ssrc_groups[0].ssrc_count, 2);
  CHECK_EQ_INT(v->ssrc_groups[0].ssrcs[0], 1639887528u);
  CHECK_EQ_INT(v->ssrc_groups[0].ssrcs[1], 106084646u);
  CHECK_EQ_INT(v->ssrc_count, 2);
  CHECK_EQ_INT(v->candidates[1].port, 9);
  CHECK_EQ_STR(v->candidates[1].transport, "tcp");
  free(s);
}

static void test_av_offer_firefox(void)
{
  struct tern_sdp *s = parse_fixture("sdp-offer-audio-video-firefox.txt");
  const struct tern_sdp_media *a, *v;
  const struct tern_sdp_codec *c;

  REQUIRE(s != NULL);
  a = &s->media[0];
  v = &s->media[1];
  /* fmtp/rtcp-fb come before rtpmap in Firefox's SDP. */
  c = tern_sdp_find_codec(a, "opus", 48000, 2);
  REQUIRE(c != NULL);
  CHECK_EQ_INT(c->pt, 109);
  CHECK_EQ_STR(c->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  CHECK(tern_sdp_codec_has_fb(c, "transport-cc"));
  c = tern_sdp_find_codec(a, "G722", 8000, 1);
  REQUIRE(c != NULL);
  CHECK_EQ_INT(c->channels, 1);
  CHECK_EQ_INT(a->extmap_count, 4);
  CHECK(a->extmaps[1].has_direction);
  CHECK_EQ_INT(a->extmaps[1].direction, TERN_SDP_DIR_RECVONLY);
  CHECK_EQ_STR(a->extmaps[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
  CHECK(a->extmap_allow_mixed);
  CHECK_EQ_STR(a->msid_stream, "{bf0a7305-9d2c-4099-a69a-a2ab6e02dff1}");
  CHECK_EQ_INT(a->rtcp_port, 50507);
  CHECK_EQ_INT(a->candidates[4].component, 2);

  c = tern_sdp_find_codec(v, "VP8", 90000, 0);
  REQUIRE(c != NULL);
  CHECK_EQ_INT(c->pt, 120);
  CHECK_EQ_STR(c->fmtp, "max-fs=12288;max-fr=60");
  for (size_t i = 0; i < 5; i++)
    CHECK(tern_sdp_codec_has_fb(c, video_fb[i]));
  CHECK_EQ_INT(v->codec_count, 9);
  CHECK_EQ_INT(v->extmap_count, 5);
  CHECK_EQ_INT(v->extmaps[3].direction, TERN_SDP_DIR_RECVONLY);
  CHECK_EQ_STR(v->ssrc_groups[0].semantics, "FID");
  CHECK_EQ_INT(v->ssrc_groups[0].ssrcs[1], 782094733u);
  CHECK(has_candidate(v, "::1"));
  CHECK_EQ_STR(tern_sdp_media_fingerprint(s, v)->value,
               "84:03:E8:9B:99:04:DF:8C:DE:BB:62:6E:FB:99:32:DB:43:92:3F:06:37:"
               "DA:BE:85:79:2D:7A:D4:36:FB:D0:6A");
  free(s);
}

static void test_av_answer_chromium(void)
{
  struct tern_sdp *s = parse_fixture("sdp-answer-audio-video-chromium.txt");
  const struct tern_sdp_media *v;

  REQUIRE(s != NULL);
  v = tern_sdp_find_mid(s, "1");
  REQUIRE(v != NULL);
  /* A bundled m-line: port 9, no candidates, still accepted (not port 0). */
  CHECK_EQ_INT(v->port, 9);
  CHECK(!v->rejected);
  CHECK_EQ_INT(v->candidate_count, 0);
  CHECK_EQ_STR(v->c_addr, "0.0.0.0");
  CHECK_EQ_INT(v->codec_count, 11);
  CHECK(tern_sdp_find_codec(v, "VP8", 90000, 0) != NULL);
  CHECK(tern_sdp_find_codec(v, "H264", 0, 0) == NULL);
  CHECK_EQ_INT(tern_sdp_media_setup(s, v), TERN_SDP_SETUP_ACTIVE);
  free(s);
}

/* ---- malformed input ------------------------------------------------------ */

#define HEAD "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define FP                                                                     \
  "a=fingerprint:sha-256 48:B7:F0:2B:58:5A:AE:F4:DA:7B:99:61:6B:B2:3F:B2:9A:" \
  "04:DE:69:16:31:98:4C:67:A0:1F:9E:7E:2E:A4:EA\r\n"
#define ICE "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
#define APP "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
#define AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n"

static const struct bad {
  const char *name, *text, *want;
  int rc;
} bads[] = {
    {"empty", "", "empty SDP", -EINVAL},
    {"binary", "\x89PNG\r\n\x1a\n\xff\xfe garbage", "input is not SDP (must start with v=0)", -EINVAL},
    {"missing v=", "o=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" APP,
     "input is not SDP (must start with v=0)", -EINVAL},
    {"v=1", "v=1\r\n" APP, "must start with v=0", -EINVAL},
    {"no m=", HEAD ICE FP, "no m= line", -EINVAL},
    {"no o=", "v=0\r\ns=-\r\nt=0 0\r\n" ICE FP APP "a=mid:0\r\n", "no o= line",
     -EINVAL},
    {"two o=", HEAD "o=- 1 2 IN IP4 127.0.0.1\r\n", "line 5: duplicate o= line",
     -EINVAL},
    {"ssrc empty cname", HEAD AUDIO "a=ssrc:1 cname:\r\n", "a=ssrc: empty cname",
     -EINVAL},
    {"rtcp port 0", HEAD AUDIO "a=rtcp:0\r\n", "a=rtcp: bad port '0'", -EINVAL},
    {"m= port too big", HEAD "m=audio 70000 UDP/TLS/RTP/SAVPF 111\r\n",
     "line 5: m=: bad port '70000'", -EINVAL},
    {"m= port not a number", HEAD "m=audio 9x UDP/TLS/RTP/SAVPF 111\r\n",
     "m=: bad port '9x'", -EINVAL},
    {"m= too few fields", HEAD "m=audio 9\r\n", "m=: expected", -EINVAL},
    {"m= pt 300", HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 111 300\r\n",
     "m=: payload type 300 out of range", -EINVAL},
    {"rtpmap pt 300", HEAD AUDIO "a=rtpmap:300 opus/48000/2\r\n",
     "line 7: a=rtpmap: payload type 300 out of range (0-127)", -EINVAL},
    {"rtpmap no clock", HEAD AUDIO "a=rtpmap:111 opus\r\n",
     "a=rtpmap: missing clock rate", -EINVAL},
    {"candidate no port", HEAD APP "a=candidate:1 1 udp 2122260223 127.0.0.1\r\n",
     "line 7: a=candidate: missing port", -EINVAL},
    {"candidate no priority", HEAD APP "a=candidate:1 1 udp\r\n",
     "a=candidate: missing priority", -EINVAL},
    {"candidate no typ", HEAD APP "a=candidate:1 1 udp 1 10.0.0.1 5000 host\r\n",
     "a=candidate: expected 'typ', got 'host'", -EINVAL},
    {"candidate empty", HEAD APP "a=candidate:\r\n",
     "a=candidate: missing foundation", -EINVAL},
    {"md5 fingerprint", HEAD APP "a=fingerprint:md5 00:11\r\n",
     "line 7: a=fingerprint: unknown hash 'md5'", -EINVAL},
    {"short fingerprint", HEAD APP "a=fingerprint:sha-256 00:11:22\r\n",
     "a=fingerprint: sha-256 digest must be 32 bytes, got 3", -EINVAL},
    {"fingerprint bad hex", HEAD APP "a=fingerprint:sha-1 0G:11\r\n",
     "a=fingerprint: bad hex at byte 1", -EINVAL},
    {"missing ufrag", HEAD APP "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" FP
     "a=mid:0\r\n", "missing ice-ufrag for m=application (mid 0)", -EINVAL},
    {"missing pwd", HEAD APP "a=ice-ufrag:abcd\r\n" FP "a=mid:0\r\n",
     "missing ice-pwd for m=application (mid 0)", -EINVAL},
    {"missing fingerprint", HEAD ICE AUDIO "a=mid:a\r\n",
     "missing fingerprint for m=audio (mid a)", -EINVAL},
    {"missing mid", HEAD ICE FP APP, "missing a=mid for m=application (m-line 1)",
     -EINVAL},
    {"duplicate mid", HEAD ICE FP APP "a=mid:x\r\n" APP "a=mid:x\r\n",
     "duplicate mid 'x' (m-lines 1 and 2)", -EINVAL},
    {"bundle unknown mid", HEAD "a=group:BUNDLE 0 9\r\n" ICE FP APP "a=mid:0\r\n",
     "a=group:BUNDLE names mid '9' but no m= line has it", -EINVAL},
    {"short pwd", HEAD APP "a=ice-pwd:short\r\n",
     "a=ice-pwd: too short (5 chars, minimum 22)", -EINVAL},
    {"ufrag bad char", HEAD APP "a=ice-ufrag:ab;cd\r\n",
     "a=ice-ufrag: invalid character ';'", -EINVAL},
    {"setup role", HEAD APP "a=setup:both\r\n", "a=setup: unknown role 'both'",
     -EINVAL},
    {"extmap id 0", HEAD AUDIO "a=extmap:0 urn:x\r\n",
     "a=extmap: id '0' out of range (1-255)", -EINVAL},
    {"extmap dir", HEAD AUDIO "a=extmap:1/sideways urn:x\r\n",
     "a=extmap: unknown direction 'sideways'", -EINVAL},
    {"sctp-port", HEAD APP "a=sctp-port:99999\r\n", "a=sctp-port: bad port '99999'",
     -EINVAL},
    {"control char", HEAD APP "a=mid:0\x01\r\n", "line 7: control character 0x01",
     -EINVAL},
    {"not type=value", HEAD "hello\r\n", "line 5: expected '<type>=<value>'",
     -EINVAL},
    {"c= garbage", HEAD APP "c=IN IPX 1.2.3.4\r\n", "c=: expected", -EINVAL},
    {"o= bad id", "v=0\r\no=- abc 2 IN IP4 1.2.3.4\r\n",
     "line 2: o=: bad session id 'abc'", -EINVAL},
    {"second v=", HEAD "v=0\r\n", "line 5: v= must be the first line", -EINVAL},
};

static void expect_fail(const char *name, const char *text, size_t len,
                        const char *want, int want_rc)
{
  struct tern_sdp *s = malloc(sizeof(*s));
  char err[256];
  int rc;

  if (!s)
    return;
  memset(err, 'X', sizeof(err));
  rc = tern_sdp_parse(text, len, s, err, sizeof(err));
  CHECK_EQ_INT(rc, want_rc);
  if (!strstr(err, want)) {
    test_failures++;
    fprintf(stderr, "  %s: want \"%s\" in error, got \"%s\"\n", name, want, err);
  }
  free(s);
}

static void test_malformed_table(void)
{
  for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
    expect_fail(bads[i].name, bads[i].text, strlen(bads[i].text), bads[i].want,
                bads[i].rc);
}

static void test_malformed_generated(void)
{
  char *buf = malloc(80000);
  size_t n;

  REQUIRE(buf != NULL);

  /* A ufrag of 300 ice-chars. */
  n = (size_t)sprintf(buf, HEAD APP "a=ice-ufrag:");
  memset(buf + n, 'u', 300);
  n += 300;
  n += (size_t)sprintf(buf + n, "\r\n");
  expect_fail("overlong ufrag", buf, n,
              "line 7: a=ice-ufrag: too long (300 bytes, limit 256)", -EINVAL);

  /* 100 m-lines. */
  n = (size_t)sprintf(buf, HEAD ICE FP);
  for (int i = 0; i < 100; i++)
    n += (size_t)sprintf(buf + n, APP "a=mid:%d\r\n", i);
  expect_fail("100 m-lines", buf, n, "too many m= lines (limit 16)", -E2BIG);

  /* A NUL byte in line 3; the length says there is more after it. */
  n = (size_t)sprintf(buf, HEAD APP);
  buf[strlen("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=")] = '\0';
  expect_fail("NUL byte", buf, n, "line 3: NUL byte in SDP", -EINVAL);

  /* One 5000-byte attribute line. */
  n = (size_t)sprintf(buf, HEAD "a=x-huge:");
  memset(buf + n, 'h', 5000);
  n += 5000;
  n += (size_t)sprintf(buf + n, "\r\n" APP);
  expect_fail("huge line", buf, n, "line 5: line too long (5009 bytes, limit 1024)",
              -EINVAL);

  /* Over the input cap. */
  memset(buf, 'a', 70000);
  memcpy(buf, "v=0\r\n", 5);
  expect_fail("too large", buf, 70000, "SDP too large (70000 bytes, limit 65536)",
              -E2BIG);
  free(buf);
}

/* Cut real SDPs in the middle of a line: the reason names that line. */
static void test_truncated(void)
{
  size_t len;
  char *text = load("sdp-offer-datachannel-chromium.txt", &len);
  const char *at;

  REQUIRE(text != NULL);
  at = strstr(text, "A5:E9:68:FD:F6");
  REQUIRE(at != NULL);
  expect_fail("cut in fingerprint", text, (size_t)(at - text) + 14,
              "line 15: a=fingerprint: sha-256 digest must be 32 bytes, got 5",
              -EINVAL);
  expect_fail("cut in fingerprint hex", text, (size_t)(at - text) + 13,
              "line 15: a=fingerprint: bad hex at byte 5", -EINVAL);
  at = strstr(text, "m=application");
  REQUIRE(at != NULL);
  expect_fail("cut in m=", text, (size_t)(at - text) + 15, "line 8: m=: expected",
              -EINVAL);
  at = strstr(text, "a=ice-pwd:");
  REQUIRE(at != NULL);
  expect_fail("cut after ufrag", text, (size_t)(at - text) + 12,
              "a=ice-pwd: too short (2 chars, minimum 22)", -EINVAL);
  /* The whole text minus its final CRLF still parses. */
  {
    struct tern_sdp *s = malloc(sizeof(*s));
    REQUIRE(s != NULL);
    CHECK_EQ_INT(tern_sdp_parse(text, len - 2, s, NULL, 0), 0);
    CHECK_EQ_INT(s->media[0].max_message_size, 262144);
    free(s);
  }
  free(text);
}

/* ---- caps: optional things beyond a cap are dropped and counted ---------- */

static void test_caps_dropped(void)
{
  char *buf = malloc(20000);
  struct tern_sdp *s = malloc(sizeof(*s));
  char err[256];
  size_t n;

  REQUIRE(buf && s);
  n = (size_t)sprintf(buf, HEAD ICE FP "m=video 9 UDP/TLS/RTP/SAVPF");
  for (int pt = 90; pt < 130 - 2; pt++) /* 38 payload types */
    n += (size_t)sprintf(buf + n, " %d", pt);
  n += (size_t)sprintf(buf + n, "\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n");
  for (int i = 1; i <= 20; i++)
    n += (size_t)sprintf(buf + n, "a=extmap:%d urn:x:%d\r\n", i, i);
  for (int i = 0; i < 20; i++)
    n += (size_t)sprintf(buf + n,
                         "a=candidate:%d 1 udp %d 10.0.0.%d 5000 typ host\r\n",
                         i, 1000 + i, i);
  for (int i = 0; i < 10; i++)
    n += (size_t)sprintf(buf + n, "a=rtcp-fb:* x-fb-%d\r\n", i);
  n += (size_t)sprintf(buf + n, "a=rtpmap:90 VP8/90000\r\na=rtpmap:125 late/90000\r\n");
  CHECK_EQ_INT(tern_sdp_parse(buf, n, s, err, sizeof(err)), 0);
  CHECK_EQ_INT(s->media[0].codec_count, TERN_SDP_MAX_CODECS);
  CHECK_EQ_INT(s->dropped.codecs, 38 - TERN_SDP_MAX_CODECS);
  CHECK_EQ_INT(s->media[0].extmap_count, TERN_SDP_MAX_EXTMAPS);
  CHECK_EQ_INT(s->dropped.extmaps, 20 - TERN_SDP_MAX_EXTMAPS);
  CHECK_EQ_INT(s->media[0].candidate_count, TERN_SDP_MAX_CANDIDATES);
  CHECK_EQ_INT(s->dropped.candidates, 20 - TERN_SDP_MAX_CANDIDATES);
  CHECK_EQ_INT(s->media[0].codecs[0].rtcp_fb_count, TERN_SDP_MAX_RTCP_FB);
  CHECK_EQ_INT(s->dropped.rtcp_fbs, (10 - TERN_SDP_MAX_RTCP_FB) * TERN_SDP_MAX_CODECS);
  CHECK_EQ_STR(s->media[0].codecs[0].name, "VP8");
  CHECK(tern_sdp_find_codec(&s->media[0], "late", 0, 0) == NULL);
  free(buf);
  free(s);
}

/* RFC 8843: a bundled m-line may leave its transport to the BUNDLE tag. */
static void test_bundle_inherit(void)
{
  static const char text[] =
      HEAD "a=group:BUNDLE a v\r\n" AUDIO ICE FP "a=setup:passive\r\na=mid:a\r\n"
      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=bundle-only\r\na=mid:v\r\n"
      "m=video 0 UDP/TLS/RTP/SAVPF 97\r\na=mid:r\r\n";
  struct tern_sdp *s = malloc(sizeof(*s));
  char err[256];

  REQUIRE(s != NULL);
  CHECK_EQ_INT(tern_sdp_parse(text, sizeof(text) - 1, s, err, sizeof(err)), 0);
  REQUIRE(s->media_count == 3);
  CHECK(!s->media[1].rejected);
  CHECK(s->media[1].bundle_only);
  CHECK(s->media[2].rejected);
  CHECK_EQ_STR(tern_sdp_media_ice_ufrag(s, &s->media[1]), "abcd");
  CHECK_EQ_INT(tern_sdp_media_setup(s, &s->media[1]), TERN_SDP_SETUP_PASSIVE);
  CHECK(tern_sdp_media_fingerprint(s, &s->media[1]) == &s->media[0].fingerprint);
  CHECK_EQ_STR(tern_sdp_media_ice_ufrag(s, &s->media[2]), "");
  free(s);
}

/* ---- writer and round trips ---------------------------------------------- */

static const uint8_t digest[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
                                   12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                   23, 24, 25, 26, 27, 28, 29, 30, 31, 0xff};

static void fill_transport(struct tern_sdp_media *m, const char *addr)
{
  strcpy(m->c_addr, addr);
  strcpy(m->ice_ufrag, "Tern");
  strcpy(m->ice_pwd, "0123456789abcdef+/ghijkl");
  strcpy(m->ice_options, "trickle");
  CHECK_EQ_INT(tern_sdp_fingerprint_set(&m->fingerprint, "SHA-256", digest, 32), 0);
  m->setup = TERN_SDP_SETUP_ACTPASS;
  m->port = 9;
}

/* Writes s, parses it back and wants the same model, byte for byte. */
static char *roundtrip(const struct tern_sdp *s)
{
  char *text = malloc(TERN_SDP_MAX_INPUT);
  struct tern_sdp *back = malloc(sizeof(*back));
  char err[256];
  int n;

  if (!text || !back) {
    free(text);
    free(back);
    return NULL;
  }
  n = tern_sdp_write(s, text, TERN_SDP_MAX_INPUT);
  CHECK(n > 0);
  if (n > 0) {
    int rc = tern_sdp_parse(text, (size_t)n, back, err, sizeof(err));
    if (rc)
      fprintf(stderr, "reparse: %s\n%s", err, text);
    CHECK_EQ_INT(rc, 0);
    CHECK(memcmp(s, back, sizeof(*s)) == 0);
    CHECK_EQ_INT(strlen(text), n);
    /* Every line ends in CRLF; no bare LF or CR. */
    for (int i = 0; i < n; i++)
      if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
        CHECK(!"bare LF");
    CHECK(n >= 2 && memcmp(text + n - 2, "\r\n", 2) == 0);
  }
  free(back);
  return text;
}

static void test_roundtrip_datachannel(void)
{
  struct tern_sdp *s = malloc(sizeof(*s));
  struct tern_sdp_media *m;
  char *text;

  REQUIRE(s != NULL);
  tern_sdp_init(s);
  s->session_id = 4611686018427387904ULL;
  s->session_version = 2;
  strcpy(s->origin_addr, "127.0.0.1");
  strcpy(s->msid_semantic, "WMS");
  s->ice_lite = true;
  m = tern_sdp_add_media(s, TERN_SDP_KIND_APPLICATION, "0");
  REQUIRE(m != NULL);
  fill_transport(m, "192.0.2.10");
  m->port = 40000;
  m->sctp_port = 5000;
  m->has_max_message_size = true;
  m->max_message_size = 262144;
  CHECK_EQ_INT(tern_sdp_add_candidate(m, "1", 1, "udp", 2130706431,
                                      "192.0.2.10", 40000, "host"), 0);
  m->end_of_candidates = true;

  text = roundtrip(s);
  REQUIRE(text != NULL);
  CHECK(strstr(text, "v=0\r\no=- 4611686018427387904 2 IN IP4 127.0.0.1\r\n"
                     "s=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                     "a=msid-semantic:WMS\r\na=ice-lite\r\n"
                     "m=application 40000 UDP/DTLS/SCTP webrtc-datachannel\r\n"
                     "c=IN IP4 192.0.2.10\r\n") == text);
  CHECK(strstr(text, "a=fingerprint:sha-256 01:02:03:04:05:06:07:08:09:0A:") != NULL);
  CHECK(strstr(text, ":1F:FF\r\na=setup:actpass\r\na=mid:0\r\n") != NULL);
  CHECK(strstr(text, "a=sctp-port:5000\r\na=max-message-size:262144\r\n"
                     "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host\r\n"
                     "a=end-of-candidates\r\n") != NULL);
  CHECK(strstr(text, "rtcp-mux") == NULL);
  free(text);
  free(s);
}

static void test_roundtrip_av_app(void)
{
  struct tern_sdp *s = malloc(sizeof(*s));
  struct tern_sdp_media *a, *v, *d;
  struct tern_sdp_codec *c;
  char *text;
  uint8_t fp[64];

  REQUIRE(s != NULL);
  tern_sdp_init(s);
  s->session_id = 1;
  strcpy(s->origin_addr, "::1");
  a = tern_sdp_add_media(s, TERN_SDP_KIND_AUDIO, "0");
  v = tern_sdp_add_media(s, TERN_SDP_KIND_VIDEO, "1");
  d = tern_sdp_add_media(s, TERN_SDP_KIND_APPLICATION, "2");
  REQUIRE(a && v && d);
  CHECK(tern_sdp_add_media(s, TERN_SDP_KIND_VIDEO, "1") == NULL); /* dup mid */
  fill_transport(a, "2001:db8::1");
  fill_transport(v, "2001:db8::1");
  fill_transport(d, "2001:db8::1");

  a->has_direction = true;
  a->direction = TERN_SDP_DIR_SENDRECV;
  a->rtcp_rsize = true;
  REQUIRE((c = tern_sdp_add_codec(a, 111, "opus", 48000, 2,
                                  "minptime=10;useinbandfec=1")) != NULL);
  CHECK_EQ_INT(tern_sdp_add_rtcp_fb(c, "transport-cc"), 0);
  CHECK_EQ_INT(tern_sdp_add_extmap(a, 1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 0);
  CHECK_EQ_INT(tern_sdp_add_extmap(a, 4, "urn:ietf:params:rtp-hdrext:sdes:mid"), 0);
  strcpy(a->msid_stream, "tern");
  strcpy(a->msid_track, "audio0");
  a->ssrc_count = 1;
  a->ssrcs[0].ssrc = 0xdeadbeef;
  strcpy(a->ssrcs[0].cname, "tern-cname");
  strcpy(a->ssrcs[0].msid_stream, "tern");
  strcpy(a->ssrcs[0].msid_track, "audio0");

  v->has_direction = true;
  v->direction = TERN_SDP_DIR_SENDONLY;
  REQUIRE((c = tern_sdp_add_codec(v, 96, "VP8", 90000, 0, NULL)) != NULL);
  for (size_t i = 0; i < 5; i++)
    CHECK_EQ_INT(tern_sdp_add_rtcp_fb(c, video_fb[i]), 0);
  REQUIRE(tern_sdp_add_codec(v, 97, "rtx", 90000, 0, "apt=96") != NULL);
  CHECK_EQ_INT(tern_sdp_add_extmap(v, 3, "http://www.ietf.org/id/"
                                         "draft-holmer-rmcat-transport-wide-cc-extensions-01"), 0);
  v->extmaps[0].has_direction = true;
  v->extmaps[0].direction = TERN_SDP_DIR_RECVONLY;
  v->ssrc_group_count = 1;
  strcpy(v->ssrc_groups[0].semantics, "FID");
  v->ssrc_groups[0].ssrc_count = 2;
  v->ssrc_groups[0].ssrcs[0] = 1;
  v->ssrc_groups[0].ssrcs[1] = 2;
  v->ssrc_count = 2;
  v->ssrcs[0].ssrc = 1;
  strcpy(v->ssrcs[0].cname, "tern-cname");
  v->ssrcs[1].ssrc = 2;
  strcpy(v->ssrcs[1].cname, "tern-cname");
  v->rtcp_port = 9;
  strcpy(v->rtcp_addr, "0.0.0.0");

  d->sctp_port = 5000;
  d->has_max_message_size = true;
  d->max_message_size = 0;

  text = roundtrip(s);
  REQUIRE(text != NULL);
  CHECK(strstr(text, "o=- 1 0 IN IP6 ::1\r\n") != NULL);
  CHECK(strstr(text, "a=group:BUNDLE 0 1 2\r\n") != NULL);
  CHECK(strstr(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP6 2001:db8::1\r\n") != NULL);
  CHECK(strstr(text, "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n") != NULL);
  CHECK(strstr(text, "a=mid:1\r\na=extmap:3/recvonly http://") != NULL);
  CHECK(strstr(text, "a=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
                     "a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n") != NULL);
  CHECK(strstr(text, "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
                     "a=ssrc-group:FID 1 2\r\na=ssrc:1 cname:tern-cname\r\n") != NULL);
  CHECK(strstr(text, "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
                     "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
                     "a=ssrc:3735928559 cname:tern-cname\r\n"
                     "a=ssrc:3735928559 msid:tern audio0\r\n") != NULL);
  CHECK(strstr(text, "a=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Tern\r\n") != NULL);
  CHECK(strstr(text, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n") != NULL);
  CHECK(strstr(text, "a=max-message-size:0\r\n") != NULL);
  CHECK_EQ_INT(tern_sdp_fingerprint_bytes(&d->fingerprint, fp, sizeof(fp)), 32);
  CHECK(memcmp(fp, digest, 32) == 0);
  free(text);
  free(s);
}

/* parse -> write -> parse gives the same model for every browser SDP. */
static void test_roundtrip_fixtures(void)
{
  for (size_t i = 0; i < sizeof(fixtures) / sizeof(fixtures[0]); i++) {
    struct tern_sdp *s = parse_fixture(fixtures[i].file);
    if (s)
      free(roundtrip(s));
    free(s);
  }
}

static void test_write_errors(void)
{
  struct tern_sdp *s = parse_fixture("sdp-offer-audio-video-chromium.txt");
  char small[512], *big = malloc(TERN_SDP_MAX_INPUT);
  int n;

  REQUIRE(s && big);
  CHECK_EQ_INT(tern_sdp_write(s, small, sizeof(small)), -ENOSPC);
  CHECK_EQ_STR(small, "");
  n = tern_sdp_write(s, big, TERN_SDP_MAX_INPUT);
  CHECK(n > 0);
  CHECK_EQ_INT(tern_sdp_write(s, big, (size_t)n), -ENOSPC); /* no room for NUL */
  CHECK_EQ_INT(tern_sdp_write(s, big, (size_t)n + 1), n);
  /* A value with CRLF inside must not inject a line. */
  strcpy(s->media[0].codecs[0].fmtp, "x=1\r\na=ice-lite");
  CHECK_EQ_INT(tern_sdp_write(s, big, TERN_SDP_MAX_INPUT), -EINVAL);
  s->media[0].codecs[0].fmtp[0] = '\0';
  s->media[0].codec_count = TERN_SDP_MAX_CODECS + 1;
  CHECK_EQ_INT(tern_sdp_write(s, big, TERN_SDP_MAX_INPUT), -EINVAL);
  free(big);
  free(s);
}

static void test_names_and_helpers(void)
{
  struct tern_sdp_fingerprint fp;
  uint8_t out[64];

  CHECK_EQ_STR(tern_sdp_kind_name(TERN_SDP_KIND_APPLICATION), "application");
  CHECK_EQ_STR(tern_sdp_kind_name(TERN_SDP_KIND_VIDEO), "video");
  CHECK_EQ_STR(tern_sdp_dir_name(TERN_SDP_DIR_RECVONLY), "recvonly");
  CHECK_EQ_STR(tern_sdp_dir_name(TERN_SDP_DIR_INACTIVE), "inactive");
  CHECK_EQ_STR(tern_sdp_setup_name(TERN_SDP_SETUP_HOLDCONN), "holdconn");
  CHECK_EQ_STR(tern_sdp_setup_name(TERN_SDP_SETUP_ACTIVE), "active");
  memset(&fp, 0, sizeof(fp));
  CHECK_EQ_INT(tern_sdp_fingerprint_set(&fp, "md5", digest, 16), -EINVAL);
  CHECK_EQ_INT(tern_sdp_fingerprint_set(&fp, "sha-1", digest, 32), -EINVAL);
  CHECK_EQ_INT(tern_sdp_fingerprint_set(&fp, "sha-1", digest, 20), 0);
  CHECK_EQ_STR(fp.value, "01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:"
                         "12:13:14");
  CHECK_EQ_INT(tern_sdp_fingerprint_bytes(&fp, out, sizeof(out)), 20);
  CHECK_EQ_INT(tern_sdp_fingerprint_bytes(&fp, out, 10), -EINVAL);
  strcpy(fp.value, "01:02");
  CHECK_EQ_INT(tern_sdp_fingerprint_bytes(&fp, out, sizeof(out)), -EINVAL);
}

int main(void)
{
  RUN(test_fixtures_common);
  RUN(test_dc_answers);
  RUN(test_av_offer_chromium);
  RUN(test_av_offer_firefox);
  RUN(test_av_answer_chromium);
  RUN(test_malformed_table);
  RUN(test_malformed_generated);
  RUN(test_truncated);
  RUN(test_caps_dropped);
  RUN(test_bundle_inherit);
  RUN(test_roundtrip_datachannel);
  RUN(test_roundtrip_av_app);
  RUN(test_roundtrip_fixtures);
  RUN(test_write_errors);
  RUN(test_names_and_helpers);
  return TEST_RESULT();
}
