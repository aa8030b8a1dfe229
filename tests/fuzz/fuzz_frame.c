/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_frame: peek and open arbitrary bytes, and for anything that opens,
 * decode its readings and check that re-sealing reproduces the exact frame. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_frame.h"
#include "lw_reading.h"

/* Same key as test vector V1, so corpus seeds built from the vectors authenticate. */
static const uint8_t fuzz_key[LW_KEY_LEN] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
                                             0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: memcmp would also compare padding. */
static int hdr_equal(const struct lw_frame_hdr *a, const struct lw_frame_hdr *b)
{
    return a->version == b->version && a->type == b->type && a->hop_count == b->hop_count &&
           a->hop_limit == b->hop_limit && a->ack_req == b->ack_req && a->net_id == b->net_id &&
           a->src == b->src && a->dst == b->dst && a->fcnt == b->fcnt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_frame_hdr peeked, hdr;
    struct lw_reading r;
    uint8_t plain[LW_FRAME_MAX_PAYLOAD], again[LW_FRAME_MAX_LEN];
    int prc, n, m;

    prc = lw_frame_peek(data, size, &peeked);
    n = lw_frame_open(data, size, fuzz_key, &hdr, plain, sizeof(plain));
    if (prc != LW_OK) {
        /* open must report the very same header error */
        if (n != prc)
            abort();
        return 0;
    }
    if (n < 0) {
        for (size_t i = 0; i < sizeof(plain); i++)
            if (plain[i] != 0)
                abort(); /* unauthenticated bytes escaped */
        /* Exercise the relay path on frames that only parse. */
        if (size <= LW_FRAME_MAX_LEN) {
            memcpy(again, data, size);
            if (lw_frame_hop(again, size) == LW_OK && (again[1] >> 5) != peeked.hop_count + 1)
                abort();
        }
        return 0;
    }
    if ((size_t)n != size - LW_FRAME_OVERHEAD || !hdr_equal(&peeked, &hdr))
        abort();
    (void)lw_reading_decode(plain, (size_t)n, &r);

    m = lw_frame_seal(&hdr, fuzz_key, plain, (size_t)n, again, sizeof(again));
    if (m != (int)size || memcmp(again, data, size) != 0)
        abort();
    return 0;
}
