/* net/httpc against canned responses from an in-process TCP server on this
 * test's loop: Content-Length, chunked (split into 1-byte writes),
 * end-of-stream framing, malformed and oversized answers, a server that
 * never answers (timeout), connection refused; plus URL parsing and path
 * segment escaping. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/log.h"
#include "net/httpc.h"
#include "test.h"

static uv_loop_t loop;
static uv_tcp_t listener;
static struct sockaddr_storage server_addr;
static const char *canned; /* what the server answers (NULL: never answers) */
static size_t canned_len;
static bool bytewise;      /* one write per byte */
static char request_seen[1024];

struct conn {
  uv_tcp_t tcp;
  char buf[1024];
  size_t len;
  bool answered;
};

static void on_written(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void on_conn_closed(uv_handle_t *h) { free(h->data); }

static void conn_alloc(uv_handle_t *h, size_t s, uv_buf_t *b) {
  struct conn *c = h->data;
  (void)s;
  *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

static void answer(struct conn *c) {
  size_t step = bytewise ? 1 : canned_len;
  for (size_t off = 0; off < canned_len; off += step) {
    uv_write_t *w = malloc(sizeof *w);
    size_t n = canned_len - off < step ? canned_len - off : step;
    uv_buf_t b = uv_buf_init((char *)canned + off, (unsigned)n);
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written);
  }
  /* Close after the writes: the end of the stream frames bodies without
   * Content-Length. */
  uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void conn_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  struct conn *c = s->data;
  (void)b;
  if (n < 0) {
    if (!uv_is_closing((uv_handle_t *)s))
      uv_close((uv_handle_t *)s, on_conn_closed);
    return;
  }
  c->len += (size_t)n;
  c->buf[c->len] = 0;
  if (!c->answered && strstr(c->buf, "\r\n\r\n")) {
    c->answered = true;
    snprintf(request_seen, sizeof request_seen, "%s", c->buf);
    if (canned)
      answer(c);
  }
}

static void on_connection(uv_stream_t *server, int status) {
  if (status < 0)
    return;
  struct conn *c = calloc(1, sizeof *c);
  uv_tcp_init(&loop, &c->tcp);
  c->tcp.data = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0)
    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
  else
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

struct result {
  bool called;
  int err, status;
  char body[256];
  size_t body_len;
  char reason[160];
};

static void on_done(void *user, int err, const struct tern_httpc_resp *r, const char *reason) {
  struct result *res = user;
  res->called = true;
  res->err = err;
  if (r) {
    res->status = r->status;
    res->body_len = r->body_len;
    snprintf(res->body, sizeof res->body, "%.*s", (int)r->body_len, r->body);
  }
  snprintf(res->reason, sizeof res->reason, "%s", reason ? reason : "");
}

static struct result fetch(const char *response, bool one_byte_writes, unsigned timeout_ms) {
  struct result res = {0};
  char reason[160];
  canned = response;
  canned_len = response ? strlen(response) : 0;
  bytewise = one_byte_writes;
  struct tern_httpc *h =
      tern_httpc_request(&loop, (const struct sockaddr *)&server_addr, "127.0.0.1:1", "GET",
                         "/user/a%20b/conversation/ok", NULL, 0, timeout_ms, on_done, &res,
                         reason, sizeof reason);
  if (!h) {
    res.err = -1;
    return res;
  }
  while (!res.called && uv_run(&loop, UV_RUN_ONCE))
    ;
  uv_run(&loop, UV_RUN_NOWAIT); /* let the request's handles close */
  return res;
}

static void test_content_length(void) {
  struct result r = fetch("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes", false, 2000);
  CHECK_EQ_INT(r.err, 0);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(r.body, "yes");
  CHECK(strncmp(request_seen, "GET /user/a%20b/conversation/ok HTTP/1.1\r\n", 42) == 0);
  CHECK(strstr(request_seen, "\r\nHost: 127.0.0.1:1\r\n") != NULL);
}

static void test_chunked(void) {
  const char *resp = "HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "4;ext=1\r\nnot \r\nB\r\nallowed, no\r\n0\r\nX-Trailer: 1\r\n\r\n";
  struct result r = fetch(resp, false, 2000);
  CHECK_EQ_INT(r.err, 0);
  CHECK_EQ_INT(r.status, 403);
  CHECK_EQ_STR(r.body, "not allowed, no");
  r = fetch(resp, true, 5000); /* every boundary split */
  CHECK_EQ_INT(r.err, 0);
  CHECK_EQ_STR(r.body, "not allowed, no");
  CHECK_EQ_INT(r.body_len, 15);
  /* Node's default for res.end('yes') after writeHead */
  r = fetch("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked \r\n\r\n3\r\nyes\r\n0\r\n\r\n", true, 5000);
  CHECK_EQ_INT(r.status, 200);
  CHECK_EQ_STR(r.body, "yes");
}

static void test_bad_chunked(void) {
  struct result r =
      fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nyes\r\n0\r\n\r\n", false, 2000);
  CHECK_EQ_INT(r.err, -EPROTO);
  r = fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nyesX\r\n0\r\n\r\n", false, 2000);
  CHECK_EQ_INT(r.err, -EPROTO);
  r = fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFF\r\nab", false, 2000);
  CHECK_EQ_INT(r.err, -EMSGSIZE);
  r = fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nyes\r\n", false, 2000);
  CHECK_EQ_INT(r.err, -EPIPE); /* closed before the last chunk */
  r = fetch("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 2000);
  CHECK_EQ_INT(r.err, -EPROTO);
}

static void test_end_of_stream_and_errors(void) {
  struct result r = fetch("HTTP/1.0 204 No Content\r\n\r\n", false, 2000);
  CHECK_EQ_INT(r.err, 0);
  CHECK_EQ_INT(r.status, 204);
  CHECK_EQ_INT(r.body_len, 0);
  r = fetch("SMTP ready\r\n\r\n", false, 2000);
  CHECK_EQ_INT(r.err, -EPROTO);
  r = fetch("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", false, 2000);
  CHECK_EQ_INT(r.err, -EMSGSIZE);
  r = fetch(NULL, false, 200); /* never answers */
  CHECK_EQ_INT(r.err, -ETIMEDOUT);
}

static void test_refused(void) {
  struct sockaddr_storage closed = server_addr;
  struct result res = {0};
  char reason[160];
  ((struct sockaddr_in *)&closed)->sin_port = htons(1); /* nothing listens on port 1 */
  struct tern_httpc *h = tern_httpc_request(&loop, (const struct sockaddr *)&closed, "x", "GET",
                                            "/", NULL, 0, 2000, on_done, &res, reason,
                                            sizeof reason);
  if (h)
    while (!res.called && uv_run(&loop, UV_RUN_ONCE))
      ;
  uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(!h || res.err == UV_ECONNREFUSED);
}

static void test_cancel(void) {
  struct result res = {0};
  char reason[160];
  canned = NULL;
  struct tern_httpc *h = tern_httpc_request(&loop, (const struct sockaddr *)&server_addr, "x",
                                            "GET", "/", NULL, 0, 2000, on_done, &res, reason,
                                            sizeof reason);
  REQUIRE(h != NULL);
  uv_run(&loop, UV_RUN_NOWAIT);
  tern_httpc_cancel(h);
  for (int i = 0; i < 5; i++)
    uv_run(&loop, UV_RUN_NOWAIT);
  CHECK(!res.called);
}

static void test_parse_url(void) {
  struct sockaddr_storage a;
  char host[64], path[64], reason[160];
  CHECK_EQ_INT(tern_httpc_parse_url("http://127.0.0.1:8080/api/v1/", &a, host, sizeof host, path,
                                    sizeof path, reason, sizeof reason), 0);
  CHECK_EQ_STR(host, "127.0.0.1:8080");
  CHECK_EQ_STR(path, "/api/v1");
  CHECK_EQ_INT(ntohs(((struct sockaddr_in *)&a)->sin_port), 8080);
  CHECK_EQ_INT(tern_httpc_parse_url("http://[::1]", &a, host, sizeof host, path, sizeof path,
                                    reason, sizeof reason), 0);
  CHECK_EQ_STR(host, "[::1]");
  CHECK_EQ_STR(path, "");
  CHECK_EQ_INT(a.ss_family, AF_INET6);
  CHECK_EQ_INT(ntohs(((struct sockaddr_in6 *)&a)->sin6_port), 80);
  CHECK_EQ_INT(tern_httpc_parse_url("https://127.0.0.1", &a, host, sizeof host, path, sizeof path,
                                    reason, sizeof reason), -EINVAL);
  CHECK_EQ_INT(tern_httpc_parse_url("http://127.0.0.1/x", &a, host, sizeof host, NULL, 0, reason,
                                    sizeof reason), -EINVAL);
  CHECK_EQ_INT(tern_httpc_parse_url("http://127.0.0.1:/", &a, host, sizeof host, path, sizeof path,
                                    reason, sizeof reason), -EINVAL);
  CHECK_EQ_INT(tern_httpc_parse_url("http://127.0.0.1?q", &a, host, sizeof host, path, sizeof path,
                                    reason, sizeof reason), -EINVAL);
  CHECK_EQ_INT(tern_httpc_parse_url("http://127.0.0.1:80x", &a, host, sizeof host, path,
                                    sizeof path, reason, sizeof reason), -EINVAL);
}

static void test_escape(void) {
  char out[32];
  CHECK_EQ_INT(tern_httpc_escape_segment("a-Z.0_~", out, sizeof out), 7);
  CHECK_EQ_STR(out, "a-Z.0_~");
  CHECK_EQ_INT(tern_httpc_escape_segment("a b/%\xc3\xa9?#", out, sizeof out), 23);
  CHECK_EQ_STR(out, "a%20b%2F%25%C3%A9%3F%23");
  CHECK_EQ_INT(tern_httpc_escape_segment("", out, sizeof out), 0);
  CHECK_EQ_STR(out, "");
  CHECK_EQ_INT(tern_httpc_escape_segment("abc", out, 3), -ENOSPC);
  CHECK_EQ_INT(tern_httpc_escape_segment("a/", out, 4), -ENOSPC);
  CHECK_EQ_INT(tern_httpc_escape_segment("a/", out, 5), 4);
}

static void close_walk(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, h == (uv_handle_t *)&listener ? NULL : on_conn_closed);
}

int main(void) {
  struct sockaddr_in a;
  int len = sizeof server_addr;
  tern_log_set_level(TERN_LOG_WARN);
  uv_loop_init(&loop);
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(&loop, &listener);
  if (uv_tcp_bind(&listener, (const struct sockaddr *)&a, 0) < 0 ||
      uv_listen((uv_stream_t *)&listener, 8, on_connection) < 0 ||
      uv_tcp_getsockname(&listener, (struct sockaddr *)&server_addr, &len) < 0) {
    fprintf(stderr, "cannot listen\n");
    return 1;
  }
  RUN(test_content_length);
  RUN(test_chunked);
  RUN(test_bad_chunked);
  RUN(test_end_of_stream_and_errors);
  RUN(test_refused);
  RUN(test_cancel);
  RUN(test_parse_url);
  RUN(test_escape);
  uv_walk(&loop, close_walk, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return TEST_RESULT();
}
