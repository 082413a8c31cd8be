/* recorder — writes one WebRTC call (Opus + VP8, as received) to a WebM file.
 *
 * Nothing is re-encoded: VP8 frames come whole from the RTP frame assembler
 * (rtp/vp8_pack.h), Opus packets are RTP payloads as they are (RFC 7587).
 * The muxer is libavformat's "webm" (Matroska, 1 ms timebase).
 *
 * Timestamps. Each stream's 32-bit RTP timestamps are unwrapped (a signed
 * 32-bit difference from the previous packet) and placed on a common wall
 * clock: the first packet of a stream maps its RTP time to the wall-clock
 * time it arrived (now_us, CLOCK_MONOTONIC µs), so audio and video line up
 * as they were captured, within the network jitter of each first packet.
 * A jump of more than TERN_RECORDER_REBASE_US between consecutive packets
 * (a sender restart, a new SSRC) re-anchors that stream at now_us instead
 * of leaving a long hole. Written timestamps are strictly increasing per
 * stream: an Opus packet at or before the previous one (duplicate,
 * reordered) is dropped; a video frame is moved 1 ms after the previous.
 *
 * The file starts at a video key frame: its header needs the picture size,
 * which only key frames carry (RFC 6386 §9.1). Video before the first key
 * frame and audio from before that key frame's time are dropped. File time
 * 0 is that key frame. A recording that never saw a key frame is removed at
 * close (an empty file helps nobody). A later change of resolution simply
 * continues in the same file: every VP8 key frame carries its own size and
 * players (Chromium, Firefox, ffmpeg/VLC) follow it; the header keeps the
 * first size.
 *
 * Files: <dir>/<name>.webm, name matching [A-Za-z0-9_-]{1,64}; created with
 * O_CREAT|O_EXCL|O_NOFOLLOW relative to the directory (never overwrites,
 * never follows a planted symlink, never leaves the directory). The
 * directory is created (one level, 0750) if missing. Output goes through
 * our own seekable AVIOContext, so close writes the trailer — duration and
 * cues — making the file seekable.
 *
 * Errors. A failing write (disk full, EFBIG, EIO) stops this recording: one
 * log line (peer = name), the muxer is freed, later packets are ignored and
 * tern_recorder_failed() turns true; what was written stays on disk (WebM is
 * playable without its trailer, just not seekable). Nothing here aborts.
 *
 * Cost: no allocation of our own per packet; libavformat copies each packet
 * into its interleaving queue (it owns that), and file writes are buffered
 * (32 KiB) — this runs on the loop thread, like all media here.
 *
 * Lifetime: one recorder per call, used from one thread; close frees it.
 */
#ifndef TERN_MEDIA_RECORDER_H
#define TERN_MEDIA_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TERN_RECORDER_NAME_MAX 64
#define TERN_RECORDER_EXT ".webm"
#define TERN_RECORDER_REBASE_US (10 * 1000000LL)

struct tern_recorder;

struct tern_recorder_stats {
  uint64_t audio_packets, video_frames;   /* written */
  uint64_t audio_dropped, video_dropped;  /* before the start, out of order */
  int64_t audio_last_ms, video_last_ms;   /* last written timestamps; -1 none */
  bool started;                           /* header written */
};

/* True if name is a safe recording name: [A-Za-z0-9_-]{1,64}. */
bool tern_recorder_name_ok(const char *name);
/* True if file is "<safe name>.webm" (what a download route may serve). */
bool tern_recorder_file_ok(const char *file);

/* Creates <dir>/<name>.webm. NULL with *err: -EINVAL (bad name), -EEXIST,
 * -ENOMEM, or the errno of mkdir/open. */
struct tern_recorder *tern_recorder_open(const char *dir, const char *name, int *err);

/* One Opus packet (an RTP payload) with its RTP timestamp (48 kHz). 0 if
 * written or dropped by the rules above, -EIO once the recording failed. */
int tern_recorder_audio(struct tern_recorder *r, uint32_t rtp_ts, const uint8_t *pkt,
                        size_t len, uint64_t now_us);
/* One whole VP8 frame with its RTP timestamp (90 kHz). Same returns. */
int tern_recorder_video(struct tern_recorder *r, uint32_t rtp_ts, const uint8_t *frame,
                        size_t len, bool keyframe, uint64_t now_us);

/* True once a write failed (the recording stopped). */
bool tern_recorder_failed(const struct tern_recorder *r);
/* True while no video key frame has started the file: ask for one. */
bool tern_recorder_wants_keyframe(const struct tern_recorder *r);
void tern_recorder_get_stats(const struct tern_recorder *r, struct tern_recorder_stats *out);
/* The file's path (valid until close). */
const char *tern_recorder_path(const struct tern_recorder *r);

/* Finalizes (trailer: duration, cues) and frees. 0 if the file is complete;
 * -ENODATA if nothing was recorded (the file is removed); -EIO if the
 * recording had failed or the trailer could not be written. NULL is 0. */
int tern_recorder_close(struct tern_recorder *r);

#endif
