/* sctp.c — usrsctp behind a small association API. See sctp.h for the rules.
 *
 * How the pieces fit:
 *  - usrsctp is initialised without threads; our uv timer advances its clock.
 *  - Each association is one non-blocking one-to-one AF_CONN socket. usrsctp
 *    identifies it by an opaque "address" (sconn_addr) that it passes back to
 *    conn_output. We do not give it the association pointer but a slot key
 *    (index + generation, as Janus does with random ids): a packet usrsctp
 *    emits late for a destroyed association then finds no slot instead of
 *    freed memory.
 *  - usrsctp's upcall only marks the association "ready"; after usrsctp
 *    returns (input, timer) we drain ready associations with usrsctp_recvv.
 *    So user callbacks never run inside usrsctp, and may call back into it.
 */
#include "sctp/sctp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

#include "core/log.h"

#define TICK_MS 10
/* One read buffer per process (messages up to this size are delivered from
 * it without a copy; bigger ones are reassembled per association). */
#define RBUF_SIZE (64 * 1024)
#define DEFAULT_MAX_MESSAGE (256 * 1024)
/* Send and receive buffers. 256 KiB (usrsctp's default) allows ≈ 5 MB/s at
 * 50 ms RTT; bigger buffers only move queued bytes from Tern's bounded,
 * visible queues (bufferedAmount) into usrsctp's. */
#define SOCK_BUF (256 * 1024)
/* usrsctp's path MTU for AF_CONN excludes the 12-byte common header. */
#define SCTP_COMMON_HEADER 12
/* A reassembly buffer bigger than this is released after each message. */
#define RX_KEEP (64 * 1024)

_Static_assert(sizeof(uintptr_t) >= 8, "slot keys need 64-bit pointers");

struct slot {
  struct tern_sctp_assoc *a; /* NULL when free */
  uint32_t gen;
  uint32_t next_free;
};

struct tern_sctp_stack {
  uv_loop_t *loop;
  uv_timer_t *timer; /* own allocation: outlives the stack until closed */
  unsigned refs;
  unsigned assocs;
  uint64_t last_tick;
  struct slot *slots;
  uint32_t nslots, free_head;
  struct tern_sctp_assoc *ready_head, *ready_tail;
  bool draining;
  _Alignas(16) uint8_t rbuf[RBUF_SIZE];
};

enum assoc_state { ST_NEW, ST_CONNECTING, ST_UP, ST_CLOSED };

struct tern_sctp_assoc {
  struct tern_sctp_stack *stack;
  struct socket *sock;
  const struct tern_sctp_ops *ops;
  void *user;
  uintptr_t key;
  uint32_t slot;
  enum assoc_state state;
  uint16_t local_port;
  uint16_t out_streams, in_streams;
  uint32_t max_message, remote_max;
  bool ready; /* in the stack's ready list */
  struct tern_sctp_assoc *ready_prev, *ready_next;
  bool want_writable;
  bool tx_partial; /* a message is half-handed to usrsctp (explicit EOR) */
  uint16_t tx_sid;
  bool notif_skip; /* skipping the tail of a notification we could not fit */
  /* reassembly of a message delivered in parts (partial delivery) */
  bool rx_active, rx_drop;
  uint16_t rx_sid;
  uint32_t rx_ppid;
  uint8_t *rx_buf;
  size_t rx_len, rx_cap;
  uint64_t dropped_oversize;
  char log_id[40];
};

/* usrsctp has exactly one output callback and one clock per process. */
static struct tern_sctp_stack *the_stack;

static uintptr_t key_make(uint32_t idx, uint32_t gen) {
  return ((uintptr_t)gen << 32) | (uintptr_t)(idx + 1);
}

static struct tern_sctp_assoc *key_lookup(struct tern_sctp_stack *s, void *addr) {
  uintptr_t k = (uintptr_t)addr;
  uint32_t idx = (uint32_t)(k & 0xffffffffu);
  if (!s || idx == 0 || idx > s->nslots)
    return NULL;
  struct slot *sl = &s->slots[idx - 1];
  return sl->gen == (uint32_t)(k >> 32) ? sl->a : NULL;
}

