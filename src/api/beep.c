#include "api/beep.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/claims.h"
#include "api/nats.h"
#include "apps/conversation.h"
#include "core/config.h"
#include "core/iplimit.h"
#include "core/log.h"
#include "http/server.h"
#include "net/httpc.h"
#include "peer/peer.h"

#define OFFER_TIMEOUT_MS 10000   /* from the upgrade to the client's offer */
#define CONNECT_TIMEOUT_MS 15000 /* from our answer to ICE + DTLS up */
#define MAX_CONVERSATION_ID 128
#define PERMISSION_TIMEOUT_MS 3000

/* RFC 6455 §7.4.1 close codes used after the upgrade. */
#define WS_NORMAL 1000
#define WS_PROTOCOL_ERROR 1002
#define WS_INVALID_DATA 1007
#define WS_POLICY 1008
#define WS_INTERNAL 1011
#define WS_TRY_AGAIN 1013

struct user; /* the conversation a userid is in */

struct client {
  struct client *prev, *next;
  struct tern_beep *beep;
  struct tern_claims who;
  char log_id[48];
  struct tern_ws *ws; /* NULL once the signalling socket is gone */
  struct tern_peer *peer;
  struct tern_track *audio;
  struct tern_room_member *member;
  uv_timer_t timer; /* offer, then connection deadline */
  bool closing;
  char client_ip[48]; /* set while it holds a MAX_PEERS_PER_IP slot */
};

struct user {
  struct user *next;
  char userid[sizeof(((struct tern_claims *)0)->userid)];
  char conversation[MAX_CONVERSATION_ID + 1];
};

/* A POST /join waiting for PERMISSIONS_HOST. Owned by the beep; freed when
 * the answer arrives, when the HTTP client goes away (abort) or at destroy. */
struct perm_check {
  struct perm_check *prev, *next;
  struct tern_beep *beep;
  struct tern_http_req *req;
  struct tern_httpc *http;
  char userid[sizeof(((struct tern_claims *)0)->userid)];
  char conversation[MAX_CONVERSATION_ID + 1];
};

struct tern_beep {
  uv_loop_t *loop;
  struct tern_peer_env *peers;
  const struct tern_config *cfg;
  struct tern_rooms *rooms;
  struct client *clients;
  struct user *users;
  unsigned max_peers;
  /* PERMISSIONS_HOST, resolved at mount; perm_host[0] == 0 when off. */
  struct sockaddr_storage perm_addr;
  char perm_host[256];
  char perm_path[TERN_CONFIG_URL_MAX];
  struct perm_check *checks;
  struct tern_nats *nats; /* NULL when NATS is off */
};

/* ---- identity ------------------------------------------------------------ */

/* Reads the caller's identity as configured; on failure returns the HTTP
 * status to answer (400 for a bad claim header, 401 for a bad token). */
static int identify(struct tern_beep *b, const struct tern_http_req *r, struct tern_claims *out,
                    char *reason, size_t cap) {
  if (b->cfg->auth == TERN_AUTH_JWT) {
    const char *token = NULL;
    size_t len = 0;
    const char *authz = tern_http_header(r, "Authorization");
    int rc = authz ? tern_claims_bearer(authz, &token, &len) : -ENOENT;
    if (rc == -EINVAL) {
      snprintf(reason, cap, "malformed Authorization: Bearer header");
      return 401;
    }
    if (rc < 0) {
      /* Browsers cannot set headers on a WebSocket: the seed's README says
       * to pass the token in the query string. */
      token = tern_http_query(r, "token");
      len = token ? strlen(token) : 0;
    }
    if (!token) {
      snprintf(reason, cap, "missing token (Authorization: Bearer or ?token=)");
      return 401;
    }
    if (tern_claims_from_jwt(token, len, (const uint8_t *)b->cfg->secret, strlen(b->cfg->secret),
                             (int64_t)time(NULL), out, reason, cap) < 0)
      return 401;
    return 0;
  }
  if (b->cfg->auth_dev_query && tern_http_req_is_loopback(r) && tern_http_query(r, "userid")) {
    /* Development only (AUTH_DEV_QUERY=1), and only from this machine. */
    const char *u = tern_http_query(r, "userid"), *c = tern_http_query(r, "clientid");
    /* Through the claim parser, so the same rules (and reasons) apply. */
    json_t *j = json_pack("{s:s, s:s}", "userid", u, "clientid", c ? c : "dev");
    char *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!json) {
      snprintf(reason, cap, "userid/clientid must be valid UTF-8");
      return 400;
    }
    int rc = tern_claims_from_header(json, strlen(json), out, reason, cap);
    free(json);
    return rc < 0 ? 400 : 0;
  }
  const char *h = tern_http_header(r, "X-User-Claim");
  if (tern_claims_from_header(h, h ? strlen(h) : 0, out, reason, cap) < 0)
    return 400;
  return 0;
}

