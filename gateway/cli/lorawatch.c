/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch: maintenance and review client. `status` summarises the daemon from the metrics file
 * it keeps; node pairing, alerts and history arrive with their own features. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/random.h>
#include <unistd.h>

#include "cli.h"
#include "lw_ctlproto.h"
#include "lw_error.h"
#include "lw_parse.h"
#include "lw_prom.h"
#include "lw_version.h"

static void usage(FILE *out)
{
    fprintf(out, "Usage: lorawatch [-s SOCKET] [-c CONFIG] [--db FILE] COMMAND [ARGS]\n"
                 "       lorawatch --version | --help\n"
                 "\n"
                 "Maintenance and review client for the lorawatchd gateway.\n"
                 "\n"
                 "Commands:\n"
                 "  status [-s SOCKET] [-m FILE] [--json]\n"
                 "                  summary of the daemon: MQTT, frames, readings, alerts,\n"
                 "                  clock, loop lag\n"
                 "  keygen [--eui EUI] [--qr | --no-qr] [--png FILE] [--json]\n"
                 "                  a new node root key from the OS random source, printed with\n"
                 "                  its EUI as a label line, the pairing string and its QR code\n"
                 "  pair --eui E --key K --kind KIND --name N [--building B --floor F\n"
                 "       --unit U --grid G] [--wait S]\n"
                 "                  pair a node standing next to it; prints its first reading\n"
                 "                  and link quality\n"
                 "  nodes [--all]   the nodes: place, state, last heard, RSSI/SNR, battery, hops,\n"
                 "                  frames lost over the last day heard\n"
                 "  node show NODE  everything about one node (name, address or EUI): the path by\n"
                 "                  name, link, frames lost, battery days left\n"
                 "  node link NODE [--since T]\n"
                 "                  the node's link hour by hour: frames, RSSI and SNR, hops\n"
                 "  unpair NODE     cancel a pairing (node without history)\n"
                 "  retire NODE     out of service for good; history kept\n"
                 "  replace NODE --eui E --key K\n"
                 "                  new hardware at the same place, keeping place and history\n"
                 "  locate NODE [--building B] [--floor F] [--unit U] [--grid G] ...\n"
                 "                  record where the node hangs now\n"
                 "  calibrate NODE --mount-height MM | --zero\n"
                 "                  water sensors: mounting height, or zero at today's level\n"
                 "  rekey NODE [--key K]\n"
                 "                  end the session: the node must join again\n"
                 "  test-alarm NODE publish a test alarm marked as a test\n"
                 "  alerts [--all]  the open alerts: level, node and place, tier told, who\n"
                 "                  acknowledged\n"
                 "  ack ALERT [--note TEXT]\n"
                 "                  acknowledge an alert: escalation and reminders stop\n"
                 "  silence (--node N | --building B) --for D --reason TEXT [--hazard H]\n"
                 "          [--force]\n"
                 "                  hold back paging for maintenance: a node's own hazards, or\n"
                 "                  H (fire only with --force)\n"
                 "  silences        the active silences\n"
                 "  unsilence SILENCE\n"
                 "                  end a silence early\n"
                 "  history (--node N | --place P | --kind K) [--from T] [--to T] [--every S]\n"
                 "                  readings, raw or per 5min/hour/day, as a table, --csv or\n"
                 "                  --json (read from the database; the daemon may be stopped)\n"
                 "  events [--node N | --place P] [--from T] [--to T] [-v]\n"
                 "                  alert and maintenance journal as a timeline, with the place\n"
                 "                  each node had then\n"
                 "  report --from T --to T -o FILE [--place P] [--format html|csv|json]\n"
                 "                  the flood-season review as one printable HTML file\n"
                 "  backup FILE     a consistent copy of the database while the daemon runs\n"
                 "  airtime [--sf SF] [--bw HZ] [--cr N] [--payload B] [--region R]\n"
                 "                  time on air of one frame; refused beyond the region's limit\n"
                 "  plan --nodes N --interval S --sf SF [--channels C] [--payload B]\n"
                 "                  channel load G and ALOHA delivery e^-2G of an estate\n"
                 "  event-mode BUILDING on|off [-s SOCKET]\n"
                 "                  fast sampling for the nodes of a building, or back\n"
                 "\n"
                 "Options (before the command; the command's own options of the same name, given\n"
                 "after it, win):\n"
                 "  -s, --socket PATH   the daemon's control socket (default $LORAWATCH_SOCKET,\n"
                 "                  else " CLI_DEFAULT_SOCKET ")\n"
                 "  -c, --config FILE   the configuration naming the database (history, events,\n"
                 "                  report, backup; default " CLI_DEFAULT_CONFIG ")\n"
                 "      --db FILE   the database file itself (history, events, report, backup)\n"
                 "  -V, --version   print the version and exit\n"
                 "  -h, --help      print this help and exit (also: lorawatch COMMAND --help)\n"
                 "\n"
                 "Exit status: 0 success; 1 failure (unreadable or malformed input, database);\n"
                 "2 usage error; 3 the daemon is not running; 4 no such node; 5 permission\n"
                 "denied; 6 timed out; 7 refused in the current state (duplicate EUI or key,\n"
                 "retired node, node defined in the configuration file ...).\n");
}

