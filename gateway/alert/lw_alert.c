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
static const char *const metric_zh[] = {"水深",     "烟感报警", "烟雾浓度", "可燃气体",
                                        "一氧化碳", "温度",     "电池电压"};
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

/* Where the node is, in the words the duty worker uses: its place text, else its building,
 * floor and unit, else its label or id. */
static void place_text(const struct lw_node_conf *n, char *out, size_t cap)
{
    if (n->place[0])
        snprintf(out, cap, "%s", n->place);
    else if (n->building[0]) /* the parts given, without blanks for the missing ones */
        snprintf(out, cap, "%s%s%s%s%s", n->building, n->floor[0] ? " " : "", n->floor,
                 n->unit[0] ? " " : "", n->unit);
    else
        snprintf(out, cap, "%s", n->label[0] ? n->label : n->name);
}

static void duration_text(uint64_t ms, bool zh, char *out, size_t cap)
{
    if (ms >= 3600000 && ms % 3600000 == 0)
        snprintf(out, cap, zh ? "%llu 小时" : "%llu h", (unsigned long long)(ms / 3600000));
    else if (ms >= 60000 && ms % 60000 == 0)
        snprintf(out, cap, zh ? "%llu 分钟" : "%llu min", (unsigned long long)(ms / 60000));
    else
        snprintf(out, cap, zh ? "%llu 秒" : "%llu s", (unsigned long long)(ms / 1000));
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
    static const char *const names[] = {"raised", "cleared", "closed"};
    return s <= LW_ALERT_CLOSED ? names[s] : "?";
}

/* Rules that watch no value of the metric itself: silence, flags, the gateway's radio. */
static bool sentence_state(const struct lw_alert_info *a, bool zh, const char *where, char *out,
                           size_t cap)
{
    const struct lw_rule_conf *r = a->rule;
    bool cleared = a->state == LW_ALERT_CLEARED;
    const char *lz = level_zh[a->level], *le = level_en[a->level], *hz = hazard_zh[r->hazard];
    const char *he = lw_hazard_name(r->hazard);
    char t[32];
    switch (r->type) {
    case LW_RULE_SILENCE:
        duration_text(r->timeout_ms, zh, t, sizeof(t));
        if (cleared && a->value >= 1) { /* value: how long the silence that ended lasted */
            duration_text((uint64_t)a->value * 1000, zh, t, sizeof(t));
            snprintf(out, cap,
                     zh ? "解除%s%s预警：%s 节点已恢复通信（此前 %s 未上报）。"
                        : "All clear (%s %s): %s: the node is heard again after %s silent.",
                     zh ? lz : le, zh ? hz : he, where, t);
        } else if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s%s预警：%s 节点已恢复通信。"
                        : "All clear (%s %s): %s: the node is heard again.",
                     zh ? lz : le, zh ? hz : he, where);
        else
            snprintf(out, cap,
                     zh ? "%s%s预警：%s 节点超过 %s 未上报，请检查设备。"
                        : "%s %s warning: %s: node silent for more than %s, check it.",
                     zh ? lz : le, zh ? hz : he, where, t);
        return true;
    case LW_RULE_FLAG: {
        static const char *const what_zh[] = {"", "传感器故障", "设备被拆动或打开", "电池电量低"};
        static const char *const what_en[] = {"", "sensor fault", "tamper (opened or removed)",
                                              "low battery"};
        int f = r->flag <= LW_FLAGBIT_LOW_BATTERY ? (int)r->flag : 0;
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s%s预警：%s %s已恢复。"
                        : "All clear (%s %s): %s: %s no longer reported.",
                     zh ? lz : le, zh ? hz : he, where, zh ? what_zh[f] : what_en[f]);
        else
            snprintf(out, cap,
                     zh ? "%s%s预警：%s 报告%s，请检查设备。"
                        : "%s %s warning: %s: node reports %s, check it.",
                     zh ? lz : le, zh ? hz : he, where, zh ? what_zh[f] : what_en[f]);
        return true;
    }
    case LW_RULE_RADIO_FAULT:
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s%s预警：网关无线电已恢复接收。"
                        : "All clear (%s %s): the gateway's radio receives again.",
                     zh ? lz : le, zh ? hz : he);
        else
            snprintf(out, cap,
                     zh ? "%s%s预警：网关无线电故障，无法接收传感器数据，请立即检修。"
                        : "%s %s warning: gateway radio fault: no sensor frames are "
                          "received, repair it now.",
                     zh ? lz : le, zh ? hz : he);
        return true;
    case LW_RULE_STORAGE: {
        /* value: enum lw_store_trouble (1 full, 2 I/O error, 3 WAL pinned by a reader). */
        static const char *const why_zh[] = {"", "磁盘已满", "磁盘读写错误", "数据库日志无法回收"};
        static const char *const why_en[] = {"", "the disk is full", "the disk fails",
                                             "a reader keeps the database log from shrinking"};
        int w = a->value >= 1 && a->value <= 3 ? (int)a->value : 1;
        if (cleared)
            snprintf(out, cap,
                     zh ? "解除%s%s预警：网关数据库恢复写入，报警记录已补记。"
                        : "All clear (%s %s): the gateway's database takes writes again; the "
                          "alerts are journalled.",
                     zh ? lz : le, zh ? hz : he);
        else
            snprintf(
                out, cap,
                zh ? "%s%s预警：网关数据库无法写入（%s），报警仍在发送但未记录，传感器读数丢弃，"
                     "请立即清理空间或检修。"
                   : "%s %s warning: the gateway's database cannot be written (%s): alerts "
                     "are still sent but not journalled, readings are dropped; free space "
                     "or repair it now.",
                zh ? lz : le, zh ? hz : he, zh ? why_zh[w] : why_en[w]);
        return true;
    }
    default:
        return false;
    }
}