static int slot_alloc(struct tern_sctp_stack *s, struct tern_sctp_assoc *a) {
  if (s->free_head == UINT32_MAX) {
    uint32_t n = s->nslots ? s->nslots * 2 : 16;
    struct slot *ns = realloc(s->slots, n * sizeof(*ns));
    if (!ns)
      return -ENOMEM;
    for (uint32_t i = s->nslots; i < n; i++) {
      ns[i].a = NULL;
      ns[i].gen = 0;
      ns[i].next_free = i + 1 < n ? i + 1 : UINT32_MAX;
    }
    s->slots = ns;
    s->free_head = s->nslots;
    s->nslots = n;
  }
  uint32_t i = s->free_head;
  s->free_head = s->slots[i].next_free;
  s->slots[i].a = a;
  s->slots[i].gen++;
  a->slot = i;
  a->key = key_make(i, s->slots[i].gen);
  return 0;
}

static void slot_free(struct tern_sctp_stack *s, struct tern_sctp_assoc *a) {
  struct slot *sl = &s->slots[a->slot];
  sl->a = NULL;
  sl->gen++; /* stale keys stop matching at once */
  sl->next_free = s->free_head;
  s->free_head = a->slot;
}

/* usrsctp's output callback: may run inside any usrsctp call. Hand the packet
 * to the peer and return; never call back into usrsctp from here. */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos,
                       uint8_t set_df) {
  (void)tos;
  (void)set_df;
  struct tern_sctp_assoc *a = key_lookup(the_stack, addr);
  if (!a)
    return -1;
  a->ops->send(a->user, buf, len);
  return 0;
}

static void ready_unlink(struct tern_sctp_assoc *a) {
  struct tern_sctp_stack *s = a->stack;
  if (!a->ready)
    return;
  if (a->ready_prev)
    a->ready_prev->ready_next = a->ready_next;
  else
    s->ready_head = a->ready_next;
  if (a->ready_next)
    a->ready_next->ready_prev = a->ready_prev;
  else
    s->ready_tail = a->ready_prev;
  a->ready = false;
  a->ready_prev = a->ready_next = NULL;
}

/* Called by usrsctp, inside it, when the socket becomes readable/writable:
 * only remember it. */
static void on_upcall(struct socket *so, void *arg, int flags) {
  (void)so;
  (void)flags;
  struct tern_sctp_assoc *a = arg;
  struct tern_sctp_stack *s = a->stack;
  if (a->ready)
    return;
  a->ready = true;
  a->ready_next = NULL;
  a->ready_prev = s->ready_tail;
  if (s->ready_tail)
    s->ready_tail->ready_next = a;
  else
    s->ready_head = a;
  s->ready_tail = a;
}

static void set_closed(struct tern_sctp_assoc *a) {
  if (a->state == ST_CLOSED)
    return;
  a->state = ST_CLOSED;
  a->tx_partial = false;
  a->want_writable = false;
  if (a->ops->closed)
    a->ops->closed(a->user);
}

static void set_path_mtu(struct tern_sctp_assoc *a) {
  struct sctp_paddrparams spp;
  memset(&spp, 0, sizeof(spp));
  /* AF_CONN with no address: every path of this association. */
  spp.spp_address.ss_family = AF_CONN;
  spp.spp_flags = SPP_PMTUD_DISABLE | SPP_HB_ENABLE;
  spp.spp_pathmtu = TERN_SCTP_MAX_PACKET - SCTP_COMMON_HEADER;
  if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &spp,
                         sizeof(spp)) < 0)
    tern_log_warn(a->log_id, "sctp: cannot set path MTU: %s", strerror(errno));
}

