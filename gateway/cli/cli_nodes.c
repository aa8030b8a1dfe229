/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch pair, nodes, node, unpair, retire, replace, locate, calibrate, rekey, test-alarm:
 * the node registry, through the daemon's control socket. Human tables by default, --json for
 * scripts; every failure is one line saying what to do, with the exit status of cli.h. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lw_error.h"
#include "lw_history.h"
#include "lw_parse.h"
#include "lw_store.h"

/* Options every node command takes. */
struct common {
    const char *socket;
    int json;
};

enum { OPT_SOCKET = 's', OPT_JSON = 'j', OPT_HELP = 'h', OPT_BASE = 256 };

/* ---- output helpers ---------------------------------------------------------------------- */

static void ago(double ms_then, char *out, size_t cap)
{
    double s = (double)time(NULL) - ms_then / 1000.0;
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(out, cap, "%.0f s ago", s);
    else if (s < 7200)
        snprintf(out, cap, "%.0f min ago", s / 60);
    else if (s < 172800)
        snprintf(out, cap, "%.0f h ago", s / 3600);
    else
        snprintf(out, cap, "%.0f d ago", s / 86400);
}

/* The place for a table: the building, floor and unit given, joined by '/', as typed (no
 * prefixes); the free text when none is; "-" when nothing is known. */
static void place_of(const cJSON *node, char *out, size_t cap)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(node, "place");
    const char *part[] = {cli_jstr(p, "building"), cli_jstr(p, "floor"), cli_jstr(p, "unit")};
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < 3; i++)
        if (part[i][0] && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "/" : "", part[i]);
    if (!n)
        snprintf(out, cap, "%s", cli_jstr(p, "text")[0] ? cli_jstr(p, "text") : "-");
}

/* The place in words, only the fields that are set: "building 9, floor B1, unit garage". */
static void place_words(const cJSON *p, char *out, size_t cap)
{
    static const char *const f[] = {"building", "floor", "unit", "grid"};
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < 4; i++)
        if (cli_jstr(p, f[i])[0] && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s%s %s", n ? ", " : "", f[i],
                                  cli_jstr(p, f[i]));
    if (!n)
        snprintf(out, cap, "-");
}

/* "286/288" frames received of those the counters say were sent, and the share lost. */
static bool loss_text(const cJSON *node, char *out, size_t cap, bool words)
{
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(node, "loss");
    double got, want;
    if (!cli_jnum(l, "received", &got) || !cli_jnum(l, "expected", &want) || want <= 0)
        return false;
    double lost = 100.0 * (want - got) / want;
    if (words)
        snprintf(out, cap, "%.0f of %.0f frames received (%.1f %% lost)", got, want, lost);
    else
        snprintf(out, cap, "%.1f%%", lost);
    return true;
}

/* Reading as one line of "name value unit". */
static void reading_text(const cJSON *r, char *out, size_t cap)
{
    static const struct {
        const char *name, *label, *unit;
    } f[] = {{"water_mm", "water", "mm"},     {"smoke", "smoke", ""},
             {"obscuration", "obsc.", "%/m"}, {"gas_lel", "gas", "%LEL"},
             {"co_ppm", "CO", "ppm"},         {"temp_c", "temp", "°C"},
             {"battery_mv", "battery", "mV"}};
    size_t n = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && n < cap; i++) {
        double v;
        if (cli_jnum(r, f[i].name, &v))
            n += (size_t)snprintf(out + n, cap - n, "%s%s %g%s%s", n ? ", " : "", f[i].label, v,
                                  *f[i].unit ? " " : "", f[i].unit);
    }
}

/* ---- shared option parsing --------------------------------------------------------------- */

/* Parse argv with the command's own options plus --socket/--json/--help. handle(arg, opt,
 * optarg) returns 0, or an exit status to stop with. */
