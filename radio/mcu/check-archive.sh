#!/bin/sh
# Checks the STM32WLE5 radio archive defines the SX126x driver and the sub-GHz transport.
# Usage: check-archive.sh NM ARCHIVE; an empty NM (no cross toolchain) skips with 77.
# SPDX-License-Identifier: Apache-2.0
nm=$1
archive=$2
[ -n "$nm" ] || { echo "no arm-none-eabi toolchain: skipped"; exit 77; }
[ -f "$archive" ] || { echo "missing $archive"; exit 1; }
syms=$("$nm" "$archive") || exit 1
for s in lw_sx126x_driver lw_stm32wl_subghz_init lw_chip_cad_wait lw_airtime_us; do
    echo "$syms" | grep -Eq " [TRD] $s\$" || { echo "$s not defined in $archive"; exit 1; }
done
echo "ok: $archive"
