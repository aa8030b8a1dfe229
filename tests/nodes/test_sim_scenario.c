/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of sim_scenario: a valid file, every bad line reported with its line number,
 * duplicate identities, --emit-node-config output, sampling, and the bundled demo scenario. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "sim_gwconf.h"
#include "sim_mutate.h"
#include "sim_prng.h"
#include "sim_scenario.h"
#include "sim_sensor.h"

#define MAX_DIAGS 64

struct diag {
    char file[64];
    int line;
    char key[64];
    char msg[512];
};

struct diags {
    struct diag d[MAX_DIAGS];
    int n;
};

static void capture(void *user, const char *file, int line, const char *key, const char *msg)
{
    struct diags *ds = user;
    if (ds->n >= MAX_DIAGS)
        return;
    struct diag *d = &ds->d[ds->n++];
    snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
    d->line = line;
    snprintf(d->key, sizeof(d->key), "%s", key ? key : "");
    snprintf(d->msg, sizeof(d->msg), "%s", msg);
}

static void dump(const struct diags *ds)
{
    for (int i = 0; i < ds->n; i++)
        print_message("  %s:%d: %s: %s\n", ds->d[i].file, ds->d[i].line, ds->d[i].key,
                      ds->d[i].msg);
}

static int parse(struct sim_scenario *sc, const char *text, struct diags *ds)
{
    memset(ds, 0, sizeof(*ds));
    sim_scenario_init(sc);
    return sim_scenario_parse(sc, text, strlen(text), "t.ini", capture, ds);
}

static const char valid[] = "; a small valid scenario\n"
                            "[scenario]\n"
                            "name = unit-test\n"
                            "description = two nodes,\n"
                            "   one wet one smoky\n"
                            "start = 2026-07-15T02:00:00+08:00\n"
                            "duration = 90m\n"
                            "acceleration = 120\n"
                            "network_id = 0x4C57\n"
                            "gateway = 127.0.0.1:17001\n"
                            "tick = 10s\n"
                            "seed = 7\n"
                            "\n"
                            "[node:garage-b1]\n"
                            "address = 0x0101\n"
                            "eui = 70B3D57ED0000101\n"
                            "key = 8F1C2A9B3E4D5F60718293A4B5C6D7E8\n"
                            "kind = water\n"
                            "label = B1 garage ramp water sensor\n"
                            "building = 7\n"
                            "floor = B1\n"
                            "unit = garage\n"
                            "grid = 3\n"
                            "place = 7号楼地下车库坡道 / Block 7 basement garage ramp\n"
                            "tags = low-lying, basement\n"
                            "interval = 60s\n"
                            "jitter = 5s\n"
                            "rssi = -97.5\n"
                            "snr = 6.0\n"
                            "water_mm = 0@0m 0@15m 60@25m\n"
                            "    220@40m 300@55m 150@75m 0@88m\n"
                            "temp_c = 24.5\n"
                            "battery_mv = 3600\n"
                            "\n"
                            "[node:stair-2-3f]\n"
                            "address = 0x0201\n"
                            "eui = 70:B3:D5:7E:D0:00:02:01\n"
                            "key = 0123456789abcdef0123456789abcdef ; inline comment\n"
                            "kind = smoke\n"
                            "label = Block 2 stairwell 3F smoke detector\n"
                            "smoke = 0@0m 1@50m\n"
                            "obscuration = 0@0m 0.5@45m 8@50m\n"
                            "offset = 20s\n";

