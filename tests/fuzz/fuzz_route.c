/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_route: parse arbitrary frames' route trailers, strip them, and check
 * that appending a fresh hop to a parsed frame parses again with one more hop. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_route rt, again;
    uint8_t buf[LW_FRAME_MAX_LEN];

    if (size > LW_FRAME_MAX_LEN) {
        if (lw_route_parse(data, size, &rt) != LW_ERR_TOOBIG)
            abort();
        return 0;
    }
    memcpy(buf, data, size);
    if (lw_route_parse(buf, size, &rt) != LW_OK)
        return 0;
    if (rt.origin_len + (size_t)rt.n_hops * LW_ROUTE_ENTRY_LEN != size)
        abort();
    int n = lw_route_append(buf, size, sizeof(buf), 0x7777, -3);
    if (n > 0) {
        if (lw_route_parse(buf, (size_t)n, &again) != LW_OK || again.n_hops != rt.n_hops + 1 ||
            again.hops[rt.n_hops].relay != 0x7777 || again.origin_len != rt.origin_len)
            abort();
        size = (size_t)n;
    }
    int m = lw_route_strip(buf, size);
    if (m != (int)rt.origin_len || (buf[1] >> 5) != 0)
        abort();
    return 0;
}
