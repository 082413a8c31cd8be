/* fuzz_http_json — the body of POST /<app>/connections/:id/remote-description
 * without HTTP: the same jansson call and field extraction as
 * post_remote_description() in src/api/connections.c, then the SDP through
 * tern_negotiate_read as the answer to a fixed offer of ours, which is what
 * tern_peer_set_remote_description does with it first.
 *
 * This is the only JSON body the server parses today (other routes take no
 * body). If connections.c changes how it reads the body, change
 * read_body() here to match.
 *
 * Properties checked besides the sanitizers:
 *   - unparsable JSON always comes with jansson's error text (it becomes the
 *     400 body);
 *   - the SDP string is handed over with its length, so a "\u0000" inside it
 *     cannot make the server read past or stop early: the result must be the
 *     same as reading an exact-size copy;
 *   - the reply the server would send (the description as JSON) can be
 *     serialised and parses back to the same strings.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "sdp/negotiate.h"
#include "sdp/sdp.h"

static const char FP[] =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
static char our_offer[8192];

static void setup(void) {
  struct sockaddr_storage cand;
  struct sockaddr_in *in = (struct sockaddr_in *)&cand;
  struct tern_local_params l;
  char err[256];

  memset(&cand, 0, sizeof cand);
  in->sin_family = AF_INET;
  in->sin_port = htons(40000);
  inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
  memset(&l, 0, sizeof l);
  l.ice_ufrag = "srvUfrag";
  l.ice_pwd = "serverPasswordServerPwd1";
  l.fingerprint = FP;
  l.ice_lite = true;
  l.setup = TERN_SETUP_ACTPASS;
  l.candidates = &cand;
  l.n_candidates = 1;
  l.session_id = 42;
  l.session_version = 1;
  l.datachannel = true;
  l.sctp_port = 5000;
  l.max_message_size = 262144;
  FUZZ_ASSERT(tern_negotiate_write_offer(&l, our_offer, sizeof our_offer, err, sizeof err) > 0,
              "fixed offer: %s", err);
}

/* What the handler does after reading the body; returns the HTTP status. */
static int read_body(const uint8_t *body, size_t len) {
  json_error_t jerr;
  struct tern_remote_params r;
  struct tern_sdp *parsed = NULL;
  char err[256];
  int status;

  jerr.text[0] = '\0';
  json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j) {
    FUZZ_ASSERT(memchr(jerr.text, '\0', sizeof jerr.text) && jerr.text[0],
                "no JSON error text");
    return 400;
  }
  const char *type = json_string_value(json_object_get(j, "type"));
  json_t *sdp = json_object_get(j, "sdp");
  if (!json_is_object(j) || !type || !json_is_string(sdp)) {
    status = 400;
    goto out;
  }
  if (strcmp(type, "answer") != 0) {
    status = 400;
    goto out;
  }
  const char *text = json_string_value(sdp);
  size_t tlen = json_string_length(sdp);
  int rc = tern_negotiate_read(text, tlen, true, our_offer, &r, &parsed, err, sizeof err);
  FUZZ_ASSERT((rc == 0) == (parsed != NULL), "rc %d vs model", rc);
  if (rc < 0)
    FUZZ_ASSERT(err[0], "no reason for %d", rc);

  /* The same text from an exact-size copy: nothing may depend on jansson's
   * terminating NUL or stop at an embedded one. */
  char *copy = (char *)fuzz_dup((const uint8_t *)text, tlen);
  struct tern_remote_params r2;
  struct tern_sdp *p2 = NULL;
  int rc2 = tern_negotiate_read(copy, tlen, true, our_offer, &r2, &p2, err, sizeof err);
  FUZZ_ASSERT(rc2 == rc, "exact-size copy reads differently: %d vs %d", rc2, rc);
  FUZZ_ASSERT(rc < 0 || memcmp(&r, &r2, sizeof r) == 0, "exact-size copy: other facts");
  free(p2);
  free(copy);
  free(parsed);
  if (rc < 0) {
    status = 400;
    goto out;
  }
  /* The reply: {"type":"answer","sdp":"…"} with the accepted text. */
  json_t *reply = json_pack("{s:s, s:s%}", "type", "answer", "sdp", text, tlen);
  FUZZ_ASSERT(reply, "json_pack of an accepted answer");
  char *dump = json_dumps(reply, JSON_COMPACT);
  FUZZ_ASSERT(dump, "json_dumps");
  json_t *back = json_loads(dump, JSON_REJECT_DUPLICATES, &jerr);
  FUZZ_ASSERT(back, "reply does not parse: %s", jerr.text);
  json_t *bs = json_object_get(back, "sdp");
  FUZZ_ASSERT(json_string_length(bs) == tlen && memcmp(json_string_value(bs), text, tlen) == 0,
              "reply sdp differs");
  json_decref(back);
  free(dump);
  json_decref(reply);
  status = 200;
out:
  json_decref(j);
  return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!our_offer[0])
    setup();
  int status = read_body(data, size);
  FUZZ_ASSERT(status == 200 || status == 400, "status %d", status);
  return 0;
}
