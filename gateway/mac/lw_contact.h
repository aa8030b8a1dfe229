/* SPDX-License-Identifier: Apache-2.0 */
/* A node's last contact as the node table stores it: what the registry shows for a node until it
 * is heard again after a restart. Its own header so the registry needs no database. */
#ifndef LW_CONTACT_H
#define LW_CONTACT_H

#include <stdint.h>

struct lw_node_contact {
    int64_t first_seen_ms, last_seen_ms;
    int16_t rssi_x10, snr_x10;
    int32_t battery_mv; /* -1: never reported */
    int hops;           /* -1: never heard */
    int relay;          /* address of the last relay, 0 direct, -1 unknown */
};

#endif
