/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch events as a table people read: local date and time, alert, event, level, node, the
 * place as it was then, who (actor, tier, channel) and a short detail; the broker's 'published'
 * acknowledgements of one notification folded into one row. Read-only. */
#include "lw_history.h"
#include "lw_people.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw_error.h"

#define DETAIL_MAX 60 /* characters of detail shown; the rest is cut with "..." */

static const char *col(sqlite3_stmt *q, int i)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    return t ? (const char *)t : "";
}

/* Value of key in a journal place record "name=... building=5 floor=B2 unit= grid= place=ramp,
 * left wall tags=..." (a value runs up to the next " key="). Empty when absent. */
static void record_value(const char *rec, const char *key, char *out, size_t cap)
{
    static const char *const keys[] = {"name", "eui",  "kind",  "building", "floor",
                                       "unit", "grid", "place", "tags"};
    char pat[24];
    out[0] = 0;
    snprintf(pat, sizeof(pat), "%s=", key);
    const char *p = rec;
    while ((p = strstr(p, pat)) && p != rec && p[-1] != ' ')
        p++;
    if (!p)
        return;
    p += strlen(pat);
    const char *end = p + strlen(p);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char next[24];
        snprintf(next, sizeof(next), " %s=", keys[i]);
        const char *e = strstr(p, next);
        if (e && e < end)
            end = e;
    }
    snprintf(out, cap, "%.*s", (int)(end - p), p);
}

/* building/floor/unit as typed, the text when none is set, "-" when nothing is. */
static void place_short(const char *b, const char *f, const char *u, const char *text, char *out,
                        size_t cap)
{
    const char *part[] = {b, f, u};
    size_t n = 0;
    out[0] = 0;
    for (int i = 0; i < 3; i++)
        if (part[i][0] && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "/" : "", part[i]);
    if (!n)
        snprintf(out, cap, "%s", text[0] ? text : "-");
}

static bool record_place(const char *rec, char *out, size_t cap)
{
    if (!strstr(rec, "building="))
        return false;
    char b[64], f[64], u[64], t[160];
    record_value(rec, "building", b, sizeof(b));
    record_value(rec, "floor", f, sizeof(f));
    record_value(rec, "unit", u, sizeof(u));
    record_value(rec, "place", t, sizeof(t));
    place_short(b, f, u, t, out, cap);
    return true;
}

/* The place an alert's raise message published (its place as it was). */
static bool message_place(const char *msg, char *out, size_t cap)
{
    cJSON *m = msg[0] ? cJSON_Parse(msg) : NULL;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "place");
    bool ok = cJSON_IsObject(p);
    if (ok) {
        const char *k[4] = {"building", "floor", "unit", "text"};
        const char *v[4];
        for (int i = 0; i < 4; i++) {
            const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, k[i]));
            v[i] = s ? s : "";
        }
        place_short(v[0], v[1], v[2], v[3], out, cap);
    }
    cJSON_Delete(m);
    return ok;
}

/* Where node hung at t_ms, from the maintenance journal: the place its latest record up to then
 * set, else the place the first later move left; else its place now. */
static void place_then(sqlite3 *db, int node, int64_t t_ms, char *out, size_t cap)
{
    static const char *const sql[] = {
        "SELECT new FROM maintenance WHERE node = ?1 AND ts_ms <= ?2 AND new LIKE "
        "'%building=%' ORDER BY ts_ms DESC, id DESC LIMIT 1",
        "SELECT old FROM maintenance WHERE node = ?1 AND ts_ms > ?2 AND old LIKE '%building=%' "
        "ORDER BY ts_ms, id LIMIT 1",
        "SELECT 'building=' || coalesce(building, '') || ' floor=' || coalesce(floor, '') || ' "
        "unit=' || coalesce(unit, '') || ' place=' || coalesce(place, '') FROM nodes WHERE "
        "address = ?1",
    };
    snprintf(out, cap, "-");
    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, sql[i], -1, &q, NULL) != SQLITE_OK)
            continue;
        sqlite3_bind_int(q, 1, node);
        sqlite3_bind_int64(q, 2, t_ms);
        bool found = sqlite3_step(q) == SQLITE_ROW && record_place(col(q, 0), out, cap);
        sqlite3_finalize(q);
        if (found)
            return;
    }
}

