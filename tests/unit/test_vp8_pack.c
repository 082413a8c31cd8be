/* test_vp8_pack — RFC 7741 descriptor (every field, every truncation),
 * key-frame detection on an RFC 6386 §9.1 header, packetizer, and the
 * assembler: round trips of random frames, loss, reordering, duplicates,
 * joining mid-stream, sequence wrap and jumps. */
#include <errno.h>
#include <stdlib.h>

#include "rtp/vp8_pack.h"
#include "test.h"

static uint32_t rng = 0x9e3779b9;
static uint32_t rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

/* ---------- descriptor ---------- */

struct desc_case {
  const char *name;
  uint8_t b[8];
  size_t size; /* descriptor bytes; b[size] is the first VP8 byte */
  struct tern_vp8_desc want;
};

static const struct desc_case desc_cases[] = {
    {"minimal S", {0x10, 0xaa}, 1, {.s = true}},
    {"N, PID 5", {0x25, 0xaa}, 1, {.n = true, .pid = 5}},
    {"R bits ignored", {0x48, 0xaa}, 1, {0}},
    {"7-bit PictureID", {0x90, 0x80, 0x05, 0xaa}, 3,
     {.s = true, .has_picture_id = true, .picture_id = 5}},
    {"15-bit PictureID", {0x90, 0x80, 0x81, 0x23, 0xaa}, 4,
     {.s = true, .has_picture_id = true, .picture_id_15 = true, .picture_id = 0x123}},
    {"TL0PICIDX", {0x80, 0x40, 0x07, 0xaa}, 3, {.has_tl0picidx = true, .tl0picidx = 7}},
    {"TID Y", {0x80, 0x20, 0xe5, 0xaa}, 3, {.has_tid = true, .tid = 3, .y = true}},
    {"KEYIDX only", {0x80, 0x10, 0xff, 0xaa}, 3, {.has_keyidx = true, .keyidx = 31}},
    {"everything", {0xb3, 0xf0, 0xff, 0xff, 0x42, 0x9f, 0xaa}, 6,
     {.n = true, .s = true, .pid = 3, .has_picture_id = true, .picture_id_15 = true,
      .picture_id = 0x7fff, .has_tl0picidx = true, .tl0picidx = 0x42, .has_tid = true,
      .tid = 2, .has_keyidx = true, .keyidx = 31}},
    {"X with nothing", {0x80, 0x00, 0xaa}, 2, {0}},
};

static bool desc_eq(const struct tern_vp8_desc *a, const struct tern_vp8_desc *b) {
  return a->n == b->n && a->s == b->s && a->pid == b->pid &&
         a->has_picture_id == b->has_picture_id && a->picture_id_15 == b->picture_id_15 &&
         a->picture_id == b->picture_id && a->has_tl0picidx == b->has_tl0picidx &&
         a->tl0picidx == b->tl0picidx && a->has_tid == b->has_tid && a->tid == b->tid &&
         a->y == b->y && a->has_keyidx == b->has_keyidx && a->keyidx == b->keyidx;
}

static void test_desc_parse(void) {
  for (size_t i = 0; i < sizeof(desc_cases) / sizeof(desc_cases[0]); i++) {
    const struct desc_case *c = &desc_cases[i];
    struct tern_vp8_desc d;
    int r = tern_vp8_desc_parse(c->b, c->size + 1, &d);
    if (r != (int)c->size || !desc_eq(&d, &c->want))
      fprintf(stderr, "  case %s: r=%d\n", c->name, r);
    CHECK_EQ_INT(r, c->size);
    CHECK(desc_eq(&d, &c->want));
    CHECK_EQ_INT(d.size, c->size);
    /* truncated at every length, down to nothing: rejected, no over-read
     * (a heap copy of exactly that length lets ASan catch one) */
    for (size_t len = 0; len <= c->size; len++) {
      uint8_t *t = malloc(len ? len : 1);
      memcpy(t, c->b, len);
      CHECK_EQ_INT(tern_vp8_desc_parse(t, len, &d), -EPROTO);
      free(t);
    }
  }
  struct tern_vp8_desc d;
  CHECK_EQ_INT(tern_vp8_desc_parse(NULL, 5, &d), -EPROTO);
}