static int parse(const char *cmd, int argc, char **argv, const struct option *extra, size_t n_extra,
                 void (*usage)(FILE *), struct common *c, int (*handle)(void *, int, const char *),
                 void *arg)
{
    struct option opts[32];
    size_t n = 0;
    for (size_t i = 0; i < n_extra && n < 28; i++)
        opts[n++] = extra[i];
    opts[n++] = (struct option){"socket", required_argument, NULL, OPT_SOCKET};
    opts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    opts[n] = (struct option){NULL, 0, NULL, 0};
    int o;
    optind = 0; /* GNU getopt: 0 re-initialises it fully (main has used it already) */
    opterr = 0;
    while ((o = getopt_long(argc, argv, "s:jh", opts, NULL)) != -1) {
        if (o == OPT_SOCKET) {
            c->socket = optarg;
        } else if (o == OPT_JSON) {
            c->json = 1;
        } else if (o == OPT_HELP) {
            usage(stdout);
            return CLI_EXIT_OK + 1000; /* stop, successfully */
        } else if (o == '?' || o == ':') {
            if (optopt >= OPT_BASE || (optopt > 0 && optopt < 128 && optopt != '?'))
                fprintf(stderr, "lorawatch %s: option needs a value or is unknown: %s\n", cmd,
                        argv[optind - 1]);
            else
                fprintf(stderr, "lorawatch %s: unknown option %s\n", cmd, argv[optind - 1]);
            usage(stderr);
            return CLI_EXIT_USAGE;
        } else {
            int rc = handle(arg, o, optarg);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* Send req; print the reply as JSON (--json) or let show() print it. */
static int call(const char *cmd, const struct common *c, cJSON *req, void (*show)(const cJSON *))
{
    int rc;
    cJSON *reply = cli_call(cmd, cli_socket_path(c->socket), req, 10, false, &rc);
    cJSON_Delete(req);
    if (!reply)
        return rc;
    if (c->json)
        cli_print_json(reply);
    else if (show)
        show(reply);
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}

static cJSON *request(const char *cmd)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "cmd", cmd);
    return o;
}

/* Exactly one positional NODE argument. */
static const char *one_node(const char *cmd, int argc, char **argv, void (*usage)(FILE *))
{
    if (optind != argc - 1) {
        fprintf(stderr, "lorawatch %s: %s\n", cmd,
                optind >= argc ? "which node? give its name, address or EUI"
                               : "only one node at a time");
        usage(stderr);
        return NULL;
    }
    return argv[optind];
}

#define EXIT_HELP                                                                                  \
    "\nExit status: 0 done; 1 failed (database); 2 usage; 3 daemon not running; 4 no such\n"       \
    "node; 5 permission denied; 6 timed out; 7 refused in the node's current state.\n"

/* ---- place options shared by pair and locate --------------------------------------------- */

enum {
    O_EUI = OPT_BASE,
    O_KEY,
    O_KIND,
    O_NAME,
    O_BUILDING,
    O_FLOOR,
    O_UNIT,
    O_GRID,
    O_PLACE,
    O_TAGS,
    O_LABEL,
    O_WAIT,
    O_MOUNT,
    O_ZERO,
    O_FORCE,
    O_ALL,
    O_WINDOW,
    O_SINCE,
};

#define PLACE_OPTIONS                                                                              \
    {"building", required_argument, NULL, O_BUILDING},                                             \
        {"floor", required_argument, NULL, O_FLOOR}, {"unit", required_argument, NULL, O_UNIT},    \
        {"grid", required_argument, NULL, O_GRID}, {"place", required_argument, NULL, O_PLACE},    \
        {"tags", required_argument, NULL, O_TAGS},                                                 \
    {                                                                                              \
        "label", required_argument, NULL, O_LABEL                                                  \
    }

#define PLACE_HELP                                                                                 \
    "  --building B --floor F --unit U   where the node hangs: the duty worker is sent there\n"    \
    "  --grid G           grid sector (its worker is paged first)\n"                               \
    "  --place TEXT       free-text description (\"ramp, left wall\")\n"                           \
    "  --tags T1,T2       place tags the rules use (low-lying, basement, old-building ...)\n"      \
    "  --label TEXT       human name shown with alerts\n"

static int place_opt(cJSON *req, int o, const char *v)
{
    static const struct {
        int opt;
        const char *field;
    } m[] = {{O_BUILDING, "building"}, {O_FLOOR, "floor"}, {O_UNIT, "unit"},  {O_GRID, "grid"},
             {O_PLACE, "place"},       {O_TAGS, "tags"},   {O_LABEL, "label"}};
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (m[i].opt == o) {
            cJSON_DeleteItemFromObject(req, m[i].field);
            cJSON_AddStringToObject(req, m[i].field, v);
            return 1;
        }
    return 0;
}

/* ---- nodes ------------------------------------------------------------------------------- */

static void nodes_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch nodes [--all] [OPTIONS]\n"
                 "\n"
                 "List the paired nodes: address, name, kind, place (building/floor/unit as\n"
                 "recorded, or the place text; - when none), state, when last heard, RSSI/SNR\n"
                 "of the last frame as the gateway heard it (the last relay's, when relayed),\n"
                 "battery, hops, and LOSS 24H: the share of frames lost over the 24 hours before\n"
                 "it was last heard, from the gaps in the frame counters of the stored readings\n"
                 "(- when nothing was received). States: pending (paired, not joined yet),\n"
                 "active, silent (not heard for 200 s, water nodes 15 min), never-heard, retired\n"
                 "(with --all).\n"
                 "\n"
                 "  -a, --all          include retired nodes\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void show_nodes(const cJSON *reply)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply, "nodes");
    printf("%-6s %-20s %-6s %-24s %-11s %-13s %-11s %-7s %-4s %s\n", "ADDR", "NAME", "KIND",
           "PLACE", "STATE", "LAST SEEN", "RSSI/SNR", "BATTERY", "HOPS", "LOSS 24H");
    const cJSON *n;
    int count = 0;
    cJSON_ArrayForEach(n, arr)
    {
        double addr = 0, last, rssi, snr, batt, hops;
        char place[64], seen[32] = "-", link[32] = "-", bat[16] = "-", hop[8] = "-", loss[16] = "-";
        cli_jnum(n, "address", &addr);
        place_of(n, place, sizeof(place));
        if (cli_jnum(n, "last_seen_ms", &last))
            ago(last, seen, sizeof(seen));
        if (cli_jnum(n, "rssi", &rssi) && cli_jnum(n, "snr", &snr))
            snprintf(link, sizeof(link), "%.0f/%.1f", rssi, snr);
        if (cli_jnum(n, "battery_mv", &batt))
            snprintf(bat, sizeof(bat), "%.2f V", batt / 1000);
        if (cli_jnum(n, "hops", &hops))
            snprintf(hop, sizeof(hop), "%.0f", hops);
        loss_text(n, loss, sizeof(loss), false);
        printf("0x%04X %-20s %-6s %-24s %-11s %-13s %-11s %-7s %-4s %s\n", (unsigned)addr,
               cli_jstr(n, "name"), cli_jstr(n, "kind"), place, cli_jstr(n, "state"), seen, link,
               bat, hop, loss);
        count++;
    }
    if (!count)
        printf("(no nodes: pair one with 'lorawatch pair')\n");
}