static void test_valid(void **state)
{
    struct sim_scenario sc;
    struct diags ds;
    (void)state;

    int errors = parse(&sc, valid, &ds);
    if (errors)
        dump(&ds);
    assert_int_equal(errors, 0);
    assert_string_equal(sc.name, "unit-test");
    assert_string_equal(sc.description, "two nodes, one wet one smoky");
    assert_int_equal(sc.start_ms, INT64_C(1784052000000));
    assert_int_equal(sc.duration_ms, 90 * 60000);
    assert_true(sc.acceleration == 120.0);
    assert_int_equal(sc.network_id, 0x4C57);
    assert_string_equal(sc.gateway_host, "127.0.0.1");
    assert_int_equal(sc.gateway_port, 17001);
    assert_int_equal(sc.tick_ms, 10000);
    assert_int_equal(sc.seed, 7);
    assert_int_equal(sc.frequency_hz, 470300000); /* defaults */
    assert_int_equal(sc.sf, 9);
    assert_int_equal(sc.n_nodes, 2);

    const struct sim_node *g = sc.nodes[0];
    assert_string_equal(g->name, "garage-b1");
    assert_int_equal(g->line, 14);
    assert_int_equal(g->cfg.address, 0x0101);
    assert_int_equal(g->cfg.net_id, 0x4C57);
    assert_int_equal(g->cfg.eui[7], 0x01);
    assert_int_equal(g->cfg.key[0], 0x8F);
    assert_int_equal(g->kind, SIM_KIND_WATER);
    assert_string_equal(g->text[SIM_NK_PLACE], "7号楼地下车库坡道 / Block 7 basement garage ramp");
    assert_string_equal(g->text[SIM_NK_TAGS], "low-lying,basement");
    assert_int_equal(g->grid, 3);
    assert_int_equal(g->jitter_ms, 5000);
    assert_int_equal(g->traces[SIM_M_WATER].n, 7); /* continuation line appended */
    assert_true(g->traces[SIM_M_TEMP].constant);
    assert_int_equal(g->cfg.hop_limit, 3);
    assert_int_equal(g->cfg.fcnt_start, 1);

    const struct sim_node *s = sc.nodes[1];
    assert_int_equal(s->cfg.eui[0], 0x70);
    assert_int_equal(s->cfg.key[15], 0xEF);
    assert_int_equal(s->offset_ms, 20000);
    assert_int_equal(s->interval_ms, 60000);
    sim_scenario_free(&sc);
}

static void test_sampling(void **state)
{
    struct sim_scenario sc;
    struct diags ds;
    struct lw_reading r;
    bool alarm;
    (void)state;

    assert_int_equal(parse(&sc, valid, &ds), 0);
    const struct sim_node *g = sc.nodes[0], *s = sc.nodes[1];

    sim_node_sample(g, 30 * 60000, &r, &alarm);
    assert_int_equal(r.present, LW_R_WATER | LW_R_TEMP | LW_R_BATTERY);
    assert_int_equal(r.water_mm, 113); /* 60 + 160 * 5/15, rounded */
    assert_int_equal(r.temp_c_x10, 245);
    assert_int_equal(r.battery_mv, 3600);
    assert_false(alarm); /* water never makes ALARM frames by itself */

    sim_node_sample(s, 49 * 60000, &r, &alarm);
    assert_int_equal(r.present, LW_R_SMOKE);
    assert_int_equal(r.smoke_alarm, 0);
    assert_false(alarm);
    sim_node_sample(s, 50 * 60000, &r, &alarm);
    assert_int_equal(r.smoke_alarm, 1);
    assert_int_equal(r.smoke_obscuration, 800);
    assert_true(alarm);
    sim_scenario_free(&sc);
}

/* Every bad line must be reported with its own line number, and parsing must go on. */
static const char broken[] = "[scenario]\n"                             /* 1 */
                             "name = broken\n"                          /* 2 */
                             "start = 2026-07-15 02:00\n"               /* 3 bad time */
                             "duration = 90 minutes\n"                  /* 4 bad duration */
                             "network_id = 0x14C57\n"                   /* 5 out of range */
                             "colour = blue\n"                          /* 6 unknown key */
                             "this line has no equals sign\n"           /* 7 syntax */
                             "[node:a]\n"                               /* 8 */
                             "address = 0x0000\n"                       /* 9 out of range */
                             "eui = 70B3D57ED00001\n"                   /* 10 too short */
                             "key = 00000000000000000000000000000000\n" /* 11 all zero */
                             "kind = fire\n"                            /* 12 bad kind */
                             "label = ok\n"                             /* 13 */
                             "water_mm = 0@0m 5@10m 3@5m\n"             /* 14 not ascending */
                             "smoke = 2\n"                              /* 15 out of range */
                             "alarm_frames = sometimes\n"               /* 16 */
                             "label = again\n"                          /* 17 duplicate key */
                             "duration = 5m\n"          /* 18 scenario key in node */
                             "[weird]\n"                /* 19 unknown section */
                             "x = 1\n"                  /* 20 (quiet: section reported) */
                             "[node:bad name]\n"        /* 21 bad node name */
                             "[node:b]\n"               /* 22 */
                             "address = 0x0102\n"       /* 23 */
                             "eui = 70B3D57ED0000102\n" /* 24 */
                             "key = 11111111111111111111111111111111\n" /* 25 */
                             "kind = water\n" /* 26 missing water_mm, label */
                             "gas_lel = 2\n"  /* 27 water node has no gas */
                             "jitter = 2m\n"; /* 28 >= interval */