static void test_desc_write_roundtrip(void) {
  for (int i = 0; i < 2000; i++) {
    struct tern_vp8_desc w = {
        .n = rnd() & 1,
        .s = rnd() & 1,
        .pid = rnd() & 7,
        .has_picture_id = rnd() & 1,
        .picture_id_15 = rnd() & 1,
        .has_tl0picidx = rnd() & 1,
        .tl0picidx = (uint8_t)rnd(),
        .has_tid = rnd() & 1,
        .has_keyidx = rnd() & 1,
    };
    w.picture_id = (uint16_t)(rnd() & (w.picture_id_15 ? 0x7fff : 0x7f));
    if (!w.has_picture_id)
      w.picture_id = 0, w.picture_id_15 = false;
    if (!w.has_tl0picidx)
      w.tl0picidx = 0;
    if (w.has_tid)
      w.tid = rnd() & 3, w.y = rnd() & 1;
    if (w.has_keyidx)
      w.keyidx = rnd() & 31;
    uint8_t buf[TERN_VP8_DESC_MAX + 1];
    int n = tern_vp8_desc_write(&w, buf, TERN_VP8_DESC_MAX);
    REQUIRE(n >= 1 && n <= TERN_VP8_DESC_MAX);
    buf[n] = 0x55;
    struct tern_vp8_desc r;
    CHECK_EQ_INT(tern_vp8_desc_parse(buf, (size_t)n + 1, &r), n);
    CHECK(desc_eq(&w, &r));
    CHECK_EQ_INT(tern_vp8_desc_write(&w, buf, (size_t)n - 1), -ENOSPC);
  }
  struct tern_vp8_desc bad = {.has_picture_id = true, .picture_id = 200}; /* 7-bit */
  uint8_t buf[8];
  CHECK_EQ_INT(tern_vp8_desc_write(&bad, buf, sizeof(buf)), -EINVAL);
  bad = (struct tern_vp8_desc){.pid = 8};
  CHECK_EQ_INT(tern_vp8_desc_write(&bad, buf, sizeof(buf)), -EINVAL);
}

/* ---------- key frames (RFC 6386 §9.1) ---------- */

/* A VP8 frame: 3-byte frame tag (P, version, show_frame, 19-bit first
 * partition size), and for key frames the start code and the dimensions;
 * then `len` bytes in total, the rest random. */
static void make_frame(uint8_t *f, size_t len, bool key, int w, int h) {
  for (size_t i = 0; i < len; i++)
    f[i] = (uint8_t)rnd();
  uint32_t first_part = (uint32_t)(len > 20 ? len / 2 : 1);
  uint32_t tag = (key ? 0u : 1u) | 0u << 1 | 1u << 4 | first_part << 5;
  f[0] = tag & 0xff;
  f[1] = (tag >> 8) & 0xff;
  f[2] = (tag >> 16) & 0xff;
  if (key && len >= 10) {
    f[3] = 0x9d, f[4] = 0x01, f[5] = 0x2a;
    f[6] = w & 0xff, f[7] = (uint8_t)(w >> 8);
    f[8] = h & 0xff, f[9] = (uint8_t)(h >> 8);
  }
}

static void test_keyframe_detection(void) {
  uint8_t p[64];
  /* 15-bit PictureID descriptor, then a 640×480 key frame header whose
   * width carries scale bits (01 = 5/4 upscale) that must be masked off */
  p[0] = 0x90, p[1] = 0x80, p[2] = 0x80 | 0x12, p[3] = 0x34;
  make_frame(p + 4, 60, true, 640 | 0x4000, 480);
  CHECK(tern_vp8_is_keyframe(p, 64));
  int w = 0, h = 0;
  CHECK_EQ_INT(tern_vp8_keyframe_size(p, 64, &w, &h), 0);
  CHECK_EQ_INT(w, 640);
  CHECK_EQ_INT(h, 480);
  CHECK(tern_vp8_is_keyframe(p, 4 + 10));  /* header just fits */
  CHECK(!tern_vp8_is_keyframe(p, 4 + 9));  /* dimensions cut off */
  for (size_t len = 0; len < 14; len++)
    CHECK(!tern_vp8_is_keyframe(p, len));

  uint8_t q[64];
  memcpy(q, p, 64);
  q[4] |= 1; /* P = 1: inter frame */
  CHECK(!tern_vp8_is_keyframe(q, 64));
  CHECK_EQ_INT(tern_vp8_keyframe_size(q, 64, &w, &h), -EPROTO);
  memcpy(q, p, 64);
  q[0] &= ~0x10; /* S = 0: a continuation packet */
  CHECK(!tern_vp8_is_keyframe(q, 64));
  memcpy(q, p, 64);
  q[0] |= 1; /* PID 1: not the first partition */
  CHECK(!tern_vp8_is_keyframe(q, 64));
  memcpy(q, p, 64);
  q[4 + 4] = 0x02; /* broken start code */
  CHECK(!tern_vp8_is_keyframe(q, 64));
  /* with a 1-byte descriptor too */
  uint8_t m[11] = {0x10};
  make_frame(m + 1, 10, true, 320, 240);
  CHECK(tern_vp8_is_keyframe(m, sizeof(m)));
}

