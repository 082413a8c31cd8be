#include "api/connections.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/iplimit.h"
#include "core/log.h"
#include "http/server.h"
#include "peer/peer.h"

struct tern_conn {
  struct tern_conn *prev, *next;
  struct tern_conns *owner;
  struct tern_peer *peer;
  char id[37];
  char client_ip[48]; /* holds one of its MAX_PEERS_PER_IP slots */
  bool closed;
  uv_timer_t timer; /* time-to-connected, then time-to-reconnect */
  void *data;       /* the example's per-connection state */
};

struct tern_conns {
  struct tern_conns_env env;
  const struct tern_conn_app *app;
  void *app_user;
  char prefix[64];
  struct tern_conn *head;
  size_t count;
};

/* RFC 4122 version-4 ids, as the seed's uuid package made them. */
static void make_uuid(char out[37]) {
  uint8_t b[16];
  if (getrandom(b, sizeof b, 0) != sizeof b)
    memset(b, 0, sizeof b); /* getrandom on Linux ≥ 3.17 does not fail for 16 bytes */
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  snprintf(out, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
           b[12], b[13], b[14], b[15]);
}

static json_t *description_json(const char *sdp, enum tern_sdp_type type) {
  if (!sdp)
    return json_object();
  return json_pack("{s:s, s:s}", "type", tern_sdp_type_name(type), "sdp", sdp);
}

static json_t *local_json(const struct tern_conn *c) {
  return description_json(c->peer ? tern_peer_local_description(c->peer) : NULL,
                          c->peer ? tern_peer_local_type(c->peer) : TERN_SDP_OFFER);
}

static json_t *remote_json(const struct tern_conn *c) {
  return description_json(c->peer ? tern_peer_remote_description(c->peer) : NULL,
                          c->peer ? tern_peer_remote_type(c->peer) : TERN_SDP_ANSWER);
}

static json_t *conn_json(const struct tern_conn *c) {
  const char *ice = c->closed ? "closed" : tern_ice_state_name(tern_peer_ice_state(c->peer));
  const char *sig = c->closed ? "closed"
                              : tern_signaling_state_name(tern_peer_signaling_state(c->peer));
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", c->id, "state",
                   c->closed ? "closed" : "open", "iceConnectionState", ice,
                   "signalingState", sig, "localDescription", local_json(c),
                   "remoteDescription", remote_json(c));
}

static void on_timer_closed(uv_handle_t *h) { free(h->data); }

/* Removes the connection: the example lets go first, then the peer closes
 * (its own free is deferred), then the timer handle frees the struct. */