static int nodes_opt(void *arg, int o, const char *v)
{
    (void)v;
    if (o == O_ALL)
        cJSON_AddBoolToObject(arg, "all", 1);
    return 0;
}

static int cli_nodes(int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, O_ALL}};
    struct common c = {0};
    cJSON *req = request("nodes");
    int rc = parse("nodes", argc, argv, opts, 1, nodes_usage, &c, nodes_opt, req);
    if (rc == 0)
        rc = cli_no_more_args("nodes", argc, argv, optind);
    if (rc) {
        cJSON_Delete(req);
        return rc >= 1000 ? rc - 1000 : rc;
    }
    return call("nodes", &c, req, show_nodes);
}

/* ---- node show --------------------------------------------------------------------------- */

static void show_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch node show NODE [OPTIONS]\n"
            "       lorawatch node link NODE [--since TIME] [OPTIONS]\n"
            "\n"
            "show: everything known about one node (by name, address such as 0x0012, or EUI):\n"
            "  place        the fields recorded (building, floor, unit, grid) and the text\n"
            "  state        and when it was last heard\n"
            "  path         the way its frames came: the node, the relays, the gateway. The\n"
            "               gateway records how many relays a frame crossed and which one it\n"
            "               heard; relays before that one are counted but not named\n"
            "  heard        RSSI and SNR of the last frame as the gateway heard it: the node's\n"
            "               own link when heard directly, else the last relay's; with the\n"
            "               spreading factor and the margin above the demodulation floor\n"
            "  frames 24h   received of those sent over the 24 hours before it was last heard,\n"
            "               from the gaps in the stored frame counters (a counter that starts\n"
            "               again, after a join, is counted as a restart, not as loss)\n"
            "  link 24h     min/median/max RSSI and SNR of the stored frames of those 24 hours\n"
            "  battery      the last voltage and, when a battery rule with statistic days_left\n"
            "               applies, the days left until its floor on the trend of its window\n"
            "               (the figure the rule raises on)\n"
            "  reading, calibration\n"
            "\n"
            "link: the link hour by hour (local time): frames received and expected, RSSI and\n"
            "SNR min/median/max of the last hop as the gateway heard it, hops; over the 24\n"
            "hours before the node was last heard, or from --since until now.\n"
            "\n"
            "      --since TIME   start of link (at most 7 days back): -12h, -2d,\n"
            "                     YYYY-MM-DD[THH:MM], @UNIXSECONDS, ISO 8601 with a "
            "zone\n" CLI_SOCKET_HELP EXIT_HELP);
}

/* A relay of a route: its name, else its address. */
static void relay_name(const cJSON *hop, char *out, size_t cap)
{
    double a = 0;
    cli_jnum(hop, "address", &a);
    if (cli_jstr(hop, "name")[0])
        snprintf(out, cap, "%s", cli_jstr(hop, "name"));
    else
        snprintf(out, cap, "relay 0x%04X", (unsigned)a);
}

/* The whole route the daemon knows (every relay and each hop's SNR) as a path and one line a
 * hop: who heard whom, how well. */
static void print_route(const cJSON *n, const cJSON *route)
{
    const cJSON *hop, *gw = cJSON_GetObjectItemCaseSensitive(n, "route_gateway");
    char name[64], prev[64];
    int hops = cJSON_GetArraySize(route);
    printf("  %-12s %s", "path", cli_jstr(n, "name"));
    cJSON_ArrayForEach(hop, route)
    {
        relay_name(hop, name, sizeof(name));
        printf(" -> %s", name);
    }
    printf(" -> gateway (%d hop%s)\n", hops, hops == 1 ? "" : "s");
    snprintf(prev, sizeof(prev), "%s", cli_jstr(n, "name"));
    const char *label = "hops";
    cJSON_ArrayForEach(hop, route)
    {
        double snr = 0;
        cli_jnum(hop, "heard_snr_db", &snr);
        relay_name(hop, name, sizeof(name));
        printf("  %-12s %s -> %s: %s heard it at SNR %.0f dB\n", label, prev, name, name, snr);
        snprintf(prev, sizeof(prev), "%s", name);
        label = "";
    }
    double rssi, snr;
    if (cli_jnum(gw, "rssi", &rssi) && cli_jnum(gw, "snr", &snr))
        printf("  %-12s %s -> gateway: RSSI %.1f dBm, SNR %.1f dB\n", label, prev, rssi, snr);
}

/* The way the node's frames came, by name: node -> relays -> gateway. */
static void print_path(const cJSON *n)
{
    double hops, relay;
    const cJSON *route = cJSON_GetObjectItemCaseSensitive(n, "route");
    if (cJSON_GetArraySize(route) > 0) {
        print_route(n, route);
        return;
    }
    if (!cli_jnum(n, "hops", &hops))
        return;
    printf("  %-12s %s", "path", cli_jstr(n, "name"));
    if (hops >= 1 && cli_jnum(n, "relay", &relay)) {
        if (hops >= 2)
            printf(" -> (%.0f relay%s not recorded)", hops - 1, hops >= 3 ? "s" : "");
        const char *rn = cli_jstr(n, "relay_name");
        if (rn[0])
            printf(" -> %s (0x%04X)", rn, (unsigned)relay);
        else
            printf(" -> relay 0x%04X", (unsigned)relay);
    }
    printf(" -> gateway (%.0f hop%s)\n", hops, hops == 1 ? "" : "s");
}

