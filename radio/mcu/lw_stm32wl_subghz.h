/* SPDX-License-Identifier: Apache-2.0 */
/* The drivers' bus contract on an STM32WLE5's built-in SX126x: SPI through SUBGHZSPI, NSS and
 * BUSY through power-controller bits, reset through RCC, the IRQ as an interrupt line. A stub
 * that shows the contract fits a microcontroller: time comes from the board, logging is off. */
#ifndef LW_STM32WL_SUBGHZ_H
#define LW_STM32WL_SUBGHZ_H

#include <stdint.h>

#include "lw_radio_bus.h"

/* What only the board knows: its clock. */
struct lw_stm32wl_board {
    void (*delay_us)(void *arg, uint32_t us);
    uint64_t (*now_us)(void *arg); /* never jumps */
    void *arg;
};

struct lw_stm32wl_subghz {
    struct lw_radio_bus radio; /* what the SX126x driver takes */
    const struct lw_stm32wl_board *board;
    volatile uint32_t irq_pending; /* set by the radio interrupt, taken by irq_take */
};

/* Clock the SUBGHZSPI, set it up as master (mode 0, 8 bits) and deselect the radio. */
void lw_stm32wl_subghz_init(struct lw_stm32wl_subghz *t, const struct lw_stm32wl_board *board);
/* Call from the radio IRQ handler: the chip's IRQ register says what happened. */
void lw_stm32wl_subghz_irq(struct lw_stm32wl_subghz *t);

#endif
