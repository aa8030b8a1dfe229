/* SPDX-License-Identifier: Apache-2.0 */
/* Duty escalation state: a small array of open alerts and one of silences. */
#include "lw_escalation.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_phonecmd.h"

struct entry {
    struct lw_escalation_alert a;
    char *payload;
    unsigned tier;                    /* highest tier told (0: nobody yet) */
    unsigned told;                    /* bit t: tier t was told */
    int64_t tier_since;               /* monotonic: when the current tier was told */
    int64_t next_remind;              /* monotonic */
    unsigned reminders[LW_TIERS + 1]; /* per tier: reminders it has had */
    unsigned updates;                 /* updates paged (a higher colour reached) */
    int64_t opened;                   /* monotonic: when it was raised (how long it is open) */
    bool acked;
    bool held; /* a silence holds paging back */
};

struct lw_escalation {
    char site[LW_NAME_MAX];
    const struct lw_roster *roster;
    uint64_t escalate_ms, remind_ms, max_silence_ms;
    struct lw_escalation_ops ops;
    struct entry *e;
    size_t n, cap;
    struct lw_silence *s;
    int64_t
        *s_end; /* monotonic expiry of s[i]: a wall-clock step neither shortens nor stretches it */
    size_t ns, scap;
};

struct lw_escalation *lw_escalation_new(const char *site, const struct lw_config *cfg,
                                        const struct lw_escalation_ops *ops)
{
    struct lw_escalation *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    snprintf(d->site, sizeof(d->site), "%s", site);
    d->ops = *ops;
    lw_escalation_set_config(d, cfg);
    return d;
}

void lw_escalation_free(struct lw_escalation *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].payload);
    free(d->e);
    free(d->s);
    free(d->s_end);
    free(d);
}

void lw_escalation_set_config(struct lw_escalation *d, const struct lw_config *cfg)
{
    d->roster = cfg->roster;
    d->escalate_ms = cfg->escalate_after_ms;
    d->remind_ms = cfg->remind_every_ms;
    d->max_silence_ms = cfg->max_silence_ms;
}

static struct entry *find(const struct lw_escalation *d, int64_t id)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->e[i].a.id == id)
            return &d->e[i];
    return NULL;
}

bool lw_escalation_set_payload(struct lw_escalation *d, int64_t id, const char *payload)
{
    struct entry *e = find(d, id);
    char *p = e ? strdup(payload) : NULL;
    if (!p)
        return false;
    free(e->payload);
    e->payload = p;
    return true;
}

/* ---- telling people ---------------------------------------------------------------------- */

/* A duty message's id, the same in every copy of it (resent after a broker lost it, or on the
 * tier topic and a person's topic): <alert>-<tier>-<kind>, and -<n> for the nth reminder. */
static void add_msg_id(cJSON *dj, const struct entry *e, unsigned tier, const char *kind)
{
    char id[64];
    int n = snprintf(id, sizeof(id), "%lld-%u-%s", (long long)e->a.id, tier, kind);
    if (strcmp(kind, "reminder") == 0 && n > 0 && (size_t)n < sizeof(id))
        snprintf(id + n, sizeof(id) - (size_t)n, "-%u", e->reminders[tier]);
    if (strcmp(kind, "updated") == 0 && n > 0 && (size_t)n < sizeof(id))
        snprintf(id + n, sizeof(id) - (size_t)n, "-%u", e->updates);
    cJSON_AddStringToObject(dj, "msg_id", id);
}

static const char *const tier_zh[] = {"", "网格员", "社区值班室", "街道应急办"};
static const char *const tier_en[] = {"", "grid worker", "community duty room",
                                      "street emergency office"};

/* How long the alert has been open, as people say it. */
static void open_text(int64_t ms, bool zh, char *out, size_t cap)
{
    int64_t min = ms > 0 ? ms / 60000 : 0;
    if (min < 1)
        snprintf(out, cap, "%s", zh ? "不到1分钟" : "less than a minute");
    else if (min < 60)
        snprintf(out, cap, zh ? "%lld分钟" : "%lld min", (long long)min);
    else if (min % 60 == 0)
        snprintf(out, cap, zh ? "%lld小时" : "%lld h", (long long)(min / 60));
    else
        snprintf(out, cap, zh ? "%lld小时%lld分钟" : "%lld h %lld min", (long long)(min / 60),
                 (long long)(min % 60));
}

