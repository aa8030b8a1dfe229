/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatch-sim entry point: command-line options, usage text, and the choice between a scenario
 * run, an ad-hoc single node, --check and --emit-node-config. */
#include "lw_error.h"
#include "lw_parse.h"
#include "lw_version.h"
#include "sim_gwconf.h"
#include "sim_mutate.h"
#include "sim_report.h"
#include "sim_run.h"
#include "sim_scenario.h"
#include "sim_state.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "lorawatch-sim"

enum exit_status { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum long_only {
    OPT_GATEWAY = 256,
    OPT_EMIT,
    OPT_CHECK,
    OPT_ACCEL,
    OPT_JSON,
    OPT_VERSION,
    OPT_NETID,
    OPT_ADDRESS,
    OPT_EUI,
    OPT_KEY,
    OPT_KIND,
    OPT_LABEL,
    OPT_SET,
    OPT_COUNT,
    OPT_INTERVAL,
    OPT_FCNT,
    OPT_RSSI,
    OPT_SNR,
    OPT_HOP,
    OPT_TIME,
    OPT_ALARM,
    OPT_MUTATE,
    OPT_SEED,
    OPT_JOIN,
    OPT_ROOT_KEY,
    OPT_JOIN_ATTEMPTS,
    OPT_STATE,
    OPT_REPLY_WAIT,
    OPT_ALARM_ACK,
    OPT_TROUBLE,
};

static const struct option long_options[] = {
    {"scenario", required_argument, NULL, 's'},
    {"gateway", required_argument, NULL, OPT_GATEWAY},
    {"emit-node-config", no_argument, NULL, OPT_EMIT},
    {"check", no_argument, NULL, OPT_CHECK},
    {"acceleration", required_argument, NULL, OPT_ACCEL},
    {"summary-json", required_argument, NULL, OPT_JSON},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"version", no_argument, NULL, OPT_VERSION},
    {"help", no_argument, NULL, 'h'},
    {"network-id", required_argument, NULL, OPT_NETID},
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"eui", required_argument, NULL, OPT_EUI},
    {"key", required_argument, NULL, OPT_KEY},
    {"kind", required_argument, NULL, OPT_KIND},
    {"label", required_argument, NULL, OPT_LABEL},
    {"set", required_argument, NULL, OPT_SET},
    {"count", required_argument, NULL, OPT_COUNT},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"fcnt-start", required_argument, NULL, OPT_FCNT},
    {"rssi", required_argument, NULL, OPT_RSSI},
    {"snr", required_argument, NULL, OPT_SNR},
    {"hop-limit", required_argument, NULL, OPT_HOP},
    {"time", required_argument, NULL, OPT_TIME},
    {"alarm", no_argument, NULL, OPT_ALARM},
    {"mutate", required_argument, NULL, OPT_MUTATE},
    {"seed", required_argument, NULL, OPT_SEED},
    {"join", no_argument, NULL, OPT_JOIN},
    {"root-key", required_argument, NULL, OPT_ROOT_KEY},
    {"join-attempts", required_argument, NULL, OPT_JOIN_ATTEMPTS},
    {"state", required_argument, NULL, OPT_STATE},
    {"reply-wait", required_argument, NULL, OPT_REPLY_WAIT},
    {"alarm-ack", no_argument, NULL, OPT_ALARM_ACK},
    {"trouble", no_argument, NULL, OPT_TROUBLE},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fputs("NAME\n"
          "    " PROG " - simulated lorawatch sensor nodes on a loopback UDP radio medium\n"
          "\n"
          "SYNOPSIS\n"
          "    " PROG " -s FILE [--gateway HOST:PORT] [--acceleration X] [--state FILE]\n"
          "                  [--reply-wait D] [--summary-json FILE] [-v | -q]\n"
          "    " PROG " -s FILE --check | --emit-node-config\n"
          "    " PROG " --network-id N --address A --eui E --key K --kind KIND\n"
          "                  --set METRIC=TRACE... [--gateway HOST:PORT] [--count N]\n"
          "                  [--interval D] [--fcnt-start N] [--rssi DBM] [--snr DB]\n"
          "                  [--hop-limit N] [--time T] [--alarm] [--mutate KIND]\n"
          "                  [--label TEXT] [--seed N] [--acceleration X] [--state FILE]\n"
          "                  [--summary-json FILE] [-v | -q]\n"
          "    " PROG " --join --network-id N --eui E --root-key R --kind KIND\n"
          "                  --set METRIC=TRACE... [--join-attempts N] [--state FILE]\n"
          "                  [--reply-wait D] [other ad-hoc options]\n"
          "    " PROG " -h | --help | --version\n"
          "\n"
          "DESCRIPTION\n"
          "    Each simulated node builds real lorawatch frames (readings as TLVs, sealed with\n"
          "    AES-128-CCM by the portable node core) and sends each one as an lw_simwire UDP\n"
          "    datagram to the gateway daemon's simulated radio, with RF metadata (frequency,\n"
          "    SF, bandwidth, RSSI, SNR) and the virtual time at which it was on the air.\n"
          "    Virtual time runs ACCELERATION times faster than real time; TICK datagrams\n"
          "    advance the gateway's virtual clock between frames. Runs are reproducible: the\n"
          "    report jitter comes from a seeded PRNG.\n"
          "\n"
          "    With -s, the nodes and their value traces come from a scenario file (INI; the\n"
          "    format is documented in nodes/SCENARIO.md). Without -s, one ad-hoc node is\n"
          "    described on the command line.\n"
          "\n"
          "    The simulator also listens: the gateway's answers (JOIN_ACC, ACK, CMD) come back\n"
          "    on the socket the frames leave from and reach the nodes at the current virtual\n"
          "    time. A node in join mode (scenario key join = yes, or --join) sends a JOIN_REQ\n"
          "    at its offset and again, with a new join nonce, after 10 s doubling to 1 h\n"
          "    (+-25 %) until a JOIN_ACC arrives; then it reports with the address and session\n"
          "    keys of the join. Reports due before that are skipped. After a frame that asks\n"
          "    for an answer, virtual time does not pass the node's 1 s reply window until the\n"
          "    answer is in or --reply-wait of real time has gone by.\n"
          "\n"
          "GENERAL OPTIONS\n"
          "    -s, --scenario FILE    run the scenario in FILE\n"
          "    --gateway HOST:PORT    where the daemon listens (default: the scenario's\n"
          "                           gateway key, else 127.0.0.1:17000)\n"
          "    --acceleration X       virtual seconds per real second, 0 = as fast as possible\n"
          "                           (default: the scenario's acceleration; 1 in ad-hoc mode)\n"
          "    --check                validate the scenario, print its errors, exit 0 or 1\n"
          "    --emit-node-config     print the gateway-side [node:NAME] sections (address, eui,\n"
          "                           key, kind, label, building, floor, unit, grid, place,\n"
          "                           tags) to stdout and exit; append them to the daemon config\n"
          "    --summary-json FILE    also write the end-of-run summary as JSON ('-' = stdout)\n"
          "    --state FILE           keep each node's last join nonce and a bound ahead of its\n"
          "                           frame counter in FILE (created if missing, rewritten\n"
          "                           atomically before a nonce or counter is used), so a\n"
          "                           restarted simulator never reuses either. Without it both\n"
          "                           start from the scenario's values every run\n"
          "    --reply-wait D         real time to wait for the gateway's answer before virtual\n"
          "                           time passes a reply window (default 2s)\n"
          "    -v, --verbose          one line per frame: virtual time, node, type, fcnt, values\n"
          "    -q, --quiet            no summary line; only errors\n"
          "    --version              print the version and exit\n"
          "    -h, --help             print this help and exit\n"
          "\n"
          "AD-HOC NODE OPTIONS (without -s)\n"
          "    --network-id N         network id, 0..0xFFFF (required)\n"
          "    --address A            node address, 0x0001..0xFFFE (required)\n"
          "    --eui E                EUI-64, 16 hex digits, ':' or '-' allowed (required)\n"
          "    --key K                AES-128 key, 32 hex digits, not all zero (required)\n"
          "    --kind KIND            water, smoke, gas, co or multi (required)\n"
          "    --set METRIC=TRACE     a value trace, repeatable; METRIC is one of water_mm,\n"
          "                           smoke, obscuration, gas_lel, co_ppm, temp_c, battery_mv,\n"
          "                           flags; the kind's own metric is required\n"
          "    --count N              frames to send, 1..1000000 (default 1)\n"
          "    --interval D           virtual time between frames (default 1s)\n"
          "    --fcnt-start N         first frame counter, 0..4294967295 (default 1)\n"
          "    --rssi DBM             RSSI reported with each frame, -150..0 (default -90)\n"
          "    --snr DB               SNR reported with each frame, -30..30 (default 7)\n"
          "    --hop-limit N          relays allowed, 0..7 (default 3)\n"
          "    --time T               virtual time of the first frame, ISO 8601 with zone\n"
          "                           (2026-07-15T02:00:00+08:00) or @UNIXSECONDS; without it\n"
          "                           frames carry time 0 and the gateway uses its own clock\n"
          "    --alarm                send ALARM frames (with ack_req) instead of the automatic\n"
          "                           choice (ALARM when smoke=1, gas_lel>=25 or co_ppm>=100)\n"
          "    --label TEXT           label printed by --emit-node-config (default: ad-hoc node\n"
          "                           0xADDRESS)\n"
          "    --seed N               PRNG seed for jitter, back-off and the garbage mutation\n"
          "                           (default 1)\n"
          "    --join                 join mode: the node has no address or node key; it joins\n"
          "                           with --eui and --root-key and sends its --count reports\n"
          "                           once the JOIN_ACC has arrived (--address and --key are\n"
          "                           not allowed)\n"
          "    --root-key R           the node's root key for the join, 32 hex digits\n"
          "    --alarm-ack            re-send each ALARM (new counter) after 2s, 4s .. 60s\n"
          "                           until the gateway's ACK arrives (default: sent once)\n"
          "    --trouble              send the DATA frames as trouble reports (ACK_REQ set,\n"
          "                           draft v1.1, proto/PROTOCOL.md 15.2): the gateway answers\n"
          "                           each with an ACK\n"
          "    --join-attempts N      give up (exit 1) after N unanswered JOIN_REQs; 0 = never\n"
          "                           (default 0)\n"
          "    --mutate KIND          send deliberately bad frames, for gateway tests:\n",
          f);
    for (int m = SIM_MUT_REPLAY; m < SIM_MUT_COUNT; m++)
        fprintf(f, "                             %-9s %s\n",
                sim_mutation_name((enum sim_mutation)m), sim_mutation_help((enum sim_mutation)m));
    fputs("\n"
          "TRACES\n"
          "    A trace is one number (a constant) or whitespace-separated VALUE@TIME points\n"
          "    with strictly ascending times; TIME is a duration from the scenario start (ad hoc:\n"
          "    from the first frame) with unit ms, s, m, h or d (a bare number is seconds).\n"
          "    Before the first point the first value holds, after the last the last value.\n"
          "    water_mm, temp_c, battery_mv, obscuration (%/m), gas_lel (%LEL) and co_ppm are\n"
          "    interpolated linearly; smoke (0/1) and flags (bits: 1 fault, 2 tamper, 4 low\n"
          "    battery, 8 warm-up) hold each value until the next point (steps).\n"
          "        water_mm=0@0m 60@25m 220@40m 300@55m 0@88m\n"
          "        smoke=0@0m 1@52m\n"
          "\n"
          "EXAMPLES\n"
          "    Check the demo scenario, give its nodes to the daemon, run it:\n"
          "        " PROG " -s config/scenarios/storm-and-fire.ini --check\n"
          "        " PROG " -s config/scenarios/storm-and-fire.ini --emit-node-config >> gw.ini\n"
          "        " PROG " -s config/scenarios/storm-and-fire.ini --summary-json run.json\n"
          "    Five readings of a flooded basement, one per second:\n"
          "        " PROG " --network-id 0x4C57 --address 0x0101 --eui 70B3D57ED0000101 \\\n"
          "            --key 8F1C2A9B3E4D5F60718293A4B5C6D7E8 --kind water \\\n"
          "            --set water_mm=180 --set battery_mv=3600 --count 5 --interval 1s\n"
          "    The same node replaying each frame (the gateway must drop the copies):\n"
          "        ... --count 3 --mutate replay\n"
          "    A new node joining (pair EUI and root key at the gateway first), then sending\n"
          "    three readings; its join nonce survives in node.state:\n"
          "        " PROG " --join --network-id 0x4C57 --eui 70B3D57ED0000201 \\\n"
          "            --root-key 101112131415161718191A1B1C1D1E1F --kind water \\\n"
          "            --set water_mm=40 --count 3 --acceleration 0 --join-attempts 4 \\\n"
          "            --state node.state -v\n"
          "\n"
          "EXIT STATUS\n"
          "    0  the run completed (or was stopped by SIGINT/SIGTERM); --check: scenario valid\n"
          "    1  runtime failure (socket, sends failed, a node could not send, a joining\n"
          "       node gave up, the state file could not be read or written);\n"
          "       --check: scenario invalid\n"
          "    2  usage error or invalid scenario\n",
          f);
}

