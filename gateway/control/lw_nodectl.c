/* SPDX-License-Identifier: Apache-2.0 */
/* Node registry commands of the control socket. Requests are outside input: every field is
 * checked and a refusal says what to do; keys never appear in replies or in the journal. */
#include "lw_nodectl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_parse.h"
#include "lw_rules.h"

#define DEFAULT_WINDOW_S 300 /* pairing window when the request names none */
#define MAX_WINDOW_S     86400

/* ---- replies ----------------------------------------------------------------------------- */

static char *finish(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *fail(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *fail(const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddStringToObject(o, "code", code);
    return finish(o);
}

static cJSON *ok_reply(void)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 1);
    return o;
}

/* ---- request fields ---------------------------------------------------------------------- */

/* A string field: NULL when absent; *bad set when present but not a string. */
static const char *str_field(const cJSON *req, const char *name, bool *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    if (!v)
        return NULL;
    if (!cJSON_IsString(v)) {
        *bad = true;
        return NULL;
    }
    return v->valuestring;
}

/* Text a maintainer typed: printable, no control characters, fits the field. */
static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= LW_NAME_MAX)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

/* ---- looking nodes up -------------------------------------------------------------------- */

struct rows {
    struct lw_node_conf *n;
    struct lw_node_contact *seen;
    size_t count;
};

static void rows_free(struct rows *r)
{
    free(r->n);
    free(r->seen);
}

/* A node named by name, address (decimal or 0x hex) or EUI (16 hex digits); NULL when none. */
static struct lw_node_conf *resolve(struct rows *r, const char *id, size_t *idx)
{
    uint8_t eui[8];
    uint32_t addr = 0;
    bool is_eui = strlen(id) == 16 && lw_parse_hex(id, eui, 8) == LW_OK;
    bool is_addr = lw_parse_u32(id, 1, 0xFFFE, &addr) == LW_OK;
    struct lw_node_conf *found = NULL;
    /* A name wins; among retired rows, the newest holder of a name is what people mean. */
    for (size_t i = 0; i < r->count && !found; i++)
        if (strcmp(r->n[i].name, id) == 0)
            found = &r->n[i];
    for (size_t i = 0; i < r->count && !found; i++)
        if ((is_addr && r->n[i].address == addr) ||
            (is_eui && r->n[i].state != LW_NODE_RETIRED && !memcmp(r->n[i].eui, eui, 8)))
            found = &r->n[i];
    if (found && idx)
        *idx = (size_t)(found - r->n);
    return found;
}

static int load_rows(const struct lw_nodectl_env *env, struct rows *r)
{
    memset(r, 0, sizeof(*r));
    return lw_nodedb_load(env->nodedb, true, &r->n, &r->seen, &r->count);
}

/* ---- describing nodes -------------------------------------------------------------------- */

double lw_link_margin_db(int16_t snr_x10, unsigned sf)
{
    if (sf < 7 || sf > 12)
        sf = 7;
    double floor_db = -7.5 - 2.5 * (sf - 7);
    return snr_x10 / 10.0 - floor_db;
}

/* Fire-class nodes must be heard within 200 s (NFPA 72 low-power radio, DOMAIN.md); water nodes
 * report every few minutes: three missed readings. */
static int64_t silent_after_ms(enum lw_node_kind k)
{
    return k == LW_KIND_WATER ? 15 * 60 * 1000 : 200 * 1000;
}

static const char *shown_state(const struct lw_node_conf *c, int64_t last_seen, int64_t now)
{
    if (c->state == LW_NODE_ACTIVE && last_seen && now - last_seen > silent_after_ms(c->kind))
        return "silent";
    if (c->state == LW_NODE_ACTIVE && !last_seen)
        return "never-heard";
    return lw_node_state_name(c->state);
}

static void add_reading(cJSON *o, const struct lw_reading *r)
{
    cJSON *j = cJSON_AddObjectToObject(o, "reading");
    if (r->present & LW_R_WATER)
        cJSON_AddNumberToObject(j, "water_mm", r->water_mm);
    if (r->present & LW_R_SMOKE) {
        cJSON_AddNumberToObject(j, "smoke", r->smoke_alarm);
        cJSON_AddNumberToObject(j, "obscuration", r->smoke_obscuration / 100.0);
    }
    if (r->present & LW_R_GAS)
        cJSON_AddNumberToObject(j, "gas_lel", r->gas_lel_x10 / 10.0);
    if (r->present & LW_R_CO)
        cJSON_AddNumberToObject(j, "co_ppm", r->co_ppm);
    if (r->present & LW_R_TEMP)
        cJSON_AddNumberToObject(j, "temp_c", r->temp_c_x10 / 10.0);
    if (r->present & LW_R_BATTERY)
        cJSON_AddNumberToObject(j, "battery_mv", r->battery_mv);
    if (r->present & LW_R_FLAGS)
        cJSON_AddNumberToObject(j, "flags", r->flags);
}

