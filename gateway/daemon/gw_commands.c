/* SPDX-License-Identifier: Apache-2.0 */
/* Commands: from duty phones over MQTT (acknowledge, silence, unsilence) and from the lorawatch
 * CLI over the control socket, each dispatched through one table. */
#include "gw_int.h"

#include <cjson/cJSON.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_nodectl.h"
#include "lw_version.h"

static int phone_ack(struct lw_gateway *g, const struct lw_phonecmd *c,
                     const struct lw_duty_person *who, char *why, size_t cap, const char **code)
{
    struct lw_ack ack = {
        .actor = who->id, .tier = who->tier, .via = "mqtt", .note = c->note, .outcome = c->outcome};
    return gw_ack_alert(g, c->alert, &ack, why, cap, code);
}

static int phone_silence(struct lw_gateway *g, const struct lw_phonecmd *c,
                         const struct lw_duty_person *who, char *why, size_t cap, const char **code)
{
    struct lw_silence s;
    int rc = gw_make_silence(g, c->node, c->building, c->hazard, c->for_ms, c->force, who->id,
                             c->reason, &s, why, cap, code);
    if (rc == LW_OK)
        snprintf(why, cap, "silence #%lld", (long long)s.id);
    return rc;
}

static int phone_unsilence(struct lw_gateway *g, const struct lw_phonecmd *c,
                           const struct lw_duty_person *who, char *why, size_t cap,
                           const char **code)
{
    (void)who;
    return gw_lift_silence(g, c->silence, why, cap, code);
}

/* The phone commands by kind (lw_phonecmd_parse accepts no other): LW_OK with why holding the
 * result text, or the refusal with why and code. */
static int (*const phone_cmds[])(struct lw_gateway *g, const struct lw_phonecmd *c,
                                 const struct lw_duty_person *who, char *why, size_t cap,
                                 const char **code) = {
    [LW_PHONECMD_ACK] = phone_ack,
    [LW_PHONECMD_SILENCE] = phone_silence,
    [LW_PHONECMD_UNSILENCE] = phone_unsilence,
};

/* A command from a duty phone on lorawatch/<site>/command/<mqtt_user>; the answer goes to
 * lorawatch/<site>/reply/<mqtt_user>. The identity is the topic's (the broker's ACL lets each
 * user publish only there); a "by" naming somebody else is refused. Nothing changes on refusal. */
void gw_on_mqtt_message(void *arg, const char *topic, const void *payload, size_t len)
{
    struct lw_gateway *g = arg;
    size_t pl = strlen(g->command_prefix);
    if (strncmp(topic, g->command_prefix, pl) != 0)
        return;
    const char *user = topic + pl;
    if (!user[0] || strchr(user, '/') || strlen(user) >= 64) {
        lw_phonecmd_count(&g->commands, "usage");
        return;
    }
    char reply_topic[192], why[256] = "";
    snprintf(reply_topic, sizeof(reply_topic), "lorawatch/%s/reply/%s", g->cfg->site, user);
    struct lw_phonecmd c;
    const char *code = "usage";
    const struct lw_duty_person *who = lw_roster_by_user(g->cfg->roster, user);
    int rc = lw_phonecmd_parse(payload, len, &c, why, sizeof(why));
    if (!who) {
        snprintf(why, sizeof(why), "'%s' is not on the duty roster", user);
        code = "denied";
        rc = LW_ERR_INVAL;
    } else if (rc == LW_OK && c.by[0] && strcmp(c.by, user) != 0 && strcmp(c.by, who->id) != 0) {
        snprintf(why, sizeof(why), "\"by\" says '%s' but the command came from '%s'", c.by, user);
        code = "denied";
        rc = LW_ERR_INVAL;
    }
    if (rc == LW_OK)
        rc = phone_cmds[c.kind](g, &c, who, why, sizeof(why), &code);
    if (rc != LW_OK)
        lw_log_rl(LW_LOG_WARNING, "mqtt command from '%s' refused: %s", user, why);
    lw_phonecmd_count(&g->commands, rc == LW_OK ? NULL : code);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", rc == LW_OK);
    if (c.request_id[0])
        cJSON_AddStringToObject(o, "id", c.request_id);
    if (rc == LW_OK && c.kind == LW_PHONECMD_ACK)
        cJSON_AddNumberToObject(o, "alert", (double)c.alert);
    if (rc == LW_OK && why[0])
        cJSON_AddStringToObject(o, "result", why);
    if (rc != LW_OK) {
        cJSON_AddStringToObject(o, "error", why);
        cJSON_AddStringToObject(o, "code", code);
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text)
        lw_mqtt_publish(g->mqtt, reply_topic, text, 1, false, 0);
    free(text);
}

