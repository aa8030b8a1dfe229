/* SPDX-License-Identifier: Apache-2.0 */
/* Clock synchronisation status and the two clocks. */
#include "lw_clock.h"

#include <stdio.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

bool lw_clock_synced(const char *check)
{
    if (strcmp(check, "none") == 0)
        return true;
    if (strcmp(check, "kernel") == 0) {
        /* Read-only query. As systemd does: trust the clock when the kernel's maximum error
         * estimate is below its 16 s ceiling; STA_UNSYNC alone stays set with some NTP clients
         * (chrony without rtcsync) although the clock is fine. */
        struct timex tx = {.modes = 0};
        return adjtimex(&tx) != -1 && tx.maxerror < 16000000;
    }
    return access(check, F_OK) == 0;
}

static int64_t ms_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lw_clock_mono_ms(void)
{
    return ms_of(CLOCK_MONOTONIC);
}

int64_t lw_clock_wall_ms(void)
{
    return ms_of(CLOCK_REALTIME);
}

void lw_clock_boot_id(char *out, size_t cap)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");
    out[0] = '\0';
    if (f) {
        if (fgets(out, (int)cap, f))
            out[strcspn(out, "\n")] = '\0';
        fclose(f);
    }
    if (!out[0]) {
        /* Unreadable (e.g. /proc/sys hidden by a sandbox): treat this start as a new boot, so
         * monotonic times of an earlier one are never mistaken for ours. */
        unsigned char r[8] = {0};
        FILE *u = fopen("/dev/urandom", "rb");
        if (u) {
            if (fread(r, 1, sizeof(r), u) != sizeof(r))
                memset(r, 0, sizeof(r));
            fclose(u);
        }
        snprintf(out, cap, "unreadable-%02x%02x%02x%02x%02x%02x%02x%02x-%lld", r[0], r[1], r[2],
                 r[3], r[4], r[5], r[6], r[7], (long long)lw_clock_mono_ms());
    }
}