static void add_hex(cJSON *o, const char *name, const uint8_t *b, size_t n)
{
    char hex[2 * 16 + 1];
    lw_format_hex(b, n, hex);
    cJSON_AddStringToObject(o, name, hex);
}

/* One node as JSON: the row, merged with the registry's runtime state when it is live. */
#define DAY_MS 86400000LL

static cJSON *node_json(const struct lw_nodectl_env *env, const struct rows *r,
                        const struct lw_node_conf *c, const struct lw_node_contact *seen,
                        bool detail)
{
    struct lw_node *live =
        c->state != LW_NODE_RETIRED ? lw_registry_find(env->registry(env->arg), c->address) : NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "address", c->address);
    cJSON_AddStringToObject(o, "name", c->name);
    add_hex(o, "eui", c->eui, 8);
    cJSON_AddStringToObject(o, "kind", lw_kind_name(c->kind));
    lw_place_json(o, c);
    cJSON_AddStringToObject(o, "source", c->from_config ? "config" : "paired");
    int64_t last = live && live->last_seen_ms ? live->last_seen_ms : seen->last_seen_ms;
    int64_t first = live && live->first_seen_ms ? live->first_seen_ms : seen->first_seen_ms;
    cJSON_AddStringToObject(o, "state", shown_state(c, last, env->now_ms));
    if (c->state == LW_NODE_PENDING && c->pairing_until_ms)
        cJSON_AddNumberToObject(o, "pairing_until_ms", (double)c->pairing_until_ms);
    if (last)
        cJSON_AddNumberToObject(o, "last_seen_ms", (double)last);
    if (first)
        cJSON_AddNumberToObject(o, "first_seen_ms", (double)first);
    int16_t rssi = live && live->last_seen_ms ? live->last_rssi_x10 : seen->rssi_x10;
    int16_t snr = live && live->last_seen_ms ? live->last_snr_x10 : seen->snr_x10;
    if (rssi != INT16_MIN && last) {
        cJSON_AddNumberToObject(o, "rssi", rssi / 10.0);
        cJSON_AddNumberToObject(o, "snr", snr / 10.0);
        unsigned sf = live && live->last_sf ? live->last_sf : env->cfg->spreading_factor;
        cJSON_AddNumberToObject(o, "sf", sf);
        cJSON_AddNumberToObject(o, "link_margin_db", lw_link_margin_db(snr, sf));
    }
    int batt =
        live && (live->last.present & LW_R_BATTERY) ? live->last.battery_mv : seen->battery_mv;
    if (batt >= 0)
        cJSON_AddNumberToObject(o, "battery_mv", batt);
    int hops = live && live->last_seen_ms ? live->last_hops : seen->hops;
    if (hops >= 0 && last)
        cJSON_AddNumberToObject(o, "hops", hops);
    int relay = live && live->last_seen_ms ? live->last_relay : seen->relay;
    if (relay > 0 && last) {
        cJSON_AddNumberToObject(o, "relay", relay);
        /* The relay the gateway heard, by name when it is one of ours. */
        for (size_t i = 0; i < r->count; i++)
            if (r->n[i].address == relay && r->n[i].state != LW_NODE_RETIRED)
                cJSON_AddStringToObject(o, "relay_name", r->n[i].name);
    }
    /* The whole way of its latest frame, when the mesh sink is at hand: every relay by name
     * and the SNR each one heard the hop before with; the gateway heard the last relay. */
    struct lw_mesh_path path;
    if (env->mesh && c->state != LW_NODE_RETIRED &&
        lw_mesh_route(env->mesh, c->address, &path) == LW_OK && path.hops > 0) {
        cJSON *route = cJSON_AddArrayToObject(o, "route");
        for (unsigned h = 0; h < path.hops && h < LW_HOP_MAX; h++) {
            cJSON *j = cJSON_CreateObject();
            cJSON_AddNumberToObject(j, "address", path.hop[h].relay);
            for (size_t i = 0; i < r->count; i++)
                if (r->n[i].address == path.hop[h].relay && r->n[i].state != LW_NODE_RETIRED)
                    cJSON_AddStringToObject(j, "name", r->n[i].name);
            cJSON_AddNumberToObject(j, "heard_snr_db", path.hop[h].snr_db);
            cJSON_AddItemToArray(route, j);
        }
        cJSON *gw = cJSON_AddObjectToObject(o, "route_gateway");
        cJSON_AddNumberToObject(gw, "rssi", path.gw_rssi_x10 / 10.0);
        cJSON_AddNumberToObject(gw, "snr", path.gw_snr_x10 / 10.0);
    }
    /* Frames lost over the day before it was last heard, from the stored frame counters (a node
     * silent since is shown as silent, not as loss). */
    struct lw_nodectl_loss loss;
    if (last && lw_nodectl_loss(env->store, c->address, last - DAY_MS, last + 1, &loss) == LW_OK &&
        loss.received)
        lw_nodectl_loss_json(o, &loss, DAY_MS);
    if (c->kind == LW_KIND_WATER || c->kind == LW_KIND_MULTI) {
        cJSON_AddNumberToObject(o, "mount_height_mm", c->mount_height_mm);
        cJSON_AddNumberToObject(o, "zero_offset_mm", c->zero_offset_mm);
    }
    if (!detail)
        return o;
    if (live) {
        cJSON_AddNumberToObject(o, "frames", (double)live->frames);
        if (live->last.present)
            add_reading(o, &live->last);
        cJSON_AddBoolToObject(o, "session", c->has_session);
    }
    /* The hazards of the rules that apply to it: what a silence of the node holds back. */
    bool hazard[LW_HAZARD_COUNT] = {false};
    for (size_t i = 0; i < env->cfg->n_rules; i++)
        if (env->cfg->rules[i].hazard < LW_HAZARD_COUNT && lw_rule_applies(&env->cfg->rules[i], c))
            hazard[env->cfg->rules[i].hazard] = true;
    cJSON *hz = cJSON_AddArrayToObject(o, "hazards");
    for (int h = 0; h < LW_HAZARD_COUNT; h++)
        if (hazard[h])
            cJSON_AddItemToArray(hz, cJSON_CreateString(lw_hazard_name((enum lw_hazard)h)));
    if (lw_nodectl_battery(env->cfg, env->store, c, env->now_ms, o) != LW_OK)
        lw_log(LW_LOG_WARNING, "node %s: battery trend not read from the database", c->name);
    int64_t readings = 0, alerts = 0;
    if (lw_nodedb_history(env->nodedb, c->address, &readings, &alerts) == LW_OK) {
        cJSON_AddBoolToObject(o, "has_readings", readings > 0);
        cJSON_AddNumberToObject(o, "alerts", (double)alerts);
    }
    return o;
}

