/* SPDX-License-Identifier: Apache-2.0 */
/* Logging to stderr, with journal priority prefixes when stderr is the journal. */
#include "lw_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

static const char *log_ident = "lorawatchd";
static int log_max = LW_LOG_INFO;
static bool log_journal;
static bool log_syslog;

static const char *const level_names[] = {
    [LW_LOG_ERR] = "err",   [LW_LOG_WARNING] = "warning", [LW_LOG_NOTICE] = "notice",
    [LW_LOG_INFO] = "info", [LW_LOG_DEBUG] = "debug",
};

/* systemd sets JOURNAL_STREAM=dev:ino of the stream it connected; compare with our stderr. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void lw_log_init(const char *ident, int max_level)
{
    log_ident = ident;
    log_max = max_level;
    log_journal = stderr_is_journal();
}

void lw_log_to_syslog(void)
{
    openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    log_syslog = true;
}

void lw_log_set_level(int max_level)
{
    log_max = max_level;
}

int lw_log_level_parse(const char *s)
{
    for (int i = LW_LOG_ERR; i <= LW_LOG_DEBUG; i++)
        if (strcasecmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

const char *lw_log_level_name(int level)
{
    if (level < LW_LOG_ERR || level > LW_LOG_DEBUG)
        return "?";
    return level_names[level];
}

/* One formatted message to wherever logging goes. */
static void emit(int level, const char *msg)
{
    if (log_syslog) {
        syslog(level, "%s", msg);
    } else if (log_journal) {
        /* The journal adds its own timestamp and identifier. */
        fprintf(stderr, "<%d>%s\n", level, msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char stamp[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
        fprintf(stderr, "%s.%03ld %s[%s]: %s\n", stamp, ts.tv_nsec / 1000000L, log_ident,
                level_names[level < LW_LOG_ERR ? LW_LOG_ERR : level], msg);
    }
}

void lw_logv(int level, const char *fmt, va_list ap)
{
    if (level > log_max)
        return;
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    emit(level, msg);
}

void lw_log(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lw_logv(level, fmt, ap);
    va_end(ap);
}

void lw_log_fields(int level, const char *node, long long alert_id, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (!log_journal) {
        lw_logv(level, fmt, ap);
        va_end(ap);
        return;
    }
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (level > log_max)
        return;
    char nodef[96], alertf[48];
    snprintf(nodef, sizeof(nodef), "LORAWATCH_NODE=%s", node ? node : "");
    snprintf(alertf, sizeof(alertf), "LORAWATCH_ALERT_ID=%lld", alert_id);
    /* sd_journal_send stops at the first NULL, so absent fields go last. */
    const char *a = node ? nodef : alert_id ? alertf : NULL;
    const char *b = node && alert_id ? alertf : NULL;
    sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level, "SYSLOG_IDENTIFIER=%s", log_ident, a,
                    b, NULL);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool lw_ratelimit_ok(struct lw_ratelimit *rl, int level)
{
    uint64_t now = mono_ms();
    if (rl->window_start_ms == 0 || now - rl->window_start_ms >= LW_RL_INTERVAL_MS) {
        if (rl->suppressed)
            lw_log(level, "(%u similar messages suppressed in the last %u s)", rl->suppressed,
                   LW_RL_INTERVAL_MS / 1000);
        rl->window_start_ms = now;
        rl->printed = 0;
        rl->suppressed = 0;
    }
    if (rl->printed < LW_RL_BURST) {
        rl->printed++;
        return true;
    }
    rl->suppressed++;
    return false;
}
