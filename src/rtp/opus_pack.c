/* opus_pack — see opus_pack.h. */
#include "rtp/opus_pack.h"

#include <errno.h>

/* RFC 6716 §3.1, table 2: configs 0–11 are SILK (10/20/40/60 ms in turn),
 * 12–15 hybrid (10/20 ms), 16–31 CELT (2.5/5/10/20 ms). */
static int config_samples(unsigned config) {
  static const int silk[4] = {480, 960, 1920, 2880};
  static const int hybrid[2] = {480, 960};
  static const int celt[4] = {120, 240, 480, 960};
  if (config < 12)
    return silk[config & 3];
  if (config < 16)
    return hybrid[config & 1];
  return celt[config & 3];
}

int tern_opus_parse_toc(const uint8_t *pkt, size_t len, struct tern_opus_toc *toc) {
  if (!pkt || len < 1 || !toc)
    return -EPROTO;
  toc->config = pkt[0] >> 3;
  toc->stereo = (pkt[0] >> 2) & 1;
  toc->code = pkt[0] & 3;
  toc->frame_samples = config_samples(toc->config);
  switch (toc->code) {
  case 0:
    toc->frames = 1;
    break;
  case 1:
  case 2:
    toc->frames = 2;
    break;
  default:
    /* Code 3: byte 1 is |v|p|   M   |, M frames (RFC 6716 §3.2.5). */
    if (len < 2)
      return -EPROTO;
    toc->frames = pkt[1] & 0x3f;
    if (toc->frames == 0)
      return -EPROTO;
    break;
  }
  toc->samples = toc->frames * toc->frame_samples;
  if (toc->samples > 5760) /* §3.2.5: at most 120 ms of audio */
    return -EPROTO;
  return 0;
}

int tern_opus_packet_samples(const uint8_t *pkt, size_t len) {
  struct tern_opus_toc toc;
  int r = tern_opus_parse_toc(pkt, len, &toc);
  return r < 0 ? r : toc.samples;
}

void tern_opus_packetizer_init(struct tern_opus_packetizer *p, uint32_t base_ts) {
  p->next_ts = base_ts;
}

uint32_t tern_opus_packetizer_next(struct tern_opus_packetizer *p, const uint8_t *pkt,
                                   size_t len) {
  uint32_t ts = p->next_ts;
  int n = tern_opus_packet_samples(pkt, len);
  p->next_ts += n > 0 ? (uint32_t)n : TERN_OPUS_RTP_TS_20MS;
  return ts;
}
