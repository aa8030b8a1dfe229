/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_semtech: arbitrary datagrams through the upstream parser and the
 * PUSH_DATA/TX_ACK JSON parsers, checking every accepted rxpk is within its documented ranges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_semtech.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_push(const uint8_t *json, size_t len)
{
    struct lw_semtech_rxpk r[4];
    struct lw_semtech_push_counts c;
    size_t n = 99;
    memset(&c, 0, sizeof(c));
    if (lw_semtech_parse_push(json, len, r, 4, &n, &c) != LW_OK) {
        if (n != 0)
            abort();
        return;
    }
    if (n > 4 || n != c.accepted ||
        c.rxpk != c.accepted + c.crc_bad + c.crc_none + c.not_lora + c.invalid + c.overflow)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (r[i].len < 1 || r[i].len > LW_FRAME_MAX_LEN || r[i].sf < 5 || r[i].sf > 12 ||
            (r[i].bw_hz != 125000 && r[i].bw_hz != 250000 && r[i].bw_hz != 500000) || r[i].cr < 5 ||
            r[i].cr > 8 || r[i].freq_hz == 0 || r[i].rssi_x10 < -2000 || r[i].rssi_x10 > 500 ||
            r[i].snr_x10 < -500 || r[i].snr_x10 > 500)
            abort();
        /* What came in can go out again as a downlink. */
        uint8_t out[LW_SEMTECH_PULL_RESP_MAX];
        struct lw_semtech_txpk tx = {.freq_hz = r[i].freq_hz,
                                     .sf = r[i].sf,
                                     .bw_hz = r[i].bw_hz,
                                     .cr = r[i].cr,
                                     .power_dbm = 14,
                                     .data = r[i].data,
                                     .len = r[i].len};
        if (lw_semtech_build_pull_resp(0, &tx, out, sizeof(out)) <= LW_SEMTECH_HDR_LEN)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_semtech_up up;
    char err[32];
    if (lw_semtech_parse_up(data, size, &up) == LW_OK) {
        if (up.json != data + 12 || up.json_len != size - 12)
            abort();
        if (up.id == LW_SEMTECH_PUSH_DATA)
            check_push(up.json, up.json_len);
        else if (up.id == LW_SEMTECH_TX_ACK)
            lw_semtech_parse_tx_ack(up.json, up.json_len, err, sizeof(err));
        else if (up.id != LW_SEMTECH_PULL_DATA || size != 12)
            abort();
    }
    /* The JSON parsers on their own too, so the fuzzer need not find a header first. */
    check_push(data, size);
    lw_semtech_parse_tx_ack(data, size, err, sizeof(err));
    return 0;
}
