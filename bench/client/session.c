#include "session.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

const char *bc_step_name(enum bc_step s) {
  static const char *n[] = {"POST /connections", "answer", "POST remote-description",
                            "data channel open", "pong", "connected", "DELETE",
                            "done", "failed"};
  return s <= BC_STEP_FAILED ? n[s] : "?";
}

static void notify(uv_timer_t *t);
static void send_ping(struct bc_session *s);
static void start_delete(struct bc_session *s);

/* Results reach the owner from a fresh loop turn, never from inside a peer,
 * data channel or HTTP callback: the owner may then release or restart at
 * will. The step timer is free for that once a session has finished. */
static void report(struct bc_session *s) { uv_timer_start(&s->timer, notify, 0, 0); }

static void notify(uv_timer_t *t) {
  struct bc_session *s = t->data;
  if (s->hanging_up) {
    if (s->hung_up)
      s->hung_up(s, s->user);
  }
  else if (s->done)
    s->done(s, s->user);
}

static void __attribute__((format(printf, 2, 3))) fail(struct bc_session *s, const char *fmt, ...) {
  va_list ap;
  if (s->step == BC_STEP_DONE || s->step == BC_STEP_FAILED)
    return;
  va_start(ap, fmt);
  vsnprintf(s->err, sizeof s->err, fmt, ap);
  va_end(ap);
  s->failed_step = s->step;
  s->step = BC_STEP_FAILED;
  bc_http_cancel(s->http);
  s->http = NULL;
  report(s);
}

static void on_deadline(uv_timer_t *t) {
  struct bc_session *s = t->data;
  const char *where = "";
  if (s->step == BC_STEP_CHANNEL)
    where = !s->t.ice_connected    ? " (ICE never connected)"
            : !s->t.peer_connected ? " (ICE connected, DTLS did not)"
                                   : " (DTLS connected, no channel from the server)";
  fail(s, "%s: nothing within %u ms%s", bc_step_name(s->step), s->target->step_timeout_ms,
       where);
}

static void arm_deadline(struct bc_session *s) {
  uv_timer_start(&s->timer, on_deadline, s->target->step_timeout_ms, 0);
}

static void make_path(const struct bc_session *s, char *out, size_t cap, const char *suffix) {
  snprintf(out, cap, "/%s/connections%s%s%s", s->target->example, s->id[0] ? "/" : "", s->id,
           suffix);
}

static bool request(struct bc_session *s, const char *method, const char *path, const char *body,
                    bc_http_cb cb) {
  char reason[160];
  s->http = bc_http_request(s->target->loop, (const struct sockaddr *)&s->target->server,
                            s->target->host, method, path, body, body ? strlen(body) : 0,
                            s->target->step_timeout_ms, cb, s, reason, sizeof reason);
  if (!s->http)
    fail(s, "%s %s: %s", method, path, reason);
  return s->http != NULL;
}

/* One line of what the server said, for error messages. */
static const char *snippet(const struct bc_http_resp *r, char *out, size_t cap) {
  size_t n = r->body_len < cap - 1 ? r->body_len : cap - 1;
  for (size_t i = 0; i < n; i++)
    out[i] = (r->body[i] == '\n' || r->body[i] == '\r' || !r->body[i]) ? ' ' : r->body[i];
  while (n && out[n - 1] == ' ')
    n--;
  out[n] = 0;
  return out;
}

static bool http_ok(struct bc_session *s, const char *what, int err, const struct bc_http_resp *r,
                    const char *reason) {
  char body[120];
  if (err) {
    fail(s, "%s: %s", what, reason);
    return false;
  }
  if (r->status != 200) {
    fail(s, "%s: HTTP %d: %s", what, r->status, snippet(r, body, sizeof body));
    return false;
  }
  return true;
}

/* ---- the peer ------------------------------------------------------------ */

static void on_dc_message(struct tern_dc *dc, void *user, const uint8_t *buf, size_t len,
                          bool binary) {
  struct bc_session *s = user;
  (void)dc;
  if (s->step != BC_STEP_PONG || binary || len != 4 || memcmp(buf, "pong", 4) != 0)
    return;
  s->t.pong_received = uv_hrtime();
  uv_timer_stop(&s->timer);
  if (s->keep) {
    s->step = BC_STEP_CONNECTED;
    report(s);
  } else {
    start_delete(s);
  }
}

