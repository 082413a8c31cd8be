/* http/server — HTTP/1.1 + WebSocket (RFC 6455) on the server's libuv loop.
 *
 * Built on libwebsockets 4.1 joined to our uv_loop_t as a "foreign loop"
 * (the libuv support is a plugin lws loads at run time). One listener serves
 * routes (exact and ":param" segments, see router.h), WebSocket routes and
 * static files from the web root, in that order; a path known with other
 * methods answers 405 with Allow; anything else 404.
 *
 * Requests. A handler gets a struct tern_http_req whose method, path, path
 * parameters, query arguments, headers (copied at dispatch), body and remote
 * address stay readable until it responds. It responds exactly once with
 * tern_http_respond*(), inside the handler or later (asynchronously); after
 * that call the req pointer is gone. If the client disconnects first, the
 * abort callback set with tern_http_req_on_abort() runs and the req is
 * freed: an asynchronous handler MUST set one and drop its pointer there.
 * Every response carries Content-Length; keep-alive is supported.
 *
 * Limits. A body above max_body answers 413 (Connection: close) without
 * buffering the rest; a chunked upload answers 411 (lws 4.1 cannot decode
 * one); request headers above max_header are refused by lws; HTTP/1.1 only
 * (an h2c upgrade answers 400);
 * connections beyond max_connections in total or max_connections_per_ip
 * per client address are closed at accept. Idle keep-alive connections,
 * clients that stall while sending a request or reading a response, and
 * handlers that never respond all time out (idle_timeout_s, handler_timeout_s);
 * WebSocket connections are pinged and dropped when silent.
 *
 * WebSockets. Upgrades without Sec-WebSocket-Protocol are accepted (browsers
 * send none for `new WebSocket(url)`); one naming a subprotocol is refused by
 * lws. A route's accept hook may refuse the upgrade with an HTTP status.
 * Messages arrive whole (fragments reassembled, at most max_body bytes, else
 * close 1009); only text is supported (binary → close 1003). Sends are
 * queued and written when the socket is writable.
 *
 * Callbacks and re-entrancy. All callbacks run on the loop thread from
 * inside lws's event handling, never from inside a tern_http_*() or
 * tern_ws_*() call: respond, send and close only queue work, so they are safe
 * to call from any callback. A tern_ws stays valid until its closed callback
 * returns; it is freed by the server after that, never by the user.
 *
 * Process-wide state: lws's log level/emitter is global in lws; the server
 * sets it once (lws errors and warnings go to tern_log) — see server.c.
 */
#ifndef TERN_HTTP_SERVER_H
#define TERN_HTTP_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct tern_http_server;
struct tern_http_req;
struct tern_ws;

struct tern_http_limits {
  size_t max_body;            /* request body / WS message bytes; 413 / 1009 */
  size_t max_header;          /* total request header bytes (≤ 65535) */
  unsigned idle_timeout_s;    /* keep-alive idle, stalled send or receive */
  unsigned handler_timeout_s; /* a handler that never responds: closed */
  unsigned max_connections;
  unsigned max_connections_per_ip;
};

/* Defaults: 64 KiB body, 8 KiB headers, 30 s idle, 60 s handler, 4096
 * connections, 256 per IP. */
void tern_http_limits_default(struct tern_http_limits *lim);

/* Starts listening on host:port (host NULL or "" = every address, IPv4 and
 * IPv6; "localhost" = 127.0.0.1). web_root NULL = no static files; else it
 * must be an existing directory. NULL on failure with one line in err. */
struct tern_http_server *tern_http_server_create(uv_loop_t *loop,
                                                 const char *host, int port,
                                                 const struct tern_http_limits *lim,
                                                 const char *web_root,
                                                 char *err, size_t errcap);

/* The port actually bound (useful with port 0). */
int tern_http_server_port(const struct tern_http_server *s);

/* Stops listening and closes every connection: abort callbacks of pending
 * requests and closed callbacks of WebSockets run before it returns; no
 * callback runs afterwards. lws then releases its libuv handles
 * asynchronously: keep running the loop (uv_run) until it returns before
 * uv_loop_close. */
void tern_http_server_destroy(struct tern_http_server *s);

/* ---- requests ---- */