/* A test alarm tests the path, not the hazard: it quotes no reading, so its end cannot read as
 * the water having gone (or risen). */
static void sentence_test(const struct lw_alert_info *a, bool zh, const char *where, char *out,
                          size_t cap)
{
    bool cleared = a->state == LW_ALERT_CLEARED;
    if (zh)
        snprintf(out, cap,
                 cleared ? "%s测试报警结束：%s，该节点报警通路测试已结束。"
                         : "%s测试报警：%s，正在测试该节点从网关到手机的报警通路。",
                 hazard_zh[a->rule->hazard], where);
    else
        snprintf(out, cap,
                 cleared ? "Test alarm ended (%s): %s: the test of this node's alarm path is over."
                         : "Test alarm (%s): %s: testing this node's alarm path from the gateway "
                           "to the phones.",
                 lw_hazard_name(a->rule->hazard), where);
}

static void sentence_body(const struct lw_alert_info *a, bool zh, char *out, size_t cap)
{
    const struct lw_rule_conf *r = a->rule;
    char where[LW_TEXT_MAX * 2], held[32];
    place_text(a->node, where, sizeof(where));
    if (a->test && a->state != LW_ALERT_CLOSED) {
        sentence_test(a, zh, where, out, cap);
        return;
    }
    if (a->state != LW_ALERT_CLOSED && sentence_state(a, zh, where, out, cap))
        return;
    const char *unit = lw_rule_value_unit(r);
    /* The quantity compared: the metric, or a statistic of it. */
    char mz[64], me[64];
    switch (r->statistic) {
    case LW_STAT_MEAN:
        snprintf(mz, sizeof(mz), "%s平均值", metric_zh[r->metric]);
        snprintf(me, sizeof(me), "mean %s", metric_en[r->metric]);
        break;
    case LW_STAT_RISE:
        snprintf(mz, sizeof(mz), "%s上涨速度", metric_zh[r->metric]);
        snprintf(me, sizeof(me), "rise of %s", metric_en[r->metric]); /* "... back to" too */
        break;
    case LW_STAT_TWA:
        snprintf(mz, sizeof(mz), "%s时间加权浓度", metric_zh[r->metric]);
        snprintf(me, sizeof(me), "time-weighted %s", metric_en[r->metric]);
        break;
    case LW_STAT_DAYS_LEFT:
        snprintf(mz, sizeof(mz), "%s预计剩余天数", metric_zh[r->metric]);
        snprintf(me, sizeof(me), "%s days left", metric_en[r->metric]);
        break;
    default:
        snprintf(mz, sizeof(mz), "%s", metric_zh[r->metric]);
        snprintf(me, sizeof(me), "%s", metric_en[r->metric]);
    }
    double thr = lw_rule_value_threshold(r, false), clr = lw_rule_value_threshold(r, true);
    bool is_alarm_flag = r->metric == LW_METRIC_SMOKE;
    duration_text(r->persistence_ms, zh, held, sizeof(held));

    if (a->state == LW_ALERT_CLOSED) {
        if (zh)
            snprintf(out, cap, "撤销%s%s预警：%s（该规则或节点已从配置中移除）。",
                     level_zh[a->level], hazard_zh[r->hazard], where);
        else
            snprintf(out, cap,
                     "Withdrawn (%s %s): %s: its rule or node was removed from the "
                     "configuration.",
                     level_en[a->level], lw_hazard_name(r->hazard), where);
        return;
    }
    bool cleared = a->state == LW_ALERT_CLEARED;
    if (cleared && is_alarm_flag) {
        if (zh)
            snprintf(out, cap, "解除%s%s预警：%s 烟感探测器已恢复正常。", level_zh[a->level],
                     hazard_zh[r->hazard], where);
        else
            snprintf(out, cap, "All clear (%s %s): %s: smoke detector back to normal.",
                     level_en[a->level], lw_hazard_name(r->hazard), where);
        return;
    }
    if (cleared) {
        if (zh)
            snprintf(out, cap, "解除%s%s预警：%s，%s已恢复（%g%s，解除线 %g%s）。",
                     level_zh[a->level], hazard_zh[r->hazard], where, mz, a->value, unit, clr,
                     unit);
        else
            snprintf(out, cap, "All clear (%s %s): %s: %s back to %g %s (clear level %g %s).",
                     level_en[a->level], lw_hazard_name(r->hazard), where, me, a->value, unit, clr,
                     unit);
        return;
    }
    if (is_alarm_flag) {
        if (zh)
            snprintf(out, cap, "%s%s预警：%s 烟感探测器报警，请立即到场确认。", level_zh[a->level],
                     hazard_zh[r->hazard], where);
        else
            snprintf(out, cap, "%s %s warning: %s: smoke detector in alarm, go and check now.",
                     level_en[a->level], lw_hazard_name(r->hazard), where);
        return;
    }
    const char *cmp_zh = r->below ? "低于" : "超过", *cmp_en = r->below ? "below" : "above";
    if (zh) {
        int n = snprintf(out, cap, "%s%s预警：%s，%s %g%s，%s %g%s", level_zh[a->level],
                         hazard_zh[r->hazard], where, mz, a->value, unit, cmp_zh, thr, unit);
        if (n > 0 && (size_t)n < cap)
            snprintf(out + n, cap - (size_t)n, r->persistence_ms ? "（已持续 %s）。" : "%s。",
                     r->persistence_ms ? held : "");
    } else {
        int n = snprintf(out, cap, "%s %s warning: %s: %s %g %s, %s %g %s", level_en[a->level],
                         lw_hazard_name(r->hazard), where, me, a->value, unit, cmp_en, thr, unit);
        if (n > 0 && (size_t)n < cap)
            snprintf(out + n, cap - (size_t)n, r->persistence_ms ? " for %s." : "%s.",
                     r->persistence_ms ? held : "");
    }
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
    cJSON_AddNumberToObject(o, "threshold", lw_rule_value_threshold(r, false));
    cJSON_AddNumberToObject(o, "clear", lw_rule_value_threshold(r, true));
    cJSON_AddStringToObject(o, "direction", r->below ? "below" : "above");
    cJSON_AddNumberToObject(o, "persistence_s", (double)r->persistence_ms / 1000.0);
    lw_format_time(a->raised_ms, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "raised", buf);
    lw_format_time(a->t_ms, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "time", buf);
    cJSON_AddNumberToObject(o, "time_ms", (double)a->t_ms);
    sentence(a, true, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "text_zh", buf);
    sentence(a, false, buf, sizeof(buf));
    cJSON_AddStringToObject(o, "text_en", buf);

    char *out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}
