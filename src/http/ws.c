/* http/ws.c — WebSocket routes (RFC 6455) on the lws connection.
 *
 * Upgrade: LWS_CALLBACK_HTTP_CONFIRM_UPGRADE finds the route and runs its
 * accept hook while the request headers are still attached (a refusal is
 * written as a plain HTTP response); the request is copied and handed to
 * the open op at LWS_CALLBACK_ESTABLISHED. Receive reassembles fragments up
 * to max_body. Send queues whole messages (each with LWS_PRE headroom lws
 * needs for the frame header) and writes one per writable callback; a
 * requested close goes out after the queue drains.
 */
#include "http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct ws_route *find_ws_route(struct tern_http_server *s,
                                            const char *path) {
  for (unsigned i = 0; i < s->n_ws_routes; i++)
    if (tern_route_match(s->ws_routes[i].path, path, NULL))
      return &s->ws_routes[i];
  return NULL;
}

int tern_http_ws_route(struct tern_http_server *s, const char *path,
                       const struct tern_ws_ops *ops, void *user) {
  if (!ops || tern_route_pattern_check(path) < 0)
    return -EINVAL;
  for (unsigned i = 0; i < s->n_ws_routes; i++)
    if (strcmp(s->ws_routes[i].path, path) == 0)
      return -EEXIST;
  if (s->n_ws_routes == TERN_HTTP_MAX_WS_ROUTES)
    return -ENOSPC;
  struct ws_route *rt = &s->ws_routes[s->n_ws_routes];
  if (!(rt->path = strdup(path)))
    return -ENOMEM;
  rt->ops = *ops;
  rt->user = user;
  s->n_ws_routes++;
  return 0;
}

/* Returns 0 to let lws upgrade, 1 after writing a refusal, -1 to hang up. */
int tern_ws_confirm_upgrade(struct conn *c, struct lws *wsi) {
  struct tern_http_server *s = c->srv;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
    return tern_http_write_now(wsi, 400, "WebSocket upgrade must be a GET",
                               true) ? -1 : 1;
  struct tern_http_req *r = tern_http_req_build(c, wsi, "GET");
  if (!r)
    return -1;
  r->conn = NULL; /* never answered through the HTTP response path */
  const struct ws_route *rt = find_ws_route(s, r->path);
  if (!rt) {
    tern_http_req_free(r);
    return tern_http_write_now(wsi, 404, "no WebSocket endpoint here", false)
               ? -1 : 1;
  }
  if (rt->ops.accept) {
    char reason[256] = "";
    int status = rt->ops.accept(r, rt->user, reason, sizeof reason);
    if (status) {
      tern_http_req_free(r);
      if (status < 400 || status > 599)
        status = 500;
      return tern_http_write_now(wsi, status, reason[0] ? reason : "refused",
                                 false) ? -1 : 1;
    }
  }
  if (c->upgrade_req)
    tern_http_req_free(c->upgrade_req);
  c->upgrade_req = r;
  c->upgrade_route = rt;
  return 0;
}

int tern_ws_established(struct conn *c, struct lws *wsi) {
  struct tern_http_req *r = c->upgrade_req;
  const struct ws_route *rt = c->upgrade_route;
  c->upgrade_req = NULL;
  if (!r || !rt) { /* not through our confirm hook: refuse */
    tern_http_req_free(r);
    return -1;
  }
  struct tern_ws *ws = calloc(1, sizeof *ws);
  if (!ws) {
    tern_http_req_free(r);
    return -1;
  }
  ws->conn = c;
  ws->route = rt;
  c->ws = ws;
  (void)wsi;
  if (rt->ops.open)
    rt->ops.open(ws, r, rt->user);
  tern_http_req_free(r);
  return 0;
}

static void ws_close_now(struct tern_ws *ws, struct lws *wsi, int code,
                         const char *reason) {
  ws->closing = true;
  lws_close_reason(wsi, (enum lws_close_status)code,
                   (unsigned char *)reason, strlen(reason));
}