void tern_conn_close(struct tern_conn *c) {
  struct tern_conns *m = c->owner;
  if (c->closed)
    return;
  c->closed = true;
  if (m->app->close)
    m->app->close(c, m->app_user);
  tern_peer_close(c->peer);
  tern_iplimit_release(m->env.peers->per_ip, c->client_ip);
  if (c->prev)
    c->prev->next = c->next;
  else
    m->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  m->count--;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void on_deadline(uv_timer_t *t) {
  struct tern_conn *c = t->data;
  enum tern_ice_state s = tern_peer_ice_state(c->peer);
  tern_log_info(c->id, "%s: ICE still %s after the deadline, closing",
                c->owner->prefix, tern_ice_state_name(s));
  tern_conn_close(c);
}

static void on_ice_state(struct tern_peer *p, void *user, enum tern_ice_state s) {
  struct tern_conn *c = user;
  (void)p;
  switch (s) {
  case TERN_ICE_CONNECTED:
    uv_timer_stop(&c->timer);
    break;
  case TERN_ICE_DISCONNECTED:
  case TERN_ICE_FAILED:
    if (!uv_is_active((uv_handle_t *)&c->timer))
      uv_timer_start(&c->timer, on_deadline, c->owner->env.time_to_reconnect_ms, 0);
    break;
  default:
    break;
  }
}

static const struct tern_peer_ops conn_peer_ops = {
    .ice_state = on_ice_state,
};

static struct tern_conn *find(struct tern_conns *m, const char *id) {
  for (struct tern_conn *c = m->head; c; c = c->next)
    if (id && strcmp(c->id, id) == 0)
      return c;
  return NULL;
}

static void post_connections(struct tern_http_req *req, void *user) {
  struct tern_conns *m = user;
  char err[256];

  if (m->env.peers->peers_live >= m->env.max_peers) {
    tern_log_warn(NULL, "%s: refusing a connection: %u peers is the limit (MAX_PEERS)",
                  m->prefix, m->env.max_peers);
    tern_http_respond_text(req, 503, "too many connections (MAX_PEERS=%u)", m->env.max_peers);
    return;
  }
  const char *ip = tern_http_remote_addr(req);
  if (tern_iplimit_acquire(m->env.peers->per_ip, ip) < 0) {
    tern_log_warn(NULL, "%s: refusing a connection from %s: MAX_PEERS_PER_IP reached", m->prefix,
                  ip);
    tern_http_respond_text(req, 429, "too many connections from this address (MAX_PEERS_PER_IP=%u)",
                           m->env.peers->per_ip->max);
    return;
  }
  struct tern_conn *c = calloc(1, sizeof *c);
  if (!c) {
    tern_iplimit_release(m->env.peers->per_ip, ip);
    tern_http_respond_text(req, 500, "out of memory");
    return;
  }
  snprintf(c->client_ip, sizeof c->client_ip, "%s", ip ? ip : "");
  make_uuid(c->id);
  c->owner = m;
  c->peer = tern_peer_create(m->env.peers, false, &conn_peer_ops, c, c->id);
  if (!c->peer) {
    tern_iplimit_release(m->env.peers->per_ip, c->client_ip);
    free(c);
    tern_http_respond_text(req, 500, "could not create a peer connection");
    return;
  }
  uv_timer_init(m->env.loop, &c->timer);
  c->timer.data = c;
  c->next = m->head;
  if (m->head)
    m->head->prev = c;
  m->head = c;
  m->count++;

  if (m->app->open && m->app->open(c, m->app_user) < 0) {
    tern_http_respond_text(req, 500, "%s could not set up the connection", m->app->name);
    tern_conn_close(c);
    return;
  }
  if (tern_peer_create_offer(c->peer, err, sizeof err) < 0) {
    tern_log_error(c->id, "%s: offer failed: %s", m->prefix, err);
    tern_http_respond_text(req, 500, "could not create an offer: %s", err);
    tern_conn_close(c);
    return;
  }
  uv_timer_start(&c->timer, on_deadline, m->env.time_to_connected_ms, 0);
  tern_log_info(c->id, "%s: connection created", m->prefix);
  tern_http_respond_json(req, 200, conn_json(c));
}

static void get_connections(struct tern_http_req *req, void *user) {
  struct tern_conns *m = user;
  json_t *arr = json_array();
  for (struct tern_conn *c = m->head; c; c = c->next)
    json_array_append_new(arr, conn_json(c));
  tern_http_respond_json(req, 200, arr);
}

static struct tern_conn *find_or_404(struct tern_http_req *req, struct tern_conns *m) {
  struct tern_conn *c = find(m, tern_http_param(req, "id"));
  if (!c)
    tern_http_respond_text(req, 404, "no connection with that id");
  return c;
}

static void get_connection(struct tern_http_req *req, void *user) {
  struct tern_conn *c = find_or_404(req, user);
  if (c)
    tern_http_respond_json(req, 200, conn_json(c));
}

static void delete_connection(struct tern_http_req *req, void *user) {
  struct tern_conn *c = find_or_404(req, user);
  if (!c)
    return;
  tern_log_info(c->id, "%s: closed by DELETE", c->owner->prefix);
  /* Answer with the closed state: build the JSON before the peer goes. */
  json_t *local = local_json(c), *remote = remote_json(c);
  tern_conn_close(c);
  tern_http_respond_json(req, 200,
                         json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "id", c->id, "state",
                                   "closed", "iceConnectionState", "closed",
                                   "signalingState", "closed", "localDescription", local,
                                   "remoteDescription", remote));
}

