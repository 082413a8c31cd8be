/* router — method + path pattern matching for the HTTP server.
 *
 * A pattern is a path of '/'-separated segments; a segment is either literal
 * (matched exactly, case-sensitive) or ":name", which matches one non-empty
 * segment and captures it. "/ping-pong/connections/:id/remote-description"
 * matches "/ping-pong/connections/7f3a/remote-description" with id=7f3a. A
 * last segment ":name*" captures the rest of the path, slashes included. A
 * single trailing '/' on the request path is ignored, as Express does for
 * the seed's node server. Paths arrive already percent-decoded (by lws), so
 * a captured value is decoded text and is never decoded again.
 *
 * Lookup distinguishes "no route for this path" (the server then tries a
 * static file) from "this path exists with other methods" (405 with Allow).
 * HEAD is answered by a GET route. The matcher functions are pure (no
 * sockets, no allocation) and are tested on their own.
 */
#ifndef TERN_HTTP_ROUTER_H
#define TERN_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#define TERN_ROUTE_MAX_PARAMS 8
#define TERN_ROUTE_PATH_MAX 2048 /* longer request paths never match */
#define TERN_ROUTE_MAX_ROUTES 256

/* The captures of one successful match; names and values point into buf. */
struct tern_route_match {
  unsigned n;
  const char *names[TERN_ROUTE_MAX_PARAMS];
  const char *values[TERN_ROUTE_MAX_PARAMS];
  char buf[2 * TERN_ROUTE_PATH_MAX];
};

/* Checks that a pattern is well-formed: starts with '/', no empty segments
 * except a lone "/", ":name" names non-empty and [A-Za-z0-9_], at most
 * TERN_ROUTE_MAX_PARAMS of them. 0 or -EINVAL. */
int tern_route_pattern_check(const char *pattern);

/* Returns true if path matches pattern, filling *m (may be NULL). */
bool tern_route_match(const char *pattern, const char *path,
                      struct tern_route_match *m);

/* Looks up a parameter in a match; NULL if absent. */
const char *tern_route_param(const struct tern_route_match *m,
                             const char *name);

/* A route table. The handler and user pointers are opaque to the router. */
struct tern_route {
  char method[8];
  char *pattern;
  void *handler;
  void *user;
};

struct tern_router {
  struct tern_route routes[TERN_ROUTE_MAX_ROUTES];
  unsigned n;
};

enum tern_route_result {
  TERN_ROUTE_FOUND = 0,
  TERN_ROUTE_NOT_FOUND = 1,          /* no pattern matches the path */
  TERN_ROUTE_METHOD_NOT_ALLOWED = 2, /* patterns match, other methods */
};

void tern_router_init(struct tern_router *r);
void tern_router_free(struct tern_router *r);

/* Adds a route. method is an upper-case HTTP method ("GET", "POST", …).
 * -EINVAL for a bad pattern/method, -EEXIST for a duplicate method+pattern,
 * -ENOSPC when full, -ENOMEM. */
int tern_router_add(struct tern_router *r, const char *method,
                    const char *pattern, void *handler, void *user);

/* Finds the first route (in insertion order) matching method and path.
 * On METHOD_NOT_ALLOWED, allow (if non-NULL) gets the methods that would
 * match, comma-separated ("GET, HEAD, DELETE"). */
enum tern_route_result tern_router_find(const struct tern_router *r,
                                        const char *method, const char *path,
                                        const struct tern_route **out,
                                        struct tern_route_match *m,
                                        char *allow, size_t allow_cap);

#endif
