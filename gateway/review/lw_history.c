/* SPDX-License-Identifier: Apache-2.0 */
/* History queries for the review commands: strict parsing of what the user typed, node
 * selection, and SQL over readings, rollups and journals written as table, CSV or JSON. */
#include "lw_history.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw_csv.h"
#include "lw_error.h"
#include "lw_parse.h"
#include "lw_rollup.h"
#include "lw_store.h"

/* ---- parsing ------------------------------------------------------------------------------- */

/* Exactly n digits at *p, advancing it. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return false;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DDTHH:MM:SS" as local time. LW_ERR_INVAL when the
 * text is not in this shape (the caller then tries ISO with a zone). */
static int parse_local(const char *s, int64_t tz_off_ms, int64_t *out)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return LW_ERR_INVAL;
    if (*p == 'T' || *p == ' ') {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return LW_ERR_INVAL;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return LW_ERR_INVAL;
        }
    }
    if (*p)
        return LW_ERR_INVAL;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0) || h > 23 || mi > 59 || sec > 59)
        return LW_ERR_RANGE;
    *out = (days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 - tz_off_ms;
    return LW_OK;
}

#define TIME_MAX_MS (253402300799999LL) /* 9999-12-31T23:59:59.999Z */

int lw_history_parse_time(const char *s, int64_t now_ms, int64_t tz_off_ms, int64_t *out)
{
    if (!s || !*s)
        return LW_ERR_INVAL;
    if (strcmp(s, "now") == 0) {
        *out = now_ms;
        return LW_OK;
    }
    if (s[0] == '-') {
        uint64_t ago;
        /* A bare number would mean seconds to lw_parse_duration_ms: demand a unit here. */
        size_t len = strlen(s);
        if (len < 3 || isdigit((unsigned char)s[len - 1]))
            return LW_ERR_INVAL;
        int rc = lw_parse_duration_ms(s + 1, 100ull * 366 * 86400000, &ago);
        if (rc != LW_OK)
            return rc;
        *out = now_ms - (int64_t)ago;
        return LW_OK;
    }
    int rc = parse_local(s, tz_off_ms, out);
    if (rc == LW_ERR_INVAL)
        rc = lw_parse_time(s, out);
    if (rc == LW_OK && (*out < 0 || *out > TIME_MAX_MS))
        rc = LW_ERR_RANGE;
    return rc;
}

int lw_history_parse_range(const char *from, const char *to, int64_t now_ms, int64_t tz_off_ms,
                           int64_t *from_ms, int64_t *to_ms)
{
    int rc = to ? lw_history_parse_time(to, now_ms, tz_off_ms, to_ms) : LW_OK;
    if (!to)
        *to_ms = now_ms;
    if (rc != LW_OK)
        return rc;
    if (from) {
        rc = lw_history_parse_time(from, now_ms, tz_off_ms, from_ms);
        if (rc != LW_OK)
            return rc;
    } else {
        *from_ms = *to_ms - 86400000;
    }
    return *from_ms < *to_ms ? LW_OK : LW_ERR_RANGE;
}

int lw_history_parse_every(const char *s, int64_t *step_ms)
{
    static const struct {
        const char *name;
        int64_t ms;
    } steps[] = {{"raw", 0},
                 {"5min", 300000},
                 {"5m", 300000},
                 {"hour", LW_ROLLUP_HOUR_MS},
                 {"1h", LW_ROLLUP_HOUR_MS},
                 {"day", LW_ROLLUP_DAY_MS},
                 {"1d", LW_ROLLUP_DAY_MS}};
    for (size_t i = 0; s && i < sizeof(steps) / sizeof(steps[0]); i++)
        if (strcmp(s, steps[i].name) == 0) {
            *step_ms = steps[i].ms;
            return LW_OK;
        }
    return LW_ERR_INVAL;
}

int lw_history_fmt(const char *name)
{
    if (strcmp(name, "table") == 0)
        return LW_FMT_TABLE;
    if (strcmp(name, "csv") == 0)
        return LW_FMT_CSV;
    if (strcmp(name, "json") == 0)
        return LW_FMT_JSON;
    return -1;
}

/* ---- nodes --------------------------------------------------------------------------------- */