static void status_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch status [-s SOCKET] [-m FILE] [--json]\n"
            "\n"
            "Summarise lorawatchd. Asks the daemon over its control socket ([gateway]\n"
            "control_socket; root, the service user and the control group only); when the\n"
            "daemon is not running, reads the metrics file it rewrites every metrics_interval\n"
            "([gateway] metrics_file) and says it is stopped, with its last figures.\n"
            "\n"
            "  -s, --socket PATH    control socket (default " CLI_DEFAULT_SOCKET ")\n"
            "  -m, --metrics FILE   read this metrics file, do not ask the daemon (default\n"
            "                       " CLI_DEFAULT_METRICS " when the socket is unreachable)\n"
            "      --json           the figures as one JSON object\n"
            "  -h, --help           print this help\n"
            "\n"
            "Exit status: 0 running; 3 not running or the file is stale (older than three\n"
            "intervals); 1 file missing, unreadable or malformed; 2 usage error.\n");
}

/* The figures status shows, filled from the samples. */
struct figures {
    char site[64], version[32];
    double up, start, time, interval, nodes;
    double frames[7]; /* outcomes in frame_outcomes order */
    double radio_malformed, radio_resets, stored, lost, commit_failures, db_bytes;
    double radio_crc, radio_checks, radio_tx_timeouts, radio_failed, radio_fault;
    double raised, cleared, active;
    double connected, outbox, published, acked, connects;
    double clock_synced, lag, lag_max;
    double joins[6]; /* join requests, outcomes in join_outcomes order */
    double mesh_dropped[2], mesh_dup, ctl_refused, ctl_bad;
    double cmd_accepted, cmd_refused, cmd_denied; /* MQTT commands from phones */
    char storage[32];                             /* "ok", "full", "io_error", "wal_pinned" */
    double storage_waiting;
    int seen;
};

static const char *const join_outcomes[] = {"accepted", "rate_limited",  "unknown_eui",
                                            "refused",  "window_closed", "malformed"};

static const char *const frame_outcomes[] = {"accepted", "malformed", "network", "unknown_node",
                                             "mic",      "replay",    "ignored"};