static void print_battery(const cJSON *n)
{
    double v, days, hist, win, floor_mv;
    bool have = cli_jnum(n, "battery_mv", &v);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(n, "battery_trend");
    if (!have && !t)
        return;
    printf("  %-12s ", "battery");
    if (have)
        printf("%.2f V", v / 1000);
    else
        printf("no voltage reported yet");
    if (t && cli_jnum(t, "window_s", &win) && cli_jnum(t, "floor", &floor_mv)) {
        if (cli_jnum(t, "days_left", &days))
            printf("; %s%.0f days left to %.0f mV (rule %s, trend over %.0f d)",
                   days >= 36500 ? "over " : "about ", days, floor_mv, cli_jstr(t, "rule"),
                   win / 86400);
        else if (cli_jnum(t, "history_s", &hist))
            printf("; days left not known yet: the trend needs %.1f d of readings, has %.1f d",
                   win / 86400 / 2, hist / 86400);
    }
    printf("\n");
}

/* "-101/-97/-92" of a [min, median, max] array. */
static void triple(const cJSON *o, const char *name, int decimals, char *out, size_t cap)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_GetArraySize(a) != 3) {
        snprintf(out, cap, "-");
        return;
    }
    char one[3][16];
    for (int i = 0; i < 3; i++)
        snprintf(one[i], sizeof(one[i]), "%.*f", decimals, cJSON_GetArrayItem(a, i)->valuedouble);
    snprintf(out, cap, "%s/%s/%s", one[0], one[1], one[2]);
}

static void print_node(const cJSON *n)
{
    double v, w;
    char t[64], place[256];
    printf("%s  (address 0x%04X, EUI %s, %s, %s)\n", cli_jstr(n, "name"),
           cli_jnum(n, "address", &v) ? (unsigned)v : 0u, cli_jstr(n, "eui"), cli_jstr(n, "kind"),
           cli_jstr(n, "source"));
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(n, "place");
    place_words(p, place, sizeof(place));
    printf("  %-12s %s\n", "place", place);
    if (*cli_jstr(p, "text"))
        printf("  %-12s %s\n", "", cli_jstr(p, "text"));
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(p, "tags"), *tag;
    if (cJSON_GetArraySize(tags) > 0) {
        printf("  %-12s ", "tags");
        cJSON_ArrayForEach(tag, tags)
        {
            printf("%s%s", tag == tags->child ? "" : ",", cJSON_GetStringValue(tag));
        }
        printf("\n");
    }
    printf("  %-12s %s", "state", cli_jstr(n, "state"));
    if (cli_jnum(n, "pairing_until_ms", &v)) {
        cli_local_time(v, true, t, sizeof(t));
        printf(" (pairing open until %s)", t);
    }
    printf("\n");
    if (cli_jnum(n, "last_seen_ms", &v)) {
        ago(v, t, sizeof(t));
        printf("  %-12s %s", "last heard", t);
        if (cli_jnum(n, "frames", &w))
            printf(", %.0f frames since the daemon started", w);
        printf("\n");
    } else {
        printf("  %-12s never\n", "last heard");
    }
    print_path(n);
    if (cli_jnum(n, "rssi", &v) && cli_jnum(n, "snr", &w)) {
        double sf = 0, m = 0, hops = 0, relay = 0;
        cli_jnum(n, "sf", &sf);
        cli_jnum(n, "link_margin_db", &m);
        cli_jnum(n, "hops", &hops);
        char who[96];
        const char *rn = cli_jstr(n, "relay_name");
        bool relayed = hops >= 1 && cli_jnum(n, "relay", &relay);
        if (relayed && rn[0])
            snprintf(who, sizeof(who), "%s (the last relay)", rn);
        else if (relayed)
            snprintf(who, sizeof(who), "relay 0x%04X (the last relay)", (unsigned)relay);
        else if (hops >= 1)
            snprintf(who, sizeof(who), "the last relay");
        else
            snprintf(who, sizeof(who), "%s directly", cli_jstr(n, "name"));
        printf("  %-12s gateway heard %s at RSSI %.1f dBm, SNR %.1f dB, SF%.0f: margin %.1f "
               "dB%s\n",
               "heard", who, v, w, sf, m,
               m < 5 ? (hops >= 1 ? " (weak: the relay's link to the gateway)"
                                  : " (weak: move the node, or add a relay)")
                     : "");
    }
    char loss[96];
    if (loss_text(n, loss, sizeof(loss), true)) {
        double restarts;
        printf("  %-12s %s", "frames 24h", loss);
        if (cli_jnum(cJSON_GetObjectItemCaseSensitive(n, "loss"), "counter_restarts", &restarts))
            printf("; frame counter started again %.0f time%s (joins)", restarts,
                   restarts == 1 ? "" : "s");
        printf("\n");
    }
    const cJSON *all = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(n, "link_history"), "overall");
    if (all) {
        char r[48], q[48];
        triple(all, "rssi", 0, r, sizeof(r));
        triple(all, "snr", 1, q, sizeof(q));
        printf("  %-12s RSSI %s dBm, SNR %s dB (min/median/max, as the gateway heard it)\n",
               "link 24h", r, q);
    }
    print_battery(n);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(n, "reading");
    if (r) {
        char text[256];
        reading_text(r, text, sizeof(text));
        printf("  %-12s %s\n", "reading", text);
    }
    if (cli_jnum(n, "mount_height_mm", &v) && cli_jnum(n, "zero_offset_mm", &w))
        printf("  %-12s mount height %.0f mm, zero offset %.0f mm\n", "calibration", v, w);
}

