/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_nodectl: control-socket node requests against a real node table, above all
 * that calibrating a water node under an open alert is refused unless forced. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_mesh.h"
#include "lw_nodectl.h"
#include "lw_route.h"
#include "lw_nodedb.h"
#include "lw_registry.h"
#include "lw_store.h"
#include "test_support.h"

#define RAMP 0x0201 /* a paired water node */
#define GAS  0x0202 /* a paired gas node */

static const char conf_text[] = "[gateway]\n"
                                "network_id = 0x4C57\n"
                                "[rule:watch]\n"
                                "metric = water_mm\n"
                                "threshold = 30\n"
                                "clear = 10\n"
                                "level = blue\n"
                                "[rule:basement]\n"
                                "metric = water_mm\n"
                                "threshold = 50\n"
                                "clear = 20\n"
                                "level = red\n"
                                "[rule:battery-warn]\n"
                                "metric = battery_mv\n"
                                "direction = below\n"
                                "statistic = days_left\n"
                                "window = 7d\n"
                                "floor = 3000\n"
                                "threshold = 30\n"
                                "clear = 45\n"
                                "level = blue\n"
                                "[rule:tamper]\n"
                                "type = flag\n"
                                "flag = tamper\n"
                                "level = yellow\n";

struct fixture {
    char path[256];
    struct lw_config *cfg;
    struct lw_store *store;
    struct lw_nodedb *db;
    struct lw_registry *reg;
    struct lw_nodectl_env env;
    int rebuilds;
};

static void fail_on_config_error(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("config: %s", msg);
}

static struct lw_registry *get_registry(void *arg)
{
    return ((struct fixture *)arg)->reg;
}

/* The daemon's rebuild, without the carrying over of runtime state (not tested here). */
static int rebuild(void *arg)
{
    struct fixture *f = arg;
    struct lw_node_conf *rows;
    size_t n;
    f->rebuilds++;
    if (lw_nodedb_load(f->db, false, &rows, NULL, &n) != LW_OK)
        return LW_ERR_DB;
    struct lw_registry *reg = lw_registry_new(f->cfg, rows, n);
    free(rows);
    if (!reg)
        return LW_ERR_NOMEM;
    lw_registry_free(f->reg);
    f->reg = reg;
    return LW_OK;
}

static int64_t test_alarm(void *arg, struct lw_node *n)
{
    (void)arg;
    return n->conf->address == RAMP ? 42 : LW_ERR_STATE;
}

static void put_node(struct lw_nodedb *db, uint16_t address, const char *name,
                     enum lw_node_kind kind)
{
    struct lw_node_conf n;
    memset(&n, 0, sizeof(n));
    snprintf(n.name, sizeof(n.name), "%s", name);
    n.address = address;
    n.kind = kind;
    n.state = LW_NODE_ACTIVE;
    n.has_session = true;
    n.eui[7] = (uint8_t)address;
    n.root_key[0] = (uint8_t)address;
    assert_int_equal(lw_nodedb_put(db, &n), LW_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];
    assert_non_null(f);
    assert_int_equal(lw_test_db_path(f->path, sizeof(f->path), "lw-test-nodectl"), 0);
    f->cfg = lw_config_parse("nodectl.conf", conf_text, sizeof(conf_text) - 1, fail_on_config_error,
                             NULL);
    assert_non_null(f->cfg);
    f->store = lw_store_open(f->path, 16, err, sizeof(err));
    assert_non_null(f->store);
    f->db = lw_nodedb_new(f->store);
    assert_non_null(f->db);
    put_node(f->db, RAMP, "ramp", LW_KIND_WATER);
    put_node(f->db, GAS, "kitchen", LW_KIND_GAS);
    assert_int_equal(lw_store_commit(f->store), LW_OK);
    assert_int_equal(rebuild(f), LW_OK);
    f->rebuilds = 0;
    f->env = (struct lw_nodectl_env){
        .arg = f,
        .cfg = f->cfg,
        .store = f->store,
        .nodedb = f->db,
        .registry = get_registry,
        .rebuild = rebuild,
        .test_alarm = test_alarm,
        .now_ms = 1780000000000,
    };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lw_registry_free(f->reg);
    lw_nodedb_free(f->db);
    lw_store_close(f->store);
    lw_config_free(f->cfg);
    char p[300];
    unlink(f->path);
    snprintf(p, sizeof(p), "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    free(f);
    return 0;
}

/* One request (JSON text) through lw_nodectl_handle; the parsed reply (never NULL). */
static cJSON *request(struct fixture *f, const char *json)
{
    static const struct lw_control_peer peer = {.uid = 1000, .gid = 1000, .pid = 1};
    cJSON *req = cJSON_Parse(json);
    assert_non_null(req);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
    assert_true(cJSON_IsString(cmd));
    char *text = lw_nodectl_handle(&f->env, cmd->valuestring, req, &peer);
    cJSON_Delete(req);
    assert_non_null(text);
    cJSON *reply = cJSON_Parse(text);
    free(text);
    assert_non_null(reply);
    return reply;
}

static bool ok(const cJSON *reply)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok"));
}

