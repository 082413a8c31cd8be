#include "api/beep.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "api/claims.h"
#include "apps/conversation.h"
#include "core/config.h"
#include "core/log.h"
#include "http/server.h"
#include "peer/peer.h"

#define OFFER_TIMEOUT_MS 10000   /* from the upgrade to the client's offer */
#define CONNECT_TIMEOUT_MS 15000 /* from our answer to ICE + DTLS up */
#define MAX_CONVERSATION_ID 128

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
};

struct user {
  struct user *next;
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
  struct user *u = find_user(b, who.userid);
  if (!u) {
    if (!(u = calloc(1, sizeof *u))) {
      tern_http_respond_text(req, 500, "out of memory");
      return;
    }
    snprintf(u->userid, sizeof u->userid, "%s", who.userid);
    u->next = b->users;
    b->users = u;
  }
  snprintf(u->conversation, sizeof u->conversation, "%s", id);
  int moved = 0;
  for (struct client *c = b->clients; c; c = c->next)
    if (!c->closing && strcmp(c->who.userid, who.userid) == 0) {
      enter_room(c);
      moved += c->member != NULL;
    }
  tern_log_info(NULL, "beep: user %.64s joined %s (%d client(s) moved)", who.userid, id, moved);
  tern_http_respond(req, 200, "text/plain; charset=utf-8", "", 0);
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
  if (!(b->rooms = tern_rooms_create(loop)) ||
      tern_http_capture_header(http, "Authorization") < 0 ||
      tern_http_ws_route(http, "/connect", &connect_ops, b) < 0 ||
      tern_http_route(http, "POST", "/join/:conversationid*", post_join, b) < 0) {
    if (b->rooms)
      tern_rooms_destroy(b->rooms);
    free(b);
    return NULL;
  }
  return b;
}

void tern_beep_destroy(struct tern_beep *b) {
  if (!b)
    return;
  while (b->clients)
    client_close(b->clients, WS_NORMAL, "server shutting down");
  while (b->users) {
    struct user *u = b->users;
    b->users = u->next;
    free(u);
  }
  tern_rooms_destroy(b->rooms);
  free(b);
}
