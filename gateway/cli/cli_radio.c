/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch airtime, plan and event-mode: time on air of one frame, channel load and expected
 * delivery of a planned estate (pure ALOHA), and event mode for a building through the daemon. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lw_airtime.h"
#include "lw_error.h"
#include "lw_frame.h"
#include "lw_parse.h"
#include "lw_presets.h"

/* The largest v1 uplink: 28 bytes of readings in a 20-byte envelope, plus 3 relay hops. */
#define PLAN_PAYLOAD_DEFAULT 35u

static int bad(const char *prog, const char *fmt, const char *arg)
    __attribute__((format(printf, 2, 0)));

static int bad(const char *prog, const char *fmt, const char *arg)
{
    fprintf(stderr, "lorawatch %s: ", prog);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    fprintf(stderr, fmt, arg); /* every fmt is a literal with one %s at the call sites */
#pragma GCC diagnostic pop
    fprintf(stderr, " (see lorawatch %s --help)\n", prog);
    return CLI_EXIT_USAGE;
}

/* Options shared by airtime and plan: the modulation and the region. */
struct radio_opts {
    struct lw_lora_params lp;
    unsigned payload;
    const struct lw_region *region;
    bool json;
};

static int parse_common(const char *prog, int o, const char *arg, struct radio_opts *r)
{
    uint32_t u;
    switch (o) {
    case 'S':
        if (lw_parse_u32(arg, 6, 12, &u) != LW_OK)
            return bad(prog, "--sf '%s': a spreading factor 6..12", arg);
        r->lp.sf = (uint8_t)u;
        return 0;
    case 'B':
        if (lw_parse_u32(arg, 7800, 500000, &u) != LW_OK)
            return bad(prog, "--bw '%s': a bandwidth in Hz, 7800..500000 (125000 typical)", arg);
        r->lp.bw_hz = u;
        return 0;
    case 'C':
        /* 4/5 .. 4/8, written 5..8 like [radio] coding_rate, or 4/5 */
        if (strncmp(arg, "4/", 2) == 0)
            arg += 2;
        if (lw_parse_u32(arg, 5, 8, &u) != LW_OK)
            return bad(prog, "--cr '%s': a coding rate 5..8 (4/5..4/8)", arg);
        r->lp.cr = (uint8_t)(u - 4);
        return 0;
    case 'P':
        if (lw_parse_u32(arg, 1, LW_FRAME_MAX_LEN, &u) != LW_OK)
            return bad(prog, "--payload '%s': bytes of the whole LoRa payload, 1..255", arg);
        r->payload = u;
        return 0;
    case 'p':
        if (lw_parse_u32(arg, 6, 65535, &u) != LW_OK)
            return bad(prog, "--preamble '%s': 6..65535 symbols", arg);
        r->lp.preamble = (uint16_t)u;
        return 0;
    case 'R':
        r->region = lw_region_find(arg);
        if (!r->region)
            return bad(prog, "--region '%s': CN470 or EU868", arg);
        return 0;
    case 'j':
        r->json = true;
        return 0;
    }
    return -1;
}

static void radio_defaults(struct radio_opts *r)
{
    memset(r, 0, sizeof(*r));
    lw_lora_params_default(&r->lp);
    r->payload = PLAN_PAYLOAD_DEFAULT;
    r->region = lw_region_find("CN470");
}

/* The region's verdict on one frame of us microseconds: NULL when allowed. */
static const char *region_verdict(const struct radio_opts *r, uint32_t us, char *why, size_t cap)
{
    if (!r->region || lw_region_check_airtime(r->region, us, why, cap) == LW_OK)
        return NULL;
    return why;
}

