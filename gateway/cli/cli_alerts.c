/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch alerts, ack, silence, silences, unsilence: the alert lifecycle through the daemon's
 * control socket. An acknowledgement from here is journalled as the roster person the Unix user
 * is (or --as names), else "uid:N", via "cli". */
#include <getopt.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_parse.h"
#include "lw_model.h"
#include "lw_people.h"
#include "lw_store.h"

enum { O_SOCKET = 's', O_JSON = 'j', O_HELP = 'h', O_ALL = 'a', O_BASE = 256 };
enum { O_NOTE = O_BASE, O_NODE, O_BUILDING, O_HAZARD, O_FOR, O_REASON, O_FORCE, O_OUTCOME, O_AS };
/* lorawatch alerts: where the names of the people told are read (the database, read-only). */
enum { O_DB = O_BASE + 64, O_CONFIG = 'c' };

#define EXIT_HELP                                                                                  \
    "\nExit status: 0 done; 1 failed; 2 usage; 3 daemon not running; 4 no such alert or\n"         \
    "silence; 5 permission denied; 7 refused (already acknowledged, cleared, fire without\n"       \
    "--force).\n"

/* A number field, or dflt. */
static double jnum(const cJSON *o, const char *name, double dflt)
{
    double v;
    return cli_jnum(o, name, &v) ? v : dflt;
}

static void when(double ms, char *out, size_t cap)
{
    cli_local_time(ms, false, out, cap);
}

struct args {
    const char *socket;
    const char *db, *config; /* alerts: --db, -c */
    int json;
    cJSON *req;
    const char *cmd;
    void (*usage)(FILE *);
};