/* The end of every alert command's reply: "ok", and why not with a code when refused. */
static char *alert_reply(cJSON *o, int rc, const char *why, const char *code)
{
    cJSON_AddBoolToObject(o, "ok", rc == LW_OK);
    if (rc != LW_OK) {
        cJSON_AddStringToObject(o, "error", why);
        cJSON_AddStringToObject(o, "code", code);
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Who a CLI request comes from, as the roster knows them: "as" (a roster id the operator acts
 * for, e.g. the duty room's console), else the roster person whose id or MQTT user is the Unix
 * login name, else "uid:N". LW_ERR_INVAL (with why) when "as" names nobody on the roster. */
static int actor_of(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer,
                    char *actor, size_t cap, unsigned *tier, char *why, size_t whycap)
{
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(req, "as");
    const struct lw_roster *r = g->cfg->roster;
    *tier = 0;
    snprintf(actor, cap, "uid:%u", peer->uid);
    if (as) {
        for (size_t i = 0; cJSON_IsString(as) && r && i < r->n; i++)
            if (strcmp(r->p[i].id, as->valuestring) == 0) {
                snprintf(actor, cap, "%s", r->p[i].id);
                *tier = r->p[i].tier;
                return LW_OK;
            }
        snprintf(why, whycap, "--as %s: nobody with that id on the duty roster ([duty:ID])",
                 cJSON_IsString(as) ? as->valuestring : "?");
        return LW_ERR_INVAL;
    }
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwuid_r((uid_t)peer->uid, &pw, buf, sizeof(buf), &found) != 0 || !found)
        return LW_OK;
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->p[i].id, found->pw_name) == 0 ||
            strcmp(r->p[i].mqtt_user, found->pw_name) == 0) {
            snprintf(actor, cap, "%s", r->p[i].id);
            *tier = r->p[i].tier;
            break;
        }
    return LW_OK;
}

/* A CLI request checked by the phone commands' parser, as command cmd (its own fields: "as"). */
static int as_phonecmd(const cJSON *req, const char *cmd, struct lw_phonecmd *c, char *why,
                       size_t cap)
{
    cJSON *copy = cJSON_Duplicate(req, 1);
    if (!copy) {
        snprintf(why, cap, "out of memory");
        return LW_ERR_NOMEM;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "as");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "cmd");
    cJSON_AddStringToObject(copy, "cmd", cmd);
    char *body = cJSON_PrintUnformatted(copy);
    cJSON_Delete(copy);
    int rc = body ? lw_phonecmd_parse(body, strlen(body), c, why, cap) : LW_ERR_NOMEM;
    free(body);
    return rc;
}

static char *cmd_alerts(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer)
{
    (void)peer;
    cJSON *o = cJSON_CreateObject();
    bool all = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "all"));
    cJSON *arr = lw_alertdb_list(g->store, all, all ? 200 : 1000);
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        unsigned tier;
        bool acked, held;
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        if (cJSON_IsNumber(id) &&
            lw_escalation_state(g->escalation, (int64_t)id->valuedouble, &tier, &acked, &held))
            cJSON_AddBoolToObject((cJSON *)a, "held", held);
    }
    cJSON_AddItemToObject(o, "alerts", arr ? arr : cJSON_CreateArray());
    const struct lw_silence *s;
    size_t n = lw_escalation_silences(g->escalation, &s);
    cJSON_AddNumberToObject(o, "silences", (double)n);
    return alert_reply(o, LW_OK, "", "");
}