static int cli_airtime(int argc, char **argv)
{
    static const struct option opts[] = {
        {"sf", required_argument, NULL, 'S'},
        {"bw", required_argument, NULL, 'B'},
        {"cr", required_argument, NULL, 'C'},
        {"payload", required_argument, NULL, 'P'},
        {"preamble", required_argument, NULL, 'p'},
        {"region", required_argument, NULL, 'R'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct radio_opts r;
    int o;
    radio_defaults(&r);
    optind = 0; /* full re-initialisation: options may follow the operands */
    while ((o = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (o == 'h') {
            printf("Usage: lorawatch airtime [--sf SF] [--bw HZ] [--cr 5..8] [--payload BYTES]\n"
                   "                         [--preamble N] [--region CN470|EU868] [--json]\n"
                   "\n"
                   "Time on air of one LoRa packet (SX127x/SX126x datasheet formula; CRC on,\n"
                   "explicit header, low data rate optimisation from 16 ms symbols), and whether\n"
                   "the region allows it. Defaults: SF9, 125000 Hz, 4/5, 35 bytes, 8 symbols,\n"
                   "CN470 (each transmission at most 1 s).\n"
                   "\n"
                   "Options:\n"
                   "  --sf SF           spreading factor 6..12\n"
                   "  --bw HZ           bandwidth in Hz\n"
                   "  --cr N            coding rate 4/N, 5..8\n"
                   "  --payload BYTES   bytes of the LoRa payload (the whole lorawatch frame)\n"
                   "  --preamble N      preamble symbols\n"
                   "  --region R        CN470 or EU868\n"
                   "  --json            print JSON\n"
                   "\n"
                   "Exit status: 0 allowed in the region; 1 longer than the region allows; 2 "
                   "usage.\n");
            return CLI_EXIT_OK;
        }
        int rc = parse_common("airtime", o, optarg, &r);
        if (rc > 0)
            return rc;
        if (rc < 0)
            return CLI_EXIT_USAGE;
    }
    if (optind < argc)
        return bad("airtime", "unexpected argument '%s'", argv[optind]);
    uint32_t us = lw_airtime_us(&r.lp, r.payload);
    if (us == 0)
        return bad("airtime", "%s", "these parameters give no valid packet");
    double sym_ms = (double)(1u << r.lp.sf) * 1000.0 / r.lp.bw_hz;
    char why[256];
    const char *refused = region_verdict(&r, us, why, sizeof(why));
    if (r.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "sf", r.lp.sf);
        cJSON_AddNumberToObject(j, "bw_hz", r.lp.bw_hz);
        cJSON_AddNumberToObject(j, "cr", r.lp.cr + 4);
        cJSON_AddNumberToObject(j, "payload", r.payload);
        cJSON_AddNumberToObject(j, "symbol_ms", sym_ms);
        cJSON_AddNumberToObject(j, "airtime_ms", us / 1000.0);
        cJSON_AddStringToObject(j, "region", r.region ? r.region->name : "");
        cJSON_AddBoolToObject(j, "allowed", refused == NULL);
        if (refused)
            cJSON_AddStringToObject(j, "refused", refused);
        cli_print_json(j);
        cJSON_Delete(j);
    } else {
        printf("SF%u, %u Hz, CR 4/%u, %u bytes: %.1f ms on air (symbol %.3f ms)\n", r.lp.sf,
               r.lp.bw_hz, r.lp.cr + 4, r.payload, us / 1000.0, sym_ms);
        if (refused)
            printf("%s: refused: %s\n", r.region->name, refused);
        else if (r.region)
            printf("%s: allowed\n", r.region->name);
    }
    return refused ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int cli_plan(int argc, char **argv)
{
    static const struct option opts[] = {
        {"nodes", required_argument, NULL, 'n'},   {"interval", required_argument, NULL, 'i'},
        {"sf", required_argument, NULL, 'S'},      {"bw", required_argument, NULL, 'B'},
        {"cr", required_argument, NULL, 'C'},      {"channels", required_argument, NULL, 'c'},
        {"payload", required_argument, NULL, 'P'}, {"preamble", required_argument, NULL, 'p'},
        {"region", required_argument, NULL, 'R'},  {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct radio_opts r;
    uint32_t nodes = 0, channels = 1;
    uint64_t interval_ms = 0;
    int o;
    radio_defaults(&r);
    optind = 0; /* full re-initialisation: options may follow the operands */
    while ((o = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        switch (o) {
        case 'h':
            printf("Usage: lorawatch plan --nodes N --interval S --sf SF [--channels C]\n"
                   "                      [--payload B] [--bw HZ] [--cr 5..8] [--region R]\n"
                   "                      [--json]\n"
                   "\n"
                   "Channel load and expected delivery of N nodes each sending one B-byte frame\n"
                   "every S (a duration: 60s, 5m; a bare number is seconds), spread evenly over C\n"
                   "channels: offered load per channel G = N x time on air / S / C, and the share\n"
                   "of frames that meet no other one under pure ALOHA, e^(-2G). Relays forward\n"
                   "frames again: count each hop as a node. A frame the region does not allow\n"
                   "(CN470: more than 1 s on air) is refused.\n"
                   "\n"
                   "Options:\n"
                   "  --nodes N         number of nodes (1..100000)\n"
                   "  --interval S      reporting interval of each node\n"
                   "  --sf SF           spreading factor 6..12\n"
                   "  --channels C      uplink channels the nodes hop over (default 1)\n"
                   "  --payload B       frame length in bytes (default 35)\n"
                   "  --bw HZ           bandwidth in Hz (default 125000)\n"
                   "  --cr N            coding rate 4/N (default 5)\n"
                   "  --preamble N      preamble symbols (default 8)\n"
                   "  --region R        CN470 (default) or EU868\n"
                   "  --json            print JSON\n"
                   "\n"
                   "Exit status: 0 planned; 1 the frame breaks the region's rules; 2 usage.\n");
            return CLI_EXIT_OK;
        case 'n':
            if (lw_parse_u32(optarg, 1, 100000, &nodes) != LW_OK)
                return bad("plan", "--nodes '%s': 1..100000", optarg);
            break;
        case 'i':
            if (lw_parse_duration_ms(optarg, 7 * 86400000ull, &interval_ms) != LW_OK ||
                interval_ms < 1000)
                return bad("plan", "--interval '%s': a duration from 1s to 7d (e.g. 60s, 5m)",
                           optarg);
            break;
        case 'c':
            if (lw_parse_u32(optarg, 1, 64, &channels) != LW_OK)
                return bad("plan", "--channels '%s': 1..64", optarg);
            break;
        default: {
            int rc = parse_common("plan", o, optarg, &r);
            if (rc > 0)
                return rc;
            if (rc < 0)
                return CLI_EXIT_USAGE;
        }
        }
    }
    if (optind < argc)
        return bad("plan", "unexpected argument '%s'", argv[optind]);
    if (!nodes || !interval_ms)
        return bad("plan", "%s", "--nodes and --interval are required");
    uint32_t us = lw_airtime_us(&r.lp, r.payload);
    if (us == 0)
        return bad("plan", "%s", "these parameters give no valid packet");
    char why[256];
    const char *refused = region_verdict(&r, us, why, sizeof(why));
    if (refused) {
        fprintf(stderr, "lorawatch plan: %s: %s\n", r.region->name, refused);
        return CLI_EXIT_FAIL;
    }
    if (r.region && r.region->duty_permille &&
        (double)us / 1000.0 > (double)interval_ms * r.region->duty_permille / 1000.0) {
        fprintf(stderr,
                "lorawatch plan: %s: one %.1f ms frame every %.0f s is %.2f %% of each node's "
                "time, over the %.1f %% duty cycle\n",
                r.region->name, us / 1000.0, interval_ms / 1000.0,
                100.0 * us / 1000.0 / (double)interval_ms, r.region->duty_permille / 10.0);
        return CLI_EXIT_FAIL;
    }
    double g = (double)nodes * (us / 1000.0) / (double)interval_ms / channels;
    double success = exp(-2.0 * g);
    double per_hour = (double)nodes * 3600000.0 / (double)interval_ms;
    /* Throughput S = G e^(-2G) peaks at G = 0.5 (18.4 % of the channel). */
    uint64_t max_nodes = (uint64_t)floor(0.5 * (double)interval_ms * channels / (us / 1000.0));
    if (r.json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddNumberToObject(j, "nodes", nodes);
        cJSON_AddNumberToObject(j, "interval_s", interval_ms / 1000.0);
        cJSON_AddNumberToObject(j, "channels", channels);
        cJSON_AddNumberToObject(j, "sf", r.lp.sf);
        cJSON_AddNumberToObject(j, "payload", r.payload);
        cJSON_AddNumberToObject(j, "airtime_ms", us / 1000.0);
        cJSON_AddNumberToObject(j, "frames_per_hour", per_hour);
        cJSON_AddNumberToObject(j, "offered_load", g);
        cJSON_AddNumberToObject(j, "aloha_success", success);
        cJSON_AddNumberToObject(j, "nodes_at_peak_throughput", (double)max_nodes);
        cli_print_json(j);
        cJSON_Delete(j);
        return CLI_EXIT_OK;
    }
    printf("%u nodes, one %u-byte frame every %.0f s, SF%u/%u Hz, %u channel%s\n", nodes, r.payload,
           interval_ms / 1000.0, r.lp.sf, r.lp.bw_hz, channels, channels == 1 ? "" : "s");
    printf("time on air      %.1f ms per frame\n", us / 1000.0);
    printf("frames           %.0f per hour (%.0f per channel)\n", per_hour, per_hour / channels);
    printf("offered load G   %.3f per channel\n", g);
    printf("ALOHA delivery   %.1f %% of the frames meet no other (e^-2G)\n", 100.0 * success);
    printf("capacity         about %llu nodes at this interval before throughput falls "
           "(G = 0.5)\n",
           (unsigned long long)max_nodes);
    if (success < 0.9)
        printf("advice           lower the SF, add channels or lengthen the interval: "
               "alarms are retried, but routine readings are not\n");
    return CLI_EXIT_OK;
}

static int cli_event_mode(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *sock = NULL;
    int o;
    optind = 0; /* full re-initialisation: options may follow the operands */
    while ((o = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
        if (o == 's') {
            sock = optarg;
        } else if (o == 'h') {
            printf("Usage: lorawatch event-mode BUILDING on|off [-s SOCKET]\n"
                   "\n"
                   "Switch the nodes of a building to fast sampling ([mesh] event_interval) or\n"
                   "back, by a CMD downlink to each (sent at once and again after its next\n"
                   "uplink). The daemon does this itself when a flood incident opens and closes.\n"
                   "\n"
                   "Options:\n"
                   "  -s, --socket PATH  the daemon's control socket\n");
            return CLI_EXIT_OK;
        } else {
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind != 2 || (strcmp(argv[optind + 1], "on") && strcmp(argv[optind + 1], "off")))
        return bad("event-mode", "%s", "give BUILDING and on or off");
    cJSON *req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "cmd", "event-mode");
    cJSON_AddStringToObject(req, "building", argv[optind]);
    cJSON_AddBoolToObject(req, "on", strcmp(argv[optind + 1], "on") == 0);
    int code = CLI_EXIT_OK;
    cJSON *reply = cli_call("event-mode", cli_socket_path(sock), req, 10, false, &code);
    cJSON_Delete(req);
    if (!reply)
        return code;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(reply, "nodes");
    printf("event mode %s for building %s: %d node%s told\n", argv[optind + 1], argv[optind],
           cJSON_IsNumber(n) ? n->valueint : 0, cJSON_IsNumber(n) && n->valueint == 1 ? "" : "s");
    cJSON_Delete(reply);
    return CLI_EXIT_OK;
}

const struct cli_command cli_radio_commands[] = {
    {"airtime", cli_airtime, "time on air of one frame, and whether the region allows it"},
    {"plan", cli_plan, "channel load and ALOHA delivery for N nodes at an interval and SF"},
    {"event-mode", cli_event_mode, "fast sampling on or off for the nodes of a building"},
    {NULL, NULL, NULL},
};