static void on_assoc_change(struct tern_sctp_assoc *a,
                            const struct sctp_assoc_change *sac) {
  switch (sac->sac_state) {
  case SCTP_COMM_UP:
    if (a->state != ST_CONNECTING)
      return;
    a->state = ST_UP;
    a->out_streams = sac->sac_outbound_streams;
    a->in_streams = sac->sac_inbound_streams;
    /* usrsctp only applies a path MTU to an existing association. */
    set_path_mtu(a);
    tern_log_debug(a->log_id, "sctp: up, streams out %u in %u",
                   a->out_streams, a->in_streams);
    if (a->ops->connected)
      a->ops->connected(a->user);
    break;
  case SCTP_RESTART:
    tern_log_warn(a->log_id, "sctp: peer restarted the association");
    break;
  case SCTP_COMM_LOST:
  case SCTP_SHUTDOWN_COMP:
  case SCTP_CANT_STR_ASSOC:
    tern_log_info(a->log_id, "sctp: association %s",
                  sac->sac_state == SCTP_COMM_LOST ? "lost"
                  : sac->sac_state == SCTP_SHUTDOWN_COMP ? "shut down"
                                                         : "failed to start");
    set_closed(a);
    break;
  default:
    break;
  }
}

static void on_stream_reset(struct tern_sctp_assoc *a,
                            const struct sctp_stream_reset_event *ev,
                            size_t len) {
  size_t n = (len - sizeof(*ev)) / sizeof(uint16_t);
  uint16_t flags = ev->strreset_flags;
  bool failed = flags & (SCTP_STREAM_RESET_DENIED | SCTP_STREAM_RESET_FAILED);
  if (failed)
    tern_log_warn(a->log_id, "sctp: stream reset %s (flags 0x%x)",
                  flags & SCTP_STREAM_RESET_DENIED ? "denied" : "failed",
                  flags);
  for (size_t i = 0; i < n; i++) {
    uint16_t sid = ev->strreset_stream_list[i];
    if ((flags & SCTP_STREAM_RESET_INCOMING_SSN) && !failed &&
        a->ops->stream_reset)
      a->ops->stream_reset(a->user, sid);
    /* A failed outgoing reset is reported as done too: the channel is closed
     * either way, and a stuck "closing" state would leak the stream id. */
    if ((flags & SCTP_STREAM_RESET_OUTGOING_SSN) && a->ops->reset_done)
      a->ops->reset_done(a->user, sid);
    if (a->state == ST_CLOSED)
      break;
  }
}

static void on_notification(struct tern_sctp_assoc *a, const uint8_t *buf,
                            size_t len) {
  const union sctp_notification *n = (const void *)buf;
  if (len < sizeof(n->sn_header) || n->sn_header.sn_length != len)
    return;
  switch (n->sn_header.sn_type) {
  case SCTP_ASSOC_CHANGE:
    if (len >= sizeof(struct sctp_assoc_change))
      on_assoc_change(a, &n->sn_assoc_change);
    break;
  case SCTP_STREAM_RESET_EVENT:
    if (len >= sizeof(struct sctp_stream_reset_event))
      on_stream_reset(a, &n->sn_strreset_event, len);
    break;
  case SCTP_PARTIAL_DELIVERY_EVENT:
    /* The peer abandoned (PR-SCTP) a message we were reassembling. */
    if (len >= sizeof(struct sctp_pdapi_event) &&
        n->sn_pdapi_event.pdapi_indication == SCTP_PARTIAL_DELIVERY_ABORTED) {
      a->rx_active = false;
      a->rx_len = 0;
    }
    break;
  case SCTP_SENDER_DRY_EVENT:
    /* Nothing in flight: the writable check after the read loop covers it. */
    break;
  default:
    break;
  }
}

static void reject_oversize(struct tern_sctp_assoc *a, uint16_t sid) {
  /* Warn once per association: a peer must not be able to flood the log. */
  if (a->dropped_oversize++ == 0)
    tern_log_warn(a->log_id,
                  "sctp: message on stream %u exceeds max-message-size %u: "
                  "dropped, stream reset",
                  sid, a->max_message);
  tern_sctp_assoc_reset_stream(a, sid);
}

