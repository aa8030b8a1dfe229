/* SPDX-License-Identifier: Apache-2.0 */
/* systemd watchdog: when the service manager asks for keep-alives (WatchdogSec=), ping it from a
 * loop timer at half the interval, so a stalled loop stops the pings and gets the daemon
 * restarted. Nothing happens when no watchdog is configured. */
#ifndef LW_SDNOTIFY_H
#define LW_SDNOTIFY_H

#include <stdint.h>
#include <uv.h>

struct lw_sdnotify;

/* Returns NULL when no watchdog is configured (or on allocation failure, logged). */
struct lw_sdnotify *lw_sdnotify_start(uv_loop_t *loop);
/* Stops pinging; the struct is freed once libuv released the timer. NULL is fine. */
void lw_sdnotify_stop(struct lw_sdnotify *w);
/* Configured interval in microseconds, 0 when none. */
uint64_t lw_sdnotify_interval_us(const struct lw_sdnotify *w);

#endif