static void test_broken_reports_every_line(void **state)
{
    static const struct {
        int line;
        const char *key;
        const char *needle;
    } expect[] = {
        {3, "start", "not a date-time"},
        {4, "duration", "not a duration"},
        {5, "network_id", "out of range"},
        {6, "colour", "unknown key in [scenario]"},
        {7, "", "expected 'name = value'"},
        {9, "address", "out of range 0x0001..0xFFFE"},
        {10, "eui", "16 hex digits"},
        {11, "key", "all-zero"},
        {12, "kind", "'fire' is not a kind"},
        {14, "water_mm", "ascend"},
        {15, "smoke", "out of range 0..1"},
        {16, "alarm_frames", "auto, never or always"},
        {17, "label", "given twice (first at line 13)"},
        {18, "duration", "belongs in [scenario]"},
        {19, "", "[weird]: unknown section"},
        {21, "", "bad node name"},
        {22, "water_mm", "a water node needs it"},
        {22, "label", "missing in [node:b]"},
        {27, "gas_lel", "does not measure"},
        {28, "jitter", "shorter than the interval"},
    };
    struct sim_scenario sc;
    struct diags ds;
    (void)state;

    int errors = parse(&sc, broken, &ds);
    dump(&ds);
    assert_int_equal(errors, ds.n);
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        bool found = false;
        for (int j = 0; j < ds.n && !found; j++)
            found = ds.d[j].line == expect[i].line && strcmp(ds.d[j].key, expect[i].key) == 0 &&
                    strstr(ds.d[j].msg, expect[i].needle) && strcmp(ds.d[j].file, "t.ini") == 0;
        if (!found)
            fail_msg("no diagnostic at line %d for '%s' containing '%s'", expect[i].line,
                     expect[i].key, expect[i].needle);
    }
    assert_int_equal(ds.n, (int)(sizeof(expect) / sizeof(expect[0])));
    sim_scenario_free(&sc);
}

static void test_missing_sections(void **state)
{
    struct sim_scenario sc;
    struct diags ds;
    (void)state;

    assert_int_equal(parse(&sc, "", &ds), 2); /* no [scenario], no nodes */
    sim_scenario_free(&sc);
    assert_true(parse(&sc, "[scenario]\nname = x\n", &ds) >= 4);
    bool start = false, duration = false, netid = false;
    for (int i = 0; i < ds.n; i++) {
        start |= strcmp(ds.d[i].key, "start") == 0 && ds.d[i].line == 1;
        duration |= strcmp(ds.d[i].key, "duration") == 0;
        netid |= strcmp(ds.d[i].key, "network_id") == 0;
    }
    assert_true(start && duration && netid);
    sim_scenario_free(&sc);
}

static const char dups[] = "[scenario]\n"
                           "name = d\nstart = @1784052000\nduration = 10m\nnetwork_id = 1\n"
                           "[node:a]\n"                                     /* 6 */
                           "address = 0x0101\neui = 0000000000000001\n"     /* 7, 8 */
                           "key = 0102030405060708090A0B0C0D0E0F10\n"       /* 9 */
                           "kind = co\nlabel = a\nco_ppm = 5\n"             /* 10-12 */
                           "[node:b]\n"                                     /* 13 */
                           "address = 257\neui = 00-00-00-00-00-00-00-01\n" /* 14, 15 */
                           "key = 0102030405060708090a0b0c0d0e0f10\n"       /* 16 */
                           "kind = co\nlabel = b\nco_ppm = 5\n"             /* 17-19 */
                           "[node:a]\n"                                     /* 20 */
                           "[node:c]\n"                                     /* 21 */
                           "address = 0x0103\neui = 0000000000000003\n"
                           "key = 0102030405060708090a0b0c0d0e0f11\n"
                           "kind = multi\nlabel = c\n" /* 25-26 */
                           "obscuration = 1\n";        /* 27 */

