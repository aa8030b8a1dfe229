/* SPDX-License-Identifier: Apache-2.0 */
/* Duty roster parsing over the same INI reader as the rest of the configuration. */
#include "lw_roster.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_ini.h"
#include "lw_parse.h"

#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."

static const struct {
    const char *name, *help;
} keys[] = {
    {"name", "How the person is called (journal, report); default the id."},
    {"tier", "1 grid worker, 2 community duty room, 3 street emergency office (required)."},
    {"grids", "Tier 1: grid sectors this worker answers for, comma-separated; * for all."},
    {"mqtt_user", "MQTT identity: alerts on lorawatch/<site>/duty/<mqtt_user>, commands accepted "
                  "only from lorawatch/<site>/command/<mqtt_user>; default the id."},
    {"phone", "Free text, e.g. a phone number for the duty room's list."},
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

struct parse {
    const char *file;
    void (*err)(void *, const char *);
    void *arg;
    int errors;
    struct lw_roster *r;
    bool in_duty, bad_section;
    int seen[N_KEYS];
};

static void report(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct parse *p, int line, const char *fmt, ...)
{
    char msg[512];
    int n = snprintf(msg, sizeof(msg), "%s:%d: ", p->file, line);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof(msg))
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    p->errors++;
    if (p->err)
        p->err(p->arg, msg);
    else
        fprintf(stderr, "%s\n", msg);
}

static struct lw_duty_person *cur(struct parse *p)
{
    return &p->r->p[p->r->n - 1];
}

static int on_section(void *user, int line, const char *section)
{
    struct parse *p = user;
    p->in_duty = strncmp(section, "duty:", 5) == 0;
    p->bad_section = false;
    if (!p->in_duty)
        return LW_OK;
    const char *id = section + 5;
    size_t n = strlen(id);
    if (n == 0 || n >= sizeof(p->r->p[0].id) || strspn(id, ID_CHARS) != n) {
        report(p, line, "[%s]: id must be 1-%zu letters, digits, '-', '_' or '.'", section,
               sizeof(p->r->p[0].id) - 1);
        p->bad_section = true;
        return LW_ERR_CONFIG;
    }
    for (size_t i = 0; i < p->r->n; i++)
        if (strcmp(p->r->p[i].id, id) == 0) {
            report(p, line, "[%s]: section appears twice (first at line %d)", section,
                   p->r->p[i].line);
            p->bad_section = true;
            return LW_ERR_CONFIG;
        }
    struct lw_duty_person *np = realloc(p->r->p, (p->r->n + 1) * sizeof(*np));
    if (!np) {
        report(p, line, "out of memory");
        p->bad_section = true;
        return LW_ERR_NOMEM;
    }
    p->r->p = np;
    struct lw_duty_person *d = &np[p->r->n++];
    memset(d, 0, sizeof(*d));
    snprintf(d->id, sizeof(d->id), "%s", id);
    d->line = line;
    memset(p->seen, 0, sizeof(p->seen));
    return LW_OK;
}

static int on_pair(void *user, int line, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    if (!p->in_duty || p->bad_section)
        return LW_OK; /* other sections are the main parser's */
    size_t k = 0;
    while (k < N_KEYS && strcmp(keys[k].name, name) != 0)
        k++;
    if (k == N_KEYS) {
        report(p, line, "[%s] %s: unknown key (lorawatchd --help-config lists them)", section,
               name);
        return LW_ERR_CONFIG;
    }
    if (p->seen[k]) {
        report(p, line, "[%s] %s: set twice (first at line %d)", section, name, p->seen[k]);
        return LW_ERR_CONFIG;
    }
    p->seen[k] = line;
    struct lw_duty_person *d = cur(p);
    uint32_t tier;
    switch (k) {
    case 0:
    case 2:
    case 4: {
        char *dst = k == 0 ? d->name : k == 2 ? d->grids : d->phone;
        size_t cap = k == 0 ? sizeof(d->name) : k == 2 ? sizeof(d->grids) : sizeof(d->phone);
        if (!lw_text_ok(value, cap)) {
            report(p, line, "[%s] %s: text of at most %zu bytes without control characters",
                   section, name, cap - 1);
            return LW_ERR_CONFIG;
        }
        snprintf(dst, cap, "%s", value);
        break;
    }
    case 1:
        if (lw_parse_u32(value, 1, LW_TIERS, &tier) != LW_OK) {
            report(p, line,
                   "[%s] tier = %s: must be 1 (grid worker), 2 (duty room) or 3 (street "
                   "office)",
                   section, value);
            d->tier = LW_TIERS + 1; /* reported: not "missing" as well */
            return LW_ERR_CONFIG;
        }
        d->tier = tier;
        break;
    case 3:
        if (strlen(value) == 0 || strlen(value) >= sizeof(d->mqtt_user) ||
            strspn(value, ID_CHARS) != strlen(value)) {
            report(p, line,
                   "[%s] mqtt_user = %s: 1-%zu letters, digits, '-', '_' or '.' (it is a topic "
                   "level)",
                   section, value, sizeof(d->mqtt_user) - 1);
            return LW_ERR_CONFIG;
        }
        snprintf(d->mqtt_user, sizeof(d->mqtt_user), "%s", value);
        break;
    }
    return LW_OK;
}

