#include "net/httpc.h"

#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tern_httpc {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  uv_timer_t timer;
  int open_handles; /* freed when both tcp and timer have closed */
  bool done, cancelled;
  tern_httpc_cb cb;
  void *user;
  unsigned timeout_ms;
  char *req;
  size_t req_len;
  char *buf; /* response bytes; always one spare byte for a NUL */
  size_t len, cap;
  size_t head_len;        /* 0 until the blank line was seen */
  long long content_length; /* -1: until the end of the stream */
  int status;
  /* Chunked bodies (RFC 9112 §7.1) are decoded in place: the decoded body
   * ends at out, unparsed bytes start at raw (out <= raw <= len). */
  bool chunked;
  enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER } cstate;
  size_t out, raw, chunk_left;
};

static void on_handle_closed(uv_handle_t *handle) {
  struct tern_httpc *h = handle->data;
  if (--h->open_handles > 0)
    return;
  free(h->req);
  free(h->buf);
  free(h);
}

/* Reports once, then lets both handles go; pending connect/write callbacks
 * run with UV_ECANCELED before the close callbacks, and see done. */
static void finish(struct tern_httpc *h, int err, const struct tern_httpc_resp *r, const char *reason) {
  if (h->done)
    return;
  h->done = true;
  uv_timer_stop(&h->timer);
  if (!h->cancelled)
    h->cb(h->user, err, r, reason);
  uv_close((uv_handle_t *)&h->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&h->timer, on_handle_closed);
}

static void fail_uv(struct tern_httpc *h, const char *what, int err) {
  char reason[160];
  snprintf(reason, sizeof reason, "%s: %s", what, uv_strerror(err));
  finish(h, err, NULL, reason);
}

static void on_timeout(uv_timer_t *t) {
  struct tern_httpc *h = t->data;
  char reason[64];
  snprintf(reason, sizeof reason, "no complete response within %u ms", h->timeout_ms);
  finish(h, -ETIMEDOUT, NULL, reason);
}

static void complete(struct tern_httpc *h, size_t body_len) {
  struct tern_httpc_resp r = {.status = h->status, .body = h->buf + h->head_len, .body_len = body_len};
  h->buf[h->head_len + body_len] = 0; /* cap > len always holds, see on_alloc */
  finish(h, 0, &r, NULL);
}

/* Status line and the two headers that frame the body. The head is
 * NUL-free ASCII by the time we get here (checked by the caller). */
static int parse_head(struct tern_httpc *h, const char **reason) {
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
      } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
        size_t vlen = (size_t)((eol ? eol : end) - v);
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
          vlen--;
        if (vlen == 7 && strncasecmp(v, "chunked", 7) == 0) {
          h->chunked = true;
        } else if (!(vlen == 8 && strncasecmp(v, "identity", 8) == 0)) {
          *reason = "unsupported Transfer-Encoding (only chunked)";
          return -EPROTO;
        }
      }
    }
    p = eol ? eol + 1 : NULL; /* at '\n' */
  }
  if (h->content_length > TERN_HTTPC_MAX_BODY) {
    *reason = "response body larger than 1 MiB";
    return -EMSGSIZE;
  }
  return 0;
}