int tern_ws_receive(struct conn *c, struct lws *wsi, const void *in,
                    size_t len) {
  struct tern_ws *ws = c->ws;
  size_t max = c->srv->lim.max_body;
  if (!ws)
    return -1;
  if (ws->closing) /* closing: nothing more goes to the app */
    return 0;
  if (lws_frame_is_binary(wsi)) {
    ws_close_now(ws, wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
                 "binary messages are not supported");
    return -1;
  }
  if (lws_is_first_fragment(wsi))
    ws->rx_len = 0;
  if (ws->rx_len + len > max) {
    ws_close_now(ws, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
                 "message too big");
    return -1;
  }
  bool final = lws_is_final_fragment(wsi);
  if (final && ws->rx_len == 0) {
    /* The common case, a message in one piece: no copy unless we must add
     * the NUL (lws's buffer has no room we may write into). */
    char *m = malloc(len + 1);
    if (!m)
      return -1;
    memcpy(m, in, len);
    m[len] = '\0';
    if (ws->route->ops.text)
      ws->route->ops.text(ws, m, len, ws->route->user);
    free(m);
    return 0;
  }
  if (!ws->rx) {
    ws->rx = malloc(max + 1);
    if (!ws->rx)
      return -1;
  }
  memcpy(ws->rx + ws->rx_len, in, len);
  ws->rx_len += len;
  if (final) {
    ws->rx[ws->rx_len] = '\0';
    size_t n = ws->rx_len;
    ws->rx_len = 0;
    if (ws->route->ops.text)
      ws->route->ops.text(ws, ws->rx, n, ws->route->user);
  }
  return 0;
}

int tern_ws_writeable(struct conn *c, struct lws *wsi) {
  struct tern_ws *ws = c->ws;
  if (!ws)
    return 0;
  struct tern_ws_msg *m = ws->head;
  if (m) {
    ws->head = m->next;
    if (!ws->head)
      ws->tail = NULL;
    ws->queued -= m->len;
    int n = lws_write(wsi, m->data + LWS_PRE, m->len, LWS_WRITE_TEXT);
    free(m);
    if (n < 0)
      return -1;
    if (ws->head || ws->close_code)
      lws_callback_on_writable(wsi);
    return 0;
  }
  if (ws->close_code) {
    lws_close_reason(wsi, (enum lws_close_status)ws->close_code,
                     (unsigned char *)ws->close_reason,
                     strlen(ws->close_reason));
    ws->close_code = 0;
    /* In lws 4.1, -1 from a writable callback counts as a failed write
     * and drops the socket without the close frame, and so does a timeout
     * - except the keep-alive idle one, which closes "in good order": that
     * path sends our close frame and waits for the client's echo. */
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
    return 0;
  }
  return 0;
}

/* The connection is closed (or being destroyed): tell the app once, then
 * free the ws. */
void tern_ws_gone(struct conn *c) {
  struct tern_ws *ws = c->ws;
  if (!ws)
    return;
  if (!ws->closed_cb_done) {
    ws->closed_cb_done = true;
    ws->closing = true;
    if (ws->route->ops.closed)
      ws->route->ops.closed(ws, ws->route->user);
  }
  c->ws = NULL;
  while (ws->head) {
    struct tern_ws_msg *m = ws->head;
    ws->head = m->next;
    free(m);
  }
  free(ws->rx);
  free(ws);
}

int tern_ws_send_text(struct tern_ws *ws, const char *msg, size_t len) {
  if (ws->closing || !ws->conn)
    return -EPIPE;
  size_t cap = ws->conn->srv->lim.max_body * 16;
  if (cap < (1u << 20))
    cap = 1u << 20;
  if (ws->queued + len > cap)
    return -ENOBUFS;
  struct tern_ws_msg *m = malloc(sizeof *m + LWS_PRE + len);
  if (!m)
    return -ENOMEM;
  m->next = NULL;
  m->len = len;
  memcpy(m->data + LWS_PRE, msg, len);
  if (ws->tail)
    ws->tail->next = m;
  else
    ws->head = m;
  ws->tail = m;
  ws->queued += len;
  lws_callback_on_writable(ws->conn->wsi);
  return 0;
}

void tern_ws_close(struct tern_ws *ws, int code, const char *reason) {
  if (ws->closing)
    return;
  ws->closing = true;
  ws->close_code = code >= 1000 && code <= 4999 ? code : 1000;
  snprintf(ws->close_reason, sizeof ws->close_reason, "%s",
           reason ? reason : "");
  lws_callback_on_writable(ws->conn->wsi);
}

void tern_ws_set_user(struct tern_ws *ws, void *u) { ws->user = u; }

void *tern_ws_user(const struct tern_ws *ws) { return ws->user; }

const char *tern_ws_remote_addr(const struct tern_ws *ws) {
  return ws->conn ? ws->conn->addr : "?";
}