/* ---------- packetizer ---------- */

static void test_packetizer(void) {
  struct tern_vp8_packetizer pz;
  tern_vp8_packetizer_init(&pz, 0x7ffe);
  static uint8_t frame[3000], out[1300];
  make_frame(frame, sizeof(frame), true, 640, 480);
  struct tern_vp8_pack_iter it;
  REQUIRE(tern_vp8_pack_begin(&pz, &it, frame, sizeof(frame), 1200, false) == 0);
  CHECK_EQ_INT(tern_vp8_pack_count(&it), 3); /* 1196 bytes of room each */
  size_t off = 0;
  for (int i = 0; i < 3; i++) {
    bool marker = true;
    int n = tern_vp8_pack_next(&it, out, sizeof(out), &marker);
    CHECK_EQ_INT(n, 1004); /* even split: 1000 + 4-byte descriptor */
    CHECK(marker == (i == 2));
    struct tern_vp8_desc d;
    REQUIRE(tern_vp8_desc_parse(out, (size_t)n, &d) == 4);
    CHECK(d.s == (i == 0) && d.pid == 0 && !d.n);
    CHECK(d.has_picture_id && d.picture_id_15 && d.picture_id == 0x7ffe);
    CHECK(memcmp(out + 4, frame + off, 1000) == 0);
    CHECK(tern_vp8_is_keyframe(out, (size_t)n) == (i == 0));
    off += 1000;
  }
  bool marker;
  CHECK_EQ_INT(tern_vp8_pack_next(&it, out, sizeof(out), &marker), 0);

  /* PictureID increments per frame and wraps at 15 bits */
  REQUIRE(tern_vp8_pack_begin(&pz, &it, frame, 1196, 1200, true) == 0);
  CHECK_EQ_INT(tern_vp8_pack_count(&it), 1);
  int n = tern_vp8_pack_next(&it, out, sizeof(out), &marker);
  CHECK_EQ_INT(n, 1200);
  CHECK(marker);
  struct tern_vp8_desc d;
  REQUIRE(tern_vp8_desc_parse(out, (size_t)n, &d) == 4);
  CHECK_EQ_INT(d.picture_id, 0x7fff);
  CHECK(d.n);
  REQUIRE(tern_vp8_pack_begin(&pz, &it, frame, 1197, 1200, false) == 0);
  CHECK_EQ_INT(tern_vp8_pack_count(&it), 2);
  int a = tern_vp8_pack_next(&it, out, sizeof(out), &marker);
  REQUIRE(tern_vp8_desc_parse(out, (size_t)a, &d) == 4);
  CHECK_EQ_INT(d.picture_id, 0);
  CHECK_EQ_INT(tern_vp8_pack_next(&it, out, 10, &marker), -ENOSPC); /* cap too small */
  int b = tern_vp8_pack_next(&it, out, sizeof(out), &marker);
  CHECK(a == 4 + 599 && b == 4 + 598); /* sizes differ by at most one */

  CHECK_EQ_INT(tern_vp8_pack_begin(&pz, &it, frame, 0, 1200, false), -EINVAL);
  CHECK_EQ_INT(tern_vp8_pack_begin(&pz, &it, frame, 10, 4, false), -EINVAL);
}

/* ---------- assembler ---------- */

#define MAXF 64
#define MAXP 4096

struct pkt {
  uint8_t b[1300];
  size_t len;
  uint16_t seq;
  uint32_t ts;
  bool marker;
  int frame;
};

struct stream {
  uint8_t *frames[MAXF];
  size_t flen[MAXF];
  bool key[MAXF];
  uint32_t fts[MAXF];
  int nf;
  struct pkt *p;
  int np;
};

