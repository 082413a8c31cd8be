/* http — the smallest HTTP/1.1 client the load generator needs, on libuv.
 *
 * One request per TCP connection ("Connection: close"): connect, write the
 * request, read the status line, the headers and a body framed by
 * Content-Length (or by the end of the stream when there is none; chunked
 * bodies are refused — Tern never sends them). Everything is bounded: the
 * head to 16 KiB, the body to 1 MiB, the whole exchange to timeout_ms. Runs
 * on the caller's loop so the peers' ICE/DTLS/SCTP timers keep running while
 * a request is in flight.
 *
 * Lifetime: bc_http_request returns a handle; the callback is called exactly
 * once (success, HTTP error status, transport error or timeout) unless
 * bc_http_cancel is called first, after which it is never called. The
 * response passed to the callback is valid only during the call. The request
 * frees itself after the callback (its libuv handles close asynchronously,
 * so run the loop once more before uv_loop_close). Do not cancel from inside
 * the callback (the request is already finishing).
 */
#ifndef BC_HTTP_H
#define BC_HTTP_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#define BC_HTTP_MAX_HEAD (16 * 1024)
#define BC_HTTP_MAX_BODY (1024 * 1024)

struct bc_http_resp {
  int status;       /* 100..599 */
  const char *body; /* NUL-terminated copy of the body (may contain NULs) */
  size_t body_len;
};

/* err is 0 with r set, or a negative uv/errno code with r NULL and reason a
 * short text ("connect: connection refused", "timed out after 5000 ms"). */
typedef void (*bc_http_cb)(void *user, int err, const struct bc_http_resp *r,
                           const char *reason);

struct bc_http;

/* host is the Host header value; body may be NULL (then no Content-Type).
 * Returns NULL only when out of memory or the request cannot start (the
 * callback is then not called); reason is set in that case. */
struct bc_http *bc_http_request(uv_loop_t *loop, const struct sockaddr *addr,
                                const char *host, const char *method,
                                const char *path, const char *body,
                                size_t body_len, unsigned timeout_ms,
                                bc_http_cb cb, void *user, char *reason,
                                size_t reason_cap);
void bc_http_cancel(struct bc_http *h);

/* Parses "http://host[:port][/]" where host is an IPv4/IPv6 literal or a
 * name (resolved now, blocking: call it before the loop runs). Fills addr and
 * the Host header value. 0 or -EINVAL with a reason. */
int bc_http_parse_url(const char *url, struct sockaddr_storage *addr,
                      char *host_hdr, size_t host_cap, char *reason,
                      size_t reason_cap);

#endif
