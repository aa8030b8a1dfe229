/* SPDX-License-Identifier: Apache-2.0 */
/* LoRa time on air from the Semtech SX127x/SX126x datasheet formula, in exact integer math so
 * results do not depend on floating-point rounding across platforms. */
#include "lw_airtime.h"

#include <stdint.h>

#define LW_US_PER_S 1000000u

void lw_lora_params_default(struct lw_lora_params *p)
{
    if (p == NULL)
        return;
    p->sf = 9;
    p->bw_hz = 125000;
    p->cr = 1;
    p->preamble = 8;
    p->crc = true;
    p->implicit_hdr = false;
    p->ldro = -1;
}

static bool lw_lora_params_valid(const struct lw_lora_params *p)
{
    return p->sf >= 6 && p->sf <= 12 && p->bw_hz >= 7800 && p->bw_hz <= 500000 && p->cr >= 1 &&
           p->cr <= 4 && p->ldro >= -1 && p->ldro <= 1;
}

uint32_t lw_airtime_us(const struct lw_lora_params *p, size_t payload_len)
{
    uint64_t sym2, num, den, us;
    int64_t bits;
    unsigned de, n_pay;
    unsigned sf;

    if (p == NULL || payload_len > 255 || !lw_lora_params_valid(p))
        return 0;
    sf = p->sf;

    /* T_sym = 2^SF / BW; LDRO is mandatory from 16 ms symbols: 2^SF * 1000 >= 16 * BW. */
    if (p->ldro >= 0)
        de = (unsigned)p->ldro;
    else
        de = ((uint64_t)1 << sf) * 1000u >= (uint64_t)16 * p->bw_hz;

    /* N_pay = 8 + max(ceil((8PL - 4SF + 28 + 16CRC - 20IH) / (4(SF - 2DE))) * (CR + 4), 0) */
    bits = 8 * (int64_t)payload_len - 4 * (int64_t)sf + 28 + (p->crc ? 16 : 0) -
           (p->implicit_hdr ? 20 : 0);
    n_pay = 8;
    if (bits > 0) {
        int64_t per = 4 * ((int64_t)sf - 2 * (int64_t)de);
        n_pay += (unsigned)((bits + per - 1) / per) * (p->cr + 4u);
    }

    /* Total = (N_pre + 4.25 + N_pay) * 2^SF / BW. Counted in quarter symbols to stay integral:
     * (4 N_pre + 17 + 4 N_pay) * 2^SF * 1e6 / (4 BW) us; at most ~1.1e15, fits in 64 bits. */
    sym2 = (uint64_t)1 << sf;
    num = (4 * (uint64_t)p->preamble + 17 + 4 * (uint64_t)n_pay) * sym2 * LW_US_PER_S;
    den = 4 * (uint64_t)p->bw_hz;
    us = (num + den / 2) / den;
    /* Only absurd preambles (tens of thousands of symbols at SF12) overflow: saturate. */
    return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}
