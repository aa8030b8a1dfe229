/* SPDX-License-Identifier: Apache-2.0 */
/* Board presets (which chip, SPI device and GPIO pins a radio HAT uses) and region presets
 * (band, power and airtime rules), and the resolved settings a chip backend runs with (filled
 * from the configuration by lw_radio_settings_from_config, lw_config.h). Pure: no I/O, so the
 * configuration check and the fuzzer use it as is. */
#ifndef LW_PRESETS_H
#define LW_PRESETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_airtime.h"
#include "lw_spi.h"

struct lw_board {
    const char *name;
    const char *backend; /* "sx127x", "sx126x" or "udp-forwarder" */
    const char *spi_device;
    struct lw_chip_pins pins; /* BCM numbers = line offsets on gpiochip0 of a Raspberry Pi */
    uint16_t tcxo_mv;         /* SX126x: TCXO supply on DIO3 in mV; 0: crystal */
    bool dio2_rf_switch;      /* SX126x: DIO2 drives the antenna switch */
    const char *description;
};

struct lw_region {
    const char *name;
    uint32_t freq_min_hz, freq_max_hz;
    uint32_t default_freq_hz;
    int8_t max_power_dbm;   /* conducted power cap (ERP limit with a 0 dBi antenna) */
    uint32_t max_tx_ms;     /* longest single transmission; 0: no such rule */
    uint16_t duty_permille; /* duty cycle per hour; 0: no such rule */
    bool lbt;               /* listen before talk is mandatory */
    const char *source;     /* the rule text the numbers come from */
};

/* Downlinks per hour the gateway must be able to send under a duty-cycle rule (a join answer
 * or acknowledgement every two minutes): settings under which our largest frame makes that
 * impossible are refused in the configuration. */
#define LW_REGION_MIN_TX_PER_HOUR 30

const struct lw_board *lw_board_find(const char *name);
const struct lw_region *lw_region_find(const char *name);
/* For --help-config and messages: "a, b, c". */
void lw_board_names(char *out, size_t cap);

/* Check one transmission of airtime_us against the region's rules. LW_OK, or LW_ERR_RANGE with
 * the broken rule explained in why. */
int lw_region_check_airtime(const struct lw_region *r, uint32_t airtime_us, char *why, size_t cap);

/* Parse a pin value: "" (take the board's), "none" (not connected) or a line offset 0..1023.
 * Returns LW_OK with *pin set (-2 for "take the board's", -1 for none), or LW_ERR_INVAL. */
int lw_pin_parse(const char *s, int *pin);

/* What a chip backend needs, from the configuration with board and region applied. */
struct lw_radio_settings {
    char backend[16];
    char board[32];
    char region[8];
    char spi_device[64];
    uint32_t spi_speed_hz;
    char gpio_chip[32];
    struct lw_chip_pins pins;
    uint32_t freq_hz;
    uint8_t sf;
    uint32_t bw_hz;
    uint8_t cr; /* 5..8: 4/5 .. 4/8 */
    uint16_t preamble;
    uint8_t sync_word;
    int8_t power_dbm;        /* already capped to the region */
    bool power_capped;       /* the configured power was above the region's cap */
    uint16_t tcxo_mv;        /* SX126x */
    bool dio2_rf_switch;     /* SX126x */
    bool lbt;                /* region demands listen before talk */
    uint64_t wd_interval_ms; /* radio watchdog period */
    uint64_t wd_silence_ms;  /* no IRQ at all for this long: a deaf chip (0: not checked) */
};

/* The LoRa parameters of s for lw_airtime. */
void lw_radio_settings_lora(const struct lw_radio_settings *s, struct lw_lora_params *lp);

#endif