/* lorawatch node link: the link hour by hour. */
static void show_link(const cJSON *reply)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(reply, "node");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(n, "link_history");
    double since = 0;
    char t[32];
    cli_jnum(h, "since_ms", &since);
    cli_local_time(since, true, t, sizeof(t));
    double until = 0;
    char u[32];
    cli_jnum(h, "until_ms", &until);
    cli_local_time(until - 1, true, u, sizeof(u));
    printf("%s: link from %s to %s, the last hop as the gateway heard it\n", cli_jstr(n, "name"), t,
           u);
    printf("%-16s %-9s %-14s %-16s %s\n", "HOUR", "FRAMES", "RSSI dBm", "SNR dB", "HOPS");
    const cJSON *e;
    int rows = 0;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(h, "hours"))
    {
        double at = 0, got = 0, want = 0, lo = 0, hi = 0;
        char when[32], frames[24], r[48], q[48], hops[16];
        cli_jnum(e, "t_ms", &at);
        cli_jnum(e, "received", &got);
        cli_jnum(e, "expected", &want);
        cli_jnum(e, "hops_min", &lo);
        cli_jnum(e, "hops_max", &hi);
        cli_local_time(at, true, when, sizeof(when));
        when[16] = 0; /* YYYY-MM-DD HH:MM */
        snprintf(frames, sizeof(frames), "%.0f/%.0f", got, want);
        triple(e, "rssi", 0, r, sizeof(r));
        triple(e, "snr", 1, q, sizeof(q));
        if (lo == hi)
            snprintf(hops, sizeof(hops), "%.0f", lo);
        else
            snprintf(hops, sizeof(hops), "%.0f-%.0f", lo, hi);
        printf("%-16s %-9s %-14s %-16s %s\n", when, frames, r, q, hops);
        rows++;
    }
    if (!rows)
        printf("(no stored readings in this range)\n");
    else
        printf("FRAMES: received/expected from the frame counters; RSSI and SNR min/median/max\n");
}

static void show_node(const cJSON *reply)
{
    print_node(cJSON_GetObjectItemCaseSensitive(reply, "node"));
}

static int link_opt(void *arg, int o, const char *v)
{
    cJSON *req = arg;
    if (o != O_SINCE)
        return 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, t;
    if (lw_history_parse_time(v, now, lw_store_tz_offset_ms(), &t) != LW_OK) {
        fprintf(stderr,
                "lorawatch node link: --since %s: not a time (use -12h, -2d, YYYY-MM-DD, "
                "YYYY-MM-DDTHH:MM, @UNIXSECONDS or ISO 8601 with a zone)\n",
                v);
        return CLI_EXIT_USAGE;
    }
    if (t >= now || t < now - 7 * 86400000LL) {
        fprintf(stderr, "lorawatch node link: --since %s: must be within the last 7 days\n", v);
        return CLI_EXIT_USAGE;
    }
    cJSON_DeleteItemFromObject(req, "since_ms");
    cJSON_AddNumberToObject(req, "since_ms", (double)t);
    return 0;
}

static int cli_node(int argc, char **argv)
{
    bool link = argc >= 2 && strcmp(argv[1], "link") == 0;
    if (argc < 2 || (strcmp(argv[1], "show") != 0 && !link)) {
        if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
            show_usage(stdout);
            return CLI_EXIT_OK;
        }
        fprintf(stderr, "lorawatch node: expected 'show NODE' or 'link NODE'\n");
        show_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = link ? "node link" : "node show";
    static const struct option opts[] = {{"since", required_argument, NULL, O_SINCE}};
    struct common c = {0};
    cJSON *req = request("node-show");
    int rc = parse(cmd, argc - 1, argv + 1, opts, link ? 1 : 0, show_usage, &c, link_opt, req);
    if (rc) {
        cJSON_Delete(req);
        return rc >= 1000 ? rc - 1000 : rc;
    }
    const char *id = one_node(cmd, argc - 1, argv + 1, show_usage);
    if (!id) {
        cJSON_Delete(req);
        return CLI_EXIT_USAGE;
    }
    cJSON_AddStringToObject(req, "node", id);
    if (link)
        cJSON_AddBoolToObject(req, "link", 1);
    return call(cmd, &c, req, link ? show_link : show_node);
}

/* ---- pair -------------------------------------------------------------------------------- */

static void pair_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch pair --eui EUI --key KEY --kind KIND --name NAME\n"
            "                      [--building B --floor F --unit U --grid G] [OPTIONS]\n"
            "\n"
            "Pair a node standing next to it: the daemon opens a pairing window for this EUI,\n"
            "the node (switched into pairing mode) joins, and once its first reading arrives\n"
            "this prints it with the link quality: RSSI, SNR and the margin above the\n"
            "demodulation floor at its spreading factor, hops and relay. Pairing the same\n"
            "pending name again reopens its window.\n"
            "\n"
            "  --eui EUI          the node's EUI-64, 16 hex digits (on its label)\n"
            "  --key KEY          its 128-bit root key, 32 hex digits (on its label; from\n"
            "                     'lorawatch keygen' when you program it yourself)\n"
            "  --kind KIND        water, smoke, gas, co or multi\n"
            "  --name NAME        a unique name (letters, digits, '-', '_', '.')\n" PLACE_HELP
            "  --mount-height MM  water sensors: height above the zero level\n"
            "  --wait S           wait this long for the join and first reading (default 120;\n"
            "                     0: open the window and return at once)\n"
            "  --window S         how long the daemon accepts the join (default: --wait, at\n"
            "                     least 60)\n" CLI_SOCKET_HELP EXIT_HELP);
}