static bool rx_append(struct tern_sctp_assoc *a, const uint8_t *buf, size_t n) {
  size_t need = a->rx_len + n;
  if (need > a->rx_cap) {
    size_t cap = a->rx_cap ? a->rx_cap : RBUF_SIZE;
    while (cap < need)
      cap *= 2;
    if (cap > a->max_message)
      cap = a->max_message;
    uint8_t *nb = realloc(a->rx_buf, cap);
    if (!nb)
      return false;
    a->rx_buf = nb;
    a->rx_cap = cap;
  }
  memcpy(a->rx_buf + a->rx_len, buf, n);
  a->rx_len = need;
  return true;
}

static void rx_reset(struct tern_sctp_assoc *a) {
  a->rx_active = false;
  a->rx_drop = false;
  a->rx_len = 0;
  if (a->rx_cap > RX_KEEP) {
    free(a->rx_buf);
    a->rx_buf = NULL;
    a->rx_cap = 0;
  }
}

static void on_data(struct tern_sctp_assoc *a, const uint8_t *buf, size_t n,
                    uint16_t sid, uint32_t ppid, bool eor) {
  if (!a->rx_active && eor) { /* whole message in one read: no copy */
    if (n > a->max_message)
      reject_oversize(a, sid);
    else
      a->ops->message(a->user, sid, ppid, buf, n);
    return;
  }
  if (!a->rx_active) {
    a->rx_active = true;
    a->rx_drop = false;
    a->rx_sid = sid;
    a->rx_ppid = ppid;
    a->rx_len = 0;
  } else if (sid != a->rx_sid) {
    /* Fragment interleave level 0 forbids this; do not trust it anyway. */
    tern_log_warn(a->log_id, "sctp: interleaved partial message, dropped");
    a->rx_drop = true;
  }
  if (!a->rx_drop) {
    if (a->rx_len + n > a->max_message) {
      a->rx_drop = true;
      reject_oversize(a, a->rx_sid);
    } else if (!rx_append(a, buf, n)) {
      a->rx_drop = true;
      tern_log_error(a->log_id, "sctp: out of memory reassembling");
    }
  }
  if (eor) {
    if (!a->rx_drop)
      a->ops->message(a->user, a->rx_sid, a->rx_ppid, a->rx_buf, a->rx_len);
    rx_reset(a);
  }
}

/* Reads everything usrsctp has for a, then reports writability. */
static void drain(struct tern_sctp_assoc *a) {
  uint8_t *rbuf = a->stack->rbuf;
  while (a->state == ST_CONNECTING || a->state == ST_UP) {
    struct sctp_rcvinfo ri;
    socklen_t infolen = sizeof(ri);
    socklen_t fromlen = 0;
    unsigned int infotype = 0;
    int flags = 0;
    memset(&ri, 0, sizeof(ri));
    ssize_t n = usrsctp_recvv(a->sock, rbuf, RBUF_SIZE, NULL, &fromlen, &ri,
                              &infolen, &infotype, &flags);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)
        tern_log_debug(a->log_id, "sctp: recv: %s", strerror(errno));
      break;
    }
    if (n == 0 && !(flags & MSG_NOTIFICATION))
      break; /* end of stream: the assoc-change notification says why */
    bool eor = flags & MSG_EOR;
    if (flags & MSG_NOTIFICATION) {
      if (!a->notif_skip && eor)
        on_notification(a, rbuf, (size_t)n);
      else if (!eor)
        tern_log_warn(a->log_id, "sctp: oversized notification skipped");
      a->notif_skip = !eor;
      continue;
    }
    if (infotype != SCTP_RECVV_RCVINFO)
      continue; /* cannot happen with SCTP_RECVRCVINFO on */
    on_data(a, rbuf, (size_t)n, ri.rcv_sid, ntohl(ri.rcv_ppid), eor);
  }
  if (a->state == ST_UP && a->want_writable &&
      (usrsctp_get_events(a->sock) & SCTP_EVENT_WRITE)) {
    a->want_writable = false;
    if (a->ops->writable)
      a->ops->writable(a->user);
  }
}