static void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void errorf(const char *fmt, ...)
{
    va_list ap;

    fputs(PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Ad-hoc options are collected first and applied once the node exists. */
struct adhoc_opt {
    const char *option; /* "--address" */
    const char *key;    /* scenario key */
    const char *value;
    bool scenario_key; /* belongs to [scenario] rather than the node */
};

struct opts {
    const char *scenario;
    const char *gateway;
    const char *json;
    const char *state;
    uint32_t reply_wait_ms;
    bool emit, check, verbose, quiet, alarm, join;
    bool have_accel;
    double acceleration;
    uint32_t count;
    enum sim_mutation mutation;
    const char *address;
    struct adhoc_opt adhoc[64];
    size_t n_adhoc;
    bool any_adhoc;
};

static int add_adhoc(struct opts *o, const char *option, const char *key, const char *value,
                     bool scenario_key)
{
    if (o->n_adhoc == sizeof(o->adhoc) / sizeof(o->adhoc[0])) {
        errorf("too many ad-hoc options");
        return -1;
    }
    o->adhoc[o->n_adhoc++] = (struct adhoc_opt){option, key, value, scenario_key};
    o->any_adhoc = true;
    return 0;
}

static int apply_one(struct sim_scenario *sc, struct sim_node *node, const struct adhoc_opt *a)
{
    char err[512];

    if (sim_scenario_apply(sc, a->scenario_key ? NULL : node, a->key, a->value, 0, false, err,
                           sizeof(err)) != LW_OK) {
        errorf("%s: %s", a->option, err);
        return 1;
    }
    return 0;
}

/* Build the one-node scenario of ad-hoc mode. Returns the number of errors reported. */
static int build_adhoc(struct opts *o, struct sim_scenario *sc)
{
    static const char *const required[][2] = {{"--network-id", "network_id"},
                                              {"--address", "address"},
                                              {"--eui", "eui"},
                                              {"--key", "key"},
                                              {"--kind", "kind"},
                                              {"--root-key", "root_key"}};
    int errors = 0;
    uint32_t addr = 0;
    char name[32], label[64];
    uint8_t eui[8] = {0};

    for (size_t r = 0; r < sizeof(required) / sizeof(required[0]); r++) {
        bool found = false;
        const char *key = required[r][1];
        /* A joining node gets its address and keys from the join; it needs its root key. */
        if (o->join ? strcmp(key, "address") == 0 || strcmp(key, "key") == 0
                    : strcmp(key, "root_key") == 0)
            continue;
        for (size_t i = 0; i < o->n_adhoc; i++)
            found |= strcmp(o->adhoc[i].key, key) == 0;
        if (!found) {
            errorf("%s is required without --scenario%s", required[r][0],
                   o->join ? " when the node joins (--join)" : "");
            errors++;
        }
    }
    if (o->address && lw_parse_u32(o->address, 1, 0xFFFE, &addr) != LW_OK)
        addr = 0; /* reported by apply_one below */
    if (o->join) {
        for (size_t i = 0; i < o->n_adhoc; i++) {
            if (strcmp(o->adhoc[i].key, "eui") == 0 &&
                lw_parse_hex(o->adhoc[i].value, eui, sizeof(eui)) != LW_OK)
                memset(eui, 0, sizeof(eui)); /* reported by apply_one below */
        }
        char hex[17];
        lw_format_hex(eui, sizeof(eui), hex);
        snprintf(name, sizeof(name), "sim-%s", hex);
    } else {
        snprintf(name, sizeof(name), "sim-%04x", (unsigned)addr);
    }
    struct sim_node *node = sim_scenario_add_node(sc, name, 0);
    if (!node) {
        errorf("out of memory");
        return errors + 1;
    }
    sc->tick_ms = 0;
    sc->duration_ms = 0;
    node->interval_ms = 1000; /* ad-hoc default: one frame a second */
    for (size_t i = 0; i < o->n_adhoc; i++)
        errors += apply_one(sc, node, &o->adhoc[i]);
    if (o->join) {
        struct adhoc_opt a = {"--join", "join", "yes", false};
        errors += apply_one(sc, node, &a);
    }
    if (node->key_line[SIM_NK_LABEL] == 0) {
        struct adhoc_opt a = {"--label", "label", label, false};
        if (o->join)
            snprintf(label, sizeof(label), "ad-hoc node %s", name + 4);
        else
            snprintf(label, sizeof(label), "ad-hoc node 0x%04X", (unsigned)addr);
        errors += apply_one(sc, node, &a);
    }
    if (o->alarm) {
        struct adhoc_opt a = {"--alarm", "alarm_frames", "always", false};
        errors += apply_one(sc, node, &a);
    }
    if (errors == 0)
        errors += sim_scenario_finish(sc, NULL, sim_diag_stderr, NULL);
    return errors;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int c, rc;
    uint32_t u;

    memset(o, 0, sizeof(*o));
    o->count = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:vqh", long_options, NULL)) != -1) {
        rc = 0;
        const char *opt = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case 's':
            o->scenario = optarg;
            break;
        case OPT_GATEWAY:
            o->gateway = optarg;
            break;
        case OPT_EMIT:
            o->emit = true;
            break;
        case OPT_CHECK:
            o->check = true;
            break;
        case OPT_ACCEL:
            rc = lw_parse_double(optarg, 0, 1e6, &o->acceleration);
            if (rc != LW_OK) {
                errorf("--acceleration: '%s' is not a number in 0..1000000 (virtual seconds per "
                       "real second, 0 = as fast as possible)",
                       optarg);
                return -1;
            }
            o->have_accel = true;
            break;
        case OPT_JSON:
            o->json = optarg;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'q':
            o->quiet = true;
            break;
        case OPT_VERSION:
            printf("%s %s\n", PROG, LW_VERSION);
            exit(EXIT_OK);
        case 'h':
            usage(stdout);
            exit(EXIT_OK);
        case OPT_NETID:
            rc = add_adhoc(o, "--network-id", "network_id", optarg, true);
            break;
        case OPT_ADDRESS:
            o->address = optarg;
            rc = add_adhoc(o, "--address", "address", optarg, false);
            break;
        case OPT_EUI:
            rc = add_adhoc(o, "--eui", "eui", optarg, false);
            break;
        case OPT_KEY:
            rc = add_adhoc(o, "--key", "key", optarg, false);
            break;
        case OPT_KIND:
            rc = add_adhoc(o, "--kind", "kind", optarg, false);
            break;
        case OPT_LABEL:
            rc = add_adhoc(o, "--label", "label", optarg, false);
            break;
        case OPT_SET: {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                errorf("--set: '%s' is not METRIC=TRACE (e.g. water_mm=180 or "
                       "water_mm=0@0s 200@30s)",
                       optarg);
                return -1;
            }
            *eq = '\0';
            if (sim_metric_from_name(optarg) == SIM_M_COUNT) {
                errorf("--set: '%s' is not a metric (water_mm, smoke, obscuration, gas_lel, "
                       "co_ppm, temp_c, battery_mv, flags)",
                       optarg);
                return -1;
            }
            rc = add_adhoc(o, "--set", optarg, eq + 1, false);
            break;
        }
        case OPT_COUNT:
            if (lw_parse_u32(optarg, 1, 1000000, &u) != LW_OK) {
                errorf("--count: '%s' is not a whole number in 1..1000000", optarg);
                return -1;
            }
            o->count = u;
            o->any_adhoc = true;
            break;
        case OPT_INTERVAL:
            rc = add_adhoc(o, "--interval", "interval", optarg, false);
            break;
        case OPT_FCNT:
            rc = add_adhoc(o, "--fcnt-start", "fcnt_start", optarg, false);
            break;
        case OPT_RSSI:
            rc = add_adhoc(o, "--rssi", "rssi", optarg, false);
            break;
        case OPT_SNR:
            rc = add_adhoc(o, "--snr", "snr", optarg, false);
            break;
        case OPT_HOP:
            rc = add_adhoc(o, "--hop-limit", "hop_limit", optarg, false);
            break;
        case OPT_TIME:
            rc = add_adhoc(o, "--time", "start", optarg, true);
            break;
        case OPT_SEED:
            rc = add_adhoc(o, "--seed", "seed", optarg, true);
            break;
        case OPT_ALARM:
            o->alarm = true;
            o->any_adhoc = true;
            break;
        case OPT_JOIN:
            o->join = true;
            o->any_adhoc = true;
            break;
        case OPT_ALARM_ACK:
            rc = add_adhoc(o, "--alarm-ack", "alarm_ack", "yes", false);
            break;
        case OPT_TROUBLE:
            rc = add_adhoc(o, "--trouble", "trouble_frames", "yes", false);
            break;
        case OPT_ROOT_KEY:
            rc = add_adhoc(o, "--root-key", "root_key", optarg, false);
            break;
        case OPT_JOIN_ATTEMPTS:
            rc = add_adhoc(o, "--join-attempts", "join_attempts", optarg, false);
            break;
        case OPT_STATE:
            if (!*optarg) {
                errorf("--state needs a file name");
                return -1;
            }
            o->state = optarg;
            break;
        case OPT_REPLY_WAIT: {
            uint64_t ms;
            if (lw_parse_duration_ms(optarg, 600000, &ms) != LW_OK || ms == 0) {
                errorf("--reply-wait: '%s' is not a duration in 1ms..10m (e.g. 500ms, 2s)", optarg);
                return -1;
            }
            o->reply_wait_ms = (uint32_t)ms;
            break;
        }
        case OPT_MUTATE:
            if (sim_mutation_parse(optarg, &o->mutation) != LW_OK) {
                errorf("--mutate: '%s' is not one of replay, mic, truncate, oversize, netid, "
                       "key, version, garbage, none",
                       optarg);
                return -1;
            }
            o->any_adhoc = true;
            break;
        case ':':
            errorf("%s needs a value (see --help)", opt);
            return -1;
        case '?':
        default:
            if (optopt)
                errorf("unknown option -%c (see --help)", optopt);
            else
                errorf("unknown option %s (see --help)", opt);
            return -1;
        }
        if (rc < 0)
            return -1;
    }
    if (optind < argc) {
        errorf("unexpected argument '%s' (see --help)", argv[optind]);
        return -1;
    }
    if (o->verbose && o->quiet) {
        errorf("-v and -q cannot be combined");
        return -1;
    }
    if (o->check && o->emit) {
        errorf("--check and --emit-node-config cannot be combined");
        return -1;
    }
    if (o->scenario && o->any_adhoc) {
        errorf("ad-hoc node options (--address, --set, --count, --mutate, ...) cannot be "
               "combined with --scenario");
        return -1;
    }
    if (!o->scenario && !o->any_adhoc) {
        errorf("nothing to simulate: give -s FILE or an ad-hoc node (see --help)");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sim_scenario sc;
    struct sim_stats st;
    char err[512];
    int errors, status = EXIT_OK;

    if (parse_args(argc, argv, &o) < 0)
        return EXIT_USAGE;

    sim_scenario_init(&sc);
    if (o.scenario) {
        errors = sim_scenario_load(&sc, o.scenario, sim_diag_stderr, NULL);
    } else {
        errors = build_adhoc(&o, &sc);
    }
    if (o.gateway && lw_parse_hostport(o.gateway, sc.gateway_host, sizeof(sc.gateway_host),
                                       &sc.gateway_port) != LW_OK) {
        errorf("--gateway: '%s' is not HOST:PORT (e.g. 127.0.0.1:17000 or [::1]:17000)", o.gateway);
        errors++;
    }
    if (errors) {
        errorf("%d error%s in %s", errors, errors == 1 ? "" : "s",
               o.scenario ? o.scenario : "the ad-hoc node options");
        sim_scenario_free(&sc);
        return o.check ? EXIT_RUNTIME : EXIT_USAGE;
    }
    if (o.check) {
        if (!o.quiet)
            printf("%s: %s: ok: %zu node%s\n", PROG, o.scenario ? o.scenario : "ad-hoc node",
                   sc.n_nodes, sc.n_nodes == 1 ? "" : "s");
        sim_scenario_free(&sc);
        return EXIT_OK;
    }
    if (o.emit) {
        if (sim_scenario_emit_node_config(&sc, stdout) != LW_OK || fflush(stdout) != 0) {
            errorf("writing the node config failed");
            status = EXIT_RUNTIME;
        }
        sim_scenario_free(&sc);
        return status;
    }

    struct sim_state state;
    bool joiners = false;
    for (size_t i = 0; i < sc.n_nodes; i++)
        joiners |= sc.nodes[i]->join;
    if (sim_state_init(&state, o.state) != LW_OK) {
        errorf("out of memory");
        sim_scenario_free(&sc);
        return EXIT_RUNTIME;
    }
    if (sim_state_load(&state, err, sizeof(err)) != LW_OK) {
        errorf("--state: %s", err);
        sim_state_free(&state);
        sim_scenario_free(&sc);
        return EXIT_RUNTIME;
    }
    if (joiners && !o.state && !o.quiet)
        errorf("warning: without --state FILE the join nonces of this run are forgotten; a "
               "later run reuses them and the gateway refuses its requests as replays");

    struct sim_run_opts ro = {
        .sc = &sc,
        .acceleration = o.have_accel ? o.acceleration : sc.acceleration,
        .count = o.scenario ? 0 : o.count,
        .final_tick = o.scenario != NULL,
        .mutation = o.mutation,
        .verbose = o.verbose ? stdout : NULL,
        .state = &state,
        .reply_wait_ms = o.reply_wait_ms,
    };
    int rc = sim_run(&ro, &st, err, sizeof(err));
    if (!st.started) {
        errorf("%s", err);
        sim_stats_free(&st);
        sim_state_free(&state);
        sim_scenario_free(&sc);
        return EXIT_RUNTIME;
    }
    if (!o.quiet)
        sim_report_print(&st, stdout);
    if (rc != LW_OK) {
        errorf("%s", err);
        status = EXIT_RUNTIME;
    }
    if (st.send_errors) {
        if (o.quiet)
            errorf("%llu datagrams could not be sent", (unsigned long long)st.send_errors);
        status = EXIT_RUNTIME;
    }
    if (o.json) {
        char jerr[512];
        if (sim_report_write_json(&st, o.json, jerr, sizeof(jerr)) != LW_OK) {
            errorf("--summary-json: %s", jerr);
            status = EXIT_RUNTIME;
        }
    }
    sim_stats_free(&st);
    sim_state_free(&state);
    sim_scenario_free(&sc);
    return status;
}