static int on_sample(void *arg, const struct lw_prom_sample *s)
{
    struct figures *f = arg;
    char v[64];
    const struct {
        const char *name;
        double *dst;
    } plain[] = {
        {"lorawatch_up", &f->up},
        {"lorawatch_start_time_seconds", &f->start},
        {"lorawatch_metrics_time_seconds", &f->time},
        {"lorawatch_metrics_interval_seconds", &f->interval},
        {"lorawatch_nodes", &f->nodes},
        {"lorawatch_radio_malformed_total", &f->radio_malformed},
        {"lorawatch_radio_resets_total", &f->radio_resets},
        {"lorawatch_radio_crc_errors_total", &f->radio_crc},
        {"lorawatch_radio_watchdog_checks_total", &f->radio_checks},
        {"lorawatch_radio_tx_timeouts_total", &f->radio_tx_timeouts},
        {"lorawatch_radio_recoveries_failed_total", &f->radio_failed},
        {"lorawatch_radio_fault", &f->radio_fault},
        {"lorawatch_readings_stored_total", &f->stored},
        {"lorawatch_readings_lost_total", &f->lost},
        {"lorawatch_db_commit_failures_total", &f->commit_failures},
        {"lorawatch_db_bytes", &f->db_bytes},
        {"lorawatch_alerts_active", &f->active},
        {"lorawatch_mqtt_connected", &f->connected},
        {"lorawatch_mqtt_outbox", &f->outbox},
        {"lorawatch_mqtt_published_total", &f->published},
        {"lorawatch_mqtt_acked_total", &f->acked},
        {"lorawatch_mqtt_connects_total", &f->connects},
        {"lorawatch_clock_synchronized", &f->clock_synced},
        {"lorawatch_loop_lag_seconds", &f->lag},
        {"lorawatch_loop_lag_max_seconds", &f->lag_max},
        {"lorawatch_mesh_duplicates_total", &f->mesh_dup},
        {"lorawatch_control_bad_requests_total", &f->ctl_bad},
        {"lorawatch_storage_waiting", &f->storage_waiting},
    };
    f->seen++;
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        if (strcmp(s->name, plain[i].name) == 0) {
            *plain[i].dst = s->value;
            return 0;
        }
    if (strcmp(s->name, "lorawatch_storage_trouble") == 0) {
        lw_prom_label(s->labels, "state", f->storage, sizeof(f->storage));
    } else if (strcmp(s->name, "lorawatch_info") == 0) {
        lw_prom_label(s->labels, "site", f->site, sizeof(f->site));
        lw_prom_label(s->labels, "version", f->version, sizeof(f->version));
    } else if (strcmp(s->name, "lorawatch_frames_total") == 0 &&
               lw_prom_label(s->labels, "outcome", v, sizeof(v))) {
        for (size_t i = 0; i < 7; i++)
            if (strcmp(v, frame_outcomes[i]) == 0)
                f->frames[i] = s->value;
    } else if (strcmp(s->name, "lorawatch_join_requests_total") == 0 &&
               lw_prom_label(s->labels, "outcome", v, sizeof(v))) {
        for (size_t i = 0; i < 6; i++)
            if (strcmp(v, join_outcomes[i]) == 0)
                f->joins[i] = s->value;
    } else if (strcmp(s->name, "lorawatch_mesh_dropped_total") == 0 &&
               lw_prom_label(s->labels, "reason", v, sizeof(v))) {
        f->mesh_dropped[strcmp(v, "hop_limit") == 0 ? 0 : 1] += s->value;
    } else if (strcmp(s->name, "lorawatch_control_connections_total") == 0 &&
               lw_prom_label(s->labels, "outcome", v, sizeof(v))) {
        if (strcmp(v, "refused") == 0)
            f->ctl_refused = s->value;
    } else if (strcmp(s->name, "lorawatch_mqtt_commands_total") == 0 &&
               lw_prom_label(s->labels, "outcome", v, sizeof(v))) {
        if (strcmp(v, "accepted") == 0) {
            f->cmd_accepted += s->value;
        } else {
            f->cmd_refused += s->value;
            if (lw_prom_label(s->labels, "code", v, sizeof(v)) && strcmp(v, "denied") == 0)
                f->cmd_denied += s->value;
        }
    } else if (strcmp(s->name, "lorawatch_alerts_total") == 0 &&
               lw_prom_label(s->labels, "event", v, sizeof(v))) {
        if (strcmp(v, "raised") == 0)
            f->raised = s->value;
        else if (strcmp(v, "cleared") == 0)
            f->cleared = s->value;
    }
    return 0;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 20;
    char *t = malloc(cap);
    *len = t ? fread(t, 1, cap, fp) : 0;
    fclose(fp);
    return t;
}

