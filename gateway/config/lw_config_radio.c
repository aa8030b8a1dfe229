/* SPDX-License-Identifier: Apache-2.0 */
/* The [radio] section resolved into the settings a chip backend runs with (lw_presets.h): here,
 * with the configuration, so the presets need not know struct lw_config. */
#include "lw_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_presets.h"

static int pick(const char *value, int board_pin, bool board_fits)
{
    int pin;
    if (lw_pin_parse(value, &pin) != LW_OK)
        return -1;
    if (pin == -2)
        return board_fits ? board_pin : -1;
    return pin;
}

int lw_radio_settings_from_config(const struct lw_config *cfg, struct lw_radio_settings *out,
                                  char *why, size_t cap)
{
    memset(out, 0, sizeof(*out));
    const struct lw_board *b = cfg->radio_board[0] ? lw_board_find(cfg->radio_board) : NULL;
    const struct lw_region *r = lw_region_find(cfg->radio_region);
    if ((cfg->radio_board[0] && !b) || !r) {
        snprintf(why, cap, "unknown board or region");
        return LW_ERR_CONFIG;
    }
    bool fits = b && strcmp(b->backend, cfg->radio_backend) == 0;
    snprintf(out->backend, sizeof(out->backend), "%s", cfg->radio_backend);
    snprintf(out->board, sizeof(out->board), "%s", b ? b->name : "");
    snprintf(out->region, sizeof(out->region), "%s", r->name);
    snprintf(out->spi_device, sizeof(out->spi_device), "%s",
             cfg->spi_device[0] ? cfg->spi_device
             : fits             ? b->spi_device
                                : "/dev/spidev0.0");
    out->spi_speed_hz = cfg->spi_speed_hz;
    snprintf(out->gpio_chip, sizeof(out->gpio_chip), "%s", cfg->gpio_chip);
    bool sx126x = strcmp(cfg->radio_backend, "sx126x") == 0;
    out->pins.reset = pick(cfg->pin_reset, fits ? b->pins.reset : -1, fits);
    out->pins.cs = pick(cfg->pin_cs, fits ? b->pins.cs : -1, fits);
    out->pins.irq = pick(sx126x ? cfg->pin_dio1 : cfg->pin_dio0, fits ? b->pins.irq : -1, fits);
    out->pins.busy = sx126x ? pick(cfg->pin_busy, fits ? b->pins.busy : -1, fits) : -1;
    out->freq_hz = cfg->frequency_hz;
    out->sf = (uint8_t)cfg->spreading_factor;
    out->bw_hz = cfg->bandwidth_hz;
    out->cr = (uint8_t)cfg->coding_rate;
    out->preamble = (uint16_t)cfg->preamble;
    out->sync_word = (uint8_t)cfg->sync_word;
    int power = (int)cfg->tx_power_dbm;
    out->power_capped = power > r->max_power_dbm;
    out->power_dbm = (int8_t)(out->power_capped ? r->max_power_dbm : power);
    if (!cfg->tcxo_voltage[0])
        out->tcxo_mv = fits ? b->tcxo_mv : 0;
    else if (strcmp(cfg->tcxo_voltage, "none") == 0)
        out->tcxo_mv = 0;
    else
        out->tcxo_mv = (uint16_t)(atof(cfg->tcxo_voltage) * 1000 + 0.5);
    if (!cfg->dio2_rf_switch[0])
        out->dio2_rf_switch = fits && b->dio2_rf_switch;
    else
        out->dio2_rf_switch = strcmp(cfg->dio2_rf_switch, "yes") == 0;
    out->lbt = r->lbt;
    out->wd_interval_ms = cfg->radio_watchdog_interval_ms;
    out->wd_silence_ms = cfg->radio_watchdog_silence_ms;
    if (out->pins.irq < 0 || (sx126x && out->pins.busy < 0)) {
        snprintf(why, cap, "%s needs its %s line", cfg->radio_backend,
                 out->pins.irq < 0 ? (sx126x ? "DIO1" : "DIO0") : "BUSY");
        return LW_ERR_CONFIG;
    }
    return LW_OK;
}
