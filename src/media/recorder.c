/* recorder — see recorder.h. */
#include "media/recorder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>

#include "core/log.h"
#include "rtp/opus_pack.h"

#define IO_BUF_SIZE (32 * 1024)
#define OPUS_HEAD_LEN 19

/* Per-stream RTP → file time mapping. */
struct track_time {
  bool seen;
  uint32_t last_ts;    /* last RTP timestamp seen */
  int64_t ext;         /* its unwrapped value */
  int64_t anchor_ext;  /* unwrapped RTP time of the anchor … */
  int64_t anchor_us;   /* … and the wall-clock time it maps to */
  int64_t last_ms;     /* last written file time, -1 before any */
  int clock;           /* RTP clock rate */
};

struct tern_recorder {
  char name[TERN_RECORDER_NAME_MAX + 1];
  char file[TERN_RECORDER_NAME_MAX + sizeof TERN_RECORDER_EXT];
  char path[PATH_MAX];
  int dirfd, fd;
  int io_err; /* first errno of a failed write/seek, 0 if none */
  bool started, failed;
  int64_t start_us; /* wall-clock time of file time 0 */
  struct track_time audio, video;
  AVFormatContext *oc;
  AVIOContext *pb;
  AVStream *ast, *vst;
  AVPacket *pkt;
  struct tern_recorder_stats stats;
};

bool tern_recorder_name_ok(const char *name) {
  size_t n = 0;
  if (!name)
    return false;
  for (; name[n]; n++) {
    char c = name[n];
    if (n >= TERN_RECORDER_NAME_MAX ||
        !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return false;
  }
  return n > 0;
}

bool tern_recorder_file_ok(const char *file) {
  size_t elen = strlen(TERN_RECORDER_EXT);
  if (!file)
    return false;
  size_t n = strlen(file);
  if (n <= elen || n - elen > TERN_RECORDER_NAME_MAX ||
      strcmp(file + n - elen, TERN_RECORDER_EXT) != 0)
    return false;
  char name[TERN_RECORDER_NAME_MAX + 1];
  memcpy(name, file, n - elen);
  name[n - elen] = '\0';
  return tern_recorder_name_ok(name);
}

/* ---- our AVIOContext on a plain fd: write errors are seen (and kept) here,
 * and seeking lets the muxer go back for the duration and cues. */

static int io_write(void *opaque, uint8_t *buf, int size) {
  struct tern_recorder *r = opaque;
  if (r->io_err)
    return AVERROR(r->io_err);
  size_t off = 0;
  while (off < (size_t)size) {
    ssize_t n = write(r->fd, buf + off, (size_t)size - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      r->io_err = n < 0 ? errno : ENOSPC;
      return AVERROR(r->io_err);
    }
    off += (size_t)n;
  }
  return size;
}

static int64_t io_seek(void *opaque, int64_t offset, int whence) {
  struct tern_recorder *r = opaque;
  if (whence & AVSEEK_SIZE) {
    struct stat st;
    return fstat(r->fd, &st) < 0 ? AVERROR(errno) : (int64_t)st.st_size;
  }
  off_t o = lseek(r->fd, (off_t)offset, whence & ~AVSEEK_FORCE);
  if (o < 0) {
    r->io_err = r->io_err ? r->io_err : errno;
    return AVERROR(errno);
  }
  return (int64_t)o;
}

struct tern_recorder *tern_recorder_open(const char *dir, const char *name, int *err) {
  int e = 0;
  struct tern_recorder *r = NULL;
  if (!dir || !*dir || !tern_recorder_name_ok(name)) {
    e = -EINVAL;
    goto fail;
  }
  if (!(r = calloc(1, sizeof *r))) {
    e = -ENOMEM;
    goto fail;
  }
  r->dirfd = r->fd = -1;
  r->audio = (struct track_time){.last_ms = -1, .clock = TERN_OPUS_RTP_CLOCK};
  r->video = (struct track_time){.last_ms = -1, .clock = 90000};
  r->stats.audio_last_ms = r->stats.video_last_ms = -1;
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->file, sizeof r->file, "%s%s", name, TERN_RECORDER_EXT);
  if ((size_t)snprintf(r->path, sizeof r->path, "%s/%s", dir, r->file) >= sizeof r->path) {
    e = -ENAMETOOLONG;
    goto fail_r;
  }
  if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
    e = -errno;
    goto fail_r;
  }
  if ((r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    e = -errno;
    goto fail_r;
  }
  /* The name has no '/' or leading '.', so openat stays in the directory;
   * O_EXCL|O_NOFOLLOW refuse an existing file or a planted symlink. */
  r->fd = openat(r->dirfd, r->file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0640);
  if (r->fd < 0) {
    e = -errno;
    goto fail_dirfd;
  }
  if (!(r->pkt = av_packet_alloc()))
    goto fail_nomem;
  uint8_t *iobuf = av_malloc(IO_BUF_SIZE);
  if (!iobuf)
    goto fail_nomem;
  if (!(r->pb = avio_alloc_context(iobuf, IO_BUF_SIZE, 1, r, NULL, io_write, io_seek))) {
    av_free(iobuf);
    goto fail_nomem;
  }
  if (avformat_alloc_output_context2(&r->oc, NULL, "webm", NULL) < 0 || !r->oc)
    goto fail_nomem;
  r->oc->pb = r->pb;
  r->oc->flags |= AVFMT_FLAG_CUSTOM_IO;
  /* The interleaver holds packets of one stream while the other is silent
   * (a video-only sender): bound that wait, and so its memory, to 2 s
   * rather than libavformat's 10 s. */
  r->oc->max_interleave_delta = 2 * 1000000;
  tern_log_info(name, "recording to %s", r->path);
  return r;

fail_nomem:
  e = -ENOMEM;
  unlinkat(r->dirfd, r->file, 0);
  if (r->pb) {
    av_freep(&r->pb->buffer);
    avio_context_free(&r->pb);
  }
  av_packet_free(&r->pkt);
  close(r->fd);
fail_dirfd:
  close(r->dirfd);
fail_r:
  free(r);
fail:
  if (err)
    *err = e;
  return NULL;
}

