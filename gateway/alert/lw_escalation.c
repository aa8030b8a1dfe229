/* Duty escalation state: a small array of open alerts and one of silences. */
#include "lw_escalation.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"

struct entry {
    struct lw_escalation_alert a;
    char *payload;
    unsigned tier;                    /* highest tier told (0: nobody yet) */
    unsigned told;                    /* bit t: tier t was told */
    int64_t tier_since;               /* monotonic: when the current tier was told */
    int64_t next_remind;              /* monotonic */
    unsigned reminders[LW_TIERS + 1]; /* per tier: reminders it has had */
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
    cJSON_AddStringToObject(dj, "msg_id", id);
}

/* The alert's JSON with a "duty" object saying why this person gets it. */
static char *duty_payload(const struct entry *e, unsigned tier, const char *kind)
{
    cJSON *o = cJSON_Parse(e->payload);
    if (!o)
        return NULL;
    cJSON *dj = cJSON_AddObjectToObject(o, "duty");
    cJSON_AddNumberToObject(dj, "tier", tier);
    cJSON_AddStringToObject(dj, "kind", kind); /* notified, escalated, reminder, cleared */
    cJSON_AddNumberToObject(dj, "reminder", e->reminders[tier]);
    cJSON_AddBoolToObject(dj, "acknowledged", e->acked);
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
        char *p = duty_payload(e, tier, kind);
        char actors[256] = "";
        size_t n = p ? publish_tier(d, e, tier, p, actors, sizeof(actors)) : 0;
        free(p);
        e->tier = tier;
        e->told |= 1u << tier;
        e->tier_since = mono;
        e->next_remind = d->remind_ms ? mono + (int64_t)d->remind_ms : INT64_MAX;
        char detail[96];
        snprintf(detail, sizeof(detail), "%zu on duty at tier %u told", n, tier);
        d->ops.journal(d->ops.arg, e->a.id, kind, actors, tier, "mqtt", detail);
        d->ops.update(d->ops.arg, e->a.id, tier, NULL, 0);
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
    const struct lw_silence *s = silenced_by(d, a);
    if (s) {
        char detail[LW_TEXT_MAX + 96];
        snprintf(detail, sizeof(detail), "held back by silence #%lld: %s", (long long)s->id,
                 s->reason);
        e->held = true;
        d->ops.journal(d->ops.arg, a->id, "silenced", s->actor, 0, "gateway", detail);
        return;
    }
    tell(d, e, a->first_tier > 1 && a->first_tier <= LW_TIERS ? a->first_tier : 1, mono_ms);
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
    e->tier_since = mono_ms - spent(r->told_ms, wall_ms, d->escalate_ms);
    e->next_remind = d->remind_ms ? mono_ms + (int64_t)d->remind_ms -
                                        spent(r->reminded_ms, wall_ms, d->remind_ms)
                                  : INT64_MAX;
    e->held = !r->acked && silenced_by(d, a) != NULL;
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
            char *p = duty_payload(e, t, "cleared");
            if (p)
                publish_tier(d, e, t, p, NULL, 0);
            free(p);
        }
    free(e->payload);
    *e = d->e[--d->n];
}

int lw_escalation_ack(struct lw_escalation *d, int64_t id, const char *actor, unsigned tier,
                      const char *via, const char *note, int64_t wall_ms, char *why, size_t whycap)
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
    d->ops.journal(d->ops.arg, id, "acknowledged", actor, tier, via, note && note[0] ? note : NULL);
    d->ops.update(d->ops.arg, id, e->tier, actor, wall_ms);
    /* Everyone told so far learns that someone is on it. */
    for (unsigned t = 1; t <= LW_TIERS; t++)
        if (e->told & (1u << t)) {
            cJSON *o = cJSON_Parse(e->payload);
            if (!o)
                continue;
            cJSON *dj = cJSON_AddObjectToObject(o, "duty");
            cJSON_AddNumberToObject(dj, "tier", t);
            cJSON_AddStringToObject(dj, "kind", "acknowledged");
            cJSON_AddNumberToObject(dj, "reminder", e->reminders[t]);
            cJSON_AddBoolToObject(dj, "acknowledged", 1);
            cJSON_AddStringToObject(dj, "by", actor);
            add_msg_id(dj, e, t, "acknowledged");
            char *p = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
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
            char *p = duty_payload(e, e->tier, "reminder");
            char actors[256] = "", detail[48];
            if (p)
                publish_tier(d, e, e->tier, p, actors, sizeof(actors));
            free(p);
            snprintf(detail, sizeof(detail), "reminder %u", e->reminders[e->tier]);
            d->ops.journal(d->ops.arg, e->a.id, "reminded", actors, e->tier, "mqtt", detail);
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
