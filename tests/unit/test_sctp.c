/* test_sctp — two tern_dc_sets back to back in memory on a real uv loop.
 *
 * No DTLS: one side's SCTP packets are queued and fed to the other side from
 * a uv_idle callback (never from inside the send callback, which usrsctp calls
 * while it holds its locks). Each test bounds its time with a 20 s timer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "sctp/datachannel.h"
#include "test.h"

#define DEADLINE_MS 20000
#define MIB (1024 * 1024)

struct pkt {
  struct pkt *next;
  size_t len;
  uint8_t data[];
};

struct env;

struct side {
  struct env *env;
  struct tern_dc_set *set;
  struct side *peer;
  struct pkt *in_head, *in_tail; /* packets on their way to this side */
  bool connected, closed;
};

struct chan {
  struct tern_dc *dc;
  bool opened, closed;
  int nmsg, next_seq;
  bool order_ok, pattern_ok;
  size_t bytes, last_len;
  bool last_binary;
  int low_fired;
  size_t buffered_at_low;
  char label[32], protocol[32];
  char seen[256]; /* unordered test: which sequence numbers arrived */
};

struct env {
  uv_loop_t loop;
  uv_idle_t idle;
  uv_timer_t deadline;
  struct tern_sctp_stack *stack;
  struct side c, s;
  bool timed_out;
  size_t max_pkt;
  /* loss: drop every drop_every-th client→server packet starting with DATA */
  int drop_every, data_pkts, dropped_chunks;
  struct chan remote[8]; /* channels the server side was told about */
  int nremote;
  struct chan remote_c[8]; /* channels the client side was told about */
  int nremote_c;
};

static const struct tern_dc_ops chan_ops;
static void on_idle(uv_idle_t *h);

/* ---- the wire ---- */

static unsigned data_chunks(const uint8_t *p, size_t len) {
  unsigned n = 0;
  for (size_t off = 12; off + 4 <= len;) {
    size_t clen = (size_t)p[off + 2] << 8 | p[off + 3];
    if (clen < 4)
      break;
    if (p[off] == 0)
      n++;
    off += (clen + 3) & ~(size_t)3;
  }
  return n;
}

static void wire_send(void *user, const uint8_t *buf, size_t len) {
  struct side *from = user;
  struct env *e = from->env;
  struct side *to = from->peer;
  if (len > e->max_pkt)
    e->max_pkt = len;
  if (e->drop_every && to == &e->s && len > 12 && buf[12] == 0 &&
      ++e->data_pkts % e->drop_every == 0) {
    e->dropped_chunks += (int)data_chunks(buf, len);
    return;
  }
  struct pkt *p = malloc(sizeof(*p) + len);
  if (!p)
    abort();
  p->next = NULL;
  p->len = len;
  memcpy(p->data, buf, len);
  if (to->in_tail)
    to->in_tail->next = p;
  else
    to->in_head = p;
  to->in_tail = p;
  uv_idle_start(&e->idle, on_idle);
}

static void deliver_all(struct side *sd) {
  struct pkt *p = sd->in_head;
  sd->in_head = sd->in_tail = NULL;
  while (p) {
    struct pkt *next = p->next;
    if (sd->set)
      tern_dc_set_input(sd->set, p->data, p->len);
    free(p);
    p = next;
  }
}

static void on_idle(uv_idle_t *h) {
  struct env *e = h->data;
  deliver_all(&e->c);
  deliver_all(&e->s);
  if (!e->c.in_head && !e->s.in_head)
    uv_idle_stop(&e->idle);
}

static void on_deadline(uv_timer_t *t) {
  struct env *e = t->data;
  e->timed_out = true;
  fprintf(stderr, "deadline reached\n");
  uv_stop(&e->loop);
}

#define WAIT(e, cond)                                                          \
  do {                                                                         \
    while (!(cond) && !(e)->timed_out)                                         \
      uv_run(&(e)->loop, UV_RUN_ONCE);                                         \
  } while (0)

/* ---- callbacks ---- */

