#include "net/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ice/stun.h"

/* libuv's recvmmsg splits the receive buffer into 64 KiB slots, one per
 * datagram, so a batch of 16 needs 1 MiB; it is allocated once. */
#define RX_DGRAM_MAX 65536
#define RX_BATCH 16

const char *tern_drop_reason_name(enum tern_transport_drop d) {
  static const char *names[] = {"unknown_ufrag", "unknown_addr", "malformed_stun",
                                "unclassified", "send_failed"};
  return d < TERN_DROP__COUNT ? names[d] : "?";
}

size_t tern_addr_key(const struct sockaddr *sa, uint8_t out[19]) {
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    out[0] = 4;
    memcpy(out + 1, &in->sin_port, 2);
    memcpy(out + 3, &in->sin_addr, 4);
    return 7;
  }
  const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
  out[0] = 6;
  memcpy(out + 1, &in6->sin6_port, 2);
  memcpy(out + 3, &in6->sin6_addr, 16);
  return 19;
}

socklen_t tern_addr_len(const struct sockaddr *sa) {
  return sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

bool tern_addr_equal(const struct sockaddr *a, const struct sockaddr *b) {
  uint8_t ka[19], kb[19];
  size_t la = tern_addr_key(a, ka), lb = tern_addr_key(b, kb);
  return la == lb && memcmp(ka, kb, la) == 0;
}

const char *tern_addr_str(const struct sockaddr *sa, char *buf, size_t cap) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    snprintf(buf, cap, "%s:%u", host, ntohs(in->sin_port));
  } else if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    snprintf(buf, cap, "[%s]:%u", host, ntohs(in6->sin6_port));
  } else {
    snprintf(buf, cap, "?");
  }
  return buf;
}

int tern_addr_parse(const char *s, struct sockaddr_storage *out) {
  char host[INET6_ADDRSTRLEN + 2];
  const char *colon;
  memset(out, 0, sizeof *out);
  if (s[0] == '[') {
    const char *end = strchr(s, ']');
    if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
      return -EINVAL;
    memcpy(host, s + 1, end - s - 1);
    host[end - s - 1] = 0;
    colon = end + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host)
      return -EINVAL;
    memcpy(host, s, colon - s);
    host[colon - s] = 0;
  }
  char *endp;
  long port = strtol(colon + 1, &endp, 10);
  if (colon[1] == 0 || *endp || port < 0 || port > 65535)
    return -EINVAL;
  if (host[0] == 0)
    strcpy(host, "0.0.0.0");
  if (strcmp(host, "localhost") == 0)
    strcpy(host, "127.0.0.1");
  struct sockaddr_in *in = (struct sockaddr_in *)out;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons((uint16_t)port);
    return 0;
  }
  if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons((uint16_t)port);
    return 0;
  }
  return -EINVAL;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  struct tern_transport *t = h->data;
  (void)suggested;
  *buf = uv_buf_init((char *)t->rx_buf, (unsigned)t->rx_cap);
}

void tern_transport_dispatch(struct tern_transport *t, const struct sockaddr *from,
                             uint8_t *buf, size_t len) {
  uint8_t key[19];
  size_t klen;
  struct tern_transport_endpoint *ep;

  t->stats.packets_in++;
  t->stats.bytes_in += len;
  uint8_t b = buf[0];
  if (b <= 3) {
    struct tern_stun_msg msg;
    if (!tern_stun_is_stun(buf, len) || tern_stun_parse(buf, len, &msg) < 0) {
      t->stats.drops[TERN_DROP_MALFORMED_STUN]++;
      return;
    }
    ep = NULL;
    if (msg.type == TERN_STUN_BINDING_REQUEST) {
      char ufrag[TERN_HASHMAP_MAX_KEY + 1];
      if (tern_stun_username_local(&msg, ufrag, sizeof ufrag) > 0)
        ep = tern_hashmap_get(&t->by_ufrag, ufrag, strlen(ufrag));
      if (!ep) {
        t->stats.drops[TERN_DROP_UNKNOWN_UFRAG]++;
        return;
      }
    } else {
      /* Responses and indications carry no USERNAME: they belong to the
       * peer that talks to that address. */
      klen = tern_addr_key(from, key);
      ep = tern_hashmap_get(&t->by_addr, key, klen);
      if (!ep) {
        t->stats.drops[TERN_DROP_UNKNOWN_ADDR]++;
        return;
      }
    }
    ep->h->stun(ep->user, from, buf, len, &msg);
    return;
  }
  if ((b >= 20 && b <= 63) || (b >= 128 && b <= 191)) {
    klen = tern_addr_key(from, key);
    ep = tern_hashmap_get(&t->by_addr, key, klen);
    if (!ep) {
      t->stats.drops[TERN_DROP_UNKNOWN_ADDR]++;
      return;
    }
    if (b <= 63) {
      ep->h->dtls(ep->user, from, buf, len);
    } else if (ep->h->rtp) {
      ep->h->rtp(ep->user, from, buf, len);
    }
    return;
  }
  t->stats.drops[TERN_DROP_UNCLASSIFIED]++;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *from, unsigned flags) {
  struct tern_transport *t = h->data;
  (void)flags;
  /* nread 0 with no address: the batch is drained; nothing to do. */
  if (nread <= 0 || !from || t->closing)
    return;
  tern_transport_dispatch(t, from, (uint8_t *)buf->base, (size_t)nread);
}

