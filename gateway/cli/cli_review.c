/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch history, events, report and backup: the season review, read straight from the
 * database file (read-only), so it works whether the daemon runs or not. */
#include <errno.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_history.h"
#include "lw_report.h"
#include "lw_store.h"

/* Options every review command shares. */
struct common {
    const char *db, *config, *socket;
    const char *node, *place, *kind;
    const char *from, *to;
    int fmt;
};

enum {
    OPT_SOCKET = 's',
    OPT_DB = 1000,
    OPT_NODE,
    OPT_PLACE,
    OPT_KIND,
    OPT_FROM,
    OPT_TO,
    OPT_CSV,
    OPT_JSON
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void silent(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* Where the review commands find the database, for their --help. */
#define DB_HELP                                                                                    \
    "      --db FILE        the database file\n"                                                   \
    "  -c, --config FILE    the configuration naming the database ([gateway] database)\n"          \
    "  -s, --socket PATH    ask the daemon listening here which database it uses\n"                \
    "                       (default $LORAWATCH_SOCKET, else " CLI_DEFAULT_SOCKET ")\n"            \
    "                       Without --db or -c: the database of " CLI_DEFAULT_CONFIG "\n"          \
    "                       when it exists, else the one the running daemon uses.\n"

/* The database the running daemon uses, asked over its control socket; false (quietly) when no
 * daemon answers there. */
static bool daemon_db(const char *prog, const struct common *c, char *out, size_t cap)
{
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "cmd", "database");
    int rc;
    cJSON *reply = cli_call(prog, cli_socket_path(c->socket), req, 5, true, &rc);
    cJSON_Delete(req);
    const char *path = cli_jstr(reply, "path");
    bool ok = path[0] != 0;
    if (ok)
        snprintf(out, cap, "%s", path);
    cJSON_Delete(reply);
    return ok;
}

/* --db (after or before the command), else the database of the configuration given with -c,
 * else that of the default configuration when it exists, else the running daemon's. */
static int db_path(const char *prog, const struct common *c, char *out, size_t cap)
{
    const char *db = c->db ? c->db : cli_global.db;
    if (db) {
        snprintf(out, cap, "%s", db);
        return CLI_EXIT_OK;
    }
    const char *conf = c->config ? c->config : cli_global.config;
    if (!conf && access(CLI_DEFAULT_CONFIG, F_OK) != 0) {
        int e = errno;
        if (daemon_db(prog, c, out, cap))
            return CLI_EXIT_OK;
        fprintf(stderr,
                "lorawatch %s: which database? " CLI_DEFAULT_CONFIG
                ": %s, and no daemon answers on %s; give the database with --db FILE or the "
                "configuration with -c FILE\n",
                prog, strerror(e), cli_socket_path(c->socket));
        return CLI_EXIT_FAIL;
    }
    if (!conf)
        conf = CLI_DEFAULT_CONFIG;
    struct lw_config *cfg = lw_config_load(conf, silent, NULL);
    if (!cfg) {
        fprintf(stderr,
                "lorawatch %s: cannot use %s (%s); give the database with --db FILE or a valid "
                "configuration with -c FILE\n",
                prog, conf,
                access(conf, R_OK) == 0 ? "it has errors: lorawatchd -n -f checks it"
                                        : strerror(errno));
        return access(conf, F_OK) == 0 && access(conf, R_OK) != 0 ? CLI_EXIT_DENIED : CLI_EXIT_FAIL;
    }
    lw_config_db_path(cfg, out, cap);
    lw_config_free(cfg);
    return CLI_EXIT_OK;
}

static sqlite3 *open_db(const char *prog, const struct common *c, int min_version, int *exit_code)
{
    char path[LW_PATH_MAX + 32], err[512];
    *exit_code = db_path(prog, c, path, sizeof(path));
    if (*exit_code != CLI_EXIT_OK)
        return NULL;
    sqlite3 *db = lw_store_open_readonly(path, min_version, err, sizeof(err));
    if (!db) {
        fprintf(stderr, "lorawatch %s: %s\n", prog, err);
        *exit_code =
            access(path, F_OK) == 0 && access(path, R_OK) != 0 ? CLI_EXIT_DENIED : CLI_EXIT_FAIL;
    }
    return db;
}

static int bad_time(const char *prog, const char *opt, const char *v, int rc)
{
    fprintf(stderr,
            "lorawatch %s: %s %s: %s (use YYYY-MM-DD, YYYY-MM-DDTHH:MM, ISO 8601 with a zone, "
            "@UNIXSECONDS, now or -7d)\n",
            prog, opt, v, rc == LW_ERR_RANGE ? "no such date or time" : "not a time");
    return CLI_EXIT_USAGE;
}

/* Both ends parsed and in order; on error prints one line and returns the exit status. */
static int range(const char *prog, const struct common *c, int64_t *from, int64_t *to)
{
    int64_t now = now_ms(), tz = lw_store_tz_offset_ms(), t;
    int rc;
    if (c->from && (rc = lw_history_parse_time(c->from, now, tz, &t)) != LW_OK)
        return bad_time(prog, "--from", c->from, rc);
    if (c->to && (rc = lw_history_parse_time(c->to, now, tz, &t)) != LW_OK)
        return bad_time(prog, "--to", c->to, rc);
    if (lw_history_parse_range(c->from, c->to, now, tz, from, to) != LW_OK) {
        fprintf(stderr,
                "lorawatch %s: the range is empty or inverted: --from must be before --to\n", prog);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* The selected nodes; a selector that matches nothing is an error naming it. */
static int select_nodes(const char *prog, sqlite3 *db, const struct common *c, bool need_one,
                        struct lw_hist_node **nodes, size_t *n)
{
    enum lw_hist_by by = c->node    ? LW_HIST_NODE
                         : c->place ? LW_HIST_PLACE
                         : c->kind  ? LW_HIST_KIND
                                    : LW_HIST_ALL;
    const char *what = c->node ? c->node : c->place ? c->place : c->kind ? c->kind : "";
    if ((c->node != NULL) + (c->place != NULL) + (c->kind != NULL) > 1) {
        fprintf(stderr, "lorawatch %s: give one of --node, --place, --kind\n", prog);
        return CLI_EXIT_USAGE;
    }
    if (need_one && by == LW_HIST_ALL) {
        fprintf(stderr,
                "lorawatch %s: say what to show: --node NAME, --place PLACE or --kind "
                "KIND\n",
                prog);
        return CLI_EXIT_USAGE;
    }
    if (c->kind && lw_kind_from_name(c->kind) < 0) {
        fprintf(stderr, "lorawatch %s: --kind %s: unknown kind (water, smoke, gas, co, multi)\n",
                prog, c->kind);
        return CLI_EXIT_USAGE;
    }
    char err[256];
    if (lw_history_nodes(db, by, what, nodes, n, err, sizeof(err)) != LW_OK) {
        fprintf(stderr, "lorawatch %s: %s\n", prog, err);
        return CLI_EXIT_FAIL;
    }
    if (*n == 0 && by != LW_HIST_ALL) {
        fprintf(stderr, "lorawatch %s: no %s '%s' in the database\n", prog,
                c->node    ? "node"
                : c->place ? "place"
                           : "node of kind",
                what);
        return CLI_EXIT_NOT_FOUND;
    }
    return CLI_EXIT_OK;
}

/* Parse the shared options; others go to extra(c, optarg) which returns an exit status or -1. */
static int parse(const char *prog, int argc, char **argv, struct common *c, const char *shortopts,
                 const struct option *more, size_t n_more,
                 int (*extra)(void *arg, int opt, const char *val), void *arg,
                 void (*usage)(FILE *), int *rest)
{
    struct option opts[24] = {
        {"db", required_argument, NULL, OPT_DB},
        {"config", required_argument, NULL, 'c'},
        {"node", required_argument, NULL, OPT_NODE},
        {"place", required_argument, NULL, OPT_PLACE},
        {"kind", required_argument, NULL, OPT_KIND},
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"csv", no_argument, NULL, OPT_CSV},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {"socket", required_argument, NULL, OPT_SOCKET},
    };
    size_t k = 11;
    for (size_t i = 0; i < n_more && k < 23; i++)
        opts[k++] = more[i];
    opts[k] = (struct option){NULL, 0, NULL, 0};
    memset(c, 0, sizeof(*c));
    c->fmt = LW_FMT_TABLE;
    optind = 1;
    int o;
    while ((o = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
        switch (o) {
        case OPT_DB:
            c->db = optarg;
            break;
        case 'c':
            c->config = optarg;
            break;
        case OPT_SOCKET:
            c->socket = optarg;
            break;
        case OPT_NODE:
            c->node = optarg;
            break;
        case OPT_PLACE:
            c->place = optarg;
            break;
        case OPT_KIND:
            c->kind = optarg;
            break;
        case OPT_FROM:
            c->from = optarg;
            break;
        case OPT_TO:
            c->to = optarg;
            break;
        case OPT_CSV:
            c->fmt = LW_FMT_CSV;
            break;
        case OPT_JSON:
            c->fmt = LW_FMT_JSON;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK + 100;
        default: {
            int rc = extra ? extra(arg, o, optarg) : -1;
            if (rc >= 0)
                return rc;
            if (rc == -1) {
                usage(stderr);
                return CLI_EXIT_USAGE;
            }
        }
        }
    }
    (void)prog;
    *rest = optind;
    return -1;
}

/* ---- history ------------------------------------------------------------------------------- */

static void history_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch history (--node NAME | --place PLACE | --kind KIND) [--from TIME]\n"
            "                         [--to TIME] [--every STEP] [--csv | --json]\n"
            "                         [--db FILE | -c CONFIG]\n"
            "\n"
            "Readings of a node, of the nodes of a place (building, grid sector, unit, tag or\n"
            "part of the place text) or of a kind, read-only from the database: works with the\n"
            "daemon stopped. Raw readings, or per 5 minutes, hour or day: count, min, mean and\n"
            "max of each node's main metric, seconds at or above each rule level, lowest\n"
            "battery. Hours and days come from the rollups and outlive [storage] retention_days.\n"
            "\n"
            "      --node NAME      a node by name or address\n"
            "      --place PLACE    the nodes of a place\n"
            "      --kind KIND      the nodes of a kind (water, smoke, gas, co, multi)\n"
            "      --from TIME      start (default 24 h before --to); TIME is YYYY-MM-DD,\n"
            "                       YYYY-MM-DDTHH:MM[:SS] (local), ISO 8601 with a zone,\n"
            "                       @UNIXSECONDS, now, or -30m, -12h, -7d (before now)\n"
            "      --to TIME        end, not included (default now)\n"
            "      --every STEP     raw (default), 5min, hour or day\n"
            "      --csv            CSV with a header line\n"
            "      --json           a JSON array of objects\n" DB_HELP
            "  -h, --help           print this help\n"
            "\n"
            "Exit status: 0 success; 1 unreadable, damaged or too new database; 2 usage error\n"
            "(bad time, inverted range); 4 no such node, place or kind; 5 permission denied.\n");
}

static int history_opt(void *arg, int opt, const char *val)
{
    const char **every = arg;
    if (opt != 'e')
        return -1;
    *every = val;
    return -2; /* handled */
}

int cli_history(int argc, char **argv)
{
    static const struct option more[] = {{"every", required_argument, NULL, 'e'}};
    struct common c;
    const char *every = "raw";
    int rest, rc = parse("history", argc, argv, &c, "c:s:h", more, 1, history_opt, &every,
                         history_usage, &rest);
    if (rc >= 100)
        return rc - 100;
    if (rc >= 0)
        return rc;
    if (cli_no_more_args("history", argc, argv, rest))
        return CLI_EXIT_USAGE;
    int64_t step, from, to;
    if (lw_history_parse_every(every, &step) != LW_OK) {
        fprintf(stderr, "lorawatch history: --every %s: use raw, 5min, hour or day\n", every);
        return CLI_EXIT_USAGE;
    }
    if ((rc = range("history", &c, &from, &to)) != CLI_EXIT_OK)
        return rc;
    sqlite3 *db = open_db("history", &c, step >= 3600000 ? 5 : 1, &rc);
    if (!db)
        return rc;
    struct lw_hist_node *nodes = NULL;
    size_t n = 0, rows = 0;
    char err[512];
    rc = select_nodes("history", db, &c, true, &nodes, &n);
    if (rc == CLI_EXIT_OK &&
        lw_history_readings(db, nodes, n, from, to, step, (enum lw_hist_fmt)c.fmt, stdout, &rows,
                            err, sizeof(err)) != LW_OK) {
        fprintf(stderr, "lorawatch history: %s\n", err);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && rows == 0 && c.fmt == LW_FMT_TABLE)
        fprintf(stderr, "lorawatch history: no readings of %zu node(s) in this range\n", n);
    free(nodes);
    sqlite3_close(db);
    return rc;
}

/* ---- events -------------------------------------------------------------------------------- */

static void events_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch events [--node NAME | --place PLACE | --kind KIND] [--from TIME]\n"
            "                        [--to TIME] [-v] [--csv | --json] [--db FILE | -c CONFIG]\n"
            "\n"
            "The alert and maintenance journals as one timeline: alerts raised, notified,\n"
            "escalated (to which tier), acknowledged (by whom, through what, how long after\n"
            "being raised: after_s), cleared or closed; and what maintainers did. Read-only.\n"
            "\n"
            "The table has one line per event: local date and time, alert (#id), event, level\n"
            "and hazard, node, PLACE THEN (where the node hung at the time: an alert's place\n"
            "as its raise message published it, else from the maintenance journal's moves),\n"
            "who (people by their roster name as it was then, or uid; duty tier, channel) and\n"
            "the detail cut to 60 characters (an acknowledgement's outcome, then its note). The\n"
            "broker's acknowledgements ('published') of one notification make one line.\n"
            "--csv and --json give every row and column as stored (t_ms, time, event, alert,\n"
            "level, hazard, node, place, actor, tier, via, after_s, detail).\n"
            "\n"
            "      --node NAME      only this node's alerts and maintenance\n"
            "      --place PLACE    only the nodes of this place\n"
            "      --kind KIND      only nodes of this kind\n"
            "  -v, --verbose        every 'published' row of the broker on its own line\n"
            "      --from TIME      start (default 24 h before --to); forms as in history\n"
            "      --to TIME        end, not included (default now)\n"
            "      --csv            CSV with a header line\n"
            "      --json           a JSON array of objects\n" DB_HELP
            "  -h, --help           print this help\n"
            "\n"
            "Exit status: 0 success; 1 unreadable, damaged or too new database; 2 usage error;\n"
            "4 no such node, place or kind; 5 permission denied.\n");
}