static void on_dc_closed(struct tern_dc *dc, void *user) {
  struct bc_session *s = user;
  (void)dc;
  s->dc = NULL;
  if (s->step == BC_STEP_CONNECTED)
    s->disconnected = true;
  else if (s->step < BC_STEP_CONNECTED)
    fail(s, "the server closed the data channel");
}

static const struct tern_dc_ops dc_ops = {.message = on_dc_message, .closed = on_dc_closed};

static void on_channel(struct tern_peer *p, void *user, struct tern_dc *dc) {
  struct bc_session *s = user;
  (void)p;
  if (s->dc || s->step >= BC_STEP_CONNECTED) {
    tern_dc_close(dc); /* only the example's first channel is used */
    return;
  }
  s->dc = dc;
  s->t.channel_open = uv_hrtime();
  tern_dc_set_ops(dc, &dc_ops, s);
  /* The channel can beat the answer POST's response; ping once both are in. */
  if (s->step == BC_STEP_CHANNEL)
    send_ping(s);
}

static void on_ice_state(struct tern_peer *p, void *user, enum tern_ice_state st) {
  struct bc_session *s = user;
  (void)p;
  if (st == TERN_ICE_CONNECTED && !s->t.ice_connected)
    s->t.ice_connected = uv_hrtime();
  if (st == TERN_ICE_DISCONNECTED || st == TERN_ICE_FAILED) {
    if (s->step == BC_STEP_CONNECTED)
      s->disconnected = true;
    else if (s->step < BC_STEP_CONNECTED)
      fail(s, "ICE went %s during setup", tern_ice_state_name(st));
  }
}

static void on_peer_state(struct tern_peer *p, void *user, enum tern_peer_state st) {
  struct bc_session *s = user;
  (void)p;
  if (st == TERN_PEER_CONNECTED && !s->t.peer_connected)
    s->t.peer_connected = uv_hrtime();
  if (st == TERN_PEER_FAILED || st == TERN_PEER_CLOSED || st == TERN_PEER_DISCONNECTED) {
    if (s->step == BC_STEP_CONNECTED)
      s->disconnected = true;
    else if (s->step < BC_STEP_CONNECTED)
      fail(s, "peer connection %s during setup", tern_peer_state_name(st));
  }
}

static const struct tern_peer_ops peer_ops = {
    .ice_state = on_ice_state, .state = on_peer_state, .datachannel = on_channel};

static void send_ping(struct bc_session *s) {
  s->step = BC_STEP_PONG;
  s->t.ping_sent = uv_hrtime();
  int rc = tern_dc_send(s->dc, (const uint8_t *)"ping", 4, false);
  if (rc < 0) {
    fail(s, "sending ping: %s", strerror(-rc));
    return;
  }
  arm_deadline(s);
}

/* ---- the REST steps --------------------------------------------------------- */

static void on_deleted(void *user, int err, const struct bc_http_resp *r, const char *reason) {
  struct bc_session *s = user;
  s->http = NULL;
  s->t.delete_done = uv_hrtime();
  if (!http_ok(s, "DELETE", err, r, reason))
    return;
  tern_peer_close(s->peer);
  s->peer = NULL;
  s->dc = NULL;
  s->step = BC_STEP_DONE;
  report(s);
}

static void start_delete(struct bc_session *s) {
  char path[200];
  s->step = BC_STEP_DELETE;
  make_path(s, path, sizeof path, "");
  s->t.delete_start = uv_hrtime();
  request(s, "DELETE", path, NULL, on_deleted);
}

static void on_answer_posted(void *user, int err, const struct bc_http_resp *r,
                             const char *reason) {
  struct bc_session *s = user;
  s->http = NULL;
  s->t.answer_post_done = uv_hrtime();
  if (!http_ok(s, "POST remote-description", err, r, reason))
    return;
  s->step = BC_STEP_CHANNEL;
  if (s->dc)
    send_ping(s);
  else
    arm_deadline(s);
}

/* Applies the offer, answers, and posts the answer; the peer starts its ICE
 * checks inside create_answer, as a browser does at setLocalDescription. */
