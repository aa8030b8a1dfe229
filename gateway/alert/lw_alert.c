/* SPDX-License-Identifier: Apache-2.0 */
/* Alert topics and payloads. */
#include "lw_alert.h"

#include "lw_rules.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const level_zh[] = {"蓝色", "黄色", "橙色", "红色"};
static const char *const level_en[] = {"BLUE", "YELLOW", "ORANGE", "RED"};
static const char *const hazard_zh[] = {"内涝", "火灾", "燃气", "设备故障"};
static const char *const metric_zh[] = {"水深",         "烟感报警", "烟雾浓度", "可燃气体浓度",
                                        "一氧化碳浓度", "温度",     "电池电压"};
static const char *const metric_en[] = {"water depth",     "smoke alarm",     "smoke obscuration",
                                        "combustible gas", "carbon monoxide", "temperature",
                                        "battery"};

void lw_alert_topic(char *out, size_t cap, const char *site, int64_t id)
{
    snprintf(out, cap, "lorawatch/%s/alert/%lld", site, (long long)id);
}

void lw_format_time(int64_t unix_ms, char *out, size_t cap)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    char z[8];
    localtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    strftime(z, sizeof(z), "%z", &tm); /* +0800 -> +08:00 */
    size_t l = strlen(out);
    if (strlen(z) == 5 && l + 7 <= cap)
        snprintf(out + l, cap - l, "%.3s:%.2s", z, z + 3);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static bool ascii_alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Append part to out; a space only between two Latin letters or digits ("B8 garage"), never next
 * to a Chinese character. */
static void join_zh(char *out, size_t cap, const char *part)
{
    size_t l = strlen(out);
    if (!part[0] || l + 1 >= cap)
        return;
    bool space = l && ascii_alnum(out[l - 1]) && (ascii_alnum(part[0]) || part[0] == '-');
    snprintf(out + l, cap - l, "%s%s", space ? " " : "", part);
}

/* Where the node is, in the words the duty worker uses: its place text, else its building, floor
 * and unit said as people say them (7号楼地下1层车库 / block 7, floor B1, garage), else its
 * label or id. */
static void place_text(const struct lw_node_conf *n, bool zh, char *out, size_t cap)
{
    if (n->place[0]) {
        snprintf(out, cap, "%s", n->place);
        return;
    }
    if (!n->building[0]) {
        snprintf(out, cap, "%s", n->label[0] ? n->label : n->name);
        return;
    }
    const char *b = n->building, *f = n->floor, *u = n->unit;
    if (!zh) {
        snprintf(out, cap, "%s%s%s%s%s%s", all_digits(b) ? "block " : "", b, f[0] ? ", floor " : "",
                 f, u[0] ? ", " : "", u);
        return;
    }
    char part[LW_NAME_MAX + 16];
    out[0] = 0;
    snprintf(part, sizeof(part), "%s%s", b, all_digits(b) ? "号楼" : "");
    join_zh(out, cap, part);
    /* Floors: 3 -> 3层; B1 or -1 (below ground) -> 地下1层; anything else as written. */
    bool below = (f[0] == 'B' || f[0] == 'b' || f[0] == '-') && all_digits(f + 1);
    if (below)
        snprintf(part, sizeof(part), "地下%s层", f + 1);
    else
        snprintf(part, sizeof(part), "%s%s", f, all_digits(f) ? "层" : "");
    join_zh(out, cap, part);
    join_zh(out, cap, u);
}

static void duration_text(uint64_t ms, bool zh, char *out, size_t cap)
{
    if (ms >= 3600000 && ms % 3600000 == 0)
        snprintf(out, cap, zh ? "%llu小时" : "%llu h", (unsigned long long)(ms / 3600000));
    else if (ms >= 60000 && ms % 60000 == 0)
        snprintf(out, cap, zh ? "%llu分钟" : "%llu min", (unsigned long long)(ms / 60000));
    else
        snprintf(out, cap, zh ? "%llu秒" : "%llu s", (unsigned long long)(ms / 1000));
}

void lw_alert_relay_rule(struct lw_rule_conf *out, uint64_t timeout_ms)
{
    *out = (struct lw_rule_conf){
        .name = "relay-silent",
        .hazard = LW_HAZARD_TROUBLE,
        .type = LW_RULE_SILENCE,
        .level = LW_LEVEL_YELLOW,
        .timeout_ms = timeout_ms,
    };
}

