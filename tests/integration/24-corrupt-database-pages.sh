#!/usr/bin/env bash
# Fault: a lorawatch database with garbage over pages in the middle (header, application id and
# schema intact, so opening it and reading the header succeed). lorawatchd must refuse to start
# with a message saying what to do, exit non-zero, the file unchanged (as 23 for other damage).
#
# lorawatchd runs PRAGMA quick_check in lw_store_open and refuses a damaged file untouched.
# SPDX-License-Identifier: Apache-2.0
LW_CORRUPT_VARIANTS=garbage-middle exec "$(dirname "$0")/23-corrupt-database.sh"
