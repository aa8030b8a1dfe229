/* SPDX-License-Identifier: Apache-2.0 */
/* systemd watchdog keep-alives from the event loop. */
#include "lw_sdnotify.h"

#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "lw_log.h"

struct lw_sdnotify {
    uv_timer_t timer;
    uint64_t usec;
};

static void on_ping(uv_timer_t *t)
{
    (void)t;
    sd_notify(0, "WATCHDOG=1");
}

struct lw_sdnotify *lw_sdnotify_start(uv_loop_t *loop)
{
    uint64_t usec = 0;
    /* > 0 only when WATCHDOG_USEC is set for this very process (WATCHDOG_PID matches). */
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return NULL;
    struct lw_sdnotify *w = calloc(1, sizeof(*w));
    if (!w) {
        lw_log(LW_LOG_ERR, "watchdog: out of memory; keep-alives disabled");
        return NULL;
    }
    w->usec = usec;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    /* Half the interval, as sd_watchdog_enabled(3) recommends; at least 1 ms. */
    uint64_t ms = usec / 2000 ? usec / 2000 : 1;
    uv_timer_start(&w->timer, on_ping, 0, ms);
    lw_log(LW_LOG_INFO, "watchdog: keep-alive every %llu ms", (unsigned long long)ms);
    return w;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void lw_sdnotify_stop(struct lw_sdnotify *w)
{
    if (!w)
        return;
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->timer, on_closed);
}

uint64_t lw_sdnotify_interval_us(const struct lw_sdnotify *w)
{
    return w ? w->usec : 0;
}