/* Decodes what has arrived of a chunked body; 0 = need more (or done). */
static int decode_chunks(struct tern_httpc *h, const char **reason) {
  for (;;) {
    char *p = h->buf + h->raw;
    size_t avail = h->len - h->raw;
    char *eol;
    switch (h->cstate) {
    case CH_SIZE:
    case CH_TRAILER:
      eol = memmem(p, avail, "\r\n", 2);
      if (!eol) {
        if (avail > 1024) {
          *reason = "malformed chunked body (line too long)";
          return -EPROTO;
        }
        return 0;
      }
      if (h->cstate == CH_TRAILER) {
        h->raw += (size_t)(eol - p) + 2;
        if (eol == p) { /* the blank line: the end */
          complete(h, h->out - h->head_len);
          return 0;
        }
        continue;
      }
      {
        size_t size = 0, digits = 0;
        for (char *c = p; c < eol && *c != ';' && *c != ' ' && *c != '\t'; c++, digits++) {
          int d = *c >= '0' && *c <= '9'   ? *c - '0'
                  : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
                  : *c >= 'A' && *c <= 'F' ? *c - 'A' + 10
                                           : -1;
          if (d < 0 || digits >= 8) {
            *reason = "malformed chunk size";
            return -EPROTO;
          }
          size = size * 16 + (size_t)d;
        }
        if (!digits) {
          *reason = "malformed chunk size";
          return -EPROTO;
        }
        if (size > TERN_HTTPC_MAX_BODY - (h->out - h->head_len)) {
          *reason = "response body larger than 1 MiB";
          return -EMSGSIZE;
        }
        h->raw += (size_t)(eol - p) + 2;
        h->chunk_left = size;
        h->cstate = size ? CH_DATA : CH_TRAILER;
      }
      continue;
    case CH_DATA: {
      size_t n = avail < h->chunk_left ? avail : h->chunk_left;
      memmove(h->buf + h->out, p, n);
      h->out += n;
      h->raw += n;
      h->chunk_left -= n;
      if (h->chunk_left)
        return 0;
      h->cstate = CH_DATA_END;
      continue;
    }
    case CH_DATA_END:
      if (avail < 2)
        return 0;
      if (p[0] != '\r' || p[1] != '\n') {
        *reason = "malformed chunked body";
        return -EPROTO;
      }
      h->raw += 2;
      h->cstate = CH_SIZE;
      continue;
    }
  }
}

