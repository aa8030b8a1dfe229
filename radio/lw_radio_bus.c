/* SPDX-License-Identifier: Apache-2.0 */
/* Formatting for the bus's log hook, so drivers log without knowing where messages go. */
#include "lw_radio_bus.h"

#include <stdarg.h>
#include <stdio.h>

void lw_radio_logf(const struct lw_radio_bus *b, int prio, struct lw_radio_log_site *site,
                   const char *fmt, ...)
{
    if (!b->ops->log)
        return;
    char msg[LW_RADIO_LOG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    b->ops->log(b->ctx, prio, site, msg);
}
