/* SPDX-License-Identifier: Apache-2.0 */
/* Board and region presets, and the LoRa parameters of resolved radio settings. */
#include "lw_presets.h"

#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_parse.h"

/* Pins are BCM GPIO numbers, which are the line offsets of gpiochip0 on every Raspberry Pi
 * (docs/HARDWARE.md has the header pin of each). */
static const struct lw_board boards[] = {
    {
        .name = "dragino-lora-gps-hat",
        .backend = "sx127x",
        .spi_device = "/dev/spidev0.0",
        .pins = {.reset = 17, .cs = 25, .irq = 4, .busy = -1},
        .description = "Dragino LoRa/GPS HAT (SX1276): NSS on GPIO 25 as software chip-select, "
                       "DIO0 on GPIO 4, RESET on GPIO 17",
    },
    {
        .name = "waveshare-sx1262-hat",
        .backend = "sx126x",
        .spi_device = "/dev/spidev0.0",
        .pins = {.reset = 18, .cs = 21, .irq = 16, .busy = 20},
        .tcxo_mv = 1800,
        .dio2_rf_switch = true,
        .description = "Waveshare SX1262 LoRa HAT: RESET GPIO 18, BUSY GPIO 20, DIO1 GPIO 16, "
                       "CS GPIO 21; TCXO 1.8 V on DIO3, antenna switch on DIO2",
    },
    {
        .name = "sx1302-forwarder",
        .backend = "udp-forwarder",
        .spi_device = "",
        .pins = {.reset = -1, .cs = -1, .irq = -1, .busy = -1},
        .description = "SX1302/SX1303 concentrator HAT driven by the vendor's lora_pkt_fwd",
    },
};

static const struct lw_region regions[] = {
    {
        .name = "CN470",
        .freq_min_hz = 470000000,
        .freq_max_hz = 510000000,
        .default_freq_hz = 470300000,
        .max_power_dbm = 17,
        .max_tx_ms = 1000,
        .duty_permille = 0,
        .lbt = true,
        .source = "MIIT 2019 No. 52: 50 mW e.r.p., at most 1 s per transmission, listen before "
                  "talk",
    },
    {
        .name = "EU868",
        .freq_min_hz = 863000000,
        .freq_max_hz = 870000000,
        .default_freq_hz = 868100000,
        .max_power_dbm = 16,
        .max_tx_ms = 0,
        .duty_permille = 10,
        .lbt = false,
        .source = "ETSI EN 300 220 band h1.4 as used by LoRaWAN EU868: 1 % duty cycle, 16 dBm",
    },
};

#define N_BOARDS  (sizeof(boards) / sizeof(boards[0]))
#define N_REGIONS (sizeof(regions) / sizeof(regions[0]))

const struct lw_board *lw_board_find(const char *name)
{
    for (size_t i = 0; i < N_BOARDS; i++)
        if (strcmp(boards[i].name, name) == 0)
            return &boards[i];
    return NULL;
}

const struct lw_region *lw_region_find(const char *name)
{
    for (size_t i = 0; i < N_REGIONS; i++)
        if (strcmp(regions[i].name, name) == 0)
            return &regions[i];
    return NULL;
}

void lw_board_names(char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_BOARDS && len < cap; i++) {
        int n = snprintf(out + len, cap - len, "%s%s", i ? ", " : "", boards[i].name);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

int lw_region_check_airtime(const struct lw_region *r, uint32_t airtime_us, char *why, size_t cap)
{
    if (r->max_tx_ms && airtime_us > r->max_tx_ms * 1000u) {
        snprintf(why, cap, "on air %.1f ms; %s allows at most %u ms per transmission",
                 airtime_us / 1000.0, r->name, r->max_tx_ms);
        return LW_ERR_RANGE;
    }
    if (r->duty_permille) {
        /* The hour's budget must hold the downlinks the protocol needs. */
        uint64_t budget_us = 3600ull * 1000000u * r->duty_permille / 1000u;
        if ((uint64_t)airtime_us * LW_REGION_MIN_TX_PER_HOUR > budget_us) {
            snprintf(why, cap,
                     "on air %.1f ms; under the %s duty cycle of %.1f %% the gateway could not "
                     "send %d frames an hour (at most %.1f ms each)",
                     airtime_us / 1000.0, r->name, r->duty_permille / 10.0,
                     LW_REGION_MIN_TX_PER_HOUR, budget_us / 1000.0 / LW_REGION_MIN_TX_PER_HOUR);
            return LW_ERR_RANGE;
        }
    }
    return LW_OK;
}

int lw_pin_parse(const char *s, int *pin)
{
    if (!s[0]) {
        *pin = -2;
        return LW_OK;
    }
    if (strcmp(s, "none") == 0) {
        *pin = -1;
        return LW_OK;
    }
    uint32_t v;
    if (lw_parse_u32(s, 0, 1023, &v) != LW_OK)
        return LW_ERR_INVAL;
    *pin = (int)v;
    return LW_OK;
}

void lw_radio_settings_lora(const struct lw_radio_settings *s, struct lw_lora_params *lp)
{
    lw_lora_params_default(lp);
    lp->sf = s->sf;
    lp->bw_hz = s->bw_hz;
    lp->cr = (uint8_t)(s->cr - 4);
    lp->preamble = s->preamble;
    lp->crc = true;
}