void lw_alert_test_rule(struct lw_rule_conf *out, enum lw_node_kind kind)
{
    static const enum lw_metric metric[LW_KIND_COUNT] = {
        [LW_KIND_WATER] = LW_METRIC_WATER, [LW_KIND_SMOKE] = LW_METRIC_SMOKE,
        [LW_KIND_GAS] = LW_METRIC_GAS,     [LW_KIND_CO] = LW_METRIC_CO,
        [LW_KIND_MULTI] = LW_METRIC_SMOKE,
    };
    static const enum lw_hazard hazard[LW_KIND_COUNT] = {
        [LW_KIND_WATER] = LW_HAZARD_FLOOD, [LW_KIND_SMOKE] = LW_HAZARD_FIRE,
        [LW_KIND_GAS] = LW_HAZARD_GAS,     [LW_KIND_CO] = LW_HAZARD_GAS,
        [LW_KIND_MULTI] = LW_HAZARD_FIRE,
    };
    int k = kind < LW_KIND_COUNT ? (int)kind : LW_KIND_MULTI;
    *out = (struct lw_rule_conf){
        .name = "test-alarm",
        .hazard = hazard[k],
        .metric = metric[k],
        .level = LW_LEVEL_BLUE,
    };
}

void lw_alert_storage_rule(struct lw_rule_conf *out)
{
    *out = (struct lw_rule_conf){
        .name = "storage",
        .hazard = LW_HAZARD_TROUBLE,
        .type = LW_RULE_STORAGE,
        .level = LW_LEVEL_RED,
        .threshold = 1,
    };
}

const char *lw_alert_state_name(enum lw_alert_state s)
{
    static const char *const names[] = {"raised", "cleared", "closed", "updated"};
    return s <= LW_ALERT_UPDATED ? names[s] : "?";
}

/* A value as people read it: whole numbers for millimetres, millivolts, ppm and seconds, one
 * decimal otherwise (never 77.6667), the unit after it (in Chinese without a space, 天 for days).
 */
static void value_text(double v, const char *unit, bool zh, char *out, size_t cap)
{
    bool whole = !unit[0] || !strcmp(unit, "mm") || !strcmp(unit, "mV") || !strcmp(unit, "ppm") ||
                 !strcmp(unit, "s");
    char n[32];
    if (whole || fabs(v - round(v)) < 0.05)
        snprintf(n, sizeof(n), "%.0f", v);
    else
        snprintf(n, sizeof(n), "%.1f", v);
    if (!strcmp(n, "-0"))
        snprintf(n, sizeof(n), "0");
    if (zh && !strcmp(unit, "d"))
        unit = "天";
    snprintf(out, cap, zh || !unit[0] ? "%s%s" : "%s %s", n, unit);
}

/* The warning's name. Chinese puts the hazard first, as the weather service does (暴雨蓝色预警:
 * 内涝蓝色预警); a fire is not graded by colour but is 火警, or 确认火警 when a second detector
 * agreed (the alert was raised above its rule's level by the coincidence). */
static void title_text(const struct lw_alert_info *a, bool zh, char *out, size_t cap)
{
    enum lw_hazard h = a->rule->hazard;
    bool confirmed = a->level > a->rule->level;
    if (a->test)
        snprintf(out, cap, zh ? "%s测试报警" : "Test alarm (%s)",
                 zh ? hazard_zh[h] : lw_hazard_name(h));
    else if (h == LW_HAZARD_FIRE)
        snprintf(out, cap, "%s",
                 zh ? (confirmed ? "确认火警" : "火警")
                    : (confirmed ? "CONFIRMED FIRE" : "FIRE ALARM"));
    else if (zh)
        snprintf(out, cap, "%s%s预警", hazard_zh[h], level_zh[a->level]);
    else
        snprintf(out, cap, "%s %s warning", level_en[a->level],
                 h == LW_HAZARD_FLOOD ? "flood"
                 : h == LW_HAZARD_GAS ? "gas"
                                      : "trouble");
}

/* The place in the reader's language: a place text written "中文 / English" (a slash after the
 * Chinese part, English after it) gives each language its part. */
