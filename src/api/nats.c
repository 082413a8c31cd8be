#include "api/nats.h"

#include <errno.h>
#include <inttypes.h>
#include <nats/nats.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* Connection states as told by libnats' callbacks (its threads). */
enum { ST_CONNECTING, ST_CONNECTED, ST_DISCONNECTED, ST_CLOSED };

#define SLOTS TERN_NATS_SLOTS /* ~10 s of one conversation, ~1 s of ten */
#define SLOT_MAX 1968 /* an envelope of the largest Opus frame fits */

struct slot {
  uint32_t len;
  char msg[SLOT_MAX];
};

struct tern_nats {
  natsOptions *opts;
  natsConnection *nc; /* the publisher thread's */
  pthread_t thread;
  sem_t ready;        /* one post per frame queued, one more to stop */
  atomic_bool stop;
  /* Single-producer (loop thread) single-consumer (publisher thread) ring:
   * head is written by the loop only, tail by the publisher only. */
  atomic_uint_fast64_t head, tail;
  struct slot *slots;
  atomic_int state;  /* ST_*, stored from libnats' threads */
  int logged_state;  /* loop thread: the last state logged */
  uint64_t queued, dropped_full; /* loop thread */
  atomic_uint_fast64_t published, failed; /* publisher thread */
  char url[512];
};

static const char *state_name(int s) {
  static const char *n[] = {"connecting", "connected", "disconnected (reconnecting)", "closed"};
  return s >= 0 && s <= ST_CLOSED ? n[s] : "?";
}

/* libnats' threads: store only (see nats.h on threads). */
static void on_connected(natsConnection *nc, void *closure) {
  (void)nc;
  atomic_store(&((struct tern_nats *)closure)->state, ST_CONNECTED);
}
static void on_disconnected(natsConnection *nc, void *closure) {
  (void)nc;
  atomic_store(&((struct tern_nats *)closure)->state, ST_DISCONNECTED);
}
static void on_closed(natsConnection *nc, void *closure) {
  (void)nc;
  atomic_store(&((struct tern_nats *)closure)->state, ST_CLOSED);
}

/* The publisher thread: connects (the first attempt may take up to the
 * connect timeout; with retry on, a failure returns NATS_NOT_YET_CONNECTED
 * and a connection that keeps trying on libnats' threads), then hands each
 * queued frame to libnats. Only this thread ever takes libnats' connection
 * lock, so a slow socket write or a reconnect holding it can only delay
 * this thread, never the loop. */
static void *publisher(void *arg) {
  struct tern_nats *n = arg;
  natsStatus s = natsConnection_Connect(&n->nc, n->opts);
  if (s == NATS_OK)
    atomic_store(&n->state, ST_CONNECTED);
  else if (s != NATS_NOT_YET_CONNECTED)
    atomic_store(&n->state, ST_CLOSED); /* options refused: nothing to retry */
  for (;;) {
    while (sem_wait(&n->ready) < 0 && errno == EINTR)
      ;
    if (atomic_load(&n->stop))
      break;
    uint_fast64_t t = atomic_load_explicit(&n->tail, memory_order_relaxed);
    if (t == atomic_load_explicit(&n->head, memory_order_acquire))
      continue;
    const struct slot *sl = &n->slots[t % SLOTS];
    if (n->nc && atomic_load(&n->state) != ST_CLOSED &&
        natsConnection_Publish(n->nc, TERN_NATS_SUBJECT, sl->msg, (int)sl->len) == NATS_OK)
      atomic_fetch_add(&n->published, 1);
    else
      atomic_fetch_add(&n->failed, 1);
    atomic_store_explicit(&n->tail, t + 1, memory_order_release);
  }
  return NULL;
}

/* libnats delivers its callbacks (closed, disconnected) on its own thread,
 * possibly after natsConnection_Destroy returned: n, their closure, may only
 * be freed once libnats' threads are gone. If they do not end in time, n is
 * leaked on purpose rather than freed under them. */
static void free_nats(struct tern_nats *n) {
  natsConnection_Destroy(n->nc);
  natsOptions_Destroy(n->opts);
  sem_destroy(&n->ready);
  free(n->slots);
  /* Also releases libnats' process-wide state (see nats.h). */
  if (nats_CloseAndWait(2000) != NATS_OK) {
    tern_log_warn(NULL, "nats: the client library did not stop within 2 s");
    return;
  }
  free(n);
}

