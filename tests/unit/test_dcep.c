/* test_dcep — DATA_CHANNEL_OPEN / ACK codec (RFC 8832 §5). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "sctp/dcep.h"
#include "test.h"

/* An OPEN as Chromium sends it for
 * createDataChannel("chat", {ordered:false, maxRetransmits:3, protocol:"p1"}). */
static const uint8_t chrome_open[] = {
    0x03, 0x81, 0x01, 0x00,             /* OPEN, rexmit unordered, prio 256 */
    0x00, 0x00, 0x00, 0x03,             /* 3 retransmissions */
    0x00, 0x04, 0x00, 0x02,             /* label 4, protocol 2 */
    'c',  'h',  'a',  't',  'p',  '1',
};

static void test_decode_known(void) {
  struct tern_dcep_open o;
  REQUIRE(tern_dcep_decode_open(chrome_open, sizeof(chrome_open), &o) == 0);
  CHECK(!o.ordered);
  CHECK_EQ_INT(o.reliability, TERN_DCEP_REXMIT);
  CHECK_EQ_INT(o.reliability_param, 3);
  CHECK_EQ_INT(o.priority, 256);
  CHECK_EQ_INT(o.label_len, 4);
  CHECK(memcmp(o.label, "chat", 4) == 0);
  CHECK_EQ_INT(o.protocol_len, 2);
  CHECK(memcmp(o.protocol, "p1", 2) == 0);
  CHECK_EQ_INT(tern_dcep_type(chrome_open, sizeof(chrome_open)), TERN_DCEP_OPEN);
}

