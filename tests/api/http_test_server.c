/* A server exercising http/server.h for tests/api/http_smoke.sh: routes that
 * echo, answer late, show what the request carried, and a WebSocket echo.
 * Usage: http_test_server PORT WEB_ROOT   (listens on 127.0.0.1:PORT;
 * max body 65536, idle timeout 2 s, handler timeout 3 s; SIGTERM/SIGINT
 * shut it down cleanly, exit 0 once the loop closes). */
#include "core/log.h"
#include "http/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void echo(struct tern_http_req *r, void *u) {
  (void)u;
  size_t len;
  const uint8_t *b = tern_http_body(r, &len);
  const char *ct = tern_http_header(r, "content-type");
  tern_http_respond(r, 200, ct ? ct : "application/octet-stream", b, len);
}

static void show(struct tern_http_req *r, void *u) {
  (void)u;
  json_t *o = json_object();
  const char *x = tern_http_query(r, "x"), *id = tern_http_param(r, "id");
  const char *claim = tern_http_header(r, "X-User-Claim");
  const char *ua = tern_http_header(r, "user-agent");
  json_object_set_new(o, "method", json_string(tern_http_req_method(r)));
  json_object_set_new(o, "path", json_string(tern_http_req_path(r)));
  json_object_set_new(o, "x", x ? json_string(x) : json_null());
  json_object_set_new(o, "id", id ? json_string(id) : json_null());
  json_object_set_new(o, "claim", claim ? json_string(claim) : json_null());
  json_object_set_new(o, "ua", ua ? json_string(ua) : json_null());
  json_object_set_new(o, "remote", json_string(tern_http_remote_addr(r)));
  json_object_set_new(o, "loopback", json_boolean(tern_http_req_is_loopback(r)));
  tern_http_respond_json(r, 200, o);
}

/* An asynchronous handler: answers after ?ms= milliseconds from a timer. */
struct late {
  uv_timer_t timer;
  struct tern_http_req *req;
};

static void late_closed(uv_handle_t *h) { free(h->data); }

static void late_fire(uv_timer_t *t) {
  struct late *l = t->data;
  tern_http_respond_text(l->req, 200, "late");
  uv_close((uv_handle_t *)&l->timer, late_closed);
}

static void late_abort(struct tern_http_req *r, void *u) {
  (void)r;
  struct late *l = u;
  tern_log_info(NULL, "test: late request aborted");
  uv_timer_stop(&l->timer);
  uv_close((uv_handle_t *)&l->timer, late_closed);
}

static void late(struct tern_http_req *r, void *u) {
  uv_loop_t *loop = u;
  const char *ms = tern_http_query(r, "ms");
  struct late *l = calloc(1, sizeof *l);
  if (!l) {
    tern_http_respond_text(r, 500, "oom");
    return;
  }
  l->req = r;
  l->timer.data = l;
  uv_timer_init(loop, &l->timer);
  uv_timer_start(&l->timer, late_fire, ms ? strtoul(ms, NULL, 10) : 100, 0);
  tern_http_req_on_abort(r, late_abort, l);
}

static int ws_accept(const struct tern_http_req *r, void *u, char *reason,
                     size_t cap) {
  (void)u;
  if (tern_http_query(r, "deny")) {
    snprintf(reason, cap, "denied by the accept hook");
    return 403;
  }
  return 0;
}

static void ws_open(struct tern_ws *ws, const struct tern_http_req *r,
                    void *u) {
  (void)u;
  const char *hello = tern_http_query(r, "hello");
  if (hello)
    tern_ws_send_text(ws, hello, strlen(hello));
}

static void ws_text(struct tern_ws *ws, const char *msg, size_t len, void *u) {
  (void)u;
  if (strcmp(msg, "close") == 0) {
    tern_ws_send_text(ws, "closing", 7);
    tern_ws_close(ws, 4000, "bye now");
    return;
  }
  if (strcmp(msg, "big") == 0) {
    size_t n = 200000;
    char *b = malloc(n);
    if (b) {
      memset(b, 'b', n);
      tern_ws_send_text(ws, b, n);
      free(b);
    }
    return;
  }
  tern_ws_send_text(ws, msg, len);
}

static void ws_closed(struct tern_ws *ws, void *u) {
  (void)ws;
  (void)u;
  tern_log_info(NULL, "test: ws closed");
}

static struct tern_http_server *g_http; /* test program only */
static uv_signal_t sig_term, sig_int;

static void on_signal(uv_signal_t *h, int signum) {
  (void)h;
  tern_log_info(NULL, "test: signal %d, shutting down", signum);
  uv_close((uv_handle_t *)&sig_term, NULL);
  uv_close((uv_handle_t *)&sig_int, NULL);
  tern_http_server_destroy(g_http);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT WEB_ROOT\n", argv[0]);
    return 2;
  }
  static uv_loop_t loop;
  char err[512];
  uv_loop_init(&loop);
  struct tern_http_limits lim;
  tern_http_limits_default(&lim);
  lim.idle_timeout_s = 2;        /* short, so the smoke test sees timeouts */
  lim.handler_timeout_s = 3;
  lim.max_connections_per_ip = 20;
  g_http = tern_http_server_create(&loop, "127.0.0.1", atoi(argv[1]), &lim,
                                   argv[2], err, sizeof err);
  if (!g_http) {
    fprintf(stderr, "%s\n", err);
    return 2;
  }
  static const struct tern_ws_ops ops = {ws_accept, ws_open, ws_text,
                                         ws_closed};
  if (tern_http_route(g_http, "GET", "/healthz", show, NULL) ||
      tern_http_route(g_http, "POST", "/echo", echo, NULL) ||
      tern_http_route(g_http, "GET", "/show/:id", show, NULL) ||
      tern_http_route(g_http, "DELETE", "/show/:id", show, NULL) ||
      tern_http_route(g_http, "GET", "/late", late, &loop) ||
      tern_http_ws_route(g_http, "/ws", &ops, NULL)) {
    fprintf(stderr, "route setup failed\n");
    return 2;
  }
  uv_signal_init(&loop, &sig_term);
  uv_signal_init(&loop, &sig_int);
  uv_signal_start(&sig_term, on_signal, SIGTERM);
  uv_signal_start(&sig_int, on_signal, SIGINT);
  tern_log_info(NULL, "test server on 127.0.0.1:%d",
                tern_http_server_port(g_http));
  uv_run(&loop, UV_RUN_DEFAULT);
  int rc = uv_loop_close(&loop);
  tern_log_info(NULL, "test: bye (loop close %d)", rc);
  return rc < 0 ? 1 : 0;
}