static void release(struct tern_recorder *r) {
  if (r->oc) {
    avformat_free_context(r->oc); /* frees the streams, not our pb */
    r->oc = NULL;
    r->ast = r->vst = NULL;
  }
  if (r->pb) {
    av_freep(&r->pb->buffer);
    avio_context_free(&r->pb);
  }
  av_packet_free(&r->pkt);
}

static void fail_rec(struct tern_recorder *r, int averr) {
  if (r->failed)
    return;
  r->failed = true;
  int e = r->io_err ? r->io_err : (averr < 0 ? AVUNERROR(averr) : EIO);
  tern_log_error(r->name, "recording %s stopped: write failed: %s", r->path, strerror(e));
  release(r);
}

/* Maps an RTP timestamp to wall-clock µs on the stream's anchor. */
static int64_t track_us(struct track_time *t, uint32_t ts, uint64_t now_us) {
  if (!t->seen) {
    t->seen = true;
    t->ext = ts;
    t->anchor_ext = ts;
    t->anchor_us = (int64_t)now_us;
  } else {
    int64_t d = (int32_t)(ts - t->last_ts); /* unwraps across 2^32 */
    t->ext += d;
    if (llabs(d) * 1000000 / t->clock > TERN_RECORDER_REBASE_US) {
      t->anchor_ext = t->ext;
      t->anchor_us = (int64_t)now_us;
    }
  }
  t->last_ts = ts;
  return t->anchor_us + (t->ext - t->anchor_ext) * 1000000 / t->clock;
}

/* VP8 key frame header (RFC 6386 §9.1): 3-byte tag, 9d 01 2a, 14-bit
 * width and height, little-endian. */
static bool vp8_size(const uint8_t *f, size_t len, int *w, int *h) {
  if (len < 10 || (f[0] & 1) || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a)
    return false;
  *w = (f[6] | f[7] << 8) & 0x3fff;
  *h = (f[8] | f[9] << 8) & 0x3fff;
  return *w > 0 && *h > 0;
}

static int start_file(struct tern_recorder *r, int width, int height) {
  AVStream *v = avformat_new_stream(r->oc, NULL);
  AVStream *a = avformat_new_stream(r->oc, NULL);
  if (!v || !a)
    return AVERROR(ENOMEM);
  v->time_base = a->time_base = (AVRational){1, 1000};
  v->codecpar->codec_type = AVMEDIA_TYPE_VIDEO;
  v->codecpar->codec_id = AV_CODEC_ID_VP8;
  v->codecpar->width = width;
  v->codecpar->height = height;
  a->codecpar->codec_type = AVMEDIA_TYPE_AUDIO;
  a->codecpar->codec_id = AV_CODEC_ID_OPUS;
  a->codecpar->sample_rate = 48000;
  /* WebRTC Opus is always signalled as 2 channels (RFC 7587 §7); decoders
   * upmix mono packets. */
  av_channel_layout_default(&a->codecpar->ch_layout, 2);
  /* OpusHead (RFC 7845 §5.1), which Matroska carries as CodecPrivate:
   * version 1, 2 channels, no pre-skip (RTP streams carry none), 48 kHz,
   * gain 0, mapping family 0. */
  uint8_t *x = av_mallocz(OPUS_HEAD_LEN + AV_INPUT_BUFFER_PADDING_SIZE);
  if (!x)
    return AVERROR(ENOMEM);
  memcpy(x, "OpusHead", 8);
  x[8] = 1, x[9] = 2;
  x[12] = 0x80, x[13] = 0xbb; /* 48000 LE */
  a->codecpar->extradata = x;
  a->codecpar->extradata_size = OPUS_HEAD_LEN;
  r->vst = v, r->ast = a;
  return avformat_write_header(r->oc, NULL);
}