typedef void (*tern_http_handler)(struct tern_http_req *req, void *user);

/* method: "GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS" (HEAD is served
 * by GET routes). pattern: see router.h. 0, -EINVAL, -EEXIST, -ENOSPC. */
int tern_http_route(struct tern_http_server *s, const char *method,
                    const char *pattern, tern_http_handler h, void *user);

/* Request headers that lws does not know by name (most X-… headers) are
 * only available if captured: name them here before traffic arrives.
 * "X-User-Claim" is captured by default. 0, -EINVAL, -ENOSPC. */
int tern_http_capture_header(struct tern_http_server *s, const char *name);

const char *tern_http_req_method(const struct tern_http_req *r);
const char *tern_http_req_path(const struct tern_http_req *r); /* decoded */
/* A ":name" path parameter; NULL if the pattern has none by that name. */
const char *tern_http_param(const struct tern_http_req *r, const char *name);
/* The first ?name=value (decoded; "" for a bare ?name); NULL if absent. */
const char *tern_http_query(const struct tern_http_req *r, const char *name);
/* A request header, name case-insensitive; NULL if absent. */
const char *tern_http_header(const struct tern_http_req *r, const char *name);
/* The whole body (NUL-terminated for convenience; len excludes it). */
const uint8_t *tern_http_body(const struct tern_http_req *r, size_t *len);
/* The client's IP address as text (IPv4-mapped IPv6 shown as IPv4). */
const char *tern_http_remote_addr(const struct tern_http_req *r);
bool tern_http_req_is_loopback(const struct tern_http_req *r);

/* Adds a response header (before responding). 0, -EINVAL (CR/LF), -ENOSPC. */
int tern_http_resp_header(struct tern_http_req *r, const char *name,
                          const char *value);
/* Responds and releases r. content_type NULL = no Content-Type (empty body). */
void tern_http_respond(struct tern_http_req *r, int status,
                       const char *content_type, const void *body, size_t len);
/* text/plain; charset=utf-8, printf-formatted, a newline appended. */
void tern_http_respond_text(struct tern_http_req *r, int status,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* application/json; body is stolen (json_decref'd), NULL → 500. */
void tern_http_respond_json(struct tern_http_req *r, int status, json_t *body);
/* Called (at most once, instead of a response) if the client goes away
 * before the handler responded; r is freed right after cb returns. */
void tern_http_req_on_abort(struct tern_http_req *r,
                            void (*cb)(struct tern_http_req *r, void *user),
                            void *user);

/* ---- WebSockets ---- */

struct tern_ws_ops {
  /* Optional. Before the upgrade: return 0 to accept, or an HTTP status
   * (e.g. 400) with a short reason in reason[cap] to refuse it. */
  int (*accept)(const struct tern_http_req *r, void *user, char *reason,
                size_t cap);
  /* The connection is open. upgrade_req (headers, query, remote address)
   * is valid only during this call. */
  void (*open)(struct tern_ws *ws, const struct tern_http_req *upgrade_req,
               void *user);
  /* One whole text message, NUL-terminated (len excludes the NUL). */
  void (*text)(struct tern_ws *ws, const char *msg, size_t len, void *user);
  /* The connection is gone (either side closed it, or the server stopped).
   * Called exactly once after open; ws is freed when this returns. */
  void (*closed)(struct tern_ws *ws, void *user);
};

/* ops is copied; user is passed to every op. 0, -EINVAL, -EEXIST, -ENOSPC. */
int tern_http_ws_route(struct tern_http_server *s, const char *path,
                       const struct tern_ws_ops *ops, void *user);

/* Queues one text message. 0, -EPIPE after close, -ENOBUFS when more than
 * max_body*16 (≥ 1 MiB) bytes are already queued, -ENOMEM. */
int tern_ws_send_text(struct tern_ws *ws, const char *msg, size_t len);
/* Sends a close frame with code and reason (≤ 123 bytes) once queued
 * messages are out. The closed callback follows later. */
void tern_ws_close(struct tern_ws *ws, int code, const char *reason);
void tern_ws_set_user(struct tern_ws *ws, void *u);
void *tern_ws_user(const struct tern_ws *ws);
const char *tern_ws_remote_addr(const struct tern_ws *ws);

#endif