static const char *field(const cJSON *reply, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Refused with code; the error text contains each of the NULL-terminated words. */
static void expect_refusal(struct fixture *f, const char *json, const char *code, ...)
{
    cJSON *r = request(f, json);
    assert_false(ok(r));
    assert_string_equal(field(r, "code"), code);
    va_list ap;
    va_start(ap, code);
    for (const char *w = va_arg(ap, const char *); w; w = va_arg(ap, const char *))
        if (!strstr(field(r, "error"), w))
            fail_msg("'%s' not in '%s'", w, field(r, "error"));
    va_end(ap);
    cJSON_Delete(r);
}

static uint32_t stored_zero(struct fixture *f, uint16_t address)
{
    struct lw_node_conf *rows;
    size_t n;
    uint32_t z = UINT32_MAX;
    assert_int_equal(lw_nodedb_load(f->db, false, &rows, NULL, &n), LW_OK);
    for (size_t i = 0; i < n; i++)
        if (rows[i].address == address)
            z = rows[i].zero_offset_mm;
    free(rows);
    return z;
}

static long maintenance_rows(struct fixture *f, const char *action)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    long n = -1;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT count(*) FROM maintenance WHERE action = ?", -1, &q, NULL),
        SQLITE_OK);
    sqlite3_bind_text(q, 1, action, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

/* The ramp node in the running registry has reported water_mm and, when id > 0, has the red
 * basement alert id open at that depth. */
static void ramp_state(struct fixture *f, uint16_t water_mm, int64_t id)
{
    struct lw_node *n = lw_registry_find(f->reg, RAMP);
    assert_non_null(n);
    n->last.present = LW_R_WATER;
    n->last.water_mm = water_mm;
    for (size_t i = 0; i < f->cfg->n_rules; i++)
        if (id > 0 && strcmp(f->cfg->rules[i].name, "basement") == 0) {
            n->rules[i].active = true;
            n->rules[i].alert_id = id;
            n->rules[i].level = f->cfg->rules[i].level;
            n->rules[i].last = water_mm;
        }
}

static void calibrate_zero_refused_while_alert_open(void **state)
{
    struct fixture *f = *state;
    ramp_state(f, 105, 3);
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true}", "conflict",
                   "open alert #3", "red", "basement", "105 mm", "--force", NULL);
    assert_int_equal(stored_zero(f, RAMP), 0);
    assert_int_equal(f->rebuilds, 0);
    assert_int_equal(maintenance_rows(f, "calibrate"), 0);
    /* force false is no force. */
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true,\"force\":false}",
                   "conflict", "#3", NULL);
    assert_int_equal(stored_zero(f, RAMP), 0);
}

static void calibrate_zero_forced_under_alert(void **state)
{
    struct fixture *f = *state;
    ramp_state(f, 105, 3);
    cJSON *r = request(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true,\"force\":true}");
    assert_true(ok(r));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "zero_offset_mm")->valueint, 105);
    cJSON_Delete(r);
    assert_int_equal(stored_zero(f, RAMP), 105);
    assert_int_equal(f->rebuilds, 1);
    assert_int_equal(maintenance_rows(f, "calibrate"), 1);
}