bool lw_history_node_matches(const struct lw_hist_node *n, enum lw_hist_by by, const char *what)
{
    switch (by) {
    case LW_HIST_ALL:
        return true;
    case LW_HIST_NODE: {
        if (strcmp(n->name, what) == 0)
            return true;
        uint32_t a;
        return lw_parse_u32(what, 1, 0xFFFE, &a) == LW_OK && a == n->address;
    }
    case LW_HIST_PLACE:
        return (n->building[0] && strcmp(n->building, what) == 0) ||
               (n->grid[0] && strcmp(n->grid, what) == 0) ||
               (n->unit[0] && strcmp(n->unit, what) == 0) ||
               (what[0] && lw_tags_any(n->tags, what) && !strchr(what, ',')) ||
               (what[0] && strstr(n->place, what) != NULL);
    case LW_HIST_KIND:
        return strcmp(n->kind, what) == 0;
    }
    return false;
}

static void col(sqlite3_stmt *q, int i, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(q, i);
    snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int lw_history_nodes(sqlite3 *db, enum lw_hist_by by, const char *what, struct lw_hist_node **out,
                     size_t *n, char *err, size_t errcap)
{
    sqlite3_stmt *q;
    *out = NULL;
    *n = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT address, name, kind, building, floor, unit, grid, place, tags "
                           "FROM nodes ORDER BY address",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "reading the nodes: %s", sqlite3_errmsg(db));
        return LW_ERR_DB;
    }
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct lw_hist_node nd;
        memset(&nd, 0, sizeof(nd));
        nd.address = (uint16_t)sqlite3_column_int(q, 0);
        col(q, 1, nd.name, sizeof(nd.name));
        col(q, 2, nd.kind, sizeof(nd.kind));
        col(q, 3, nd.building, sizeof(nd.building));
        col(q, 4, nd.floor, sizeof(nd.floor));
        col(q, 5, nd.unit, sizeof(nd.unit));
        col(q, 6, nd.grid, sizeof(nd.grid));
        col(q, 7, nd.place, sizeof(nd.place));
        col(q, 8, nd.tags, sizeof(nd.tags));
        if (!lw_history_node_matches(&nd, by, what))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            struct lw_hist_node *p = realloc(*out, cap * sizeof(*p));
            if (!p) {
                sqlite3_finalize(q);
                snprintf(err, errcap, "out of memory");
                return LW_ERR_NOMEM;
            }
            *out = p;
        }
        (*out)[(*n)++] = nd;
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errcap, "reading the nodes: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}

/* ---- writer -------------------------------------------------------------------------------- */

struct writer {
    enum lw_hist_fmt fmt;
    FILE *out;
    size_t rows;
    int ncol;
    char **names;
    char **cells; /* table: every cell, row-major, printed at the end with aligned columns */
    size_t ncells, cap;
};

/* A number as short text: integers as such, others with at most 3 decimals. */
static void num_text(sqlite3_stmt *q, int i, char *buf, size_t cap)
{
    if (sqlite3_column_type(q, i) == SQLITE_INTEGER) {
        snprintf(buf, cap, "%lld", (long long)sqlite3_column_int64(q, i));
        return;
    }
    double v = sqlite3_column_double(q, i);
    snprintf(buf, cap, "%.3f", v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, cap, "0");
}

static int writer_begin(struct writer *w, sqlite3_stmt *q)
{
    if (w->names)
        return LW_OK;
    w->ncol = sqlite3_column_count(q);
    w->names = calloc((size_t)w->ncol, sizeof(char *));
    if (!w->names)
        return LW_ERR_NOMEM;
    for (int i = 0; i < w->ncol; i++) {
        w->names[i] = strdup(sqlite3_column_name(q, i));
        if (!w->names[i])
            return LW_ERR_NOMEM;
    }
    if (w->fmt == LW_FMT_CSV)
        for (int i = 0; i < w->ncol; i++)
            fprintf(w->out, "%s%s", w->names[i], i + 1 < w->ncol ? "," : "\r\n");
    else if (w->fmt == LW_FMT_JSON)
        fputs("[", w->out);
    return LW_OK;
}