static int events_opt(void *arg, int opt, const char *val)
{
    (void)val;
    if (opt != 'v')
        return -1;
    *(bool *)arg = true;
    return -2; /* handled */
}

int cli_events(int argc, char **argv)
{
    static const struct option more[] = {{"verbose", no_argument, NULL, 'v'}};
    struct common c;
    bool verbose = false;
    int rest, rc = parse("events", argc, argv, &c, "c:s:hv", more, 1, events_opt, &verbose,
                         events_usage, &rest);
    if (rc >= 100)
        return rc - 100;
    if (rc >= 0)
        return rc;
    if (cli_no_more_args("events", argc, argv, rest))
        return CLI_EXIT_USAGE;
    int64_t from, to;
    if ((rc = range("events", &c, &from, &to)) != CLI_EXIT_OK)
        return rc;
    sqlite3 *db = open_db("events", &c, 4, &rc);
    if (!db)
        return rc;
    struct lw_hist_node *nodes = NULL;
    size_t n = 0, rows = 0;
    char err[512];
    rc = select_nodes("events", db, &c, false, &nodes, &n);
    bool all = !c.node && !c.place && !c.kind;
    int lrc = LW_OK;
    if (rc == CLI_EXIT_OK && c.fmt == LW_FMT_TABLE)
        lrc = lw_history_events_table(db, nodes, all ? 0 : n, from, to, verbose, stdout, &rows, err,
                                      sizeof(err));
    else if (rc == CLI_EXIT_OK)
        lrc = lw_history_events(db, nodes, all ? 0 : n, from, to, (enum lw_hist_fmt)c.fmt, stdout,
                                &rows, err, sizeof(err));
    if (lrc != LW_OK) {
        fprintf(stderr, "lorawatch events: %s\n", err);
        rc = CLI_EXIT_FAIL;
    }
    if (rc == CLI_EXIT_OK && rows == 0 && c.fmt == LW_FMT_TABLE)
        fprintf(stderr, "lorawatch events: nothing happened in this range\n");
    free(nodes);
    sqlite3_close(db);
    return rc;
}

