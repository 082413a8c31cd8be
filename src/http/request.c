/* http/request.c — the request object: built from lws's parsed headers,
 * read by handlers, answered with tern_http_respond*().
 *
 * Everything a handler may read is copied out of lws's header table at
 * build time: lws releases that table once the request is dispatched, and
 * asynchronous handlers read the request later.
 */
#include "http/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Request line, pseudo and client-only tokens: not request headers. */
static bool skip_token(int t) {
  switch (t) {
  case WSI_TOKEN_GET_URI: case WSI_TOKEN_POST_URI: case WSI_TOKEN_OPTIONS_URI:
  case WSI_TOKEN_PUT_URI: case WSI_TOKEN_PATCH_URI: case WSI_TOKEN_DELETE_URI:
  case WSI_TOKEN_HEAD_URI: case WSI_TOKEN_CONNECT: case WSI_TOKEN_HTTP:
  case WSI_TOKEN_HTTP1_0: case WSI_TOKEN_HTTP_URI_ARGS:
  case WSI_TOKEN_HTTP_COLON_AUTHORITY: case WSI_TOKEN_HTTP_COLON_METHOD:
  case WSI_TOKEN_HTTP_COLON_PATH: case WSI_TOKEN_HTTP_COLON_SCHEME:
  case WSI_TOKEN_HTTP_COLON_STATUS: case WSI_TOKEN_COLON_PROTOCOL:
    return true;
  default:
    return t >= _WSI_TOKEN_CLIENT_SENT_PROTOCOLS;
  }
}

static enum lws_token_indexes method_token(const char *m) {
  if (!strcmp(m, "POST")) return WSI_TOKEN_POST_URI;
  if (!strcmp(m, "HEAD")) return WSI_TOKEN_HEAD_URI;
  if (!strcmp(m, "PUT")) return WSI_TOKEN_PUT_URI;
  if (!strcmp(m, "PATCH")) return WSI_TOKEN_PATCH_URI;
  if (!strcmp(m, "DELETE")) return WSI_TOKEN_DELETE_URI;
  if (!strcmp(m, "OPTIONS")) return WSI_TOKEN_OPTIONS_URI;
  return WSI_TOKEN_GET_URI;
}

static char *copy_token(struct lws *wsi, enum lws_token_indexes t) {
  int len = lws_hdr_total_length(wsi, t);
  if (len <= 0)
    return NULL;
  char *v = malloc((size_t)len + 1);
  if (v && lws_hdr_copy(wsi, v, len + 1, t) < 0) {
    free(v);
    return NULL;
  }
  return v;
}

static int push_kv(struct kv **arr, unsigned *n, char *name, char *value) {
  struct kv *a = realloc(*arr, (*n + 1) * sizeof **arr);
  if (!a)
    return -ENOMEM;
  *arr = a;
  a[*n].name = name;
  a[*n].value = value;
  (*n)++;
  return 0;
}

struct tern_http_req *tern_http_req_build(struct conn *c, struct lws *wsi,
                                          const char *method) {
  struct tern_http_server *s = c->srv;
  struct tern_http_req *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->conn = c;
  r->file_fd = -1;
  snprintf(r->method, sizeof r->method, "%s", method);
  snprintf(r->addr, sizeof r->addr, "%s", c->addr);
  r->match = malloc(sizeof *r->match);
  int plen = lws_hdr_total_length(wsi, method_token(method));
  r->path = copy_token(wsi, method_token(method));
  if (!r->match || !r->path)
    goto free_req;
  /* A %00 in the URL decodes to a NUL: such a path names nothing. */
  if ((int)strlen(r->path) != plen)
    r->path[0] = '\0';

  char frag[2048];
  for (int i = 0;; i++) {
    int n = lws_hdr_copy_fragment(wsi, frag, sizeof frag,
                                  WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n <= 0)
      break;
    char *eq = strchr(frag, '=');
    char *name = strndup(frag, eq ? (size_t)(eq - frag) : strlen(frag));
    char *value = strdup(eq ? eq + 1 : "");
    if (!name || !value || push_kv(&r->args, &r->nargs, name, value) < 0) {
      free(name);
      free(value);
      goto free_req;
    }
  }

  size_t total = 0;
  for (int t = 0; t < WSI_TOKEN_COUNT; t++) {
    if (skip_token(t) || lws_hdr_total_length(wsi, t) <= 0)
      continue;
    const char *tname = (const char *)lws_token_to_string(t);
    char *value = copy_token(wsi, t);
    if (!tname || !value) {
      free(value);
      continue;
    }
    size_t nl = strlen(tname);
    while (nl && (tname[nl - 1] == ':' || tname[nl - 1] == ' '))
      nl--;
    char *name = strndup(tname, nl);
    total += nl + strlen(value);
    if (!name || total > s->lim.max_header ||
        push_kv(&r->hdrs, &r->nhdrs, name, value) < 0) {
      free(name);
      free(value);
      goto free_req;
    }
  }
  for (unsigned i = 0; i < s->n_capture; i++) {
    const char *cn = s->capture[i];
    int cl = (int)strlen(cn);
    int vl = lws_hdr_custom_length(wsi, cn, cl);
    if (vl < 0)
      continue;
    char *value = malloc((size_t)vl + 1);
    char *name = strndup(cn, (size_t)cl - 1);
    total += (size_t)cl + (size_t)vl;
    if (!value || !name || lws_hdr_custom_copy(wsi, value, vl + 1, cn, cl) < 0 ||
        total > s->lim.max_header ||
        push_kv(&r->hdrs, &r->nhdrs, name, value) < 0) {
      free(value);
      free(name);
      goto free_req;
    }
  }
  return r;

free_req:
  tern_http_req_free(r);
  return NULL;
}

