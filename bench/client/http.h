/* http — the load generator's names for Tern's HTTP/1.1 client, which now
 * lives in src/net/httpc.h (shared with Beep's PERMISSIONS_HOST check).
 *
 * Only names: struct bc_http is the same opaque object as struct tern_httpc
 * (a pointer is never dereferenced here), and the semantics, limits and
 * lifetime rules are those documented in net/httpc.h. Kept as a thin shim so
 * the bench sources need no edits; renaming their calls to tern_httpc_*
 * makes this file unnecessary.
 */
#ifndef BC_HTTP_H
#define BC_HTTP_H

#include "net/httpc.h"

#define BC_HTTP_MAX_HEAD TERN_HTTPC_MAX_HEAD
#define BC_HTTP_MAX_BODY TERN_HTTPC_MAX_BODY
#define bc_http_resp tern_httpc_resp
typedef tern_httpc_cb bc_http_cb;

struct bc_http; /* is a struct tern_httpc */

static inline struct bc_http *bc_http_request(uv_loop_t *loop, const struct sockaddr *addr,
                                              const char *host, const char *method,
                                              const char *path, const char *body,
                                              size_t body_len, unsigned timeout_ms,
                                              bc_http_cb cb, void *user, char *reason,
                                              size_t reason_cap) {
  return (struct bc_http *)tern_httpc_request(loop, addr, host, method, path, body, body_len,
                                              timeout_ms, cb, user, reason, reason_cap);
}

static inline void bc_http_cancel(struct bc_http *h) {
  tern_httpc_cancel((struct tern_httpc *)h);
}

/* --url takes no path (the example is chosen with --example). */
static inline int bc_http_parse_url(const char *url, struct sockaddr_storage *addr,
                                    char *host_hdr, size_t host_cap, char *reason,
                                    size_t reason_cap) {
  return tern_httpc_parse_url(url, addr, host_hdr, host_cap, NULL, 0, reason, reason_cap);
}

#endif