static int writer_row(struct writer *w, sqlite3_stmt *q)
{
    char buf[64];
    if (w->fmt == LW_FMT_JSON) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return LW_ERR_NOMEM;
        for (int i = 0; i < w->ncol; i++) {
            switch (sqlite3_column_type(q, i)) {
            case SQLITE_NULL:
                cJSON_AddNullToObject(o, w->names[i]);
                break;
            case SQLITE_INTEGER:
            case SQLITE_FLOAT:
                num_text(q, i, buf, sizeof(buf));
                cJSON_AddRawToObject(o, w->names[i], buf); /* exact text, not %1.15g */
                break;
            default:
                cJSON_AddStringToObject(o, w->names[i], (const char *)sqlite3_column_text(q, i));
            }
        }
        char *s = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!s)
            return LW_ERR_NOMEM;
        fprintf(w->out, "%s\n%s", w->rows ? "," : "", s);
        free(s);
    } else {
        for (int i = 0; i < w->ncol; i++) {
            const char *t;
            int ty = sqlite3_column_type(q, i);
            if (ty == SQLITE_INTEGER || ty == SQLITE_FLOAT) {
                num_text(q, i, buf, sizeof(buf));
                t = buf;
            } else {
                t = ty == SQLITE_NULL ? "" : (const char *)sqlite3_column_text(q, i);
            }
            if (w->fmt == LW_FMT_CSV) {
                lw_csv_field(w->out, t, ty == SQLITE_TEXT || ty == SQLITE_BLOB);
                fputs(i + 1 < w->ncol ? "," : "\r\n", w->out);
                continue;
            }
            if (w->ncells == w->cap) {
                size_t cap = w->cap ? 2 * w->cap : 1024;
                char **c = realloc(w->cells, cap * sizeof(*c));
                if (!c)
                    return LW_ERR_NOMEM;
                w->cells = c;
                w->cap = cap;
            }
            w->cells[w->ncells] = strdup(ty == SQLITE_NULL ? "-" : t);
            if (!w->cells[w->ncells])
                return LW_ERR_NOMEM;
            w->ncells++;
        }
    }
    w->rows++;
    return LW_OK;
}

/* Display width of UTF-8 text: CJK characters take two columns in a terminal. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue;
        w += *p >= 0xE3 && *p <= 0xED ? 2 : 1; /* U+3000..U+DFFF: CJK, two columns */
    }
    return w;
}

static void writer_end(struct writer *w)
{
    if (w->fmt == LW_FMT_JSON && w->names)
        fputs("\n]\n", w->out);
    if (w->fmt == LW_FMT_JSON && !w->names)
        fputs("[]\n", w->out);
    if (w->fmt == LW_FMT_TABLE && w->names) {
        size_t *width = calloc((size_t)w->ncol, sizeof(size_t));
        for (int i = 0; width && i < w->ncol; i++)
            width[i] = text_width(w->names[i]);
        for (size_t c = 0; width && c < w->ncells; c++) {
            size_t tw = text_width(w->cells[c]);
            if (tw > width[c % (size_t)w->ncol])
                width[c % (size_t)w->ncol] = tw;
        }
        for (size_t r = 0; width && r <= w->rows; r++)
            for (int i = 0; i < w->ncol; i++) {
                const char *t = r == 0 ? w->names[i] : w->cells[(r - 1) * (size_t)w->ncol + i];
                bool last = i + 1 == w->ncol;
                fputs(t, w->out);
                for (size_t pad = text_width(t); !last && pad < width[i] + 2; pad++)
                    fputc(' ', w->out);
                if (last)
                    fputc('\n', w->out);
            }
        free(width);
    }
    for (size_t c = 0; c < w->ncells; c++)
        free(w->cells[c]);
    free(w->cells);
    for (int i = 0; w->names && i < w->ncol; i++)
        free(w->names[i]);
    free(w->names);
}

static int writer_rows_now(struct writer *w, sqlite3_stmt *q)
{
    int rc;
    if (writer_begin(w, q) != LW_OK)
        return LW_ERR_NOMEM;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW)
        if (writer_row(w, q) != LW_OK)
            return LW_ERR_NOMEM;
    return rc == SQLITE_DONE ? LW_OK : LW_ERR_DB;
}