/* ---- commands ---------------------------------------------------------------------------- */

static char *cmd_nodes(const struct lw_nodectl_env *env, const cJSON *req,
                       const struct lw_control_peer *peer)
{
    (void)peer;
    bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "all"));
    struct rows r;
    if (load_rows(env, &r) != LW_OK)
        return fail("db", "the node registry could not be read; see the daemon's log");
    cJSON *o = ok_reply();
    cJSON *arr = cJSON_AddArrayToObject(o, "nodes");
    for (size_t i = 0; i < r.count; i++)
        if (all || r.n[i].state != LW_NODE_RETIRED)
            cJSON_AddItemToArray(arr, node_json(env, &r, &r.n[i], &r.seen[i], false));
    rows_free(&r);
    return finish(o);
}

static char *cmd_show(const struct lw_nodectl_env *env, const cJSON *req,
                      const struct lw_control_peer *peer)
{
    (void)peer;
    bool bad = false;
    const char *id = str_field(req, "node", &bad);
    if (!id || bad)
        return fail("usage", "which node? (\"node\": name, address or EUI)");
    struct rows r;
    if (load_rows(env, &r) != LW_OK)
        return fail("db", "the node registry could not be read; see the daemon's log");
    size_t i;
    struct lw_node_conf *c = resolve(&r, id, &i);
    if (!c) {
        rows_free(&r);
        return fail("not_found", "no node '%s' (lorawatch nodes --all lists them)", id);
    }
    /* The link hour by hour from since_ms until now (lorawatch node link), else over the day
     * before the node was last heard. At most a week of hours: the reply must fit one control
     * message. */
    const cJSON *since = cJSON_GetObjectItemCaseSensitive(req, "since_ms");
    bool hours = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "link"));
    if (since && (!cJSON_IsNumber(since) || since->valuedouble >= (double)env->now_ms ||
                  since->valuedouble < (double)(env->now_ms - 7 * DAY_MS - 60000))) {
        rows_free(&r);
        return fail("usage", "since_ms: must be a time within the last 7 days (got %.0f)",
                    cJSON_IsNumber(since) ? since->valuedouble : -1.0);
    }
    cJSON *o = ok_reply();
    cJSON *n = node_json(env, &r, c, &r.seen[i], true);
    cJSON_AddItemToObject(o, "node", n);
    double last = 0;
    const cJSON *ls = cJSON_GetObjectItemCaseSensitive(n, "last_seen_ms");
    if (cJSON_IsNumber(ls))
        last = ls->valuedouble;
    int64_t from = since ? (int64_t)since->valuedouble : (int64_t)last - DAY_MS;
    int64_t until = since ? env->now_ms + 1 : (int64_t)last + 1;
    if ((since || last > 0) &&
        lw_nodectl_link(env->store, c->address, from, until, hours, n) != LW_OK)
        lw_log(LW_LOG_WARNING, "node %s: link history not read from the database", c->name);
    rows_free(&r);
    return finish(o);
}

