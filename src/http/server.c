/* http/server.c — the lws context, connections and the HTTP request cycle.
 * WebSocket connections are in ws.c; the request object is in request.c.
 *
 * Request cycle on one wsi (h1): LWS_CALLBACK_HTTP (headers parsed) →
 * begin_request, which routes and either dispatches at once or waits for
 * LWS_CALLBACK_HTTP_BODY… → HTTP_BODY_COMPLETION → dispatch. The handler
 * (now or later) calls tern_http_respond*, which stores the response and
 * asks for LWS_CALLBACK_HTTP_WRITEABLE; write_response sends headers then
 * body chunks, one per writable callback, and completes the transaction
 * (keep-alive) or closes.
 */
#include "http/internal.h"

#include "core/log.h"
#include "http/static.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WRITE_CHUNK (16 * 1024)
#define HDR_SPACE 2048                   /* status line + headers we write */
#define DISCARD_MAX ((size_t)16 << 20)   /* body bytes read and dropped after 413 */
#define IP_BUCKETS 1024

/* ---- per-IP connection counts ---- */

struct ip_slot {
  struct ip_slot *next;
  unsigned count;
  char addr[TERN_HTTP_ADDR_MAX];
};

static unsigned ip_hash(const char *s) {
  unsigned h = 2166136261u; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h % IP_BUCKETS;
}

static struct ip_slot *ip_find(struct tern_http_server *s, const char *addr) {
  for (struct ip_slot *e = s->ip_buckets[ip_hash(addr)]; e; e = e->next)
    if (strcmp(e->addr, addr) == 0)
      return e;
  return NULL;
}

static struct ip_slot *ip_get(struct tern_http_server *s, const char *addr) {
  struct ip_slot *e = ip_find(s, addr);
  if (e)
    return e;
  e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  snprintf(e->addr, sizeof e->addr, "%s", addr);
  unsigned h = ip_hash(addr);
  e->next = s->ip_buckets[h];
  s->ip_buckets[h] = e;
  return e;
}

static void ip_put(struct tern_http_server *s, struct ip_slot *e) {
  if (--e->count)
    return;
  struct ip_slot **pp = &s->ip_buckets[ip_hash(e->addr)];
  while (*pp != e)
    pp = &(*pp)->next;
  *pp = e->next;
  free(e);
}

/* Text form of a socket address; IPv4-mapped IPv6 becomes plain IPv4 so
 * per-IP limits and loopback checks see one spelling. */
static void addr_text(const struct sockaddr *sa, char *out, size_t cap) {
  out[0] = '\0';
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
              (socklen_t)cap);
  } else if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a))
      inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)cap);
    else
      inet_ntop(AF_INET6, a, out, (socklen_t)cap);
  }
  if (!out[0])
    snprintf(out, cap, "?");
}

/* ---- connections ---- */

static struct conn *conn_new(struct tern_http_server *s, struct lws *wsi) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int fd = lws_get_socket_fd(wsi);
  if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
    return NULL;
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  addr_text((struct sockaddr *)&ss, c->addr, sizeof c->addr);
  c->ip = ip_get(s, c->addr);
  if (!c->ip) {
    free(c);
    return NULL;
  }
  c->ip->count++;
  c->srv = s;
  c->wsi = wsi;
  c->next = s->conns;
  if (s->conns)
    s->conns->prev = c;
  s->conns = c;
  s->n_conns++;
  lws_set_opaque_user_data(wsi, c);
  return c;
}

/* The client is gone (or the server is stopping): a request still waiting
 * for its handler is aborted, then freed. */
static void conn_drop_req(struct conn *c) {
  struct tern_http_req *r = c->req;
  if (!r)
    return;
  c->req = NULL;
  r->conn = NULL;
  if (r->dispatched && !r->responded && r->abort_cb)
    r->abort_cb(r, r->abort_user);
  tern_http_req_free(r);
}

static void conn_free(struct conn *c) {
  struct tern_http_server *s = c->srv;
  conn_drop_req(c);
  tern_ws_gone(c);
  if (c->upgrade_req) {
    c->upgrade_req->conn = NULL;
    tern_http_req_free(c->upgrade_req);
  }
  ip_put(s, c->ip);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  s->n_conns--;
  lws_set_opaque_user_data(c->wsi, NULL);
  free(c);
}