static void try_complete(struct tern_httpc *h) {
  const char *reason = NULL;
  if (!h->head_len) {
    char *blank = memmem(h->buf, h->len, "\r\n\r\n", 4);
    if (!blank) {
      if (h->len >= TERN_HTTPC_MAX_HEAD)
        finish(h, -EMSGSIZE, NULL, "response head larger than 16 KiB");
      return;
    }
    h->head_len = (size_t)(blank - h->buf) + 4;
    if (h->head_len > TERN_HTTPC_MAX_HEAD || memchr(h->buf, 0, h->head_len)) {
      finish(h, -EPROTO, NULL, "malformed response head");
      return;
    }
    int rc = parse_head(h, &reason);
    if (rc < 0) {
      finish(h, rc, NULL, reason);
      return;
    }
    h->out = h->raw = h->head_len;
  }
  if (h->chunked) {
    int rc = decode_chunks(h, &reason);
    if (rc < 0) {
      finish(h, rc, NULL, reason);
    } else if (!h->done) {
      /* Drop the framing already parsed so it does not count against the
       * buffer's bound. */
      memmove(h->buf + h->out, h->buf + h->raw, h->len - h->raw);
      h->len -= h->raw - h->out;
      h->raw = h->out;
    }
    return;
  }
  if (h->content_length >= 0 && h->len - h->head_len >= (size_t)h->content_length)
    complete(h, (size_t)h->content_length);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *out) {
  struct tern_httpc *h = handle->data;
  const size_t limit = TERN_HTTPC_MAX_HEAD + TERN_HTTPC_MAX_BODY + 1;
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
  struct tern_httpc *h = s->data;
  (void)b;
  if (h->done)
    return;
  if (nread == UV_ENOBUFS) {
    finish(h, -EMSGSIZE, NULL, "response larger than the 1 MiB limit");
    return;
  }
  if (nread == UV_EOF) {
    if (h->head_len && h->content_length < 0 && !h->chunked)
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
  if (!h->done && h->len + 1 >= TERN_HTTPC_MAX_HEAD + TERN_HTTPC_MAX_BODY + 1)
    finish(h, -EMSGSIZE, NULL, "response larger than the 1 MiB limit");
}

static void on_write(uv_write_t *w, int status) {
  struct tern_httpc *h = w->data;
  if (!h->done && status < 0)
    fail_uv(h, "write", status);
}

static void on_connect(uv_connect_t *c, int status) {
  struct tern_httpc *h = c->data;
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

struct tern_httpc *tern_httpc_request(uv_loop_t *loop, const struct sockaddr *addr, const char *host,
                                const char *method, const char *path, const char *body,
                                size_t body_len, unsigned timeout_ms, tern_httpc_cb cb, void *user,
                                char *reason, size_t reason_cap) {
  struct tern_httpc *h = calloc(1, sizeof *h);
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

void tern_httpc_cancel(struct tern_httpc *h) {
  if (!h || h->done)
    return;
  h->cancelled = true;
  finish(h, -ECANCELED, NULL, NULL);
}

int tern_httpc_parse_url(const char *url, struct sockaddr_storage *addr, char *host_hdr,
                         size_t host_cap, char *path, size_t path_cap, char *reason,
                         size_t reason_cap) {
  char host[256], port[8] = "80";
  const char *p, *hend, *aend;
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;

  if (strncmp(url, "http://", 7) != 0) {
    snprintf(reason, reason_cap, "URL must start with http:// (got \"%s\")", url);
    return -EINVAL;
  }
  p = url + 7;
  aend = p + strcspn(p, "/?#");
  if (path) {
    size_t pl = strlen(aend);
    while (pl > 0 && aend[pl - 1] == '/')
      pl--;
    if (*aend && *aend != '/') {
      snprintf(reason, reason_cap, "URL takes no query or fragment: \"%s\"", url);
      return -EINVAL;
    }
    if (pl >= path_cap) {
      snprintf(reason, reason_cap, "URL path too long: \"%s\"", url);
      return -EINVAL;
    }
    memcpy(path, aend, pl);
    path[pl] = 0;
  } else if (*aend && strcmp(aend, "/") != 0) {
    snprintf(reason, reason_cap, "URL takes no path here: \"%s\"", url);
    return -EINVAL;
  }
  if (*p == '[') {
    hend = memchr(p, ']', (size_t)(aend - p));
    if (!hend) {
      snprintf(reason, reason_cap, "URL: unterminated [IPv6] host");
      return -EINVAL;
    }
    snprintf(host, sizeof host, "%.*s", (int)(hend - p - 1), p + 1);
    hend++;
  } else {
    hend = p + strcspn(p, ":/?#");
    snprintf(host, sizeof host, "%.*s", (int)(hend - p), p);
  }
  if (*hend == ':') {
    size_t pl = (size_t)(aend - hend - 1);
    if (pl == 0 || pl >= sizeof port || strspn(hend + 1, "0123456789") != pl) {
      snprintf(reason, reason_cap, "URL: bad port in \"%s\"", url);
      return -EINVAL;
    }
    snprintf(port, sizeof port, "%.*s", (int)pl, hend + 1);
  } else if (hend != aend) {
    snprintf(reason, reason_cap, "URL: bad host in \"%s\"", url);
    return -EINVAL;
  }
  if (!host[0] || (size_t)(aend - p) >= host_cap) {
    snprintf(reason, reason_cap, "URL: bad host in \"%s\"", url);
    return -EINVAL;
  }
  int rc = getaddrinfo(host, port, &hints, &res);
  if (rc || !res) {
    snprintf(reason, reason_cap, "URL: cannot resolve \"%s\": %s", host, gai_strerror(rc));
    return -EINVAL;
  }
  memcpy(addr, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  snprintf(host_hdr, host_cap, "%.*s", (int)(aend - p), p);
  return 0;
}

int tern_httpc_escape_segment(const char *s, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    bool plain = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_' || *c == '~';
    size_t need = plain ? 1 : 3;
    if (n + need >= cap)
      return -ENOSPC;
    if (plain) {
      out[n++] = (char)*c;
    } else {
      out[n++] = '%';
      out[n++] = hex[*c >> 4];
      out[n++] = hex[*c & 15];
    }
  }
  if (n >= cap)
    return -ENOSPC;
  out[n] = 0;
  return (int)n;
}
