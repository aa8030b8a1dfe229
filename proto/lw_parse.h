/* SPDX-License-Identifier: Apache-2.0 */
/* Strict parsers for configuration and command-line values (pure functions, no I/O): each
 * rejects trailing junk, empty strings and out-of-range values instead of guessing. */
#ifndef LW_PARSE_H
#define LW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Unsigned integer, decimal or 0x-prefixed hex, in [min, max].
 * Returns LW_OK, LW_ERR_INVAL (not a number) or LW_ERR_RANGE. */
int lw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int lw_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
/* Signed decimal integer in [min, max]. */
int lw_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Finite decimal number in [min, max]. */
int lw_parse_double(const char *s, double min, double max, double *out);
/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int lw_parse_bool(const char *s, bool *out);
/* Duration with unit ms, s, m, h or d; a bare number means seconds ("90", "250ms", "5m").
 * Fractions are allowed ("1.5h"). Result in milliseconds, at most max_ms. */
int lw_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out);
/* Exactly n bytes as 2n hex digits; ':' or '-' between byte pairs allowed (EUIs as printed on
 * labels). Returns LW_ERR_INVAL on any other character or length. */
int lw_parse_hex(const char *s, uint8_t *out, size_t n);
/* "host:port" or "[v6]:port"; host copied into host (hostcap bytes). Port 1..65535. */
int lw_parse_hostport(const char *s, char *host, size_t hostcap, uint16_t *port);
/* ISO 8601 date-time with seconds and a zone ("2026-07-15T02:00:00+08:00", "...Z"), or
 * "@<unix seconds>". Result in Unix milliseconds. */
int lw_parse_time(const char *s, int64_t *unix_ms);

/* Text a person typed (a place, a note, a reason): shorter than cap bytes and free of control
 * characters, so it can go into a log line, a journal row or a topic payload as it is. */
bool lw_text_ok(const char *s, size_t cap);
/* True when all n bytes are zero (a key that is no key); time independent of the contents. */
bool lw_all_zero(const uint8_t *b, size_t n);

/* Formatting helpers used in messages: hex string of n bytes (out needs 2n+1). */
void lw_format_hex(const uint8_t *in, size_t n, char *out);

#endif
