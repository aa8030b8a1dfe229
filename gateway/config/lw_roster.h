/* SPDX-License-Identifier: Apache-2.0 */
/* The duty roster: who is told about an alert, at which tier, for which grid sectors, under which
 * MQTT identity. Parsed from the [duty:ID] sections of the daemon's configuration file, so it
 * reloads with the rules, atomically. Pure: no I/O. */
#ifndef LW_ROSTER_H
#define LW_ROSTER_H

#include <stddef.h>
#include <stdio.h>

#define LW_TIERS 3 /* 1 grid worker, 2 community duty room, 3 street emergency office */

struct lw_duty_person {
    char id[48];        /* section id: [duty:ID] */
    char name[160];     /* how people call them, for the journal and the report */
    unsigned tier;      /* 1..LW_TIERS */
    char grids[160];    /* tier 1: the grid sectors they answer for (comma-separated, * = all) */
    char mqtt_user[64]; /* MQTT identity: their duty and command topics; default the id */
    char phone[32];     /* free text, for the duty room's list */
    int line;
};

struct lw_roster {
    struct lw_duty_person *p;
    size_t n;
};

/* Parse the [duty:ID] sections of an INI text (name is the file name for messages). Every
 * problem is reported through err as "FILE:LINE: [duty:ID] key: message" and parsing goes on.
 * Returns the number of problems; *out is the roster (possibly empty) when it is 0, else NULL. */
int lw_roster_parse(const char *name, const char *text, size_t len, struct lw_roster **out,
                    void (*err)(void *arg, const char *msg), void *arg);
void lw_roster_free(struct lw_roster *r);

/* The people to tell at tier for an alert in grid sector grid: tier 1 workers covering that
 * sector, or everyone on tier 2 / 3. Fills out (up to cap) and returns how many there are. */
size_t lw_roster_targets(const struct lw_roster *r, unsigned tier, const char *grid,
                         const struct lw_duty_person **out, size_t cap);
/* The person with this MQTT identity, or NULL. */
const struct lw_duty_person *lw_roster_by_user(const struct lw_roster *r, const char *mqtt_user);

/* The keys of a [duty:ID] section, for --help-config. */
void lw_roster_print_keys(FILE *out);

#endif