/* The database file the daemon uses, so the review commands (history, events, report) read the
 * same one without a configuration file of their own. */
static char *cmd_database(const struct lw_nodectl_env *env, const cJSON *req,
                          const struct lw_control_peer *peer)
{
    (void)req;
    (void)peer;
    char path[LW_PATH_MAX + 32];
    lw_config_db_path(env->cfg, path, sizeof(path));
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "path", path);
    return finish(o);
}

/* Journal a change and commit it, then rebuild the registry. */
static char *commit_change(const struct lw_nodectl_env *env, const struct lw_control_peer *peer,
                           const char *action, const struct lw_node_conf *row,
                           const char *old_value, const char *new_value, const char *detail,
                           cJSON *reply)
{
    int rc = lw_nodedb_put(env->nodedb, row);
    if (rc == LW_OK)
        rc = lw_nodedb_journal(env->nodedb, env->now_ms, (long)peer->uid, action, row->address,
                               old_value, new_value, detail);
    if (rc == LW_OK)
        rc = lw_store_commit(env->store);
    if (rc != LW_OK) {
        cJSON_Delete(reply);
        return fail("db", "the change could not be stored (database error; see the log)");
    }
    lw_log(LW_LOG_NOTICE, "node %s (0x%04X): %s by uid %u%s%s%s%s", row->name, row->address, action,
           peer->uid, old_value ? ": " : "", old_value ? old_value : "", new_value ? " -> " : "",
           new_value ? new_value : "");
    if (env->rebuild(env->arg) != LW_OK)
        lw_log(LW_LOG_ERR, "node registry not reloaded after %s; restart the daemon", action);
    return finish(reply);
}

/* Place fields from the request into c; false (with why) when one is malformed. */
static bool take_place(const cJSON *req, struct lw_node_conf *c, bool *changed, char *why,
                       size_t cap)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } f[] = {
        {"building", offsetof(struct lw_node_conf, building), LW_NAME_MAX},
        {"floor", offsetof(struct lw_node_conf, floor), LW_NAME_MAX},
        {"unit", offsetof(struct lw_node_conf, unit), LW_NAME_MAX},
        {"grid", offsetof(struct lw_node_conf, grid), LW_NAME_MAX},
        {"place", offsetof(struct lw_node_conf, place), LW_TEXT_MAX},
        {"tags", offsetof(struct lw_node_conf, tags), LW_TEXT_MAX},
        {"label", offsetof(struct lw_node_conf, label), LW_TEXT_MAX},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        bool bad = false;
        const char *v = str_field(req, f[i].name, &bad);
        if (bad || (v && !lw_text_ok(v, f[i].cap))) {
            snprintf(why, cap, "%s: must be text of at most %zu bytes without control characters",
                     f[i].name, f[i].cap - 1);
            return false;
        }
        if (v) {
            char *dst = (char *)c + f[i].off;
            if (strcmp(dst, v) != 0)
                *changed = true;
            snprintf(dst, f[i].cap, "%s", v);
        }
    }
    return true;
}

static void place_text(const struct lw_node_conf *c, char *out, size_t cap)
{
    snprintf(out, cap, "building=%s floor=%s unit=%s grid=%s place=%s tags=%s", c->building,
             c->floor, c->unit, c->grid, c->place, c->tags);
}

/* EUI and root key from the request, checked against every other live node. */
static char *take_hardware(const struct lw_nodectl_env *env, const cJSON *req, struct rows *r,
                           uint16_t self, uint8_t eui[8], uint8_t key[LW_KEY_LEN])
{
    bool bad = false;
    const char *e = str_field(req, "eui", &bad);
    const char *k = str_field(req, "key", &bad);
    (void)env;
    if (bad || !e || strlen(e) != 16 || lw_parse_hex(e, eui, 8) != LW_OK)
        return fail("usage", "--eui %s: an EUI is 16 hex digits (as on the node's label)",
                    e ? e : "(missing)");
    if (!k || strlen(k) != 32 || lw_parse_hex(k, key, LW_KEY_LEN) != LW_OK)
        return fail("usage", "--key: a root key is 32 hex digits (lorawatch keygen makes one)");
    if (lw_all_zero(key, LW_KEY_LEN))
        return fail("usage", "--key: an all-zero key is not a key; use the node's own key");
    for (size_t i = 0; i < r->count; i++) {
        const struct lw_node_conf *o = &r->n[i];
        if (o->address == self || o->state == LW_NODE_RETIRED)
            continue;
        if (!memcmp(o->eui, eui, 8))
            return fail("conflict",
                        "EUI %s is already node '%s' (%s); use 'lorawatch replace' or 'lorawatch "
                        "retire' first",
                        e, o->name, lw_node_state_name(o->state));
        if (!memcmp(o->root_key, key, LW_KEY_LEN) ||
            (o->from_config && !memcmp(o->key, key, LW_KEY_LEN)))
            return fail("conflict",
                        "that key already belongs to node '%s'; every node needs its own key "
                        "(lorawatch keygen)",
                        o->name);
    }
    return NULL;
}

