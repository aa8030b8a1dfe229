/* SPDX-License-Identifier: Apache-2.0 */
/* STM32WLE5 sub-GHz radio transport (RM0461): register-level, no HAL, no interrupts of its own. */
#include "lw_stm32wl_subghz.h"

#include "lw_error.h"
#include "lw_stm32wl_regs.h"

/* Status polls before a stuck SPI or reset counts as a bus fault. */
#define SPI_SPIN_MAX   100000u
#define RESET_WAIT_MAX 10000u /* microseconds for RFRSTF to clear */

static int spi_byte(uint8_t out, uint8_t *in)
{
    uint32_t n = 0;
    while (!(LW_STM32WL_SPI_SR & LW_STM32WL_SPI_SR_TXE))
        if (++n > SPI_SPIN_MAX)
            return LW_ERR_IO;
    LW_STM32WL_SPI_DR8 = out;
    while (!(LW_STM32WL_SPI_SR & LW_STM32WL_SPI_SR_RXNE))
        if (++n > SPI_SPIN_MAX)
            return LW_ERR_IO;
    *in = LW_STM32WL_SPI_DR8;
    return LW_OK;
}

static int sg_xfer(void *ctx, const uint8_t *tx, uint8_t *rx, size_t len)
{
    (void)ctx;
    int rc = LW_OK;
    LW_STM32WL_PWR_SUBGHZSPICR &= ~LW_STM32WL_PWR_SUBGHZSPICR_NSS; /* select */
    for (size_t i = 0; i < len && rc == LW_OK; i++) {
        uint8_t in = 0;
        rc = spi_byte(tx[i], &in);
        if (rx)
            rx[i] = in;
    }
    uint32_t n = 0;
    while ((LW_STM32WL_SPI_SR & LW_STM32WL_SPI_SR_BSY) && ++n < SPI_SPIN_MAX)
        ;
    LW_STM32WL_PWR_SUBGHZSPICR |= LW_STM32WL_PWR_SUBGHZSPICR_NSS; /* deselect, even on failure */
    return rc;
}

static int sg_reset(void *ctx, uint32_t low_us, uint32_t wait_us)
{
    struct lw_stm32wl_subghz *t = ctx;
    LW_STM32WL_RCC_CSR |= LW_STM32WL_RCC_CSR_RFRST;
    t->board->delay_us(t->board->arg, low_us);
    LW_STM32WL_RCC_CSR &= ~LW_STM32WL_RCC_CSR_RFRST;
    /* RFRSTF stays set until the radio has left reset. */
    uint64_t start = t->board->now_us(t->board->arg);
    while (LW_STM32WL_RCC_CSR & LW_STM32WL_RCC_CSR_RFRSTF)
        if (t->board->now_us(t->board->arg) - start > RESET_WAIT_MAX)
            return LW_ERR_IO;
    t->board->delay_us(t->board->arg, wait_us);
    return LW_OK;
}

static int sg_busy(void *ctx)
{
    (void)ctx;
    return (LW_STM32WL_PWR_SR2 & LW_STM32WL_PWR_SR2_RFBUSYS) ? 1 : 0;
}

static int sg_irq_take(void *ctx)
{
    struct lw_stm32wl_subghz *t = ctx;
    return __atomic_exchange_n(&t->irq_pending, 0u, __ATOMIC_ACQ_REL) ? 1 : 0;
}

static void sg_delay_us(void *ctx, uint32_t us)
{
    struct lw_stm32wl_subghz *t = ctx;
    t->board->delay_us(t->board->arg, us);
}

static uint64_t sg_now_us(void *ctx)
{
    struct lw_stm32wl_subghz *t = ctx;
    return t->board->now_us(t->board->arg);
}

static void sg_log(void *ctx, int prio, struct lw_radio_log_site *site, const char *msg)
{
    (void)ctx;
    (void)prio;
    (void)site;
    (void)msg;
}

static const struct lw_radio_bus_ops subghz_ops = {
    .xfer = sg_xfer,
    .reset = sg_reset,
    .busy = sg_busy,
    .irq_take = sg_irq_take,
    .delay_us = sg_delay_us,
    .now_us = sg_now_us,
    .log = sg_log,
};

void lw_stm32wl_subghz_init(struct lw_stm32wl_subghz *t, const struct lw_stm32wl_board *board)
{
    t->board = board;
    t->irq_pending = 0;
    t->radio.ops = &subghz_ops;
    t->radio.ctx = t;
    t->radio.where = "SUBGHZSPI";
    t->radio.has_busy = true;
    LW_STM32WL_RCC_APB3ENR |= LW_STM32WL_RCC_APB3ENR_SUBGHZ;
    LW_STM32WL_PWR_SUBGHZSPICR |= LW_STM32WL_PWR_SUBGHZSPICR_NSS;
    LW_STM32WL_SPI_CR1 = 0;
    LW_STM32WL_SPI_CR2 = LW_STM32WL_SPI_CR2_DS_8BIT | LW_STM32WL_SPI_CR2_FRXTH;
    LW_STM32WL_SPI_CR1 = LW_STM32WL_SPI_CR1_MSTR | LW_STM32WL_SPI_CR1_BR_DIV8 |
                         LW_STM32WL_SPI_CR1_SSM | LW_STM32WL_SPI_CR1_SSI;
    LW_STM32WL_SPI_CR1 |= LW_STM32WL_SPI_CR1_SPE;
}

void lw_stm32wl_subghz_irq(struct lw_stm32wl_subghz *t)
{
    __atomic_store_n(&t->irq_pending, 1u, __ATOMIC_RELEASE);
}