/* ---- writing responses ---- */

/* Writes a small complete response from inside an lws callback (used for
 * refusals decided while headers are still attached: 413, upgrade refusals).
 * 0, or -1 if the connection must be dropped. */
int tern_http_write_now(struct lws *wsi, int status, const char *text,
                        bool close) {
  size_t tl = strlen(text);
  unsigned char buf[LWS_PRE + HDR_SPACE + 512];
  unsigned char *start = buf + LWS_PRE, *p = start, *end = buf + sizeof buf;
  if (tl > 510)
    tl = 510;
  if (lws_add_http_common_headers(wsi, (unsigned)status,
                                  "text/plain; charset=utf-8", tl + 1, &p,
                                  end))
    return -1;
  if (close && lws_add_http_header_by_name(
                   wsi, (const unsigned char *)"connection:",
                   (const unsigned char *)"close", 5, &p, end))
    return -1;
  if (lws_finalize_write_http_header(wsi, start, &p, end))
    return -1;
  unsigned char body[LWS_PRE + 512];
  memcpy(body + LWS_PRE, text, tl);
  body[LWS_PRE + tl] = '\n';
  if (lws_write(wsi, body + LWS_PRE, tl + 1, LWS_WRITE_HTTP_FINAL) < 0)
    return -1;
  return 0;
}

static int add_header(struct lws *wsi, const char *name, const char *value,
                      unsigned char **p, unsigned char *end) {
  char n[128];
  size_t nl = strlen(name);
  if (nl + 2 > sizeof n)
    return -1;
  /* lws wants the lower-case "name:" form. */
  for (size_t i = 0; i < nl; i++)
    n[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
  n[nl] = ':';
  n[nl + 1] = '\0';
  return lws_add_http_header_by_name(wsi, (const unsigned char *)n,
                                     (const unsigned char *)value,
                                     (int)strlen(value), p, end);
}

static int write_headers(struct tern_http_req *r, struct lws *wsi) {
  size_t clen = r->file_fd >= 0 ? r->file_left : r->resp_len;
  unsigned char *buf = malloc(LWS_PRE + HDR_SPACE + r->extra_len);
  if (!buf)
    return -1;
  unsigned char *start = buf + LWS_PRE, *p = start;
  unsigned char *end = start + HDR_SPACE + r->extra_len;
  int rc = -1;
  if (lws_add_http_common_headers(wsi, (unsigned)r->status,
                                  r->ctype[0] ? r->ctype : NULL, clen, &p,
                                  end))
    goto free_buf;
  if (r->close_after && add_header(wsi, "connection", "close", &p, end))
    goto free_buf;
  for (size_t off = 0; off < r->extra_len;) {
    const char *name = r->extra + off;
    const char *value = name + strlen(name) + 1;
    off += strlen(name) + strlen(value) + 2;
    if (add_header(wsi, name, value, &p, end))
      goto free_buf;
  }
  if (lws_finalize_write_http_header(wsi, start, &p, end))
    goto free_buf;
  r->headers_sent = true;
  rc = 0;
free_buf:
  free(buf);
  return rc;
}

/* Sends the next piece of the response. Returns 1 when all is written, 0
 * if more remains (writable requested), -1 on error. */
static int write_body_chunk(struct tern_http_req *r, struct lws *wsi) {
  size_t left = r->file_fd >= 0 ? r->file_left : r->resp_len - r->resp_off;
  if (r->head || left == 0)
    return 1;
  size_t n = left < WRITE_CHUNK ? left : WRITE_CHUNK;
  unsigned char *buf = malloc(LWS_PRE + n);
  if (!buf)
    return -1;
  if (r->file_fd >= 0) {
    ssize_t got = read(r->file_fd, buf + LWS_PRE, n);
    if (got <= 0) { /* the file shrank under us: the length is a promise */
      free(buf);
      return -1;
    }
    n = (size_t)got;
    r->file_left -= n;
  } else {
    memcpy(buf + LWS_PRE, r->resp_body + r->resp_off, n);
    r->resp_off += n;
  }
  left -= n;
  int wr = lws_write(wsi, buf + LWS_PRE, n,
                     left ? LWS_WRITE_HTTP : LWS_WRITE_HTTP_FINAL);
  free(buf);
  if (wr < 0)
    return -1;
  if (!left)
    return 1;
  lws_callback_on_writable(wsi);
  return 0;
}

/* LWS_CALLBACK_HTTP_WRITEABLE. Returns the value for lws (-1 = close). */
static int write_response(struct conn *c, struct lws *wsi) {
  struct tern_http_req *r = c->req;
  if (!r || !r->responded || r->resp_done)
    return 0;
  if (!r->headers_sent) {
    if (write_headers(r, wsi) < 0)
      return -1;
    if (!r->head && (r->file_fd >= 0 ? r->file_left : r->resp_len)) {
      lws_callback_on_writable(wsi); /* body on the next writable */
      return 0;
    }
  }
  int w = write_body_chunk(r, wsi);
  if (w < 0)
    return -1;
  /* Progress resets the clock: only a reader that stalls is cut off. */
  lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)c->srv->lim.idle_timeout_s);
  if (w == 0)
    return 0;
  r->resp_done = true;
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
  if (r->close_after) {
    /* After an early 413 the body may still be arriving: keep reading and
     * dropping it so closing does not reset the connection (an RST can
     * destroy the response before the client reads it). */
    if (r->expect_body && !r->body_done) {
      lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 5);
      return 0;
    }
    return -1;
  }
  conn_drop_req(c);
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- the request cycle ---- */

