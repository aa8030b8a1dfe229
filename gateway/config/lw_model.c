/* SPDX-License-Identifier: Apache-2.0 */
/* The model's pure helpers: names of its enums (as the configuration and the payloads spell
 * them), place tags and the database path. No parsing and no I/O, so any module may link them. */
#include "lw_model.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

const char *const lw_kind_names[] = {"water", "smoke", "gas", "co", "multi", NULL};
const char *const lw_level_names[] = {"blue", "yellow", "orange", "red", NULL};
const char *const lw_hazard_names[] = {"flood", "fire", "gas", "trouble", NULL};
const char *const lw_metric_names[] = {"water_mm", "smoke",  "obscuration", "gas_lel",
                                       "co_ppm",   "temp_c", "battery_mv",  NULL};
static const char *const metric_units[] = {"mm", "", "%/m", "%LEL", "ppm", "°C", "mV"};

const char *lw_kind_name(enum lw_node_kind k)
{
    return k < LW_KIND_COUNT ? lw_kind_names[k] : "?";
}
int lw_kind_from_name(const char *name)
{
    for (int i = 0; lw_kind_names[i]; i++)
        if (strcmp(lw_kind_names[i], name) == 0)
            return i;
    return -1;
}
const char *lw_node_state_name(enum lw_node_state s)
{
    static const char *const names[] = {"pending", "active", "retired"};
    return s < LW_NODE_STATE_COUNT ? names[s] : "?";
}
const char *lw_level_name(enum lw_level l)
{
    return l < LW_LEVEL_COUNT ? lw_level_names[l] : "?";
}
const char *lw_hazard_name(enum lw_hazard h)
{
    return h < LW_HAZARD_COUNT ? lw_hazard_names[h] : "?";
}
const char *lw_metric_name(enum lw_metric m)
{
    return m < LW_METRIC_COUNT ? lw_metric_names[m] : "?";
}
const char *lw_metric_unit(enum lw_metric m)
{
    return m < LW_METRIC_COUNT ? metric_units[m] : "";
}

void lw_config_db_path(const struct lw_config *cfg, char *out, size_t cap)
{
    if (cfg->database[0])
        snprintf(out, cap, "%s", cfg->database);
    else
        snprintf(out, cap, "%s/lorawatch.db", cfg->state_dir);
}

/* Is tag t (length tl) one of the comma-separated node tags? */
static bool has_tag(const char *node_tags, const char *t, size_t tl)
{
    for (const char *s = node_tags; *s;) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t l = strcspn(s, ", ");
        if (l == tl && strncmp(s, t, tl) == 0)
            return true;
        s += l;
    }
    return false;
}

bool lw_tags_any(const char *node_tags, const char *list)
{
    char buf[LW_TEXT_MAX];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (has_tag(node_tags, t, strlen(t)))
            return true;
    return false;
}

bool lw_tags_match(const char *node_tags, const char *wanted)
{
    char buf[LW_TEXT_MAX];
    snprintf(buf, sizeof(buf), "%s", wanted);
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (!has_tag(node_tags, t, strlen(t)))
            return false;
    return true;
}

/* The one place object of alerts and control replies: tags as an array of words. */
void lw_place_json(struct cJSON *parent, const struct lw_node_conf *n)
{
    cJSON *place = cJSON_AddObjectToObject(parent, "place");
    cJSON_AddStringToObject(place, "building", n->building);
    cJSON_AddStringToObject(place, "floor", n->floor);
    cJSON_AddStringToObject(place, "unit", n->unit);
    cJSON_AddStringToObject(place, "grid", n->grid);
    cJSON_AddStringToObject(place, "text", n->place);
    cJSON *arr = cJSON_AddArrayToObject(place, "tags");
    char buf[LW_TEXT_MAX];
    snprintf(buf, sizeof(buf), "%s", n->tags);
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(t));
}

bool lw_metric_value(enum lw_metric m, const struct lw_reading *r, double *out)
{
    /* A node that reports a sensor fault vouches for none of its sensors' figures: they are not
     * measurements, so no rule, statistic or roll-up takes them (the fault flag rule reports the
     * fault itself). The battery voltage is the node's own supply, not a sensor's. */
    if (m != LW_METRIC_BATTERY && (r->present & LW_R_FLAGS) && (r->flags & LW_FLAG_FAULT)) {
        *out = 0;
        return false;
    }
    switch (m) {
    case LW_METRIC_WATER:
        *out = r->water_mm;
        return r->present & LW_R_WATER;
    case LW_METRIC_SMOKE:
        *out = r->smoke_alarm;
        return r->present & LW_R_SMOKE;
    case LW_METRIC_OBSCURATION:
        *out = r->smoke_obscuration / 100.0;
        return r->present & LW_R_SMOKE;
    case LW_METRIC_GAS:
        *out = r->gas_lel_x10 / 10.0;
        /* A warming-up gas sensor reads nonsense: never alarm on it. */
        return (r->present & LW_R_GAS) &&
               !((r->present & LW_R_FLAGS) && (r->flags & LW_FLAG_WARMUP));
    case LW_METRIC_CO:
        *out = r->co_ppm;
        return r->present & LW_R_CO;
    case LW_METRIC_TEMP:
        *out = r->temp_c_x10 / 10.0;
        return r->present & LW_R_TEMP;
    case LW_METRIC_BATTERY:
        *out = r->battery_mv;
        return r->present & LW_R_BATTERY;
    case LW_METRIC_COUNT:
        break;
    }
    return false;
}

const char *const lw_ack_outcomes[LW_ACK_OUTCOMES] = {"on_my_way", "false_alarm", "test",
                                                       "dealt_with"};

int lw_ack_outcome_index(const char *s)
{
    for (int i = 0; s && i < LW_ACK_OUTCOMES; i++)
        if (strcmp(s, lw_ack_outcomes[i]) == 0)
            return i;
    return -1;
}

const char *lw_ack_outcome_text(const char *s, bool zh)
{
    static const char *const zh_text[] = {"正在赶往现场", "判定为误报", "确认为测试", "已处置完毕"};
    static const char *const en_text[] = {"on the way", "a false alarm", "a test", "dealt with"};
    int i = lw_ack_outcome_index(s);
    return i < 0 ? "" : zh ? zh_text[i] : en_text[i];
}
