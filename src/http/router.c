#include "http/router.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int tern_route_pattern_check(const char *pattern) {
  if (!pattern || pattern[0] != '/' || strlen(pattern) >= TERN_ROUTE_PATH_MAX)
    return -EINVAL;
  if (strcmp(pattern, "/") == 0)
    return 0;
  unsigned params = 0;
  const char *seg = pattern + 1;
  for (;;) {
    const char *end = strchr(seg, '/');
    size_t len = end ? (size_t)(end - seg) : strlen(seg);
    if (len == 0)
      return -EINVAL; /* "//" or a trailing '/' */
    if (seg[0] == ':') {
      /* ":name*" (last segment only) captures the rest of the path. */
      size_t name_end = len;
      if (!end && len > 2 && seg[len - 1] == '*')
        name_end = len - 1;
      if (name_end == 1 || ++params > TERN_ROUTE_MAX_PARAMS)
        return -EINVAL;
      for (size_t i = 1; i < name_end; i++)
        if (!isalnum((unsigned char)seg[i]) && seg[i] != '_')
          return -EINVAL;
    }
    if (!end)
      return 0;
    seg = end + 1;
  }
}

/* Appends one name=value capture to m (both copied into m->buf, which holds
 * at most every name and every value once: bounded by the pattern and path
 * lengths, each < PATH_MAX). */
static void capture(struct tern_route_match *m, char **out, const char *name, size_t nlen,
                    const char *value, size_t vlen) {
  m->names[m->n] = *out;
  memcpy(*out, name, nlen);
  *out += nlen;
  *(*out)++ = '\0';
  m->values[m->n] = *out;
  memcpy(*out, value, vlen);
  *out += vlen;
  *(*out)++ = '\0';
  m->n++;
}

bool tern_route_match(const char *pattern, const char *path,
                      struct tern_route_match *m) {
  size_t plen = strlen(path);
  if (path[0] != '/' || plen >= TERN_ROUTE_PATH_MAX)
    return false;
  if (plen > 1 && path[plen - 1] == '/')
    plen--; /* one trailing slash is not significant */
  if (m)
    m->n = 0;
  char *out = m ? m->buf : NULL;
  const char *pp = pattern + 1, *qp = path + 1, *qend = path + plen;
  if (strcmp(pattern, "/") == 0)
    return plen == 1;
  for (;;) {
    const char *pe = strchr(pp, '/');
    size_t pl = pe ? (size_t)(pe - pp) : strlen(pp);
    if (qp > qend)
      return false; /* path ran out of segments */
    const char *qe = memchr(qp, '/', (size_t)(qend - qp));
    size_t ql = qe ? (size_t)(qe - qp) : (size_t)(qend - qp);
    if (pp[0] == ':' && !pe && pl > 2 && pp[pl - 1] == '*') {
      /* The rest of the path, slashes included: lws decodes %2F before we
       * route, and an id like "a%2Fb" must reach its validator (400), not
       * fall through to 404. */
      size_t rest = (size_t)(qend - qp);
      if (rest == 0)
        return false;
      if (m)
        capture(m, &out, pp + 1, pl - 2, qp, rest);
      return true;
    }
    if (pp[0] == ':') {
      if (ql == 0)
        return false;
      if (m)
        capture(m, &out, pp + 1, pl - 1, qp, ql);
    } else if (pl != ql || memcmp(pp, qp, pl) != 0) {
      return false;
    }
    if (!pe)
      return qe == NULL; /* both must end together */
    if (!qe)
      return false;
    pp = pe + 1;
    qp = qe + 1;
  }
}

const char *tern_route_param(const struct tern_route_match *m,
                             const char *name) {
  for (unsigned i = 0; m && i < m->n; i++)
    if (strcmp(m->names[i], name) == 0)
      return m->values[i];
  return NULL;
}

void tern_router_init(struct tern_router *r) { memset(r, 0, sizeof *r); }

void tern_router_free(struct tern_router *r) {
  for (unsigned i = 0; i < r->n; i++)
    free(r->routes[i].pattern);
  r->n = 0;
}

static bool method_ok(const char *m) {
  size_t n = strlen(m);
  if (n == 0 || n >= sizeof((struct tern_route *)0)->method)
    return false;
  for (size_t i = 0; i < n; i++)
    if (m[i] < 'A' || m[i] > 'Z')
      return false;
  return true;
}

int tern_router_add(struct tern_router *r, const char *method,
                    const char *pattern, void *handler, void *user) {
  if (!method_ok(method) || tern_route_pattern_check(pattern) < 0)
    return -EINVAL;
  for (unsigned i = 0; i < r->n; i++)
    if (strcmp(r->routes[i].method, method) == 0 &&
        strcmp(r->routes[i].pattern, pattern) == 0)
      return -EEXIST;
  if (r->n == TERN_ROUTE_MAX_ROUTES)
    return -ENOSPC;
  struct tern_route *rt = &r->routes[r->n];
  rt->pattern = strdup(pattern);
  if (!rt->pattern)
    return -ENOMEM;
  strcpy(rt->method, method);
  rt->handler = handler;
  rt->user = user;
  r->n++;
  return 0;
}

static void allow_add(char *allow, size_t cap, const char *method) {
  if (!allow || !cap)
    return;
  /* No duplicates: two patterns may match the same path with one method. */
  size_t ml = strlen(method);
  for (const char *p = allow; (p = strstr(p, method)); p += ml)
    if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0'))
      return;
  size_t len = strlen(allow);
  if (len + ml + 3 > cap)
    return;
  if (len)
    strcat(allow, ", ");
  strcat(allow, method);
}

enum tern_route_result tern_router_find(const struct tern_router *r,
                                        const char *method, const char *path,
                                        const struct tern_route **out,
                                        struct tern_route_match *m,
                                        char *allow, size_t allow_cap) {
  bool path_known = false;
  if (allow && allow_cap)
    allow[0] = '\0';
  const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
  for (unsigned i = 0; i < r->n; i++) {
    const struct tern_route *rt = &r->routes[i];
    if (strcmp(rt->method, want) == 0) {
      if (tern_route_match(rt->pattern, path, m)) {
        if (out)
          *out = rt;
        return TERN_ROUTE_FOUND;
      }
    } else if (tern_route_match(rt->pattern, path, NULL)) {
      path_known = true;
      allow_add(allow, allow_cap, rt->method);
      if (strcmp(rt->method, "GET") == 0)
        allow_add(allow, allow_cap, "HEAD");
    }
  }
  return path_known ? TERN_ROUTE_METHOD_NOT_ALLOWED : TERN_ROUTE_NOT_FOUND;
}