static char *cmd_ack(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer)
{
    char why[256] = "", actor[64];
    const char *code = "usage";
    struct lw_phonecmd c;
    struct lw_ack ack = {.actor = actor, .via = "cli"};
    int rc = actor_of(g, req, peer, actor, sizeof(actor), &ack.tier, why, sizeof(why));
    if (rc == LW_OK)
        rc = as_phonecmd(req, "ack", &c, why, sizeof(why));
    if (rc == LW_OK) {
        ack.note = c.note;
        ack.outcome = c.outcome;
        rc = gw_ack_alert(g, c.alert, &ack, why, sizeof(why), &code);
    }
    cJSON *o = cJSON_CreateObject();
    if (rc == LW_OK)
        cJSON_AddStringToObject(o, "by", actor);
    return alert_reply(o, rc, why, code);
}

/* The same fields as the MQTT command, checked by the same parser. */
static char *cmd_silence(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer)
{
    char why[256] = "", actor[64];
    const char *code = "usage";
    unsigned tier;
    cJSON *o = cJSON_CreateObject();
    struct lw_phonecmd c;
    int rc = actor_of(g, req, peer, actor, sizeof(actor), &tier, why, sizeof(why));
    if (rc == LW_OK)
        rc = as_phonecmd(req, "silence", &c, why, sizeof(why));
    struct lw_silence s;
    if (rc == LW_OK)
        rc = gw_make_silence(g, c.node, c.building, c.hazard, c.for_ms, c.force, actor, c.reason,
                             &s, why, sizeof(why), &code);
    if (rc == LW_OK) {
        cJSON_AddNumberToObject(o, "silence", (double)s.id);
        cJSON_AddNumberToObject(o, "until_ms", (double)s.until_ms);
    }
    return alert_reply(o, rc, why, code);
}

static char *cmd_silences(struct lw_gateway *g, const cJSON *req,
                          const struct lw_control_peer *peer)
{
    (void)req;
    (void)peer;
    cJSON *o = cJSON_CreateObject();
    const struct lw_silence *s;
    size_t n = lw_escalation_silences(g->escalation, &s);
    cJSON *arr = cJSON_AddArrayToObject(o, "silences");
    for (size_t i = 0; i < n; i++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "id", (double)s[i].id);
        const struct lw_node *nd = s[i].node ? lw_registry_find(g->reg, s[i].node) : NULL;
        if (nd)
            cJSON_AddStringToObject(j, "node", nd->conf->name);
        if (s[i].building[0])
            cJSON_AddStringToObject(j, "building", s[i].building);
        cJSON_AddStringToObject(
            j, "hazard", s[i].hazard < 0 ? "any" : lw_hazard_name((enum lw_hazard)s[i].hazard));
        cJSON_AddNumberToObject(j, "until_ms", (double)s[i].until_ms);
        cJSON_AddStringToObject(j, "by", s[i].actor);
        cJSON_AddStringToObject(j, "reason", s[i].reason);
        cJSON_AddBoolToObject(j, "forced", s[i].forced);
        cJSON_AddItemToArray(arr, j);
    }
    return alert_reply(o, LW_OK, "", "");
}

static char *cmd_unsilence(struct lw_gateway *g, const cJSON *req,
                           const struct lw_control_peer *peer)
{
    (void)peer;
    char why[256] = "";
    const char *code = "usage";
    int rc;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "silence");
    if (!cJSON_IsNumber(id) || id->valuedouble < 1) {
        snprintf(why, sizeof(why), "which silence? (\"silence\": its id)");
        rc = LW_ERR_INVAL;
    } else {
        rc = gw_lift_silence(g, (int64_t)id->valuedouble, why, sizeof(why), &code);
    }
    return alert_reply(cJSON_CreateObject(), rc, why, code);
}