static void calibrate_zero_without_alert(void **state)
{
    struct fixture *f = *state;
    /* No reading yet: nothing to take as the dry level. */
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true}", "conflict",
                   "no water reading", NULL);
    ramp_state(f, 12, 0);
    cJSON *r = request(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true}");
    assert_true(ok(r));
    cJSON_Delete(r);
    assert_int_equal(stored_zero(f, RAMP), 12);
    /* The registry was rebuilt from the table: zero again adds to the stored offset. */
    ramp_state(f, 3, 0);
    r = request(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true}");
    assert_true(ok(r));
    cJSON_Delete(r);
    assert_int_equal(stored_zero(f, RAMP), 15);
}

/* Water at a threshold whose persistence is still running is no dry level either. */
static void calibrate_zero_refused_over_threshold(void **state)
{
    struct fixture *f = *state;
    ramp_state(f, 30, 0);
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true}", "conflict",
                   "reads 30 mm", "30 mm threshold", "rule watch", "--force", NULL);
    assert_int_equal(stored_zero(f, RAMP), 0);
    assert_int_equal(f->rebuilds, 0);
    cJSON *r = request(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true,\"force\":true}");
    assert_true(ok(r));
    cJSON_Delete(r);
    assert_int_equal(stored_zero(f, RAMP), 30);
}

/* Only water alerts refuse a zero: the tamper alert of the case opened to zero the sensor
 * does not. */
static void calibrate_zero_under_tamper_alert(void **state)
{
    struct fixture *f = *state;
    ramp_state(f, 3, 0);
    struct lw_node *n = lw_registry_find(f->reg, RAMP);
    for (size_t i = 0; i < f->cfg->n_rules; i++)
        if (strcmp(f->cfg->rules[i].name, "tamper") == 0) {
            n->rules[i].active = true;
            n->rules[i].alert_id = 1;
            n->rules[i].level = f->cfg->rules[i].level;
            n->rules[i].last = 1;
        }
    cJSON *r = request(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true}");
    assert_true(ok(r));
    cJSON_Delete(r);
    assert_int_equal(stored_zero(f, RAMP), 3);
}

/* The mount height changes no reading: it is recorded under an open alert too. */
static void calibrate_mount_height_under_alert(void **state)
{
    struct fixture *f = *state;
    ramp_state(f, 105, 3);
    cJSON *r = request(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"mount_height_mm\":2400}");
    assert_true(ok(r));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "mount_height_mm")->valueint, 2400);
    cJSON_Delete(r);
    assert_int_equal(stored_zero(f, RAMP), 0);
}

static void calibrate_usage_errors(void **state)
{
    struct fixture *f = *state;
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\"}", "usage", "--zero", NULL);
    expect_refusal(f,
                   "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"zero\":true,"
                   "\"mount_height_mm\":10}",
                   "usage", "either", NULL);
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"ramp\",\"mount_height_mm\":20001}",
                   "usage", "20000", NULL);
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"kitchen\",\"zero\":true}", "usage",
                   "only water sensors", NULL);
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"node\":\"nowhere\",\"zero\":true}", "not_found",
                   "nowhere", NULL);
    expect_refusal(f, "{\"cmd\":\"calibrate\",\"zero\":true}", "usage", "which node", NULL);
    assert_int_equal(f->rebuilds, 0);
}

