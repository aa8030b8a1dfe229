/* SPDX-License-Identifier: Apache-2.0 */
/* Incidents: the open alerts of one hazard in one building, grouped, so a flood that sets off
 * every sensor of a basement is one event for the duty staff and the review. Pure bookkeeping:
 * ids come from the caller's database. */
#ifndef LW_INCIDENT_H
#define LW_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_model.h"

struct lw_incidents;

struct lw_incidents *lw_incidents_new(void);
void lw_incidents_free(struct lw_incidents *inc);

/* The open incident of hazard in building (0: none). Alerts without a building group by site. */
int64_t lw_incident_find(const struct lw_incidents *inc, enum lw_hazard hazard,
                         const char *building);
/* Record alert as part of incident id (opening it if it is new). LW_OK or LW_ERR_NOMEM. */
int lw_incident_add(struct lw_incidents *inc, int64_t id, enum lw_hazard hazard,
                    const char *building, int64_t alert);
/* The alert ended: returns its incident (0: none) and sets *closed when that was the last one. */
int64_t lw_incident_remove(struct lw_incidents *inc, int64_t alert, bool *closed);

#endif