static void get_local_description(struct tern_http_req *req, void *user) {
  struct tern_conn *c = find_or_404(req, user);
  if (c)
    tern_http_respond_json(req, 200, local_json(c));
}

static void get_remote_description(struct tern_http_req *req, void *user) {
  struct tern_conn *c = find_or_404(req, user);
  if (c)
    tern_http_respond_json(req, 200, remote_json(c));
}

static void post_remote_description(struct tern_http_req *req, void *user) {
  struct tern_conn *c = find_or_404(req, user);
  char err[256];
  json_error_t jerr;
  size_t len;
  if (!c)
    return;
  const uint8_t *body = tern_http_body(req, &len);
  json_t *j = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!j) {
    tern_http_respond_text(req, 400, "body is not JSON: %s", jerr.text);
    return;
  }
  const char *type = json_string_value(json_object_get(j, "type"));
  json_t *sdp = json_object_get(j, "sdp");
  if (!json_is_object(j) || !type || !json_is_string(sdp)) {
    tern_http_respond_text(req, 400, "expected {\"type\":\"answer\",\"sdp\":\"…\"}");
    goto out;
  }
  if (strcmp(type, "answer") != 0) {
    tern_http_respond_text(req, 400, "type must be \"answer\" (the server offers), not \"%s\"",
                           type);
    goto out;
  }
  if (tern_peer_set_remote_description(c->peer, TERN_SDP_ANSWER, json_string_value(sdp),
                                       json_string_length(sdp), err, sizeof err) < 0) {
    tern_log_info(c->id, "%s: answer rejected: %s", c->owner->prefix, err);
    tern_http_respond_text(req, 400, "unusable answer: %s", err);
    goto out;
  }
  tern_http_respond_json(req, 200, remote_json(c));
out:
  json_decref(j);
}

struct tern_conns *tern_conns_mount(const struct tern_conns_env *env, const char *prefix,
                                    const struct tern_conn_app *app, void *app_user) {
  struct tern_conns *m = calloc(1, sizeof *m);
  char path[160];
  if (!m)
    return NULL;
  m->env = *env;
  m->app = app;
  m->app_user = app_user;
  snprintf(m->prefix, sizeof m->prefix, "%s", prefix);
  static const struct {
    const char *method, *suffix;
    tern_http_handler h;
  } routes[] = {
      {"POST", "/connections", post_connections},
      {"GET", "/connections", get_connections},
      {"GET", "/connections/:id", get_connection},
      {"DELETE", "/connections/:id", delete_connection},
      {"GET", "/connections/:id/local-description", get_local_description},
      {"GET", "/connections/:id/remote-description", get_remote_description},
      {"POST", "/connections/:id/remote-description", post_remote_description},
  };
  for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
    snprintf(path, sizeof path, "%s%s", prefix, routes[i].suffix);
    if (tern_http_route(env->http, routes[i].method, path, routes[i].h, m) < 0) {
      free(m);
      return NULL;
    }
  }
  return m;
}

void tern_conns_destroy(struct tern_conns *m) {
  while (m->head)
    tern_conn_close(m->head);
  if (m->app->destroy)
    m->app->destroy(m->app_user);
  free(m);
}

size_t tern_conns_count(const struct tern_conns *m) { return m->count; }
struct tern_peer *tern_conn_peer(const struct tern_conn *c) { return c->peer; }
const char *tern_conn_id(const struct tern_conn *c) { return c->id; }
void tern_conn_set_data(struct tern_conn *c, void *data) { c->data = data; }
void *tern_conn_data(const struct tern_conn *c) { return c->data; }