static void where_text(const struct lw_node_conf *n, bool zh, char *out, size_t cap)
{
    char all[LW_TEXT_MAX * 2];
    place_text(n, zh, all, sizeof(all));
    for (char *sl = strchr(all, '/'); sl; sl = strchr(sl + 1, '/')) {
        const char *en = sl + 1;
        while (*en == ' ')
            en++;
        bool chinese_before = false;
        for (const char *c = all; c < sl; c++)
            chinese_before |= (unsigned char)*c >= 0x80;
        if (!chinese_before || !((*en >= 'A' && *en <= 'Z') || (*en >= 'a' && *en <= 'z')))
            continue;
        if (!zh) {
            snprintf(out, cap, "%s", en);
            return;
        }
        const char *end = sl;
        while (end > all && end[-1] == ' ')
            end--;
        snprintf(out, cap, "%.*s", (int)(end - all), all);
        return;
    }
    snprintf(out, cap, "%s", all);
}

/* What to do, after a raise: fire and gas at once, with the usual advice; nothing for the rest
 * (the level says how urgent). */
static const char *action_text(const struct lw_alert_info *a, bool zh)
{
    const struct lw_rule_conf *r = a->rule;
    bool confirmed = a->level > r->level;
    if (r->hazard == LW_HAZARD_FIRE && confirmed)
        return zh ? (r->coincidence == LW_COINC_ZONE
                         ? "同一区域另一探测器也在报警，请立即到场处置，必要时拨打119。"
                         : "同楼另一探测器也在报警，请立即到场处置，必要时拨打119。")
                  : " A second detector nearby agrees: go now, call 119 if needed.";
    if (r->hazard == LW_HAZARD_FIRE)
        return zh ? "请立即到场确认。" : " Go and check now.";
    if (r->hazard == LW_HAZARD_GAS)
        return zh ? "请立即到场检查，切勿开关电器或使用明火。"
                  : " Check now; do not switch anything electric or use open flames.";
    return "";
}

/* Rules that watch no value of the metric itself: silence, flags, the gateway's radio, storage.
 * ti: the title; "解除" / "All clear" go before it when cleared. */
static bool sentence_state(const struct lw_alert_info *a, bool zh, const char *ti,
                           const char *where, char *out, size_t cap)
{
    const struct lw_rule_conf *r = a->rule;
    bool cleared = a->state == LW_ALERT_CLEARED;
    char t[32];
    switch (r->type) {
    case LW_RULE_SILENCE:
        duration_text(r->timeout_ms, zh, t, sizeof(t));
        if (cleared && a->value >= 1) { /* value: how long the silence that ended lasted */
            duration_text((uint64_t)a->value * 1000, zh, t, sizeof(t));
            snprintf(out, cap,
                     zh ? "解除%s：%s，节点已恢复通信（此前%s未上报）。"
                        : "All clear (%s): %s: the node is heard again after %s silent.",
                     ti, where, t);
        } else if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s：%s，节点已恢复通信。"
                        : "All clear (%s): %s: the node is heard again.",
                     ti, where);
        else
            snprintf(out, cap,
                     zh ? "%s：%s，节点超过%s未上报，请检查设备。"
                        : "%s: %s: node silent for more than %s, check it.",
                     ti, where, t);
        return true;
    case LW_RULE_FLAG: {
        static const char *const what_zh[] = {"", "传感器故障", "设备被拆动或打开", "电池电量低"};
        static const char *const what_en[] = {"", "sensor fault", "tamper (opened or removed)",
                                              "low battery"};
        int f = r->flag <= LW_FLAGBIT_LOW_BATTERY ? (int)r->flag : 0;
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s：%s，不再报告%s。" : "All clear (%s): %s: %s no longer reported.",
                     ti, where, zh ? what_zh[f] : what_en[f]);
        else
            snprintf(out, cap,
                     zh ? "%s：%s，报告%s，请检查设备。" : "%s: %s: node reports %s, check it.", ti,
                     where, zh ? what_zh[f] : what_en[f]);
        return true;
    }
    case LW_RULE_RADIO_FAULT:
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s：网关无线电已恢复接收。"
                        : "All clear (%s): the gateway's radio receives again.",
                     ti);
        else
            snprintf(out, cap,
                     zh ? "%s：网关无线电故障，无法接收传感器数据，请立即检修。"
                        : "%s: gateway radio fault: no sensor frames are received, repair it "
                          "now.",
                     ti);
        return true;
    case LW_RULE_STORAGE: {
        /* value: enum lw_store_trouble (1 full, 2 I/O error, 3 WAL pinned by a reader). */
        static const char *const why_zh[] = {"", "磁盘已满", "磁盘读写错误", "数据库日志无法回收"};
        static const char *const why_en[] = {"", "the disk is full", "the disk fails",
                                             "a reader keeps the database log from shrinking"};
        int w = a->value >= 1 && a->value <= 3 ? (int)a->value : 1;
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s：网关数据库恢复写入，报警记录已补记。"
                        : "All clear (%s): the gateway's database takes writes again; the "
                          "alerts are journalled.",
                     ti);
        else
            snprintf(out, cap,
                     zh ? "%s：网关数据库无法写入（%s），报警仍在发送但未记录，传感器读数丢弃，"
                          "请立即清理空间或检修。"
                        : "%s: the gateway's database cannot be written (%s): alerts are "
                          "still sent but not journalled, readings are dropped; free space or "
                          "repair it now.",
                     ti, zh ? why_zh[w] : why_en[w]);
        return true;
    }
    default:
        return false;
    }
}

