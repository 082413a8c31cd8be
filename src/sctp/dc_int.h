/* dc_int — the inside of data channels, shared by datachannel.c (channels,
 * DCEP, the set) and dc_queue.c (send queues, flushing). Nothing outside
 * src/sctp includes this. */
#ifndef TERN_DC_INT_H
#define TERN_DC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sctp/datachannel.h"

enum dc_state { DC_CONNECTING, DC_OPEN, DC_CLOSING, DC_CLOSED };

/* One queued message (or the rest of one SCTP took a first part of). */
struct dc_msg {
  struct dc_msg *next;
  size_t len, off;
  uint32_t ppid;
  bool control; /* DCEP: not counted in bufferedAmount, always reliable */
  bool unordered;
  uint8_t data[];
};

struct tern_dc {
  struct tern_dc_set *set;
  const struct tern_dc_ops *ops;
  void *user;
  uint16_t id;
  bool has_id;              /* auto ids wait for the final DTLS role */
  struct tern_dc *next_unassigned;
  enum dc_state state;
  bool ordered, negotiated;
  int max_rtx, max_life;
  bool acked;         /* the peer saw our OPEN: unordered sends allowed */
  bool notify_open;   /* open callback owed */
  bool notify_closed; /* closed callback owed (then free) */
  bool local_reset, remote_reset;
  struct dc_msg *q_head, *q_tail;
  size_t buffered, low_threshold;
  char *label, *protocol; /* in the same allocation, after the struct */
};

struct tern_dc_set {
  struct tern_sctp_assoc *assoc;
  const struct tern_dc_set_ops *ops;
  void *user;
  void (*send)(void *user, const uint8_t *buf, size_t len);
  void *send_user;
  struct tern_sctp_ops sctp_ops;
  bool dtls_client;
  bool started, up, dead;
  struct tern_dc *unassigned; /* auto-id channels made before start, FIFO */
  uint16_t nsids;
  struct tern_dc **by_sid;
  uint8_t *resetting; /* our outgoing reset of this sid is in flight */
  size_t buffered, max_buffered;
  struct tern_dc *tx_current; /* its head message is partly in SCTP */
  uint16_t rr;                /* round-robin cursor for flushing */
  unsigned queued_dcs;
  bool flushing;
  uv_timer_t *defer; /* own allocation: freed by its close callback */
  char log_id[40];
};

/* dc_queue.c */
int dc_send_or_queue(struct tern_dc *dc, const uint8_t *buf, size_t len, uint32_t ppid,
                     bool control);
void dc_queue_drop(struct tern_dc *dc);
void dc_queue_free_all(struct tern_dc *dc);
void dc_flush(struct tern_dc_set *s);
/* datachannel.c */
void dc_local_reset(struct tern_dc *dc);

#endif