/* Options shared by all, plus the command's own; returns 0, an exit status, or -1 for --help. */
static int parse(struct args *a, int argc, char **argv, const struct option *extra, size_t n)
{
    struct option opts[16];
    size_t k = 0;
    for (size_t i = 0; i < n && k < 12; i++)
        opts[k++] = extra[i];
    opts[k++] = (struct option){"socket", required_argument, NULL, O_SOCKET};
    opts[k++] = (struct option){"json", no_argument, NULL, O_JSON};
    opts[k++] = (struct option){"help", no_argument, NULL, O_HELP};
    opts[k] = (struct option){NULL, 0, NULL, 0};
    int o;
    optind = 0; /* GNU getopt: re-initialise fully (main used it already) */
    opterr = 0;
    while ((o = getopt_long(argc, argv, "s:jhac:", opts, NULL)) != -1) {
        uint64_t ms;
        switch (o) {
        case O_SOCKET:
            a->socket = optarg;
            break;
        case O_JSON:
            a->json = 1;
            break;
        case O_HELP:
            a->usage(stdout);
            return -1;
        case O_ALL:
            cJSON_AddBoolToObject(a->req, "all", 1);
            break;
        case O_NOTE:
            cJSON_AddStringToObject(a->req, "note", optarg);
            break;
        case O_OUTCOME:
            if (lw_ack_outcome_index(optarg) < 0) {
                fprintf(stderr,
                        "lorawatch %s: --outcome %s: one of on_my_way, false_alarm, test, "
                        "dealt_with\n",
                        a->cmd, optarg);
                return CLI_EXIT_USAGE;
            }
            cJSON_AddStringToObject(a->req, "outcome", optarg);
            break;
        case O_AS:
            cJSON_AddStringToObject(a->req, "as", optarg);
            break;
        case O_NODE:
            cJSON_AddStringToObject(a->req, "node", optarg);
            break;
        case O_BUILDING:
            cJSON_AddStringToObject(a->req, "building", optarg);
            break;
        case O_HAZARD:
            cJSON_AddStringToObject(a->req, "hazard", optarg);
            break;
        case O_FOR:
            if (lw_parse_duration_ms(optarg, 7ULL * 86400 * 1000, &ms) != LW_OK || ms < 1000) {
                fprintf(stderr, "lorawatch %s: --for %s: a duration such as 30m or 2h\n", a->cmd,
                        optarg);
                return CLI_EXIT_USAGE;
            }
            cJSON_AddStringToObject(a->req, "for", optarg);
            break;
        case O_REASON:
            cJSON_AddStringToObject(a->req, "reason", optarg);
            break;
        case O_FORCE:
            cJSON_AddBoolToObject(a->req, "force", 1);
            break;
        case O_DB:
            a->db = optarg;
            break;
        case O_CONFIG:
            if (strcmp(a->cmd, "alerts") == 0) { /* -c is no option of the others */
                a->config = optarg;
                break;
            }
            /* fall through */
        default:
            fprintf(stderr, "lorawatch %s: unknown option or missing value: %s\n", a->cmd,
                    argv[optind - 1]);
            a->usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* After parsing (rc: 0 go on, < 0 done (--help), > 0 an exit status): send the request and show
 * the reply, or stop with rc. */
static int run(struct args *a, int rc, void (*show)(const cJSON *))
{
    if (rc) {
        cJSON_Delete(a->req);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    cJSON *reply = cli_call(a->cmd, cli_socket_path(a->socket), a->req, 10, false, &rc);
    cJSON_Delete(a->req);
    if (!reply)
        return rc;
    if (a->json)
        cli_print_json(reply);
    else
        show(reply);
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}

/* A positive integer argument (alert or silence id). */
static int id_arg(struct args *a, int argc, char **argv, const char *field, const char *what)
{
    uint64_t v;
    if (optind != argc - 1 || lw_parse_u64(argv[optind], 1, 9007199254740991ULL, &v) != LW_OK) {
        fprintf(stderr, "lorawatch %s: give one %s id (a positive number)\n", a->cmd, what);
        a->usage(stderr);
        return CLI_EXIT_USAGE;
    }
    cJSON_AddNumberToObject(a->req, field, (double)v);
    return 0;
}

static cJSON *request(const char *cmd)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", cmd);
    return o;
}

/* ---- alerts ------------------------------------------------------------------------------ */

static void alerts_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch alerts [--all] [--db FILE | -c CONFIG] [OPTIONS]\n"
            "\n"
            "The open alerts, newest first: id, level, hazard, node and place, when raised,\n"
            "the duty tier told so far (0 nobody yet, 1 grid worker, 2 duty room, 3 street\n"
            "office), and who acknowledged it. HELD marks an alert a maintenance silence\n"
            "keeps from paging. With --all, the latest 200 alerts of any state.\n"
            "\n"
            "Under each alert, the people told so far by name, with the tier they were told\n"
            "at (\"told: 张伟 (grid worker), 王芳 (duty room)\"); people are named, as is who\n"
            "acknowledged, as the duty roster had them then. The names come from the\n"
            "database, read-only: the one of the configuration, or --db; without read access\n"
            "to it the list shows roster ids and no 'told' lines.\n"
            "\n"
            "  -a, --all          alerts of any state, not only open ones\n"
            "      --db FILE      the database to read names from (default: the one of the\n"
            "                     configuration)\n"
            "  -c, --config FILE  configuration naming the database (default\n"
            "                     " CLI_DEFAULT_CONFIG ")\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* The database for names: --db, else the configuration's (the default one only when its control
 * socket is the one asked); NULL (with a line on stderr when it was asked for by --db or -c)
 * when it cannot be read. */
static sqlite3 *names_db(const struct args *a)
{
    char path[LW_PATH_MAX + 32], err[512];
    if (a->db) {
        snprintf(path, sizeof(path), "%s", a->db);
    } else {
        const char *conf = a->config ? a->config : CLI_DEFAULT_CONFIG;
        struct lw_config *cfg = lw_config_load(conf, quiet, NULL);
        if (!cfg) {
            if (a->config)
                fprintf(stderr,
                        "lorawatch alerts: %s: not a valid configuration; names not shown\n", conf);
            return NULL;
        }
        /* The default configuration names the database of the daemon asked only when that
         * daemon listens on its socket: no names of another gateway's people. */
        bool other = !a->config && strcmp(cfg->control_socket, cli_socket_path(a->socket)) != 0;
        lw_config_db_path(cfg, path, sizeof(path));
        lw_config_free(cfg);
        if (other)
            return NULL;
    }
    sqlite3 *db = lw_store_open_readonly(path, 4, err, sizeof(err));
    if (!db && (a->db || a->config))
        fprintf(stderr, "lorawatch alerts: %s; names not shown\n", err);
    return db;
}

/* With the database: each alert's "told" (people told so far, by name then, and their tier)
 * and "acked_by_name", added to the daemon's reply; --json prints them too. */
static void add_names(cJSON *reply, sqlite3 *db)
{
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(reply, "alerts"))
    {
        struct lw_told told[32];
        int n = lw_people_told(db, (int64_t)jnum(a, "id", 0), told, 32);
        cJSON *arr = n >= 0 ? cJSON_AddArrayToObject(a, "told") : NULL; /* unknown: no line */
        for (int i = 0; arr && i < n && i < 32; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "id", told[i].id);
            cJSON_AddStringToObject(o, "name", told[i].name);
            cJSON_AddNumberToObject(o, "tier", told[i].tier);
            cJSON_AddItemToArray(arr, o);
        }
        if (*cli_jstr(a, "acked_by")) {
            char name[160];
            lw_store_roster_name(db, cli_jstr(a, "acked_by"), (int64_t)jnum(a, "acked_ms", 0), name,
                                 sizeof(name));
            cJSON_AddStringToObject(a, "acked_by_name", name);
        }
    }
}