struct pair_args {
    cJSON *req;
    double wait_s;
    double window_s;
    const char *cmd;
};

static int pair_opt(void *arg, int o, const char *v)
{
    struct pair_args *a = arg;
    uint32_t u;
    if (place_opt(a->req, o, v))
        return 0;
    switch (o) {
    case O_EUI:
        cJSON_AddStringToObject(a->req, "eui", v);
        return 0;
    case O_KEY:
        cJSON_AddStringToObject(a->req, "key", v);
        return 0;
    case O_KIND:
        cJSON_AddStringToObject(a->req, "kind", v);
        return 0;
    case O_NAME:
        cJSON_AddStringToObject(a->req, "name", v);
        return 0;
    case O_MOUNT:
        if (lw_parse_u32(v, 0, 20000, &u) != LW_OK) {
            fprintf(stderr, "lorawatch %s: --mount-height %s: 0 to 20000 (mm)\n", a->cmd, v);
            return CLI_EXIT_USAGE;
        }
        cJSON_AddNumberToObject(a->req, "mount_height_mm", u);
        return 0;
    case O_WAIT:
    case O_WINDOW:
        if (lw_parse_u32(v, 0, 86400, &u) != LW_OK) {
            fprintf(stderr, "lorawatch %s: %s %s: seconds, 0 to 86400\n", a->cmd,
                    o == O_WAIT ? "--wait" : "--window", v);
            return CLI_EXIT_USAGE;
        }
        *(o == O_WAIT ? &a->wait_s : &a->window_s) = u;
        return 0;
    }
    return 0;
}

/* Poll the node until it is active and has sent a reading, or the wait is over. */
static int wait_for_join(const char *cmd, const struct common *c, const char *name, double wait_s,
                         cJSON **node_out)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    bool joined = false;
    for (;;) {
        cJSON *req = request("node-show");
        cJSON_AddStringToObject(req, "node", name);
        int rc;
        cJSON *reply = cli_call(cmd, cli_socket_path(c->socket), req, 10, false, &rc);
        cJSON_Delete(req);
        if (!reply)
            return rc;
        cJSON *n = cJSON_DetachItemFromObjectCaseSensitive(reply, "node");
        cJSON_Delete(reply);
        bool active = n && strcmp(cli_jstr(n, "state"), "pending") != 0;
        if (active && !joined && !c->json) {
            printf("%s joined; waiting for its first reading ...\n", name);
            fflush(stdout);
        }
        joined = joined || active;
        if (active && cJSON_GetObjectItemCaseSensitive(n, "reading")) {
            *node_out = n;
            return CLI_EXIT_OK;
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double el = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        if (el >= wait_s) {
            cJSON_Delete(n);
            fprintf(stderr,
                    joined ? "lorawatch %s: %s joined but sent no reading within %.0f s; check "
                             "'lorawatch node show %s' later\n"
                           : "lorawatch %s: no join from %s within %.0f s: is the node in pairing "
                             "mode, in range, and is the key the one on its label? The window "
                             "stays open ('lorawatch node show %s'; 'lorawatch unpair' to "
                             "cancel)\n",
                    cmd, name, wait_s, name);
            return CLI_EXIT_TIMEOUT;
        }
        cJSON_Delete(n);
        usleep(300 * 1000);
    }
}

static int pair_like(const char *cmd, int argc, char **argv, const struct option *opts,
                     size_t n_opts, void (*usage)(FILE *), bool named)
{
    struct common c = {0};
    struct pair_args a = {.req = request(cmd), .wait_s = 120, .window_s = -1, .cmd = cmd};
    int rc = parse(cmd, argc, argv, opts, n_opts, usage, &c, pair_opt, &a);
    if (rc) {
        cJSON_Delete(a.req);
        return rc >= 1000 ? rc - 1000 : rc;
    }
    const char *name = NULL;
    if (named) {
        name = one_node(cmd, argc, argv, usage);
        if (!name) {
            cJSON_Delete(a.req);
            return CLI_EXIT_USAGE;
        }
        cJSON_AddStringToObject(a.req, "node", name);
    } else if (cli_no_more_args(cmd, argc, argv, optind)) {
        cJSON_Delete(a.req);
        return CLI_EXIT_USAGE;
    }
    /* Refuse on this side what can be checked here, so the message names the option. */
    static const char *const required[] = {"eui", "key", "kind", "name"};
    for (size_t i = 0; i < (named ? 2u : 4u); i++)
        if (!cJSON_GetObjectItemCaseSensitive(a.req, required[i])) {
            fprintf(stderr, "lorawatch %s: --%s is required\n", cmd, required[i]);
            usage(stderr);
            cJSON_Delete(a.req);
            return CLI_EXIT_USAGE;
        }
    double window = a.window_s >= 0 ? a.window_s : (a.wait_s > 60 ? a.wait_s : 60);
    cJSON_AddNumberToObject(a.req, "window_s", window > 0 ? window : 60);
    int crc;
    cJSON *reply = cli_call(cmd, cli_socket_path(c.socket), a.req, 10, false, &crc);
    cJSON_Delete(a.req);
    if (!reply)
        return crc;
    char node_name[64];
    snprintf(node_name, sizeof(node_name), "%s", cli_jstr(reply, "name"));
    double addr = 0, until = 0;
    cli_jnum(reply, "address", &addr);
    cli_jnum(reply, "pairing_until_ms", &until);
    cJSON_Delete(reply);
    char t[64];
    cli_local_time(until, true, t, sizeof(t));
    if (a.wait_s <= 0) {
        if (c.json)
            printf("{\"ok\":true,\"name\":\"%s\",\"address\":%.0f,\"state\":\"pending\"}\n",
                   node_name, addr);
        else
            printf("%s (0x%04X): pairing open until %s; switch the node into pairing mode\n",
                   node_name, (unsigned)addr, t);
        return CLI_EXIT_OK;
    }
    if (!c.json) {
        printf("%s (0x%04X): pairing open until %s; waiting up to %.0f s for the node to "
               "join ...\n",
               node_name, (unsigned)addr, t, a.wait_s);
        fflush(stdout);
    }
    cJSON *n = NULL;
    rc = wait_for_join(cmd, &c, node_name, a.wait_s, &n);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (c.json)
        cli_print_json(n);
    else
        print_node(n);
    cJSON_Delete(n);
    return CLI_EXIT_OK;
}

