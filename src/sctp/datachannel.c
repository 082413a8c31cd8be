/* datachannel.c — channels and DCEP over one association (their send
 * queues are dc_queue.c).
 * See datachannel.h for the lifetime and callback rules.
 */
#include "sctp/datachannel.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sctp/dc_int.h"
#include "sctp/dcep.h"

static const struct tern_dc_ops no_ops;

static void fire_pending(struct tern_dc_set *s);

static void defer_cb(uv_timer_t *t) {
  struct tern_dc_set *s = t->data;
  if (s)
    fire_pending(s);
}

static void arm_defer(struct tern_dc_set *s) {
  uv_timer_start(s->defer, defer_cb, 0, 0);
}

/* ---- closing ---- */

static void dc_free(struct tern_dc *dc) {
  struct tern_dc_set *s = dc->set;
  if (s->tx_current == dc)
    s->tx_current = NULL;
  dc_queue_free_all(dc);
  if (dc->has_id && s->by_sid[dc->id] == dc)
    s->by_sid[dc->id] = NULL;
  for (struct tern_dc **pp = &s->unassigned; *pp; pp = &(*pp)->next_unassigned)
    if (*pp == dc) {
      *pp = dc->next_unassigned;
      break;
    }
  free(dc);
}

/* Runs the closed callback, then frees. Only from input/timer/deferred
 * contexts, never from an API call on dc itself. */
static void finish_close(struct tern_dc *dc) {
  dc->state = DC_CLOSED;
  dc->notify_open = false;
  dc->notify_closed = false;
  if (dc->ops->closed)
    dc->ops->closed(dc, dc->user);
  dc_free(dc);
}

void dc_local_reset(struct tern_dc *dc) {
  struct tern_dc_set *s = dc->set;
  dc->local_reset = true;
  int err = tern_sctp_assoc_reset_stream(s->assoc, dc->id);
  if (err < 0)
    tern_log_debug(s->log_id, "dc %u: reset: %s", dc->id, strerror(-err));
  else
    s->resetting[dc->id] = 1; /* until reset_done: the id is not reusable */
  if (dc->remote_reset)
    finish_close(dc);
}

/* ---- SCTP callbacks ---- */

static void on_sctp_send(void *user, const uint8_t *buf, size_t len) {
  struct tern_dc_set *s = user;
  if (s->send)
    s->send(s->send_user, buf, len);
}

static int send_open(struct tern_dc *dc) {
  struct tern_dcep_open o = {
      .ordered = dc->ordered,
      .reliability = dc->max_life >= 0  ? TERN_DCEP_TIMED
                     : dc->max_rtx >= 0 ? TERN_DCEP_REXMIT
                                        : TERN_DCEP_RELIABLE,
      .reliability_param = (uint32_t)(dc->max_life >= 0  ? dc->max_life
                                      : dc->max_rtx >= 0 ? dc->max_rtx
                                                         : 0),
      .priority = TERN_DCEP_PRIORITY_NORMAL,
      .label = dc->label,
      .label_len = (uint16_t)strlen(dc->label),
      .protocol = dc->protocol,
      .protocol_len = (uint16_t)strlen(dc->protocol),
  };
  size_t n = tern_dcep_open_size(&o);
  uint8_t *buf = malloc(n);
  if (!buf)
    return -ENOMEM;
  int err = tern_dcep_encode_open(&o, buf, n);
  if (err >= 0)
    err = dc_send_or_queue(dc, buf, n, TERN_SCTP_PPID_DCEP, true);
  free(buf);
  return err;
}

/* The association is up: channels made before start open now. Opening a
 * locally created channel does not wait for the ACK (as browsers do): the
 * OPEN goes first on the stream and user messages stay ordered behind it. */
static void open_channel(struct tern_dc *dc) {
  struct tern_dc_set *s = dc->set;
  if (dc->id >= tern_sctp_assoc_streams(s->assoc)) {
    tern_log_warn(s->log_id, "dc %u: beyond the %u negotiated streams", dc->id,
                  tern_sctp_assoc_streams(s->assoc));
    dc->state = DC_CLOSED;
    dc->notify_closed = true;
    return;
  }
  if (!dc->negotiated && send_open(dc) < 0) {
    dc->state = DC_CLOSED;
    dc->notify_closed = true;
    return;
  }
  dc->acked = dc->negotiated;
  dc->state = DC_OPEN;
  dc->notify_open = true;
}