/* Frames of random size; key frames where `keys` says ('K' at index i). */
static void make_stream(struct stream *s, int nf, const char *keys, size_t max_size,
                        size_t max_payload, uint16_t seq0) {
  memset(s, 0, sizeof(*s));
  s->p = calloc(MAXP, sizeof(struct pkt));
  s->nf = nf;
  struct tern_vp8_packetizer pz;
  tern_vp8_packetizer_init(&pz, (uint16_t)rnd());
  uint16_t seq = seq0;
  uint32_t ts = 0xfffff000u; /* wraps too */
  for (int i = 0; i < nf; i++) {
    size_t len = 1 + rnd() % max_size;
    s->key[i] = keys && i < (int)strlen(keys) && keys[i] == 'K';
    if (len < (s->key[i] ? 10u : 3u)) /* a VP8 frame has at least its tag */
      len = s->key[i] ? 10 : 3;
    s->frames[i] = malloc(len);
    s->flen[i] = len;
    s->fts[i] = ts;
    make_frame(s->frames[i], len, s->key[i], 320, 240);
    struct tern_vp8_pack_iter it;
    if (tern_vp8_pack_begin(&pz, &it, s->frames[i], len, max_payload, false) < 0)
      abort();
    for (;;) {
      struct pkt *p = &s->p[s->np];
      int n = tern_vp8_pack_next(&it, p->b, sizeof(p->b), &p->marker);
      if (n <= 0)
        break;
      p->len = (size_t)n;
      p->seq = seq++;
      p->ts = ts;
      p->frame = i;
      s->np++;
    }
    ts += 3000; /* 30 fps at 90 kHz */
  }
}

static void free_stream(struct stream *s) {
  for (int i = 0; i < s->nf; i++)
    free(s->frames[i]);
  free(s->p);
}

/* Pushes packets in the order given (indices into s->p; -1 = skip), pops
 * after each; records which frames came out, checking their bytes. */
static int feed(struct tern_vp8_asm *a, struct stream *s, const int *order, int n, int *got) {
  int ng = 0;
  for (int k = 0; k < n; k++) {
    if (order[k] < 0)
      continue;
    struct pkt *p = &s->p[order[k]];
    if (tern_vp8_asm_push(a, p->b, p->len, p->seq, p->ts, p->marker) != 0)
      return -1;
    struct tern_vp8_frame f;
    while (tern_vp8_asm_pop(a, &f) == 1) {
      int i = -1;
      for (int j = 0; j < s->nf; j++)
        if (s->fts[j] == f.timestamp)
          i = j;
      if (i < 0 || f.len != s->flen[i] || memcmp(f.data, s->frames[i], f.len) != 0 ||
          f.keyframe != s->key[i] || !f.has_picture_id)
        return -2;
      got[ng++] = i;
    }
  }
  return ng;
}

static void identity(int *order, int n) {
  for (int i = 0; i < n; i++)
    order[i] = i;
}

static void test_roundtrip_random_frames(void) {
  for (int trial = 0; trial < 20; trial++) {
    struct stream s;
    char keys[MAXF] = "K";
    make_stream(&s, 40, keys, 1 + rnd() % 9000, 100 + rnd() % 1100, (uint16_t)(65500 + trial));
    struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
    REQUIRE(a);
    CHECK(tern_vp8_asm_need_keyframe(a));
    static int order[MAXP], got[MAXF];
    identity(order, s.np);
    int ng = feed(a, &s, order, s.np, got);
    CHECK_EQ_INT(ng, 40);
    for (int i = 0; i < ng; i++)
      CHECK_EQ_INT(got[i], i);
    CHECK(!tern_vp8_asm_need_keyframe(a));
    struct tern_vp8_asm_stats st;
    tern_vp8_asm_stats(a, &st);
    CHECK_EQ_INT(st.frames, 40);
    CHECK_EQ_INT(st.frames_dropped + st.packets_late + st.packets_bad, 0);
    tern_vp8_asm_destroy(a);
    free_stream(&s);
  }
}

/* Reordering within the window (shuffles of blocks of 8 < reorder 16)
 * loses nothing; the frames still come out in order. */
