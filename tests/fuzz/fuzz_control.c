/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for control-socket input: arbitrary bytes as a stream of framed requests;
 * every message taken lies inside the input and every accepted command is a short word. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lw_ctlproto.h"
#include "lw_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        const uint8_t *body = NULL;
        size_t blen = 0;
        long used = lw_ctl_take(data + off, size - off, &body, &blen);
        if (used <= 0)
            break;
        if (body < data || body + blen > data + size || blen > LW_CTL_MAX_MSG)
            __builtin_trap();
        char cmd[32], why[128];
        if (lw_ctl_parse_request(body, blen, cmd, sizeof(cmd), NULL, why, sizeof(why)) == LW_OK &&
            (strlen(cmd) == 0 || strlen(cmd) >= sizeof(cmd)))
            __builtin_trap();
        off += (size_t)used;
    }
    return 0;
}
