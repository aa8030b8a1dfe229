/* SPDX-License-Identifier: Apache-2.0 */
/* End-of-run summary of the simulator: one human line and the same figures as JSON. */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "sim_run.h"

/* "lorawatch-sim: scenario NAME: N frames from M nodes (ALARM A) over X min virtual in Y s". */
void sim_report_print(const struct sim_stats *st, FILE *out);
/* Write the summary JSON to path ("-" = stdout). Returns LW_OK or LW_ERR_IO / LW_ERR_NOMEM
 * with a message in err. */
int sim_report_write_json(const struct sim_stats *st, const char *path, char *err, size_t errlen);
/* The JSON text (caller frees), or NULL when out of memory. */
char *sim_report_json(const struct sim_stats *st);

#endif