static void on_sctp_connected(void *user) {
  struct tern_dc_set *s = user;
  s->up = true;
  for (unsigned i = 0; i < s->nsids; i++) {
    struct tern_dc *dc = s->by_sid[i];
    if (dc && dc->state == DC_CONNECTING)
      open_channel(dc);
  }
  if (s->ops->connected)
    s->ops->connected(s->user);
  fire_pending(s);
}

static void on_sctp_closed(void *user) {
  struct tern_dc_set *s = user;
  s->up = false;
  s->dead = true;
  for (unsigned i = 0; i < s->nsids; i++) {
    struct tern_dc *dc = s->by_sid[i];
    if (dc)
      finish_close(dc);
  }
  if (s->ops->closed)
    s->ops->closed(s->user);
}

static void on_remote_open(struct tern_dc_set *s, uint16_t sid,
                           const uint8_t *buf, size_t len);

static void deliver(struct tern_dc_set *s, uint16_t sid, const uint8_t *buf,
                    size_t len, bool binary) {
  struct tern_dc *dc = sid < s->nsids ? s->by_sid[sid] : NULL;
  if (!dc || dc->state == DC_CLOSED || dc->state == DC_CONNECTING ||
      dc->remote_reset)
    return;
  dc->acked = true; /* a user message means our OPEN arrived */
  if (dc->notify_open) {
    dc->notify_open = false;
    if (dc->ops->open)
      dc->ops->open(dc, dc->user);
  }
  if (dc->ops->message && dc->state != DC_CLOSED)
    dc->ops->message(dc, dc->user, buf, len, binary);
}

static void on_sctp_message(void *user, uint16_t sid, uint32_t ppid,
                            const uint8_t *buf, size_t len) {
  struct tern_dc_set *s = user;
  switch (ppid) {
  case TERN_SCTP_PPID_DCEP:
    if (tern_dcep_type(buf, len) == TERN_DCEP_OPEN)
      on_remote_open(s, sid, buf, len);
    else if (tern_dcep_decode_ack(buf, len) == 0 && sid < s->nsids &&
             s->by_sid[sid])
      s->by_sid[sid]->acked = true;
    break;
  case TERN_SCTP_PPID_STRING:
    deliver(s, sid, buf, len, false);
    break;
  case TERN_SCTP_PPID_BINARY:
    deliver(s, sid, buf, len, true);
    break;
  case TERN_SCTP_PPID_STRING_EMPTY:
    deliver(s, sid, (const uint8_t *)"", 0, false);
    break;
  case TERN_SCTP_PPID_BINARY_EMPTY:
    deliver(s, sid, (const uint8_t *)"", 0, true);
    break;
  default:
    /* 52/54 (deprecated PPID-based fragmentation) and unknown: drop. */
    tern_log_debug(s->log_id, "dc %u: ppid %u dropped", sid, ppid);
    break;
  }
}

static void on_sctp_stream_reset(void *user, uint16_t sid) {
  struct tern_dc_set *s = user;
  struct tern_dc *dc = sid < s->nsids ? s->by_sid[sid] : NULL;
  if (!dc || dc->remote_reset || dc->state == DC_CLOSED)
    return;
  dc->remote_reset = true;
  dc->notify_open = false;
  if (dc->local_reset) {
    finish_close(dc);
    return;
  }
  /* The remote closed: what we had not sent yet is moot. */
  dc->state = DC_CLOSING;
  dc_queue_drop(dc);
  if (!dc->q_head)
    dc_local_reset(dc);
  else
    dc_flush(s); /* finish the message SCTP holds part of, then reset */
}

static void on_sctp_reset_done(void *user, uint16_t sid) {
  struct tern_dc_set *s = user;
  if (sid < s->nsids)
    s->resetting[sid] = 0;
}

static void on_sctp_writable(void *user) { dc_flush(user); }

/* ---- deferred callbacks ---- */

static void fire_pending(struct tern_dc_set *s) {
  struct tern_dc *u;
  while ((u = s->unassigned) && u->notify_closed)
    finish_close(u); /* closed before start: only ever at the list head */
  for (unsigned i = 0; i < s->nsids; i++) {
    struct tern_dc *dc = s->by_sid[i];
    if (!dc)
      continue;
    if (dc->notify_closed) {
      finish_close(dc);
      continue;
    }
    if (dc->notify_open && dc->state == DC_OPEN) {
      dc->notify_open = false;
      if (dc->ops->open)
        dc->ops->open(dc, dc->user);
    }
  }
}

/* ---- channels ---- */

