/* clock — the one monotonic time source.
 *
 * Timers, timeouts and rate measurements all read CLOCK_MONOTONIC through
 * this function so that a wall-clock step (NTP, a user changing the date)
 * never fires or stalls a timeout. Milliseconds since an unspecified epoch;
 * only differences are meaningful.
 */
#ifndef TERN_CLOCK_H
#define TERN_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t tern_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