/* ---- report -------------------------------------------------------------------------------- */

static void report_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch report --from TIME --to TIME -o FILE [--place PLACE]\n"
            "                        [--format FORMAT] [--title TEXT] [--db FILE | -c CONFIG]\n"
            "\n"
            "The flood-season review as one self-contained HTML file that prints well: water\n"
            "curves per site with the rule levels as bands and alerts marked, flood events\n"
            "(start, peak, time above each level, first acknowledgement, escalations), response\n"
            "times per tier and per grid worker, node availability and battery, false or\n"
            "causeless alarms; Chinese and English labels. Read-only on the database.\n"
            "\n"
            "      --from TIME      start of the season (forms as in history)\n"
            "      --to TIME        end, not included\n"
            "  -o, --output FILE    where to write (- for standard output)\n"
            "      --place PLACE    only the nodes of this place\n"
            "      --format FORMAT  html (default), csv (the tables, one block each) or json\n"
            "      --title TEXT     heading (default: lorawatch)\n" DB_HELP
            "  -h, --help           print this help\n"
            "\n"
            "Exit status: 0 success; 1 unreadable, damaged or too new database, or FILE not\n"
            "writable; 2 usage error; 4 no such place; 5 permission denied.\n");
}

struct report_args {
    const char *output, *format, *title;
};