static void other_commands(void **state)
{
    struct fixture *f = *state;
    static const struct lw_control_peer peer = {.uid = 1000};
    cJSON *r = request(f, "{\"cmd\":\"nodes\"}");
    assert_true(ok(r));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "nodes")), 2);
    cJSON_Delete(r);
    r = request(f, "{\"cmd\":\"node-show\",\"node\":\"0x0201\"}");
    assert_true(ok(r));
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(r, "node");
    assert_string_equal(field(node, "name"), "ramp");
    assert_string_equal(field(node, "kind"), "water");
    cJSON_Delete(r);
    expect_refusal(f, "{\"cmd\":\"node-show\",\"node\":\"nowhere\"}", "not_found", NULL);
    expect_refusal(f, "{\"cmd\":\"locate\",\"node\":\"ramp\"}", "usage", "nothing to change", NULL);
    r = request(f, "{\"cmd\":\"locate\",\"node\":\"ramp\",\"building\":\"B7\"}");
    assert_true(ok(r));
    cJSON_Delete(r);
    assert_int_equal(maintenance_rows(f, "locate"), 1);
    r = request(f, "{\"cmd\":\"test-alarm\",\"node\":\"ramp\"}");
    assert_true(ok(r));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(r, "alert")->valueint, 42);
    cJSON_Delete(r);
    expect_refusal(f, "{\"cmd\":\"rekey\",\"node\":\"ramp\",\"key\":\"00\"}", "usage", "32 hex",
                   NULL);
    /* Not a node command: left to the other handlers. */
    cJSON *req = cJSON_Parse("{\"cmd\":\"alerts\"}");
    assert_null(lw_nodectl_handle(&f->env, "alerts", req, &peer));
    cJSON_Delete(req);
}

/* Readings of RAMP, one an hour for hours hours up to now, the battery falling 10 mV a day from
 * 3600 mV; the frame counter skips every frame whose counter is a multiple of skip (0: none).
 * The last contact comes through a relay: GAS (kitchen), 2 hops. */
static void ramp_history(struct fixture *f, int hours, uint32_t skip)
{
    int64_t hour = 3600000, t0 = f->env.now_ms - (int64_t)(hours - 1) * hour - 60000;
    uint32_t fcnt = 1;
    for (int i = 0; i < hours; i++, fcnt++) {
        if (skip && fcnt % skip == 0)
            fcnt++; /* this frame never arrived */
        int64_t t = t0 + i * hour;
        struct lw_reading r = {.present = LW_R_WATER | LW_R_BATTERY};
        r.battery_mv = (uint16_t)(3600 - 10.0 * (double)(t - t0) / 86400000.0);
        struct lw_store_reading sr = {.node = RAMP,
                                      .t_ms = t,
                                      .fcnt = fcnt,
                                      .type = 1,
                                      .hops = 2,
                                      .rssi_x10 = (int16_t)(-900 - 10 * (i % 3)),
                                      .snr_x10 = 55,
                                      .r = &r};
        assert_int_equal(lw_store_add_reading(f->store, &sr), LW_OK);
    }
    struct lw_node_contact seen = {.first_seen_ms = t0,
                                   .last_seen_ms = t0 + (hours - 1) * hour,
                                   .rssi_x10 = -910,
                                   .snr_x10 = 55,
                                   .battery_mv = 3540,
                                   .hops = 2,
                                   .relay = GAS};
    assert_int_equal(lw_nodedb_seen(f->db, RAMP, fcnt - 1, &seen), LW_OK);
    assert_int_equal(lw_store_commit(f->store), LW_OK);
}

static double num(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    const cJSON *v = o;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k; k = strtok_r(NULL, ".", &save))
        v = cJSON_GetObjectItemCaseSensitive(v, k);
    if (!cJSON_IsNumber(v))
        fail_msg("%s: not a number", path);
    return v->valuedouble;
}

/* node-show: the relay by name, frames lost from the counter gaps over the day before the node
 * was last heard, battery days left from the battery rule's own statistic. */
