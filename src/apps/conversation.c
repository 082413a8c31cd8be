#include "apps/conversation.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "media/clock.h"
#include "media/mixer.h"
#include "peer/peer.h"

#define FRAME_MS 20

struct room;

struct tern_room_member {
  struct tern_room_member *prev, *next;
  struct room *room;
  struct tern_track *track;
  struct tern_mixer_participant *mp;
  uint32_t timestamp; /* this member's own RTP timeline */
  char log_id[48];
};

struct room {
  struct room *prev, *next;
  struct tern_rooms *owner;
  char id[129];
  struct tern_mixer *mixer;
  struct tern_media_clock clock;
  struct tern_room_member *members;
  size_t n_members;
  bool frame_published; /* this tick's shared mix went to the frame hook */
};

struct tern_rooms {
  uv_loop_t *loop;
  struct room *rooms;
  size_t n_rooms, n_members;
  tern_rooms_frame_cb frame_cb;
  void *frame_user;
};

struct tern_rooms *tern_rooms_create(uv_loop_t *loop) {
  struct tern_rooms *r = calloc(1, sizeof *r);
  if (r)
    r->loop = loop;
  return r;
}

static void room_freed(struct tern_media_clock *clock, void *user) {
  struct room *room = user;
  (void)clock;
  tern_mixer_destroy(room->mixer);
  free(room);
}

/* Unlinks an empty room; its clock handle closes asynchronously and takes
 * the mixer and the room with it. */
static void room_close(struct room *room) {
  struct tern_rooms *r = room->owner;
  if (room->prev)
    room->prev->next = room->next;
  else
    r->rooms = room->next;
  if (room->next)
    room->next->prev = room->prev;
  r->n_rooms--;
  tern_log_info(NULL, "conversation %s: closed", room->id);
  tern_media_clock_close(&room->clock, room_freed);
}

void tern_rooms_destroy(struct tern_rooms *r) {
  if (!r)
    return;
  while (r->rooms) {
    struct room *room = r->rooms;
    while (room->members)
      tern_rooms_leave(room->members);
    /* leaving the last member closed the room */
    if (r->rooms == room)
      room_close(room);
  }
  free(r);
}

/* The mixer produced this member's frame: send it on the member's own
 * timeline (the shared encode for listeners arrives as the same payload
 * pointer for each of them). */
static void emit(void *member_user, const uint8_t *opus, size_t len, uint32_t step,
                 void *cb_user) {
  struct tern_room_member *m = member_user;
  struct room *room = cb_user;
  m->timestamp += step;
  /* In shared mode only the mixed speakers encode for themselves, and a
   * mixed participant is speaking: a member not speaking was sent the
   * shared mix. */
  if (room->owner->frame_cb && !room->frame_published &&
      !tern_mixer_participant_speaking(m->mp)) {
    room->frame_published = true;
    room->owner->frame_cb(room->id, opus, len, room->owner->frame_user);
  }
  tern_track_send_payload(m->track, opus, len, m->timestamp, false);
}

static void on_tick(struct tern_media_clock *clock, uint64_t index, void *user) {
  struct room *room = user;
  (void)clock;
  (void)index;
  room->frame_published = false;
  tern_mixer_tick(room->mixer, emit, room);
}

static struct room *room_get(struct tern_rooms *r, const char *id) {
  for (struct room *room = r->rooms; room; room = room->next)
    if (strcmp(room->id, id) == 0)
      return room;
  struct room *room = calloc(1, sizeof *room);
  if (!room)
    return NULL;
  struct tern_mixer_config cfg;
  tern_mixer_config_default(&cfg);
  room->owner = r;
  snprintf(room->id, sizeof room->id, "%s", id);
  if (!(room->mixer = tern_mixer_create(&cfg))) {
    free(room);
    return NULL;
  }
  if (tern_media_clock_start(&room->clock, r->loop, FRAME_MS, on_tick, room) < 0) {
    tern_mixer_destroy(room->mixer);
    free(room);
    return NULL;
  }
  room->next = r->rooms;
  if (r->rooms)
    r->rooms->prev = room;
  r->rooms = room;
  r->n_rooms++;
  tern_log_info(NULL, "conversation %s: opened", id);
  return room;
}

static void on_rtp(struct tern_track *t, void *user, const uint8_t *pkt, size_t len) {
  struct tern_room_member *m = user;
  (void)t;
  tern_mixer_push_rtp(m->mp, pkt, len);
}

static const struct tern_track_ops member_ops = {.rtp = on_rtp};

struct tern_room_member *tern_rooms_join(struct tern_rooms *r, const char *conversation_id,
                                         struct tern_track *track, const char *log_id) {
  struct room *room = room_get(r, conversation_id);
  if (!room)
    return NULL;
  struct tern_room_member *m = calloc(1, sizeof *m);
  if (!m) {
    if (!room->members)
      room_close(room);
    return NULL;
  }
  m->room = room;
  m->track = track;
  m->timestamp = tern_track_last_timestamp(track); /* the timeline goes on */
  snprintf(m->log_id, sizeof m->log_id, "%s", log_id ? log_id : "");
  if (!(m->mp = tern_mixer_add(room->mixer, m))) {
    free(m);
    if (!room->members)
      room_close(room);
    return NULL;
  }
  int ext = tern_track_audio_level_ext_id(track);
  if (ext > 0)
    tern_mixer_participant_set_audio_level_ext_id(m->mp, (uint8_t)ext);
  m->next = room->members;
  if (room->members)
    room->members->prev = m;
  room->members = m;
  room->n_members++;
  r->n_members++;
  tern_track_set_ops(track, &member_ops, m);
  return m;
}

void tern_rooms_leave(struct tern_room_member *m) {
  struct room *room = m->room;
  struct tern_rooms *r = room->owner;
  tern_track_set_ops(m->track, NULL, NULL);
  tern_mixer_remove(room->mixer, m->mp);
  if (m->prev)
    m->prev->next = m->next;
  else
    room->members = m->next;
  if (m->next)
    m->next->prev = m->prev;
  room->n_members--;
  r->n_members--;
  free(m);
  if (!room->members)
    room_close(room);
}

void tern_rooms_set_frame_cb(struct tern_rooms *r, tern_rooms_frame_cb cb, void *user) {
  r->frame_cb = cb;
  r->frame_user = user;
}

size_t tern_rooms_count(const struct tern_rooms *r) { return r->n_rooms; }
size_t tern_rooms_members(const struct tern_rooms *r) { return r->n_members; }