static void show_alerts(const cJSON *reply)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply, "alerts"), *a;
    printf("%-6s %-7s %-8s %-18s %-20s %-15s %-8s %-4s %s\n", "ID", "LEVEL", "HAZARD", "NODE",
           "PLACE", "RAISED", "STATE", "TIER", "ACKNOWLEDGED");
    int n = 0;
    cJSON_ArrayForEach(a, arr)
    {
        char t[32], place[64], ack[224] = "-";
        when(jnum(a, "raised_ms", 0), t, sizeof(t));
        snprintf(place, sizeof(place), "%s%s%s%s%s", cli_jstr(a, "building"),
                 *cli_jstr(a, "floor") ? "/F" : "", cli_jstr(a, "floor"),
                 *cli_jstr(a, "unit") ? "/" : "", cli_jstr(a, "unit"));
        if (*cli_jstr(a, "acked_by")) {
            char at[32];
            when(jnum(a, "acked_ms", 0), at, sizeof(at));
            const char *by = *cli_jstr(a, "acked_by_name") ? cli_jstr(a, "acked_by_name")
                                                           : cli_jstr(a, "acked_by");
            snprintf(ack, sizeof(ack), "%s %s", by, at);
        }
        bool held = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "held"));
        bool test = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "test"));
        printf("%-6.0f %-7s %-8s %-18s %-20s %-15s %-8s %-4.0f %s%s\n", jnum(a, "id", 0),
               cli_jstr(a, "level"), cli_jstr(a, "hazard"), cli_jstr(a, "node"), place, t,
               held   ? "HELD"
               : test ? "test"
                      : cli_jstr(a, "state"),
               jnum(a, "tier", 0), ack, test ? " (test)" : "");
        const cJSON *told = cJSON_GetObjectItemCaseSensitive(a, "told"), *p;
        if (cJSON_IsArray(told)) {
            printf("       told: ");
            int k = 0;
            cJSON_ArrayForEach(p, told) printf("%s%s (%s)", k++ ? ", " : "", cli_jstr(p, "name"),
                                               lw_people_tier_name((unsigned)jnum(p, "tier", 0)));
            printf("%s\n", k ? "" : "nobody yet");
        }
        n++;
    }
    if (!n)
        printf("(no open alerts)\n");
    double s = jnum(reply, "silences", 0);
    if (s > 0)
        printf("%.0f maintenance silence%s active (lorawatch silences)\n", s, s == 1 ? "" : "s");
}

