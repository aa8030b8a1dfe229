/* SPDX-License-Identifier: Apache-2.0 */
/* SX1276/77/78/79 LoRa-mode register map: every address the driver and the emulator use, its
 * field masks and values, and its reset default (SX1276/77/78/79 datasheet rev. 7, chapter 6,
 * tables 41-42 and section 4.1; cross-checked against Semtech's LoRaMac-node register header). */
#ifndef LW_SX127X_REGS_H
#define LW_SX127X_REGS_H

/* SPI: first byte is the address with bit 7 set for a write (wnr), then data; the address
 * increments after each byte of a burst, except at RegFifo where FifoAddrPtr does instead. */
#define LW_SX127X_SPI_WRITE 0x80
#define LW_SX127X_ADDR_MASK 0x7F

/* Crystal 32 MHz; Frf = f_rf * 2^19 / F_XOSC (61.035 Hz steps). */
#define LW_SX127X_FXOSC_HZ  32000000u
#define LW_SX127X_FRF_SHIFT 19
/* Below this the LF port (bands 2/3) is used: RSSI offset -164 dBm, LowFrequencyModeOn = 1. */
#define LW_SX127X_LF_LIMIT_HZ    525000000u
#define LW_SX127X_RSSI_OFFSET_LF (-164)
#define LW_SX127X_RSSI_OFFSET_HF (-157)
#define LW_SX127X_FIFO_SIZE      256
#define LW_SX127X_VERSION_SX1276 0x12 /* RegVersion of SX1276/77/78/79 silicon V1b */
#define LW_SX127X_RESET_LOW_US   100  /* NRESET low >= 100 us (section 7.2.2) */
#define LW_SX127X_RESET_WAIT_US  5000 /* then ready after 5 ms */

/* ---- addresses -------------------------------------------------------------------------- */
#define LW_SX127X_REG_FIFO                0x00
#define LW_SX127X_REG_OPMODE              0x01
#define LW_SX127X_REG_FRFMSB              0x06
#define LW_SX127X_REG_FRFMID              0x07
#define LW_SX127X_REG_FRFLSB              0x08
#define LW_SX127X_REG_PACONFIG            0x09
#define LW_SX127X_REG_PARAMP              0x0A
#define LW_SX127X_REG_OCP                 0x0B
#define LW_SX127X_REG_LNA                 0x0C
#define LW_SX127X_REG_FIFOADDRPTR         0x0D
#define LW_SX127X_REG_FIFOTXBASEADDR      0x0E
#define LW_SX127X_REG_FIFORXBASEADDR      0x0F
#define LW_SX127X_REG_FIFORXCURRENTADDR   0x10
#define LW_SX127X_REG_IRQFLAGSMASK        0x11
#define LW_SX127X_REG_IRQFLAGS            0x12
#define LW_SX127X_REG_RXNBBYTES           0x13
#define LW_SX127X_REG_RXHEADERCNTVALUEMSB 0x14
#define LW_SX127X_REG_RXHEADERCNTVALUELSB 0x15
#define LW_SX127X_REG_RXPACKETCNTVALUEMSB 0x16
#define LW_SX127X_REG_RXPACKETCNTVALUELSB 0x17
#define LW_SX127X_REG_MODEMSTAT           0x18
#define LW_SX127X_REG_PKTSNRVALUE         0x19
#define LW_SX127X_REG_PKTRSSIVALUE        0x1A
#define LW_SX127X_REG_RSSIVALUE           0x1B
#define LW_SX127X_REG_HOPCHANNEL          0x1C
#define LW_SX127X_REG_MODEMCONFIG1        0x1D
#define LW_SX127X_REG_MODEMCONFIG2        0x1E
#define LW_SX127X_REG_SYMBTIMEOUTLSB      0x1F
#define LW_SX127X_REG_PREAMBLEMSB         0x20
#define LW_SX127X_REG_PREAMBLELSB         0x21
#define LW_SX127X_REG_PAYLOADLENGTH       0x22
#define LW_SX127X_REG_PAYLOADMAXLENGTH    0x23
#define LW_SX127X_REG_HOPPERIOD           0x24
#define LW_SX127X_REG_FIFORXBYTEADDR      0x25
#define LW_SX127X_REG_MODEMCONFIG3        0x26
#define LW_SX127X_REG_DETECTOPTIMIZE      0x31
#define LW_SX127X_REG_INVERTIQ            0x33
#define LW_SX127X_REG_DETECTIONTHRESHOLD  0x37
#define LW_SX127X_REG_SYNCWORD            0x39
#define LW_SX127X_REG_INVERTIQ2           0x3B
#define LW_SX127X_REG_DIOMAPPING1         0x40
#define LW_SX127X_REG_DIOMAPPING2         0x41
#define LW_SX127X_REG_VERSION             0x42
#define LW_SX127X_REG_PADAC               0x4D
#define LW_SX127X_REG_COUNT               0x80

