/* SPDX-License-Identifier: Apache-2.0 */
/* The few STM32WLE5 registers the sub-GHz radio transport touches (reference manual RM0461).
 * Addresses and bits only; the transport in lw_stm32wl_subghz.c says how they are used. */
#ifndef LW_STM32WL_REGS_H
#define LW_STM32WL_REGS_H

#include <stdint.h>

#define LW_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define LW_REG8(addr)  (*(volatile uint8_t *)(uintptr_t)(addr))

/* RM0461 memory map (chapter 2): RCC and PWR on AHB3, the radio's SPI on APB3. */
#define LW_STM32WL_RCC_BASE       0x58000000u
#define LW_STM32WL_PWR_BASE       0x58000400u
#define LW_STM32WL_SUBGHZSPI_BASE 0x58010000u

/* RM0461 RCC registers (chapter 6, RCC_APB3ENR and RCC_CSR): the APB3 clock enable, and the
 * control/status register that holds the radio in reset (RFRST) and reports when it still is
 * (RFRSTF). */
#define LW_STM32WL_RCC_APB3ENR        LW_REG32(LW_STM32WL_RCC_BASE + 0x064u)
#define LW_STM32WL_RCC_APB3ENR_SUBGHZ (1u << 0)
#define LW_STM32WL_RCC_CSR            LW_REG32(LW_STM32WL_RCC_BASE + 0x094u)
#define LW_STM32WL_RCC_CSR_RFRSTF     (1u << 14)
#define LW_STM32WL_RCC_CSR_RFRST      (1u << 15)

/* RM0461 PWR registers (section 5.5, PWR_SR2 and PWR_SUBGHZSPICR): the radio's BUSY signal as a
 * status bit, and its SPI chip-select as a control bit (1: NSS high, the radio deselected). */
#define LW_STM32WL_PWR_SR2             LW_REG32(LW_STM32WL_PWR_BASE + 0x014u)
#define LW_STM32WL_PWR_SR2_RFBUSYS     (1u << 1)
#define LW_STM32WL_PWR_SUBGHZSPICR     LW_REG32(LW_STM32WL_PWR_BASE + 0x090u)
#define LW_STM32WL_PWR_SUBGHZSPICR_NSS (1u << 15)

/* RM0461 SUBGHZSPI (chapter 4, the radio's SPI; registers laid out as the SPI chapter's):
 * control 1/2, status, data. */
#define LW_STM32WL_SPI_CR1 LW_REG32(LW_STM32WL_SUBGHZSPI_BASE + 0x00u)
#define LW_STM32WL_SPI_CR2 LW_REG32(LW_STM32WL_SUBGHZSPI_BASE + 0x04u)
#define LW_STM32WL_SPI_SR  LW_REG32(LW_STM32WL_SUBGHZSPI_BASE + 0x08u)
/* Byte access: a 16-bit access would move two frames at once. */
#define LW_STM32WL_SPI_DR8 LW_REG8(LW_STM32WL_SUBGHZSPI_BASE + 0x0Cu)

#define LW_STM32WL_SPI_CR1_MSTR    (1u << 2)
#define LW_STM32WL_SPI_CR1_BR_DIV8 (2u << 3) /* SPI clock: PCLK3 / 8 (the radio takes 16 MHz) */
#define LW_STM32WL_SPI_CR1_SPE     (1u << 6)
#define LW_STM32WL_SPI_CR1_SSI     (1u << 8)
#define LW_STM32WL_SPI_CR1_SSM     (1u << 9)
#define LW_STM32WL_SPI_CR2_DS_8BIT (7u << 8)
#define LW_STM32WL_SPI_CR2_FRXTH   (1u << 12) /* RXNE after one byte */
#define LW_STM32WL_SPI_SR_RXNE     (1u << 0)
#define LW_STM32WL_SPI_SR_TXE      (1u << 1)
#define LW_STM32WL_SPI_SR_BSY      (1u << 7)

#endif
