/* fuzz_negotiate — src/sdp/negotiate.c on arbitrary SDP text, read both as
 * a remote offer (what /connect and a client-offered exchange receive) and
 * as the answer to two fixed offers of ours (what POST .../remote-description
 * receives: a data-channel-only offer as ping-pong makes, and audio + video +
 * data channel as the media examples make), and an answer written for every
 * offer that was accepted, with a local track for each usable audio/video
 * m-line as the peer makes them (tern_peer_tracks_from_offer).
 *
 * Properties checked besides the sanitizers:
 *   - 0 comes with a parsed model, an error with a reason and no model;
 *   - the reduced facts are sane: NUL-terminated strings, non-empty ICE
 *     credentials and fingerprint, at most TERN_NEG_MAX_CANDIDATES
 *     candidates, each IPv4/IPv6 with a non-zero port, no duplicates, at
 *     most one track per m-line;
 *   - an answer we write to an accepted offer is itself accepted by
 *     tern_negotiate_read as the answer to that offer, names our own
 *     credentials and setup, accepts the data channel exactly when the offer
 *     had one, and accepts exactly the tracks we gave (the server must never
 *     emit an answer it would refuse). Checked for offers with at most one
 *     m=application, as browsers send (a second one is rejected in the
 *     answer, which the answer reader refuses by design).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

static const char FP[] =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
static struct sockaddr_storage cands[2];
static struct tern_local_params local;
static char offer_dc[8192], offer_av[16384];
static char answer[1 << 17];

static void setup(void) {
  struct sockaddr_in *in = (struct sockaddr_in *)&cands[0];
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&cands[1];
  static const struct tern_local_track av[] = {
      {TERN_TRACK_AUDIO, "0", TERN_DIR_SENDRECV, 111, 0x1111, false, 1, 2},
      {TERN_TRACK_VIDEO, "1", TERN_DIR_SENDRECV, 96, 0x2222, false, 1, 0},
  };
  char err[256];

  in->sin_family = AF_INET;
  in->sin_port = htons(40000);
  inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(40000);
  inet_pton(AF_INET6, "::1", &in6->sin6_addr);
  local.ice_ufrag = "srvUfrag";
  local.ice_pwd = "serverPasswordServerPwd1";
  local.fingerprint = FP;
  local.ice_lite = true;
  local.setup = TERN_SETUP_ACTPASS;
  local.candidates = cands;
  local.n_candidates = 2;
  local.session_id = 1234567890;
  local.session_version = 1;
  local.datachannel = true;
  local.cname = "fuzzcname";
  local.msid_stream = "fuzzstream";
  local.sctp_port = 5000;
  local.max_message_size = 262144;
  int n = tern_negotiate_write_offer(&local, offer_dc, sizeof offer_dc, err, sizeof err);
  FUZZ_ASSERT(n > 0, "fixed offer: %s", err);
  local.tracks = av;
  local.n_tracks = 2;
  n = tern_negotiate_write_offer(&local, offer_av, sizeof offer_av, err, sizeof err);
  FUZZ_ASSERT(n > 0, "fixed audio/video offer: %s", err);
  local.tracks = NULL;
  local.n_tracks = 0;
}

static bool terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static void check_remote(const struct tern_remote_params *r) {
  FUZZ_ASSERT(terminated(r->ice_ufrag, sizeof r->ice_ufrag) && r->ice_ufrag[0], "ufrag");
  FUZZ_ASSERT(terminated(r->ice_pwd, sizeof r->ice_pwd) && r->ice_pwd[0], "pwd");
  FUZZ_ASSERT(terminated(r->fp_alg, sizeof r->fp_alg) && r->fp_alg[0], "fp alg");
  FUZZ_ASSERT(terminated(r->fp_value, sizeof r->fp_value), "fp value");
  FUZZ_ASSERT(terminated(r->app_mid, sizeof r->app_mid), "app mid");
  FUZZ_ASSERT(!r->datachannel || r->sctp_port, "data channel without sctp port");
  FUZZ_ASSERT(r->n_tracks >= 0 && r->n_tracks <= TERN_NEG_MAX_MEDIA, "n_tracks %d",
              r->n_tracks);
  for (int i = 0; i < r->n_tracks; i++)
    FUZZ_ASSERT(terminated(r->tracks[i].mid, sizeof r->tracks[i].mid), "track mid");
  FUZZ_ASSERT(r->n_candidates >= 0 && r->n_candidates <= TERN_NEG_MAX_CANDIDATES,
              "n_candidates %d", r->n_candidates);
  for (int i = 0; i < r->n_candidates; i++) {
    const struct sockaddr_storage *c = &r->candidates[i];
    FUZZ_ASSERT(c->ss_family == AF_INET || c->ss_family == AF_INET6, "family");
    uint16_t port = c->ss_family == AF_INET ? ((const struct sockaddr_in *)c)->sin_port
                                            : ((const struct sockaddr_in6 *)c)->sin6_port;
    FUZZ_ASSERT(port != 0, "port 0 candidate");
    for (int j = 0; j < i; j++)
      FUZZ_ASSERT(memcmp(c, &r->candidates[j], sizeof *c) != 0, "duplicate candidate");
  }
}

static void read_one(const char *sdp, size_t len, bool is_answer, const char *offer,
                     struct tern_remote_params *r, struct tern_sdp **parsed) {
  char err[256];
  err[0] = '\0';
  int rc = tern_negotiate_read(sdp, len, is_answer, offer, r, parsed, err, sizeof err);
  if (rc < 0) {
    FUZZ_ASSERT(!*parsed, "model on error");
    FUZZ_ASSERT(rc == -EINVAL || rc == -E2BIG || rc == -ENOMEM, "rc %d", rc);
    FUZZ_ASSERT(terminated(err, sizeof err) && err[0], "no reason for %d", rc);
    return;
  }
  FUZZ_ASSERT(rc == 0 && *parsed, "rc %d, parsed %p", rc, (void *)*parsed);
  check_remote(r);
}

static unsigned count_kind(const struct tern_sdp *s, enum tern_sdp_kind kind) {
  unsigned n = 0;
  for (unsigned i = 0; i < s->media_count; i++)
    n += s->media[i].kind == kind;
  return n;
}


/* What tern_peer_tracks_from_offer does: a local track per usable track of
 * the offer, same mid, kind, payload type and extension ids, mirrored
 * direction. */
