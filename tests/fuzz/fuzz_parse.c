/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_parse: the first byte picks a parser, the rest is its NUL-terminated
 * argument; whatever parses must be in range and survive a round trip where one exists. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 512)
        return 0;
    char s[513];
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    switch (data[0] % 9) {
    case 0: {
        uint64_t v;
        if (lw_parse_u64(s, 10, 1000000, &v) == LW_OK && (v < 10 || v > 1000000))
            abort();
        break;
    }
    case 1: {
        uint32_t v;
        if (lw_parse_u32(s, 1, 65535, &v) == LW_OK && (v < 1 || v > 65535))
            abort();
        break;
    }
    case 2: {
        int64_t v;
        if (lw_parse_i64(s, -5000, 5000, &v) == LW_OK && (v < -5000 || v > 5000))
            abort();
        break;
    }
    case 3: {
        double v;
        if (lw_parse_double(s, -1e9, 1e9, &v) == LW_OK && !(v >= -1e9 && v <= 1e9))
            abort();
        break;
    }
    case 4: {
        bool b;
        (void)lw_parse_bool(s, &b);
        break;
    }
    case 5: {
        uint64_t v;
        if (lw_parse_duration_ms(s, 86400000, &v) == LW_OK && v > 86400000)
            abort();
        break;
    }
    case 6: {
        uint8_t out[16], back[16];
        char text[33];
        size_t n = 1 + data[0] / 9 % 16;
        if (lw_parse_hex(s, out, n) == LW_OK) {
            lw_format_hex(out, n, text);
            if (lw_parse_hex(text, back, n) != LW_OK || memcmp(out, back, n) != 0)
                abort();
        }
        break;
    }
    case 7: {
        char host[32];
        uint16_t port = 0;
        if (lw_parse_hostport(s, host, sizeof(host), &port) == LW_OK &&
            (port == 0 || strlen(host) == 0 || strlen(host) >= sizeof(host)))
            abort();
        break;
    }
    case 8: {
        int64_t ms;
        /* Year 1970..9999 with offsets up to 14:59 either way. */
        const int64_t lo = -(INT64_C(14) * 3600 + 59 * 60) * 1000;
        const int64_t hi = INT64_C(253402300799000) + (INT64_C(14) * 3600 + 59 * 60) * 1000;
        if (lw_parse_time(s, &ms) == LW_OK && (ms < lo || ms > hi))
            abort();
        break;
    }
    }
    return 0;
}