void tern_http_req_free(struct tern_http_req *r) {
  if (!r)
    return;
  for (unsigned i = 0; i < r->nargs; i++) {
    free(r->args[i].name);
    free(r->args[i].value);
  }
  for (unsigned i = 0; i < r->nhdrs; i++) {
    free(r->hdrs[i].name);
    free(r->hdrs[i].value);
  }
  if (r->file_fd >= 0)
    close(r->file_fd);
  free(r->args);
  free(r->hdrs);
  free(r->path);
  free(r->match);
  free(r->body);
  free(r->extra);
  free(r->resp_body);
  free(r);
}

const char *tern_http_req_method(const struct tern_http_req *r) {
  return r->method;
}

const char *tern_http_req_path(const struct tern_http_req *r) {
  return r->path;
}

const char *tern_http_param(const struct tern_http_req *r, const char *name) {
  return r->route ? tern_route_param(r->match, name) : NULL;
}

const char *tern_http_query(const struct tern_http_req *r, const char *name) {
  for (unsigned i = 0; i < r->nargs; i++)
    if (strcmp(r->args[i].name, name) == 0)
      return r->args[i].value;
  return NULL;
}

const char *tern_http_header(const struct tern_http_req *r, const char *name) {
  for (unsigned i = 0; i < r->nhdrs; i++)
    if (strcasecmp(r->hdrs[i].name, name) == 0)
      return r->hdrs[i].value;
  return NULL;
}

const uint8_t *tern_http_body(const struct tern_http_req *r, size_t *len) {
  if (len)
    *len = r->body_len;
  return r->body ? r->body : (const uint8_t *)"";
}

const char *tern_http_remote_addr(const struct tern_http_req *r) {
  return r->addr;
}

bool tern_http_req_is_loopback(const struct tern_http_req *r) {
  return strncmp(r->addr, "127.", 4) == 0 || strcmp(r->addr, "::1") == 0;
}

int tern_http_resp_header(struct tern_http_req *r, const char *name,
                          const char *value) {
  size_t nl = strlen(name), vl = strlen(value);
  if (!nl || strpbrk(name, ": \t\r\n") || strpbrk(value, "\r\n"))
    return -EINVAL;
  if (r->extra_len + nl + vl + 2 > 4096)
    return -ENOSPC;
  char *e = realloc(r->extra, r->extra_len + nl + vl + 2);
  if (!e)
    return -ENOMEM;
  memcpy(e + r->extra_len, name, nl + 1);
  memcpy(e + r->extra_len + nl + 1, value, vl + 1);
  r->extra = e;
  r->extra_len += nl + vl + 2;
  return 0;
}

void tern_http_req_on_abort(struct tern_http_req *r,
                            void (*cb)(struct tern_http_req *r, void *user),
                            void *user) {
  r->abort_cb = cb;
  r->abort_user = user;
}

void tern_http_respond(struct tern_http_req *r, int status,
                       const char *content_type, const void *body, size_t len) {
  if (r->responded)
    return;
  r->responded = true;
  r->abort_cb = NULL;
  r->status = status < 100 || status > 599 ? 500 : status;
  snprintf(r->ctype, sizeof r->ctype, "%s", content_type ? content_type : "");
  if (len) {
    r->resp_body = malloc(len);
    if (r->resp_body)
      memcpy(r->resp_body, body, len);
    else /* out of memory: an empty 500 says more than a cut-off body */
      r->status = 500, len = 0, r->ctype[0] = '\0';
  }
  r->resp_len = len;
  struct conn *c = r->conn;
  if (c && c->req == r) {
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
                    (int)c->srv->lim.idle_timeout_s);
    lws_callback_on_writable(c->wsi);
  }
}

void tern_http_respond_text(struct tern_http_req *r, int status,
                            const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  if ((size_t)n > sizeof buf - 2)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  tern_http_respond(r, status, "text/plain; charset=utf-8", buf, (size_t)n);
}

void tern_http_respond_json(struct tern_http_req *r, int status, json_t *body) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text) {
    tern_http_respond_text(r, 500, "could not encode the response");
    return;
  }
  tern_http_respond(r, status, "application/json", text, strlen(text));
  free(text);
}
