#include "http.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct bc_http {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  uv_timer_t timer;
  int open_handles; /* freed when both tcp and timer have closed */
  bool done, cancelled;
  bc_http_cb cb;
  void *user;
  unsigned timeout_ms;
  char *req;
  size_t req_len;
  char *buf; /* response bytes; always one spare byte for a NUL */
  size_t len, cap;
  size_t head_len;        /* 0 until the blank line was seen */
  long long content_length; /* -1: until the end of the stream */
  int status;
};

static void on_handle_closed(uv_handle_t *handle) {
  struct bc_http *h = handle->data;
  if (--h->open_handles > 0)
    return;
  free(h->req);
  free(h->buf);
  free(h);
}

/* Reports once, then lets both handles go; pending connect/write callbacks
 * run with UV_ECANCELED before the close callbacks, and see done. */
static void finish(struct bc_http *h, int err, const struct bc_http_resp *r, const char *reason) {
  if (h->done)
    return;
  h->done = true;
  uv_timer_stop(&h->timer);
  if (!h->cancelled)
    h->cb(h->user, err, r, reason);
  uv_close((uv_handle_t *)&h->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&h->timer, on_handle_closed);
}

static void fail_uv(struct bc_http *h, const char *what, int err) {
  char reason[160];
  snprintf(reason, sizeof reason, "%s: %s", what, uv_strerror(err));
  finish(h, err, NULL, reason);
}

static void on_timeout(uv_timer_t *t) {
  struct bc_http *h = t->data;
  char reason[64];
  snprintf(reason, sizeof reason, "no complete response within %u ms", h->timeout_ms);
  finish(h, -ETIMEDOUT, NULL, reason);
}

static void complete(struct bc_http *h, size_t body_len) {
  struct bc_http_resp r = {.status = h->status, .body = h->buf + h->head_len, .body_len = body_len};
  h->buf[h->head_len + body_len] = 0; /* cap > len always holds, see on_alloc */
  finish(h, 0, &r, NULL);
}

/* Status line and the two headers that frame the body. The head is
 * NUL-free ASCII by the time we get here (checked by the caller). */
static int parse_head(struct bc_http *h, const char **reason) {
  const char *p = h->buf, *end = h->buf + h->head_len - 2;
  int st;
  if (h->head_len < 14 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
      sscanf(p + 9, "%3d", &st) != 1 || st < 100 || st > 599) {
    *reason = "malformed status line";
    return -EPROTO;
  }
  h->status = st;
  h->content_length = -1;
  p = memchr(p, '\n', (size_t)(end - p));
  while (p && ++p < end) {
    const char *eol = memchr(p, '\r', (size_t)(end - p));
    const char *colon = memchr(p, ':', (size_t)((eol ? eol : end) - p));
    size_t nlen = colon ? (size_t)(colon - p) : 0;
    if (colon) {
      const char *v = colon + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
        char *e;
        errno = 0;
        long long cl = strtoll(v, &e, 10);
        if (errno || e == v || cl < 0) {
          *reason = "bad Content-Length";
          return -EPROTO;
        }
        h->content_length = cl;
      } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0 &&
                 strncasecmp(v, "identity", 8) != 0) {
        *reason = "chunked responses are not supported";
        return -EPROTO;
      }
    }
    p = eol ? eol + 1 : NULL; /* at '\n' */
  }
  if (h->content_length > BC_HTTP_MAX_BODY) {
    *reason = "response body larger than 1 MiB";
    return -EMSGSIZE;
  }
  return 0;
}

