/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_simwire: decode arbitrary datagrams and check that a successful decode
 * re-encodes to the identical bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_simwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_simwire m;
    uint8_t out[LW_SIMWIRE_MAX_LEN];
    int n;

    if (lw_simwire_decode(data, size, &m) != LW_OK)
        return 0;
    if (m.payload != data + LW_SIMWIRE_HDR_LEN || (size_t)LW_SIMWIRE_HDR_LEN + m.len != size)
        abort();
    n = lw_simwire_encode(&m, out, sizeof(out));
    if (n != (int)size || memcmp(out, data, size) != 0)
        abort();
    return 0;
}