static int64_t window_ms(const cJSON *req)
{
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(req, "window_s");
    double s = cJSON_IsNumber(w) ? w->valuedouble : DEFAULT_WINDOW_S;
    if (s < 1 || s > MAX_WINDOW_S)
        return -1;
    return (int64_t)(s * 1000);
}

static char *cmd_pair(const struct lw_nodectl_env *env, const cJSON *req,
                      const struct lw_control_peer *peer)
{
    bool bad = false;
    const char *name = str_field(req, "name", &bad);
    const char *kind = str_field(req, "kind", &bad);
    if (bad || !name || !name_ok(name))
        return fail("usage", "--name %s: a node name is 1-%d letters, digits, '-', '_' or '.'",
                    name ? name : "(missing)", LW_NAME_MAX - 1);
    int k = kind ? lw_kind_from_name(kind) : -1;
    if (k < 0)
        return fail("usage", "--kind %s: one of water, smoke, gas, co, multi",
                    kind ? kind : "(missing)");
    int64_t win = window_ms(req);
    if (win < 0)
        return fail("usage", "pairing window: 1 to %d seconds", MAX_WINDOW_S);
    const cJSON *mh = cJSON_GetObjectItemCaseSensitive(req, "mount_height_mm");
    if (mh && (!cJSON_IsNumber(mh) || mh->valuedouble < 0 || mh->valuedouble > 20000))
        return fail("usage", "--mount-height: 0 to 20000 mm");
    struct rows r;
    if (load_rows(env, &r) != LW_OK)
        return fail("db", "the node registry could not be read; see the daemon's log");
    struct lw_node_conf row = {0};
    size_t idx;
    struct lw_node_conf *same = resolve(&r, name, &idx);
    bool reopen = false;
    if (same && same->state != LW_NODE_RETIRED) {
        /* Pairing the same pending node again (a retry on site) just reopens its window. */
        if (same->state != LW_NODE_PENDING || same->from_config) {
            char *e = fail("conflict",
                           "a node named '%s' exists (%s, address 0x%04X); choose another name, "
                           "or 'lorawatch replace %s' for new hardware at that place",
                           name, lw_node_state_name(same->state), same->address, name);
            rows_free(&r);
            return e;
        }
        row = *same;
        reopen = true;
    }
    uint8_t eui[8], key[LW_KEY_LEN];
    char *e = take_hardware(env, req, &r, reopen ? row.address : 0, eui, key);
    if (e) {
        rows_free(&r);
        return e;
    }
    if (same && same->state == LW_NODE_RETIRED) {
        char *e2 = fail("conflict",
                        "'%s' is the name of a retired node (address 0x%04X); choose another name",
                        name, same->address);
        rows_free(&r);
        return e2;
    }
    rows_free(&r);
    if (!reopen) {
        if (lw_nodedb_free_address(env->nodedb, &row.address) != LW_OK)
            return fail("conflict", "no free node address left");
        row.created_ms = env->now_ms;
    }
    snprintf(row.name, sizeof(row.name), "%s", name);
    row.kind = (enum lw_node_kind)k;
    memcpy(row.eui, eui, 8);
    memcpy(row.root_key, key, LW_KEY_LEN);
    row.state = LW_NODE_PENDING;
    row.pairing_until_ms = env->now_ms + win;
    row.has_session = false;
    row.from_config = false;
    if (mh)
        row.mount_height_mm = (uint32_t)mh->valuedouble;
    bool changed = false;
    char why[160];
    if (!take_place(req, &row, &changed, why, sizeof(why)))
        return fail("usage", "%s", why);
    char place[LW_NAME_MAX * 4 + LW_TEXT_MAX * 2 + 96], eh[17];
    place_text(&row, place, sizeof(place));
    lw_format_hex(eui, 8, eh);
    char detail[sizeof(place) + 64];
    snprintf(detail, sizeof(detail), "eui=%s kind=%s %s", eh, lw_kind_name(row.kind), place);
    cJSON *o = ok_reply();
    cJSON_AddNumberToObject(o, "address", row.address);
    cJSON_AddStringToObject(o, "name", row.name);
    cJSON_AddNumberToObject(o, "pairing_until_ms", (double)row.pairing_until_ms);
    return commit_change(env, peer, reopen ? "pair-again" : "pair", &row, NULL, detail,
                         "pairing window opened", o);
}