static const char *req_method(struct lws *wsi) {
  static const struct {
    enum lws_token_indexes tok;
    const char *name;
  } methods[] = {
      {WSI_TOKEN_GET_URI, "GET"},         {WSI_TOKEN_POST_URI, "POST"},
      {WSI_TOKEN_HEAD_URI, "HEAD"},       {WSI_TOKEN_PUT_URI, "PUT"},
      {WSI_TOKEN_PATCH_URI, "PATCH"},     {WSI_TOKEN_DELETE_URI, "DELETE"},
      {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
  };
  for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (lws_hdr_total_length(wsi, methods[i].tok) > 0)
      return methods[i].name;
  return NULL;
}

static void respond_static(struct tern_http_server *s, struct tern_http_req *r) {
  char rel[PATH_MAX];
  int fd;
  size_t size;
  const char *ctype;
  if (!s->web_root ||
      tern_static_relpath(r->path, strlen(r->path), rel, sizeof rel) < 0) {
    tern_http_respond_text(r, 404, "not found");
    return;
  }
  int rc = tern_static_open(s->web_root, rel, &fd, &size, &ctype);
  if (rc == -EISDIR) {
    /* Location is re-encoded: the decoded path may hold any byte, and a
     * raw CR/LF in a header would split the response. */
    char loc[3 * TERN_ROUTE_PATH_MAX + 2];
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)r->path;
         *p && o + 4 < sizeof loc; p++) {
      if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
          (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
        loc[o++] = (char)*p;
      else
        o += (size_t)snprintf(loc + o, 4, "%%%02X", *p);
    }
    loc[o++] = '/';
    loc[o] = '\0';
    tern_http_resp_header(r, "Location", loc);
    tern_http_respond_text(r, 301, "moved to %s", loc);
    return;
  }
  if (rc < 0) {
    tern_http_respond_text(r, 404, "not found");
    return;
  }
  tern_http_resp_header(r, "Cache-Control", "no-cache");
  tern_http_resp_header(r, "X-Content-Type-Options", "nosniff");
  tern_http_respond(r, 200, ctype, NULL, 0);
  /* respond() queued an empty body; switch it to the file. */
  r->file_fd = fd;
  r->file_left = size;
}

/* Runs once the whole request (headers and body) is in: refusals wait for
 * the body too, so the connection stays in step for keep-alive. */