/* ---- reset defaults (LoRa page; the FSK page shares addresses 0x00-0x0C and 0x40+) -------- */
#define LW_SX127X_OPMODE_RESET             0x09 /* FSK, LowFrequencyModeOn, standby */
#define LW_SX127X_FRFMSB_RESET             0x6C /* 434 MHz */
#define LW_SX127X_FRFMID_RESET             0x80
#define LW_SX127X_FRFLSB_RESET             0x00
#define LW_SX127X_PACONFIG_RESET           0x4F /* RFO, MaxPower 4, OutputPower 15 */
#define LW_SX127X_PARAMP_RESET             0x09 /* 40 us */
#define LW_SX127X_OCP_RESET                0x2B /* on, 100 mA */
#define LW_SX127X_LNA_RESET                0x20 /* G1 */
#define LW_SX127X_FIFOADDRPTR_RESET        0x00
#define LW_SX127X_FIFOTXBASEADDR_RESET     0x80
#define LW_SX127X_FIFORXBASEADDR_RESET     0x00
#define LW_SX127X_IRQFLAGSMASK_RESET       0x00
#define LW_SX127X_MODEMCONFIG1_RESET       0x72 /* BW125, CR4/5, explicit header */
#define LW_SX127X_MODEMCONFIG2_RESET       0x70 /* SF7, CRC off */
#define LW_SX127X_SYMBTIMEOUTLSB_RESET     0x64
#define LW_SX127X_PREAMBLEMSB_RESET        0x00
#define LW_SX127X_PREAMBLELSB_RESET        0x08
#define LW_SX127X_PAYLOADLENGTH_RESET      0x01
#define LW_SX127X_PAYLOADMAXLENGTH_RESET   0xFF
#define LW_SX127X_MODEMCONFIG3_RESET       0x04 /* AGC auto on, LDRO off */
#define LW_SX127X_DETECTOPTIMIZE_RESET     0xC3 /* SF7..SF12 */
#define LW_SX127X_INVERTIQ_RESET           0x27
#define LW_SX127X_DETECTIONTHRESHOLD_RESET 0x0A /* SF7..SF12 */
#define LW_SX127X_SYNCWORD_RESET           0x12 /* private networks; LoRaWAN uses 0x34 */
#define LW_SX127X_INVERTIQ2_RESET          0x1D
#define LW_SX127X_DIOMAPPING1_RESET        0x00
#define LW_SX127X_DIOMAPPING2_RESET        0x00
#define LW_SX127X_PADAC_RESET              0x84 /* PA_BOOST up to +17 dBm */

/* ---- RegOpMode -------------------------------------------------------------------------- */
#define LW_SX127X_OPMODE_LONGRANGE  0x80 /* LoRa; writable only in sleep mode */
#define LW_SX127X_OPMODE_SHAREDREG  0x40 /* FSK registers at 0x0D-0x3F while in LoRa mode */
#define LW_SX127X_OPMODE_LOWFREQ    0x08 /* LF register page (below 525 MHz) */
#define LW_SX127X_OPMODE_MODE_MASK  0x07
#define LW_SX127X_MODE_SLEEP        0x00
#define LW_SX127X_MODE_STDBY        0x01
#define LW_SX127X_MODE_FSTX         0x02
#define LW_SX127X_MODE_TX           0x03
#define LW_SX127X_MODE_FSRX         0x04
#define LW_SX127X_MODE_RXCONTINUOUS 0x05
#define LW_SX127X_MODE_RXSINGLE     0x06
#define LW_SX127X_MODE_CAD          0x07

/* ---- RegPaConfig / RegPaDac / RegOcp ---------------------------------------------------- */
#define LW_SX127X_PACONFIG_PABOOST       0x80 /* PA_BOOST pin: +2..+17 dBm (+20 with PaDac) */
#define LW_SX127X_PACONFIG_MAXPOWER_MASK 0x70
#define LW_SX127X_PACONFIG_MAXPOWER_MAX  0x70
#define LW_SX127X_PACONFIG_OUTPUT_MASK   0x0F /* PA_BOOST: Pout = 17 - (15 - OutputPower) */
#define LW_SX127X_PABOOST_MIN_DBM        2
#define LW_SX127X_PABOOST_MAX_DBM        17
#define LW_SX127X_PADAC_MASK             0x07
#define LW_SX127X_PADAC_DEFAULT          0x04
#define LW_SX127X_PADAC_20DBM            0x07
#define LW_SX127X_OCP_ON                 0x20
#define LW_SX127X_OCP_TRIM_MASK          0x1F /* Imax = 45 + 5 * trim mA for trim <= 15 */
#define LW_SX127X_OCP_TRIM_100MA         0x0B