static void set_connected(void *user) { ((struct side *)user)->connected = true; }
static void set_closed(void *user) { ((struct side *)user)->closed = true; }

static void record_channel(struct chan *arr, int *n, struct tern_dc *dc) {
  if (*n >= 8) {
    tern_dc_close(dc);
    return;
  }
  struct chan *ch = &arr[(*n)++];
  memset(ch, 0, sizeof(*ch));
  ch->dc = dc;
  ch->order_ok = ch->pattern_ok = true;
  snprintf(ch->label, sizeof(ch->label), "%s", tern_dc_label(dc));
  snprintf(ch->protocol, sizeof(ch->protocol), "%s", tern_dc_protocol(dc));
  tern_dc_set_ops(dc, &chan_ops, ch);
}

static void server_channel(void *user, struct tern_dc *dc) {
  struct env *e = ((struct side *)user)->env;
  record_channel(e->remote, &e->nremote, dc);
}

static void client_channel(void *user, struct tern_dc *dc) {
  struct env *e = ((struct side *)user)->env;
  record_channel(e->remote_c, &e->nremote_c, dc);
}

static const struct tern_dc_set_ops server_ops = {
    .send = wire_send,
    .channel = server_channel,
    .connected = set_connected,
    .closed = set_closed,
};
static const struct tern_dc_set_ops client_ops = {
    .send = wire_send,
    .channel = client_channel,
    .connected = set_connected,
    .closed = set_closed,
};

static void ch_open(struct tern_dc *dc, void *user) {
  (void)dc;
  ((struct chan *)user)->opened = true;
}

static uint8_t pattern(size_t i, size_t len) { return (uint8_t)(i * 131 + len); }

static void ch_message(struct tern_dc *dc, void *user, const uint8_t *buf,
                       size_t len, bool binary) {
  (void)dc;
  struct chan *ch = user;
  ch->nmsg++;
  ch->bytes += len;
  ch->last_len = len;
  ch->last_binary = binary;
  if (!binary && len >= 6 && buf[0] == 'm') {
    int seq = atoi((const char *)buf + 1);
    if (seq != ch->next_seq)
      ch->order_ok = false;
    ch->next_seq = seq + 1;
    /* the payload after the number repeats the letter of seq % 26 */
    for (size_t i = 6; i < len; i++)
      if (buf[i] != 'a' + seq % 26)
        ch->pattern_ok = false;
  } else if (!binary && len >= 1 && buf[0] == 'u') {
    int seq = atoi((const char *)buf + 1);
    if (seq >= 0 && seq < 256) {
      if (ch->seen[seq])
        ch->order_ok = false; /* duplicate */
      ch->seen[seq] = 1;
    }
  } else if (binary) {
    for (size_t i = 0; i < len; i++)
      if (buf[i] != pattern(i, len)) {
        if (ch->pattern_ok)
          fprintf(stderr, "pattern mismatch at %zu of %zu\n", i, len);
        ch->pattern_ok = false;
        break;
      }
  }
}

static void ch_closed(struct tern_dc *dc, void *user) {
  (void)dc;
  struct chan *ch = user;
  ch->closed = true;
  ch->dc = NULL;
}

static void ch_low(struct tern_dc *dc, void *user) {
  struct chan *ch = user;
  ch->low_fired++;
  ch->buffered_at_low = tern_dc_buffered_amount(dc);
}

static const struct tern_dc_ops chan_ops = {
    .open = ch_open,
    .message = ch_message,
    .closed = ch_closed,
    .buffered_low = ch_low,
};

/* ---- environment ---- */

