/* net/httpc — the smallest HTTP/1.1 client Tern needs, on libuv: the load
 * generator's REST calls (bench/client) and Beep's PERMISSIONS_HOST check.
 *
 * One request per TCP connection ("Connection: close"): connect, write the
 * request, read the status line, the headers and a body framed by
 * Content-Length, by chunked transfer coding (decoded; trailers skipped) or
 * by the end of the stream when there is neither. Everything is bounded: the
 * head to 16 KiB, the body to 1 MiB, the whole exchange to timeout_ms. Runs
 * on the caller's loop so the peers' ICE/DTLS/SCTP timers keep running while
 * a request is in flight.
 *
 * Lifetime: tern_httpc_request returns a handle; the callback is called exactly
 * once (success, HTTP error status, transport error or timeout) unless
 * tern_httpc_cancel is called first, after which it is never called. The
 * response passed to the callback is valid only during the call. The request
 * frees itself after the callback (its libuv handles close asynchronously,
 * so run the loop once more before uv_loop_close). Do not cancel from inside
 * the callback (the request is already finishing).
 *
 * RFCs: 9112 (HTTP/1.1 message framing), 3986 (URI syntax, percent-encoding).
 */
#ifndef TERN_NET_HTTPC_H
#define TERN_NET_HTTPC_H

#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#define TERN_HTTPC_MAX_HEAD (16 * 1024)
#define TERN_HTTPC_MAX_BODY (1024 * 1024)

struct tern_httpc_resp {
  int status;       /* 100..599 */
  const char *body; /* NUL-terminated copy of the body (may contain NULs) */
  size_t body_len;
};

/* err is 0 with r set, or a negative uv/errno code with r NULL and reason a
 * short text ("connect: connection refused", "timed out after 5000 ms"). */
typedef void (*tern_httpc_cb)(void *user, int err, const struct tern_httpc_resp *r,
                           const char *reason);

struct tern_httpc;

/* host is the Host header value; body may be NULL (then no Content-Type).
 * Returns NULL only when out of memory or the request cannot start (the
 * callback is then not called); reason is set in that case. */
struct tern_httpc *tern_httpc_request(uv_loop_t *loop, const struct sockaddr *addr,
                                   const char *host, const char *method,
                                   const char *path, const char *body,
                                   size_t body_len, unsigned timeout_ms,
                                   tern_httpc_cb cb, void *user, char *reason,
                                   size_t reason_cap);
void tern_httpc_cancel(struct tern_httpc *h);

/* Parses "http://host[:port][/path]" where host is an IPv4/IPv6 literal or a
 * name (resolved now, blocking: call it before the loop runs). Fills addr and
 * the Host header value. With path NULL the URL may have no path beyond "/";
 * otherwise the path is copied to path[path_cap] without a trailing '/' (""
 * for none), ready for appending "/…". https:// is refused. 0 or -EINVAL
 * with a reason. */
int tern_httpc_parse_url(const char *url, struct sockaddr_storage *addr,
                         char *host_hdr, size_t host_cap, char *path,
                         size_t path_cap, char *reason, size_t reason_cap);

/* Percent-encodes s as one path segment (RFC 3986 §2.3: everything but the
 * unreserved characters A-Z a-z 0-9 - . _ ~ becomes %XX) into out[cap],
 * NUL-terminated. Returns the length, or -ENOSPC if it does not fit. */
int tern_httpc_escape_segment(const char *s, char *out, size_t cap);

#endif