static void try_complete(struct bc_http *h) {
  const char *reason = NULL;
  if (!h->head_len) {
    char *blank = memmem(h->buf, h->len, "\r\n\r\n", 4);
    if (!blank) {
      if (h->len >= BC_HTTP_MAX_HEAD)
        finish(h, -EMSGSIZE, NULL, "response head larger than 16 KiB");
      return;
    }
    h->head_len = (size_t)(blank - h->buf) + 4;
    if (h->head_len > BC_HTTP_MAX_HEAD || memchr(h->buf, 0, h->head_len)) {
      finish(h, -EPROTO, NULL, "malformed response head");
      return;
    }
    int rc = parse_head(h, &reason);
    if (rc < 0) {
      finish(h, rc, NULL, reason);
      return;
    }
  }
  if (h->content_length >= 0 && h->len - h->head_len >= (size_t)h->content_length)
    complete(h, (size_t)h->content_length);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *out) {
  struct bc_http *h = handle->data;
  const size_t limit = BC_HTTP_MAX_HEAD + BC_HTTP_MAX_BODY + 1;
  (void)suggested;
  if (h->cap - h->len < 4096 && h->cap < limit) {
    size_t ncap = h->cap * 2 < limit ? h->cap * 2 : limit;
    char *n = realloc(h->buf, ncap);
    if (n) {
      h->buf = n;
      h->cap = ncap;
    }
  }
  /* Keep one byte spare for the terminating NUL. */
  *out = uv_buf_init(h->buf + h->len, (unsigned)(h->cap - h->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
  struct bc_http *h = s->data;
  (void)b;
  if (h->done)
    return;
  if (nread == UV_ENOBUFS) {
    finish(h, -EMSGSIZE, NULL, "response larger than the 1 MiB limit");
    return;
  }
  if (nread == UV_EOF) {
    if (h->head_len && h->content_length < 0)
      complete(h, h->len - h->head_len);
    else
      finish(h, -EPIPE, NULL, "server closed the connection before the full response");
    return;
  }
  if (nread < 0) {
    fail_uv(h, "read", (int)nread);
    return;
  }
  h->len += (size_t)nread;
  try_complete(h);
  if (!h->done && h->len + 1 >= BC_HTTP_MAX_HEAD + BC_HTTP_MAX_BODY + 1)
    finish(h, -EMSGSIZE, NULL, "response larger than the 1 MiB limit");
}

static void on_write(uv_write_t *w, int status) {
  struct bc_http *h = w->data;
  if (!h->done && status < 0)
    fail_uv(h, "write", status);
}

static void on_connect(uv_connect_t *c, int status) {
  struct bc_http *h = c->data;
  int rc;
  if (h->done)
    return;
  if (status < 0) {
    fail_uv(h, "connect", status);
    return;
  }
  uv_tcp_nodelay(&h->tcp, 1);
  uv_buf_t b = uv_buf_init(h->req, (unsigned)h->req_len);
  h->write.data = h;
  if ((rc = uv_write(&h->write, (uv_stream_t *)&h->tcp, &b, 1, on_write)) < 0 ||
      (rc = uv_read_start((uv_stream_t *)&h->tcp, on_alloc, on_read)) < 0)
    fail_uv(h, "send", rc);
}

struct bc_http *bc_http_request(uv_loop_t *loop, const struct sockaddr *addr, const char *host,
                                const char *method, const char *path, const char *body,
                                size_t body_len, unsigned timeout_ms, bc_http_cb cb, void *user,
                                char *reason, size_t reason_cap) {
  struct bc_http *h = calloc(1, sizeof *h);
  char head[1024];
  int n, rc;
  if (!h)
    goto err_oom;
  bool framed = body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
  n = snprintf(head, sizeof head,
               "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\nAccept: */*\r\n%s", method,
               path, host, body ? "Content-Type: application/json\r\n" : "");
  if (framed && n > 0 && (size_t)n < sizeof head)
    n += snprintf(head + n, sizeof head - (size_t)n, "Content-Length: %zu\r\n", body ? body_len : 0);
  if (n < 0 || (size_t)n + 2 >= sizeof head) {
    snprintf(reason, reason_cap, "request line too long");
    free(h);
    return NULL;
  }
  memcpy(head + n, "\r\n", 3);
  n += 2;
  h->req_len = (size_t)n + (body ? body_len : 0);
  h->cap = 4096;
  if (!(h->req = malloc(h->req_len)) || !(h->buf = malloc(h->cap))) {
    free(h->req);
    free(h);
    goto err_oom;
  }
  memcpy(h->req, head, (size_t)n);
  if (body)
    memcpy(h->req + n, body, body_len);
  h->cb = cb;
  h->user = user;
  h->timeout_ms = timeout_ms;
  h->content_length = -1;
  uv_tcp_init(loop, &h->tcp);
  uv_timer_init(loop, &h->timer);
  h->open_handles = 2;
  h->tcp.data = h->timer.data = h->connect.data = h;
  uv_timer_start(&h->timer, on_timeout, timeout_ms, 0);
  if ((rc = uv_tcp_connect(&h->connect, &h->tcp, addr, on_connect)) < 0) {
    snprintf(reason, reason_cap, "connect: %s", uv_strerror(rc));
    h->cancelled = true; /* report through the return value, not the callback */
    finish(h, rc, NULL, NULL);
    return NULL;
  }
  return h;

err_oom:
  snprintf(reason, reason_cap, "out of memory");
  return NULL;
}

void bc_http_cancel(struct bc_http *h) {
  if (!h || h->done)
    return;
  h->cancelled = true;
  finish(h, -ECANCELED, NULL, NULL);
}

int bc_http_parse_url(const char *url, struct sockaddr_storage *addr, char *host_hdr,
                      size_t host_cap, char *reason, size_t reason_cap) {
  char host[256], port[8] = "80";
  const char *p, *hend, *aend;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;

  if (strncmp(url, "http://", 7) != 0) {
    snprintf(reason, reason_cap, "--url must start with http:// (got \"%s\")", url);
    return -EINVAL;
  }
  p = url + 7;
  aend = p + strcspn(p, "/");
  if (*aend && strcmp(aend, "/") != 0) {
    snprintf(reason, reason_cap, "--url takes no path (the example is --example): \"%s\"", url);
    return -EINVAL;
  }
  if (*p == '[') {
    hend = memchr(p, ']', (size_t)(aend - p));
    if (!hend) {
      snprintf(reason, reason_cap, "--url: unterminated [IPv6] host");
      return -EINVAL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(hend - p - 1), p + 1);
    hend++;
  } else {
    hend = p + strcspn(p, ":/");
    snprintf(host, sizeof host, "%.*s", (int)(hend - p), p);
  }
  if (*hend == ':') {
    size_t pl = (size_t)(aend - hend - 1);
    if (pl == 0 || pl >= sizeof port || strspn(hend + 1, "0123456789") != pl) {
      snprintf(reason, reason_cap, "--url: bad port in \"%s\"", url);
      return -EINVAL;
    }
    snprintf(port, sizeof port, "%.*s", (int)pl, hend + 1);
  }
  if (!host[0] || (size_t)(aend - p) >= host_cap) {
    snprintf(reason, reason_cap, "--url: bad host in \"%s\"", url);
    return -EINVAL;
  }
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc || !res) {
    snprintf(reason, reason_cap, "--url: cannot resolve \"%s\": %s", host, gai_strerror(rc));
    return -EINVAL;
  }
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  snprintf(host_hdr, host_cap, "%.*s", (int)(aend - p), p);
  return 0;
}