static bool env_init(struct env *e, uint32_t max_msg_c, uint32_t max_msg_s) {
  memset(e, 0, sizeof(*e));
  if (uv_loop_init(&e->loop) < 0)
    return false;
  uv_idle_init(&e->loop, &e->idle);
  e->idle.data = e;
  uv_timer_init(&e->loop, &e->deadline);
  e->deadline.data = e;
  uv_timer_start(&e->deadline, on_deadline, DEADLINE_MS, 0);
  e->stack = tern_sctp_stack_create(&e->loop);
  if (!e->stack)
    return false;
  e->c.env = e->s.env = e;
  e->c.peer = &e->s;
  e->s.peer = &e->c;
  struct tern_dc_set_config cc = {.dtls_client = true,
                                  .max_message_size = max_msg_c,
                                  .log_id = "client"};
  struct tern_dc_set_config sc = {.dtls_client = false,
                                  .max_message_size = max_msg_s,
                                  .log_id = "server"};
  e->c.set = tern_dc_set_create_ex(e->stack, &cc, &client_ops, &e->c);
  e->s.set = tern_dc_set_create_ex(e->stack, &sc, &server_ops, &e->s);
  return e->c.set && e->s.set;
}

/* Both sides start as the peer would after DTLS; each tells the other's
 * max-message-size as SDP would. */
static bool env_start(struct env *e, uint32_t remote_max_for_c,
                      uint32_t remote_max_for_s) {
  if (tern_dc_set_start(e->c.set, 5000, remote_max_for_c) < 0 ||
      tern_dc_set_start(e->s.set, 5000, remote_max_for_s) < 0)
    return false;
  WAIT(e, e->c.connected && e->s.connected);
  return e->c.connected && e->s.connected;
}

static void free_queue(struct side *sd) {
  while (sd->in_head) {
    struct pkt *p = sd->in_head;
    sd->in_head = p->next;
    free(p);
  }
  sd->in_tail = NULL;
}

static void env_fini(struct env *e) {
  tern_dc_set_destroy(e->c.set);
  e->c.set = NULL;
  tern_dc_set_destroy(e->s.set);
  e->s.set = NULL;
  free_queue(&e->c);
  free_queue(&e->s);
  tern_sctp_stack_destroy(e->stack);
  uv_close((uv_handle_t *)&e->idle, NULL);
  uv_close((uv_handle_t *)&e->deadline, NULL);
  uv_run(&e->loop, UV_RUN_DEFAULT);
  CHECK_EQ_INT(uv_loop_close(&e->loop), 0);
}

static struct tern_dc *make_dc(struct env *e, struct side *sd, struct chan *ch,
                               const struct tern_dc_init *init) {
  memset(ch, 0, sizeof(*ch));
  ch->order_ok = ch->pattern_ok = true;
  (void)e;
  ch->dc = tern_dc_create(sd->set, init, &chan_ops, ch);
  return ch->dc;
}

static void send_seq(struct tern_dc *dc, int seq) {
  char msg[64];
  int n = snprintf(msg, sizeof(msg), "m%05d", seq);
  int extra = seq % 37;
  memset(msg + n, 'a' + seq % 26, (size_t)extra);
  CHECK_EQ_INT(tern_dc_send(dc, (const uint8_t *)msg, (size_t)(n + extra), false), 0);
}

static void fill_pattern(uint8_t *b, size_t len) {
  for (size_t i = 0; i < len; i++)
    b[i] = pattern(i, len);
}

/* ---- tests ---- */

static const struct tern_dc_init reliable = {
    .ordered = true, .max_retransmits = -1, .max_packet_life_time = -1, .id = -1};

/* Channels opened by the client, by the server, and pre-negotiated; 1000 text
 * messages each way on each, in order and intact. */