static int cli_alerts(int argc, char **argv)
{
    static const struct option o[] = {{"all", no_argument, NULL, O_ALL},
                                      {"db", required_argument, NULL, O_DB},
                                      {"config", required_argument, NULL, O_CONFIG}};
    struct args a = {.req = request("alerts"), .cmd = "alerts", .usage = alerts_usage};
    int rc = parse(&a, argc, argv, o, 3);
    if (rc == 0)
        rc = cli_no_more_args("alerts", argc, argv, optind);
    if (rc) {
        cJSON_Delete(a.req);
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    cJSON *reply = cli_call(a.cmd, cli_socket_path(a.socket), a.req, 10, false, &rc);
    cJSON_Delete(a.req);
    if (!reply)
        return rc;
    sqlite3 *db = names_db(&a);
    if (db) {
        add_names(reply, db);
        sqlite3_close(db);
    }
    if (a.json)
        cli_print_json(reply);
    else
        show_alerts(reply);
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}

/* ---- ack --------------------------------------------------------------------------------- */

static void ack_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch ack ALERT [--outcome OUTCOME] [--note TEXT] [--as ID] [OPTIONS]\n"
            "\n"
            "Acknowledge an open alert: escalation and reminders stop, everyone told so far\n"
            "learns who is on it and what they said, and the journal records who, when, the\n"
            "outcome and the note, via the command line. Who: the duty roster person whose id\n"
            "or mqtt_user is your login name, else --as, else your user id (uid:N). Duty\n"
            "phones acknowledge over MQTT instead.\n"
            "\n"
            "  --outcome OUTCOME  what you found or are doing: on_my_way, false_alarm, test,\n"
            "                     dealt_with; the flood-season review counts false alarms from\n"
            "                     it, never from the note\n"
            "  --note TEXT        a note for the journal (\"team on the way\")\n"
            "  --as ID            acknowledge for this roster person ([duty:ID]), e.g. at the\n"
            "                     duty room's shared console\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void show_ack(const cJSON *reply)
{
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(reply, "by");
    printf("acknowledged%s%s\n", cJSON_IsString(by) ? " as " : "",
           cJSON_IsString(by) ? by->valuestring : "");
}

static int cli_ack(int argc, char **argv)
{
    static const struct option o[] = {{"note", required_argument, NULL, O_NOTE},
                                      {"outcome", required_argument, NULL, O_OUTCOME},
                                      {"as", required_argument, NULL, O_AS}};
    struct args a = {.req = request("ack"), .cmd = "ack", .usage = ack_usage};
    int rc = parse(&a, argc, argv, o, 3);
    if (rc == 0)
        rc = id_arg(&a, argc, argv, "alert", "alert");
    return run(&a, rc, show_ack);
}

/* ---- silences ---------------------------------------------------------------------------- */

static void silence_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch silence (--node NODE | --building B) --for DURATION\n"
            "                         --reason TEXT [--hazard H] [--force] [OPTIONS]\n"
            "\n"
            "Hold back paging for maintenance: alerts of that node or building (and hazard)\n"
            "are still raised, journalled and published on their alert topic, but duty staff\n"
            "are not paged until the silence ends; then they are, if the alert is still open.\n"
            "Every silence has an expiry ([alerts] max_silence at most). Fire alarms are held\n"
            "back only with --force.\n"
            "\n"
            "A node's silence without --hazard holds back the node's own hazards (those of the\n"
            "rules that apply to it: flood and trouble for a water sensor); it is refused\n"
            "when the node raises fire alarms, unless --force or a --hazard other than fire\n"
            "is given. A building's silence without --hazard is refused without --force.\n"
            "\n"
            "  --node NODE        one node (its name)\n"
            "  --building B       every node of a building\n"
            "  --hazard H         only flood, fire, gas or trouble alerts (default: a node's\n"
            "                     own hazards; a building's: all)\n"
            "  --for DURATION     how long, e.g. 30m, 2h\n"
            "  --reason TEXT      why (required; it goes to the journal)\n"
            "  --force            also hold back fire alarms\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void show_silence(const cJSON *reply)
{
    char t[32];
    when(jnum(reply, "until_ms", 0), t, sizeof(t));
    printf("silence #%.0f until %s\n", jnum(reply, "silence", 0), t);
}

/* lorawatch silence --node N without --hazard or --force: the node's own hazards, which the daemon
 * holds back (never fire without force). Refused here, naming them, when the node raises fire
 * alarms. 0 to go on, else the exit status. */
static int node_hazards(struct args *a, char *shown, size_t cap)
{
    const cJSON *node = cJSON_GetObjectItemCaseSensitive(a->req, "node");
    shown[0] = 0;
    if (!cJSON_IsString(node) || cJSON_GetObjectItemCaseSensitive(a->req, "hazard") ||
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a->req, "force")))
        return 0;
    cJSON *req = request("node-show"), *h;
    cJSON_AddStringToObject(req, "node", node->valuestring);
    int rc;
    cJSON *reply = cli_call("silence", cli_socket_path(a->socket), req, 10, false, &rc);
    cJSON_Delete(req);
    if (!reply)
        return rc;
    const cJSON *hz = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(reply, "node"), "hazards");
    bool fire = false;
    size_t n = 0;
    cJSON_ArrayForEach(h, hz)
    {
        const char *name = cJSON_GetStringValue(h);
        if (!name)
            continue;
        fire = fire || strcmp(name, "fire") == 0;
        if (n < cap)
            n += (size_t)snprintf(shown + n, cap - n, "%s%s", n ? ", " : "", name);
    }
    cJSON_Delete(reply);
    if (fire) {
        fprintf(stderr,
                "lorawatch silence: node %s raises fire alarms (its hazards: %s): fire alarms "
                "are never silenced without --force; give --hazard with another of them to "
                "leave fire out\n",
                node->valuestring, shown);
        return CLI_EXIT_CONFLICT;
    }
    return 0;
}

