/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the simulator's state file reader: any text is parsed or refused with a
 * line number; what parses is kept in full. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "sim_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_state st;
    char err[256];

    if (sim_state_init(&st, NULL) != LW_OK)
        return 0;
    int rc = sim_state_parse(&st, (const char *)data, size, err, sizeof(err));
    if (rc != LW_OK && (rc != LW_ERR_CONFIG || err[0] == '\0' || st.n != 0))
        abort();
    sim_state_free(&st);
    return 0;
}