static void test_channels_and_messages(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 0));
  struct chan cc, sc, nc, ns;
  struct tern_dc_init init = reliable;
  init.label = "chat";
  init.protocol = "proto-1";
  REQUIRE(make_dc(&e, &e.c, &cc, &init)); /* before start: OPEN sent at up */
  CHECK_EQ_INT(tern_dc_id(cc.dc), -1);    /* assigned at start */
  CHECK(!tern_dc_is_open(cc.dc));
  CHECK_EQ_INT(tern_dc_send(cc.dc, (const uint8_t *)"x", 1, false), -ENOTCONN);
  struct tern_dc_init neg = reliable;
  neg.negotiated = true;
  neg.id = 7;
  neg.label = "negotiated";
  REQUIRE(make_dc(&e, &e.c, &nc, &neg));
  REQUIRE(make_dc(&e, &e.s, &ns, &neg));
  CHECK(tern_dc_create(e.c.set, &neg, &chan_ops, NULL) == NULL); /* id taken */
  REQUIRE(env_start(&e, 0, 0));
  CHECK_EQ_INT(tern_dc_id(cc.dc), 0); /* DTLS client: even ids */

  WAIT(&e, cc.opened && e.nremote == 1 && nc.opened && ns.opened);
  REQUIRE(cc.opened && e.nremote == 1);
  CHECK(nc.opened && ns.opened);
  struct chan *rc = &e.remote[0];
  CHECK(rc->opened);
  CHECK_EQ_STR(rc->label, "chat");
  CHECK_EQ_STR(rc->protocol, "proto-1");
  CHECK_EQ_INT(tern_dc_id(rc->dc), 0);
  CHECK(tern_dc_is_ordered(rc->dc));

  /* A channel opened by the server (odd id), created after the association
   * is up: open arrives later, never inside tern_dc_create. */
  struct tern_dc_init sinit = reliable;
  sinit.label = "from-server";
  REQUIRE(make_dc(&e, &e.s, &sc, &sinit));
  CHECK_EQ_INT(tern_dc_id(sc.dc), 1);
  CHECK(!sc.opened);
  WAIT(&e, sc.opened && e.nremote_c == 1);
  REQUIRE(e.nremote_c == 1);
  struct chan *rs = &e.remote_c[0];
  CHECK_EQ_STR(rs->label, "from-server");

  for (int i = 0; i < 1000; i++) {
    send_seq(cc.dc, i);
    send_seq(rc->dc, i);
    send_seq(sc.dc, i);
    send_seq(rs->dc, i);
    send_seq(nc.dc, i);
    send_seq(ns.dc, i);
  }
  WAIT(&e, rc->nmsg == 1000 && cc.nmsg == 1000 && sc.nmsg == 1000 &&
               rs->nmsg == 1000 && nc.nmsg == 1000 && ns.nmsg == 1000);
  struct chan *all[] = {&cc, rc, &sc, rs, &nc, &ns};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    CHECK_EQ_INT(all[i]->nmsg, 1000);
    CHECK(all[i]->order_ok);
    CHECK(all[i]->pattern_ok);
  }
  CHECK(e.max_pkt > 0 && e.max_pkt <= TERN_SCTP_MAX_PACKET);
  env_fini(&e);
}

/* 1 MiB binary, empty messages, max-message-size on both ends. */
static void test_large_and_empty(void) {
  struct env e;
  const uint32_t max = MIB + 16;
  REQUIRE(env_init(&e, max, max));
  struct chan cc;
  REQUIRE(make_dc(&e, &e.c, &cc, &reliable));
  REQUIRE(env_start(&e, max, max));
  WAIT(&e, cc.opened && e.nremote == 1 && e.remote[0].opened);
  REQUIRE(e.nremote == 1);
  struct chan *rc = &e.remote[0];

  uint8_t *big = malloc(MIB + 17);
  REQUIRE(big);
  fill_pattern(big, MIB);
  CHECK_EQ_INT(tern_dc_send(cc.dc, big, MIB, true), 0);
  WAIT(&e, rc->nmsg == 1);
  CHECK_EQ_INT(rc->last_len, MIB);
  CHECK(rc->last_binary && rc->pattern_ok);

  /* and back */
  CHECK_EQ_INT(tern_dc_send(rc->dc, big, MIB, true), 0);
  WAIT(&e, cc.nmsg == 1);
  CHECK_EQ_INT(cc.last_len, MIB);
  CHECK(cc.pattern_ok);

  CHECK_EQ_INT(tern_dc_send(cc.dc, (const uint8_t *)"", 0, false), 0);
  WAIT(&e, rc->nmsg == 2);
  CHECK_EQ_INT(rc->last_len, 0);
  CHECK(!rc->last_binary);
  CHECK_EQ_INT(tern_dc_send(cc.dc, NULL, 0, true), 0);
  WAIT(&e, rc->nmsg == 3);
  CHECK_EQ_INT(rc->last_len, 0);
  CHECK(rc->last_binary);

  /* Beyond what the remote said it accepts. */
  fill_pattern(big, max + 1);
  CHECK_EQ_INT(tern_dc_send(cc.dc, big, max + 1, true), -EMSGSIZE);
  fill_pattern(big, max);
  CHECK_EQ_INT(tern_dc_send(cc.dc, big, max, true), 0);
  WAIT(&e, rc->nmsg == 4);
  CHECK_EQ_INT(rc->last_len, max);
  CHECK(rc->pattern_ok);
  free(big);
  CHECK(e.max_pkt <= TERN_SCTP_MAX_PACKET);
  env_fini(&e);
}

