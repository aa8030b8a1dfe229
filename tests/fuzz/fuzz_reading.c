/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_reading: strict decode of arbitrary TLVs; whatever decodes must
 * re-encode and decode to the same reading. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_reading.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct lw_reading zero;
    struct lw_reading a, b;
    uint8_t out[LW_READING_MAX_LEN];
    int rc, n;

    rc = lw_reading_decode(data, size, &a);
    if (rc != LW_OK) {
        if (memcmp(&a, &zero, sizeof(a)) != 0)
            abort(); /* must be left zeroed on error */
        return 0;
    }
    n = lw_reading_encode(&a, out, sizeof(out));
    if (n < 0 || (size_t)n > size)
        abort(); /* canonical form never longer than the input (optional TLVs dropped) */
    if (lw_reading_decode(out, (size_t)n, &b) != LW_OK || memcmp(&a, &b, sizeof(a)) != 0)
        abort();
    return 0;
}