/* The rows are gathered in memory and q is reset before any of them is written: a slow reader
 * of the output (a pager, a pipe) never holds the query's read transaction open, which would
 * keep lorawatchd from resetting its WAL (it grows until the reader lets go). */
static int writer_rows(struct writer *w, sqlite3_stmt *q)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = w->out, *mem = open_memstream(&buf, &len);
    if (!mem)
        return writer_rows_now(w, q);
    w->out = mem;
    int rc = writer_rows_now(w, q);
    sqlite3_reset(q); /* the read transaction ends here */
    w->out = out;
    fclose(mem);
    if (len)
        fwrite(buf, 1, len, out);
    free(buf);
    return rc;
}

int lw_history_write(sqlite3_stmt *q, enum lw_hist_fmt fmt, FILE *out, size_t *rows)
{
    struct writer w = {.fmt = fmt, .out = out};
    int rc = writer_rows(&w, q);
    writer_end(&w);
    *rows = w.rows;
    return rc;
}

/* ---- queries ------------------------------------------------------------------------------- */

/* Used inside sqlite3_mprintf formats, hence the doubled percent signs. */
#define LOCAL_TIME(col)                                                                            \
    "strftime('%%Y-%%m-%%d %%H:%%M:%%S', " col " / 1000, 'unixepoch', 'localtime')"

/* The SQL expression of a metric's value in its unit, from a readings row; NULL where the rules
 * and roll-ups take none (lw_metric_value): any sensor's while the node reports a sensor fault,
 * gas while the sensor warms up. */
#define MEASURED(v) "CASE WHEN coalesce(flags, 0) & 1 THEN NULL ELSE " v " END"
static const char *metric_sql(int metric)
{
    switch (metric) {
    case LW_METRIC_WATER:
        return MEASURED("water_mm");
    case LW_METRIC_SMOKE:
        return MEASURED("smoke");
    case LW_METRIC_OBSCURATION:
        return MEASURED("obscuration / 100.0");
    case LW_METRIC_GAS:
        return "CASE WHEN coalesce(flags, 0) & 9 THEN NULL ELSE gas_lel_x10 / 10.0 END";
    case LW_METRIC_CO:
        return MEASURED("co_ppm");
    case LW_METRIC_TEMP:
        return MEASURED("temp_x10 / 10.0");
    default:
        return "battery_mv";
    }
}

/* The node's rollup metric and level thresholds (rollup_levels), else by kind, no levels. */
static int node_metric(sqlite3 *db, const struct lw_hist_node *n, double thr[LW_LEVEL_COUNT])
{
    int k = lw_kind_from_name(n->kind);
    int metric = (int)lw_rollup_metric(k < 0 ? LW_KIND_MULTI : (enum lw_node_kind)k, NULL);
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        thr[l] = NAN;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db,
                           "SELECT metric, blue, yellow, orange, red FROM rollup_levels WHERE "
                           "node = ?",
                           -1, &q, NULL) != SQLITE_OK)
        return metric; /* schema before v5: no levels */
    sqlite3_bind_int(q, 1, n->address);
    if (sqlite3_step(q) == SQLITE_ROW) {
        metric = sqlite3_column_int(q, 0);
        for (int l = 0; l < LW_LEVEL_COUNT; l++)
            if (sqlite3_column_type(q, 1 + l) != SQLITE_NULL)
                thr[l] = sqlite3_column_double(q, 1 + l);
    }
    sqlite3_finalize(q);
    return metric;
}

static char *raw_sql(void)
{
    return sqlite3_mprintf("SELECT r.ts_ms AS t_ms, " LOCAL_TIME(
        "r.ts_ms") " AS time, ?4 AS node, fcnt, water_mm, "
                   "smoke, obscuration / 100.0 AS obscuration_pct_m, gas_lel_x10 / 10.0 AS "
                   "gas_lel, co_ppm, "
                   "temp_x10 / 10.0 AS temp_c, battery_mv, flags, rssi_x10 / 10.0 AS rssi_dbm, "
                   "snr_x10 / 10.0 AS snr_db, hops, time_quality FROM readings r WHERE r.node = ?1 "
                   "AND "
                   "r.ts_ms >= ?2 AND r.ts_ms < ?3 ORDER BY r.ts_ms, r.fcnt");
}