static void test_reorder_within_window(void) {
  struct stream s;
  make_stream(&s, 50, "K", 5000, 500, 65000);
  static int order[MAXP], got[MAXF];
  identity(order, s.np);
  for (int b = 0; b + 8 <= s.np; b += 8)
    for (int i = 7; i > 0; i--) {
      int j = (int)(rnd() % (unsigned)(i + 1)), t = order[b + i];
      order[b + i] = order[b + j];
      order[b + j] = t;
    }
  /* keep the very first packet first (joining needs a start) */
  for (int i = 0; i < 8; i++)
    if (order[i] == 0) {
      order[i] = order[0];
      order[0] = 0;
    }
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  REQUIRE(a);
  int ng = feed(a, &s, order, s.np, got);
  CHECK_EQ_INT(ng, 50);
  for (int i = 0; i < ng; i++)
    CHECK_EQ_INT(got[i], i);
  tern_vp8_asm_destroy(a);
  free_stream(&s);
}

static int first_packet_of(const struct stream *s, int frame) {
  for (int i = 0; i < s->np; i++)
    if (s->p[i].frame == frame)
      return i;
  return -1;
}

/* Loss inside a delta frame: frames before it are delivered, it and every
 * delta frame after it are not (they reference it), need_keyframe rises;
 * the next key frame is delivered and clears it. */
static void test_loss_then_keyframe(void) {
  struct stream s;
  /* frame 10 is K; loss in frame 4 */
  make_stream(&s, 20, "K.........K.........", 3000, 400, 100);
  static int order[MAXP], got[MAXF];
  identity(order, s.np);
  int lost = first_packet_of(&s, 4);
  if (!s.p[lost].marker)
    lost++; /* its second packet, if it has one */
  order[lost] = -1;
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 4, 0);
  REQUIRE(a);
  /* feed up to just before frame 10 */
  int k10 = first_packet_of(&s, 10);
  int ng = feed(a, &s, order, k10, got);
  REQUIRE(ng >= 0);
  CHECK_EQ_INT(ng, 4); /* frames 0..3 */
  for (int i = 0; i < ng; i++)
    CHECK_EQ_INT(got[i], i);
  CHECK(tern_vp8_asm_need_keyframe(a));
  int ng2 = feed(a, &s, order + k10, s.np - k10, got);
  CHECK_EQ_INT(ng2, 10); /* frames 10..19 */
  CHECK(ng2 > 0 && got[0] == 10);
  CHECK(!tern_vp8_asm_need_keyframe(a));
  struct tern_vp8_asm_stats st;
  tern_vp8_asm_stats(a, &st);
  CHECK_EQ_INT(st.frames, 14);
  CHECK(st.frames_dropped >= 5); /* 5..9, and 4 if a packet of it came */
  tern_vp8_asm_destroy(a);
  free_stream(&s);
}

/* Losing the marker packet or the first packet of a frame also drops it. */
static void test_loss_of_first_and_last(void) {
  for (int which = 0; which < 2; which++) {
    struct stream s;
    make_stream(&s, 12, "K....K......", 3000, 400, 7);
    static int order[MAXP], got[MAXF];
    identity(order, s.np);
    int f2 = first_packet_of(&s, 2), f3 = first_packet_of(&s, 3);
    order[which == 0 ? f2 : f3 - 1] = -1;
    struct tern_vp8_asm *a = tern_vp8_asm_create(0, 4, 0);
    REQUIRE(a);
    int ng = feed(a, &s, order, s.np, got);
    /* 0, 1, then 5..11 */
    CHECK_EQ_INT(ng, 9);
    CHECK(ng == 9 && got[1] == 1 && got[2] == 5 && got[8] == 11);
    tern_vp8_asm_destroy(a);
    free_stream(&s);
  }
}

/* A packet delayed beyond the reorder window: its frame is given up, and
 * when it finally arrives it is counted late, not delivered. */
static void test_late_beyond_window(void) {
  struct stream s;
  make_stream(&s, 30, "K.........K...................", 2000, 300, 60000);
  static int order[MAXP], got[MAXF];
  int f3 = first_packet_of(&s, 3), k10 = first_packet_of(&s, 10);
  int n = 0;
  for (int i = 0; i < s.np; i++) {
    if (i == f3)
      continue;
    order[n++] = i;
    if (i == f3 + 30)
      order[n++] = f3; /* 30 packets late, reorder is 16 */
  }
  REQUIRE(f3 + 30 < k10 || true);
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  REQUIRE(a);
  int ng = feed(a, &s, order, n, got);
  CHECK(ng >= 3 && got[0] == 0 && got[2] == 2);
  struct tern_vp8_asm_stats st;
  tern_vp8_asm_stats(a, &st);
  CHECK_EQ_INT(st.packets_late, 1);
  /* from the key frame on, everything */
  CHECK(ng == 3 + 20 && got[3] == 10);
  (void)k10;
  tern_vp8_asm_destroy(a);
  free_stream(&s);
}

