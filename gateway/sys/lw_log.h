/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's one logging API: printf-checked, levels as syslog, stderr in the foreground and
 * the journal's <N> prefixes under systemd, with per-call-site rate limiting for outside input. */
#ifndef LW_LOG_H
#define LW_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

enum lw_log_level {
    LW_LOG_ERR = 3,
    LW_LOG_WARNING = 4,
    LW_LOG_NOTICE = 5,
    LW_LOG_INFO = 6,
    LW_LOG_DEBUG = 7,
};

/* ident: program name; max_level: messages above it are dropped. The journal prefix is used when
 * stderr is connected to the journal (JOURNAL_STREAM matches stderr). */
void lw_log_init(const char *ident, int max_level);
/* After daemonising, stderr is gone: send messages to syslog instead. */
void lw_log_to_syslog(void);
void lw_log_set_level(int max_level);
int lw_log_level_parse(const char *s); /* "err".."debug" -> level, or -1 */
const char *lw_log_level_name(int level);

void lw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a va_list, for hooks that log on behalf of lower layers. */
void lw_logv(int level, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The same with structured journal fields LORAWATCH_NODE and LORAWATCH_ALERT_ID (omitted when
 * node is NULL or alert_id is 0), so `journalctl LORAWATCH_NODE=garage-b1` finds a node's story.
 * Outside the journal the fields are simply dropped: the text names them already. */
void lw_log_fields(int level, const char *node, long long alert_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Rate limit state of one call site: a burst of LW_RL_BURST messages per LW_RL_INTERVAL_MS, then
 * silence, then one line saying how many were suppressed. Frames from outside must never be able
 * to flood the journal. */
#define LW_RL_BURST       5
#define LW_RL_INTERVAL_MS 10000
struct lw_ratelimit {
    uint64_t window_start_ms;
    unsigned printed;
    unsigned suppressed;
};
bool lw_ratelimit_ok(struct lw_ratelimit *rl, int level);

#define lw_log_rl(level, ...)                                                                      \
    do {                                                                                           \
        static struct lw_ratelimit lw_rl_;                                                         \
        if (lw_ratelimit_ok(&lw_rl_, (level)))                                                     \
            lw_log((level), __VA_ARGS__);                                                          \
    } while (0)

#endif