/* A test alarm tests the path, not the hazard: it quotes no reading, so its end cannot read as
 * the water having gone (or risen). */
static void sentence_test(const struct lw_alert_info *a, bool zh, const char *ti, const char *where,
                          char *out, size_t cap)
{
    bool cleared = a->state == LW_ALERT_CLEARED;
    if (zh)
        snprintf(out, cap,
                 cleared ? "%s结束：%s，该节点报警通路测试已结束。"
                         : "%s：%s，正在测试该节点从网关到手机的报警通路。",
                 ti, where);
    else
        snprintf(out, cap,
                 cleared ? "%s ended: %s: the test of this node's alarm path is over."
                         : "%s: %s: testing this node's alarm path from the gateway to the "
                           "phones.",
                 ti, where);
}

/* The quantity compared: the metric, or a statistic of it over its window. */
static void quantity_text(const struct lw_rule_conf *r, bool zh, char *out, size_t cap)
{
    char w[32];
    duration_text(r->window_ms, zh, w, sizeof(w));
    const char *m = zh ? metric_zh[r->metric] : metric_en[r->metric];
    switch (r->statistic) {
    case LW_STAT_MEAN:
        if (zh)
            snprintf(out, cap, "%s平均%s", w, m);
        else
            snprintf(out, cap, "%s averaged over %s", m, w);
        break;
    case LW_STAT_RISE:
        snprintf(out, cap, zh ? "%s上涨速度" : "rise of %s", m);
        break;
    case LW_STAT_TWA:
        snprintf(out, cap, zh ? "%s时间加权值" : "time-weighted %s", m);
        break;
    case LW_STAT_DAYS_LEFT:
        snprintf(out, cap, zh ? "%s预计可用天数" : "%s days left", m);
        break;
    default:
        snprintf(out, cap, "%s", m);
    }
}

/* The water still rising under an open alert: the new peak, the last message's value, and a
 * higher level's line when it has crossed one. */
static void sentence_update(const struct lw_alert_info *a, bool zh, const char *ti,
                            const char *where, char *out, size_t cap)
{
    const struct lw_rule_conf *r = a->rule;
    const char *unit = lw_rule_value_unit(r);
    char q[96], v[32], prev[32], at[32], line[96] = "";
    quantity_text(r, zh, q, sizeof(q));
    value_text(a->value, unit, zh, v, sizeof(v));
    value_text(a->previous, unit, zh, prev, sizeof(prev));
    value_text(a->reached_at, unit, zh, at, sizeof(at));
    if (a->reached > a->level)
        snprintf(line, sizeof(line), zh ? "，已超过%s线（%s）" : ", now above the %s level (%s)",
                 zh ? level_zh[a->reached] : level_en[a->reached], at);
    if (zh)
        snprintf(out, cap, "%s更新：%s，%s升至%s（上次通报%s）%s，仍在上涨。", ti, where, q, v,
                 prev, line);
    else
        snprintf(out, cap, "%s update: %s: %s up to %s (%s at the last message)%s; still rising.",
                 ti, where, q, v, prev, line);
}

