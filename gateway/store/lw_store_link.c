/* SPDX-License-Identifier: Apache-2.0 */
/* Read-only queries for a node's link record: the frame counter, hops and the last hop's RSSI
 * and SNR of every stored reading, for packet loss and link history (lorawatch node show). */
#include <sqlite3.h>

#include "lw_error.h"
#include "lw_store_int.h"

int lw_store_each_link(struct lw_store *s, uint16_t node, int64_t since_ms, int64_t until_ms,
                       void (*fn)(void *arg, const struct lw_store_link *l), void *arg)
{
    /* The primary key (node, ts_ms, fcnt) answers the range in time order. Readings stored
     * while the clock was not synchronised count by their provisional time: counters and link
     * figures do not depend on it, and a clock far off (no RTC) puts them outside any recent
     * range anyway. */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT ts_ms, fcnt, hops, rssi_x10, snr_x10 FROM readings WHERE node = "
                           "?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms, fcnt",
                           -1, &q, NULL) != SQLITE_OK)
        return LW_ERR_DB;
    sqlite3_bind_int(q, 1, node);
    sqlite3_bind_int64(q, 2, since_ms);
    sqlite3_bind_int64(q, 3, until_ms);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct lw_store_link l = {
            .t_ms = sqlite3_column_int64(q, 0),
            .fcnt = (uint32_t)sqlite3_column_int64(q, 1),
            .hops = (uint8_t)sqlite3_column_int(q, 2),
            .rssi_x10 = sqlite3_column_type(q, 3) == SQLITE_NULL
                            ? INT16_MIN
                            : (int16_t)sqlite3_column_int(q, 3),
            .snr_x10 = sqlite3_column_type(q, 4) == SQLITE_NULL ? INT16_MIN
                                                                : (int16_t)sqlite3_column_int(q, 4),
        };
        fn(arg, &l);
    }
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}