static int cli_pair(int argc, char **argv)
{
    static const struct option opts[] = {
        {"eui", required_argument, NULL, O_EUI},
        {"key", required_argument, NULL, O_KEY},
        {"kind", required_argument, NULL, O_KIND},
        {"name", required_argument, NULL, O_NAME},
        PLACE_OPTIONS,
        {"mount-height", required_argument, NULL, O_MOUNT},
        {"wait", required_argument, NULL, O_WAIT},
        {"window", required_argument, NULL, O_WINDOW},
    };
    return pair_like("pair", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), pair_usage, false);
}

/* ---- replace ----------------------------------------------------------------------------- */

static void replace_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: lorawatch replace NODE --eui EUI --key KEY [--wait S] [OPTIONS]\n"
        "\n"
        "New hardware at the same place: the node keeps its name, address, place,\n"
        "rules and history; the new device (EUI and root key from its label) must join\n"
        "within the pairing window, and this waits for its first reading as 'pair' does.\n"
        "\n"
        "  --eui EUI --key KEY  the new device's identity\n"
        "  --wait S             wait this long for the join (default 120; 0: do not wait)\n"
        "  --window S           how long the daemon accepts the join\n" CLI_SOCKET_HELP EXIT_HELP);
}

static int cli_replace(int argc, char **argv)
{
    static const struct option opts[] = {
        {"eui", required_argument, NULL, O_EUI},
        {"key", required_argument, NULL, O_KEY},
        {"wait", required_argument, NULL, O_WAIT},
        {"window", required_argument, NULL, O_WINDOW},
    };
    return pair_like("replace", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), replace_usage,
                     true);
}

/* ---- one-node commands: unpair, retire, locate, calibrate, rekey, test-alarm ------------- */

static void unpair_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch unpair NODE [OPTIONS]\n"
                 "\n"
                 "Cancel a pairing: forget a node that has no readings or alerts yet (a pairing\n"
                 "typed wrongly, a device that never joined). A node with history is retired\n"
                 "instead ('lorawatch retire').\n"
                 "\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void retire_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch retire NODE [OPTIONS]\n"
                 "\n"
                 "Take a node out of service for good: its frames are refused, nobody is paged\n"
                 "about its silence, its open alerts are closed; its readings, alerts and\n"
                 "journal stay for the review. Its name can then be given to a new node only\n"
                 "after the old one is renamed; to put new hardware at the same place use\n"
                 "'lorawatch replace' instead.\n"
                 "\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void locate_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch locate NODE [--building B] [--floor F] [--unit U] [--grid G]\n"
                 "                        [--place TEXT] [--tags T1,T2] [--label TEXT] [OPTIONS]\n"
                 "\n"
                 "Record where the node hangs now. Only the given fields change; the old and new\n"
                 "place go to the maintenance journal. Rules follow the new tags at once.\n"
                 "\n" PLACE_HELP CLI_SOCKET_HELP EXIT_HELP);
}

static void calibrate_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch calibrate NODE (--mount-height MM | --zero [--force]) [OPTIONS]\n"
            "\n"
            "Water sensors. --mount-height records the sensor's height above the zero level.\n"
            "--zero takes the depth the node reports now as the dry level: from then on that\n"
            "much is subtracted from every reading (the node must have reported since the\n"
            "daemon started). It is refused while an alert of the node is open: water under\n"
            "an alarm is not a dry level. With --force it is done anyway, and the open\n"
            "alerts still clear only when the water really falls (on the old zero too).\n"
            "\n"
            "  --mount-height MM  0 to 20000\n"
            "  --zero             the current reading is zero\n"
            "  --force            zero even while an alert of the node is open\n" CLI_SOCKET_HELP
                EXIT_HELP);
}

static void rekey_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch rekey NODE [--key KEY] [--window S] [OPTIONS]\n"
                 "\n"
                 "End the node's session: its frames are refused until it joins again and gets\n"
                 "fresh session keys (within the pairing window, default 300 s). With --key the\n"
                 "root key changes too (after the node was re-programmed with it).\n"
                 "\n"
                 "  --key KEY    the node's new root key, 32 hex digits\n"
                 "  --window S   how long the daemon accepts the join\n" CLI_SOCKET_HELP EXIT_HELP);
}