static int report_opt(void *arg, int opt, const char *val)
{
    struct report_args *a = arg;
    if (opt == 'o')
        a->output = val;
    else if (opt == 'F')
        a->format = val;
    else if (opt == 'T')
        a->title = val;
    else
        return -1;
    return -2;
}

int cli_report(int argc, char **argv)
{
    static const struct option more[] = {{"output", required_argument, NULL, 'o'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"title", required_argument, NULL, 'T'}};
    struct common c;
    struct report_args ra = {.format = "html"};
    int rest, rc = parse("report", argc, argv, &c, "c:o:s:h", more, 3, report_opt, &ra,
                         report_usage, &rest);
    if (rc >= 100)
        return rc - 100;
    if (rc >= 0)
        return rc;
    if (cli_no_more_args("report", argc, argv, rest))
        return CLI_EXIT_USAGE;
    if (!c.from || !c.to || !ra.output) {
        fprintf(stderr, "lorawatch report: --from, --to and -o FILE are required\n");
        return CLI_EXIT_USAGE;
    }
    if (c.node || c.kind) {
        fprintf(stderr, "lorawatch report: a report covers places: use --place\n");
        return CLI_EXIT_USAGE;
    }
    enum lw_report_fmt fmt;
    if (strcmp(ra.format, "html") == 0)
        fmt = LW_REPORT_HTML;
    else if (strcmp(ra.format, "csv") == 0)
        fmt = LW_REPORT_CSV;
    else if (strcmp(ra.format, "json") == 0)
        fmt = LW_REPORT_JSON;
    else {
        fprintf(stderr, "lorawatch report: --format %s: use html, csv or json\n", ra.format);
        return CLI_EXIT_USAGE;
    }
    int64_t from, to;
    if ((rc = range("report", &c, &from, &to)) != CLI_EXIT_OK)
        return rc;
    sqlite3 *db = open_db("report", &c, 5, &rc);
    if (!db)
        return rc;
    /* Written beside the target and renamed: a reader never sees half a report. */
    bool to_stdout = strcmp(ra.output, "-") == 0;
    char tmp[LW_PATH_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.tmp", ra.output);
    FILE *out = to_stdout ? stdout : fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "lorawatch report: %s: %s\n", tmp, strerror(errno));
        sqlite3_close(db);
        return CLI_EXIT_FAIL;
    }
    struct lw_report_opts o = {.from_ms = from, .to_ms = to, .place = c.place, .title = ra.title};
    char err[512];
    int lrc = lw_report_write(db, &o, fmt, out, err, sizeof(err));
    sqlite3_close(db);
    rc = CLI_EXIT_OK;
    if (lrc != LW_OK) {
        fprintf(stderr, "lorawatch report: %s\n", err);
        rc = lrc == LW_ERR_NOTFOUND ? CLI_EXIT_NOT_FOUND
             : lrc == LW_ERR_RANGE  ? CLI_EXIT_USAGE
                                    : CLI_EXIT_FAIL;
    }
    if (!to_stdout) {
        if (fclose(out) != 0 && rc == CLI_EXIT_OK) {
            fprintf(stderr, "lorawatch report: %s: %s\n", tmp, strerror(errno));
            rc = CLI_EXIT_FAIL;
        }
        if (rc == CLI_EXIT_OK && rename(tmp, ra.output) != 0) {
            fprintf(stderr, "lorawatch report: %s: %s\n", ra.output, strerror(errno));
            rc = CLI_EXIT_FAIL;
        }
        if (rc != CLI_EXIT_OK)
            unlink(tmp);
    }
    return rc;
}

