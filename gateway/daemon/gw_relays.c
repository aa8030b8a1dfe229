/* SPDX-License-Identifier: Apache-2.0 */
/* Relays gone silent: one trouble alert per relay naming the nodes behind it, and the relays
 * that were already silent before a restart. */
#include "gw_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"

/* When a relay goes silent, the nodes behind it are unreachable through it: one trouble alert
 * names the relay and lists them, instead of one silence alert per node. It clears when the relay
 * is heard again. The rule is synthetic (not in the configuration), like the test alarm's. */
#define RELAY_TICK_MS        1000
#define RELAY_TICK_MEDIUM_MS 20

struct relay_alert *gw_relay_alert_state(struct lw_gateway *g, uint16_t relay)
{
    for (size_t i = 0; i < g->n_relay_alerts; i++)
        if (g->relay_alerts[i].relay == relay)
            return &g->relay_alerts[i];
    struct relay_alert *na = realloc(g->relay_alerts, (g->n_relay_alerts + 1) * sizeof(*na));
    if (!na)
        return NULL;
    g->relay_alerts = na;
    memset(&na[g->n_relay_alerts], 0, sizeof(*na));
    na[g->n_relay_alerts].relay = relay;
    return &na[g->n_relay_alerts++];
}

/* The relay as an alert's node: its registry entry when it is also a sensor, else a name made
 * from its address. */
void gw_relay_node_conf(struct lw_gateway *g, uint16_t relay, struct lw_node_conf *node)
{
    const struct lw_node *rn = lw_registry_find(g->reg, relay);
    if (rn) {
        *node = *rn->conf;
        return;
    }
    memset(node, 0, sizeof(*node));
    node->address = relay;
    node->kind = LW_KIND_MULTI;
    snprintf(node->name, sizeof(node->name), "relay-%04X", relay);
    snprintf(node->label, sizeof(node->label), "relay 0x%04X", relay);
}

static void on_relay_event(void *user, uint16_t relay, bool silent, const uint16_t *behind,
                           size_t n_behind, int64_t last_heard_ms)
{
    struct lw_gateway *g = user;
    struct relay_alert *ra = gw_relay_alert_state(g, relay);
    if (!ra || silent == ra->st.active)
        return;
    /* Its value is a silence rule's: seconds not heard, when raised; the silence that ended (the
     * gap between the frames either side), when cleared. */
    int64_t now = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    int64_t gap = silent ? now - last_heard_ms : last_heard_ms - ra->st.heard_ms;
    ra->st.heard_ms = last_heard_ms;
    struct lw_rule_conf rule;
    lw_alert_relay_rule(&rule, g->cfg->mesh_relay_silence_ms);
    /* The place lists who is cut off. */
    struct lw_node_conf node;
    gw_relay_node_conf(g, relay, &node);
    char where[LW_TEXT_MAX * 2];
    int len = snprintf(where, sizeof(where), "relay %s%s%s%s; %zu node%s behind it%s", node.name,
                       node.place[0] || node.building[0] ? " (" : "",
                       node.place[0] ? node.place : node.building,
                       node.place[0] || node.building[0] ? ")" : "", n_behind,
                       n_behind == 1 ? "" : "s", n_behind ? ":" : "");
    for (size_t i = 0; silent && i < n_behind && len > 0 && (size_t)len < sizeof(where); i++) {
        const struct lw_node *b = lw_registry_find(g->reg, behind[i]);
        char one[LW_NAME_MAX + 8];
        if (b)
            snprintf(one, sizeof(one), " %s", b->conf->name);
        else
            snprintf(one, sizeof(one), " 0x%04X", behind[i]);
        len += snprintf(where + len, sizeof(where) - (size_t)len, "%s%s", i ? "," : "", one);
    }
    size_t wl = strlen(where);
    if (wl >= sizeof(node.place)) { /* a long list is cut, and says so */
        wl = sizeof(node.place) - 1;
        memcpy(where + wl - 3, "...", 3);
    }
    memcpy(node.place, where, wl);
    node.place[wl] = '\0';
    lw_log(LW_LOG_NOTICE, "mesh: relay 0x%04X %s (%zu nodes behind it)", relay,
           silent ? "silent" : "heard again", n_behind);
    gw_alert_transition(g, &node, &rule, &ra->st, silent ? LW_ALERT_RAISED : LW_ALERT_CLEARED,
                        gap > 0 ? (double)gap / 1000.0 : 0, gw_now_ms(g));
    ra->st.active = silent;
}