static struct tern_dc *dc_alloc(struct tern_dc_set *s, int id,
                                const char *label, size_t label_len,
                                const char *protocol, size_t protocol_len) {
  struct tern_dc *dc = calloc(1, sizeof(*dc) + label_len + protocol_len + 2);
  if (!dc)
    return NULL;
  dc->set = s;
  dc->ops = &no_ops;
  dc->label = (char *)(dc + 1);
  memcpy(dc->label, label, label_len);
  dc->protocol = dc->label + label_len + 1;
  memcpy(dc->protocol, protocol, protocol_len);
  if (id >= 0) {
    dc->id = (uint16_t)id;
    dc->has_id = true;
    s->by_sid[id] = dc;
  } else {
    struct tern_dc **pp = &s->unassigned;
    while (*pp)
      pp = &(*pp)->next_unassigned;
    *pp = dc;
  }
  return dc;
}

static uint16_t stream_limit(const struct tern_dc_set *s) {
  uint16_t n = s->nsids;
  if (s->up && tern_sctp_assoc_streams(s->assoc) < n)
    n = tern_sctp_assoc_streams(s->assoc);
  return n;
}

static int alloc_id(struct tern_dc_set *s) {
  uint16_t limit = stream_limit(s);
  for (unsigned id = s->dtls_client ? 0 : 1; id < limit; id += 2)
    if (!s->by_sid[id] && !s->resetting[id])
      return (int)id;
  return -1;
}

static void on_remote_open(struct tern_dc_set *s, uint16_t sid,
                           const uint8_t *buf, size_t len) {
  struct tern_dcep_open o;
  if (tern_dcep_decode_open(buf, len, &o) < 0) {
    tern_log_warn(s->log_id, "dc %u: malformed DATA_CHANNEL_OPEN", sid);
    return;
  }
  if (sid >= s->nsids || s->by_sid[sid] || (sid % 2 == 0) == s->dtls_client) {
    tern_log_warn(s->log_id, "dc %u: OPEN refused (id taken or ours)", sid);
    return;
  }
  struct tern_dc *dc = dc_alloc(s, sid, o.label, o.label_len, o.protocol,
                                o.protocol_len);
  if (!dc)
    return;
  dc->ordered = o.ordered;
  dc->max_rtx = o.reliability == TERN_DCEP_REXMIT ? (int)o.reliability_param : -1;
  dc->max_life = o.reliability == TERN_DCEP_TIMED ? (int)o.reliability_param : -1;
  if (dc->max_rtx < -1 || dc->max_life < -1) /* > INT_MAX on the wire */
    dc->max_rtx = dc->max_life = -1;
  dc->acked = true;
  dc->state = DC_OPEN;
  uint8_t ack[1];
  tern_dcep_encode_ack(ack, sizeof(ack));
  if (dc_send_or_queue(dc, ack, sizeof(ack), TERN_SCTP_PPID_DCEP, true) < 0)
    tern_log_warn(s->log_id, "dc %u: cannot send ACK", sid);
  tern_log_debug(s->log_id, "dc %u: opened by the remote", sid);
  if (s->ops->channel)
    s->ops->channel(s->user, dc);
  if (dc->state == DC_OPEN && dc->ops->open)
    dc->ops->open(dc, dc->user);
}

struct tern_dc *tern_dc_create(struct tern_dc_set *s,
                               const struct tern_dc_init *init,
                               const struct tern_dc_ops *ops, void *user) {
  if (!s || !init || s->dead)
    return NULL;
  const char *label = init->label ? init->label : "";
  const char *protocol = init->protocol ? init->protocol : "";
  size_t label_len = strlen(label), protocol_len = strlen(protocol);
  if (label_len > UINT16_MAX || protocol_len > UINT16_MAX)
    return NULL;
  int id = init->id;
  if (id < 0) {
    if (init->negotiated)
      return NULL;
    /* Before start the DTLS role may still change: the id comes at start
     * (W3C: RTCDataChannel.id is null until then). */
    if (s->started && (id = alloc_id(s)) < 0)
      return NULL;
  } else if (id >= stream_limit(s) || s->by_sid[id] || s->resetting[id] ||
             (s->started && !init->negotiated &&
              (id % 2 == 0) != s->dtls_client)) {
    return NULL;
  }
  struct tern_dc *dc = dc_alloc(s, id, label, label_len, protocol,
                                protocol_len);
  if (!dc)
    return NULL;
  dc->ops = ops ? ops : &no_ops;
  dc->user = user;
  dc->ordered = init->ordered;
  dc->negotiated = init->negotiated;
  dc->max_rtx = init->max_retransmits < 0 ? -1 : init->max_retransmits;
  dc->max_life = init->max_packet_life_time < 0 ? -1 : init->max_packet_life_time;
  dc->state = DC_CONNECTING;
  if (s->up) {
    open_channel(dc); /* callbacks come from the deferred run */
    arm_defer(s);
  }
  return dc;
}