/* A peer that ignores our max-message-size: the message is dropped and the
 * channel closed on both sides; smaller messages before it still arrived. */
static void test_oversize_incoming(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 100 * 1024)); /* server accepts ≤ 100 KiB */
  struct chan cc;
  REQUIRE(make_dc(&e, &e.c, &cc, &reliable));
  REQUIRE(env_start(&e, 0 /* client believes: any size */, 0));
  WAIT(&e, cc.opened && e.nremote == 1);
  REQUIRE(e.nremote == 1);
  struct chan *rc = &e.remote[0];
  uint8_t *big = malloc(300 * 1024);
  REQUIRE(big);
  fill_pattern(big, 1000);
  CHECK_EQ_INT(tern_dc_send(cc.dc, big, 1000, true), 0);
  fill_pattern(big, 300 * 1024);
  CHECK_EQ_INT(tern_dc_send(cc.dc, big, 300 * 1024, true), 0);
  WAIT(&e, cc.closed && rc->closed);
  CHECK(cc.closed && rc->closed);
  CHECK_EQ_INT(rc->nmsg, 1);
  CHECK_EQ_INT(rc->last_len, 1000);
  free(big);
  /* The association itself survives. */
  CHECK(!e.c.closed && !e.s.closed);
  env_fini(&e);
}

/* Unordered, maxRetransmits 0: lost messages are abandoned, not resent. */
static void test_unordered_unreliable(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 0));
  struct chan cu, done;
  struct tern_dc_init un = reliable;
  un.label = "unreliable";
  un.ordered = false;
  un.max_retransmits = 0;
  REQUIRE(make_dc(&e, &e.c, &cu, &un));
  REQUIRE(make_dc(&e, &e.c, &done, &reliable));
  REQUIRE(env_start(&e, 0, 0));
  WAIT(&e, cu.opened && e.nremote == 2);
  REQUIRE(e.nremote == 2);
  struct chan *ru = &e.remote[0], *rd = &e.remote[1];
  if (strcmp(ru->label, "unreliable") != 0) {
    struct chan *t = ru;
    ru = rd;
    rd = t;
  }
  CHECK(!tern_dc_is_ordered(ru->dc));
  CHECK_EQ_INT(tern_dc_max_retransmits(ru->dc), 0);
  /* Wait for the ACK so the burst really goes unordered. */
  CHECK_EQ_INT(tern_dc_send(ru->dc, (const uint8_t *)"hi", 2, false), 0);
  WAIT(&e, cu.nmsg == 1);

  e.drop_every = 7;
  for (int i = 0; i < 200; i++) {
    char m[120];
    int n = snprintf(m, sizeof(m), "u%d ", i);
    memset(m + n, '.', sizeof(m) - (size_t)n);
    CHECK_EQ_INT(tern_dc_send(cu.dc, (const uint8_t *)m, sizeof(m), false), 0);
  }
  WAIT(&e, tern_dc_buffered_amount(cu.dc) == 0 &&
               ru->nmsg + e.dropped_chunks >= 200);
  e.drop_every = 0;
  CHECK(e.dropped_chunks > 0);
  CHECK_EQ_INT(ru->nmsg, 200 - e.dropped_chunks);
  CHECK(ru->order_ok); /* no duplicates */
  /* The association is healthy afterwards: a reliable message gets through. */
  CHECK_EQ_INT(tern_dc_send(done.dc, (const uint8_t *)"m00000", 6, false), 0);
  WAIT(&e, rd->nmsg == 1);
  CHECK_EQ_INT(rd->nmsg, 1);
  env_fini(&e);
}