/* Cut text to DETAIL_MAX characters (UTF-8 aware), with "..." when cut. */
static void shorten(const char *in, char *out, size_t cap)
{
    size_t chars = 0, i = 0;
    for (; in[i] && chars < DETAIL_MAX; i++)
        if (((unsigned char)in[i] & 0xC0) != 0x80)
            chars++;
    while (in[i] && ((unsigned char)in[i] & 0xC0) == 0x80)
        i++;
    snprintf(out, cap, "%.*s%s", (int)i, in, in[i] ? "..." : "");
}

/* Width-padded field: UTF-8 characters counted, not bytes. */
static void put(FILE *out, const char *s, int width)
{
    int chars = 0;
    for (const char *p = s; *p; p++)
        if (((unsigned char)*p & 0xC0) != 0x80)
            chars++;
    fprintf(out, "%s%*s ", s, chars < width ? width - chars : 0, "");
}

struct row {
    char time[24], alert[16], event[32], level[32], node[LW_NAME_MAX], place[96], who[96],
        detail[256];
};

static void print_row(FILE *out, const struct row *r)
{
    put(out, r->time, 19);
    put(out, r->alert, 5);
    put(out, r->event, 12);
    put(out, r->level, 13);
    put(out, r->node, 12);
    put(out, r->place, 14);
    put(out, r->who, 20);
    fprintf(out, "%s\n", r->detail);
}

/* Does the table have the column (an older database may not)? */
static bool has_column(sqlite3 *db, const char *table, const char *column)
{
    sqlite3_stmt *q = NULL;
    bool yes = sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2",
                                  -1, &q, NULL) == SQLITE_OK &&
               sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC) == SQLITE_OK &&
               sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC) == SQLITE_OK &&
               sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) > 0;
    sqlite3_finalize(q);
    return yes;
}

/* The broker acknowledgements folded into pend: one row for them. */
static void flush_published(FILE *out, struct row *pend, unsigned *pend_n, size_t *rows)
{
    if (!*pend_n)
        return;
    if (*pend_n > 1)
        snprintf(pend->detail, sizeof(pend->detail), "%u messages acknowledged by the broker",
                 *pend_n);
    print_row(out, pend);
    (*rows)++;
    *pend_n = 0;
}

