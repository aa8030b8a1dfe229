/* SPDX-License-Identifier: Apache-2.0 */
/* Prometheus text exposition format, read strictly: the daemon writes its metrics as a
 * node-exporter textfile and `lorawatch status` reads them back. Pure: no I/O. */
#ifndef LW_PROM_H
#define LW_PROM_H

#include <stddef.h>

struct lw_prom_sample {
    char name[96];    /* metric name */
    char labels[160]; /* raw text between { and }, "" when none */
    double value;
};

/* Called per sample; return 0 to go on, non-zero to stop (returned by lw_prom_parse). */
typedef int (*lw_prom_fn)(void *arg, const struct lw_prom_sample *s);

/* Parse text (len bytes). Comment (#) and blank lines are skipped. Returns 0 after the last line,
 * the callback's non-zero value, or LW_ERR_INVAL with *bad_line set to the 1-based line of the
 * first malformed line (bad name, unclosed or malformed labels, missing or bad value, junk). */
int lw_prom_parse(const char *text, size_t len, lw_prom_fn fn, void *arg, int *bad_line);

/* Value of label key in a sample's raw label text; copies it into out (cap bytes) and returns 1,
 * or returns 0 when absent. */
int lw_prom_label(const char *labels, const char *key, char *out, size_t cap);

#endif