/* ---- RegLna ----------------------------------------------------------------------------- */
#define LW_SX127X_LNA_GAIN_MASK    0xE0
#define LW_SX127X_LNA_GAIN_G1      0x20 /* maximum gain */
#define LW_SX127X_LNA_BOOSTHF_MASK 0x03
#define LW_SX127X_LNA_BOOSTHF_ON   0x03 /* 150 % LNA current, HF port only */

/* ---- RegIrqFlags / RegIrqFlagsMask (write 1 to clear a flag) ------------------------------ */
#define LW_SX127X_IRQ_RXTIMEOUT          0x80
#define LW_SX127X_IRQ_RXDONE             0x40
#define LW_SX127X_IRQ_PAYLOADCRCERROR    0x20
#define LW_SX127X_IRQ_VALIDHEADER        0x10
#define LW_SX127X_IRQ_TXDONE             0x08
#define LW_SX127X_IRQ_CADDONE            0x04
#define LW_SX127X_IRQ_FHSSCHANGEDCHANNEL 0x02
#define LW_SX127X_IRQ_CADDETECTED        0x01
#define LW_SX127X_IRQ_ALL                0xFF

/* ---- RegModemStat ----------------------------------------------------------------------- */
#define LW_SX127X_MODEMSTAT_RXCR_MASK 0xE0
#define LW_SX127X_MODEMSTAT_CLEAR     0x10 /* modem clear */
#define LW_SX127X_MODEMSTAT_HDRVALID  0x08
#define LW_SX127X_MODEMSTAT_RXONGOING 0x04
#define LW_SX127X_MODEMSTAT_SYNCED    0x02
#define LW_SX127X_MODEMSTAT_DETECTED  0x01

/* ---- RegHopChannel ---------------------------------------------------------------------- */
#define LW_SX127X_HOPCHANNEL_PLLTIMEOUT   0x80
#define LW_SX127X_HOPCHANNEL_CRCONPAYLOAD 0x40 /* the last header announced a payload CRC */
#define LW_SX127X_HOPCHANNEL_CHANNEL_MASK 0x3F

/* ---- RegModemConfig1 -------------------------------------------------------------------- */
#define LW_SX127X_MC1_BW_MASK      0xF0
#define LW_SX127X_MC1_BW_SHIFT     4
#define LW_SX127X_BW_125KHZ        0x07
#define LW_SX127X_BW_250KHZ        0x08
#define LW_SX127X_BW_500KHZ        0x09
#define LW_SX127X_MC1_CR_MASK      0x0E
#define LW_SX127X_MC1_CR_SHIFT     1 /* 1 = 4/5 .. 4 = 4/8 */
#define LW_SX127X_MC1_IMPLICIT_HDR 0x01

/* ---- RegModemConfig2 -------------------------------------------------------------------- */
#define LW_SX127X_MC2_SF_MASK          0xF0
#define LW_SX127X_MC2_SF_SHIFT         4
#define LW_SX127X_MC2_TXCONTINUOUS     0x08
#define LW_SX127X_MC2_RXPAYLOADCRCON   0x04
#define LW_SX127X_MC2_SYMBTIMEOUT_MASK 0x03

/* ---- RegModemConfig3 -------------------------------------------------------------------- */
#define LW_SX127X_MC3_LOWDATARATEOPT 0x08 /* mandatory when a symbol lasts 16 ms or more */
#define LW_SX127X_MC3_AGCAUTO        0x04

/* ---- RegDetectOptimize / RegDetectionThreshold ------------------------------------------ */
#define LW_SX127X_DETECTOPTIMIZE_MASK    0x07
#define LW_SX127X_DETECTOPTIMIZE_SF7_12  0x03
#define LW_SX127X_DETECTIONTHRESH_SF7_12 0x0A

/* ---- RegInvertIQ / RegInvertIQ2 --------------------------------------------------------- */
#define LW_SX127X_INVERTIQ_RX     0x40 /* 1: receive inverted I and Q */
#define LW_SX127X_INVERTIQ_TX_OFF 0x01 /* 0: transmit inverted, 1: normal */
#define LW_SX127X_INVERTIQ2_ON    0x19
#define LW_SX127X_INVERTIQ2_OFF   0x1D

/* ---- RegDioMapping1: DIO0 in bits 7:6 ---------------------------------------------------- */
#define LW_SX127X_DIO0_MASK    0xC0
#define LW_SX127X_DIO0_RXDONE  0x00
#define LW_SX127X_DIO0_TXDONE  0x40
#define LW_SX127X_DIO0_CADDONE 0x80

#endif