static int tracks_for(const struct tern_remote_params *r, struct tern_local_track *out) {
  static const enum tern_track_dir mirror[] = {
      [TERN_DIR_SENDRECV] = TERN_DIR_SENDRECV, [TERN_DIR_SENDONLY] = TERN_DIR_RECVONLY,
      [TERN_DIR_RECVONLY] = TERN_DIR_SENDONLY, [TERN_DIR_INACTIVE] = TERN_DIR_INACTIVE};
  int n = 0;
  for (int i = 0; i < r->n_tracks; i++) {
    const struct tern_remote_track *rt = &r->tracks[i];
    if (rt->rejected)
      continue;
    FUZZ_ASSERT((unsigned)rt->dir <= TERN_DIR_INACTIVE, "track dir %d", rt->dir);
    struct tern_local_track *t = &out[n++];
    memset(t, 0, sizeof *t);
    t->kind = rt->kind;
    memcpy(t->mid, rt->mid, sizeof t->mid);
    t->dir = mirror[rt->dir];
    t->pt = rt->pt;
    t->ssrc = 0x10000u + (uint32_t)i;
    t->stereo = rt->stereo;
    t->ext_mid = rt->ext_mid;
    t->ext_audio_level = rt->ext_audio_level;
  }
  return n;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static struct tern_remote_params r, r2;
  struct tern_local_track tracks[TERN_NEG_MAX_MEDIA];
  struct tern_sdp *parsed = NULL, *p2 = NULL;
  char err[256];

  if (!offer_dc[0])
    setup();
  const char *sdp = (const char *)data;

  /* As an answer to our offers (the REST flow: the server offers). An
   * accepted answer to the data channel offer always yields one (the
   * reproducers in tests/fuzz/crashes/negotiate/ once broke this). */
  read_one(sdp, size, true, offer_dc, &r, &parsed);
  if (parsed)
    FUZZ_ASSERT(parsed->media_count == 1 && r.datachannel && r.n_tracks == 0,
                "answer to the data channel offer: %u m-lines, dc %d, %d tracks",
                parsed->media_count, r.datachannel, r.n_tracks);
  free(parsed);
  parsed = NULL;
  read_one(sdp, size, true, offer_av, &r, &parsed);
  if (parsed)
    FUZZ_ASSERT(parsed->media_count == 3 && r.datachannel && r.n_tracks == 2,
                "answer to the audio/video offer: %u m-lines, dc %d, %d tracks",
                parsed->media_count, r.datachannel, r.n_tracks);
  free(parsed);
  parsed = NULL;

  /* As an offer (the /connect flow: the browser offers). */
  read_one(sdp, size, false, NULL, &r, &parsed);
  if (!parsed)
    return 0;
  local.setup = TERN_SETUP_PASSIVE;
  local.n_tracks = tracks_for(&r, tracks);
  local.tracks = tracks;
  int n = tern_negotiate_write_answer(&local, parsed, answer, sizeof answer, err, sizeof err);
  local.setup = TERN_SETUP_ACTPASS;
  local.tracks = NULL;
  int n_local = local.n_tracks;
  local.n_tracks = 0;
  if (n < 0) {
    FUZZ_ASSERT(terminated(err, sizeof err) && err[0], "no reason for %d", n);
    free(parsed);
    return 0;
  }
  /* Our answer must be one we would accept as the answer to this offer.
   * The offer is given as a C string, so only when the input has no NUL. */
  if (count_kind(parsed, TERN_SDP_KIND_APPLICATION) <= 1 &&
      !memchr(data, '\0', size)) {
    char *offer = malloc(size + 1);
    memcpy(offer, data, size);
    offer[size] = '\0';
    err[0] = '\0';
    int rc = tern_negotiate_read(answer, (size_t)n, true, offer, &r2, &p2, err, sizeof err);
    FUZZ_ASSERT(rc == 0, "our answer is refused (%s)\n--- offer\n%s\n--- answer\n%s", err,
                offer, answer);
    FUZZ_ASSERT(strcmp(r2.ice_ufrag, local.ice_ufrag) == 0 &&
                    strcmp(r2.ice_pwd, local.ice_pwd) == 0 && strcmp(r2.fp_value, FP) == 0 &&
                    r2.setup == TERN_SETUP_PASSIVE,
                "answer credentials or setup");
    FUZZ_ASSERT(r2.datachannel == r.datachannel, "answer data channel %d, offer %d",
                r2.datachannel, r.datachannel);
    int accepted = 0;
    for (int i = 0; i < r2.n_tracks; i++)
      accepted += !r2.tracks[i].rejected;
    /* Read as an answer, every non-application m-line is a track (an
     * m=text too); read as an offer only audio and video are. */
    int want = (int)(parsed->media_count - count_kind(parsed, TERN_SDP_KIND_APPLICATION));
    FUZZ_ASSERT(r2.n_tracks == want && accepted == n_local,
                "answer has %d tracks (%d accepted), offer %d, ours %d\n--- answer\n%s",
                r2.n_tracks, accepted, want, n_local, answer);
    free(p2);
    free(offer);
  }
  free(parsed);
  return 0;
}