/* 5-minute steps from the raw readings, durations defined exactly as the rollups define them
 * (a reading stands for the time since the node's previous one, at most LW_ROLLUP_GAP_MS). */
static char *five_min_sql(int metric, const double thr[LW_LEVEL_COUNT])
{
    char lv[LW_LEVEL_COUNT][96];
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        if (isnan(thr[l]))
            snprintf(lv[l], sizeof(lv[l]), "NULL");
        else
            snprintf(lv[l], sizeof(lv[l]), "sum(CASE WHEN v >= %.17g THEN dt ELSE 0 END) / 1000",
                     thr[l]);
    return sqlite3_mprintf(
        "WITH x AS (SELECT ts_ms, %s AS v, battery_mv, min(ts_ms - lag(ts_ms) OVER (ORDER BY "
        "ts_ms), %lld) AS dt FROM readings WHERE node = ?1 AND ts_ms >= ?2 - %lld AND ts_ms < ?3) "
        "SELECT (ts_ms / 300000) * 300000 AS t_ms, " LOCAL_TIME(
            "(ts_ms / 300000) * 300000") " AS time, ?4 AS node, '%s' AS metric, count(v) AS n, "
                                         "min(v) AS min, avg(v) AS mean, "
                                         "max(v) AS max, %s AS blue_s, %s AS yellow_s, %s AS "
                                         "orange_s, %s AS red_s, "
                                         "min(battery_mv) AS battery_min_mv, count(*) AS frames "
                                         "FROM x WHERE ts_ms >= ?2 "
                                         "GROUP BY ts_ms / 300000 ORDER BY 1",
        metric_sql(metric), LW_ROLLUP_GAP_MS, LW_ROLLUP_GAP_MS,
        lw_metric_name((enum lw_metric)metric), lv[0], lv[1], lv[2], lv[3]);
}

static char *rollup_sql(const char *table, const double thr[LW_LEVEL_COUNT])
{
    static const char *const cols[LW_LEVEL_COUNT] = {"above_blue", "above_yellow", "above_orange",
                                                     "above_red"};
    char lv[LW_LEVEL_COUNT][40];
    for (int l = 0; l < LW_LEVEL_COUNT; l++)
        snprintf(lv[l], sizeof(lv[l]), isnan(thr[l]) ? "NULL" : "%s / 1000", cols[l]);
    return sqlite3_mprintf(
        "SELECT t_ms, " LOCAL_TIME(
            "t_ms") " AS time, ?4 AS node, CASE metric %s END AS metric, "
                    "n, vmin AS min, CASE WHEN n > 0 THEN vsum / n END AS mean, vmax AS max, %s AS "
                    "blue_s, "
                    "%s AS yellow_s, %s AS orange_s, %s AS red_s, batt_min AS battery_min_mv, "
                    "frames FROM %s "
                    "WHERE node = ?1 AND t_ms >= ?2 AND t_ms < ?3 ORDER BY t_ms",
        "WHEN 0 THEN 'water_mm' WHEN 1 THEN 'smoke' WHEN 2 THEN 'obscuration' WHEN 3 THEN "
        "'gas_lel' WHEN 4 THEN 'co_ppm' WHEN 5 THEN 'temp_c' ELSE 'battery_mv'",
        lv[0], lv[1], lv[2], lv[3], table);
}