/* Processes every association usrsctp flagged. Not re-entrant: a callback
 * that feeds input to some association only flags it for this same loop. */
static void run_ready(struct tern_sctp_stack *s) {
  if (s->draining)
    return;
  s->draining = true;
  struct tern_sctp_assoc *a;
  while ((a = s->ready_head)) {
    ready_unlink(a);
    drain(a);
  }
  s->draining = false;
}

static void on_tick(uv_timer_t *t) {
  struct tern_sctp_stack *s = t->data;
  uint64_t now = uv_now(s->loop);
  uint64_t elapsed = now - s->last_tick;
  s->last_tick = now;
  usrsctp_handle_timers(elapsed > UINT32_MAX ? UINT32_MAX : (uint32_t)elapsed);
  run_ready(s);
}

static void free_timer(uv_handle_t *h) { free(h); }

static void configure_usrsctp(void) {
  /* ECN needs IP-header access; over DTLS/UDP there is none. */
  usrsctp_sysctl_set_sctp_ecn_enable(0);
  /* ASCONF (dynamic addresses) and AUTH are unused over DTLS, which already
   * authenticates; browsers turn them off too. ASCONF must go first: usrsctp
   * refuses to disable AUTH while ASCONF needs it. */
  usrsctp_sysctl_set_sctp_asconf_enable(0);
  usrsctp_sysctl_set_sctp_auth_enable(0);
  /* PR-SCTP (RFC 3758) for maxRetransmits / maxPacketLifeTime channels. */
  usrsctp_sysctl_set_sctp_pr_enable(1);
  /* The default of 512 chunks stalls a 1 MiB message (≈ 900 chunks); the
   * receive window already bounds memory. */
  usrsctp_sysctl_set_sctp_max_chunks_on_queue(10 * 1024);
  /* RFC 6928 initial window of 10 packets; bursts limited to the same. */
  usrsctp_sysctl_set_sctp_initial_cwnd(10);
  usrsctp_sysctl_set_sctp_max_burst_default(10);
  /* SACK after 20 ms instead of 200 ms: a lone message is acked quickly. */
  usrsctp_sysctl_set_sctp_delayed_sack_time_default(20);
  /* RTO 200 ms .. 10 s, initial 1 s; 5 retransmissions: a dead peer is
   * noticed in tens of seconds, not minutes (ICE consent catches it sooner). */
  usrsctp_sysctl_set_sctp_rto_min_default(200);
  usrsctp_sysctl_set_sctp_rto_max_default(10000);
  usrsctp_sysctl_set_sctp_init_rto_max_default(10000);
  usrsctp_sysctl_set_sctp_rto_initial_default(1000);
  usrsctp_sysctl_set_sctp_init_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_assoc_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_path_rtx_max_default(5);
  usrsctp_sysctl_set_sctp_heartbeat_interval_default(10000);
}

struct tern_sctp_stack *tern_sctp_stack_create(uv_loop_t *loop) {
  if (the_stack) {
    if (the_stack->loop != loop) {
      tern_log_error(NULL, "sctp: usrsctp is already driven by another loop");
      return NULL;
    }
    the_stack->refs++;
    return the_stack;
  }
  struct tern_sctp_stack *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->timer = malloc(sizeof(*s->timer));
  if (!s->timer)
    goto free_stack;
  if (uv_timer_init(loop, s->timer) < 0)
    goto free_timer;
  s->timer->data = s;
  s->loop = loop;
  s->refs = 1;
  s->free_head = UINT32_MAX;
  usrsctp_init_nothreads(0, conn_output, NULL);
  configure_usrsctp();
  the_stack = s;
  return s;

free_timer:
  free(s->timer);
free_stack:
  free(s);
  return NULL;
}