static void test_duplicates(void **state)
{
    struct sim_scenario sc;
    struct diags ds;
    (void)state;

    int errors = parse(&sc, dups, &ds);
    dump(&ds);
    assert_int_equal(errors, 5);
    int addr = -1, eui = -1, key = -1, sect = -1, obsc = -1;
    for (int i = 0; i < ds.n; i++) {
        if (strcmp(ds.d[i].key, "address") == 0)
            addr = i;
        if (strcmp(ds.d[i].key, "eui") == 0)
            eui = i;
        if (strcmp(ds.d[i].key, "key") == 0)
            key = i;
        if (strstr(ds.d[i].msg, "duplicate node name (first at line 6)"))
            sect = i;
        if (strcmp(ds.d[i].key, "obscuration") == 0)
            obsc = i;
    }
    assert_true(addr >= 0 && eui >= 0 && key >= 0 && sect >= 0 && obsc >= 0);
    assert_int_equal(ds.d[sect].line, 20);
    for (int i = 1; i < ds.n; i++) /* reported in line order */
        assert_true(ds.d[i - 1].line <= ds.d[i].line);
    assert_int_equal(ds.d[addr].line, 14);
    assert_non_null(strstr(ds.d[addr].msg, "0x0101 is already used by node a (line 7)"));
    assert_int_equal(ds.d[eui].line, 15);
    assert_non_null(strstr(ds.d[eui].msg, "node a (line 8)"));
    assert_int_equal(ds.d[key].line, 16);
    assert_non_null(strstr(ds.d[key].msg, "same key as node a (line 9)"));
    assert_int_equal(ds.d[obsc].line, 27);
    sim_scenario_free(&sc);
}

static void test_syntax_and_long_lines(void **state)
{
    char text[1024];
    struct sim_scenario sc;
    struct diags ds;
    (void)state;

    snprintf(text, sizeof(text),
             "[scenario\n"       /* 1: no ']' */
             "name = s\n"        /* 2: (inih still in no section) */
             "= value\n"         /* 3 */
             "place = %0200d\n", /* 4: too long */
             0);
    parse(&sc, text, &ds);
    dump(&ds);
    bool l1 = false, l3 = false, l4 = false;
    for (int i = 0; i < ds.n; i++) {
        l1 |= ds.d[i].line == 1 && strstr(ds.d[i].msg, "']'");
        l3 |= ds.d[i].line == 3 && strstr(ds.d[i].msg, "missing name");
        l4 |= ds.d[i].line == 4 && strstr(ds.d[i].msg, "too long");
    }
    assert_true(l1 && l3 && l4);
    sim_scenario_free(&sc);
}

static void test_emit_node_config(void **state)
{
    static const char expected[] =
        "; nodes of scenario unit-test, generated by lorawatch-sim --emit-node-config\n"
        "\n"
        "[node:garage-b1]\n"
        "address = 0x0101\n"
        "eui = 70B3D57ED0000101\n"
        "key = 8F1C2A9B3E4D5F60718293A4B5C6D7E8\n"
        "kind = water\n"
        "label = B1 garage ramp water sensor\n"
        "building = 7\n"
        "floor = B1\n"
        "unit = garage\n"
        "grid = 3\n"
        "place = 7号楼地下车库坡道 / Block 7 basement garage ramp\n"
        "tags = low-lying,basement\n"
        "\n"
        "[node:stair-2-3f]\n"
        "address = 0x0201\n"
        "eui = 70B3D57ED0000201\n"
        "key = 0123456789ABCDEF0123456789ABCDEF\n"
        "kind = smoke\n"
        "label = Block 2 stairwell 3F smoke detector\n";
    struct sim_scenario sc;
    struct diags ds;
    char *buf = NULL;
    size_t len = 0;
    (void)state;

    assert_int_equal(parse(&sc, valid, &ds), 0);
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(sim_scenario_emit_node_config(&sc, f), LW_OK);
    fclose(f);
    assert_string_equal(buf, expected);

    /* The output is itself valid INI that a gateway parser reads back: no simulation keys. */
    assert_null(strstr(buf, "water_mm"));
    assert_null(strstr(buf, "interval"));
    assert_null(strstr(buf, "rssi"));
    free(buf);
    sim_scenario_free(&sc);
}