/* Common start of the commands that change one existing node. */
static char *take_node(const struct lw_nodectl_env *env, const cJSON *req, const char *verb,
                       bool paired_only, struct rows *r, struct lw_node_conf **out)
{
    bool bad = false;
    const char *id = str_field(req, "node", &bad);
    *out = NULL;
    if (!id || bad)
        return fail("usage", "which node? (name, address or EUI)");
    if (load_rows(env, r) != LW_OK)
        return fail("db", "the node registry could not be read; see the daemon's log");
    struct lw_node_conf *c = resolve(r, id, NULL);
    char *e = NULL;
    if (!c)
        e = fail("not_found", "no node '%s' (lorawatch nodes lists them)", id);
    else if (c->state == LW_NODE_RETIRED)
        e = fail("conflict", "node '%s' is retired; pair new hardware under a new name", c->name);
    else if (paired_only && c->from_config)
        e = fail("conflict",
                 "node '%s' is defined by a [node:%s] section of %s; %s it by editing that file "
                 "and reloading (systemctl reload lorawatchd)",
                 c->name, c->name, env->cfg->path, verb);
    if (e) {
        rows_free(r);
        return e;
    }
    *out = c;
    return NULL;
}

static char *cmd_unpair(const struct lw_nodectl_env *env, const cJSON *req,
                        const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "remove", true, &r, &c);
    if (e)
        return e;
    struct lw_node_conf row = *c;
    rows_free(&r);
    int rc = lw_nodedb_delete(env->nodedb, row.address);
    if (rc == LW_ERR_STATE)
        return fail("conflict",
                    "node '%s' has readings or alerts; 'lorawatch retire %s' keeps its history",
                    row.name, row.name);
    char eh[17];
    lw_format_hex(row.eui, 8, eh);
    if (rc == LW_OK)
        rc = lw_nodedb_journal(env->nodedb, env->now_ms, (long)peer->uid, "unpair", row.address, eh,
                               NULL, row.name);
    if (rc == LW_OK)
        rc = lw_store_commit(env->store);
    if (rc != LW_OK)
        return fail("db", "the change could not be stored (database error; see the log)");
    lw_log(LW_LOG_NOTICE, "node %s (0x%04X) unpaired by uid %u", row.name, row.address, peer->uid);
    env->rebuild(env->arg);
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    return finish(o);
}

static char *cmd_retire(const struct lw_nodectl_env *env, const cJSON *req,
                        const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "retire", true, &r, &c);
    if (e)
        return e;
    struct lw_node_conf row = *c;
    enum lw_node_state was = c->state;
    rows_free(&r);
    row.state = LW_NODE_RETIRED;
    row.has_session = false;
    memset(row.key, 0, LW_KEY_LEN);
    memset(row.key_down, 0, LW_KEY_LEN);
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    return commit_change(env, peer, "retire", &row, lw_node_state_name(was), "retired",
                         "frames refused from now on; history kept", o);
}

static char *cmd_replace(const struct lw_nodectl_env *env, const cJSON *req,
                         const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "replace its hardware", true, &r, &c);
    if (e)
        return e;
    uint8_t eui[8], key[LW_KEY_LEN];
    e = take_hardware(env, req, &r, c->address, eui, key);
    struct lw_node_conf row = *c;
    rows_free(&r);
    if (e)
        return e;
    int64_t win = window_ms(req);
    if (win < 0)
        return fail("usage", "pairing window: 1 to %d seconds", MAX_WINDOW_S);
    char old_eui[17], new_eui[17];
    lw_format_hex(row.eui, 8, old_eui);
    lw_format_hex(eui, 8, new_eui);
    memcpy(row.eui, eui, 8);
    memcpy(row.root_key, key, LW_KEY_LEN);
    row.state = LW_NODE_PENDING;
    row.has_session = false;
    row.join_nonce = 0; /* the new hardware counts its own join nonces */
    row.fcnt_up = 0;
    row.pairing_until_ms = env->now_ms + win;
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    cJSON_AddNumberToObject(o, "address", row.address);
    cJSON_AddNumberToObject(o, "pairing_until_ms", (double)row.pairing_until_ms);
    return commit_change(env, peer, "replace", &row, old_eui, new_eui,
                         "new hardware at the same place; history kept", o);
}

static char *cmd_locate(const struct lw_nodectl_env *env, const cJSON *req,
                        const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "move", true, &r, &c);
    if (e)
        return e;
    struct lw_node_conf row = *c;
    rows_free(&r);
    char before[LW_NAME_MAX * 4 + LW_TEXT_MAX * 2 + 96], after[sizeof(before)], why[160];
    place_text(&row, before, sizeof(before));
    bool changed = false;
    if (!take_place(req, &row, &changed, why, sizeof(why)))
        return fail("usage", "%s", why);
    if (!changed)
        return fail("usage", "nothing to change: give --building, --floor, --unit, --grid, "
                             "--place or --tags with a new value");
    place_text(&row, after, sizeof(after));
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    return commit_change(env, peer, "locate", &row, before, after, NULL, o);
}

