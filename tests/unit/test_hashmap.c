/* hashmap and address helpers: the per-datagram lookups of the transport. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>

#include "core/hashmap.h"
#include "net/transport.h"
#include "test.h"

static void test_put_get_del_many(void) {
  struct tern_hashmap m;
  REQUIRE(tern_hashmap_init(&m) == 0);
  char key[32];
  static int values[5000];
  for (int i = 0; i < 5000; i++) {
    int n = snprintf(key, sizeof key, "ufrag-%d", i);
    CHECK(tern_hashmap_put(&m, key, n, &values[i]) == 0);
  }
  CHECK_EQ_INT(m.used, 5000);
  for (int i = 0; i < 5000; i++) {
    int n = snprintf(key, sizeof key, "ufrag-%d", i);
    CHECK(tern_hashmap_get(&m, key, n) == &values[i]);
  }
  /* Delete the even ones, then churn so tombstones are reused. */
  for (int i = 0; i < 5000; i += 2) {
    int n = snprintf(key, sizeof key, "ufrag-%d", i);
    CHECK(tern_hashmap_del(&m, key, n) == &values[i]);
  }
  for (int round = 0; round < 20; round++)
    for (int i = 0; i < 1000; i++) {
      int n = snprintf(key, sizeof key, "churn-%d", i);
      tern_hashmap_put(&m, key, n, &values[i]);
      tern_hashmap_del(&m, key, n);
    }
  for (int i = 0; i < 5000; i++) {
    int n = snprintf(key, sizeof key, "ufrag-%d", i);
    CHECK(tern_hashmap_get(&m, key, n) == (i % 2 ? &values[i] : NULL));
  }
  CHECK_EQ_INT(m.used, 2500);
  CHECK(m.cap <= 8192); /* churn did not grow the table without bound */
  CHECK(tern_hashmap_put(&m, key, 33, NULL) < 0); /* oversized key */
  CHECK(tern_hashmap_get(&m, "absent", 6) == NULL);
  tern_hashmap_free(&m);
}

static void test_addr_parse(void) {
  struct sockaddr_storage ss;
  char buf[64];
  CHECK(tern_addr_parse(":3000", &ss) == 0);
  CHECK_EQ_STR(tern_addr_str((struct sockaddr *)&ss, buf, sizeof buf), "0.0.0.0:3000");
  CHECK(tern_addr_parse("127.0.0.1:5", &ss) == 0);
  CHECK_EQ_STR(tern_addr_str((struct sockaddr *)&ss, buf, sizeof buf), "127.0.0.1:5");
  CHECK(tern_addr_parse("[::1]:443", &ss) == 0);
  CHECK_EQ_STR(tern_addr_str((struct sockaddr *)&ss, buf, sizeof buf), "[::1]:443");
  CHECK(tern_addr_parse("localhost:80", &ss) == 0);
  CHECK(tern_addr_parse("3000", &ss) < 0);
  CHECK(tern_addr_parse("1.2.3.4:", &ss) < 0);
  CHECK(tern_addr_parse("1.2.3.4:70000", &ss) < 0);
  CHECK(tern_addr_parse("[::1:80", &ss) < 0);
  CHECK(tern_addr_parse("nohost.example:80", &ss) < 0);
}

static void test_addr_key_distinguishes(void) {
  struct sockaddr_storage a, b, c;
  tern_addr_parse("127.0.0.1:5000", &a);
  tern_addr_parse("127.0.0.1:5001", &b);
  tern_addr_parse("127.0.0.1:5000", &c);
  CHECK(!tern_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
  CHECK(tern_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&c));
}

int main(void) {
  RUN(test_put_get_del_many);
  RUN(test_addr_parse);
  RUN(test_addr_key_distinguishes);
  return TEST_RESULT();
}