static void test_apply_for_command_line(void **state)
{
    struct sim_scenario sc;
    char err[256];
    (void)state;

    sim_scenario_init(&sc);
    struct sim_node *n = sim_scenario_add_node(&sc, "sim-0101", 0);
    assert_non_null(n);
    assert_int_equal(sim_scenario_apply(&sc, n, "address", "0x0101", 0, false, err, sizeof(err)),
                     LW_OK);
    assert_int_equal(sim_scenario_apply(&sc, n, "address", "0x0102", 0, false, err, sizeof(err)),
                     LW_ERR_DUP);
    assert_string_equal(err, "given twice");
    assert_int_equal(sim_scenario_apply(&sc, n, "interval", "0.01s", 0, false, err, sizeof(err)),
                     LW_ERR_RANGE);
    assert_non_null(strstr(err, "out of range 100ms..24h"));
    assert_int_equal(
        sim_scenario_apply(&sc, NULL, "acceleration", "fast", 0, false, err, sizeof(err)),
        LW_ERR_INVAL);
    assert_int_equal(
        sim_scenario_apply(&sc, NULL, "bandwidth_hz", "100000", 0, false, err, sizeof(err)),
        LW_ERR_RANGE);
    assert_int_equal(sim_metric_from_name("co_ppm"), SIM_M_CO);
    assert_int_equal(sim_metric_from_name("rssi"), SIM_M_COUNT);
    sim_scenario_free(&sc);
}

static void test_mutations(void **state)
{
    uint8_t frame[40], out[LW_FRAME_MAX_LEN];
    struct sim_prng p;
    enum sim_mutation m;
    (void)state;

    for (size_t i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)(0x11 + i);
    sim_prng_seed(&p, 1);
    assert_int_equal(sim_mutation_parse("oversize", &m), LW_OK);
    assert_int_equal(m, SIM_MUT_OVERSIZE);
    assert_int_equal(sim_mutation_parse("bogus", &m), LW_ERR_INVAL);
    assert_int_equal(sim_mutate_frame(SIM_MUT_TRUNCATE, frame, sizeof(frame), out, &p), 10);
    assert_int_equal(sim_mutate_frame(SIM_MUT_MIC, frame, sizeof(frame), out, &p), 40);
    assert_int_equal(out[39], frame[39] ^ 1);
    assert_memory_equal(out, frame, 39);
    sim_mutate_frame(SIM_MUT_VERSION, frame, sizeof(frame), out, &p);
    assert_int_equal(out[0] >> 4, 2);
    assert_int_equal(out[0] & 0x0F, frame[0] & 0x0F);
    assert_int_equal(sim_mutation_copies(SIM_MUT_REPLAY), 2);

    uint8_t dg[400];
    int n = sim_mutate_oversize(9, 470300000, 125000, -900, 70, 1, frame, sizeof(frame), dg,
                                sizeof(dg));
    assert_int_equal(n, 330);
    assert_int_equal(dg[28] | dg[29] << 8, 300);

    struct lw_node_config cfg;
    lw_node_config_defaults(&cfg);
    cfg.net_id = 0x4C57;
    memset(cfg.key, 0xA5, sizeof(cfg.key));
    sim_mutate_config(SIM_MUT_NETID, &cfg);
    assert_int_equal(cfg.net_id, 0x4C56);
    sim_mutate_config(SIM_MUT_KEY, &cfg);
    assert_int_equal(cfg.key[0], 0x01); /* never all-zero */
}

/* The bundled demo must validate and keep its story: smoke alarms at ~50 and ~52 minutes. */
static void test_bundled_demo(void **state)
{
    const char *src = getenv("LW_SOURCE_DIR");
    char path[1024];
    struct sim_scenario sc;
    struct diags ds;
    (void)state;

    if (!src)
        skip();
    snprintf(path, sizeof(path), "%s/config/scenarios/storm-and-fire.ini", src);
    memset(&ds, 0, sizeof(ds));
    sim_scenario_init(&sc);
    int errors = sim_scenario_load(&sc, path, capture, &ds);
    dump(&ds);
    assert_int_equal(errors, 0);
    assert_string_equal(sc.name, "storm-and-fire");
    assert_true(sc.acceleration == 120.0);
    assert_int_equal(sc.n_nodes, 6);

    int smoke_nodes = 0;
    for (size_t i = 0; i < sc.n_nodes; i++) {
        const struct sim_node *n = sc.nodes[i];
        struct lw_reading r;
        bool alarm;
        if (n->kind != SIM_KIND_SMOKE)
            continue;
        uint64_t first = 0;
        for (uint64_t t = 0; t < sc.duration_ms && !first; t += 1000) {
            sim_node_sample(n, t, &r, &alarm);
            if (alarm)
                first = t;
        }
        assert_true(first >= 49 * 60000 && first <= 53 * 60000);
        smoke_nodes++;
    }
    assert_int_equal(smoke_nodes, 2);
    sim_scenario_free(&sc);
}