static void sentence_body(const struct lw_alert_info *a, bool zh, char *out, size_t cap)
{
    const struct lw_rule_conf *r = a->rule;
    char where[LW_TEXT_MAX * 2], ti[64], held[32], q[96], v[32], thr[32], clr[32];
    where_text(a->node, zh, where, sizeof(where));
    title_text(a, zh, ti, sizeof(ti));
    if (a->test && a->state != LW_ALERT_CLOSED) {
        sentence_test(a, zh, ti, where, out, cap);
        return;
    }
    if (a->state == LW_ALERT_CLOSED) {
        snprintf(out, cap,
                 zh ? "撤销%s：%s（该规则或节点已从配置中移除）。"
                    : "Withdrawn (%s): %s: its rule or node was removed from the configuration.",
                 ti, where);
        return;
    }
    if (a->state == LW_ALERT_UPDATED) {
        sentence_update(a, zh, ti, where, out, cap);
        return;
    }
    if (sentence_state(a, zh, ti, where, out, cap))
        return;
    bool cleared = a->state == LW_ALERT_CLEARED;
    if (r->metric == LW_METRIC_SMOKE) { /* a detector's alarm output: on or off, no number */
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s：%s，烟感探测器已恢复正常。"
                        : "All clear (%s): %s: smoke detector back to normal.",
                     ti, where);
        else
            snprintf(out, cap,
                     zh ? "%s：%s，烟感探测器报警，%s" : "%s: %s: smoke detector in alarm.%s", ti,
                     where, action_text(a, zh));
        return;
    }
    const char *unit = lw_rule_value_unit(r);
    quantity_text(r, zh, q, sizeof(q));
    value_text(a->value, unit, zh, v, sizeof(v));
    value_text(lw_rule_value_threshold(r, false), unit, zh, thr, sizeof(thr));
    value_text(lw_rule_value_threshold(r, true), unit, zh, clr, sizeof(clr));
    if (cleared) {
        if (zh)
            snprintf(out, cap, "解除%s：%s，%s已%s至%s（解除线%s）。", ti, where, q,
                     r->below ? "回升" : "回落", v, clr);
        else
            snprintf(out, cap, "All clear (%s): %s: %s back to %s (clear level %s).", ti, where, q,
                     v, clr);
        return;
    }
    duration_text(r->persistence_ms, zh, held, sizeof(held));
    char lasting[64] = "";
    if (r->persistence_ms)
        snprintf(lasting, sizeof(lasting), zh ? "（已持续%s）" : " for %s", held);
    if (zh)
        snprintf(out, cap, "%s：%s，%s%s，%s%s%s。%s", ti, where, q, v, r->below ? "低于" : "超过",
                 thr, lasting, action_text(a, zh));
    else
        snprintf(out, cap, "%s: %s: %s %s, %s %s%s.%s", ti, where, q, v,
                 r->below ? "below" : "above", thr, lasting, action_text(a, zh));
}

/* A test alarm says so first, in both languages, so nobody mistakes it for a real one. An alert
 * raised on depth the filter could not confirm says so last: whoever goes knows what to look
 * for. */
static void sentence(const struct lw_alert_info *a, bool zh, char *out, size_t cap)
{
    const char *tag = !a->test ? "" : zh ? "【测试，无需出动】" : "[TEST - no action needed] ";
    size_t n = strlen(tag);
    snprintf(out, cap, "%s", tag);
    if (n < cap)
        sentence_body(a, zh, out + n, cap - n);
    n = strlen(out);
    if (a->unconfirmed && a->state == LW_ALERT_RAISED && n < cap)
        snprintf(out + n, cap - n, "%s",
                 zh ? "未经确认：传感器下方可能有遮挡物（如停放的车辆），请到场查看。"
                    : " Unconfirmed: possibly an obstruction under the sensor (a parked car), "
                      "go and look.");
}

/* The notification's title: the warning's name and where (the gateway's own alerts: its site).
 * Duty messages after the first notice are built on it, so they need not repeat the raise. */