/* bufferedAmount rises, buffered_low fires while draining, the set's bound
 * gives -ENOBUFS, and everything arrives. */
static void test_backpressure(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 0));
  struct chan cc;
  REQUIRE(make_dc(&e, &e.c, &cc, &reliable));
  REQUIRE(env_start(&e, 0, 0));
  WAIT(&e, cc.opened && e.nremote == 1);
  REQUIRE(e.nremote == 1);
  struct chan *rc = &e.remote[0];
  tern_dc_set_buffered_amount_low_threshold(cc.dc, MIB);

  const size_t chunk = 64 * 1024;
  uint8_t *buf = malloc(MIB);
  REQUIRE(buf);
  fill_pattern(buf, chunk);
  int sent = 0;
  for (int i = 0; i < 128; i++, sent++) /* 8 MiB */
    CHECK_EQ_INT(tern_dc_send(cc.dc, buf, chunk, true), 0);
  size_t b = tern_dc_buffered_amount(cc.dc);
  CHECK(b > 7 * (size_t)MIB);
  CHECK(b <= 8 * (size_t)MIB);
  CHECK_EQ_INT(cc.low_fired, 0);

  /* Fill the set's 16 MiB bound. */
  int r = 0, extra = 0;
  while ((r = tern_dc_send(cc.dc, buf, chunk, true)) == 0 && extra < 1000)
    extra++;
  CHECK_EQ_INT(r, -ENOBUFS);
  /* the bound counts Tern's queue only, not what usrsctp already took */
  CHECK_EQ_INT(extra, (TERN_DC_DEFAULT_MAX_BUFFERED - b) / chunk);
  sent += extra;

  WAIT(&e, cc.low_fired > 0);
  CHECK_EQ_INT(cc.low_fired, 1);
  CHECK(cc.buffered_at_low <= MIB);
  WAIT(&e, rc->nmsg == sent);
  CHECK_EQ_INT(rc->nmsg, sent);
  CHECK_EQ_INT(rc->bytes, (size_t)sent * chunk);
  CHECK(rc->pattern_ok);
  CHECK_EQ_INT(tern_dc_buffered_amount(cc.dc), 0);
  free(buf);
  env_fini(&e);
}

