/* SPDX-License-Identifier: Apache-2.0 */
/* CSV output for the history query and the season report (RFC 4180 fields). */
#ifndef LW_CSV_H
#define LW_CSV_H

#include <stdbool.h>
#include <stdio.h>

/* Writes one field: quoted when it holds a comma, quote or line break, quotes doubled.
 * With text set, a value a spreadsheet would evaluate (leading '=', '+', '@', tab, CR, or '-'
 * not starting a number) gets a leading apostrophe, since ack notes and names come from phones
 * and the review office opens these files in a spreadsheet. Numbers are written unchanged. */
void lw_csv_field(FILE *out, const char *t, bool text);

#endif
