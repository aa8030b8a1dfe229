/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the v1.1 compact frames and the presence TLV: whatever the bytes, the
 * decoders either refuse them or accept something that encodes back to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_checkin.h"
#include "lw_error.h"
#include "lw_presence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t out[LW_PRESENCE_MAX_LEN];
    struct lw_checkin c;
    struct lw_beacon b;
    struct lw_presence p;

    if (lw_checkin_decode(data, size, &c) == LW_OK) {
        if (lw_checkin_encode(&c, out, sizeof(out)) != LW_CHECKIN_LEN ||
            memcmp(out, data, LW_CHECKIN_LEN) != 0 || !lw_checkin_is(data, size))
            abort();
    }
    if (lw_beacon_decode(data, size, &b) == LW_OK) {
        if (lw_beacon_encode(&b, out, sizeof(out)) != LW_CHECKIN_LEN ||
            memcmp(out, data, LW_CHECKIN_LEN) != 0)
            abort();
        for (unsigned e = 0; e <= 17; e++) {
            uint8_t owner = lw_beacon_extra_owner(&b, (uint8_t)e);
            if (owner > b.owned || (owner && !((b.received >> (owner - 1)) & 1u)))
                abort();
        }
    }
    if (lw_presence_find(data, size, &p) == LW_OK) {
        int n = lw_presence_encode(&p, out, sizeof(out));
        if (n < 4 || n != 4 + 2 * p.n_absent || p.n_absent > p.children)
            abort();
    }
    return 0;
}
