#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Written once at start-up, read-only afterwards (see log.h). */
static enum tern_log_level g_level = TERN_LOG_INFO;

void tern_log_set_level(enum tern_log_level level) { g_level = level; }
enum tern_log_level tern_log_get_level(void) { return g_level; }

int tern_log_parse_level(const char *s) {
  static const char *names[] = {"debug", "info", "warn", "error", "off"};
  for (int i = 0; i < 5; i++)
    if (strcmp(s, names[i]) == 0)
      return i;
  return -1;
}

void tern_log(enum tern_log_level level, const char *peer, const char *fmt, ...) {
  static const char *tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
  if (level < g_level || level >= TERN_LOG_OFF)
    return;
  char line[1024];
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  int n = snprintf(line, sizeof line, "%02d:%02d:%02d.%03ld %s ", tm.tm_hour,
                   tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, tags[level]);
  if (peer && n < (int)sizeof line)
    n += snprintf(line + n, sizeof line - n, "[%s] ", peer);
  if (n < (int)sizeof line) {
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
  }
  if (n >= (int)sizeof line)
    n = sizeof line - 1;
  /* One write per line so lines from different threads never interleave. */
  line[n++] = '\n';
  fwrite(line, 1, n, stderr);
}
