/* SPDX-License-Identifier: Apache-2.0 */
/* SX1261/62 command set, parameter values, IRQ bits and the registers the driver and the emulator
 * use, with reset values (SX1261/2 datasheet rev. 2.1, chapters 11-13 and 15; cross-checked with
 * RadioLib's SX126x command header and the STM32WL sub-GHz radio reference manual RM0453, which
 * documents the same radio). */
#ifndef LW_SX126X_REGS_H
#define LW_SX126X_REGS_H

/* Every command: wait for BUSY low, then one SPI transaction: opcode, parameters. MISO returns the
 * status byte from the second byte on; read commands clock out data after a NOP (Get*) or after
 * address and NOP (ReadRegister) or offset and NOP (ReadBuffer). */
#define LW_SX126X_XTAL_HZ         32000000u
#define LW_SX126X_FREQ_SHIFT      25 /* RfFreq = f * 2^25 / F_XTAL */
#define LW_SX126X_BUFFER_SIZE     256
#define LW_SX126X_RESET_LOW_US    100   /* NRESET low typically 100 us */
#define LW_SX126X_RESET_WAIT_US   200   /* then BUSY is polled until the chip is in STDBY_RC */
#define LW_SX126X_BUSY_TIMEOUT_US 20000 /* longest command (calibration) is about 3.5 ms */
#define LW_SX126X_TX_BASE         0x80
#define LW_SX126X_RX_BASE         0x00

/* ---- opcodes ---------------------------------------------------------------------------- */
#define LW_SX126X_CMD_NOP                   0x00
#define LW_SX126X_CMD_CLEAR_IRQ_STATUS      0x02
#define LW_SX126X_CMD_CLEAR_DEVICE_ERRORS   0x07
#define LW_SX126X_CMD_SET_DIO_IRQ_PARAMS    0x08
#define LW_SX126X_CMD_WRITE_REGISTER        0x0D
#define LW_SX126X_CMD_WRITE_BUFFER          0x0E
#define LW_SX126X_CMD_GET_PACKET_TYPE       0x11
#define LW_SX126X_CMD_GET_IRQ_STATUS        0x12
#define LW_SX126X_CMD_GET_RX_BUFFER_STATUS  0x13
#define LW_SX126X_CMD_GET_PACKET_STATUS     0x14
#define LW_SX126X_CMD_GET_RSSI_INST         0x15
#define LW_SX126X_CMD_GET_DEVICE_ERRORS     0x17
#define LW_SX126X_CMD_READ_REGISTER         0x1D
#define LW_SX126X_CMD_READ_BUFFER           0x1E
#define LW_SX126X_CMD_SET_STANDBY           0x80
#define LW_SX126X_CMD_SET_RX                0x82
#define LW_SX126X_CMD_SET_TX                0x83
#define LW_SX126X_CMD_SET_SLEEP             0x84
#define LW_SX126X_CMD_SET_RF_FREQUENCY      0x86
#define LW_SX126X_CMD_SET_CAD_PARAMS        0x88
#define LW_SX126X_CMD_CALIBRATE             0x89
#define LW_SX126X_CMD_SET_PACKET_TYPE       0x8A
#define LW_SX126X_CMD_SET_MODULATION_PARAMS 0x8B
#define LW_SX126X_CMD_SET_PACKET_PARAMS     0x8C
#define LW_SX126X_CMD_SET_TX_PARAMS         0x8E
#define LW_SX126X_CMD_SET_BUFFER_BASE_ADDR  0x8F
#define LW_SX126X_CMD_SET_PA_CONFIG         0x95
#define LW_SX126X_CMD_SET_REGULATOR_MODE    0x96
#define LW_SX126X_CMD_SET_DIO3_AS_TCXO_CTRL 0x97
#define LW_SX126X_CMD_CALIBRATE_IMAGE       0x98
#define LW_SX126X_CMD_SET_DIO2_AS_RF_SWITCH 0x9D
#define LW_SX126X_CMD_GET_STATUS            0xC0
#define LW_SX126X_CMD_SET_CAD               0xC5