static void dispatch(struct tern_http_server *s, struct conn *c,
                     struct tern_http_req *r) {
  char allow[64];
  r->dispatched = true;
  enum tern_route_result rr = tern_router_find(
      &s->router, r->method, r->path, &r->route, r->match, allow, sizeof allow);
  if (rr == TERN_ROUTE_FOUND) {
    tern_http_handler h = (tern_http_handler)(uintptr_t)r->route->handler;
    h(r, r->route->user);
  } else if (rr == TERN_ROUTE_METHOD_NOT_ALLOWED) {
    r->route = NULL;
    tern_http_resp_header(r, "Allow", allow);
    tern_http_respond_text(r, 405, "method %s not allowed here (allowed: %s)",
                           r->method, allow);
  } else {
    r->route = NULL;
    if (strcmp(r->method, "GET") == 0 || r->head)
      respond_static(s, r);
    else
      tern_http_respond_text(r, 404, "not found");
  }
  /* Still waiting for an asynchronous handler: bound the wait. */
  if (c->req == r && !r->responded)
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
                    (int)s->lim.handler_timeout_s);
}

static int begin_request(struct tern_http_server *s, struct conn *c,
                         struct lws *wsi) {
  conn_drop_req(c); /* a previous transaction is over */
  const char *method = req_method(wsi);
  if (!method) {
    tern_http_write_now(wsi, 501, "method not implemented", true);
    return -1;
  }
  struct tern_http_req *r = tern_http_req_build(c, wsi, method);
  if (!r)
    return -1;
  c->req = r;
  r->head = strcmp(method, "HEAD") == 0;

  char clen[24];
  long long cl = -1;
  if (lws_hdr_copy(wsi, clen, sizeof clen, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
    cl = strtoll(clen, NULL, 10);
  if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
    /* lws 4.1 does not decode chunked request bodies (it never reports
     * the end): ask for a length instead (RFC 9110 §15.5.12). */
    r->dispatched = true;
    r->close_after = true;
    r->expect_body = true;
    tern_http_respond_text(r, 411, "send the body with a Content-Length "
                           "(chunked uploads are not supported)");
    return 0;
  }
  r->expect_body = cl > 0;
  if (cl > 0 && (unsigned long long)cl > s->lim.max_body) {
    /* Refuse before reading: the client (if it sent Expect: 100-continue)
     * never uploads, others get their upload drained and dropped. */
    r->dispatched = true; /* no abort callback for this one */
    r->close_after = true;
    tern_http_respond_text(r, 413, "body larger than %zu bytes", s->lim.max_body);
    return 0;
  }

  if (!r->expect_body)
    dispatch(s, c, r);
  return 0;
}

static int body_chunk(struct tern_http_server *s, struct conn *c,
                      const void *in, size_t len) {
  struct tern_http_req *r = c->req;
  if (!r)
    return 0;
  if (r->responded) { /* draining after an early response */
    r->discarded += len;
    return r->discarded > DISCARD_MAX ? -1 : 0;
  }
  if (r->body_len + len > s->lim.max_body) /* more than Content-Length said */
    return -1;
  if (r->body_len + len + 1 > r->body_cap) {
    size_t cap = r->body_cap ? r->body_cap : 1024;
    while (cap < r->body_len + len + 1)
      cap *= 2;
    if (cap > s->lim.max_body + 1)
      cap = s->lim.max_body + 1;
    uint8_t *nb = realloc(r->body, cap);
    if (!nb)
      return -1;
    r->body = nb;
    r->body_cap = cap;
  }
  memcpy(r->body + r->body_len, in, len);
  r->body_len += len;
  r->body[r->body_len] = '\0';
  return 0;
}

static int body_complete(struct tern_http_server *s, struct conn *c) {
  struct tern_http_req *r = c->req;
  if (!r)
    return 0;
  r->body_done = true;
  if (r->responded)
    return r->resp_done && r->close_after ? -1 : 0;
  if (!r->dispatched)
    dispatch(s, c, r);
  return 0;
}

/* ---- the lws protocol callback ---- */

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason,
                   void *user, void *in, size_t len) {
  struct lws_context *ctx = lws_get_context(wsi);
  struct tern_http_server *s = ctx ? lws_context_user(ctx) : NULL;
  struct conn *c = lws_get_opaque_user_data(wsi);

  switch (reason) {
  case LWS_CALLBACK_FILTER_NETWORK_CONNECTION: {
    const struct lws_filter_network_conn_args *a = user;
    char addr[TERN_HTTP_ADDR_MAX];
    if (!s || s->destroying || !a)
      return -1;
    addr_text((const struct sockaddr *)&a->cli_addr, addr, sizeof addr);
    struct ip_slot *e = ip_find(s, addr);
    if (s->n_conns >= s->lim.max_connections ||
        (e && e->count >= s->lim.max_connections_per_ip)) {
      tern_log_debug(NULL, "http: refusing a connection from %s (limit)", addr);
      return -1;
    }
    return 0;
  }
  case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
    if (!s || !conn_new(s, wsi))
      return -1;
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    if (c)
      conn_free(c);
    return 0;
  case LWS_CALLBACK_HTTP:
    return c ? begin_request(s, c, wsi) : -1;
  case LWS_CALLBACK_HTTP_BODY:
    return c ? body_chunk(s, c, in, len) : -1;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    return c ? body_complete(s, c) : -1;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return c ? write_response(c, wsi) : -1;
  case LWS_CALLBACK_CLOSED_HTTP:
    if (c)
      conn_drop_req(c);
    return 0;
  case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
    if (!c || !in)
      return -1;
    if (strcmp(in, "websocket") != 0) /* e.g. h2c from curl --http2 */
      return tern_http_write_now(wsi, 400, "only HTTP/1.1 and WebSocket "
                                 "upgrades are supported", true) ? -1 : 1;
    return tern_ws_confirm_upgrade(c, wsi);
  case LWS_CALLBACK_ESTABLISHED:
    return c ? tern_ws_established(c, wsi) : -1;
  case LWS_CALLBACK_RECEIVE:
    return c ? tern_ws_receive(c, wsi, in, len) : -1;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return c ? tern_ws_writeable(c, wsi) : -1;
  case LWS_CALLBACK_CLOSED:
    if (c)
      tern_ws_gone(c);
    return 0;
  default:
    return 0;
  }
}