static void test_round_trips(void) {
  static const struct {
    bool ordered;
    enum tern_dcep_reliability rel;
    uint32_t param;
    uint8_t wire_type;
    const char *label, *protocol;
  } cases[] = {
      {true, TERN_DCEP_RELIABLE, 0, 0x00, "ping-pong", ""},
      {false, TERN_DCEP_RELIABLE, 0, 0x80, "", ""},
      {true, TERN_DCEP_REXMIT, 0, 0x01, "r0", "x"},
      {false, TERN_DCEP_REXMIT, 7, 0x81, "r7", "proto"},
      {true, TERN_DCEP_TIMED, 1500, 0x02, "t", ""},
      {false, TERN_DCEP_TIMED, 0xffffffffu, 0x82, "frequency", "json"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct tern_dcep_open in = {
        .ordered = cases[i].ordered,
        .reliability = cases[i].rel,
        .reliability_param = cases[i].param,
        .priority = TERN_DCEP_PRIORITY_HIGH,
        .label = cases[i].label,
        .label_len = (uint16_t)strlen(cases[i].label),
        .protocol = cases[i].protocol,
        .protocol_len = (uint16_t)strlen(cases[i].protocol),
    };
    uint8_t buf[64];
    int n = tern_dcep_encode_open(&in, buf, sizeof(buf));
    CHECK_EQ_INT(n, 12 + in.label_len + in.protocol_len);
    CHECK_EQ_INT((size_t)n, tern_dcep_open_size(&in));
    CHECK_EQ_INT(buf[0], 0x03);
    CHECK_EQ_INT(buf[1], cases[i].wire_type);
    struct tern_dcep_open out;
    REQUIRE(tern_dcep_decode_open(buf, (size_t)n, &out) == 0);
    CHECK_EQ_INT(out.ordered, in.ordered);
    CHECK_EQ_INT(out.reliability, in.reliability);
    CHECK_EQ_INT(out.reliability_param, in.reliability_param);
    CHECK_EQ_INT(out.priority, TERN_DCEP_PRIORITY_HIGH);
    CHECK_EQ_INT(out.label_len, in.label_len);
    CHECK(memcmp(out.label, in.label, in.label_len) == 0);
    CHECK_EQ_INT(out.protocol_len, in.protocol_len);
    CHECK(memcmp(out.protocol, in.protocol, in.protocol_len) == 0);
  }
}

static void test_reliable_param_zeroed(void) {
  /* RFC 8832 §5.1: the parameter is ignored (we send 0) for reliable. */
  struct tern_dcep_open in = {.ordered = true,
                              .reliability = TERN_DCEP_RELIABLE,
                              .reliability_param = 99,
                              .label = "a",
                              .label_len = 1};
  uint8_t buf[16];
  REQUIRE(tern_dcep_encode_open(&in, buf, sizeof(buf)) == 13);
  CHECK(buf[4] == 0 && buf[5] == 0 && buf[6] == 0 && buf[7] == 0);
}

static void test_encode_errors(void) {
  struct tern_dcep_open in = {.ordered = true,
                              .reliability = TERN_DCEP_RELIABLE,
                              .label = "label",
                              .label_len = 5,
                              .protocol = "pr",
                              .protocol_len = 2};
  uint8_t buf[32];
  CHECK_EQ_INT(tern_dcep_encode_open(&in, buf, 18), -ENOSPC);
  CHECK_EQ_INT(tern_dcep_encode_open(&in, buf, 19), 19);
  in.reliability = (enum tern_dcep_reliability)3;
  CHECK_EQ_INT(tern_dcep_encode_open(&in, buf, sizeof(buf)), -EINVAL);
  CHECK_EQ_INT(tern_dcep_encode_ack(buf, 0), -ENOSPC);
}

static void test_malformed(void) {
  struct tern_dcep_open o;
  uint8_t m[sizeof(chrome_open)];

  /* Every truncation fails: header or label/protocol cut short. */
  for (size_t n = 0; n < sizeof(chrome_open); n++)
    CHECK_EQ_INT(tern_dcep_decode_open(chrome_open, n, &o), -EPROTO);

  /* Label length beyond the buffer. */
  memcpy(m, chrome_open, sizeof(m));
  m[9] = 7; /* label 7 + protocol 2 > 6 bytes present */
  CHECK_EQ_INT(tern_dcep_decode_open(m, sizeof(m), &o), -EPROTO);
  m[8] = 0xff;
  m[9] = 0xff;
  CHECK_EQ_INT(tern_dcep_decode_open(m, sizeof(m), &o), -EPROTO);

  /* Protocol length beyond the buffer. */
  memcpy(m, chrome_open, sizeof(m));
  m[11] = 3;
  CHECK_EQ_INT(tern_dcep_decode_open(m, sizeof(m), &o), -EPROTO);

  /* Unknown channel types. */
  static const uint8_t bad_types[] = {0x03, 0x04, 0x7f, 0x83, 0xff, 0x40};
  for (size_t i = 0; i < sizeof(bad_types); i++) {
    memcpy(m, chrome_open, sizeof(m));
    m[1] = bad_types[i];
    CHECK_EQ_INT(tern_dcep_decode_open(m, sizeof(m), &o), -EPROTO);
  }

  /* Not an OPEN at all. */
  memcpy(m, chrome_open, sizeof(m));
  m[0] = 0x02;
  CHECK_EQ_INT(tern_dcep_decode_open(m, sizeof(m), &o), -EPROTO);
  m[0] = 0x00;
  CHECK_EQ_INT(tern_dcep_decode_open(m, sizeof(m), &o), -EPROTO);

  /* Trailing bytes after the protocol are tolerated. */
  uint8_t longer[sizeof(chrome_open) + 3];
  memcpy(longer, chrome_open, sizeof(chrome_open));
  memset(longer + sizeof(chrome_open), 0xee, 3);
  CHECK_EQ_INT(tern_dcep_decode_open(longer, sizeof(longer), &o), 0);
  CHECK_EQ_INT(o.protocol_len, 2);

  CHECK_EQ_INT(tern_dcep_type(chrome_open, 0), -EPROTO);
}

static void test_ack(void) {
  uint8_t b[4] = {0};
  CHECK_EQ_INT(tern_dcep_encode_ack(b, sizeof(b)), 1);
  CHECK_EQ_INT(b[0], 0x02);
  CHECK_EQ_INT(tern_dcep_decode_ack(b, 1), 0);
  CHECK_EQ_INT(tern_dcep_decode_ack(b, 0), -EPROTO);
  CHECK_EQ_INT(tern_dcep_decode_ack(chrome_open, sizeof(chrome_open)), -EPROTO);
  CHECK_EQ_INT(tern_dcep_type(b, 1), TERN_DCEP_ACK);
}

int main(void) {
  RUN(test_decode_known);
  RUN(test_round_trips);
  RUN(test_reliable_param_zeroed);
  RUN(test_encode_errors);
  RUN(test_malformed);
  RUN(test_ack);
  return TEST_RESULT();
}
