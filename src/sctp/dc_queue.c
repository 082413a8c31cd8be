/* dc_queue.c — the data channels' send queues and their flushing.
 *
 * A message goes straight to SCTP when nothing of its channel waits;
 * otherwise (or for the rest of a message SCTP took only part of) it is
 * queued here, counted in bufferedAmount, and handed over channel by channel,
 * round robin, whenever SCTP has room. See datachannel.h for the rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "sctp/dc_int.h"

static void queue_push(struct tern_dc *dc, struct dc_msg *m) {
  struct tern_dc_set *s = dc->set;
  m->next = NULL;
  if (dc->q_tail)
    dc->q_tail->next = m;
  else {
    dc->q_head = m;
    s->queued_dcs++;
  }
  dc->q_tail = m;
  if (!m->control) {
    dc->buffered += m->len;
    s->buffered += m->len;
  }
}

static struct dc_msg *queue_pop(struct tern_dc *dc) {
  struct dc_msg *m = dc->q_head;
  dc->q_head = m->next;
  if (!dc->q_head) {
    dc->q_tail = NULL;
    dc->set->queued_dcs--;
  }
  return m;
}

/* Drops every queued message except one SCTP already took part of (that one
 * must be completed, or the association stays locked to it). */
void dc_queue_drop(struct tern_dc *dc) {
  struct tern_dc_set *s = dc->set;
  struct dc_msg *keep = s->tx_current == dc ? queue_pop(dc) : NULL;
  while (dc->q_head) {
    struct dc_msg *m = queue_pop(dc);
    if (!m->control) {
      dc->buffered -= m->len - m->off;
      s->buffered -= m->len - m->off;
    }
    free(m);
  }
  if (keep) {
    if (!keep->control) { /* re-added below */
      dc->buffered -= keep->len - keep->off;
      s->buffered -= keep->len - keep->off;
    }
    keep->len -= keep->off;
    memmove(keep->data, keep->data + keep->off, keep->len);
    keep->off = 0;
    queue_push(dc, keep);
  }
}

static int enqueue(struct tern_dc *dc, const uint8_t *buf, size_t len,
                   uint32_t ppid, bool control, bool unordered) {
  struct dc_msg *m = malloc(sizeof(*m) + len);
  if (!m)
    return -ENOMEM;
  m->len = len;
  m->off = 0;
  m->ppid = ppid;
  m->control = control;
  m->unordered = unordered;
  if (len)
    memcpy(m->data, buf, len);
  queue_push(dc, m);
  return 0;
}

static struct tern_sctp_sendopts dc_opts(const struct tern_dc *dc,
                                         bool control, bool unordered) {
  struct tern_sctp_sendopts o = {.unordered = false, .max_rtx = -1,
                                 .max_lifetime_ms = -1};
  if (!control) {
    o.unordered = unordered;
    o.max_rtx = dc->max_rtx;
    o.max_lifetime_ms = dc->max_life;
  }
  return o;
}

/* Sends directly when nothing waits before it; queues the rest. */
int dc_send_or_queue(struct tern_dc *dc, const uint8_t *buf, size_t len,
                         uint32_t ppid, bool control) {
  struct tern_dc_set *s = dc->set;
  /* RFC 8832 §6: until the peer acknowledged the OPEN, send ordered so that
   * no message overtakes it. */
  bool unordered = !control && !dc->ordered && dc->acked;
  if (!dc->q_head) {
    struct tern_sctp_sendopts o = dc_opts(dc, control, unordered);
    int r = tern_sctp_assoc_send(s->assoc, dc->id, ppid, buf, len, &o);
    if (r >= 0 && (size_t)r == len)
      return 0;
    if (r >= 0) {
      int err = enqueue(dc, buf + r, len - (size_t)r, ppid, control, unordered);
      if (err == 0)
        s->tx_current = dc;
      return err;
    }
    if (r != -EAGAIN)
      return r == -ENOTCONN ? -EPIPE : r;
  }
  return enqueue(dc, buf, len, ppid, control, unordered);
}

/* Frees every queued message of a channel that is going away. */
void dc_queue_free_all(struct tern_dc *dc) {
  struct tern_dc_set *s = dc->set;
  while (dc->q_head) {
    struct dc_msg *m = queue_pop(dc);
    if (!m->control)
      s->buffered -= m->len - m->off;
    free(m);
  }
}

static struct tern_dc *next_queued(struct tern_dc_set *s) {
  for (unsigned n = 0; n < s->nsids; n++) {
    unsigned i = (s->rr + n) % s->nsids;
    struct tern_dc *dc = s->by_sid[i];
    if (dc && dc->q_head)
      return dc;
  }
  return NULL;
}

/* After bytes of dc left the queue: low-water callback, deferred close. */
static void after_progress(struct tern_dc *dc, size_t before) {
  if (before > dc->low_threshold && dc->buffered <= dc->low_threshold &&
      dc->ops->buffered_low && dc->state == DC_OPEN)
    dc->ops->buffered_low(dc, dc->user);
  if (!dc->q_head && dc->state == DC_CLOSING && !dc->local_reset &&
      dc->set->tx_current != dc)
    dc_local_reset(dc); /* may free dc */
}

/* Hands queued messages to SCTP until it is full, channels in turn. */
void dc_flush(struct tern_dc_set *s) {
  if (s->flushing || !s->up)
    return;
  s->flushing = true;
  while (s->queued_dcs > 0) {
    struct tern_dc *dc = s->tx_current ? s->tx_current : next_queued(s);
    if (!dc)
      break;
    struct dc_msg *m = dc->q_head;
    struct tern_sctp_sendopts o = dc_opts(dc, m->control, m->unordered);
    size_t left = m->len - m->off;
    int r = tern_sctp_assoc_send(s->assoc, dc->id, m->ppid, m->data + m->off,
                                 left, &o);
    if (r == -EAGAIN || r == -ENOTCONN)
      break;
    size_t before = dc->buffered;
    if (r < 0) {
      tern_log_warn(s->log_id, "dc %u: queued message dropped: %s", dc->id,
                    strerror(-r));
      r = (int)left;
    }
    m->off += (size_t)r;
    if (!m->control) {
      dc->buffered -= (size_t)r;
      s->buffered -= (size_t)r;
    }
    if (m->off < m->len) {
      s->tx_current = dc;
      after_progress(dc, before);
      break;
    }
    s->tx_current = NULL;
    free(queue_pop(dc));
    s->rr = (uint16_t)((dc->id + 1) % s->nsids);
    after_progress(dc, before);
  }
  s->flushing = false;
}