/* ---- backup -------------------------------------------------------------------------------- */

static void backup_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch backup [--db FILE | -c CONFIG] FILE\n"
                 "\n"
                 "A consistent copy of the database while lorawatchd runs (SQLite's online backup\n"
                 "from one read transaction: the daemon keeps writing meanwhile), checked with\n"
                 "quick_check, then renamed into place. FILE must not exist yet.\n"
                 "\n" DB_HELP "  -h, --help           print this help\n"
                 "\n"
                 "Exit status: 0 success; 1 the copy failed; 2 usage error; 5 permission denied;\n"
                 "7 FILE exists.\n");
}

int cli_backup(int argc, char **argv)
{
    struct common c;
    int rest,
        rc = parse("backup", argc, argv, &c, "c:s:h", NULL, 0, NULL, NULL, backup_usage, &rest);
    if (rc >= 100)
        return rc - 100;
    if (rc >= 0)
        return rc;
    if (rest + 1 != argc) {
        fprintf(stderr, "lorawatch backup: give exactly one destination FILE\n");
        return CLI_EXIT_USAGE;
    }
    const char *dst = argv[rest];
    struct stat st;
    if (stat(dst, &st) == 0) {
        fprintf(stderr, "lorawatch backup: %s exists; give a new file\n", dst);
        return CLI_EXIT_CONFLICT;
    }
    sqlite3 *src = open_db("backup", &c, 1, &rc);
    if (!src)
        return rc;
    char tmp[LW_PATH_MAX + 16];
    snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
    unlink(tmp);
    sqlite3 *out = NULL;
    const char *what = NULL;
    if (sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        what = out ? sqlite3_errmsg(out) : "out of memory";
    } else {
        chmod(tmp, 0600); /* the database holds node keys */
        /* All pages in one step: one read transaction, so the copy is one consistent state. */
        sqlite3_backup *b = sqlite3_backup_init(out, "main", src, "main");
        int brc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
        if (b)
            sqlite3_backup_finish(b);
        if (brc != SQLITE_DONE)
            what = sqlite3_errmsg(out);
    }
    if (!what) {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(out, "PRAGMA quick_check(1)", -1, &q, NULL) != SQLITE_OK ||
            sqlite3_step(q) != SQLITE_ROW ||
            strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0)
            what = "the copy does not pass quick_check";
        sqlite3_finalize(q);
    }
    char why[256] = "";
    if (what)
        snprintf(why, sizeof(why), "%s", what);
    sqlite3_close(out);
    sqlite3_close(src);
    if (!what && rename(tmp, dst) != 0)
        snprintf(why, sizeof(why), "%s", strerror(errno));
    if (why[0]) {
        fprintf(stderr, "lorawatch backup: %s: %s\n", dst, why);
        unlink(tmp);
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", dst);
    return CLI_EXIT_OK;
}