/* Duplicates are ignored; garbage is rejected without disturbing the rest. */
static void test_duplicates_and_garbage(void) {
  struct stream s;
  make_stream(&s, 10, "K", 3000, 500, 1);
  static int order[MAXP * 2], got[MAXF];
  int n = 0;
  for (int i = 0; i < s.np; i++) {
    order[n++] = i;
    if (i % 3 == 0)
      order[n++] = i;
  }
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  REQUIRE(a);
  const uint8_t bad[] = {0x90, 0x80}; /* truncated descriptor */
  CHECK_EQ_INT(tern_vp8_asm_push(a, bad, sizeof(bad), 0, 0, true), -EPROTO);
  int ng = feed(a, &s, order, n, got);
  CHECK_EQ_INT(ng, 10);
  struct tern_vp8_asm_stats st;
  tern_vp8_asm_stats(a, &st);
  CHECK_EQ_INT(st.packets_bad, 1);
  CHECK(st.packets_late > 0);
  tern_vp8_asm_destroy(a);
  free_stream(&s);
}

/* A viewer joining mid-stream (first packet in the middle of a delta
 * frame): nothing until the key frame, need_keyframe all along. */
static void test_join_mid_stream(void) {
  struct stream s;
  make_stream(&s, 16, "K.......K.......", 3000, 300, 40000);
  static int got[MAXF];
  int start = first_packet_of(&s, 2) + 1;
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  REQUIRE(a);
  static int order[MAXP];
  int n = 0;
  for (int i = start; i < s.np; i++)
    order[n++] = i;
  int k8 = first_packet_of(&s, 8) - start;
  int ng = feed(a, &s, order, k8, got);
  CHECK_EQ_INT(ng, 0);
  CHECK(tern_vp8_asm_need_keyframe(a));
  ng = feed(a, &s, order + k8, n - k8, got);
  CHECK_EQ_INT(ng, 8);
  CHECK(!tern_vp8_asm_need_keyframe(a));
  tern_vp8_asm_destroy(a);
  free_stream(&s);
}

/* Sequence jumps (a sender restarting its numbering). Forward beyond the
 * window: the old window is dropped in bounded time and the new stream
 * assembles at once. By more than half the 16-bit space, which looks like
 * very old packets: after `reorder` of those in a row the assembler starts
 * over, so the stream recovers at its next key frame. */
static void test_sequence_jump(void) {
  for (int back = 0; back < 2; back++) {
    struct stream s1, s2;
    make_stream(&s1, 5, "K", 2000, 500, 10);
    uint16_t seq2 = (uint16_t)(back ? 10 + s1.np + 40000 : 10 + s1.np + 20000);
    make_stream(&s2, 12, "K.......K...", 2000, 500, seq2);
    for (int i = 0; i < s2.np; i++)
      s2.p[i].ts += 1000000; /* distinct timestamps from s1 */
    for (int i = 0; i < s2.nf; i++)
      s2.fts[i] += 1000000;
    struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
    REQUIRE(a);
    static int order[MAXP], got[MAXF];
    identity(order, s1.np - 1); /* the last packet of s1 never comes */
    CHECK_EQ_INT(feed(a, &s1, order, s1.np - 1, got), 4);
    identity(order, s2.np);
    int ng = feed(a, &s2, order, s2.np, got);
    if (back) {
      CHECK(first_packet_of(&s2, 8) >= TERN_VP8_ASM_REORDER); /* the test's premise */
      CHECK_EQ_INT(ng, 4);
      CHECK(ng == 4 && got[0] == 8);
    } else {
      CHECK_EQ_INT(ng, 12);
    }
    tern_vp8_asm_destroy(a);
    free_stream(&s1);
    free_stream(&s2);
  }
}