/* Close from either side: both get closed, after the messages sent before. */
static void test_close(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 0));
  struct chan a, b, c, early;
  struct tern_dc_init init = reliable;
  REQUIRE(make_dc(&e, &e.c, &a, &init));
  REQUIRE(make_dc(&e, &e.c, &b, &init));
  REQUIRE(make_dc(&e, &e.c, &c, &init));
  REQUIRE(make_dc(&e, &e.c, &early, &init));
  /* Closed before the association exists: closed comes, but not inside. */
  tern_dc_close(early.dc);
  CHECK(!early.closed);
  REQUIRE(env_start(&e, 0, 0));
  WAIT(&e, early.closed);
  CHECK(early.closed);
  WAIT(&e, a.opened && b.opened && c.opened && e.nremote == 3);
  REQUIRE(e.nremote == 3);
  struct chan *ra = NULL, *rb = NULL, *rcc = NULL;
  for (int i = 0; i < 3; i++) {
    int id = tern_dc_id(e.remote[i].dc);
    if (id == tern_dc_id(a.dc))
      ra = &e.remote[i];
    else if (id == tern_dc_id(b.dc))
      rb = &e.remote[i];
    else
      rcc = &e.remote[i];
  }
  REQUIRE(ra && rb && rcc);

  int a_id = tern_dc_id(a.dc);
  CHECK_EQ_INT(a_id, 0);
  /* client closes a right after sending: the messages arrive first */
  for (int i = 0; i < 50; i++)
    send_seq(a.dc, i);
  tern_dc_close(a.dc);
  CHECK(!a.closed);
  CHECK_EQ_INT(tern_dc_send(a.dc, (const uint8_t *)"x", 1, false), -EPIPE);
  /* server closes b and c at once: two resets back to back */
  send_seq(rb->dc, 0);
  tern_dc_close(rb->dc);
  tern_dc_close(rcc->dc);
  WAIT(&e, a.closed && ra->closed && b.closed && rb->closed && c.closed &&
               rcc->closed);
  CHECK(a.closed && ra->closed);
  CHECK(b.closed && rb->closed && c.closed && rcc->closed);
  CHECK_EQ_INT(ra->nmsg, 50);
  CHECK(ra->order_ok && ra->pattern_ok);
  CHECK_EQ_INT(b.nmsg, 1);

  /* A's id is reusable once our outgoing reset completed; channels still
   * work. (make_dc fails while the reset is in flight.) */
  struct chan d;
  init.id = a_id;
  WAIT(&e, make_dc(&e, &e.c, &d, &init) != NULL);
  REQUIRE(d.dc);
  CHECK_EQ_INT(tern_dc_id(d.dc), a_id);
  WAIT(&e, d.opened && e.nremote == 4);
  REQUIRE(e.nremote == 4);
  send_seq(d.dc, 0);
  WAIT(&e, e.remote[3].nmsg == 1);
  CHECK_EQ_INT(e.remote[3].nmsg, 1);
  CHECK(!e.c.closed && !e.s.closed);
  env_fini(&e);
}

/* Destroying one side aborts the association: the other side's channels and
 * the set itself report closed. */
static void test_abort(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 0));
  struct chan cc;
  REQUIRE(make_dc(&e, &e.c, &cc, &reliable));
  REQUIRE(env_start(&e, 0, 0));
  WAIT(&e, cc.opened && e.nremote == 1);
  REQUIRE(e.nremote == 1);
  tern_dc_set_destroy(e.c.set); /* no callbacks for the client's channel */
  e.c.set = NULL;
  CHECK(!cc.closed);
  WAIT(&e, e.remote[0].closed && e.s.closed);
  CHECK(e.remote[0].closed);
  CHECK(e.s.closed);
  CHECK(tern_dc_create(e.s.set, &reliable, &chan_ops, NULL) == NULL);
  env_fini(&e);
}

/* The remote closes a channel while SCTP holds the first part of a large
 * message on it: the message is completed (or the association would stay
 * locked to it), the rest of the queue dropped, and other channels go on. */
static void test_close_while_sending(void) {
  struct env e;
  REQUIRE(env_init(&e, 2 * MIB, 2 * MIB));
  struct chan x, y;
  REQUIRE(make_dc(&e, &e.c, &x, &reliable));
  REQUIRE(make_dc(&e, &e.c, &y, &reliable));
  REQUIRE(env_start(&e, 2 * MIB, 2 * MIB));
  WAIT(&e, x.opened && y.opened && e.nremote == 2);
  REQUIRE(e.nremote == 2);
  struct chan *rx = tern_dc_id(e.remote[0].dc) == tern_dc_id(x.dc)
                        ? &e.remote[0] : &e.remote[1];
  struct chan *ry = rx == &e.remote[0] ? &e.remote[1] : &e.remote[0];
  uint8_t *big = malloc(MIB);
  REQUIRE(big);
  fill_pattern(big, MIB);
  for (int i = 0; i < 3; i++)
    CHECK_EQ_INT(tern_dc_send(x.dc, big, MIB, true), 0);
  CHECK(tern_dc_buffered_amount(x.dc) > MIB);
  tern_dc_close(rx->dc);
  WAIT(&e, x.closed && rx->closed);
  CHECK(x.closed && rx->closed);
  /* the first message was partly in SCTP: it completes; the queue is dropped */
  CHECK(rx->nmsg >= 1 && rx->nmsg < 3);
  CHECK(rx->pattern_ok);
  send_seq(y.dc, 0);
  WAIT(&e, ry->nmsg == 1);
  CHECK_EQ_INT(ry->nmsg, 1);
  free(big);
  env_fini(&e);
}