int tern_transport_init(struct tern_transport *t, uv_loop_t *loop, const char *host,
                        int port) {
  char spec[128];
  int rc;
  memset(t, 0, sizeof *t);
  t->loop = loop;
  if (strchr(host, ':') && host[0] != '[')
    snprintf(spec, sizeof spec, "[%s]:%d", host, port);
  else
    snprintf(spec, sizeof spec, "%s:%d", host, port);
  if (tern_addr_parse(spec, &t->local) < 0)
    return UV_EINVAL;
  t->rx_cap = RX_DGRAM_MAX * RX_BATCH;
  t->rx_buf = malloc(t->rx_cap);
  if (!t->rx_buf)
    return UV_ENOMEM;
  if (tern_hashmap_init(&t->by_ufrag) || tern_hashmap_init(&t->by_addr)) {
    rc = UV_ENOMEM;
    goto err_maps;
  }
  rc = uv_udp_init_ex(loop, &t->udp, t->local.ss_family | UV_UDP_RECVMMSG);
  if (rc)
    goto err_maps;
  t->udp.data = t;
  rc = uv_udp_bind(&t->udp, (const struct sockaddr *)&t->local, 0);
  if (rc)
    goto err_udp;
  int sz = sizeof t->local;
  uv_udp_getsockname(&t->udp, (struct sockaddr *)&t->local, &sz);
  /* Media bursts (a keyframe for fifty viewers) outrun the default 208 KiB. */
  int bufsize = 4 << 20;
  uv_recv_buffer_size((uv_handle_t *)&t->udp, &bufsize);
  bufsize = 4 << 20;
  uv_send_buffer_size((uv_handle_t *)&t->udp, &bufsize);
  rc = uv_udp_recv_start(&t->udp, on_alloc, on_recv);
  if (rc)
    goto err_udp;
  return 0;

err_udp:
  t->closing = true;
  uv_close((uv_handle_t *)&t->udp, NULL);
err_maps:
  tern_hashmap_free(&t->by_ufrag);
  tern_hashmap_free(&t->by_addr);
  free(t->rx_buf);
  t->rx_buf = NULL;
  return rc;
}

static void on_closed(uv_handle_t *h) {
  struct tern_transport *t = h->data;
  free(t->rx_buf);
  t->rx_buf = NULL;
}

void tern_transport_close(struct tern_transport *t) {
  if (t->closing)
    return;
  t->closing = true;
  tern_hashmap_free(&t->by_ufrag);
  tern_hashmap_free(&t->by_addr);
  uv_close((uv_handle_t *)&t->udp, on_closed);
}

int tern_transport_add_ufrag(struct tern_transport *t, const char *ufrag,
                             struct tern_transport_endpoint *ep) {
  size_t n = strlen(ufrag);
  if (tern_hashmap_get(&t->by_ufrag, ufrag, n))
    return -EEXIST;
  return tern_hashmap_put(&t->by_ufrag, ufrag, n, ep);
}

void tern_transport_remove_ufrag(struct tern_transport *t, const char *ufrag) {
  if (!t->closing)
    tern_hashmap_del(&t->by_ufrag, ufrag, strlen(ufrag));
}

int tern_transport_bind_addr(struct tern_transport *t, const struct sockaddr *addr,
                             struct tern_transport_endpoint *ep) {
  uint8_t key[19];
  size_t n = tern_addr_key(addr, key);
  return tern_hashmap_put(&t->by_addr, key, n, ep);
}

void tern_transport_unbind_addr(struct tern_transport *t, const struct sockaddr *addr,
                                struct tern_transport_endpoint *ep) {
  uint8_t key[19];
  if (t->closing)
    return;
  size_t n = tern_addr_key(addr, key);
  if (tern_hashmap_get(&t->by_addr, key, n) == ep)
    tern_hashmap_del(&t->by_addr, key, n);
}

int tern_transport_send(struct tern_transport *t, const struct sockaddr *to,
                        const uint8_t *buf, size_t len) {
  if (t->closing)
    return UV_ECANCELED;
  uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
  int rc = uv_udp_try_send(&t->udp, &b, 1, to);
  if (rc < 0) {
    t->stats.drops[TERN_DROP_SEND_FAILED]++;
    return rc;
  }
  t->stats.packets_out++;
  t->stats.bytes_out += len;
  return 0;
}

static bool is_unspecified(const struct sockaddr *sa) {
  if (sa->sa_family == AF_INET)
    return ((const struct sockaddr_in *)sa)->sin_addr.s_addr == htonl(INADDR_ANY);
  return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

int tern_transport_host_addresses(const struct tern_transport *t, const char *announced_ip,
                                  struct sockaddr_storage *out, int max) {
  int n = 0;
  if (announced_ip && announced_ip[0]) {
    char spec[80];
    snprintf(spec, sizeof spec, strchr(announced_ip, ':') ? "[%s]:0" : "%s:0", announced_ip);
    if (max > 0 && tern_addr_parse(spec, &out[0]) == 0)
      n = 1;
    return n;
  }
  if (!is_unspecified((const struct sockaddr *)&t->local)) {
    if (max > 0)
      out[n++] = t->local;
    return n;
  }
  uv_interface_address_t *ifs;
  int count;
  if (uv_interface_addresses(&ifs, &count) != 0)
    return 0;
  /* Two passes: external interfaces first, they are what remote browsers
   * can reach; loopback last, for a browser on this machine. */
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; i < count && n < max; i++) {
      const struct sockaddr *sa = (const struct sockaddr *)&ifs[i].address;
      if (sa->sa_family != t->local.ss_family || ifs[i].is_internal != pass)
        continue;
      if (sa->sa_family == AF_INET6 &&
          IN6_IS_ADDR_LINKLOCAL(&((const struct sockaddr_in6 *)sa)->sin6_addr))
        continue; /* needs a scope id no browser can use from an SDP */
      memset(&out[n], 0, sizeof out[n]);
      memcpy(&out[n], sa, tern_addr_len(sa));
      n++;
    }
  uv_free_interface_addresses(ifs, count);
  return n;
}