/* lws logs through one process-wide emitter (an lws global, set once here):
 * its errors become our warnings, its warnings our debug lines. */
static void lws_log_emit(int level, const char *line) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    n--;
  if (level & LLL_ERR)
    tern_log_warn(NULL, "lws: %.*s", (int)n, line);
  else
    tern_log_debug(NULL, "lws: %.*s", (int)n, line);
}

void tern_http_limits_default(struct tern_http_limits *lim) {
  lim->max_body = 64 * 1024;
  lim->max_header = 8 * 1024;
  lim->idle_timeout_s = 30;
  lim->handler_timeout_s = 60;
  lim->max_connections = 4096;
  lim->max_connections_per_ip = 256;
}

struct tern_http_server *tern_http_server_create(uv_loop_t *loop,
                                                 const char *host, int port,
                                                 const struct tern_http_limits *lim,
                                                 const char *web_root,
                                                 char *err, size_t errcap) {
  struct tern_http_server *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errcap, "out of memory");
    return NULL;
  }
  s->loop = loop;
  if (lim)
    s->lim = *lim;
  else
    tern_http_limits_default(&s->lim);
  if (s->lim.max_header < 1024 || s->lim.max_header > 65535 ||
      s->lim.max_body < 1 || !s->lim.max_connections ||
      !s->lim.max_connections_per_ip || !s->lim.idle_timeout_s ||
      !s->lim.handler_timeout_s) {
    snprintf(err, errcap, "http: invalid limits");
    goto free_server;
  }
  tern_router_init(&s->router);
  if (web_root) {
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(web_root, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
      snprintf(err, errcap, "WEB_ROOT: \"%s\" is not a directory", web_root);
      goto free_server;
    }
    if (!(s->web_root = strdup(real))) {
      snprintf(err, errcap, "out of memory");
      goto free_server;
    }
  }
  s->ip_buckets = calloc(IP_BUCKETS, sizeof *s->ip_buckets);
  if (!s->ip_buckets || tern_http_capture_header(s, "X-User-Claim") < 0) {
    snprintf(err, errcap, "out of memory");
    goto free_server;
  }

  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);

  /* One protocol serves HTTP and WebSocket: an upgrade without
   * Sec-WebSocket-Protocol binds to protocols[0]. */
  s->protocols[0].name = "tern";
  s->protocols[0].callback = http_cb;
  s->protocols[0].rx_buffer_size = 0;
  /* Silent WebSockets: ping after 30 s idle, drop 15 s later. */
  s->retry.secs_since_valid_ping = 30;
  s->retry.secs_since_valid_hangup = 45;

  void *foreign[1] = {loop};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  char iface[64] = "";
  if (host && *host)
    snprintf(iface, sizeof iface, "%s",
             strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
  info.iface = iface[0] ? iface : NULL;
  info.port = port;
  info.protocols = s->protocols;
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                 LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                 LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                 LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
  if (iface[0] && !strchr(iface, ':'))
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6; /* IPv4 literal */
  info.foreign_loops = foreign;
  info.user = s;
  info.max_http_header_data = (unsigned short)s->lim.max_header;
  info.max_http_header_pool = 256;
  info.keepalive_timeout = (int)s->lim.idle_timeout_s;
  info.timeout_secs = s->lim.idle_timeout_s;
  info.timeout_secs_ah_idle = s->lim.idle_timeout_s < 10 ? s->lim.idle_timeout_s : 10;
  info.retry_and_idle_policy = &s->retry;
  info.fd_limit_per_thread = s->lim.max_connections + 64;
  info.server_string = "tern";

  /* The context and the listening vhost are made separately: when lws 4.1
   * creates a context whose implicit vhost fails to bind, destroying that
   * context unloads the libuv plugin before its handles' close callbacks
   * have run (a crash on the next uv_run). A context without a vhost is
   * destroyed cleanly. */
  info.options |= LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  s->ctx = lws_create_context(&info);
  s->vhost = s->ctx ? lws_create_vhost(s->ctx, &info) : NULL;
  if (!s->vhost || lws_get_vhost_listen_port(s->vhost) <= 0) {
    bool v6 = strchr(iface, ':') != NULL;
    snprintf(err, errcap, "LISTEN: cannot listen on %s%s%s:%d (port in use, "
             "or not an address of this machine?)", v6 ? "[" : "",
             iface[0] ? iface : "*", v6 ? "]" : "", port);
    if (s->ctx) /* its libuv handles close as the caller's loop runs */
      lws_context_destroy(s->ctx);
    goto free_server;
  }
  return s;

free_server:
  for (unsigned i = 0; i < s->n_capture; i++)
    free(s->capture[i]);
  free(s->ip_buckets);
  free(s->web_root);
  tern_router_free(&s->router);
  free(s);
  return NULL;
}