struct tern_nats *tern_nats_create(uv_loop_t *loop, const char *url, char *reason, size_t cap) {
  struct tern_nats *n = calloc(1, sizeof *n);
  natsStatus s;
  (void)loop;
  if (!n || !(n->slots = malloc(SLOTS * sizeof *n->slots)) || sem_init(&n->ready, 0, 0) < 0) {
    snprintf(reason, cap, "out of memory");
    if (n)
      free(n->slots);
    free(n);
    return NULL;
  }
  n->logged_state = ST_CONNECTING;
  atomic_init(&n->state, ST_CONNECTING);
  snprintf(n->url, sizeof n->url, "%s", url);
  if ((s = natsOptions_Create(&n->opts)) != NATS_OK)
    goto err_opts;
  /* Unbounded retry with a capped buffer: an outage costs at most
   * TERN_NATS_BUFFER bytes in libnats, then frames are dropped until it is
   * back. */
  if ((s = natsOptions_SetURL(n->opts, url)) != NATS_OK ||
      (s = natsOptions_SetName(n->opts, "tern")) != NATS_OK ||
      (s = natsOptions_SetTimeout(n->opts, 2000)) != NATS_OK ||
      (s = natsOptions_SetAllowReconnect(n->opts, true)) != NATS_OK ||
      (s = natsOptions_SetMaxReconnect(n->opts, -1)) != NATS_OK ||
      (s = natsOptions_SetReconnectWait(n->opts, 1000)) != NATS_OK ||
      (s = natsOptions_SetReconnectBufSize(n->opts, TERN_NATS_BUFFER)) != NATS_OK ||
      (s = natsOptions_SetWriteDeadline(n->opts, TERN_NATS_WRITE_DEADLINE_MS)) != NATS_OK ||
      (s = natsOptions_SetPingInterval(n->opts, 10000)) != NATS_OK ||
      (s = natsOptions_SetMaxPingsOut(n->opts, 2)) != NATS_OK ||
      (s = natsOptions_SetRetryOnFailedConnect(n->opts, true, on_connected, n)) != NATS_OK ||
      (s = natsOptions_SetReconnectedCB(n->opts, on_connected, n)) != NATS_OK ||
      (s = natsOptions_SetDisconnectedCB(n->opts, on_disconnected, n)) != NATS_OK ||
      (s = natsOptions_SetClosedCB(n->opts, on_closed, n)) != NATS_OK)
    goto err_opts;
  int rc = pthread_create(&n->thread, NULL, publisher, n);
  if (rc) {
    snprintf(reason, cap, "cannot start the NATS publisher thread: %s", strerror(rc));
    free_nats(n);
    return NULL;
  }
  return n;

err_opts:
  snprintf(reason, cap, "NATS options for \"%s\": %s", url, natsStatus_GetText(s));
  free_nats(n);
  return NULL;
}

/* Waits for the publisher thread: at most the connect timeout (if still in
 * the first connect) or a write deadline. Shutdown only. */
void tern_nats_destroy(struct tern_nats *n) {
  if (!n)
    return;
  atomic_store(&n->stop, true);
  sem_post(&n->ready);
  pthread_join(n->thread, NULL);
  free_nats(n);
}

static size_t base64(char *out, const uint8_t *in, size_t len) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0, i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    out[o++] = a[(v >> 6) & 63];
    out[o++] = a[v & 63];
  }
  if (i < len) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
    out[o++] = a[v >> 18];
    out[o++] = a[(v >> 12) & 63];
    out[o++] = i + 1 < len ? a[(v >> 6) & 63] : '=';
    out[o++] = '=';
  }
  return o;
}

int tern_nats_envelope(char *out, size_t cap, const char *conversation_id, uint64_t timestamp_ms,
                       const uint8_t *opus, size_t len) {
  int h = snprintf(out, cap,
                   "{\"conversationid\":\"%s\",\"timestamp\":%" PRIu64
                   ",\"duration\":20,\"codec\":\"opus/48000/1\",\"opus\":\"",
                   conversation_id, timestamp_ms);
  size_t b64 = (len + 2) / 3 * 4;
  if (h < 0 || (size_t)h + b64 + 3 > cap)
    return -ENOSPC;
  size_t o = (size_t)h + base64(out + h, opus, len);
  memcpy(out + o, "\"}", 3);
  return (int)(o + 2);
}

void tern_nats_publish_frame(struct tern_nats *n, const char *conversation_id,
                             uint64_t timestamp_ms, const uint8_t *opus, size_t len) {
  int state = atomic_load(&n->state);
  if (state != n->logged_state) {
    if (state == ST_CONNECTED)
      tern_log_info(NULL, "nats: connected to %s; publishing conversation audio on \"%s\"",
                    n->url, TERN_NATS_SUBJECT);
    else
      tern_log_warn(NULL, "nats: %s %s (%" PRIu64 " frames dropped so far)", n->url,
                    state_name(state), n->dropped_full + (uint64_t)atomic_load(&n->failed));
    n->logged_state = state;
  }
  uint_fast64_t h = atomic_load_explicit(&n->head, memory_order_relaxed);
  if (h - atomic_load_explicit(&n->tail, memory_order_acquire) >= SLOTS) {
    n->dropped_full++; /* the publisher is stuck: drop, never wait */
    return;
  }
  struct slot *sl = &n->slots[h % SLOTS];
  int mlen = tern_nats_envelope(sl->msg, sizeof sl->msg, conversation_id, timestamp_ms, opus, len);
  if (mlen < 0) {
    n->dropped_full++;
    return;
  }
  sl->len = (uint32_t)mlen;
  atomic_store_explicit(&n->head, h + 1, memory_order_release);
  n->queued++;
  sem_post(&n->ready);
}

void tern_nats_stats(const struct tern_nats *n, struct tern_nats_stats *out) {
  out->queued = n->queued;
  out->published = atomic_load(&((struct tern_nats *)n)->published);
  out->dropped = n->dropped_full + atomic_load(&((struct tern_nats *)n)->failed);
}