/* Last time node was heard before the restart, as stored (its newest reading or its last
 * contact, whichever is later; 0: never). */
static int64_t heard_before(struct lw_gateway *g, const struct lw_node *n)
{
    int64_t t = 0;
    if (!n || lw_store_newest_reading(g->store, n->conf->address, &t) != LW_OK)
        t = 0;
    return n && n->db_seen.last_seen_ms > t ? n->db_seen.last_seen_ms : t;
}

/* Relays known from before the restart (the last relay of each node's last frame) are watched
 * from where they were: silence counts only the time the gateway listened, so a relay already
 * quiet for 4 of its 5 minutes before the restart is reported a minute after it, and a long
 * stop of the daemon never makes a relay look silent. Both ends come from the same stored
 * clock: the relay's last frame (its own, or one it carried) and the newest frame of all. */
static void known_relays(struct lw_gateway *g, int64_t now, int64_t silence)
{
    size_t count = g->reg ? lw_registry_count(g->reg) : 0;
    struct seen_relay {
        uint16_t addr;
        int64_t last;
    } *rl = count ? calloc(count, sizeof(*rl)) : NULL;
    size_t n_rl = 0;
    int64_t newest = 0;
    for (size_t i = 0; i < count; i++) {
        const struct lw_node *n = lw_registry_at(g->reg, i);
        int64_t t = heard_before(g, n);
        if (t > newest)
            newest = t;
        if (n->db_seen.relay <= 0)
            continue;
        uint16_t addr = (uint16_t)n->db_seen.relay;
        if (!rl) { /* no memory: watched from now, as if just heard */
            lw_mesh_relay_known(g->mesh, addr, now, false);
            continue;
        }
        size_t k = 0;
        while (k < n_rl && rl[k].addr != addr)
            k++;
        if (k == n_rl)
            rl[n_rl++] = (struct seen_relay){addr, heard_before(g, lw_registry_find(g->reg, addr))};
        if (n->db_seen.last_seen_ms > rl[k].last)
            rl[k].last = n->db_seen.last_seen_ms;
    }
    for (size_t k = 0; k < n_rl; k++) {
        int64_t quiet = rl[k].last > 0 && newest > rl[k].last ? newest - rl[k].last : 0;
        if (quiet > silence)
            quiet = silence;
        lw_mesh_relay_known(g->mesh, rl[k].addr, now - quiet, false);
    }
    free(rl);
}

/* What a restart knows of the mesh and of alarms is taken up with the first frame, on the rules'
 * clock (a simulated medium's starts with it). Relays known from before (the last relay of a
 * node's last frame, and relays whose silence alert is still open) are watched: one that died
 * before the restart is reported after relay_silence, one already reported stays reported until
 * it is heard again, and then its alert clears. Detectors whose alarm is still open count for the
 * coincidence of the others, as before the restart. */
void gw_restore_on_first_frame(struct lw_gateway *g)
{
    int64_t now = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    int64_t silence = (int64_t)g->cfg->mesh_relay_silence_ms;
    for (size_t i = 0; i < g->n_relay_alerts; i++) {
        struct relay_alert *ra = &g->relay_alerts[i];
        if (!ra->st.active)
            continue;
        ra->st.heard_ms = now - silence;
        lw_mesh_relay_known(g->mesh, ra->relay, now - silence, true);
    }
    known_relays(g, now, silence);
    for (size_t i = 0; g->reg && i < lw_registry_count(g->reg); i++) {
        const struct lw_node *n = lw_registry_at(g->reg, i);
        for (size_t k = 0; k < g->cfg->n_rules; k++)
            if (n->rules[k].active && n->rules[k].applies)
                lw_rules_restore_alarm(g->rules, &g->cfg->rules[k], n->conf, now);
    }
}

static void on_relay_timer(uv_timer_t *t)
{
    struct lw_gateway *g = t->data;
    int64_t now = g->medium_clock ? g->clock_ms : lw_clock_mono_ms();
    if (g->mesh && now)
        lw_mesh_check_relays(g->mesh, now, on_relay_event, g);
}

void gw_relays_start(struct lw_gateway *g)
{
    gw_timer_init(g, &g->relay_timer);
    uint64_t tick = g->medium_clock ? RELAY_TICK_MEDIUM_MS : RELAY_TICK_MS;
    uv_timer_start(&g->relay_timer, on_relay_timer, tick, tick);
}

void gw_relays_stop(struct lw_gateway *g)
{
    gw_timer_close(&g->relay_timer);
}