static int write_pkt(struct tern_recorder *r, AVStream *st, const uint8_t *data, size_t len,
                     int64_t ms, int64_t dur_ms, bool key) {
  AVPacket *p = r->pkt;
  av_packet_unref(p);
  /* Not reference-counted: libavformat copies it into its queue. */
  p->data = (uint8_t *)data;
  p->size = (int)len;
  p->stream_index = st->index;
  p->pts = p->dts = av_rescale_q(ms, (AVRational){1, 1000}, st->time_base);
  p->duration = av_rescale_q(dur_ms, (AVRational){1, 1000}, st->time_base);
  p->flags = key ? AV_PKT_FLAG_KEY : 0;
  int rc = av_interleaved_write_frame(r->oc, p);
  if (rc >= 0 && (r->io_err || r->pb->error < 0))
    rc = r->pb->error < 0 ? r->pb->error : AVERROR(r->io_err);
  if (rc < 0) {
    fail_rec(r, rc);
    return -EIO;
  }
  return 0;
}

int tern_recorder_audio(struct tern_recorder *r, uint32_t rtp_ts, const uint8_t *pkt,
                        size_t len, uint64_t now_us) {
  if (r->failed)
    return -EIO;
  int64_t us = track_us(&r->audio, rtp_ts, now_us);
  int samples = tern_opus_packet_samples(pkt, len);
  if (!r->started || samples < 0 || len > INT_MAX || us < r->start_us) {
    r->stats.audio_dropped++;
    return 0;
  }
  int64_t ms = (us - r->start_us) / 1000;
  if (ms <= r->audio.last_ms) { /* duplicate or reordered */
    r->stats.audio_dropped++;
    return 0;
  }
  int rc = write_pkt(r, r->ast, pkt, len, ms, samples / 48, true);
  if (rc < 0)
    return rc;
  r->audio.last_ms = r->stats.audio_last_ms = ms;
  r->stats.audio_packets++;
  return 0;
}

int tern_recorder_video(struct tern_recorder *r, uint32_t rtp_ts, const uint8_t *frame,
                        size_t len, bool keyframe, uint64_t now_us) {
  if (r->failed)
    return -EIO;
  int64_t us = track_us(&r->video, rtp_ts, now_us);
  if (len == 0 || len > INT_MAX) {
    r->stats.video_dropped++;
    return 0;
  }
  if (!r->started) {
    int w, h;
    if (!keyframe || !vp8_size(frame, len, &w, &h)) {
      r->stats.video_dropped++;
      return 0;
    }
    int rc = start_file(r, w, h);
    if (rc < 0) {
      fail_rec(r, rc);
      return -EIO;
    }
    r->started = r->stats.started = true;
    r->start_us = us;
    tern_log_info(r->name, "recording starts at a %dx%d key frame", w, h);
  }
  int64_t ms = (us - r->start_us) / 1000;
  if (ms <= r->video.last_ms)
    ms = r->video.last_ms + 1; /* keep every frame, strictly increasing */
  int rc = write_pkt(r, r->vst, frame, len, ms, 0, keyframe);
  if (rc < 0)
    return rc;
  r->video.last_ms = r->stats.video_last_ms = ms;
  r->stats.video_frames++;
  return 0;
}

bool tern_recorder_failed(const struct tern_recorder *r) { return r->failed; }

bool tern_recorder_wants_keyframe(const struct tern_recorder *r) {
  return !r->started && !r->failed;
}

void tern_recorder_get_stats(const struct tern_recorder *r, struct tern_recorder_stats *out) {
  *out = r->stats;
}

const char *tern_recorder_path(const struct tern_recorder *r) { return r->path; }

int tern_recorder_close(struct tern_recorder *r) {
  if (!r)
    return 0;
  int rc = 0;
  if (r->failed) {
    rc = -EIO;
  } else if (!r->started) {
    rc = -ENODATA;
    unlinkat(r->dirfd, r->file, 0);
    tern_log_info(r->name, "recording %s removed: no video key frame arrived", r->path);
  } else {
    int t = av_write_trailer(r->oc);
    if (t >= 0) {
      avio_flush(r->pb);
      if (r->io_err || r->pb->error < 0)
        t = r->pb->error < 0 ? r->pb->error : AVERROR(r->io_err);
    }
    if (t < 0) {
      fail_rec(r, t);
      rc = -EIO;
    } else {
      tern_log_info(r->name, "recording %s finished: %.1f s, %llu video frames, %llu audio packets",
                    r->path, (double)r->video.last_ms / 1000.0,
                    (unsigned long long)r->stats.video_frames,
                    (unsigned long long)r->stats.audio_packets);
    }
  }
  release(r);
  if (close(r->fd) < 0 && rc == 0) {
    tern_log_error(r->name, "recording %s: close failed: %s", r->path, strerror(errno));
    rc = -EIO;
  }
  close(r->dirfd);
  free(r);
  return rc;
}