static void show_loss_battery_relay(void **state)
{
    struct fixture *f = *state;
    ramp_history(f, 6 * 24, 5); /* every 5th counter missing */
    cJSON *r = request(f, "{\"cmd\":\"node-show\",\"node\":\"ramp\"}");
    assert_true(ok(r));
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "node");
    assert_string_equal(field(n, "relay_name"), "kitchen");
    assert_int_equal((int)num(n, "hops"), 2);
    /* The last 24 h hold 24 readings (the window is [last - 24 h, last]: 25 hourly slots, the
     * first of which is at its edge); 1 counter in 5 skipped. */
    double got = num(n, "loss.received"), want = num(n, "loss.expected");
    assert_true(got >= 24 && got <= 25);
    assert_true(want - got >= 5 && want - got <= 7);
    assert_int_equal((int)num(n, "loss.window_s"), 86400);
    /* 3540 mV after 6 days, falling 10 mV a day: (3540 - 3000) / 10 = 54 days to the floor. */
    assert_string_equal(field(cJSON_GetObjectItemCaseSensitive(n, "battery_trend"), "rule"),
                        "battery-warn");
    double days = num(n, "battery_trend.days_left");
    if (days < 52 || days > 56)
        fail_msg("days left %.1f, expected about 54", days);
    /* The day's link: RSSI -90, -91, -92 dBm in turn; median -91. */
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(n, "link_history"), "overall");
    assert_non_null(all);
    const cJSON *rssi = cJSON_GetObjectItemCaseSensitive(all, "rssi");
    assert_int_equal(cJSON_GetArraySize(rssi), 3);
    assert_true(cJSON_GetArrayItem(rssi, 0)->valuedouble == -92.0);
    assert_true(cJSON_GetArrayItem(rssi, 1)->valuedouble == -91.0);
    assert_true(cJSON_GetArrayItem(rssi, 2)->valuedouble == -90.0);
    assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(n, "link_history"), "hours"));
    cJSON_Delete(r);
    /* The node list carries the loss too. */
    r = request(f, "{\"cmd\":\"nodes\"}");
    const cJSON *e;
    bool seen = false;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, "nodes"))
    {
        if (strcmp(field(e, "name"), "ramp") == 0) {
            seen = true;
            assert_true(num(e, "loss.expected") > num(e, "loss.received"));
        }
    }
    assert_true(seen);
    cJSON_Delete(r);
}

/* Two days of readings: not half the 7-day window, so no days left yet, only what is there. */
static void show_battery_needs_history(void **state)
{
    struct fixture *f = *state;
    ramp_history(f, 48, 0);
    cJSON *r = request(f, "{\"cmd\":\"node-show\",\"node\":\"ramp\"}");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "node");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(n, "battery_trend");
    assert_non_null(t);
    assert_null(cJSON_GetObjectItemCaseSensitive(t, "days_left"));
    assert_true(num(t, "history_s") >= 47 * 3600 && num(t, "history_s") <= 48 * 3600);
    assert_true(num(n, "loss.received") == num(n, "loss.expected"));
    cJSON_Delete(r);
    /* A node never heard: no loss, and no days left. */
    r = request(f, "{\"cmd\":\"node-show\",\"node\":\"kitchen\"}");
    n = cJSON_GetObjectItemCaseSensitive(r, "node");
    assert_null(cJSON_GetObjectItemCaseSensitive(n, "loss"));
    assert_null(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(n, "battery_trend"), "days_left"));
    cJSON_Delete(r);
}

/* link: true with since_ms: one object per hour; since_ms beyond a week is refused naming it. */
static void show_link_hours(void **state)
{
    struct fixture *f = *state;
    ramp_history(f, 30, 0);
    char req[160];
    snprintf(req, sizeof(req),
             "{\"cmd\":\"node-show\",\"node\":\"ramp\",\"link\":true,"
             "\"since_ms\":%lld}",
             (long long)(f->env.now_ms - 10 * 3600000LL));
    cJSON *r = request(f, req);
    assert_true(ok(r));
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "node"),
                                         "link_history"),
        "hours");
    int n = cJSON_GetArraySize(h);
    assert_true(n >= 10 && n <= 11);
    double frames = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, h)
    {
        assert_int_equal((int64_t)num(e, "t_ms") % 60000, 0);
        frames += num(e, "received");
        assert_int_equal((int)num(e, "hops_max"), 2);
    }
    assert_true(frames == n);
    cJSON_Delete(r);
    snprintf(req, sizeof(req),
             "{\"cmd\":\"node-show\",\"node\":\"ramp\",\"link\":true,"
             "\"since_ms\":%lld}",
             (long long)(f->env.now_ms - 8 * 86400000LL));
    expect_refusal(f, req, "usage", "since_ms", "7 days", NULL);
}