static void duration(double s, char *out, size_t cap)
{
    long v = (long)s;
    if (v >= 86400)
        snprintf(out, cap, "%ld d %ld h", v / 86400, v % 86400 / 3600);
    else if (v >= 3600)
        snprintf(out, cap, "%ld h %ld min", v / 3600, v % 3600 / 60);
    else
        snprintf(out, cap, "%ld min %ld s", v / 60, v % 60);
}

int cli_status(int argc, char **argv)
{
    static const struct option opts[] = {{"socket", required_argument, NULL, 's'},
                                         {"metrics", required_argument, NULL, 'm'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *path = CLI_DEFAULT_METRICS, *sock = NULL;
    int json = 0, file_only = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            sock = optarg;
            break;
        case 'm':
            path = optarg;
            file_only = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            status_usage(stdout);
            return CLI_EXIT_OK;
        default:
            status_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (cli_no_more_args("status", argc, argv, optind))
        return CLI_EXIT_USAGE;
    size_t len = 0;
    char *text = NULL;
    if (!file_only) {
        /* Not running or stalled: the metrics file it keeps tells how stale it is. */
        int rc;
        sock = cli_socket_path(sock);
        cJSON *req = cJSON_CreateObject(), *reply = NULL;
        cJSON_AddStringToObject(req, "cmd", "status");
        reply = cli_call("status", sock, req, 5, true, &rc);
        cJSON_Delete(req);
        if (!reply && rc != CLI_EXIT_NOT_RUNNING && rc != CLI_EXIT_TIMEOUT)
            return rc;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(reply, "metrics");
        if (cJSON_IsString(m)) {
            text = strdup(m->valuestring);
            len = text ? strlen(text) : 0;
            path = sock;
        }
        cJSON_Delete(reply);
    }
    if (!text)
        text = read_file(path, &len);
    if (!text) {
        fprintf(stderr,
                "lorawatch status: %s: %s (is lorawatchd running with [gateway] metrics_file "
                "set?)\n",
                path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    struct figures f = {0};
    int bad = 0;
    int rc = lw_prom_parse(text, len, on_sample, &f, &bad);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "lorawatch status: %s:%d: not a metrics line\n", path, bad);
        return CLI_EXIT_FAIL;
    }
    if (!f.time) {
        fprintf(stderr, "lorawatch status: %s: no lorawatch metrics in it\n", path);
        return CLI_EXIT_FAIL;
    }
    double now = (double)time(NULL), age = now - f.time;
    double max_age = 3 * (f.interval > 0 ? f.interval : 15);
    const char *state = !f.up ? "stopped" : age > max_age ? "stale" : "running";
    int exit_code = strcmp(state, "running") == 0 ? CLI_EXIT_OK : CLI_EXIT_NOT_RUNNING;
    double rejected = 0;
    for (size_t i = 1; i < 7; i++)
        rejected += f.frames[i];

    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddStringToObject(o, "site", f.site);
        cJSON_AddStringToObject(o, "version", f.version);
        cJSON_AddNumberToObject(o, "metrics_age_s", age);
        cJSON_AddNumberToObject(o, "uptime_s", f.time - f.start);
        cJSON_AddNumberToObject(o, "nodes", f.nodes);
        cJSON_AddBoolToObject(o, "mqtt_connected", f.connected > 0);
        cJSON_AddNumberToObject(o, "mqtt_outbox", f.outbox);
        cJSON *fr = cJSON_AddObjectToObject(o, "frames");
        for (size_t i = 0; i < 7; i++)
            cJSON_AddNumberToObject(fr, frame_outcomes[i], f.frames[i]);
        cJSON *ra = cJSON_AddObjectToObject(o, "radio");
        cJSON_AddNumberToObject(ra, "resets", f.radio_resets);
        cJSON_AddNumberToObject(ra, "recoveries_failed", f.radio_failed);
        cJSON_AddNumberToObject(ra, "watchdog_checks", f.radio_checks);
        cJSON_AddNumberToObject(ra, "tx_timeouts", f.radio_tx_timeouts);
        cJSON_AddNumberToObject(ra, "crc_errors", f.radio_crc);
        cJSON_AddNumberToObject(ra, "malformed", f.radio_malformed);
        cJSON_AddBoolToObject(ra, "fault", f.radio_fault > 0);
        cJSON *jo = cJSON_AddObjectToObject(o, "joins");
        for (size_t i = 0; i < 6; i++)
            cJSON_AddNumberToObject(jo, join_outcomes[i], f.joins[i]);
        cJSON *me = cJSON_AddObjectToObject(o, "mesh");
        cJSON_AddNumberToObject(me, "dropped_hop_limit", f.mesh_dropped[0]);
        cJSON_AddNumberToObject(me, "dropped_bad_route", f.mesh_dropped[1]);
        cJSON_AddNumberToObject(me, "duplicates", f.mesh_dup);
        cJSON *ct = cJSON_AddObjectToObject(o, "control");
        cJSON_AddNumberToObject(ct, "refused", f.ctl_refused);
        cJSON_AddNumberToObject(ct, "bad_requests", f.ctl_bad);
        cJSON *cm = cJSON_AddObjectToObject(o, "commands");
        cJSON_AddNumberToObject(cm, "accepted", f.cmd_accepted);
        cJSON_AddNumberToObject(cm, "refused", f.cmd_refused);
        cJSON_AddNumberToObject(cm, "denied", f.cmd_denied);
        cJSON_AddNumberToObject(o, "readings_stored", f.stored);
        cJSON_AddNumberToObject(o, "readings_lost", f.lost);
        cJSON_AddNumberToObject(o, "db_bytes", f.db_bytes);
        cJSON_AddStringToObject(o, "storage", f.storage[0] ? f.storage : "ok");
        cJSON_AddNumberToObject(o, "storage_waiting", f.storage_waiting);
        cJSON_AddNumberToObject(o, "alerts_active", f.active);
        cJSON_AddNumberToObject(o, "alerts_raised", f.raised);
        cJSON_AddNumberToObject(o, "alerts_cleared", f.cleared);
        cJSON_AddBoolToObject(o, "clock_synchronized", f.clock_synced > 0);
        cJSON_AddNumberToObject(o, "loop_lag_max_s", f.lag_max);
        char *s = cJSON_Print(o);
        cJSON_Delete(o);
        if (s)
            puts(s);
        free(s);
        return exit_code;
    }
    char up[32], ago[32];
    duration(f.time - f.start, up, sizeof(up));
    duration(age > 0 ? age : 0, ago, sizeof(ago));
    printf("lorawatchd %s, site %s: %s", f.version, f.site, state);
    if (!strcmp(state, "running"))
        printf(", up %s", up);
    printf(" (figures %s old)\n", ago);
    printf("  %-10s %s, outbox %.0f, published %.0f, acknowledged %.0f, connections %.0f\n", "mqtt",
           f.connected > 0 ? "connected" : "NOT CONNECTED", f.outbox, f.published, f.acked,
           f.connects);
    printf("  %-10s accepted %.0f, rejected %.0f (malformed %.0f, other network %.0f, unknown "
           "node %.0f, bad MIC %.0f, replay %.0f)\n",
           "frames", f.frames[0], rejected, f.frames[1], f.frames[2], f.frames[3], f.frames[4],
           f.frames[5]);
    double joins_refused = 0;
    for (size_t i = 1; i < 6; i++)
        joins_refused += f.joins[i];
    if (f.joins[0] || joins_refused)
        printf("  %-10s accepted %.0f, refused %.0f (rate-limited %.0f, unknown EUI %.0f, not "
               "authentic %.0f, window closed %.0f, malformed %.0f)\n",
               "joins", f.joins[0], joins_refused, f.joins[1], f.joins[2], f.joins[3], f.joins[4],
               f.joins[5]);
    if (f.mesh_dropped[0] || f.mesh_dropped[1] || f.mesh_dup)
        printf("  %-10s dropped: hop limit %.0f, bad route %.0f; duplicates %.0f\n", "mesh",
               f.mesh_dropped[0], f.mesh_dropped[1], f.mesh_dup);
    if (f.ctl_refused || f.ctl_bad)
        printf("  %-10s refused connections %.0f, bad requests %.0f\n", "control", f.ctl_refused,
               f.ctl_bad);
    if (f.cmd_accepted || f.cmd_refused)
        printf("  %-10s from phones: accepted %.0f, refused %.0f (not allowed %.0f)\n", "commands",
               f.cmd_accepted, f.cmd_refused, f.cmd_denied);
    printf("  %-10s %.0f nodes; radio resets %.0f, malformed transport input %.0f\n", "radio",
           f.nodes, f.radio_resets, f.radio_malformed);
    if (f.radio_checks || f.radio_fault > 0 || f.radio_crc || f.radio_failed)
        printf("  %-10s watchdog checks %.0f, failed recoveries %.0f, TX timeouts %.0f, bad CRC "
               "%.0f%s\n",
               "", f.radio_checks, f.radio_failed, f.radio_tx_timeouts, f.radio_crc,
               f.radio_fault > 0 ? "; FAULT: the radio is not receiving" : "");
    printf("  %-10s stored %.0f, lost %.0f, failed commits %.0f; database %.1f MiB\n", "readings",
           f.stored, f.lost, f.commit_failures, f.db_bytes / 1048576.0);
    if (f.storage[0] && strcmp(f.storage, "ok") != 0)
        printf("  %-10s TROUBLE: %s; readings shed, %.0f alert writes waiting in memory (already "
               "paged)\n",
               "storage", f.storage, f.storage_waiting);
    printf("  %-10s active %.0f; raised %.0f, cleared %.0f\n", "alerts", f.active, f.raised,
           f.cleared);
    printf("  %-10s %s\n", "clock",
           f.clock_synced > 0 ? "synchronised" : "NOT synchronised (readings marked)");
    printf("  %-10s %.0f ms now, %.0f ms at most\n", "loop lag", f.lag * 1000, f.lag_max * 1000);
    return exit_code;
}

static void keygen_usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatch keygen [--eui EUI] [--qr | --no-qr] [--png FILE] [--json]\n"
            "\n"
            "Make a 128-bit node root key from the operating system's random source and print\n"
            "it with the node's EUI-64: a label line to print and stick on the node, and the\n"
            "pairing string LW1:EUI:KEY (EUI 16 and KEY 32 upper-case hex digits) that the\n"
            "pairing phone reads, as text and as a QR code (byte mode, error correction level\n"
            "M, four modules of margin). Without --eui a random, locally administered EUI is\n"
            "made too (for simulated or home-made nodes). Each key is unique and never stored\n"
            "by this command: keep the label safe.\n"
            "\n"
            "      --eui EUI    the node's EUI-64, 16 hex digits (':' or '-' between bytes\n"
            "                   allowed)\n"
            "      --qr         draw the QR code in the terminal with UTF-8 half blocks (the\n"
            "                   default when standard output is a terminal; in colour there,\n"
            "                   dark on light, plain blocks on light paper otherwise)\n"
            "      --no-qr      do not draw it\n"
            "      --png FILE   also write the QR code as a PNG label, 8 pixels a module\n"
            "      --json       print {\"eui\", \"key\", \"qr\"[, \"png\"]} and no drawing\n"
            "  -h, --help       print this help\n"
            "\n"
            "Exit status: 0 success; 1 no random bytes, or FILE not written; 2 usage error\n"
            "(bad EUI).\n");
}

