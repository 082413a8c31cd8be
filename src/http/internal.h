/* http/internal — structures shared by server.c (HTTP) and ws.c (WebSocket).
 * Not for use outside src/http/.
 *
 * Ownership: the server owns every struct conn (one per accepted socket,
 * attached to the lws wsi as opaque user data, freed at LWS_CALLBACK_WSI_
 * DESTROY). A conn owns at most one request in progress, one pending upgrade
 * request and one tern_ws. lws's per-session data is not used: lws re-binds
 * the protocol between keep-alive transactions, which resets it.
 */
#ifndef TERN_HTTP_INTERNAL_H
#define TERN_HTTP_INTERNAL_H

#include "http/router.h"
#include "http/server.h"

#include <libwebsockets.h>
#include <netinet/in.h>

#define TERN_HTTP_MAX_CAPTURE 16
#define TERN_HTTP_ADDR_MAX INET6_ADDRSTRLEN

struct ip_slot; /* per-client-address connection count (server.c) */

struct kv {
  char *name, *value;
};

struct tern_http_req {
  struct conn *conn; /* NULL for a detached upgrade request */
  char method[8];
  char *path;
  struct kv *args;
  unsigned nargs;
  struct kv *hdrs;
  unsigned nhdrs;
  char addr[TERN_HTTP_ADDR_MAX];
  struct tern_route_match *match; /* NULL when not routed */
  const struct tern_route *route;

  uint8_t *body;
  size_t body_len, body_cap;
  size_t discarded;  /* body bytes dropped after an early 413 */
  bool expect_body;  /* Content-Length > 0 (or a refused chunked upload) */
  bool body_done;
  bool dispatched;

  void (*abort_cb)(struct tern_http_req *r, void *user);
  void *abort_user;

  /* The response, once tern_http_respond*() is called. */
  bool responded;
  bool head;         /* HEAD: headers only */
  bool close_after;  /* Connection: close, then drop the socket */
  bool headers_sent;
  bool resp_done;
  int status;
  char ctype[96];
  char *extra;       /* "name\0value\0" pairs */
  size_t extra_len;
  uint8_t *resp_body;
  size_t resp_len, resp_off;
  int file_fd;       /* static file being sent, else -1 */
  size_t file_left;
};

struct ws_route {
  char *path;
  struct tern_ws_ops ops;
  void *user;
};

struct tern_ws_msg {
  struct tern_ws_msg *next;
  size_t len;
  unsigned char data[]; /* LWS_PRE headroom, then len bytes */
};

struct tern_ws {
  struct conn *conn;
  const struct ws_route *route;
  void *user;
  struct tern_ws_msg *head, *tail;
  size_t queued;
  char *rx;          /* reassembly of a fragmented message */
  size_t rx_len;
  bool closing;      /* tern_ws_close called: no more sends */
  bool closed_cb_done;
  int close_code;
  char close_reason[124];
};

struct conn {
  struct tern_http_server *srv;
  struct lws *wsi;
  struct ip_slot *ip;
  char addr[TERN_HTTP_ADDR_MAX];
  struct tern_http_req *req;         /* request in progress */
  struct tern_http_req *upgrade_req; /* between confirm-upgrade and open */
  const struct ws_route *upgrade_route;
  struct tern_ws *ws;
  struct conn *prev, *next;
};

#define TERN_HTTP_MAX_WS_ROUTES 32

struct tern_http_server {
  uv_loop_t *loop;
  struct lws_context *ctx;
  struct lws_vhost *vhost;
  struct tern_http_limits lim;
  char *web_root;  /* realpath, or NULL */
  struct tern_router router;
  struct ws_route ws_routes[TERN_HTTP_MAX_WS_ROUTES];
  unsigned n_ws_routes;
  char *capture[TERN_HTTP_MAX_CAPTURE]; /* lower-case "name:" */
  unsigned n_capture;
  struct conn *conns;
  unsigned n_conns;
  struct ip_slot **ip_buckets;
  unsigned n_ip_buckets;
  bool destroying;
  lws_retry_bo_t retry;
  struct lws_protocols protocols[2];
};

/* server.c */
struct tern_http_req *tern_http_req_build(struct conn *c, struct lws *wsi,
                                          const char *method);
void tern_http_req_free(struct tern_http_req *r);
int tern_http_write_now(struct lws *wsi, int status, const char *text,
                        bool close);

/* ws.c */
int tern_ws_confirm_upgrade(struct conn *c, struct lws *wsi);
int tern_ws_established(struct conn *c, struct lws *wsi);
int tern_ws_receive(struct conn *c, struct lws *wsi, const void *in,
                    size_t len);
int tern_ws_writeable(struct conn *c, struct lws *wsi);
void tern_ws_gone(struct conn *c);

#endif
