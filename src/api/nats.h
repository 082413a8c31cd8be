/* nats — publishes Beep conversations' audio to NATS (SPEC §2, optional,
 * NATS=nats://host:port), as the original service did for Beep's recording
 * and transcription pipeline: one message per conversation per 20 ms on
 * subject "bite" (the original's subject).
 *
 * Message (JSON, one object, no newline):
 *   {"conversationid":"<id>","timestamp":<ms since the epoch, UTC>,
 *    "duration":20,"codec":"opus/48000/1","opus":"<base64 of the frame>"}
 * The frame is the conversation's shared mix (see apps/conversation.h): one
 * Opus packet of 20 ms, 48 kHz mono, decodable on its own only together
 * with the previous ones (a stream, like RTP without the header).
 *
 * Never disturbs audio: built on Debian's NATS C client (libnats). The loop
 * thread only formats the message into a preallocated ring (TERN_NATS_SLOTS
 * frames; a full ring drops the frame, counted) and posts a semaphore. A
 * publisher thread of this module does the first connect and calls
 * natsConnection_Publish for each queued frame, so libnats' connection lock
 * (held by libnats' own threads while reconnecting or writing to a slow
 * socket — measured stalls of 10 ms and more) is never taken on the loop.
 * With "retry on failed connect" libnats keeps (re)connecting on its own
 * threads forever; while disconnected, frames go to its reconnect buffer,
 * capped at TERN_NATS_BUFFER bytes (beyond that they fail and are dropped,
 * counted), so an outage never grows memory. Socket writes have a
 * TERN_NATS_WRITE_DEADLINE_MS deadline (a stalled server is a disconnect).
 *
 * Threads: the publisher thread and libnats' threads are the one place in
 * Tern where threads other than the loop run. They never call into Tern
 * except the connection-state callbacks here, which only store an atomic;
 * the loop reads it at the next publish and logs changes. The ring is
 * single-producer (loop) single-consumer (publisher) with acquire/release
 * indices; no lock is shared with the loop. Acceptable because the audio
 * path stays lock-free and allocation-free, and NATS is optional.
 *
 * libnats keeps process-wide state (its library init, thread pools, timers):
 * tern_nats_destroy releases it with nats_Close(), so at most one tern_nats
 * may exist at a time.
 *
 * Lifetime: create and destroy on the loop thread. Destroy joins the
 * publisher thread (bounded by the connect timeout, 2 s, or a write
 * deadline) and waits up to 2 s for libnats' threads: shutdown only.
 */
#ifndef TERN_API_NATS_H
#define TERN_API_NATS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define TERN_NATS_SUBJECT "bite"
#define TERN_NATS_BUFFER (256 * 1024)
#define TERN_NATS_SLOTS 512
#define TERN_NATS_WRITE_DEADLINE_MS 20

struct tern_nats;

struct tern_nats_stats {
  uint64_t queued;    /* accepted into the ring */
  uint64_t published; /* accepted by libnats (sent or in its buffer) */
  uint64_t dropped;   /* ring full, or refused by libnats (closed, buffer full) */
};

/* url: nats://host:port (libnats also accepts a comma-separated list).
 * NULL with a reason when the options are refused, out of memory or no
 * thread; an unreachable server is not an error (retried in the
 * background). loop is unused (kept for symmetry with other modules). */
struct tern_nats *tern_nats_create(uv_loop_t *loop, const char *url, char *reason, size_t cap);
void tern_nats_destroy(struct tern_nats *n);

/* One 20 ms Opus frame of a conversation (loop thread only): never blocks,
 * never allocates, logs only on a connection state change. */
void tern_nats_publish_frame(struct tern_nats *n, const char *conversation_id,
                             uint64_t timestamp_ms, const uint8_t *opus, size_t len);

/* Encodes one envelope into out[cap]; returns its length or -ENOSPC.
 * Exposed for tests. conversation_id must need no JSON escaping (Beep ids
 * are A-Z a-z 0-9 . _ -). */
int tern_nats_envelope(char *out, size_t cap, const char *conversation_id,
                       uint64_t timestamp_ms, const uint8_t *opus, size_t len);

void tern_nats_stats(const struct tern_nats *n, struct tern_nats_stats *out);

#endif