void tern_sctp_stack_destroy(struct tern_sctp_stack *s) {
  if (!s || --s->refs > 0)
    return;
  if (s->assocs) {
    /* Finishing usrsctp now would pull sockets from under live objects. */
    tern_log_error(NULL, "sctp: stack destroyed with %u associations alive",
                   s->assocs);
    s->refs = 1;
    return;
  }
  uv_timer_stop(s->timer);
  s->timer->data = NULL;
  uv_close((uv_handle_t *)s->timer, free_timer);
  /* Closed sockets linger until usrsctp's own timers reap them. */
  int tries = 0;
  while (usrsctp_finish() != 0 && ++tries < 100)
    usrsctp_handle_timers(1000);
  if (tries == 100)
    tern_log_error(NULL, "sctp: usrsctp_finish failed; usrsctp state leaks");
  free(s->slots);
  free(s);
  the_stack = NULL;
}

uv_loop_t *tern_sctp_stack_loop(const struct tern_sctp_stack *s) {
  return s->loop;
}

static int setopt_int(struct socket *so, int level, int opt, int v) {
  return usrsctp_setsockopt(so, level, opt, &v, sizeof(v));
}

static int configure_socket(struct tern_sctp_assoc *a, uint16_t streams) {
  struct socket *so = a->sock;
  /* Destroy must not linger: the peer (and DTLS under us) is going away. */
  struct linger lg = {.l_onoff = 1, .l_linger = 0};
  if (usrsctp_setsockopt(so, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
    return -errno;
  struct sctp_assoc_value av = {.assoc_id = SCTP_ALL_ASSOC,
                                .assoc_value = SCTP_ENABLE_RESET_STREAM_REQ};
  if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &av,
                         sizeof(av)) < 0)
    return -errno;
  /* sid and ppid of every message come with it. */
  if (setopt_int(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, 1) < 0)
    return -errno;
  /* Messages bigger than the send buffer go in parts (tern_sctp_assoc_send). */
  if (setopt_int(so, IPPROTO_SCTP, SCTP_EXPLICIT_EOR, 1) < 0)
    return -errno;
  /* RFC 8831 §6.6: the sender SHOULD disable Nagle. */
  if (setopt_int(so, IPPROTO_SCTP, SCTP_NODELAY, 1) < 0)
    return -errno;
  /* Level 0: one partially delivered message at a time, and notifications
   * never inside one, so a single reassembly buffer suffices. */
  if (setopt_int(so, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, 0) < 0)
    return -errno;
  if (setopt_int(so, SOL_SOCKET, SO_SNDBUF, SOCK_BUF) < 0 ||
      setopt_int(so, SOL_SOCKET, SO_RCVBUF, SOCK_BUF) < 0)
    return -errno;
  /* RFC 8831 §6.2 suggests 65535 streams; usrsctp allocates per stream
   * (≈ 70 KiB per association at 1024), so we offer a configurable few. */
  struct sctp_initmsg im;
  memset(&im, 0, sizeof(im));
  im.sinit_num_ostreams = streams;
  im.sinit_max_instreams = streams;
  if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_INITMSG, &im, sizeof(im)) < 0)
    return -errno;
  static const uint16_t events[] = {
      SCTP_ASSOC_CHANGE, SCTP_STREAM_RESET_EVENT, SCTP_SENDER_DRY_EVENT,
      SCTP_PARTIAL_DELIVERY_EVENT};
  /* SCTP_SEND_FAILED_EVENT is left off: it would copy every abandoned
   * PR-SCTP message into a notification, and nobody above needs it. */
  for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
    struct sctp_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.se_assoc_id = SCTP_ALL_ASSOC;
    ev.se_type = events[i];
    ev.se_on = 1;
    if (usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev)) < 0)
      return -errno;
  }
  struct sockaddr_conn sc;
  memset(&sc, 0, sizeof(sc));
  sc.sconn_family = AF_CONN;
  sc.sconn_port = htons(a->local_port);
  sc.sconn_addr = (void *)a->key;
  if (usrsctp_bind(so, (struct sockaddr *)&sc, sizeof(sc)) < 0)
    return -errno;
  return 0;
}

