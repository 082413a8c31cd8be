/* test.h — a tiny table-friendly test harness.
 *
 * A test file defines functions `static void test_x(void)` and a main that
 * calls RUN(test_x) for each, then returns TEST_RESULT(). CHECK records a
 * failure with file:line and goes on; REQUIRE stops the current test.
 */
#ifndef TERN_TEST_H
#define TERN_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                            \
  do {                                                                         \
    test_checks++;                                                             \
    if (!(cond)) {                                                             \
      test_failures++;                                                         \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    test_checks++;                                                             \
    if (!(cond)) {                                                             \
      test_failures++;                                                         \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__,       \
              #cond);                                                          \
      return;                                                                  \
    }                                                                          \
  } while (0)

#define CHECK_EQ_INT(a, b)                                                     \
  do {                                                                         \
    long long a_ = (long long)(a), b_ = (long long)(b);                        \
    test_checks++;                                                             \
    if (a_ != b_) {                                                            \
      test_failures++;                                                         \
      fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,      \
              __LINE__, #a, #b, a_, b_);                                       \
    }                                                                          \
  } while (0)

#define CHECK_EQ_STR(a, b)                                                     \
  do {                                                                         \
    const char *a_ = (a), *b_ = (b);                                           \
    test_checks++;                                                             \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                   \
      test_failures++;                                                         \
      fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,  \
              __LINE__, #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");       \
    }                                                                          \
  } while (0)

#define RUN(fn)                                                                \
  do {                                                                         \
    int before_ = test_failures;                                               \
    fn();                                                                      \
    fprintf(stderr, "%s %s\n", test_failures == before_ ? "ok  " : "FAIL",     \
            #fn);                                                              \
  } while (0)

#define TEST_RESULT()                                                          \
  (fprintf(stderr, "%d checks, %d failures\n", test_checks, test_failures),    \
   test_failures ? 1 : 0)

#endif
