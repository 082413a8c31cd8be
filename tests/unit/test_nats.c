/* NATS publishing (api/nats.h) against an in-process fake NATS server on
 * this test's loop (INFO on accept, PONG for PING, records PUB messages):
 * the envelope, delivery of frames with their conversation id, and that a
 * server going away neither blocks nor breaks publishing. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <uv.h>

#include "api/nats.h"
#include "core/log.h"
#include "test.h"

static uv_loop_t loop;

/* ---- the fake server ---- */

#define MAX_MSGS 64

struct fake {
  uv_tcp_t listener;
  uv_tcp_t conn;
  bool has_conn, listening;
  int port;
  char buf[65536];
  size_t len;
  int connects, pings;
  int n_msgs;
  char subjects[MAX_MSGS][32];
  char payloads[MAX_MSGS][2048];
};

static struct fake fake;

static void on_written(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void send_str(const char *s) {
  uv_write_t *w = malloc(sizeof *w + strlen(s));
  char *copy = (char *)(w + 1);
  memcpy(copy, s, strlen(s));
  uv_buf_t b = uv_buf_init(copy, (unsigned)strlen(s));
  uv_write(w, (uv_stream_t *)&fake.conn, &b, 1, on_written);
}

/* Parses whole protocol lines (and PUB payloads) from the buffer. */
static void parse(void) {
  for (;;) {
    char *eol = memmem(fake.buf, fake.len, "\r\n", 2);
    if (!eol)
      return;
    size_t line = (size_t)(eol - fake.buf), used = line + 2;
    if (line >= 4 && strncmp(fake.buf, "PUB ", 4) == 0) {
      char subj[32] = "";
      unsigned plen = 0;
      char tmp[128];
      snprintf(tmp, sizeof tmp, "%.*s", (int)(line < 127 ? line : 127), fake.buf);
      if (sscanf(tmp, "PUB %31s %u", subj, &plen) != 2)
        return;
      if (fake.len < used + plen + 2)
        return; /* payload not complete yet */
      if (fake.n_msgs < MAX_MSGS && plen < sizeof fake.payloads[0]) {
        snprintf(fake.subjects[fake.n_msgs], sizeof fake.subjects[0], "%s", subj);
        memcpy(fake.payloads[fake.n_msgs], fake.buf + used, plen);
        fake.payloads[fake.n_msgs][plen] = 0;
      }
      fake.n_msgs++;
      used += plen + 2;
    } else if (line >= 7 && strncmp(fake.buf, "CONNECT", 7) == 0) {
      fake.connects++;
    } else if (line == 4 && strncmp(fake.buf, "PING", 4) == 0) {
      fake.pings++;
      send_str("PONG\r\n");
    }
    memmove(fake.buf, fake.buf + used, fake.len - used);
    fake.len -= used;
  }
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b) {
  (void)h;
  (void)s;
  *b = uv_buf_init(fake.buf + fake.len, (unsigned)(sizeof fake.buf - fake.len));
}

static void on_conn_closed(uv_handle_t *h) {
  (void)h;
  fake.has_conn = false;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  (void)b;
  if (n < 0) {
    uv_close((uv_handle_t *)s, on_conn_closed);
    return;
  }
  fake.len += (size_t)n;
  parse();
}

static void on_connection(uv_stream_t *server, int status) {
  if (status < 0 || fake.has_conn)
    return;
  uv_tcp_init(&loop, &fake.conn);
  if (uv_accept(server, (uv_stream_t *)&fake.conn) < 0) {
    uv_close((uv_handle_t *)&fake.conn, NULL);
    return;
  }
  fake.has_conn = true;
  fake.len = 0;
  send_str("INFO {\"server_id\":\"fake\",\"version\":\"2.9.0\",\"proto\":1,"
           "\"max_payload\":1048576,\"headers\":true}\r\n");
  uv_read_start((uv_stream_t *)&fake.conn, on_alloc, on_read);
}

static int fake_start(void) {
  struct sockaddr_in a;
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(&loop, &fake.listener);
  if (uv_tcp_bind(&fake.listener, (const struct sockaddr *)&a, 0) < 0 ||
      uv_listen((uv_stream_t *)&fake.listener, 4, on_connection) < 0 ||
      uv_tcp_getsockname(&fake.listener, (struct sockaddr *)&bound, &blen) < 0)
    return -1;
  fake.listening = true;
  fake.port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
  return 0;
}

static void fake_stop(void) {
  if (fake.listening)
    uv_close((uv_handle_t *)&fake.listener, NULL);
  fake.listening = false;
  if (fake.has_conn && !uv_is_closing((uv_handle_t *)&fake.conn))
    uv_close((uv_handle_t *)&fake.conn, on_conn_closed);
}

static uint64_t now_ms(void) { return uv_hrtime() / 1000000u; }

/* Runs the loop until cond() or ms elapse. */
static bool run_until(bool (*cond)(void), unsigned ms) {
  uint64_t end = now_ms() + ms;
  while (!cond() && now_ms() < end) {
    uv_run(&loop, UV_RUN_NOWAIT);
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
  return cond();
}

/* ---- tests ---- */

static void test_envelope(void) {
  char out[256];
  const uint8_t opus[] = {0xfc, 0xff, 0xfe, 'a'};
  int n = tern_nats_envelope(out, sizeof out, "conv-1", 1700000000123ull, opus, sizeof opus);
  CHECK_EQ_STR(out, "{\"conversationid\":\"conv-1\",\"timestamp\":1700000000123,\"duration\":20,"
                    "\"codec\":\"opus/48000/1\",\"opus\":\"/P/+YQ==\"}");
  CHECK_EQ_INT(n, (int)strlen(out));
  n = tern_nats_envelope(out, sizeof out, "x", 1, opus, 2);
  CHECK(n > 0 && strstr(out, "\"opus\":\"/P8=\"}"));
  CHECK_EQ_INT(tern_nats_envelope(out, 60, "conv-1", 1, opus, sizeof opus), -ENOSPC);
  uint8_t big[1275];
  memset(big, 0x5a, sizeof big);
  char large[2048];
  CHECK(tern_nats_envelope(large, sizeof large, "conversation-with-a-long-name", UINT64_MAX, big,
                           sizeof big) > 1700);
}

static struct tern_nats *nats;

static bool got_connect(void) { return fake.connects >= 1 && fake.pings >= 1; }
static bool got_five(void) { return fake.n_msgs >= 5; }
static bool conn_gone(void) { return !fake.has_conn; }

static void test_publish_and_outage(void) {
  char url[64], reason[200];
  uint8_t frame[80];
  for (size_t i = 0; i < sizeof frame; i++)
    frame[i] = (uint8_t)i;
  REQUIRE(fake_start() == 0);
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", fake.port);
  nats = tern_nats_create(&loop, url, reason, sizeof reason);
  REQUIRE(nats != NULL);
  /* Before the connection: queued (libnats buffers it), never blocking. */
  tern_nats_publish_frame(nats, "early", 1, frame, sizeof frame);
  REQUIRE(run_until(got_connect, 5000));
  /* The connected state arrives from libnats' threads; give it a moment. */
  struct tern_nats_stats st;
  uint64_t t_end = now_ms() + 3000;
  int sent = 0;
  while (fake.n_msgs < 5 && now_ms() < t_end) {
    tern_nats_publish_frame(nats, "conv-1", 1700000000000ull + (uint64_t)sent * 20, frame,
                            sizeof frame);
    sent++;
    run_until(got_five, 20);
  }
  REQUIRE(run_until(got_five, 3000));
  CHECK_EQ_STR(fake.subjects[0], "bite");
  /* The frame queued before the connection came first, then the others. */
  CHECK(strstr(fake.payloads[0], "{\"conversationid\":\"early\",\"timestamp\":1,") != NULL);
  CHECK_EQ_STR(fake.subjects[1], "bite");
  CHECK(strstr(fake.payloads[1], "\"conversationid\":\"conv-1\"") != NULL);
  CHECK(strstr(fake.payloads[1], "\"timestamp\":1700000000000,") != NULL);
  /* 80 bytes 00 01 02 … → base64 starts "AAECAwQF" */
  CHECK(strstr(fake.payloads[1], "\"opus\":\"AAECAwQF") != NULL);
  tern_nats_stats(nats, &st);
  CHECK(st.published >= 5);
  CHECK(st.queued >= 5);

  /* The server goes away: publishing goes on and never blocks the loop.
   * Wall time would also count preemption on a busy machine, so what is
   * checked is that the loop thread never waits (no voluntary context
   * switch, i.e. no lock or I/O wait, inside any publish call). */
  fake_stop();
  run_until(conn_gone, 1000);
  long waits = 0;
  for (int i = 0; i < 3000; i++) {
    struct rusage r0, r1;
    getrusage(RUSAGE_THREAD, &r0);
    tern_nats_publish_frame(nats, "conv-1", (uint64_t)i, frame, sizeof frame);
    getrusage(RUSAGE_THREAD, &r1);
    waits += r1.ru_nvcsw - r0.ru_nvcsw;
    if (i % 50 == 0)
      uv_run(&loop, UV_RUN_NOWAIT);
  }
  CHECK_EQ_INT(waits, 0);
  tern_nats_stats(nats, &st);
  /* 3000 frames at full speed overflow the ring and libnats' reconnect
   * buffer: dropped, not queued without bound. */
  CHECK(st.dropped > 100);
  CHECK(st.queued + st.dropped >= 3000);
  tern_nats_destroy(nats);
  uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void) {
  tern_log_set_level(TERN_LOG_WARN);
  uv_loop_init(&loop);
  RUN(test_envelope);
  RUN(test_publish_and_outage);
  fake_stop();
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return TEST_RESULT();
}