/* reset() (e.g. on an SSRC change) forgets everything. */
static void test_reset(void) {
  struct stream s;
  make_stream(&s, 4, "K", 2000, 500, 10);
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  REQUIRE(a);
  static int order[MAXP], got[MAXF];
  identity(order, s.np);
  CHECK_EQ_INT(feed(a, &s, order, s.np, got), 4);
  CHECK(!tern_vp8_asm_need_keyframe(a));
  tern_vp8_asm_reset(a);
  CHECK(tern_vp8_asm_need_keyframe(a));
  CHECK_EQ_INT(feed(a, &s, order, s.np, got), 4); /* same seqs again: not "late" */
  tern_vp8_asm_destroy(a);
  free_stream(&s);
}

/* A sender that forgets the marker: the next frame's first packet, with no
 * gap, closes the frame. An oversize frame is dropped. */
static void test_missing_marker_and_oversize(void) {
  struct stream s;
  make_stream(&s, 6, "K", 3000, 1000, 5);
  for (int i = 0; i < s.np; i++)
    if (s.p[i].frame == 1)
      s.p[i].marker = false;
  static int order[MAXP], got[MAXF];
  identity(order, s.np);
  struct tern_vp8_asm *a = tern_vp8_asm_create(0, 0, 0);
  REQUIRE(a);
  CHECK_EQ_INT(feed(a, &s, order, s.np, got), 6);
  tern_vp8_asm_destroy(a);

  size_t biggest = 0;
  for (int i = 1; i < s.nf; i++)
    biggest = s.flen[i] > biggest ? s.flen[i] : biggest;
  a = tern_vp8_asm_create(16, 4, s.flen[0]); /* key frame fits, larger ones don't */
  REQUIRE(a);
  int ng = feed(a, &s, order, s.np, got);
  CHECK(ng >= 1 && got[0] == 0);
  if (biggest > s.flen[0])
    CHECK(ng < 6 && tern_vp8_asm_need_keyframe(a));
  tern_vp8_asm_destroy(a);
  free_stream(&s);

  CHECK(tern_vp8_asm_create(100, 0, 0) == NULL); /* not a power of two */
  CHECK(tern_vp8_asm_create(16, 9, 0) == NULL);  /* reorder > slots/2 */
}

/* Random loss and reordering: whatever comes out is byte-exact and in
 * order, and after every loss only a key frame restarts delivery. */
static void test_random_loss_fuzz(void) {
  for (int trial = 0; trial < 30; trial++) {
    struct stream s;
    char keys[MAXF + 1] = {0};
    for (int i = 0; i < MAXF; i++)
      keys[i] = i % 8 == 0 ? 'K' : '.';
    make_stream(&s, 48, keys, 4000, 300 + rnd() % 900, (uint16_t)rnd());
    static int order[MAXP], got[MAXF];
    identity(order, s.np);
    for (int i = 0; i < s.np; i++) {
      if (rnd() % 50 == 0)
        order[i] = -1;
      if (i + 3 < s.np && rnd() % 10 == 0) {
        int t = order[i];
        order[i] = order[i + 3];
        order[i + 3] = t;
      }
    }
    struct tern_vp8_asm *a = tern_vp8_asm_create(0, 8, 0);
    REQUIRE(a);
    int ng = feed(a, &s, order, s.np, got);
    CHECK(ng >= 0); /* -2 would mean a corrupted frame came out */
    for (int i = 1; i < ng; i++) {
      CHECK(got[i] > got[i - 1]);
      if (got[i] != got[i - 1] + 1)
        CHECK(s.key[got[i]]); /* a gap is only ever resumed on a key frame */
    }
    if (ng > 0)
      CHECK(s.key[got[0]]);
    tern_vp8_asm_destroy(a);
    free_stream(&s);
  }
}

int main(void) {
  RUN(test_desc_parse);
  RUN(test_desc_write_roundtrip);
  RUN(test_keyframe_detection);
  RUN(test_packetizer);
  RUN(test_roundtrip_random_frames);
  RUN(test_reorder_within_window);
  RUN(test_loss_then_keyframe);
  RUN(test_loss_of_first_and_last);
  RUN(test_late_beyond_window);
  RUN(test_duplicates_and_garbage);
  RUN(test_join_mid_stream);
  RUN(test_sequence_jump);
  RUN(test_reset);
  RUN(test_missing_marker_and_oversize);
  RUN(test_random_loss_fuzz);
  return TEST_RESULT();
}
