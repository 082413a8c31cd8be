/* log — leveled, one-line logs with an optional peer id.
 *
 * Every line is "<ts> <LEVEL> [<peer>] message" on stderr. The level is set
 * once at start-up (before any other thread exists) from LOG_LEVEL; it is the
 * one piece of process-wide state, written once and then only read.
 * Never log per packet: count instead and log the counters.
 */
#ifndef TERN_LOG_H
#define TERN_LOG_H

enum tern_log_level {
  TERN_LOG_DEBUG = 0,
  TERN_LOG_INFO = 1,
  TERN_LOG_WARN = 2,
  TERN_LOG_ERROR = 3,
  TERN_LOG_OFF = 4,
};

void tern_log_set_level(enum tern_log_level level);
enum tern_log_level tern_log_get_level(void);
/* Parses "debug" | "info" | "warn" | "error" | "off"; returns -1 if unknown. */
int tern_log_parse_level(const char *s);

/* peer may be NULL; it is printed in brackets so grep finds a peer's story. */
void tern_log(enum tern_log_level level, const char *peer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define tern_log_debug(peer, ...)                                              \
  do {                                                                         \
    if (tern_log_get_level() <= TERN_LOG_DEBUG)                                \
      tern_log(TERN_LOG_DEBUG, peer, __VA_ARGS__);                             \
  } while (0)
#define tern_log_info(peer, ...) tern_log(TERN_LOG_INFO, peer, __VA_ARGS__)
#define tern_log_warn(peer, ...) tern_log(TERN_LOG_WARN, peer, __VA_ARGS__)
#define tern_log_error(peer, ...) tern_log(TERN_LOG_ERROR, peer, __VA_ARGS__)

#endif