/* Mesh keys: links (symmetric, continuation lines), relays, fail_at, and their errors; the
 * bundled mesh scenarios of the system tests are valid. */
static void test_mesh_topology(void **state)
{
    struct sim_scenario sc;
    struct diags ds;
    char text[4096];
    (void)state;

    /* The valid scenario with mesh keys added to [scenario] and to garage-b1. */
    const char *seed = strstr(valid, "seed = 7\n"), *gb = strstr(valid, "battery_mv = 3600\n");
    assert_non_null(seed);
    assert_non_null(gb);
    int k = (int)(seed - valid) + 9, m = (int)(gb - valid) + 18;
    snprintf(text, sizeof(text),
             "%.*schannels = 3\ncapture = 4\nrelay_slot = 300ms\n%.*slinks = relay-a:2\n%s"
             "links = relay-a:4:30%%\n"
             "[node:relay-a]\naddress = 0x0301\neui = 70B3D57ED0000301\n"
             "key = 11223344556677889900AABBCCDDEEFF\nkind = water\nlabel = relay\n"
             "water_mm = 0\nrelay = yes\nrelay_rank = auto\nfail_at = 10m\n"
             "links = gateway:6\n   stair-2-3f:-3\n",
             k, valid, m - k, valid + k, valid + m);
    int errors = parse(&sc, text, &ds);
    dump(&ds);
    assert_int_equal(errors, 0);
    assert_true(sc.has_links);
    assert_int_equal(sc.channels, 3);
    assert_int_equal(sc.relay_slot_ms, 300);
    const struct sim_node *r = sc.nodes[2];
    assert_true(r->cfg.relay);
    assert_int_equal(r->cfg.relay_rank, LW_NODE_RELAY_RANK_LEARN);
    assert_int_equal(r->fail_ms, 600000);
    assert_int_equal(r->n_links, 2);
    assert_string_equal(r->links[1].to, "stair-2-3f");
    assert_true(r->links[1].snr_db == -3.0);
    assert_true(sc.nodes[1]->links[0].loss == 0.3);
    sim_scenario_free(&sc);

    static const char *const bad[] = {
        "links = nobody:4\n",                  /* no such node */
        "links = stair-2-3f:4\n",              /* itself */
        "links = gateway:40\n",                /* SNR out of range */
        "links = gateway:4:30\n",              /* loss without % */
        "links = gateway:4:130%%\n",           /* loss over 100 */
        "links = gateway\n",                   /* no SNR */
        "links = gateway:1, gateway:2\n",      /* twice */
        "relay_rank = 1\nlinks = gateway:3\n", /* rank without relay */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "%s%s", valid, bad[i]);
        if (parse(&sc, text, &ds) == 0)
            fail_msg("accepted: %s", bad[i]);
        sim_scenario_free(&sc);
    }
    /* One node with links makes it a mesh: the other needs a link too. */
    snprintf(text, sizeof(text), "%slinks = gateway:3\n", valid);
    assert_int_equal(parse(&sc, text, &ds), 1);
    assert_non_null(strstr(ds.d[0].msg, "garage-b1"));
    sim_scenario_free(&sc);
    /* A relay without a topology. */
    snprintf(text, sizeof(text), "%srelay = yes\n", valid);
    assert_int_equal(parse(&sc, text, &ds), 1);
    sim_scenario_free(&sc);

    const char *src = getenv("LW_SOURCE_DIR");
    static const char *const files[] = {"mesh-chain",      "mesh-diamond",     "mesh-loop",
                                        "mesh-relay-fail", "mesh-lossy-alarm", "mesh-event"};
    for (size_t i = 0; src && i < sizeof(files) / sizeof(files[0]); i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/config/scenarios/%s.ini", src, files[i]);
        memset(&ds, 0, sizeof(ds));
        sim_scenario_init(&sc);
        errors = sim_scenario_load(&sc, path, capture, &ds);
        dump(&ds);
        assert_int_equal(errors, 0);
        assert_true(sc.has_links);
        sim_scenario_free(&sc);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_sampling),
        cmocka_unit_test(test_broken_reports_every_line),
        cmocka_unit_test(test_missing_sections),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_syntax_and_long_lines),
        cmocka_unit_test(test_emit_node_config),
        cmocka_unit_test(test_apply_for_command_line),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_bundled_demo),
        cmocka_unit_test(test_mesh_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