struct tern_sctp_assoc *tern_sctp_assoc_create(struct tern_sctp_stack *s,
                                               const struct tern_sctp_config *cfg,
                                               const struct tern_sctp_ops *ops,
                                               void *user) {
  if (!s || !cfg || !ops || !ops->send || !ops->message)
    return NULL;
  struct tern_sctp_assoc *a = calloc(1, sizeof(*a));
  if (!a)
    return NULL;
  a->stack = s;
  a->ops = ops;
  a->user = user;
  a->local_port = cfg->local_port ? cfg->local_port : TERN_SCTP_DEFAULT_PORT;
  uint16_t streams = cfg->streams ? cfg->streams : TERN_SCTP_DEFAULT_STREAMS;
  a->out_streams = a->in_streams = streams;
  a->max_message = cfg->max_message_size ? cfg->max_message_size
                                         : DEFAULT_MAX_MESSAGE;
  a->remote_max = TERN_SCTP_DEFAULT_REMOTE_MAX_MESSAGE;
  if (cfg->log_id)
    snprintf(a->log_id, sizeof(a->log_id), "%s", cfg->log_id);
  if (slot_alloc(s, a) < 0)
    goto free_assoc;
  usrsctp_register_address((void *)a->key);
  a->sock = usrsctp_socket(AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0,
                           NULL);
  if (!a->sock) {
    tern_log_error(a->log_id, "sctp: socket: %s", strerror(errno));
    goto deregister;
  }
  if (usrsctp_set_non_blocking(a->sock, 1) < 0)
    goto close_sock;
  int err = configure_socket(a, streams);
  if (err < 0) {
    tern_log_error(a->log_id, "sctp: socket setup: %s", strerror(-err));
    goto close_sock;
  }
  usrsctp_set_upcall(a->sock, on_upcall, a);
  if (s->assocs++ == 0) {
    s->last_tick = uv_now(s->loop);
    uv_timer_start(s->timer, on_tick, TICK_MS, TICK_MS);
  }
  return a;

close_sock:
  usrsctp_close(a->sock);
deregister:
  usrsctp_deregister_address((void *)a->key);
  slot_free(s, a);
free_assoc:
  free(a);
  return NULL;
}

int tern_sctp_assoc_start(struct tern_sctp_assoc *a, uint16_t remote_port) {
  if (a->state != ST_NEW)
    return -EALREADY;
  struct sockaddr_conn sc;
  memset(&sc, 0, sizeof(sc));
  sc.sconn_family = AF_CONN;
  sc.sconn_port = htons(remote_port ? remote_port : TERN_SCTP_DEFAULT_PORT);
  sc.sconn_addr = (void *)a->key;
  a->state = ST_CONNECTING;
  if (usrsctp_connect(a->sock, (struct sockaddr *)&sc, sizeof(sc)) < 0 &&
      errno != EINPROGRESS) {
    int err = errno;
    tern_log_error(a->log_id, "sctp: connect: %s", strerror(err));
    a->state = ST_CLOSED;
    return -err;
  }
  return 0;
}

void tern_sctp_assoc_input(struct tern_sctp_assoc *a, const uint8_t *buf,
                           size_t len) {
  /* Before start the INIT collision rules would not hold; after close the
   * packet would only make usrsctp answer out-of-the-blue. */
  if (a->state != ST_CONNECTING && a->state != ST_UP)
    return;
  usrsctp_conninput((void *)a->key, buf, len, 0);
  run_ready(a->stack);
}