/* A roster id as people call them (the name on the roster), else the id itself ("uid:0"). */
static const char *person_name(const struct lw_escalation *d, const char *id)
{
    for (size_t i = 0; d->roster && id && i < d->roster->n; i++)
        if (strcmp(d->roster->p[i].id, id) == 0 && d->roster->p[i].name[0])
            return d->roster->p[i].name;
    return id ? id : "";
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Replace a sentence of the message (one without it, as older rows may be, is left so). */
static void set_text(cJSON *o, const char *name, const char *text)
{
    cJSON *v = cJSON_CreateString(text);
    if (v && !cJSON_ReplaceItemInObjectCaseSensitive(o, name, v))
        cJSON_Delete(v);
}

/* The sentences of a duty message after the first notice: they say what happened to the alert
 * (gone up a tier, still open, acknowledged by whom and what they said), built on the alert's
 * title, and do not repeat the raise's call to go. Notices and all-clears keep the alert's own. */
static void duty_text(const struct lw_escalation *d, const struct entry *e, cJSON *o, unsigned tier,
                      const char *kind, int64_t mono, const struct lw_ack *ack)
{
    /* On the monotonic clock: the raise's time_ms is the medium's on a simulated one. */
    int64_t open_ms = mono > e->opened ? mono - e->opened : 0;
    char zh[768], en[768], oz[48], oe[48];
    open_text(open_ms, true, oz, sizeof(oz));
    open_text(open_ms, false, oe, sizeof(oe));
    const char *tz = str_of(o, "title_zh"), *te = str_of(o, "title_en");
    long long id = (long long)e->a.id;
    unsigned t = tier <= LW_TIERS ? tier : 0;
    if (strcmp(kind, "escalated") == 0) {
        snprintf(zh, sizeof(zh), "升级通知：#%lld「%s」已发出%s仍无人确认，现通知%s，请立即处置。",
                 id, tz, oz, tier_zh[t]);
        snprintf(en, sizeof(en),
                 "Escalated to the %s: alert #%lld (%s) has not been acknowledged in %s; act "
                 "now.",
                 tier_en[t], id, te, oe);
    } else if (strcmp(kind, "reminder") == 0) {
        snprintf(zh, sizeof(zh), "提醒：#%lld「%s」已发出%s，仍无人确认，请尽快确认。", id, tz, oz);
        snprintf(en, sizeof(en),
                 "Reminder: alert #%lld (%s) has been open for %s and nobody "
                 "has acknowledged it.",
                 id, te, oe);
    } else if (strcmp(kind, "acknowledged") == 0 && ack) {
        unsigned at = ack->tier <= LW_TIERS ? ack->tier : 0;
        const char *who = person_name(d, ack->actor);
        char wz[256], we[256], said_zh[256] = "", said_en[256] = "";
        snprintf(wz, sizeof(wz), at ? "%s（%s）" : "%s", who, tier_zh[at]);
        snprintf(we, sizeof(we), at ? "%s (%s)" : "%s", who, tier_en[at]);
        const char *oz2 = lw_ack_outcome_text(ack->outcome, true);
        const char *oe2 = lw_ack_outcome_text(ack->outcome, false);
        bool note = ack->note && ack->note[0];
        if (oz2[0] || note)
            snprintf(said_zh, sizeof(said_zh), "%s%s%s%s", oz2[0] ? "：" : "", oz2,
                     note ? "，备注：" : "", note ? ack->note : "");
        if (oe2[0] || note)
            snprintf(said_en, sizeof(said_en), "%s%s%s%s%s", oe2[0] ? ": " : "", oe2,
                     note ? "; note: \"" : "", note ? ack->note : "", note ? "\"" : "");
        snprintf(zh, sizeof(zh), "已确认：#%lld「%s」由%s确认%s。", id, tz, wz, said_zh);
        snprintf(en, sizeof(en), "Acknowledged: alert #%lld (%s) by %s%s.", id, te, we, said_en);
    } else {
        return;
    }
    set_text(o, "text_zh", zh);
    set_text(o, "text_en", en);
}

/* The alert's JSON with a "duty" object saying why this person gets it. */
static char *duty_payload(const struct lw_escalation *d, const struct entry *e, unsigned tier,
                          const char *kind, int64_t mono, const struct lw_ack *ack)
{
    cJSON *o = cJSON_Parse(e->payload);
    if (!o)
        return NULL;
    duty_text(d, e, o, tier, kind, mono, ack);
    cJSON *dj = cJSON_AddObjectToObject(o, "duty");
    cJSON_AddNumberToObject(dj, "tier", tier);
    /* notified, escalated, reminder, acknowledged, cleared */
    cJSON_AddStringToObject(dj, "kind", kind);
    cJSON_AddNumberToObject(dj, "reminder", e->reminders[tier]);
    cJSON_AddBoolToObject(dj, "acknowledged", e->acked);
    if (ack) {
        cJSON_AddStringToObject(dj, "by", ack->actor);
        cJSON_AddStringToObject(dj, "by_name", person_name(d, ack->actor));
        if (ack->outcome && ack->outcome[0])
            cJSON_AddStringToObject(dj, "outcome", ack->outcome);
        if (ack->note && ack->note[0])
            cJSON_AddStringToObject(dj, "note", ack->note);
    }
    add_msg_id(dj, e, tier, kind);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* Publish to the tier's topic and to each person of the tier; actors gets their ids. Returns
 * how many people were addressed. */
static size_t publish_tier(struct lw_escalation *d, const struct entry *e, unsigned tier,
                           const char *payload, char *actors, size_t cap)
{
    const struct lw_duty_person *who[32];
    char topic[160];
    size_t n = lw_roster_targets(d->roster, tier, e->a.grid, who, 32);
    snprintf(topic, sizeof(topic), "lorawatch/%s/duty/tier/%u", d->site, tier);
    d->ops.publish(d->ops.arg, e->a.id, topic, payload, false);
    size_t used = 0;
    if (actors && cap)
        actors[0] = 0;
    for (size_t i = 0; i < n && i < 32; i++) {
        snprintf(topic, sizeof(topic), "lorawatch/%s/duty/person/%s", d->site, who[i]->mqtt_user);
        d->ops.publish(d->ops.arg, e->a.id, topic, payload, false);
        if (actors && used < cap) {
            int w = snprintf(actors + used, cap - used, "%s%s", used ? "," : "", who[i]->id);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    return n;
}

/* Tell tier t now (first notice or escalation). A tier with nobody on the roster for the alert
 * goes up at once: nobody is there to answer. Without any roster, only the tier topics are
 * used, and they escalate on the timer like people would. */
static void tell(struct lw_escalation *d, struct entry *e, unsigned tier, int64_t mono)
{
    for (;;) {
        /* The first tier told is notified, even when it is not the grid worker's. */
        unsigned first = e->a.first_tier > 1 ? e->a.first_tier : 1;
        const char *kind = tier > first ? "escalated" : "notified";
        char *p = duty_payload(d, e, tier, kind, mono, NULL);
        char actors[256] = "";
        size_t n = p ? publish_tier(d, e, tier, p, actors, sizeof(actors)) : 0;
        free(p);
        e->tier = tier;
        e->told |= 1u << tier;
        e->tier_since = mono;
        e->next_remind = d->remind_ms ? mono + (int64_t)d->remind_ms : INT64_MAX;
        char detail[96];
        snprintf(detail, sizeof(detail), "%zu on duty at tier %u told", n, tier);
        d->ops.journal(d->ops.arg, e->a.id, kind, actors, tier, "mqtt", detail, NULL);
        d->ops.update(d->ops.arg, e->a.id, tier, NULL, 0, NULL);
        if (n > 0 || tier >= LW_TIERS || !d->roster || d->roster->n == 0)
            return;
        tier++;
    }
}

/* ---- silences ---------------------------------------------------------------------------- */

static bool matches(const struct lw_silence *s, const struct lw_escalation_alert *a)
{
    return (!s->node || s->node == a->node) &&
           (!s->building[0] || !strcmp(s->building, a->building)) &&
           (s->hazard < 0 || s->hazard == (int)a->hazard) &&
           (a->hazard != LW_HAZARD_FIRE || s->forced);
}

static const struct lw_silence *silenced_by(const struct lw_escalation *d,
                                            const struct lw_escalation_alert *a)
{
    for (size_t i = 0; i < d->ns; i++)
        if (matches(&d->s[i], a))
            return &d->s[i];
    return NULL;
}

/* Alerts held back by silences that are gone now are told at once. */
static void release(struct lw_escalation *d, int64_t mono)
{
    for (size_t i = 0; i < d->n; i++) {
        struct entry *e = &d->e[i];
        if (e->held && !silenced_by(d, &e->a)) {
            e->held = false;
            if (!e->acked)
                tell(d, e, 1, mono);
        }
    }
}

/* ---- the alert lifecycle ----------------------------------------------------------------- */

static struct entry *add(struct lw_escalation *d, const struct lw_escalation_alert *a,
                         const char *payload)
{
    struct entry *e = find(d, a->id);
    if (e) {
        free(e->payload);
    } else {
        if (d->n == d->cap) {
            size_t cap = d->cap ? 2 * d->cap : 16;
            struct entry *ne = realloc(d->e, cap * sizeof(*ne));
            if (!ne)
                return NULL;
            d->e = ne;
            d->cap = cap;
        }
        e = &d->e[d->n++];
    }
    memset(e, 0, sizeof(*e));
    e->a = *a;
    e->payload = strdup(payload);
    if (!e->payload) {
        d->n--;
        return NULL;
    }
    return e;
}

void lw_escalation_raised(struct lw_escalation *d, const struct lw_escalation_alert *a,
                          const char *payload, int64_t mono_ms, int64_t wall_ms)
{
    (void)wall_ms;
    struct entry *e = add(d, a, payload);
    if (!e) {
        lw_log(LW_LOG_ERR, "alert #%lld: out of memory: duty staff not told", (long long)a->id);
        return;
    }
    e->opened = mono_ms;
    const struct lw_silence *s = silenced_by(d, a);
    if (s) {
        char detail[LW_TEXT_MAX + 96];
        snprintf(detail, sizeof(detail), "held back by silence #%lld: %s", (long long)s->id,
                 s->reason);
        e->held = true;
        d->ops.journal(d->ops.arg, a->id, "silenced", s->actor, 0, "gateway", detail, NULL);
        return;
    }
    tell(d, e, a->first_tier > 1 && a->first_tier <= LW_TIERS ? a->first_tier : 1, mono_ms);
}

void lw_escalation_test(struct lw_escalation *d, const struct lw_escalation_alert *a,
                        const char *payload, int64_t wall_ms)
{
    struct entry e = {.a = *a, .payload = (char *)payload};
    unsigned tier = a->first_tier > 1 && a->first_tier <= LW_TIERS ? a->first_tier : 1;
    char *p = duty_payload(d, &e, tier, "notified", wall_ms, NULL);
    char actors[256] = "", detail[96];
    size_t n = p ? publish_tier(d, &e, tier, p, actors, sizeof(actors)) : 0;
    free(p);
    snprintf(detail, sizeof(detail), "test alarm: %zu on duty at tier %u told, no escalation", n,
             tier);
    d->ops.journal(d->ops.arg, a->id, "notified", actors, tier, "mqtt", detail, NULL);
}

/* How long ago (wall clock) since, within [0, cap]: 0 when unknown or in the future. */
static int64_t spent(int64_t since, int64_t wall, uint64_t cap)
{
    if (since <= 0 || wall <= since)
        return 0;
    return wall - since < (int64_t)cap ? wall - since : (int64_t)cap;
}

void lw_escalation_restore(struct lw_escalation *d, const struct lw_escalation_alert *a,
                           const char *payload, const struct lw_escalation_resume *r,
                           int64_t mono_ms, int64_t wall_ms)
{
    struct entry *e = add(d, a, payload);
    if (!e)
        return;
    e->acked = r->acked;
    e->tier = r->tier >= 1 && r->tier <= LW_TIERS ? r->tier : 1;
    e->told = (2u << e->tier) - 2; /* tiers 1..tier were told before the restart */
    memcpy(e->reminders, r->reminders, sizeof(e->reminders)); /* the count goes on */
    /* The monotonic clock started again with the process: carry over the time spent. */
    cJSON *o = cJSON_Parse(payload);
    const cJSON *raised = cJSON_GetObjectItemCaseSensitive(o, "time_ms");
    e->opened = mono_ms - (cJSON_IsNumber(raised) ? spent((int64_t)raised->valuedouble, wall_ms,
                                                          (uint64_t)INT64_MAX)
                                                  : 0);
    cJSON_Delete(o);
    e->tier_since = mono_ms - spent(r->told_ms, wall_ms, d->escalate_ms);
    e->next_remind = d->remind_ms ? mono_ms + (int64_t)d->remind_ms -
                                        spent(r->reminded_ms, wall_ms, d->remind_ms)
                                  : INT64_MAX;
    e->held = !r->acked && silenced_by(d, a) != NULL;
}

void lw_escalation_updated(struct lw_escalation *d, int64_t id, const char *payload,
                           int64_t wall_ms)
{
    struct entry *e = find(d, id);
    if (!e || e->held || !payload)
        return;
    e->updates++;
    struct entry u = *e;
    u.payload = (char *)payload; /* the update says it; later messages still repeat the raise */
    for (unsigned t = 1; t <= LW_TIERS; t++)
        if (e->told & (1u << t)) {
            char *p = duty_payload(d, &u, t, "updated", wall_ms, NULL);
            char actors[256] = "";
            if (p)
                publish_tier(d, &u, t, p, actors, sizeof(actors));
            free(p);
            d->ops.journal(d->ops.arg, id, "repaged", actors, t, "mqtt",
                           "the water reached a higher level", NULL);
        }
    d->ops.commit(d->ops.arg);
}

void lw_escalation_resolved(struct lw_escalation *d, int64_t id, const char *payload)
{
    struct entry *e = find(d, id);
    if (!e)
        return;
    free(e->payload);
    e->payload = strdup(payload && payload[0] ? payload : "{}");
    for (unsigned t = 1; e->payload && t <= LW_TIERS; t++)
        if (e->told & (1u << t)) {
            char *p = duty_payload(d, e, t, "cleared", 0, NULL);
            if (p)
                publish_tier(d, e, t, p, NULL, 0);
            free(p);
        }
    free(e->payload);
    *e = d->e[--d->n];
}

int lw_escalation_ack(struct lw_escalation *d, int64_t id, const struct lw_ack *ack,
                      int64_t wall_ms, char *why, size_t whycap)
{
    struct entry *e = find(d, id);
    if (!e) {
        snprintf(why, whycap, "alert #%lld is not open", (long long)id);
        return LW_ERR_UNKNOWN_NODE;
    }
    if (e->acked) {
        snprintf(why, whycap, "alert #%lld was acknowledged already", (long long)id);
        return LW_ERR_STATE;
    }
    e->acked = true;
    const char *outcome = ack->outcome && ack->outcome[0] ? ack->outcome : NULL;
    d->ops.journal(d->ops.arg, id, "acknowledged", ack->actor, ack->tier, ack->via,
                   ack->note && ack->note[0] ? ack->note : NULL, outcome);
    d->ops.update(d->ops.arg, id, e->tier, ack->actor, wall_ms, outcome);
    /* Everyone told so far learns that someone is on it, who, and what they said. */
    for (unsigned t = 1; t <= LW_TIERS; t++)
        if (e->told & (1u << t)) {
            char *p = duty_payload(d, e, t, "acknowledged", wall_ms, ack);
            if (p)
                publish_tier(d, e, t, p, NULL, 0);
            free(p);
        }
    return LW_OK;
}

void lw_escalation_tick(struct lw_escalation *d, int64_t mono_ms, int64_t wall_ms)
{
    bool changed = false;
    for (size_t i = 0; i < d->ns;) {
        if (d->s_end[i] <= mono_ms) {
            d->ops.silence_ended(d->ops.arg, d->s[i].id, wall_ms);
            d->s_end[i] = d->s_end[d->ns - 1];
            d->s[i] = d->s[--d->ns];
            changed = true;
        } else {
            i++;
        }
    }
    if (changed)
        release(d, mono_ms);
    for (size_t i = 0; i < d->n; i++) {
        struct entry *e = &d->e[i];
        if (e->acked || e->held || !e->tier)
            continue;
        if (e->tier < LW_TIERS && mono_ms - e->tier_since >= (int64_t)d->escalate_ms) {
            tell(d, e, e->tier + 1, mono_ms);
            changed = true;
        } else if (mono_ms >= e->next_remind) {
            e->reminders[e->tier]++;
            e->next_remind = mono_ms + (int64_t)d->remind_ms;
            char *p = duty_payload(d, e, e->tier, "reminder", mono_ms, NULL);
            char actors[256] = "", detail[48];
            if (p)
                publish_tier(d, e, e->tier, p, actors, sizeof(actors));
            free(p);
            snprintf(detail, sizeof(detail), "reminder %u", e->reminders[e->tier]);
            d->ops.journal(d->ops.arg, e->a.id, "reminded", actors, e->tier, "mqtt", detail, NULL);
            changed = true;
        }
    }
    if (changed)
        d->ops.commit(d->ops.arg);
}

int64_t lw_escalation_next_due(const struct lw_escalation *d)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < d->n; i++) {
        const struct entry *e = &d->e[i];
        if (e->acked || e->held || !e->tier)
            continue;
        if (e->tier < LW_TIERS && e->tier_since + (int64_t)d->escalate_ms < due)
            due = e->tier_since + (int64_t)d->escalate_ms;
        if (e->next_remind < due)
            due = e->next_remind;
    }
    for (size_t i = 0; i < d->ns; i++)
        if (d->s_end[i] < due)
            due = d->s_end[i];
    return due;
}

int lw_escalation_silence_add(struct lw_escalation *d, const struct lw_silence *s, int64_t mono_ms,
                              int64_t wall_ms, char *why, size_t whycap)
{
    if (!s->node && !s->building[0]) {
        snprintf(why, whycap, "a silence needs a node or a building");
        return LW_ERR_INVAL;
    }
    if (s->until_ms <= wall_ms || s->until_ms - wall_ms > (int64_t)d->max_silence_ms) {
        snprintf(why, whycap, "a silence lasts from 1 s to [alerts] max_silence (%llu s)",
                 (unsigned long long)(d->max_silence_ms / 1000));
        return LW_ERR_RANGE;
    }
    /* One node's silence of every hazard holds back that node's own alerts, fire never without
     * force (matches): the caller refuses it for a node that raises fire alarms. */
    if ((s->hazard == LW_HAZARD_FIRE || (s->hazard < 0 && !s->node)) && !s->forced) {
        snprintf(why, whycap, "fire alarms are never silenced without --force%s",
                 s->hazard < 0 ? " (give --hazard flood, gas or trouble to leave fire out)" : "");
        return LW_ERR_STATE;
    }
    if (d->ns == d->scap) {
        size_t cap = d->scap ? 2 * d->scap : 8;
        struct lw_silence *ns = realloc(d->s, cap * sizeof(*ns));
        if (ns)
            d->s = ns;
        int64_t *ne = ns ? realloc(d->s_end, cap * sizeof(*ne)) : NULL;
        if (!ne) {
            snprintf(why, whycap, "out of memory");
            return LW_ERR_NOMEM;
        }
        d->s_end = ne;
        d->scap = cap;
    }
    /* The wall-clock expiry is for people (lists, journal); the silence ends after its duration
     * on the monotonic clock, whatever the wall clock does meanwhile. */
    d->s_end[d->ns] = mono_ms + (s->until_ms - wall_ms);
    d->s[d->ns++] = *s;
    /* Open alerts it covers are held from now on (the ones already told stay told). */
    for (size_t i = 0; i < d->n; i++)
        if (!d->e[i].acked && !d->e[i].tier && matches(s, &d->e[i].a))
            d->e[i].held = true;
    return LW_OK;
}

int lw_escalation_silence_lift(struct lw_escalation *d, int64_t id, int64_t mono_ms,
                               int64_t wall_ms)
{
    (void)wall_ms;
    for (size_t i = 0; i < d->ns; i++)
        if (d->s[i].id == id) {
            d->s_end[i] = d->s_end[d->ns - 1];
            d->s[i] = d->s[--d->ns];
            release(d, mono_ms);
            return LW_OK;
        }
    return LW_ERR_UNKNOWN_NODE;
}

size_t lw_escalation_silences(const struct lw_escalation *d, const struct lw_silence **out)
{
    *out = d->s;
    return d->ns;
}

bool lw_escalation_state(const struct lw_escalation *d, int64_t id, unsigned *tier, bool *acked,
                         bool *held)
{
    const struct entry *e = find(d, id);
    if (!e)
        return false;
    *tier = e->tier;
    *acked = e->acked;
    *held = e->held;
    return true;
}
