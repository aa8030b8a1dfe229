/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the review commands' time-range and step parsing (lw_history_parse_*):
 * any text must be accepted or rejected cleanly, and what is accepted must be in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* Split at the first newline: "from\nto", so ranges are fuzzed too. */
    char *to = strchr(s, '\n');
    if (to)
        *to++ = '\0';
    const int64_t now = 1751328000000LL, tz = 8 * 3600000LL;
    int64_t t, a, b, step;
    if (lw_history_parse_time(s, now, tz, &t) == LW_OK && (t < 0 || t > 253402300799999LL) &&
        s[0] != '-')
        abort();
    if (lw_history_parse_range(s, to, now, tz, &a, &b) == LW_OK && a >= b)
        abort();
    if (lw_history_parse_every(s, &step) == LW_OK && step < 0)
        abort();
    free(s);
    return 0;
}