int tern_http_server_port(const struct tern_http_server *s) {
  return s->vhost ? lws_get_vhost_listen_port(s->vhost) : -1;
}

void tern_http_server_destroy(struct tern_http_server *s) {
  if (!s)
    return;
  s->destroying = true;
  /* Closes every wsi now (our WSI_DESTROY handling frees each conn, running
   * abort/closed callbacks); lws's own uv handles close over the next loop
   * iterations. */
  lws_context_destroy(s->ctx);
  while (s->conns) /* anything lws did not report: never leave it dangling */
    conn_free(s->conns);
  for (unsigned i = 0; i < s->n_ws_routes; i++)
    free(s->ws_routes[i].path);
  for (unsigned i = 0; i < s->n_capture; i++)
    free(s->capture[i]);
  free(s->ip_buckets);
  free(s->web_root);
  tern_router_free(&s->router);
  free(s);
}

int tern_http_route(struct tern_http_server *s, const char *method,
                    const char *pattern, tern_http_handler h, void *user) {
  if (!h)
    return -EINVAL;
  return tern_router_add(&s->router, method, pattern, (void *)(uintptr_t)h,
                         user);
}

int tern_http_capture_header(struct tern_http_server *s, const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 100 || strpbrk(name, ": \t\r\n"))
    return -EINVAL;
  if (s->n_capture == TERN_HTTP_MAX_CAPTURE)
    return -ENOSPC;
  char *low = malloc(n + 2);
  if (!low)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    low[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ? name[i] + 32 : name[i]);
  low[n] = ':';
  low[n + 1] = '\0';
  for (unsigned i = 0; i < s->n_capture; i++)
    if (strcmp(s->capture[i], low) == 0) {
      free(low);
      return 0;
    }
  s->capture[s->n_capture++] = low;
  return 0;
}