/* An offerer learns its DTLS role from the answer: channels created before
 * start get their ids at start, with the parity of the final role. */
static void test_role_at_start(void) {
  struct env e;
  REQUIRE(env_init(&e, 0, 0));
  static const struct tern_dc_set_ops no_send_ops = {
      .channel = client_channel, .connected = set_connected,
      .closed = set_closed};
  tern_dc_set_destroy(e.c.set);
  e.c.set = tern_dc_set_create(e.stack, false /* guess */, &no_send_ops, &e.c,
                               "client");
  REQUIRE(e.c.set);
  CHECK_EQ_INT(tern_dc_set_start(e.c.set, 5000, 0), -EINVAL); /* no send */
  tern_dc_set_set_send(e.c.set, wire_send, &e.c);
  struct chan a, odd, b;
  REQUIRE(make_dc(&e, &e.c, &a, &reliable));
  struct tern_dc_init explicit_odd = reliable;
  explicit_odd.id = 3; /* fine for the guessed (server) role */
  REQUIRE(make_dc(&e, &e.c, &odd, &explicit_odd));
  REQUIRE(make_dc(&e, &e.c, &b, &reliable));
  CHECK_EQ_INT(tern_dc_id(a.dc), -1);
  CHECK_EQ_INT(tern_dc_set_set_dtls_client(e.c.set, true), 0);
  REQUIRE(env_start(&e, 0, 0));
  CHECK_EQ_INT(tern_dc_set_set_dtls_client(e.c.set, false), -EALREADY);
  CHECK_EQ_INT(tern_dc_id(a.dc), 0);
  CHECK_EQ_INT(tern_dc_id(b.dc), 2);
  WAIT(&e, a.opened && b.opened && odd.closed && e.nremote == 2);
  CHECK(a.opened && b.opened);
  CHECK(odd.closed && !odd.opened); /* wrong parity for the final role */
  CHECK_EQ_INT(e.nremote, 2);
  env_fini(&e);
}

/* usrsctp is process-wide: one stack, refcounted, on one loop. */
static void test_stack(void) {
  uv_loop_t a, b;
  REQUIRE(uv_loop_init(&a) == 0 && uv_loop_init(&b) == 0);
  struct tern_sctp_stack *s1 = tern_sctp_stack_create(&a);
  struct tern_sctp_stack *s2 = tern_sctp_stack_create(&a);
  CHECK(s1 && s1 == s2);
  CHECK(tern_sctp_stack_create(&b) == NULL);
  CHECK(tern_sctp_stack_loop(s1) == &a);
  tern_sctp_stack_destroy(s2);
  tern_sctp_stack_destroy(s1);
  uv_run(&a, UV_RUN_DEFAULT);
  /* After the last reference, another loop may take usrsctp. */
  struct tern_sctp_stack *s3 = tern_sctp_stack_create(&b);
  CHECK(s3 != NULL);
  tern_sctp_stack_destroy(s3);
  uv_run(&b, UV_RUN_DEFAULT);
  CHECK_EQ_INT(uv_loop_close(&a), 0);
  CHECK_EQ_INT(uv_loop_close(&b), 0);
}

int main(void) {
  RUN(test_stack);
  RUN(test_channels_and_messages);
  RUN(test_role_at_start);
  RUN(test_large_and_empty);
  RUN(test_oversize_incoming);
  RUN(test_unordered_unreliable);
  RUN(test_backpressure);
  RUN(test_close);
  RUN(test_close_while_sending);
  RUN(test_abort);
  return TEST_RESULT();
}
