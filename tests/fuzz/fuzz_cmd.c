/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the configuration command decoder: anything decodes or is refused with c
 * zeroed; what decodes encodes again to bytes that decode to the same command. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_cmd.h"
#include "lw_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_cmd c, again;
    uint8_t buf[LW_CMD_MAX_LEN];
    static const struct lw_cmd zero;

    if (lw_cmd_decode(data, size, &c) != LW_OK) {
        if (memcmp(&c, &zero, sizeof(c)) != 0)
            abort();
        return 0;
    }
    int n = lw_cmd_encode(&c, buf, sizeof(buf));
    if (n <= 0 || lw_cmd_decode(buf, (size_t)n, &again) != LW_OK ||
        memcmp(&c, &again, sizeof(c)) != 0)
        abort();
    return 0;
}
