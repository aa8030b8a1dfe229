/* SPDX-License-Identifier: Apache-2.0 */
/* Commands duty phones publish on lorawatch/<site>/command/<mqtt_user>: acknowledge an alert,
 * silence alerts for maintenance, lift a silence. Outside input: parsed strictly, every refusal
 * with a reason for the reply topic. Pure: no I/O. */
#ifndef LW_PHONECMD_H
#define LW_PHONECMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LW_PHONECMD_MAX_BYTES 4096 /* larger payloads are refused unread */

enum lw_phonecmd_kind { LW_PHONECMD_ACK, LW_PHONECMD_SILENCE, LW_PHONECMD_UNSILENCE };

struct lw_phonecmd {
    enum lw_phonecmd_kind kind;
    char request_id[64]; /* echoed in the reply ("id"), so a phone matches answers */
    char by[64];         /* optional: who the sender says they are; must be the topic's user */
    int64_t alert;       /* ack */
    char note[160];      /* ack: free text ("on my way") */
    char outcome[16];    /* ack: one of lw_ack_outcomes (lw_model.h), or "" when not given */
    char node[48];       /* silence: node name (or "") */
    char building[48];   /* silence: building (or "") */
    int hazard;          /* silence: enum lw_hazard, -1 any */
    uint64_t for_ms;     /* silence: duration */
    char reason[160];    /* silence: required */
    bool force;          /* silence: needed for fire */
    int64_t silence;     /* unsilence: its id */
};

/* Parse one command payload. Returns LW_OK, or LW_ERR_TOOBIG / LW_ERR_INVAL with the reason in
 * why (request_id is filled when it could be read, so the refusal can still be matched). */
int lw_phonecmd_parse(const char *payload, size_t len, struct lw_phonecmd *out, char *why,
                      size_t whycap);

#endif