static void answer(struct bc_session *s, const char *offer) {
  char err[256], path[200], logid[24];
  s->step = BC_STEP_ANSWER;
  snprintf(logid, sizeof logid, "cli-%.8s", s->id);
  s->peer = tern_peer_create(&s->env, true, &peer_ops, s, logid);
  if (!s->peer) {
    fail(s, "cannot create the client peer");
    return;
  }
  if (tern_peer_set_remote_description(s->peer, TERN_SDP_OFFER, offer, strlen(offer), err,
                                       sizeof err) < 0) {
    fail(s, "the server's offer is unusable: %s", err);
    return;
  }
  if (tern_peer_create_answer(s->peer, err, sizeof err) < 0) {
    fail(s, "cannot answer the server's offer: %s", err);
    return;
  }
  json_t *j = json_pack("{s:s, s:s}", "type", "answer", "sdp", tern_peer_local_description(s->peer));
  char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  if (!body) {
    fail(s, "out of memory (answer JSON)");
    return;
  }
  s->t.answer_done = uv_hrtime();
  s->step = BC_STEP_POST_ANSWER;
  make_path(s, path, sizeof path, "/remote-description");
  s->t.answer_post_start = uv_hrtime();
  request(s, "POST", path, body, on_answer_posted);
  free(body);
}

static void on_offer(void *user, int err, const struct bc_http_resp *r, const char *reason) {
  struct bc_session *s = user;
  json_error_t jerr;
  s->http = NULL;
  s->t.post_done = uv_hrtime();
  if (!http_ok(s, "POST /connections", err, r, reason))
    return;
  json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
  const char *id = json_string_value(json_object_get(j, "id"));
  json_t *ld = json_object_get(j, "localDescription");
  const char *type = json_string_value(json_object_get(ld, "type"));
  const char *sdp = json_string_value(json_object_get(ld, "sdp"));
  if (!j)
    fail(s, "POST /connections: the response is not JSON: %s", jerr.text);
  else if (!id || !id[0] || strlen(id) >= sizeof s->id || strspn(id, "0123456789abcdef-") != strlen(id))
    fail(s, "POST /connections: the response has no usable \"id\"");
  else if (!type || strcmp(type, "offer") != 0 || !sdp)
    fail(s, "POST /connections: localDescription is not {\"type\":\"offer\",\"sdp\":…}");
  else {
    snprintf(s->id, sizeof s->id, "%s", id);
    answer(s, sdp);
  }
  json_decref(j);
}

static void begin(uv_timer_t *t) {
  struct bc_session *s = t->data;
  char path[200];
  make_path(s, path, sizeof path, "");
  s->t.post_start = uv_hrtime();
  request(s, "POST", path, NULL, on_offer);
}

/* ---- lifetime ------------------------------------------------------------------ */

int bc_session_start(struct bc_session *s, const struct bc_target *target, bool keep,
                     bc_session_cb done, bc_session_cb hung_up, void *user) {
  const struct sockaddr_in *cand = (const struct sockaddr_in *)&target->env->transport->local;
  char host[64];
  memset(s, 0, sizeof *s);
  s->target = target;
  s->keep = keep;
  s->done = done;
  s->hung_up = hung_up;
  s->user = user;
  s->step = BC_STEP_POST_OFFER;
  /* The same address as the template's socket, a port of our own. */
  if (!tern_addr_str((const struct sockaddr *)cand, host, sizeof host)) {
    snprintf(s->err, sizeof s->err, "bad local address");
    return -EINVAL;
  }
  *strrchr(host, ':') = 0;
  if (host[0] == '[') {
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = 0;
  }
  int rc = tern_transport_init(&s->transport, target->loop, host, 0);
  if (rc < 0) {
    snprintf(s->err, sizeof s->err, "cannot bind a UDP socket on %s: %s%s", host, uv_strerror(rc),
             rc == UV_EMFILE ? " (raise ulimit -n)" : "");
    return rc;
  }
  s->transport_open = true;
  s->env = *target->env;
  s->env.transport = &s->transport;
  uv_timer_init(target->loop, &s->timer);
  s->timer.data = s;
  s->timer_open = true;
  uv_timer_start(&s->timer, begin, 0, 0);
  return 0;
}

void bc_session_hangup(struct bc_session *s) {
  if (s->step != BC_STEP_CONNECTED)
    return;
  uv_timer_stop(&s->timer);
  s->hanging_up = true;
  start_delete(s);
}

void bc_session_release(struct bc_session *s) {
  bc_http_cancel(s->http);
  s->http = NULL;
  if (s->peer)
    tern_peer_close(s->peer);
  s->peer = NULL;
  s->dc = NULL;
  if (s->timer_open)
    uv_close((uv_handle_t *)&s->timer, NULL);
  s->timer_open = false;
  if (s->transport_open)
    tern_transport_close(&s->transport);
  s->transport_open = false;
}
