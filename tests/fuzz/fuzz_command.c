/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for MQTT command payloads from duty phones: arbitrary bytes; an accepted
 * command has the fields its kind needs and only acceptable text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lw_phonecmd.h"
#include "lw_error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_phonecmd c;
    char why[160];
    int rc = lw_phonecmd_parse((const char *)data, size, &c, why, sizeof(why));
    if (rc != LW_OK) {
        if (!why[0] || strlen(why) >= sizeof(why))
            __builtin_trap(); /* every refusal says why */
        return 0;
    }
    if (strlen(c.request_id) >= sizeof(c.request_id) || strlen(c.note) >= sizeof(c.note) ||
        strlen(c.reason) >= sizeof(c.reason))
        __builtin_trap();
    if (c.kind == LW_PHONECMD_ACK && c.alert < 1)
        __builtin_trap();
    if (c.kind == LW_PHONECMD_SILENCE &&
        ((!c.node[0] && !c.building[0]) || !c.reason[0] || c.for_ms < 1000))
        __builtin_trap();
    if (c.kind == LW_PHONECMD_UNSILENCE && c.silence < 1)
        __builtin_trap();
    return 0;
}