static const char *silence_covers;

static void show_node_silence(const cJSON *reply)
{
    show_silence(reply);
    if (silence_covers && silence_covers[0])
        printf("it holds back the node's own alerts: %s\n", silence_covers);
}

static int cli_silence(int argc, char **argv)
{
    static const struct option o[] = {
        {"node", required_argument, NULL, O_NODE},
        {"building", required_argument, NULL, O_BUILDING},
        {"hazard", required_argument, NULL, O_HAZARD},
        {"for", required_argument, NULL, O_FOR},
        {"reason", required_argument, NULL, O_REASON},
        {"force", no_argument, NULL, O_FORCE},
    };
    struct args a = {.req = request("silence"), .cmd = "silence", .usage = silence_usage};
    int rc = parse(&a, argc, argv, o, 6);
    if (rc == 0)
        rc = cli_no_more_args("silence", argc, argv, optind);
    if (rc == 0 && !cJSON_GetObjectItemCaseSensitive(a.req, "for")) {
        fprintf(stderr, "lorawatch silence: --for is required (every silence ends)\n");
        rc = CLI_EXIT_USAGE;
    }
    char covers[128] = "";
    if (rc == 0)
        rc = node_hazards(&a, covers, sizeof(covers));
    silence_covers = covers;
    return run(&a, rc, show_node_silence);
}

static void silences_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch silences [OPTIONS]\n"
                 "\n"
                 "The active maintenance silences: id, what they cover, until when, who made\n"
                 "them and why.\n"
                 "\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void show_silences(const cJSON *reply)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply, "silences"), *s;
    int n = 0;
    cJSON_ArrayForEach(s, arr)
    {
        char t[32];
        when(jnum(s, "until_ms", 0), t, sizeof(t));
        printf("#%-4.0f %s%s%s%s hazard %s until %s by %s%s: %s\n", jnum(s, "id", 0),
               *cli_jstr(s, "node") ? "node " : "", cli_jstr(s, "node"),
               *cli_jstr(s, "building") ? "building " : "", cli_jstr(s, "building"),
               cli_jstr(s, "hazard"), t, cli_jstr(s, "by"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "forced")) ? " (forced)" : "",
               cli_jstr(s, "reason"));
        n++;
    }
    if (!n)
        printf("(no active silences)\n");
}

static int cli_silences(int argc, char **argv)
{
    struct args a = {.req = request("silences"), .cmd = "silences", .usage = silences_usage};
    int rc = parse(&a, argc, argv, NULL, 0);
    if (rc == 0)
        rc = cli_no_more_args("silences", argc, argv, optind);
    return run(&a, rc, show_silences);
}

static void unsilence_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch unsilence SILENCE [OPTIONS]\n"
                 "\n"
                 "End a silence early; alerts it held back are paged at once.\n"
                 "\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void show_unsilence(const cJSON *reply)
{
    (void)reply;
    printf("silence ended\n");
}

static int cli_unsilence(int argc, char **argv)
{
    struct args a = {.req = request("unsilence"), .cmd = "unsilence", .usage = unsilence_usage};
    int rc = parse(&a, argc, argv, NULL, 0);
    if (rc == 0)
        rc = id_arg(&a, argc, argv, "silence", "silence");
    return run(&a, rc, show_unsilence);
}

const struct cli_command cli_alert_commands[] = {
    {"alerts", cli_alerts, "the open alerts with tier and acknowledgement"},
    {"ack", cli_ack, "acknowledge an alert"},
    {"silence", cli_silence, "hold back paging for maintenance, for a while"},
    {"silences", cli_silences, "the active silences"},
    {"unsilence", cli_unsilence, "end a silence early"},
    {NULL, NULL, NULL},
};