static void headline(const struct lw_alert_info *a, bool zh, char *out, size_t cap)
{
    char ti[64], where[LW_TEXT_MAX * 2];
    title_text(a, zh, ti, sizeof(ti));
    where_text(a->node, zh, where, sizeof(where));
    const char *tag = !a->test ? "" : zh ? "【测试】" : "[TEST] ";
    const char *state = a->state == LW_ALERT_UPDATED   ? (zh ? "更新·" : "Update: ")
                        : a->state == LW_ALERT_CLEARED ? (zh ? "解除" : "All clear: ")
                        : a->state == LW_ALERT_CLOSED  ? (zh ? "撤销" : "Withdrawn: ")
                                                       : "";
    snprintf(out, cap, zh ? "%s%s%s：%s" : "%s%s%s: %s", tag, state, ti, where);
}

void lw_alert_sentence_en(const struct lw_alert_info *a, char *out, size_t cap)
{
    sentence(a, false, out, cap);
}

char *lw_alert_json(const struct lw_alert_info *a)
{
    const struct lw_rule_conf *r = a->rule;
    const struct lw_node_conf *n = a->node;
    char buf[LW_TEXT_MAX * 3], eui[17], addr[8];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)a->id);
    cJSON_AddStringToObject(o, "site", a->site);
    cJSON_AddStringToObject(o, "state", lw_alert_state_name(a->state));
    cJSON_AddStringToObject(o, "level", lw_level_name(a->level));
    cJSON_AddStringToObject(o, "hazard", lw_hazard_name(r->hazard));
    cJSON_AddStringToObject(o, "rule", r->name);
    cJSON_AddBoolToObject(o, "test", a->test);
    cJSON_AddBoolToObject(o, "unconfirmed", a->unconfirmed);
    if (a->incident > 0)
        cJSON_AddNumberToObject(o, "incident", (double)a->incident);

    cJSON *node = cJSON_AddObjectToObject(o, "node");
    for (int b = 0; b < 8; b++)
        snprintf(eui + 2 * b, 3, "%02X", n->eui[b]);
    snprintf(addr, sizeof(addr), "0x%04X", n->address);
    cJSON_AddStringToObject(node, "name", n->name);
    cJSON_AddStringToObject(node, "address", addr);
    cJSON_AddStringToObject(node, "eui", eui);
    cJSON_AddStringToObject(node, "kind", lw_kind_name(n->kind));
    cJSON_AddStringToObject(node, "label", n->label);

    lw_place_json(o, n);

    /* value, threshold and clear in one quantity and unit: the statistic's for threshold
     * rules, seconds for silence, 1/0 for a flag or the radio. */
    cJSON_AddStringToObject(o, "metric", lw_rule_value_metric(r));
    cJSON_AddStringToObject(o, "unit", lw_rule_value_unit(r));
    cJSON_AddStringToObject(o, "type", lw_rule_type_name(r->type));
    if (r->type == LW_RULE_THRESHOLD)
        cJSON_AddStringToObject(o, "statistic", lw_statistic_name(r->statistic));
    if (r->type == LW_RULE_FLAG)
        cJSON_AddStringToObject(o, "flag", lw_rule_flag_name(r->flag));
    cJSON_AddNumberToObject(o, "value", a->value);
    if (a->state == LW_ALERT_UPDATED) {
        cJSON_AddNumberToObject(o, "previous", a->previous);
        cJSON_AddStringToObject(o, "reached", lw_level_name(a->reached));
    }
    cJSON_AddNumberToObject(o, "threshold", lw_rule_value_threshold(r, false));
    cJSON_AddNumberToObject(o, "clear", lw_rule_value_threshold(r, true));
    cJSON_AddStringToObject(o, "direction", r->below ? "below" : "above");
    cJSON_AddNumberToObject(o, "persistence_s", (double)r->persistence_ms / 1000.0);
    lw_format_time(a->raised_ms, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "raised", buf);
    lw_format_time(a->t_ms, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "time", buf);
    cJSON_AddNumberToObject(o, "time_ms", (double)a->t_ms);
    headline(a, true, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "title_zh", buf);
    headline(a, false, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "title_en", buf);
    sentence(a, true, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "text_zh", buf);
    sentence(a, false, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "text_en", buf);

    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}
