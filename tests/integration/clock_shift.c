/* SPDX-License-Identifier: Apache-2.0 */
/* LD_PRELOAD shim for the wall-clock jump test: makes one process see its wall clock jump without
 * touching the machine's clock. CLOCK_REALTIME (and gettimeofday, time) are shifted by the number
 * of milliseconds in the file named by LW_CLOCK_SHIFT_FILE, read again on every call, so a test
 * moves the clock by rewriting the file. With LW_CLOCK_SHIFT_MONOTONIC=1 the monotonic clocks are
 * shifted too: that is how a daemon timing its rules on a clock that jumps would behave, and lets
 * the test show that it would catch one. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static long long shift_ms(void)
{
    const char *path = getenv("LW_CLOCK_SHIFT_FILE");
    char buf[32];
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    return strtoll(buf, NULL, 10);
}

static bool shifted(clockid_t id)
{
    if (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)
        return true;
    const char *m = getenv("LW_CLOCK_SHIFT_MONOTONIC");
    return m && m[0] == '1' &&
           (id == CLOCK_MONOTONIC || id == CLOCK_MONOTONIC_COARSE || id == CLOCK_MONOTONIC_RAW ||
            id == CLOCK_BOOTTIME);
}

static void add_ms(struct timespec *ts, long long ms)
{
    long long ns = (long long)ts->tv_nsec + (ms % 1000) * 1000000LL;
    ts->tv_sec += (time_t)(ms / 1000);
    while (ns < 0) {
        ns += 1000000000LL;
        ts->tv_sec--;
    }
    while (ns >= 1000000000LL) {
        ns -= 1000000000LL;
        ts->tv_sec++;
    }
    ts->tv_nsec = (long)ns;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static int (*real)(clockid_t, struct timespec *);
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    if (rc == 0 && shifted(id))
        add_ms(ts, shift_ms());
    return rc;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -1;
    tv->tv_sec = ts.tv_sec;
    tv->tv_usec = ts.tv_nsec / 1000;
    return 0;
}

time_t time(time_t *out)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out)
        *out = ts.tv_sec;
    return ts.tv_sec;
}