int lw_history_readings(sqlite3 *db, const struct lw_hist_node *nodes, size_t n, int64_t from,
                        int64_t to, int64_t step_ms, enum lw_hist_fmt fmt, FILE *out, size_t *rows,
                        char *err, size_t errcap)
{
    struct writer w = {.fmt = fmt, .out = out};
    int rc = LW_OK;
    int64_t start = from;
    if (step_ms == LW_ROLLUP_HOUR_MS)
        start = lw_rollup_hour(from);
    else if (step_ms == LW_ROLLUP_DAY_MS)
        start = lw_rollup_day(from, lw_store_tz_offset_ms());
    for (size_t i = 0; i < n && rc == LW_OK; i++) {
        double thr[LW_LEVEL_COUNT];
        int metric = node_metric(db, &nodes[i], thr);
        char *sql = step_ms == 0                   ? raw_sql()
                    : step_ms == 300000            ? five_min_sql(metric, thr)
                    : step_ms == LW_ROLLUP_HOUR_MS ? rollup_sql("rollup_hour", thr)
                                                   : rollup_sql("rollup_day", thr);
        sqlite3_stmt *q = NULL;
        if (!sql || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
            snprintf(err, errcap, "query: %s", sql ? sqlite3_errmsg(db) : "out of memory");
            sqlite3_free(sql);
            rc = LW_ERR_DB;
            break;
        }
        sqlite3_free(sql);
        sqlite3_bind_int(q, 1, nodes[i].address);
        sqlite3_bind_int64(q, 2, start);
        sqlite3_bind_int64(q, 3, to);
        sqlite3_bind_text(q, 4, nodes[i].name, -1, SQLITE_STATIC);
        rc = writer_rows(&w, q);
        if (rc == LW_ERR_DB)
            snprintf(err, errcap, "query: %s", sqlite3_errmsg(db));
        else if (rc != LW_OK)
            snprintf(err, errcap, "out of memory");
        sqlite3_finalize(q);
    }
    writer_end(&w);
    *rows = w.rows;
    return rc;
}

int lw_history_events(sqlite3 *db, const struct lw_hist_node *nodes, size_t n, int64_t from,
                      int64_t to, enum lw_hist_fmt fmt, FILE *out, size_t *rows, char *err,
                      size_t errcap)
{
    char *in = sqlite3_mprintf("%s", "");
    for (size_t i = 0; in && i < n; i++) {
        char *next = sqlite3_mprintf("%s%s%d", in, i ? "," : "", nodes[i].address);
        sqlite3_free(in);
        in = next;
    }
    char *sql = in ? sqlite3_mprintf(
                         "SELECT j.ts_ms AS t_ms, " LOCAL_TIME(
                             "j.ts_ms") " AS time, j.event, j.alert, "
                                        "a.level, a.hazard, n.name AS node, coalesce(n.place, '') "
                                        "AS place, j.actor, "
                                        "j.tier, j.via, CASE WHEN j.event <> 'raised' THEN "
                                        "(j.ts_ms - a.raised_ms) / "
                                        "1000 END AS after_s, j.detail FROM alert_journal j JOIN "
                                        "alerts a ON a.id = "
                                        "j.alert LEFT JOIN nodes n ON n.address = a.node WHERE "
                                        "j.ts_ms >= ?1 AND "
                                        "j.ts_ms < ?2 %s%s%s "
                                        "UNION ALL SELECT m.ts_ms, " LOCAL_TIME(
                                            "m.ts_ms") ", 'maintenance:' || "
                                                       "m.action, NULL, NULL, NULL, n.name, "
                                                       "coalesce(n.place, ''), CASE WHEN m.uid IS "
                                                       "NOT NULL THEN 'uid:' || m.uid END, NULL, "
                                                       "NULL, NULL, trim(coalesce(m.old || "
                                                       "' -> ', '') || coalesce(m.new, '') || ' ' "
                                                       "|| coalesce(m.detail, '')) FROM "
                                                       "maintenance m LEFT JOIN nodes n ON "
                                                       "n.address = m.node WHERE m.ts_ms >= ?1 AND "
                                                       "m.ts_ms < ?2 %s%s%s ORDER BY 1, 4",
                         n ? "AND a.node IN (" : "", n ? in : "", n ? ")" : "",
                         n ? "AND m.node IN (" : "", n ? in : "", n ? ")" : "")
                   : NULL;
    sqlite3_free(in);
    sqlite3_stmt *q = NULL;
    if (!sql || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "events: %s", sql ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_free(sql);
        return LW_ERR_DB;
    }
    sqlite3_free(sql);
    sqlite3_bind_int64(q, 1, from);
    sqlite3_bind_int64(q, 2, to);
    int rc = lw_history_write(q, fmt, out, rows);
    if (rc != LW_OK)
        snprintf(err, errcap, "events: %s", sqlite3_errmsg(db));
    sqlite3_finalize(q);
    return rc;
}