/* ---- parameters ------------------------------------------------------------------------- */
#define LW_SX126X_STANDBY_RC       0x00
#define LW_SX126X_STANDBY_XOSC     0x01
#define LW_SX126X_PACKET_TYPE_GFSK 0x00 /* reset value */
#define LW_SX126X_PACKET_TYPE_LORA 0x01
#define LW_SX126X_REGULATOR_LDO    0x00 /* reset value */
#define LW_SX126X_REGULATOR_DCDC   0x01
#define LW_SX126X_CALIBRATE_ALL    0x7F
#define LW_SX126X_RX_CONTINUOUS    0xFFFFFFu /* SetRx timeout: stay in RX */
#define LW_SX126X_TX_NO_TIMEOUT    0x000000u
#define LW_SX126X_TCXO_DELAY_STEPS 320 /* 5 ms in 15.625 us steps */
#define LW_SX126X_RAMP_200US       0x04
#define LW_SX126X_POWER_MIN_DBM    (-9)
#define LW_SX126X_POWER_MAX_DBM    22
/* SetPaConfig for the SX1262 high-power PA: duty cycle, hpMax, device 0 = SX1262, paLut 1. */
#define LW_SX126X_PA_DUTY_22DBM    0x04
#define LW_SX126X_PA_HPMAX_22DBM   0x07
#define LW_SX126X_PA_DEVICE_SX1262 0x00
#define LW_SX126X_PA_LUT           0x01
/* LoRa modulation: bandwidth codes, coding rate 1..4 = 4/5..4/8. */
#define LW_SX126X_BW_125          0x04
#define LW_SX126X_BW_250          0x05
#define LW_SX126X_BW_500          0x06
#define LW_SX126X_HEADER_EXPLICIT 0x00
#define LW_SX126X_CRC_ON          0x01
#define LW_SX126X_IQ_STANDARD     0x00
#define LW_SX126X_IQ_INVERTED     0x01
#define LW_SX126X_CAD_ON_2_SYMB   0x01
#define LW_SX126X_CAD_DET_MIN     10
#define LW_SX126X_CAD_EXIT_STDBY  0x00

/* ---- status byte (GetStatus and the second MISO byte of every command) ------------------- */
#define LW_SX126X_STATUS_MODE_MASK   0x70
#define LW_SX126X_STATUS_MODE_SHIFT  4
#define LW_SX126X_MODE_STDBY_RC      0x2
#define LW_SX126X_MODE_STDBY_XOSC    0x3
#define LW_SX126X_MODE_FS            0x4
#define LW_SX126X_MODE_RX            0x5
#define LW_SX126X_MODE_TX            0x6
#define LW_SX126X_STATUS_CMD_MASK    0x0E
#define LW_SX126X_STATUS_CMD_SHIFT   1
#define LW_SX126X_CMD_DATA_AVAILABLE 0x2
#define LW_SX126X_CMD_TIMEOUT        0x3
#define LW_SX126X_CMD_PROCESSING_ERR 0x4 /* unknown opcode or wrong number of parameters */
#define LW_SX126X_CMD_EXEC_FAILURE   0x5
#define LW_SX126X_CMD_TX_DONE        0x6

/* ---- IRQ bits (SetDioIrqParams, GetIrqStatus, ClearIrqStatus) ---------------------------- */
#define LW_SX126X_IRQ_TX_DONE         0x0001
#define LW_SX126X_IRQ_RX_DONE         0x0002
#define LW_SX126X_IRQ_PREAMBLE        0x0004
#define LW_SX126X_IRQ_SYNC_WORD_VALID 0x0008
#define LW_SX126X_IRQ_HEADER_VALID    0x0010
#define LW_SX126X_IRQ_HEADER_ERR      0x0020
#define LW_SX126X_IRQ_CRC_ERR         0x0040
#define LW_SX126X_IRQ_CAD_DONE        0x0080
#define LW_SX126X_IRQ_CAD_DETECTED    0x0100
#define LW_SX126X_IRQ_TIMEOUT         0x0200
#define LW_SX126X_IRQ_ALL             0x03FF

/* ---- registers -------------------------------------------------------------------------- */
#define LW_SX126X_REG_VERSION_STRING  0x0320 /* 16 bytes of ASCII, e.g. "SX1261 V2D 2D02" */
#define LW_SX126X_REG_IQ_POLARITY     0x0736 /* bit 2 set for standard IQ (datasheet 15.4) */
#define LW_SX126X_IQ_POLARITY_BIT     0x04
#define LW_SX126X_IQ_POLARITY_RESET   0x0D
#define LW_SX126X_REG_SYNC_WORD_MSB   0x0740
#define LW_SX126X_REG_SYNC_WORD_LSB   0x0741
#define LW_SX126X_SYNC_WORD_MSB_RESET 0x14 /* 0x1424: private networks (0x3444: LoRaWAN) */
#define LW_SX126X_SYNC_WORD_LSB_RESET 0x24
#define LW_SX126X_REG_OCP             0x08E7
#define LW_SX126X_OCP_RESET_SX1262    0x38 /* 140 mA, set by SetPaConfig for the SX1262 */

#endif
