/* SPDX-License-Identifier: Apache-2.0 */
/* Is the wall clock synchronised? A Raspberry Pi has no real-time clock and boots with a wrong
 * time until NTP has synchronised it; readings received before then are marked and corrected. */
#ifndef LW_CLOCK_H
#define LW_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* check: "kernel" (the kernel's NTP error estimate, adjtimex), "none" (trust the clock), or an
 * absolute path of a flag file that exists once the clock is synchronised (systemd-timesyncd writes
 * /run/systemd/timesync/synchronized). */
bool lw_clock_synced(const char *check);
/* Monotonic and wall clocks in milliseconds. */
int64_t lw_clock_mono_ms(void);
int64_t lw_clock_wall_ms(void);
/* This boot's id (from the kernel), for telling monotonic times of different boots apart. */
void lw_clock_boot_id(char *out, size_t cap);

#endif