static void test_usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch test-alarm NODE [OPTIONS]\n"
                 "\n"
                 "Publish a test alarm for the node through the whole alert path (journal,\n"
                 "outbox, MQTT), with the node's real place, marked \"test\": true and with\n"
                 "sentences that say it is a test, so nobody is paged for a real alarm. It is\n"
                 "cleared at once. Prints the alert id.\n"
                 "\n" CLI_SOCKET_HELP EXIT_HELP);
}

struct one_args {
    cJSON *req;
    const char *cmd;
};

static int one_opt(void *arg, int o, const char *v)
{
    struct one_args *a = arg;
    uint32_t u;
    if (place_opt(a->req, o, v))
        return 0;
    switch (o) {
    case O_KEY:
        cJSON_AddStringToObject(a->req, "key", v);
        return 0;
    case O_ZERO:
        cJSON_AddBoolToObject(a->req, "zero", 1);
        return 0;
    case O_FORCE:
        cJSON_AddBoolToObject(a->req, "force", 1);
        return 0;
    case O_MOUNT:
    case O_WINDOW:
        if (lw_parse_u32(v, o == O_WINDOW ? 1 : 0, o == O_WINDOW ? 86400 : 20000, &u) != LW_OK) {
            fprintf(stderr, "lorawatch %s: %s %s: %s\n", a->cmd,
                    o == O_WINDOW ? "--window" : "--mount-height", v,
                    o == O_WINDOW ? "seconds, 1 to 86400" : "0 to 20000 (mm)");
            return CLI_EXIT_USAGE;
        }
        cJSON_AddNumberToObject(a->req, o == O_WINDOW ? "window_s" : "mount_height_mm", u);
        return 0;
    }
    return 0;
}

static void show_done(const cJSON *reply)
{
    double v;
    printf("%s: done", cli_jstr(reply, "name"));
    if (cli_jnum(reply, "alert", &v))
        printf("; test alert #%.0f published", v);
    if (cli_jnum(reply, "zero_offset_mm", &v)) {
        double m = 0;
        cli_jnum(reply, "mount_height_mm", &m);
        printf("; mount height %.0f mm, zero offset %.0f mm", m, v);
    }
    if (cli_jnum(reply, "pairing_until_ms", &v)) {
        char t[64];
        cli_local_time(v, true, t, sizeof(t));
        printf("; the node must join again before %s", t);
    }
    printf("\n");
}

static int one_node_cmd(const char *cmd, const char *wire, int argc, char **argv,
                        const struct option *opts, size_t n_opts, void (*usage)(FILE *))
{
    struct common c = {0};
    struct one_args a = {.req = request(wire), .cmd = cmd};
    int rc = parse(cmd, argc, argv, opts, n_opts, usage, &c, one_opt, &a);
    if (rc) {
        cJSON_Delete(a.req);
        return rc >= 1000 ? rc - 1000 : rc;
    }
    const char *id = one_node(cmd, argc, argv, usage);
    if (!id) {
        cJSON_Delete(a.req);
        return CLI_EXIT_USAGE;
    }
    cJSON_AddStringToObject(a.req, "node", id);
    return call(cmd, &c, a.req, show_done);
}

static int cli_unpair(int argc, char **argv)
{
    return one_node_cmd("unpair", "unpair", argc, argv, NULL, 0, unpair_usage);
}

static int cli_retire(int argc, char **argv)
{
    return one_node_cmd("retire", "retire", argc, argv, NULL, 0, retire_usage);
}

static int cli_locate(int argc, char **argv)
{
    static const struct option opts[] = {PLACE_OPTIONS};
    return one_node_cmd("locate", "locate", argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                        locate_usage);
}

static int cli_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {{"mount-height", required_argument, NULL, O_MOUNT},
                                         {"zero", no_argument, NULL, O_ZERO},
                                         {"force", no_argument, NULL, O_FORCE}};
    return one_node_cmd("calibrate", "calibrate", argc, argv, opts, 3, calibrate_usage);
}

static int cli_rekey(int argc, char **argv)
{
    static const struct option opts[] = {{"key", required_argument, NULL, O_KEY},
                                         {"window", required_argument, NULL, O_WINDOW}};
    return one_node_cmd("rekey", "rekey", argc, argv, opts, 2, rekey_usage);
}

static int cli_test_alarm(int argc, char **argv)
{
    return one_node_cmd("test-alarm", "test-alarm", argc, argv, NULL, 0, test_usage);
}

const struct cli_command cli_node_commands[] = {
    {"pair", cli_pair, "pair a node: open a pairing window, wait for its join and first reading"},
    {"nodes", cli_nodes, "list the nodes with place, state, last contact, link, battery"},
    {"node", cli_node, "node show NODE | node link NODE: one node, its path, loss and link"},
    {"unpair", cli_unpair, "cancel a pairing (a node without history)"},
    {"retire", cli_retire, "take a node out of service, keeping its history"},
    {"replace", cli_replace, "new hardware at a node's place (keeps place, rules, history)"},
    {"locate", cli_locate, "change where a node hangs"},
    {"calibrate", cli_calibrate, "water sensors: mount height, or zero at the current level"},
    {"rekey", cli_rekey, "end a node's session (and change its root key)"},
    {"test-alarm", cli_test_alarm, "publish a test alarm for a node, marked as a test"},
    {NULL, NULL, NULL},
};