int lw_history_events_table(sqlite3 *db, const struct lw_hist_node *nodes, size_t n, int64_t from,
                            int64_t to, bool verbose, FILE *out, size_t *rows, char *err,
                            size_t errcap)
{
    *rows = 0;
    /* alerts.message (schema 7) holds the raise message with the place as published;
     * alert_journal.outcome (schema 11) what an acknowledgement said. */
    bool has_message = has_column(db, "alerts", "message");
    bool has_outcome = has_column(db, "alert_journal", "outcome");
    sqlite3_stmt *q = NULL;
    char *in = sqlite3_mprintf("%s", "");
    for (size_t i = 0; in && i < n; i++) {
        char *next = sqlite3_mprintf("%s%s%d", in, i ? "," : "", nodes[i].address);
        sqlite3_free(in);
        in = next;
    }
    char *sql =
        in ? sqlite3_mprintf(
                 "SELECT j.ts_ms, j.event, j.alert, a.level, a.hazard, a.node, n.name, j.actor, "
                 "j.tier, j.via, j.detail, %s, a.raised_ms, NULL, NULL, %s FROM alert_journal j "
                 "JOIN "
                 "alerts a ON a.id = j.alert LEFT JOIN nodes n ON n.address = a.node WHERE "
                 "j.ts_ms >= ?1 AND j.ts_ms < ?2 %s%s%s UNION ALL SELECT m.ts_ms, m.action, NULL, "
                 "NULL, NULL, m.node, n.name, CASE WHEN m.uid >= 0 THEN 'uid:' || m.uid END, "
                 "NULL, NULL, m.detail, NULL, NULL, m.old, m.new, NULL FROM maintenance m LEFT "
                 "JOIN "
                 "nodes n ON n.address = m.node WHERE m.ts_ms >= ?1 AND m.ts_ms < ?2 %s%s%s "
                 "ORDER BY 1, 3",
                 has_message ? "a.message" : "NULL", has_outcome ? "j.outcome" : "NULL",
                 n ? "AND a.node IN (" : "", n ? in : "", n ? ")" : "", n ? "AND m.node IN (" : "",
                 n ? in : "", n ? ")" : "")
           : NULL;
    sqlite3_free(in);
    if (!sql || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "events: %s", sql ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_free(sql);
        return LW_ERR_DB;
    }
    sqlite3_free(sql);
    sqlite3_bind_int64(q, 1, from);
    sqlite3_bind_int64(q, 2, to);
    struct row pend = {0}, r;
    int64_t pend_alert = 0;
    unsigned pend_n = 0; /* published rows folded into pend */
    int rc;
    fprintf(out, "%-19s %-5s %-12s %-13s %-12s %-14s %-20s %s\n", "TIME", "ALERT", "EVENT", "LEVEL",
            "NODE", "PLACE THEN", "WHO", "DETAIL");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        int64_t t = sqlite3_column_int64(q, 0);
        time_t s = (time_t)(t / 1000);
        struct tm tm;
        localtime_r(&s, &tm);
        strftime(r.time, sizeof(r.time), "%Y-%m-%d %H:%M:%S", &tm);
        bool alert = sqlite3_column_type(q, 2) != SQLITE_NULL;
        int64_t id = sqlite3_column_int64(q, 2);
        int node = sqlite3_column_int(q, 5);
        snprintf(r.event, sizeof(r.event), "%s", col(q, 1));
        snprintf(r.node, sizeof(r.node), "%s", col(q, 6)[0] ? col(q, 6) : node ? "?" : "gateway");
        /* Broker acknowledgements of one notification: one row (all with verbose). */
        if (alert && !verbose && strcmp(r.event, "published") == 0) {
            if (pend_n && pend_alert == id) {
                pend_n++;
                continue;
            }
        }
        flush_published(out, &pend, &pend_n, rows);
        char detail[512] = "";
        if (alert) {
            snprintf(r.alert, sizeof(r.alert), "#%lld", (long long)id);
            snprintf(r.level, sizeof(r.level), "%s %s", col(q, 3), col(q, 4));
            if (!message_place(col(q, 11), r.place, sizeof(r.place)))
                place_then(db, node, sqlite3_column_int64(q, 12), r.place, sizeof(r.place));
            size_t k = 0;
            char names[256];
            if (col(q, 7)[0]) /* people as the roster named them then */
                k += (size_t)snprintf(r.who + k, sizeof(r.who) - k, "%s",
                                      lw_people_names(db, col(q, 7), t, names, sizeof(names)));
            if (sqlite3_column_int(q, 8) > 0 && k < sizeof(r.who))
                k += (size_t)snprintf(r.who + k, sizeof(r.who) - k, "%stier %d", k ? " " : "",
                                      sqlite3_column_int(q, 8));
            if (col(q, 9)[0] && k < sizeof(r.who))
                snprintf(r.who + k, sizeof(r.who) - k, "%svia %s", k ? " " : "", col(q, 9));
            /* An acknowledgement's outcome first, then its note. */
            snprintf(detail, sizeof(detail), "%s%s%s", col(q, 15),
                     col(q, 15)[0] && col(q, 10)[0] ? "; " : "", col(q, 10));
            if (strcmp(r.event, "published") == 0 && !detail[0])
                snprintf(detail, sizeof(detail), "acknowledged by the broker");
        } else {
            snprintf(r.alert, sizeof(r.alert), "-");
            snprintf(r.level, sizeof(r.level), "maintenance");
            snprintf(r.who, sizeof(r.who), "%s", col(q, 7));
            place_then(db, node, t, r.place, sizeof(r.place));
            char was[96], now[96];
            bool po = record_place(col(q, 13), was, sizeof(was));
            bool pn = record_place(col(q, 14), now, sizeof(now));
            if (po && pn)
                snprintf(detail, sizeof(detail), "%s -> %s%s%s", was, now,
                         col(q, 10)[0] ? "; " : "", col(q, 10));
            else if (pn)
                snprintf(detail, sizeof(detail), "at %s%s%s", now, col(q, 10)[0] ? "; " : "",
                         col(q, 10));
            else
                snprintf(detail, sizeof(detail), "%s%s%s%s%s", col(q, 13),
                         col(q, 13)[0] && col(q, 14)[0] ? " -> " : "", col(q, 14),
                         (col(q, 13)[0] || col(q, 14)[0]) && col(q, 10)[0] ? "; " : "", col(q, 10));
        }
        if (!r.who[0])
            snprintf(r.who, sizeof(r.who), "-");
        shorten(detail[0] ? detail : "-", r.detail, sizeof(r.detail));
        if (alert && !verbose && strcmp(r.event, "published") == 0) {
            pend = r;
            pend_alert = id;
            pend_n = 1;
            continue;
        }
        print_row(out, &r);
        (*rows)++;
    }
    flush_published(out, &pend, &pend_n, rows);
    if (rc != SQLITE_DONE)
        snprintf(err, errcap, "events: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}