/* With the mesh sink at hand, node-show gives the whole route of the latest frame: every relay
 * (by name when it is a node of ours) with the SNR it heard the hop before with, and what the
 * gateway heard of the last relay. Without it, only the node table's last relay. */
static void show_route_from_mesh(void **state)
{
    struct fixture *f = *state;
    ramp_history(f, 2, 0);
    cJSON *r = request(f, "{\"cmd\":\"node-show\",\"node\":\"ramp\"}");
    assert_null(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "node"), "route"));
    cJSON_Delete(r);
    struct lw_mesh_config mc;
    lw_mesh_config_defaults(&mc);
    struct lw_mesh *m = lw_mesh_new(&mc);
    assert_non_null(m);
    static const uint8_t key[LW_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    struct lw_frame_hdr h = {
        .type = LW_FT_DATA, .hop_limit = 3, .net_id = 0x4C57, .src = RAMP, .fcnt = 9};
    const uint8_t plain[] = {0x01, 0x02, 0x10, 0x00};
    uint8_t buf[LW_FRAME_MAX_LEN];
    int len = lw_frame_seal(&h, key, plain, sizeof(plain), buf, sizeof(buf));
    assert_true(len > 0);
    len = lw_route_append(buf, (size_t)len, sizeof(buf), 0x0999, 4); /* not one of ours */
    len = lw_route_append(buf, (size_t)len, sizeof(buf), GAS, 6);
    assert_true(len > 0);
    struct lw_mesh_frame mf;
    assert_int_equal(lw_mesh_admit(m, buf, (size_t)len, &mf), LW_OK);
    struct lw_mesh_rx rx = {.mono_ms = 1000, .rssi_x10 = -973, .snr_x10 = 45};
    assert_int_equal(lw_mesh_accepted(m, &mf, &rx), LW_OK);
    f->env.mesh = m;
    r = request(f, "{\"cmd\":\"node-show\",\"node\":\"ramp\"}");
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "node");
    const cJSON *route = cJSON_GetObjectItemCaseSensitive(n, "route");
    assert_int_equal(cJSON_GetArraySize(route), 2);
    const cJSON *h0 = cJSON_GetArrayItem(route, 0), *h1 = cJSON_GetArrayItem(route, 1);
    assert_int_equal((int)num(h0, "address"), 0x0999);
    assert_null(cJSON_GetObjectItemCaseSensitive(h0, "name"));
    assert_int_equal((int)num(h0, "heard_snr_db"), 4);
    assert_string_equal(field(h1, "name"), "kitchen");
    assert_int_equal((int)num(h1, "heard_snr_db"), 6);
    assert_true(num(n, "route_gateway.rssi") == -97.3);
    assert_true(num(n, "route_gateway.snr") == 4.5);
    cJSON_Delete(r);
    f->env.mesh = NULL;
    lw_mesh_free(m);
}

/* The review commands find the daemon's database through the socket. */
static void database_path(void **state)
{
    struct fixture *f = *state;
    cJSON *r = request(f, "{\"cmd\":\"database\"}");
    assert_true(ok(r));
    char want[512];
    lw_config_db_path(f->cfg, want, sizeof(want));
    assert_string_equal(field(r, "path"), want);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(calibrate_zero_refused_while_alert_open, setup, teardown),
        cmocka_unit_test_setup_teardown(calibrate_zero_forced_under_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(calibrate_zero_without_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(calibrate_zero_refused_over_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(calibrate_zero_under_tamper_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(calibrate_mount_height_under_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(calibrate_usage_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(other_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(show_loss_battery_relay, setup, teardown),
        cmocka_unit_test_setup_teardown(show_battery_needs_history, setup, teardown),
        cmocka_unit_test_setup_teardown(show_link_hours, setup, teardown),
        cmocka_unit_test_setup_teardown(database_path, setup, teardown),
        cmocka_unit_test_setup_teardown(show_route_from_mesh, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