static void on_syntax(void *user, int line, const char *why)
{
    (void)user;
    (void)line;
    (void)why; /* the main parser reports syntax errors */
}

int lw_roster_parse(const char *name, const char *text, size_t len, struct lw_roster **out,
                    void (*err)(void *arg, const char *msg), void *arg)
{
    struct parse p = {.file = name, .err = err, .arg = arg};
    *out = NULL;
    p.r = calloc(1, sizeof(*p.r));
    if (!p.r)
        return 1;
    lw_ini_parse_sections(text, len, on_pair, on_syntax, on_section, &p);
    for (size_t i = 0; i < p.r->n; i++) {
        struct lw_duty_person *d = &p.r->p[i];
        if (!d->tier)
            report(&p, d->line, "[duty:%s]: missing required key 'tier' (%s)", d->id, keys[1].help);
        if (d->tier == 1 && !d->grids[0])
            report(&p, d->line,
                   "[duty:%s]: a tier 1 grid worker needs 'grids' (the sectors they answer for, "
                   "or *)",
                   d->id);
        if (!d->name[0])
            snprintf(d->name, sizeof(d->name), "%s", d->id);
        if (!d->mqtt_user[0])
            snprintf(d->mqtt_user, sizeof(d->mqtt_user), "%s", d->id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p.r->p[j].mqtt_user, d->mqtt_user) == 0)
                report(&p, d->line, "[duty:%s] mqtt_user %s: already [duty:%s]'s (line %d)", d->id,
                       d->mqtt_user, p.r->p[j].id, p.r->p[j].line);
    }
    if (p.errors) {
        lw_roster_free(p.r);
        return p.errors;
    }
    *out = p.r;
    return 0;
}

void lw_roster_free(struct lw_roster *r)
{
    if (!r)
        return;
    free(r->p);
    free(r);
}

/* Is grid one of the comma-separated sectors in list (or is list "*")? */
static bool covers(const char *list, const char *grid)
{
    size_t gl = strlen(grid);
    for (const char *s = list; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && t[-1] == ' ')
            t--;
        if ((t - s == 1 && *s == '*') || ((size_t)(t - s) == gl && gl && !memcmp(s, grid, gl)))
            return true;
        s = e;
    }
    return false;
}

size_t lw_roster_targets(const struct lw_roster *r, unsigned tier, const char *grid,
                         const struct lw_duty_person **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n; i++) {
        const struct lw_duty_person *d = &r->p[i];
        if (d->tier != tier || (tier == 1 && !covers(d->grids, grid ? grid : "")))
            continue;
        if (n < cap)
            out[n] = d;
        n++;
    }
    return n;
}

const struct lw_duty_person *lw_roster_by_user(const struct lw_roster *r, const char *mqtt_user)
{
    for (size_t i = 0; r && i < r->n; i++)
        if (strcmp(r->p[i].mqtt_user, mqtt_user) == 0)
            return &r->p[i];
    return NULL;
}

void lw_roster_print_keys(FILE *out)
{
    fprintf(out, "[duty:ID]   (one section per person on the duty roster; ID is theirs)\n");
    for (size_t i = 0; i < N_KEYS; i++)
        fprintf(out, "  %-24s %s\n", keys[i].name, keys[i].help);
}
