/* SPDX-License-Identifier: Apache-2.0 */
/* Command payloads: one JSON object, known fields only, each checked for type and range. */
#include "lw_phonecmd.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_model.h"
#include "lw_parse.h"

/* Copy an optional string field; false (with why) when present but not acceptable text. */
static bool take_str(const cJSON *o, const char *name, char *dst, size_t cap, char *why,
                     size_t whycap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!v)
        return true;
    if (!cJSON_IsString(v) || !lw_text_ok(v->valuestring, cap)) {
        snprintf(why, whycap, "\"%s\" must be text of at most %zu bytes", name, cap - 1);
        return false;
    }
    snprintf(dst, cap, "%s", v->valuestring);
    return true;
}

static bool take_id(const cJSON *o, const char *name, int64_t *out, char *why, size_t whycap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > 9007199254740991.0 ||
        v->valuedouble != (double)(int64_t)v->valuedouble) {
        snprintf(why, whycap, "\"%s\" must be a positive whole number", name);
        return false;
    }
    *out = (int64_t)v->valuedouble;
    return true;
}

int lw_phonecmd_parse(const char *payload, size_t len, struct lw_phonecmd *out, char *why,
                      size_t whycap)
{
    static const char *const allowed[] = {"cmd",     "id",    "by",       "alert",  "note",
                                          "outcome", "node",  "building", "hazard", "for",
                                          "reason",  "force", "silence"};
    memset(out, 0, sizeof(*out));
    out->hazard = -1;
    if (len > LW_PHONECMD_MAX_BYTES) {
        snprintf(why, whycap, "command larger than %d bytes", LW_PHONECMD_MAX_BYTES);
        return LW_ERR_TOOBIG;
    }
    cJSON *o = cJSON_ParseWithLength(payload, len);
    int rc = LW_ERR_INVAL;
    if (!cJSON_IsObject(o)) {
        snprintf(why, whycap, "not a JSON object");
        goto done;
    }
    if (!take_str(o, "id", out->request_id, sizeof(out->request_id), why, whycap))
        goto done;
    const cJSON *f;
    cJSON_ArrayForEach(f, o)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !known; i++)
            known = f->string && strcmp(f->string, allowed[i]) == 0;
        if (!known) {
            snprintf(why, whycap, "unknown field \"%.40s\"", f->string ? f->string : "");
            goto done;
        }
    }
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "cmd");
    if (!cJSON_IsString(cmd)) {
        snprintf(why, whycap, "\"cmd\" must be \"ack\", \"silence\" or \"unsilence\"");
        goto done;
    }
    if (!take_str(o, "by", out->by, sizeof(out->by), why, whycap))
        goto done;
    if (strcmp(cmd->valuestring, "ack") == 0) {
        out->kind = LW_PHONECMD_ACK;
        if (!take_id(o, "alert", &out->alert, why, whycap) ||
            !take_str(o, "note", out->note, sizeof(out->note), why, whycap) ||
            !take_str(o, "outcome", out->outcome, sizeof(out->outcome), why, whycap))
            goto done;
        if (out->outcome[0] && lw_ack_outcome_index(out->outcome) < 0) {
            snprintf(why, whycap,
                     "\"outcome\" must be on_my_way, false_alarm, test or dealt_with, not "
                     "\"%s\"",
                     out->outcome);
            goto done;
        }
    } else if (strcmp(cmd->valuestring, "silence") == 0) {
        out->kind = LW_PHONECMD_SILENCE;
        char hazard[16] = "", dur[32] = "";
        if (!take_str(o, "node", out->node, sizeof(out->node), why, whycap) ||
            !take_str(o, "building", out->building, sizeof(out->building), why, whycap) ||
            !take_str(o, "hazard", hazard, sizeof(hazard), why, whycap) ||
            !take_str(o, "for", dur, sizeof(dur), why, whycap) ||
            !take_str(o, "reason", out->reason, sizeof(out->reason), why, whycap))
            goto done;
        if (!out->node[0] && !out->building[0]) {
            snprintf(why, whycap, "a silence needs \"node\" or \"building\"");
            goto done;
        }
        if (!out->reason[0]) {
            snprintf(why, whycap, "a silence needs a \"reason\"");
            goto done;
        }
        if (hazard[0]) {
            for (int h = 0; h < LW_HAZARD_COUNT; h++)
                if (strcmp(hazard, lw_hazard_name((enum lw_hazard)h)) == 0)
                    out->hazard = h;
            if (out->hazard < 0) {
                snprintf(why, whycap, "\"hazard\" must be flood, fire, gas or trouble");
                goto done;
            }
        }
        if (lw_parse_duration_ms(dur, 7ULL * 86400 * 1000, &out->for_ms) != LW_OK ||
            out->for_ms < 1000) {
            snprintf(why, whycap, "\"for\" must be a duration such as \"30m\" or \"2h\"");
            goto done;
        }
        const cJSON *force = cJSON_GetObjectItemCaseSensitive(o, "force");
        if (force && !cJSON_IsBool(force)) {
            snprintf(why, whycap, "\"force\" must be true or false");
            goto done;
        }
        out->force = cJSON_IsTrue(force);
    } else if (strcmp(cmd->valuestring, "unsilence") == 0) {
        out->kind = LW_PHONECMD_UNSILENCE;
        if (!take_id(o, "silence", &out->silence, why, whycap))
            goto done;
    } else {
        snprintf(why, whycap, "\"cmd\" must be \"ack\", \"silence\" or \"unsilence\"");
        goto done;
    }
    rc = LW_OK;
done:
    cJSON_Delete(o);
    return rc;
}