/* A rule on the node's water depth (its level, mean or rate of rise): water it alarms on is no
 * dry level. */
static bool depth_rule(const struct lw_rule_conf *rule)
{
    return rule->type == LW_RULE_THRESHOLD && rule->metric == LW_METRIC_WATER;
}

/* The node's open alert of a water-depth rule of the highest level (its rule in *rule), or NULL
 * when none is open. Other alerts (tamper, battery, silence) say nothing of the dry level: the
 * case a technician opened to zero the sensor must not refuse the zero. */
static const struct lw_rule_state *open_alert(const struct lw_nodectl_env *env,
                                              const struct lw_node *live,
                                              const struct lw_rule_conf **rule)
{
    const struct lw_rule_state *found = NULL;
    int best = -1;
    for (size_t i = 0; live && i < env->cfg->n_rules; i++) {
        const struct lw_rule_state *st = &live->rules[i];
        if (!st->active || !depth_rule(&env->cfg->rules[i]))
            continue;
        int level = (int)st->level; /* the level it was raised at */
        if (level > best) {
            best = level;
            found = st;
            *rule = &env->cfg->rules[i];
        }
    }
    return found;
}

/* The first water-level rule applying to the node whose threshold its latest depth reaches, or
 * NULL. Rates of rise are in mm/min, not a depth; falling rules (below) are left out: low water
 * is no alarm a zero could hide. */
static const struct lw_rule_conf *over_threshold(const struct lw_nodectl_env *env,
                                                 const struct lw_node *live)
{
    for (size_t i = 0; i < env->cfg->n_rules; i++) {
        const struct lw_rule_conf *rule = &env->cfg->rules[i];
        if (live->rules[i].applies && depth_rule(rule) && rule->statistic != LW_STAT_RISE &&
            !rule->below && (double)live->last.water_mm >= rule->threshold)
            return rule;
    }
    return NULL;
}

static char *cmd_calibrate(const struct lw_nodectl_env *env, const cJSON *req,
                           const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "calibrate", true, &r, &c);
    if (e)
        return e;
    struct lw_node_conf row = *c;
    rows_free(&r);
    if (row.kind != LW_KIND_WATER && row.kind != LW_KIND_MULTI)
        return fail("usage", "node '%s' is a %s node: only water sensors are calibrated", row.name,
                    lw_kind_name(row.kind));
    const cJSON *mh = cJSON_GetObjectItemCaseSensitive(req, "mount_height_mm");
    bool zero = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "zero"));
    if ((mh != NULL) == zero)
        return fail("usage", "give either --mount-height MM or --zero");
    char before[64], after[64];
    if (mh) {
        if (!cJSON_IsNumber(mh) || mh->valuedouble < 0 || mh->valuedouble > 20000)
            return fail("usage", "--mount-height: 0 to 20000 mm");
        snprintf(before, sizeof(before), "mount_height=%u", row.mount_height_mm);
        row.mount_height_mm = (uint32_t)mh->valuedouble;
        snprintf(after, sizeof(after), "mount_height=%u", row.mount_height_mm);
    } else {
        /* Zero: what the node reports now is the dry level. */
        struct lw_node *live = lw_registry_find(env->registry(env->arg), row.address);
        if (!live || !(live->last.present & LW_R_WATER))
            return fail("conflict",
                        "node '%s' has sent no water reading since the daemon started; wait for "
                        "one (lorawatch node show %s), then calibrate",
                        row.name, row.name);
        /* Water under an open alarm is not a dry level; with force the alert stays open until
         * the water really falls (lw_rules_recalibrated). */
        const struct lw_rule_conf *rule = NULL;
        const struct lw_rule_state *st = open_alert(env, live, &rule);
        bool force = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "force"));
        if (st && !force) {
            return fail("conflict",
                        "node '%s' has open alert #%lld (%s, rule %s, %g %s): zeroing now would "
                        "take that water for the dry level; wait until it clears, or give --force "
                        "(the alert then clears only when the water really falls)",
                        row.name, (long long)st->alert_id, lw_level_name(st->level), rule->name,
                        st->last, lw_rule_value_unit(rule));
        }
        /* Nor is water at a threshold whose alert is still waiting out its persistence. */
        rule = over_threshold(env, live);
        if (rule && !force) {
            return fail("conflict",
                        "node '%s' reads %u mm, at or above the %g mm threshold of rule %s: water "
                        "over a threshold is not a dry level; wait until it falls, or give --force "
                        "(an exceedance in progress is then still judged on the old zero)",
                        row.name, (unsigned)live->last.water_mm, rule->threshold, rule->name);
        }
        snprintf(before, sizeof(before), "zero_offset=%u", row.zero_offset_mm);
        row.zero_offset_mm += live->last.water_mm; /* last is already net of the old offset */
        snprintf(after, sizeof(after), "zero_offset=%u", row.zero_offset_mm);
    }
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    cJSON_AddNumberToObject(o, "mount_height_mm", row.mount_height_mm);
    cJSON_AddNumberToObject(o, "zero_offset_mm", row.zero_offset_mm);
    return commit_change(env, peer, "calibrate", &row, before, after, NULL, o);
}