/* Fill buf from getrandom(2): blocks only until the kernel's pool is initialised at boot. */
static int random_bytes(uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

int cli_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"eui", required_argument, NULL, 'e'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"qr", no_argument, NULL, 'q'},
                                         {"no-qr", no_argument, NULL, 'n'},
                                         {"png", required_argument, NULL, 'p'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    uint8_t eui[8], key[16];
    int have_eui = 0, json = 0, qr = -1, c;
    const char *png = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            if (lw_parse_hex(optarg, eui, sizeof(eui)) != LW_OK) {
                fprintf(stderr, "lorawatch keygen: --eui %s: must be 16 hex digits\n", optarg);
                return CLI_EXIT_USAGE;
            }
            have_eui = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
        case 'n':
            qr = c == 'q';
            break;
        case 'p':
            png = optarg;
            break;
        case 'h':
            keygen_usage(stdout);
            return CLI_EXIT_OK;
        default:
            keygen_usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (cli_no_more_args("keygen", argc, argv, optind))
        return CLI_EXIT_USAGE;
    uint8_t zero[16] = {0};
    do {
        if (random_bytes(key, sizeof(key)) != 0 || (!have_eui && random_bytes(eui, 8) != 0)) {
            fprintf(stderr, "lorawatch keygen: no random bytes: %s\n", strerror(errno));
            return CLI_EXIT_FAIL;
        }
    } while (memcmp(key, zero, sizeof(key)) == 0); /* the daemon refuses all-zero keys */
    if (!have_eui)
        eui[0] = (uint8_t)((eui[0] & 0xFC) | 0x02); /* unicast, locally administered */
    char eh[17], kh[33];
    lw_format_hex(eui, sizeof(eui), eh);
    lw_format_hex(key, sizeof(key), kh);
    char label[64];
    snprintf(label, sizeof(label), "LW1:%s:%s", eh, kh);
    char why[256];
    if (png && cli_qr_png(label, png, 8, why, sizeof(why)) != 0) {
        /* The key is not printed: a label that was not made must not be half-used. */
        fprintf(stderr, "lorawatch keygen: --png %s: %s\n", png, why);
        return CLI_EXIT_FAIL;
    }
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "eui", eh);
        cJSON_AddStringToObject(o, "key", kh);
        cJSON_AddStringToObject(o, "qr", label);
        if (png)
            cJSON_AddStringToObject(o, "png", png);
        char *t = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (t)
            puts(t);
        free(t);
        return CLI_EXIT_OK;
    }
    printf("EUI %s  KEY %s\n%s\n", eh, kh, label);
    bool tty = isatty(STDOUT_FILENO);
    if (qr == 1 || (qr == -1 && tty)) {
        fflush(stdout);
        if (cli_qr_text(label, stdout, tty) != 0) {
            fprintf(stderr, "lorawatch keygen: no QR code: %s\n", strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }
    return CLI_EXIT_OK;
}

enum { OPT_GLOBAL_DB = 256 };

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"socket", required_argument, NULL, 's'},
        {"config", required_argument, NULL, 'c'},
        {"db", required_argument, NULL, OPT_GLOBAL_DB},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* '+': stop at the command; what follows is the command's own (it may repeat these). */
    while ((c = getopt_long(argc, argv, "+Vhs:c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'V':
            printf("lorawatch %s\n", LW_VERSION);
            return CLI_EXIT_OK;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        case 's':
            cli_global.socket = optarg;
            break;
        case 'c':
            cli_global.config = optarg;
            break;
        case OPT_GLOBAL_DB:
            cli_global.db = optarg;
            break;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
    } commands[] = {
        {"status", cli_status}, {"keygen", cli_keygen}, {"history", cli_history},
        {"events", cli_events}, {"report", cli_report}, {"backup", cli_backup},
    };
    const char *cmd = argv[optind];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - optind, argv + optind);
    static const struct cli_command *const families[] = {cli_node_commands, cli_alert_commands,
                                                         cli_radio_commands};
    for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++)
        for (const struct cli_command *k = families[f]; k->name; k++)
            if (strcmp(cmd, k->name) == 0)
                return k->run(argc - optind, argv + optind);
    fprintf(stderr, "lorawatch: unknown command '%s' (see lorawatch --help)\n", cmd);
    return CLI_EXIT_USAGE;
}
