/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the node registry's control requests (lw_nodectl): arbitrary bytes as a
 * request body, parsed like the control socket does, then handled against a real (in-memory)
 * database. Every request is answered with a JSON object saying ok or why not; nothing crashes,
 * leaks or leaves the transaction open. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_config.h"
#include "lw_ctlproto.h"
#include "lw_error.h"
#include "lw_nodectl.h"
#include "lw_nodedb.h"
#include "lw_registry.h"
#include "lw_store.h"

static struct lw_store *store;
static struct lw_nodedb *db;
static struct lw_config *cfg;
static struct lw_registry *reg;

static struct lw_registry *get_registry(void *arg)
{
    (void)arg;
    return reg;
}

static int rebuild(void *arg)
{
    (void)arg;
    struct lw_node_conf *nodes = NULL;
    size_t n = 0;
    if (lw_nodedb_load(db, false, &nodes, NULL, &n) != LW_OK)
        return LW_ERR_DB;
    struct lw_registry *r = lw_registry_new(cfg, nodes, n);
    free(nodes);
    if (!r)
        return LW_ERR_NOMEM;
    lw_registry_free(reg);
    reg = r;
    return LW_OK;
}

static int64_t test_alarm(void *arg, struct lw_node *n)
{
    (void)arg;
    (void)n;
    return 1;
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        char err[256];
        store = lw_store_open(":memory:", 64, err, sizeof(err));
        cfg = lw_config_parse("fuzz.conf", "", 0, quiet, NULL);
        if (!store || !cfg || !(db = lw_nodedb_new(store)))
            __builtin_trap();
        rebuild(NULL);
    }
    char cmd[32], why[128];
    cJSON *req = NULL;
    if (lw_ctl_parse_request(data, size, cmd, sizeof(cmd), &req, why, sizeof(why)) != LW_OK)
        return 0;
    struct lw_nodectl_env env = {
        .cfg = cfg,
        .store = store,
        .nodedb = db,
        .registry = get_registry,
        .rebuild = rebuild,
        .test_alarm = test_alarm,
        .now_ms = 1784052000000LL,
    };
    struct lw_control_peer peer = {.uid = 1000, .gid = 1000, .pid = 1};
    char *reply = lw_nodectl_handle(&env, cmd, req, &peer);
    if (reply) {
        cJSON *o = cJSON_Parse(reply);
        const cJSON *ok = cJSON_GetObjectItemCaseSensitive(o, "ok");
        if (!cJSON_IsBool(ok) ||
            (!cJSON_IsTrue(ok) && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "error"))))
            __builtin_trap(); /* every answer says ok, or why not */
        cJSON_Delete(o);
    }
    free(reply);
    cJSON_Delete(req);
    lw_store_commit(store);
    return 0;
}