static char *cmd_rekey(const struct lw_nodectl_env *env, const cJSON *req,
                       const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "rekey", true, &r, &c);
    if (e)
        return e;
    struct lw_node_conf row = *c;
    bool bad = false;
    const char *k = str_field(req, "key", &bad);
    uint8_t key[LW_KEY_LEN];
    if (bad || (k && (strlen(k) != 32 || lw_parse_hex(k, key, LW_KEY_LEN) != LW_OK ||
                      lw_all_zero(key, LW_KEY_LEN)))) {
        rows_free(&r);
        return fail("usage", "--key: a root key is 32 hex digits, not all zero");
    }
    for (size_t i = 0; k && i < r.count; i++)
        if (r.n[i].address != row.address && r.n[i].state != LW_NODE_RETIRED &&
            !memcmp(r.n[i].root_key, key, LW_KEY_LEN)) {
            char *e2 = fail("conflict", "that key already belongs to node '%s'", r.n[i].name);
            rows_free(&r);
            return e2;
        }
    rows_free(&r);
    int64_t win = window_ms(req);
    if (win < 0)
        return fail("usage", "pairing window: 1 to %d seconds", MAX_WINDOW_S);
    if (k)
        memcpy(row.root_key, key, LW_KEY_LEN);
    /* The session ends here: the node's next frames are refused until it joins again and gets
     * fresh session keys. */
    row.has_session = false;
    row.state = LW_NODE_PENDING;
    row.fcnt_up = 0;
    row.pairing_until_ms = env->now_ms + win;
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    cJSON_AddNumberToObject(o, "pairing_until_ms", (double)row.pairing_until_ms);
    return commit_change(env, peer, "rekey", &row, NULL, NULL,
                         k ? "new root key; session ended, node must join again"
                           : "session ended, node must join again",
                         o);
}

static char *cmd_test_alarm(const struct lw_nodectl_env *env, const cJSON *req,
                            const struct lw_control_peer *peer)
{
    struct rows r;
    struct lw_node_conf *c;
    char *e = take_node(env, req, "test", false, &r, &c);
    if (e)
        return e;
    struct lw_node_conf row = *c;
    rows_free(&r);
    struct lw_node *live = lw_registry_find(env->registry(env->arg), row.address);
    if (!live)
        return fail("conflict", "node '%s' is not in the running registry", row.name);
    int64_t id = env->test_alarm(env->arg, live);
    if (id <= 0)
        return fail("db", "the test alert could not be raised: %s", lw_strerror((int)id));
    char ids[24];
    snprintf(ids, sizeof(ids), "%lld", (long long)id);
    if (lw_nodedb_journal(env->nodedb, env->now_ms, (long)peer->uid, "test-alarm", row.address,
                          NULL, ids, "test alert published, marked as a test") != LW_OK ||
        lw_store_commit(env->store) != LW_OK)
        lw_log(LW_LOG_ERR, "test alarm of %s: not journalled", row.name);
    cJSON *o = ok_reply();
    cJSON_AddStringToObject(o, "name", row.name);
    cJSON_AddNumberToObject(o, "alert", (double)id);
    return finish(o);
}

static const struct {
    const char *name;
    char *(*handle)(const struct lw_nodectl_env *env, const cJSON *req,
                    const struct lw_control_peer *peer);
} node_cmds[] = {
    {"nodes", cmd_nodes},           {"node-show", cmd_show},      {"pair", cmd_pair},
    {"unpair", cmd_unpair},         {"retire", cmd_retire},       {"replace", cmd_replace},
    {"locate", cmd_locate},         {"calibrate", cmd_calibrate}, {"rekey", cmd_rekey},
    {"test-alarm", cmd_test_alarm}, {"database", cmd_database},
};

char *lw_nodectl_handle(const struct lw_nodectl_env *env, const char *cmd, const cJSON *req,
                        const struct lw_control_peer *peer)
{
    for (size_t i = 0; i < sizeof(node_cmds) / sizeof(node_cmds[0]); i++)
        if (strcmp(cmd, node_cmds[i].name) == 0)
            return node_cmds[i].handle(env, req, peer);
    return NULL;
}