void tern_dc_set_ops(struct tern_dc *dc, const struct tern_dc_ops *ops,
                     void *user) {
  dc->ops = ops ? ops : &no_ops;
  dc->user = user;
}

int tern_dc_send(struct tern_dc *dc, const uint8_t *buf, size_t len,
                 bool binary) {
  struct tern_dc_set *s = dc->set;
  if (dc->state == DC_CONNECTING)
    return -ENOTCONN;
  if (dc->state != DC_OPEN || dc->notify_closed)
    return -EPIPE;
  uint32_t rmax = tern_sctp_assoc_remote_max_message_size(s->assoc);
  if (rmax && len > rmax)
    return -EMSGSIZE;
  if (s->buffered > s->max_buffered || len > s->max_buffered - s->buffered)
    return -ENOBUFS;
  uint32_t ppid = binary ? (len ? TERN_SCTP_PPID_BINARY
                                : TERN_SCTP_PPID_BINARY_EMPTY)
                         : (len ? TERN_SCTP_PPID_STRING
                                : TERN_SCTP_PPID_STRING_EMPTY);
  return dc_send_or_queue(dc, buf, len, ppid, false);
}

size_t tern_dc_buffered_amount(const struct tern_dc *dc) { return dc->buffered; }

void tern_dc_set_buffered_amount_low_threshold(struct tern_dc *dc, size_t n) {
  dc->low_threshold = n;
}

void tern_dc_close(struct tern_dc *dc) {
  struct tern_dc_set *s = dc->set;
  if (dc->state == DC_CLOSING || dc->state == DC_CLOSED)
    return;
  dc->notify_open = false;
  if (!s->up) { /* nothing was said on the wire */
    dc->state = DC_CLOSED;
    dc->notify_closed = true;
    if (!dc->has_id) { /* keep closed ones at the head for fire_pending */
      struct tern_dc **pp = &s->unassigned;
      while (*pp != dc)
        pp = &(*pp)->next_unassigned;
      *pp = dc->next_unassigned;
      dc->next_unassigned = s->unassigned;
      s->unassigned = dc;
    }
    arm_defer(s);
    return;
  }
  dc->state = DC_CLOSING;
  if (!dc->q_head && s->tx_current != dc)
    dc_local_reset(dc); /* remote_reset is false here: no free */
  /* else: flush resets the stream once the queue has drained. */
}

const char *tern_dc_label(const struct tern_dc *dc) { return dc->label; }
const char *tern_dc_protocol(const struct tern_dc *dc) { return dc->protocol; }
int tern_dc_id(const struct tern_dc *dc) { return dc->has_id ? dc->id : -1; }
bool tern_dc_is_open(const struct tern_dc *dc) { return dc->state == DC_OPEN; }
bool tern_dc_is_ordered(const struct tern_dc *dc) { return dc->ordered; }
int tern_dc_max_retransmits(const struct tern_dc *dc) { return dc->max_rtx; }
int tern_dc_max_packet_life_time(const struct tern_dc *dc) {
  return dc->max_life;
}

/* ---- the set ---- */

static void free_handle(uv_handle_t *h) { free(h); }

struct tern_dc_set *tern_dc_set_create(struct tern_sctp_stack *stack,
                                       bool dtls_client,
                                       const struct tern_dc_set_ops *ops,
                                       void *user, const char *log_id) {
  struct tern_dc_set_config cfg = {.dtls_client = dtls_client,
                                   .log_id = log_id};
  return tern_dc_set_create_ex(stack, &cfg, ops, user);
}

