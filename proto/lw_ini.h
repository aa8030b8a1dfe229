/* SPDX-License-Identifier: Apache-2.0 */
/* INI parsing with exact line numbers, over text already in memory (the caller reads the file),
 * built on inih so that every bad line can be reported as file:line and parsing goes on. */
#ifndef LW_INI_H
#define LW_INI_H

#include <stddef.h>

/* Called for each name=value pair. lineno is 1-based. Return 0 when the pair is accepted, or a
 * negative lw_err when it is rejected (the handler reports why; parsing continues).
 * An indented continuation line calls the handler again with the same section and name. */
typedef int (*lw_ini_pair_fn)(void *user, int lineno, const char *section, const char *name,
                              const char *value);
/* Called for lines that are not INI syntax (no '=', unclosed '[', too long). */
typedef void (*lw_ini_syntax_fn)(void *user, int lineno, const char *why);

/* Called for each [section] header with its line, before any of its pairs; lets callers report
 * repeated or unknown sections (even empty ones) at the header. Return 0 to accept, a negative
 * lw_err to count the line as rejected (the callback reports why). */
typedef int (*lw_ini_section_fn)(void *user, int lineno, const char *section);

/* Parse text (len bytes, need not be NUL-terminated). Returns the number of rejected lines
 * (syntax errors plus handler rejections): 0 means the whole text was accepted. */
int lw_ini_parse(const char *text, size_t len, lw_ini_pair_fn pair, lw_ini_syntax_fn syntax,
                 void *user);
/* The same with a section callback (may be NULL). Pairs before any header have section "". */
int lw_ini_parse_sections(const char *text, size_t len, lw_ini_pair_fn pair,
                          lw_ini_syntax_fn syntax, lw_ini_section_fn section, void *user);

/* Longest section name inih keeps (its buffer is 50 bytes); longer names are rejected. */
#define LW_INI_MAX_SECTION 49

/* Longest line accepted, excluding the line terminator. */
#define LW_INI_MAX_LINE 190

#endif