/* "status" answers with the same text as the metrics file, so the CLI reads one format whether
 * the daemon is reachable or only its last snapshot is. */
static char *cmd_status(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer)
{
    (void)req;
    (void)peer;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    struct lw_metrics m;
    gw_fill_metrics(g, true, &m);
    char *text = lw_metrics_text(&m);
    cJSON_AddBoolToObject(o, "ok", text != NULL);
    cJSON_AddStringToObject(o, "metrics", text ? text : "");
    free(text);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *cmd_event_mode(struct lw_gateway *g, const cJSON *req,
                            const struct lw_control_peer *peer)
{
    (void)peer;
    return gw_control_event_mode(g, req);
}

static char *cmd_ping(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer)
{
    (void)g;
    (void)req;
    (void)peer;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddBoolToObject(o, "ok", 1);
    cJSON_AddStringToObject(o, "version", LW_VERSION);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* The daemon's own control commands (the node commands are lw_nodectl's): each returns the
 * malloc'd reply. Request and reply fields are in docs/CONTROL.md. */
static const struct {
    const char *name;
    char *(*handle)(struct lw_gateway *g, const cJSON *req, const struct lw_control_peer *peer);
} control_cmds[] = {
    {"alerts", cmd_alerts},         {"ack", cmd_ack},
    {"silence", cmd_silence},       {"silences", cmd_silences},
    {"unsilence", cmd_unsilence},   {"status", cmd_status},
    {"event-mode", cmd_event_mode}, {"ping", cmd_ping},
};

static struct lw_registry *current_registry(void *arg)
{
    return ((struct lw_gateway *)arg)->reg;
}

/* lorawatch test-alarm: a blue test alert of the node's own hazard travels the whole alert path
 * (journal, outbox, MQTT) marked as a test, and is cleared at once. It measures nothing: its
 * value is 0, and its sentences say it is a test, not what the water or air is. */
static int64_t raise_test_alarm(void *arg, struct lw_node *n)
{
    struct lw_gateway *g = arg;
    struct lw_rule_conf rule;
    lw_alert_test_rule(&rule, n->conf->kind);
    struct lw_rule_state st = {0};
    int64_t t = gw_now_ms(g);
    g->test_mode = true;
    gw_alert_transition(g, n->conf, &rule, &st, LW_ALERT_RAISED, 0, t);
    gw_alert_transition(g, n->conf, &rule, &st, LW_ALERT_CLEARED, 0, t);
    g->test_mode = false;
    return st.alert_id;
}

/* Requests from the lorawatch CLI: the node commands first, then the daemon's own. */
static char *on_control(void *arg, const char *cmd, const cJSON *req,
                        const struct lw_control_peer *peer)
{
    struct lw_gateway *g = arg;
    struct lw_nodectl_env env = {
        .arg = g,
        .cfg = g->cfg,
        .store = g->store,
        .nodedb = g->nodedb,
        .registry = current_registry,
        .rebuild = gw_rebuild_registry,
        .test_alarm = raise_test_alarm,
        .now_ms = lw_clock_wall_ms(),
        .mesh = g->mesh, /* node show: each relay of the route by name, with its hop's link */
    };
    char *reply = lw_nodectl_handle(&env, cmd, req, peer);
    if (reply)
        return reply;
    for (size_t i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++)
        if (strcmp(cmd, control_cmds[i].name) == 0)
            return control_cmds[i].handle(g, req, peer);
    return NULL;
}

/* The CLI's socket is a convenience: without it the daemon still does its main job. */
void gw_commands_start(struct lw_gateway *g)
{
    const struct lw_config *cfg = g->cfg;
    if (cfg->control_socket[0] && lw_control_new(g->loop, cfg->control_socket, cfg->control_group,
                                                 on_control, g, &g->control) != LW_OK)
        lw_log(LW_LOG_ERR, "control socket unavailable; lorawatch status falls back to metrics");
}

void gw_commands_stop(struct lw_gateway *g)
{
    lw_control_free(g->control);
    g->control = NULL;
}