int tern_sctp_assoc_send(struct tern_sctp_assoc *a, uint16_t sid, uint32_t ppid,
                         const uint8_t *buf, size_t len,
                         const struct tern_sctp_sendopts *opts) {
  static const uint8_t filler = 0;
  if (a->state != ST_UP)
    return -ENOTCONN;
  if (sid >= a->out_streams)
    return -EINVAL;
  if (a->tx_partial && sid != a->tx_sid) {
    a->want_writable = true;
    return -EAGAIN;
  }
  if (len > INT_MAX || (!a->tx_partial && a->remote_max && len > a->remote_max))
    return -EMSGSIZE;
  /* RFC 8831 §6.6: SCTP cannot carry an empty message; ppids 56/57 carry
   * one byte that the receiver ignores. */
  const uint8_t *p = len ? buf : &filler;
  size_t plen = len ? len : 1;
  /* Explicit EOR: a message bigger than the send buffer goes in parts,
   * the last one flagged SCTP_EOR. usrsctp may also take less than asked. */
  size_t piece = plen > SOCK_BUF ? SOCK_BUF : plen;

  struct sctp_sendv_spa spa;
  memset(&spa, 0, sizeof(spa));
  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = sid;
  spa.sendv_sndinfo.snd_ppid = htonl(ppid);
  spa.sendv_sndinfo.snd_flags = piece == plen ? SCTP_EOR : 0;
  if (opts && opts->unordered)
    spa.sendv_sndinfo.snd_flags |= SCTP_UNORDERED;
  if (opts && opts->max_lifetime_ms >= 0) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = (uint32_t)opts->max_lifetime_ms;
  } else if (opts && opts->max_rtx >= 0) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = (uint32_t)opts->max_rtx;
  }
  ssize_t r = usrsctp_sendv(a->sock, p, piece, NULL, 0, &spa, sizeof(spa),
                            SCTP_SENDV_SPA, 0);
  if (r < 0) {
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) {
      a->want_writable = true;
      return -EAGAIN;
    }
    if (e == EMSGSIZE || e == EINVAL)
      return -e;
    tern_log_debug(a->log_id, "sctp: send: %s", strerror(e));
    return -ENOTCONN;
  }
  if ((size_t)r == plen) {
    a->tx_partial = false;
    return (int)len;
  }
  a->tx_partial = true;
  a->tx_sid = sid;
  a->want_writable = true;
  return (int)r;
}

int tern_sctp_assoc_reset_stream(struct tern_sctp_assoc *a, uint16_t sid) {
  if (a->state != ST_UP)
    return -ENOTCONN;
  union {
    struct sctp_reset_streams srs;
    uint8_t raw[sizeof(struct sctp_reset_streams) + sizeof(uint16_t)];
  } u;
  memset(&u, 0, sizeof(u));
  u.srs.srs_flags = SCTP_STREAM_RESET_OUTGOING;
  u.srs.srs_number_streams = 1;
  u.srs.srs_stream_list[0] = sid;
  /* usrsctp queues the request behind data already on the stream and behind
   * a reset still in flight (RFC 6525 allows one at a time). */
  if (usrsctp_setsockopt(a->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, &u.srs,
                         sizeof(u.raw)) < 0) {
    int e = errno;
    tern_log_debug(a->log_id, "sctp: reset stream %u: %s", sid, strerror(e));
    return -e;
  }
  return 0;
}

void tern_sctp_assoc_set_remote_max_message_size(struct tern_sctp_assoc *a,
                                                 uint32_t n) {
  a->remote_max = n;
}

uint32_t tern_sctp_assoc_remote_max_message_size(const struct tern_sctp_assoc *a) {
  return a->remote_max;
}

uint16_t tern_sctp_assoc_streams(const struct tern_sctp_assoc *a) {
  return a->out_streams;
}

bool tern_sctp_assoc_is_up(const struct tern_sctp_assoc *a) {
  return a->state == ST_UP;
}

void tern_sctp_assoc_destroy(struct tern_sctp_assoc *a) {
  if (!a)
    return;
  struct tern_sctp_stack *s = a->stack;
  ready_unlink(a);
  /* With SO_LINGER 0 this sends ABORT (through ops->send) and frees the
   * association inside usrsctp; no upcall may reach us afterwards. */
  usrsctp_set_upcall(a->sock, NULL, NULL);
  usrsctp_close(a->sock);
  usrsctp_deregister_address((void *)a->key);
  slot_free(s, a);
  if (a->dropped_oversize)
    tern_log_info(a->log_id, "sctp: %llu oversized messages were dropped",
                  (unsigned long long)a->dropped_oversize);
  free(a->rx_buf);
  free(a);
  if (--s->assocs == 0)
    uv_timer_stop(s->timer);
}