struct tern_dc_set *tern_dc_set_create_ex(struct tern_sctp_stack *stack,
                                          const struct tern_dc_set_config *cfg,
                                          const struct tern_dc_set_ops *ops,
                                          void *user) {
  if (!stack || !cfg || !ops)
    return NULL;
  struct tern_dc_set *s = calloc(1, sizeof(*s));
  if (!s)
    return NULL;
  s->ops = ops;
  s->user = user;
  s->send = ops->send;
  s->send_user = user;
  s->dtls_client = cfg->dtls_client;
  s->nsids = cfg->streams ? cfg->streams : TERN_SCTP_DEFAULT_STREAMS;
  s->max_buffered = cfg->max_buffered ? cfg->max_buffered
                                      : TERN_DC_DEFAULT_MAX_BUFFERED;
  if (cfg->log_id)
    snprintf(s->log_id, sizeof(s->log_id), "%s", cfg->log_id);
  s->by_sid = calloc(s->nsids, sizeof(*s->by_sid));
  s->resetting = calloc(s->nsids, 1);
  s->defer = malloc(sizeof(*s->defer));
  if (!s->by_sid || !s->resetting || !s->defer)
    goto free_arrays;
  if (uv_timer_init(tern_sctp_stack_loop(stack), s->defer) < 0)
    goto free_arrays;
  s->defer->data = s;
  s->sctp_ops = (struct tern_sctp_ops){
      .send = on_sctp_send,
      .connected = on_sctp_connected,
      .closed = on_sctp_closed,
      .message = on_sctp_message,
      .stream_reset = on_sctp_stream_reset,
      .writable = on_sctp_writable,
      .reset_done = on_sctp_reset_done,
  };
  struct tern_sctp_config sc = {
      .local_port = cfg->local_port,
      .streams = s->nsids,
      .max_message_size = cfg->max_message_size ? cfg->max_message_size
                                                : TERN_DC_DEFAULT_MAX_MESSAGE,
      .log_id = cfg->log_id,
  };
  s->assoc = tern_sctp_assoc_create(stack, &sc, &s->sctp_ops, s);
  if (!s->assoc)
    goto close_timer;
  return s;

close_timer:
  s->defer->data = NULL;
  uv_close((uv_handle_t *)s->defer, free_handle);
  s->defer = NULL;
free_arrays:
  free(s->defer);
  free(s->resetting);
  free(s->by_sid);
  free(s);
  return NULL;
}

void tern_dc_set_set_send(struct tern_dc_set *s,
                          void (*send)(void *user, const uint8_t *, size_t),
                          void *user) {
  s->send = send;
  s->send_user = user;
}

int tern_dc_set_set_dtls_client(struct tern_dc_set *s, bool dtls_client) {
  if (s->started)
    return -EALREADY;
  s->dtls_client = dtls_client;
  return 0;
}

/* The DTLS role is final: channels made before get their ids now, in the
 * order they were created; explicit ids of the wrong parity are refused. */
static void assign_ids(struct tern_dc_set *s) {
  bool deferred = false;
  for (unsigned i = 0; i < s->nsids; i++) {
    struct tern_dc *dc = s->by_sid[i];
    if (dc && !dc->negotiated && dc->state == DC_CONNECTING &&
        (i % 2 == 0) != s->dtls_client) {
      tern_log_warn(s->log_id, "dc %u: id of the wrong parity for our role", i);
      dc->state = DC_CLOSED;
      dc->notify_closed = deferred = true;
    }
  }
  struct tern_dc *list = s->unassigned;
  s->unassigned = NULL; /* from now on it only holds closed channels */
  while (list) {
    struct tern_dc *dc = list;
    list = dc->next_unassigned;
    dc->next_unassigned = NULL;
    int id = dc->notify_closed ? -1 : alloc_id(s);
    if (id < 0) {
      dc->state = DC_CLOSED;
      dc->notify_closed = deferred = true;
      dc->next_unassigned = s->unassigned;
      s->unassigned = dc;
      continue;
    }
    dc->id = (uint16_t)id;
    dc->has_id = true;
    s->by_sid[id] = dc;
  }
  if (deferred)
    arm_defer(s);
}

int tern_dc_set_start(struct tern_dc_set *s, uint16_t remote_port,
                      uint32_t remote_max_message_size) {
  if (s->started)
    return -EALREADY;
  if (!s->send)
    return -EINVAL;
  s->started = true;
  assign_ids(s);
  tern_sctp_assoc_set_remote_max_message_size(s->assoc, remote_max_message_size);
  return tern_sctp_assoc_start(s->assoc, remote_port);
}

void tern_dc_set_input(struct tern_dc_set *s, const uint8_t *buf, size_t len) {
  tern_sctp_assoc_input(s->assoc, buf, len);
}

bool tern_dc_set_is_connected(const struct tern_dc_set *s) { return s->up; }

void tern_dc_set_destroy(struct tern_dc_set *s) {
  if (!s)
    return;
  for (unsigned i = 0; i < s->nsids; i++)
    if (s->by_sid[i])
      dc_free(s->by_sid[i]);
  while (s->unassigned)
    dc_free(s->unassigned);
  tern_sctp_assoc_destroy(s->assoc);
  uv_timer_stop(s->defer);
  s->defer->data = NULL;
  uv_close((uv_handle_t *)s->defer, free_handle);
  free(s->resetting);
  free(s->by_sid);
  free(s);
}
