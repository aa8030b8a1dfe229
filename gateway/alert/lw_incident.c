/* SPDX-License-Identifier: Apache-2.0 */
/* Incidents as a small array of (incident, hazard, building, alert) memberships: a site has a
 * handful of open alerts at a time, even in a storm. */
#include "lw_incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"

struct member {
    int64_t incident, alert;
    enum lw_hazard hazard;
    char building[LW_NAME_MAX];
};

struct lw_incidents {
    struct member *m;
    size_t n, cap;
};

struct lw_incidents *lw_incidents_new(void)
{
    return calloc(1, sizeof(struct lw_incidents));
}

void lw_incidents_free(struct lw_incidents *inc)
{
    if (!inc)
        return;
    free(inc->m);
    free(inc);
}

int64_t lw_incident_find(const struct lw_incidents *inc, enum lw_hazard hazard,
                         const char *building)
{
    for (size_t i = 0; i < inc->n; i++)
        if (inc->m[i].hazard == hazard && strcmp(inc->m[i].building, building) == 0)
            return inc->m[i].incident;
    return 0;
}

int lw_incident_add(struct lw_incidents *inc, int64_t id, enum lw_hazard hazard,
                    const char *building, int64_t alert)
{
    if (inc->n == inc->cap) {
        size_t cap = inc->cap ? 2 * inc->cap : 16;
        struct member *nm = realloc(inc->m, cap * sizeof(*nm));
        if (!nm)
            return LW_ERR_NOMEM;
        inc->m = nm;
        inc->cap = cap;
    }
    struct member *m = &inc->m[inc->n++];
    m->incident = id;
    m->alert = alert;
    m->hazard = hazard;
    snprintf(m->building, sizeof(m->building), "%s", building);
    return LW_OK;
}

int64_t lw_incident_remove(struct lw_incidents *inc, int64_t alert, bool *closed)
{
    *closed = false;
    for (size_t i = 0; i < inc->n; i++)
        if (inc->m[i].alert == alert) {
            int64_t id = inc->m[i].incident;
            inc->m[i] = inc->m[--inc->n];
            *closed = true;
            for (size_t j = 0; j < inc->n; j++)
                if (inc->m[j].incident == id)
                    *closed = false;
            return id;
        }
    return 0;
}
