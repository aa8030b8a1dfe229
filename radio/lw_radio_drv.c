/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers the chip drivers share: the blocking CAD wait and the airtime parameters. */
#include "lw_radio_drv.h"

#include "lw_error.h"

int lw_chip_cad_wait(const struct lw_radio_bus *bus, const struct lw_chip_params *p,
                     const char *chip, int (*flags)(void *drv), void *drv)
{
    uint64_t sym_us = ((uint64_t)1 << p->sf) * 1000000u / p->bw_hz;
    uint64_t start = lw_radio_bus_now_us(bus), limit = 8 * sym_us + 20000;
    while (lw_radio_bus_now_us(bus) - start < limit) {
        lw_radio_bus_delay_us(bus, (uint32_t)(sym_us / 4 + 100));
        int rc = flags(drv);
        if (rc != LW_ERR_AGAIN)
            return rc;
    }
    LW_RADIO_LOG_RL(bus, LW_RADIO_LOG_WARNING, "radio %s: CAD did not finish within %llu ms", chip,
                    (unsigned long long)(limit / 1000));
    return LW_ERR_IO;
}

void lw_chip_params_lora(const struct lw_chip_params *p, struct lw_lora_params *lp)
{
    lw_lora_params_default(lp);
    lp->sf = p->sf;
    lp->bw_hz = p->bw_hz;
    lp->cr = (uint8_t)(p->cr - 4);
    lp->preamble = p->preamble;
    lp->crc = true;
}