static struct user *find_user(struct tern_beep *b, const char *userid) {
  for (struct user *u = b->users; u; u = u->next)
    if (strcmp(u->userid, userid) == 0)
      return u;
  return NULL;
}

/* ---- clients ---------------------------------------------------------------- */

static void leave_room(struct client *c) {
  if (c->member) {
    tern_rooms_leave(c->member);
    c->member = NULL;
  }
}

/* The client's audio goes to its user's conversation, if any. */
static void enter_room(struct client *c) {
  struct user *u = find_user(c->beep, c->who.userid);
  leave_room(c);
  if (!u || !c->audio || tern_peer_state(c->peer) != TERN_PEER_CONNECTED)
    return;
  c->member = tern_rooms_join(c->beep->rooms, u->conversation, c->audio, c->log_id);
  if (c->member)
    tern_log_info(c->log_id, "beep: in conversation %s", u->conversation);
}

static void on_timer_closed(uv_handle_t *h) { free(h->data); }

static void client_close(struct client *c, int code, const char *reason) {
  struct tern_beep *b = c->beep;
  if (c->closing)
    return;
  c->closing = true;
  if (reason)
    tern_log_info(c->log_id, "beep: client closed: %s", reason);
  leave_room(c);
  if (c->ws) {
    tern_ws_set_user(c->ws, NULL);
    tern_ws_close(c->ws, code, reason ? reason : "");
    c->ws = NULL;
  }
  tern_peer_close(c->peer);
  if (c->client_ip[0])
    tern_iplimit_release(b->peers->per_ip, c->client_ip);
  if (c->prev)
    c->prev->next = c->next;
  else
    b->clients = c->next;
  if (c->next)
    c->next->prev = c->prev;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void on_deadline(uv_timer_t *t) {
  struct client *c = t->data;
  client_close(c, WS_INTERNAL,
               c->peer && tern_peer_local_description(c->peer)
                   ? "the peer connection was not established in time"
                   : "no SDP offer received in time");
}

static void on_peer_state(struct tern_peer *p, void *user, enum tern_peer_state s) {
  struct client *c = user;
  (void)p;
  switch (s) {
  case TERN_PEER_CONNECTED:
    uv_timer_stop(&c->timer);
    if (c->ws) {
      /* Signalling is done: close it as the seed's service did. */
      tern_ws_set_user(c->ws, NULL);
      tern_ws_close(c->ws, WS_NORMAL, "connected");
      c->ws = NULL;
    }
    enter_room(c);
    break;
  case TERN_PEER_FAILED:
    client_close(c, WS_INTERNAL, "the peer connection failed");
    break;
  case TERN_PEER_DISCONNECTED:
    /* ICE consent ran out: the client vanished. */
    client_close(c, WS_INTERNAL, "the client stopped answering ICE checks");
    break;
  case TERN_PEER_CLOSED:
    client_close(c, WS_NORMAL, "the client closed the connection");
    break;
  default:
    break;
  }
}

static void on_peer_track(struct tern_peer *p, void *user, struct tern_track *t) {
  struct client *c = user;
  (void)p;
  /* One audio track per client (the seed's offer has one); others idle. */
  if (!c->audio && tern_track_kind(t) == TERN_TRACK_AUDIO)
    c->audio = t;
}

static const struct tern_peer_ops client_peer_ops = {.state = on_peer_state,
                                                     .track = on_peer_track};

/* ---- GET /connect -------------------------------------------------------------- */

static int ws_accept(const struct tern_http_req *r, void *user, char *reason, size_t cap) {
  struct tern_beep *b = user;
  struct tern_claims who;
  int status = identify(b, r, &who, reason, cap);
  if (status) {
    tern_log_info(NULL, "beep: /connect refused (%d): %s", status, reason);
    return status;
  }
  return 0;
}

static void ws_open(struct tern_ws *ws, const struct tern_http_req *r, void *user) {
  struct tern_beep *b = user;
  char reason[160];
  struct client *c = calloc(1, sizeof *c);
  if (!c) {
    tern_ws_close(ws, WS_INTERNAL, "out of memory");
    return;
  }
  if (identify(b, r, &c->who, reason, sizeof reason) != 0) {
    free(c);
    tern_ws_close(ws, WS_POLICY, reason);
    return;
  }
  uint32_t tag;
  getrandom(&tag, sizeof tag, 0);
  snprintf(c->log_id, sizeof c->log_id, "beep-%08x", tag);
  c->beep = b;
  c->ws = ws;
  uv_timer_init(b->loop, &c->timer);
  c->timer.data = c;
  c->next = b->clients;
  if (b->clients)
    b->clients->prev = c;
  b->clients = c;
  tern_ws_set_user(ws, c);
  uv_timer_start(&c->timer, on_deadline, OFFER_TIMEOUT_MS, 0);
  tern_log_info(c->log_id, "beep: /connect from %s (user %.64s, client %.64s)",
                tern_ws_remote_addr(ws), c->who.userid, c->who.clientid);
}

static void ws_text(struct tern_ws *ws, const char *msg, size_t len, void *user) {
  struct client *c = tern_ws_user(ws);
  struct tern_beep *b = user;
  char err[256];
  if (!c || c->closing)
    return;
  if (c->peer) {
    client_close(c, WS_PROTOCOL_ERROR, "only one SDP offer is expected");
    return;
  }
  if (b->peers->peers_live >= b->max_peers) {
    client_close(c, WS_TRY_AGAIN, "server full (MAX_PEERS)");
    return;
  }
  const char *ip = tern_ws_remote_addr(ws);
  if (tern_iplimit_acquire(b->peers->per_ip, ip) < 0) {
    client_close(c, WS_TRY_AGAIN, "too many connections from this address (MAX_PEERS_PER_IP)");
    return;
  }
  snprintf(c->client_ip, sizeof c->client_ip, "%s", ip);
  c->peer = tern_peer_create(b->peers, false, &client_peer_ops, c, c->log_id);
  if (!c->peer) {
    client_close(c, WS_INTERNAL, "could not create a peer connection");
    return;
  }
  if (tern_peer_set_remote_description(c->peer, TERN_SDP_OFFER, msg, len, err, sizeof err) < 0) {
    char reason[124];
    snprintf(reason, sizeof reason, "unusable SDP offer: %.100s", err);
    client_close(c, WS_INVALID_DATA, reason);
    return;
  }
  if (!c->audio) {
    client_close(c, WS_INVALID_DATA, "the offer has no Opus audio");
    return;
  }
  if (tern_peer_create_answer(c->peer, err, sizeof err) < 0) {
    char reason[124];
    snprintf(reason, sizeof reason, "could not answer: %.100s", err);
    client_close(c, WS_INTERNAL, reason);
    return;
  }
  const char *answer = tern_peer_local_description(c->peer);
  tern_ws_send_text(ws, answer, strlen(answer));
  uv_timer_start(&c->timer, on_deadline, CONNECT_TIMEOUT_MS, 0);
}

static void ws_closed(struct tern_ws *ws, void *user) {
  struct client *c = tern_ws_user(ws);
  (void)user;
  if (!c)
    return; /* already handed over or closed */
  c->ws = NULL;
  /* Gone before the peer was up: nothing will ever use this client. */
  if (!c->peer || tern_peer_state(c->peer) != TERN_PEER_CONNECTED)
    client_close(c, WS_NORMAL, "signalling closed before the peer connected");
}

static const struct tern_ws_ops connect_ops = {
    .accept = ws_accept, .open = ws_open, .text = ws_text, .closed = ws_closed};

/* ---- POST /join/:conversationid ------------------------------------------------------- */

/* Moves every client of the user (and those that connect later). */
static void join(struct tern_beep *b, struct tern_http_req *req, const char *userid,
                 const char *id) {
  struct user *u = find_user(b, userid);
  if (!u) {
    if (!(u = calloc(1, sizeof *u))) {
      tern_http_respond_text(req, 500, "out of memory");
      return;
    }
    snprintf(u->userid, sizeof u->userid, "%s", userid);
    u->next = b->users;
    b->users = u;
  }
  snprintf(u->conversation, sizeof u->conversation, "%s", id);
  int moved = 0;
  for (struct client *c = b->clients; c; c = c->next)
    if (!c->closing && strcmp(c->who.userid, userid) == 0) {
      enter_room(c);
      moved += c->member != NULL;
    }
  tern_log_info(NULL, "beep: user %.64s joined %s (%d client(s) moved)", userid, id, moved);
  tern_http_respond(req, 200, "text/plain; charset=utf-8", "", 0);
}

static void check_unlink(struct perm_check *pc) {
  if (pc->prev)
    pc->prev->next = pc->next;
  else
    pc->beep->checks = pc->next;
  if (pc->next)
    pc->next->prev = pc->prev;
}

/* The permission service answered (or did not): exactly once per check,
 * unless the check was cancelled first. */
static void on_permission(void *user, int err, const struct tern_httpc_resp *r,
                          const char *reason) {
  struct perm_check *pc = user;
  struct tern_beep *b = pc->beep;
  check_unlink(pc);
  if (err) {
    tern_log_warn(NULL, "beep: permission check for user %.64s in %s failed: %s", pc->userid,
                  pc->conversation, reason ? reason : "?");
    tern_http_respond_text(pc->req, 503, "permission service unavailable");
  } else if (r->status < 200 || r->status > 299) {
    tern_log_info(NULL, "beep: user %.64s not allowed in %s (permission service: %d)",
                  pc->userid, pc->conversation, r->status);
    tern_http_respond_text(pc->req, 403, "not allowed in this conversation");
  } else {
    join(b, pc->req, pc->userid, pc->conversation);
  }
  free(pc);
}

/* The /join client went away while we were asking: stop asking. */
static void on_join_abort(struct tern_http_req *req, void *user) {
  struct perm_check *pc = user;
  (void)req;
  check_unlink(pc);
  tern_httpc_cancel(pc->http);
  free(pc);
}

/* GET $PERMISSIONS_HOST/user/<userid>/conversation/<id>, both segments
 * percent-encoded (a userid is any string the auth proxy vouched for). */
static void ask_permission(struct tern_beep *b, struct tern_http_req *req, const char *userid,
                           const char *id) {
  char uid[3 * sizeof(((struct tern_claims *)0)->userid)], cid[3 * MAX_CONVERSATION_ID + 1];
  char path[sizeof b->perm_path + sizeof uid + sizeof cid + 32], reason[160];
  struct perm_check *pc;
  if (tern_httpc_escape_segment(userid, uid, sizeof uid) < 0 ||
      tern_httpc_escape_segment(id, cid, sizeof cid) < 0) {
    tern_http_respond_text(req, 400, "userid or conversation id too long");
    return;
  }
  snprintf(path, sizeof path, "%s/user/%s/conversation/%s", b->perm_path, uid, cid);
  if (!(pc = calloc(1, sizeof *pc))) {
    tern_http_respond_text(req, 500, "out of memory");
    return;
  }
  pc->beep = b;
  pc->req = req;
  snprintf(pc->userid, sizeof pc->userid, "%s", userid);
  snprintf(pc->conversation, sizeof pc->conversation, "%s", id);
  pc->http = tern_httpc_request(b->loop, (const struct sockaddr *)&b->perm_addr, b->perm_host,
                                "GET", path, NULL, 0, PERMISSION_TIMEOUT_MS, on_permission, pc,
                                reason, sizeof reason);
  if (!pc->http) {
    tern_log_warn(NULL, "beep: permission check for user %.64s in %s failed: %s", userid, id,
                  reason);
    free(pc);
    tern_http_respond_text(req, 503, "permission service unavailable");
    return;
  }
  pc->next = b->checks;
  if (b->checks)
    b->checks->prev = pc;
  b->checks = pc;
  tern_http_req_on_abort(req, on_join_abort, pc);
}

static void post_join(struct tern_http_req *req, void *user) {
  struct tern_beep *b = user;
  struct tern_claims who;
  char reason[160];
  int status = identify(b, req, &who, reason, sizeof reason);
  if (status) {
    tern_http_respond_text(req, status, "%s", reason);
    return;
  }
  const char *id = tern_http_param(req, "conversationid");
  if (!id || !tern_conversation_id_valid(id)) {
    tern_http_respond_text(req, 400,
                           "conversation id must be 1-128 of A-Z a-z 0-9 . _ -");
    return;
  }
  if (b->perm_host[0])
    ask_permission(b, req, who.userid, id);
  else
    join(b, req, who.userid, id);
}

/* ---- NATS ------------------------------------------------------------------------------ */

/* Each room's shared mix, every 20 ms, on the loop thread. */
static void on_room_frame(const char *conversation_id, const uint8_t *opus, size_t len,
                          void *user) {
  struct tern_beep *b = user;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  tern_nats_publish_frame(b->nats, conversation_id, ms, opus, len);
}

/* ---- mount ------------------------------------------------------------------------------- */

struct tern_beep *tern_beep_mount(uv_loop_t *loop, struct tern_http_server *http,
                                  struct tern_peer_env *peers, const struct tern_config *cfg) {
  struct tern_beep *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->loop = loop;
  b->peers = peers;
  b->cfg = cfg;
  b->max_peers = cfg->max_peers;
  if (cfg->permissions_host[0]) {
    /* Resolved once, here (blocking, before the loop runs): a name that
     * does not resolve, or https:// (no TLS client here), stops start-up
     * rather than failing every /join later. */
    char reason[300];
    if (tern_httpc_parse_url(cfg->permissions_host, &b->perm_addr, b->perm_host,
                             sizeof b->perm_host, b->perm_path, sizeof b->perm_path, reason,
                             sizeof reason) < 0) {
      tern_log_error(NULL, "PERMISSIONS_HOST: %s", reason);
      free(b);
      return NULL;
    }
    tern_log_info(NULL, "beep: /join asks %s/user/:userid/conversation/:conversationid",
                  cfg->permissions_host);
  }
  if (cfg->nats[0]) {
    char reason[300];
    if (!(b->nats = tern_nats_create(loop, cfg->nats, reason, sizeof reason))) {
      tern_log_error(NULL, "NATS: %s", reason);
      free(b);
      return NULL;
    }
  }
  if (!(b->rooms = tern_rooms_create(loop)) ||
      tern_http_capture_header(http, "Authorization") < 0 ||
      tern_http_ws_route(http, "/connect", &connect_ops, b) < 0 ||
      tern_http_route(http, "POST", "/join/:conversationid*", post_join, b) < 0) {
    if (b->rooms)
      tern_rooms_destroy(b->rooms);
    tern_nats_destroy(b->nats);
    free(b);
    return NULL;
  }
  if (b->nats)
    tern_rooms_set_frame_cb(b->rooms, on_room_frame, b);
  return b;
}

void tern_beep_destroy(struct tern_beep *b) {
  if (!b)
    return;
  while (b->checks) {
    struct perm_check *pc = b->checks;
    check_unlink(pc);
    tern_httpc_cancel(pc->http);
    tern_http_respond_text(pc->req, 503, "server shutting down");
    free(pc);
  }
  while (b->clients)
    client_close(b->clients, WS_NORMAL, "server shutting down");
  while (b->users) {
    struct user *u = b->users;
    b->users = u->next;
    free(u);
  }
  tern_rooms_destroy(b->rooms);
  tern_nats_destroy(b->nats);
  free(b);
}
