/* SPDX-License-Identifier: Apache-2.0 */
/* Scenario keys: each INI key to the simulation model, and the whole-scenario checks, with
 * every bad value reported as FILE:LINE. Reading the files is sim_scenario_file.c's job. */
#include "sim_scenario.h"
#include "lw_error.h"
#include "lw_parse.h"
#include "sim_scenario_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_DAY_MS (UINT64_C(24) * 3600 * 1000)

const char *const sim_node_key_names[SIM_NK_COUNT] = {
    [SIM_NK_ADDRESS] = "address",
    [SIM_NK_EUI] = "eui",
    [SIM_NK_KEY] = "key",
    [SIM_NK_KIND] = "kind",
    [SIM_NK_LABEL] = "label",
    [SIM_NK_BUILDING] = "building",
    [SIM_NK_FLOOR] = "floor",
    [SIM_NK_UNIT] = "unit",
    [SIM_NK_GRID] = "grid",
    [SIM_NK_PLACE] = "place",
    [SIM_NK_TAGS] = "tags",
    [SIM_NK_INTERVAL] = "interval",
    [SIM_NK_JITTER] = "jitter",
    [SIM_NK_OFFSET] = "offset",
    [SIM_NK_FCNT_START] = "fcnt_start",
    [SIM_NK_RSSI] = "rssi",
    [SIM_NK_SNR] = "snr",
    [SIM_NK_HOP_LIMIT] = "hop_limit",
    [SIM_NK_ALARM_FRAMES] = "alarm_frames",
    [SIM_NK_JOIN] = "join",
    [SIM_NK_ROOT_KEY] = "root_key",
    [SIM_NK_JOIN_ATTEMPTS] = "join_attempts",
    [SIM_NK_ALARM_ACK] = "alarm_ack",
    [SIM_NK_TROUBLE_FRAMES] = "trouble_frames",
    [SIM_NK_RELAY] = "relay",
    [SIM_NK_RELAY_RANK] = "relay_rank",
    [SIM_NK_LINKS] = "links",
    [SIM_NK_FAIL_AT] = "fail_at",
    [SIM_NK_METRIC + SIM_M_WATER] = "water_mm",
    [SIM_NK_METRIC + SIM_M_SMOKE] = "smoke",
    [SIM_NK_METRIC + SIM_M_OBSCURATION] = "obscuration",
    [SIM_NK_METRIC + SIM_M_GAS] = "gas_lel",
    [SIM_NK_METRIC + SIM_M_CO] = "co_ppm",
    [SIM_NK_METRIC + SIM_M_TEMP] = "temp_c",
    [SIM_NK_METRIC + SIM_M_BATTERY] = "battery_mv",
    [SIM_NK_METRIC + SIM_M_FLAGS] = "flags",
};

static const char *const scenario_key_names[SIM_SK_COUNT] = {
    [SIM_SK_NAME] = "name",
    [SIM_SK_DESCRIPTION] = "description",
    [SIM_SK_START] = "start",
    [SIM_SK_DURATION] = "duration",
    [SIM_SK_ACCELERATION] = "acceleration",
    [SIM_SK_NETWORK_ID] = "network_id",
    [SIM_SK_GATEWAY] = "gateway",
    [SIM_SK_FREQUENCY] = "frequency_hz",
    [SIM_SK_SF] = "spreading_factor",
    [SIM_SK_BW] = "bandwidth_hz",
    [SIM_SK_TICK] = "tick",
    [SIM_SK_SEED] = "seed",
    [SIM_SK_CHANNELS] = "channels",
    [SIM_SK_CAPTURE] = "capture",
    [SIM_SK_RELAY_SLOT] = "relay_slot",
};

static const char *const kind_names[] = {
    [SIM_KIND_WATER] = "water", [SIM_KIND_SMOKE] = "smoke", [SIM_KIND_GAS] = "gas",
    [SIM_KIND_CO] = "co",       [SIM_KIND_MULTI] = "multi",
};

#define KIND_BIT(k) (1u << (k))
#define KINDS_ALL   0x1Fu

/* Metric keys: value limits (the TLV ranges of lw_reading.h in the key's own unit), evaluation
 * mode, and the kinds of node that measure them. */
static const struct metric_info {
    struct sim_trace_limits lim;
    unsigned kinds;
} metrics[SIM_M_COUNT] = {
    [SIM_M_WATER] = {{0, 65535, false, SIM_TRACE_LINEAR},
                     KIND_BIT(SIM_KIND_WATER) | KIND_BIT(SIM_KIND_MULTI)},
    [SIM_M_SMOKE] = {{0, 1, true, SIM_TRACE_STEP},
                     KIND_BIT(SIM_KIND_SMOKE) | KIND_BIT(SIM_KIND_MULTI)},
    [SIM_M_OBSCURATION] = {{0, 655.35, false, SIM_TRACE_LINEAR},
                           KIND_BIT(SIM_KIND_SMOKE) | KIND_BIT(SIM_KIND_MULTI)},
    [SIM_M_GAS] = {{0, 100, false, SIM_TRACE_LINEAR},
                   KIND_BIT(SIM_KIND_GAS) | KIND_BIT(SIM_KIND_MULTI)},
    [SIM_M_CO] = {{0, 65535, false, SIM_TRACE_LINEAR},
                  KIND_BIT(SIM_KIND_CO) | KIND_BIT(SIM_KIND_MULTI)},
    [SIM_M_TEMP] = {{-3276.8, 3276.7, false, SIM_TRACE_LINEAR}, KINDS_ALL},
    [SIM_M_BATTERY] = {{0, 65535, false, SIM_TRACE_LINEAR}, KINDS_ALL},
    [SIM_M_FLAGS] = {{0, LW_FLAG_MASK, true, SIM_TRACE_STEP}, KINDS_ALL},
};

/* The metric a kind cannot do without (multi needs any one of the measured metrics). */
static const enum sim_metric kind_required[] = {
    [SIM_KIND_WATER] = SIM_M_WATER, [SIM_KIND_SMOKE] = SIM_M_SMOKE, [SIM_KIND_GAS] = SIM_M_GAS,
    [SIM_KIND_CO] = SIM_M_CO,       [SIM_KIND_MULTI] = SIM_M_COUNT,
};

static const uint32_t lora_bandwidths[] = {7800,  10400, 15600,  20800,  31250,
                                           41700, 62500, 125000, 250000, 500000};

const char *sim_kind_name(enum sim_kind k)
{
    return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

const char *sim_metric_name(enum sim_metric m)
{
    return (unsigned)m < SIM_M_COUNT ? sim_node_key_names[SIM_NK_METRIC + m] : "?";
}

enum sim_metric sim_metric_from_name(const char *name)
{
    for (int m = 0; m < SIM_M_COUNT; m++) {
        if (strcmp(name, sim_node_key_names[SIM_NK_METRIC + m]) == 0)
            return (enum sim_metric)m;
    }
    return SIM_M_COUNT;
}

void sim_diag_stderr(void *user, const char *file, int line, const char *key, const char *msg)
{
    (void)user;
    if (file && line > 0)
        fprintf(stderr, "%s:%d: ", file, line);
    else if (file)
        fprintf(stderr, "%s: ", file);
    else
        fputs("lorawatch-sim: ", stderr);
    if (key)
        fprintf(stderr, "%s: ", key);
    fprintf(stderr, "%s\n", msg);
}

void sim_scenario_init(struct sim_scenario *sc)
{
    memset(sc, 0, sizeof(*sc));
    sc->acceleration = 1.0;
    snprintf(sc->gateway_host, sizeof(sc->gateway_host), "127.0.0.1");
    sc->gateway_port = 17000;
    sc->frequency_hz = 470300000;
    sc->sf = 9;
    sc->bw_hz = 125000;
    sc->tick_ms = 10000;
    sc->seed = 1;
    sc->channels = 1;
    sc->capture_db = 6.0;
}

static void node_free(struct sim_node *n)
{
    free(n->name);
    for (int i = 0; i < SIM_NK_GATEWAY_COUNT; i++)
        free(n->text[i]);
    for (int m = 0; m < SIM_M_COUNT; m++)
        sim_trace_free(&n->traces[m]);
    for (size_t i = 0; i < n->n_links; i++)
        free(n->links[i].to);
    free(n->links);
    memset(n->cfg.key, 0, sizeof(n->cfg.key));
    memset(n->cfg.root_key, 0, sizeof(n->cfg.root_key));
    free(n);
}

void sim_scenario_free(struct sim_scenario *sc)
{
    for (size_t i = 0; i < sc->n_nodes; i++)
        node_free(sc->nodes[i]);
    free(sc->nodes);
    free(sc->name);
    free(sc->description);
    memset(sc, 0, sizeof(*sc));
}

struct sim_node *sim_scenario_add_node(struct sim_scenario *sc, const char *name, int line)
{
    if (sc->n_nodes == sc->cap_nodes) {
        size_t ncap = sc->cap_nodes ? sc->cap_nodes * 2 : 8;
        struct sim_node **nn = realloc(sc->nodes, ncap * sizeof(*nn));
        if (!nn)
            return NULL;
        sc->nodes = nn;
        sc->cap_nodes = ncap;
    }
    struct sim_node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->name = strdup(name);
    if (!n->name) {
        free(n);
        return NULL;
    }
    n->line = line;
    lw_node_config_defaults(&n->cfg);
    n->cfg.alarm_send_once = true; /* alarm_ack = no until the scenario says yes */
    n->kind = SIM_KIND_MULTI;
    n->interval_ms = 60000;
    n->rssi_dbm = -90.0;
    n->snr_db = 7.0;
    n->alarm_frames = SIM_ALARM_AUTO;
    n->fail_ms = UINT64_MAX;
    for (int m = 0; m < SIM_M_COUNT; m++)
        sim_trace_init(&n->traces[m]);
    sc->nodes[sc->n_nodes++] = n;
    return n;
}

struct sim_node *sim_find_node(const struct sim_scenario *sc, const char *name)
{
    for (size_t i = 0; i < sc->n_nodes; i++) {
        if (strcmp(sc->nodes[i]->name, name) == 0)
            return sc->nodes[i];
    }
    return NULL;
}

/* ---- value checks ---------------------------------------------------------------------- */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Well-formed UTF-8 without control characters: names end up in alert texts and SMS. */
static bool text_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        unsigned c = *p, extra;
        if (c < 0x20 || c == 0x7F)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            extra = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            extra = 2;
        else if (c >= 0xF0 && c <= 0xF4)
            extra = 3;
        else
            return false;
        for (unsigned i = 1; i <= extra; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
        }
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F) ||
            (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
            return false; /* overlong, surrogate or beyond U+10FFFF */
        p += extra + 1;
    }
    return true;
}

static int set_text(char **dst, const char *value, char *err, size_t errlen)
{
    if (*value == '\0')
        return fail(err, errlen, LW_ERR_INVAL, "empty value");
    if (!text_ok(value))
        return fail(err, errlen, LW_ERR_INVAL, "not valid UTF-8 text (control character?)");
    char *s = strdup(value);
    if (!s)
        return fail(err, errlen, LW_ERR_NOMEM, "out of memory");
    free(*dst);
    *dst = s;
    return LW_OK;
}

/* "a, b ,c" -> "a,b,c"; each tag non-empty without blanks. */
static int set_tags(char **dst, const char *value, char *err, size_t errlen)
{
    size_t len = strlen(value);
    char *out = malloc(len + 1), *o = out;
    const char *p = value;

    if (!out)
        return fail(err, errlen, LW_ERR_NOMEM, "out of memory");
    for (;;) {
        p += strspn(p, " \t");
        size_t tl = strcspn(p, ",");
        size_t end = tl;
        while (end > 0 && (p[end - 1] == ' ' || p[end - 1] == '\t'))
            end--;
        if (end == 0 || memchr(p, ' ', end) || memchr(p, '\t', end)) {
            free(out);
            return fail(err, errlen, LW_ERR_INVAL,
                        "'%s': tags are a comma-separated list of words without blanks, "
                        "e.g. low-lying,basement",
                        value);
        }
        if (o != out)
            *o++ = ',';
        memcpy(o, p, end);
        o += end;
        p += tl;
        if (*p != ',')
            break;
        p++;
    }
    *o = '\0';
    if (!text_ok(out)) {
        free(out);
        return fail(err, errlen, LW_ERR_INVAL, "not valid UTF-8 text");
    }
    free(*dst);
    *dst = out;
    return LW_OK;
}

static int parse_u32_key(const char *value, uint32_t min, uint32_t max, uint32_t *out, char *err,
                         size_t errlen, bool hex)
{
    int rc = lw_parse_u32(value, min, max, out);

    if (rc == LW_ERR_RANGE)
        return fail(err, errlen, rc,
                    hex ? "%s is out of range 0x%04X..0x%04X" : "%s is out of range %u..%u", value,
                    (unsigned)min, (unsigned)max);
    if (rc != LW_OK)
        return fail(err, errlen, rc, "'%s' is not a%s number", value,
                    hex ? " decimal or 0x-prefixed hex" : "n integer");
    return LW_OK;
}

static int parse_double_key(const char *value, double min, double max, double *out, char *err,
                            size_t errlen)
{
    int rc = lw_parse_double(value, min, max, out);

    if (rc == LW_ERR_RANGE)
        return fail(err, errlen, rc, "%s is out of range %g..%g", value, min, max);
    if (rc != LW_OK)
        return fail(err, errlen, rc, "'%s' is not a number", value);
    return LW_OK;
}

static int parse_duration_key(const char *value, uint64_t min, uint64_t max, uint64_t *out,
                              char *err, size_t errlen)
{
    char lo[32], hi[32];
    int rc = lw_parse_duration_ms(value, max, out);

    sim_format_duration(min, lo, sizeof(lo));
    sim_format_duration(max, hi, sizeof(hi));
    if (rc == LW_OK && *out < min)
        rc = LW_ERR_RANGE;
    if (rc == LW_ERR_RANGE)
        return fail(err, errlen, rc, "%s is out of range %s..%s", value, lo, hi);
    if (rc != LW_OK)
        return fail(err, errlen, rc,
                    "'%s' is not a duration (number with unit ms, s, m, h or d; e.g. 90s, 5m)",
                    value);
    return LW_OK;
}

static int parse_hex_key(const char *value, uint8_t *out, size_t n, char *err, size_t errlen)
{
    if (lw_parse_hex(value, out, n) != LW_OK)
        return fail(err, errlen, LW_ERR_INVAL, "'%s' is not %zu hex digits", value, 2 * n);
    return LW_OK;
}

/* ---- one key ------------------------------------------------------------------------- */

static int apply_scenario_key(struct sim_scenario *sc, int k, const char *value, bool continuation,
                              char *err, size_t errlen)
{
    uint32_t u;
    uint64_t d;
    int rc;

    switch (k) {
    case SIM_SK_NAME:
        return set_text(&sc->name, value, err, errlen);
    case SIM_SK_DESCRIPTION:
        if (continuation && sc->description) {
            size_t a = strlen(sc->description), b = strlen(value);
            char *s = realloc(sc->description, a + b + 2);
            if (!s)
                return fail(err, errlen, LW_ERR_NOMEM, "out of memory");
            sc->description = s;
            s[a] = ' ';
            memcpy(s + a + 1, value, b + 1);
            return text_ok(s) ? LW_OK : fail(err, errlen, LW_ERR_INVAL, "not valid UTF-8 text");
        }
        return set_text(&sc->description, value, err, errlen);
    case SIM_SK_START: {
        int64_t t;
        rc = lw_parse_time(value, &t);
        if (rc == LW_OK && t <= 0)
            rc = LW_ERR_RANGE;
        if (rc != LW_OK)
            return fail(err, errlen, rc,
                        "'%s' is not a date-time like 2026-07-15T02:00:00+08:00 (seconds and "
                        "zone required) or @UNIXSECONDS",
                        value);
        sc->start_ms = t;
        return LW_OK;
    }
    case SIM_SK_DURATION:
        return parse_duration_key(value, 1000, SIM_TRACE_MAX_TIME_MS, &sc->duration_ms, err,
                                  errlen);
    case SIM_SK_ACCELERATION:
        return parse_double_key(value, 0, 1e6, &sc->acceleration, err, errlen);
    case SIM_SK_NETWORK_ID:
        rc = parse_u32_key(value, 0, 0xFFFF, &u, err, errlen, true);
        if (rc == LW_OK)
            sc->network_id = (uint16_t)u;
        return rc;
    case SIM_SK_GATEWAY:
        if (lw_parse_hostport(value, sc->gateway_host, sizeof(sc->gateway_host),
                              &sc->gateway_port) != LW_OK)
            return fail(err, errlen, LW_ERR_INVAL,
                        "'%s' is not HOST:PORT (e.g. 127.0.0.1:17000 or [::1]:17000)", value);
        return LW_OK;
    case SIM_SK_FREQUENCY:
        rc = parse_u32_key(value, 137000000, 1020000000, &u, err, errlen, false);
        if (rc == LW_OK)
            sc->frequency_hz = u;
        return rc;
    case SIM_SK_SF:
        rc = parse_u32_key(value, 6, 12, &u, err, errlen, false);
        if (rc == LW_OK)
            sc->sf = (uint8_t)u;
        return rc;
    case SIM_SK_BW:
        rc = lw_parse_u32(value, 0, UINT32_MAX, &u);
        for (size_t i = 0; rc == LW_OK && i < sizeof(lora_bandwidths) / sizeof(u); i++) {
            if (lora_bandwidths[i] == u) {
                sc->bw_hz = u;
                return LW_OK;
            }
        }
        return fail(err, errlen, LW_ERR_RANGE,
                    "'%s' is not a LoRa bandwidth (7800, 10400, 15600, 20800, 31250, 41700, "
                    "62500, 125000, 250000 or 500000)",
                    value);
    case SIM_SK_TICK:
        rc = parse_duration_key(value, 0, SIM_DAY_MS, &d, err, errlen);
        if (rc == LW_OK && d != 0 && d < 100)
            return fail(err, errlen, LW_ERR_RANGE, "%s: use 0 (off) or at least 100ms", value);
        if (rc == LW_OK)
            sc->tick_ms = d;
        return rc;
    case SIM_SK_CHANNELS:
        return parse_u32_key(value, 1, 16, &sc->channels, err, errlen, false);
    case SIM_SK_CAPTURE:
        return parse_double_key(value, 0, 30, &sc->capture_db, err, errlen);
    case SIM_SK_RELAY_SLOT:
        return parse_duration_key(value, 0, 60000, &sc->relay_slot_ms, err, errlen);
    case SIM_SK_SEED:
        rc = lw_parse_u64(value, 0, UINT64_MAX, &sc->seed);
        if (rc != LW_OK)
            return fail(err, errlen, rc, "'%s' is not an unsigned 64-bit integer", value);
        return LW_OK;
    }
    return fail(err, errlen, LW_ERR_INVAL, "unknown key");
}

/* links = NAME:SNR[:LOSS%], ... (continuation lines add more). */
static int parse_links(struct sim_node *n, const char *value, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", value);
    if (strlen(value) >= sizeof(buf))
        return fail(err, errlen, LW_ERR_TOOBIG, "line too long");
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ' || *item == '\t')
            item++;
        size_t l = strlen(item);
        while (l > 0 && (item[l - 1] == ' ' || item[l - 1] == '\t'))
            item[--l] = '\0';
        char *c1 = strchr(item, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c1 || c1 == item)
            return fail(err, errlen, LW_ERR_INVAL,
                        "'%s' is not NAME:SNR or NAME:SNR:LOSS%% (e.g. gateway:6, r1:-3:30%%)",
                        item);
        *c1 = '\0';
        if (c2)
            *c2 = '\0';
        double snr, loss = 0;
        if (lw_parse_double(c1 + 1, -30, 30, &snr) != LW_OK)
            return fail(err, errlen, LW_ERR_RANGE, "link to %s: SNR '%s' is not -30 .. 30 dB", item,
                        c1 + 1);
        if (c2) {
            size_t pl = strlen(c2 + 1);
            if (pl < 2 || c2[pl] != '%')
                return fail(err, errlen, LW_ERR_INVAL,
                            "link to %s: loss '%s' is not a percentage like 30%%", item, c2 + 1);
            c2[pl] = '\0';
            if (lw_parse_double(c2 + 1, 0, 100, &loss) != LW_OK)
                return fail(err, errlen, LW_ERR_RANGE, "link to %s: loss is not 0 .. 100 %%", item);
            loss /= 100.0;
        }
        if (strcmp(item, n->name) == 0)
            return fail(err, errlen, LW_ERR_INVAL, "a link from node %s to itself", item);
        for (size_t i = 0; i < n->n_links; i++)
            if (strcmp(n->links[i].to, item) == 0)
                return fail(err, errlen, LW_ERR_DUP, "link to %s given twice", item);
        struct sim_link *nl = realloc(n->links, (n->n_links + 1) * sizeof(*nl));
        if (!nl)
            return fail(err, errlen, LW_ERR_NOMEM, "out of memory");
        n->links = nl;
        nl[n->n_links] = (struct sim_link){.to = strdup(item), .snr_db = snr, .loss = loss};
        if (!nl[n->n_links].to)
            return fail(err, errlen, LW_ERR_NOMEM, "out of memory");
        n->n_links++;
    }
    return LW_OK;
}

static int apply_node_key(struct sim_node *n, int k, const char *value, bool continuation,
                          char *err, size_t errlen)
{
    uint32_t u;
    int rc;

    if (k >= SIM_NK_METRIC) {
        enum sim_metric m = (enum sim_metric)(k - SIM_NK_METRIC);
        return sim_trace_append(&n->traces[m], value, &metrics[m].lim, err, errlen);
    }
    (void)continuation;
    switch (k) {
    case SIM_NK_ADDRESS:
        rc = parse_u32_key(value, 1, 0xFFFE, &u, err, errlen, true);
        if (rc == LW_OK)
            n->cfg.address = (uint16_t)u;
        return rc;
    case SIM_NK_EUI:
        return parse_hex_key(value, n->cfg.eui, sizeof(n->cfg.eui), err, errlen);
    case SIM_NK_KEY:
    case SIM_NK_ROOT_KEY: {
        uint8_t key[LW_KEY_LEN], acc = 0;
        rc = parse_hex_key(value, key, sizeof(key), err, errlen);
        if (rc != LW_OK)
            return rc;
        for (size_t i = 0; i < sizeof(key); i++)
            acc |= key[i];
        if (acc == 0)
            return fail(err, errlen, LW_ERR_INVAL,
                        "an all-zero key is refused (generate one: openssl rand -hex 16)");
        memcpy(k == SIM_NK_KEY ? n->cfg.key : n->cfg.root_key, key, sizeof(key));
        memset(key, 0, sizeof(key));
        return LW_OK;
    }
    case SIM_NK_JOIN:
        if (lw_parse_bool(value, &n->join) != LW_OK)
            return fail(err, errlen, LW_ERR_INVAL, "'%s' is not yes or no", value);
        return LW_OK;
    case SIM_NK_ALARM_ACK: {
        bool ack;
        if (lw_parse_bool(value, &ack) != LW_OK)
            return fail(err, errlen, LW_ERR_INVAL, "'%s' is not yes or no", value);
        n->cfg.alarm_send_once = !ack;
        return LW_OK;
    }
    case SIM_NK_TROUBLE_FRAMES:
        if (lw_parse_bool(value, &n->trouble_frames) != LW_OK)
            return fail(err, errlen, LW_ERR_INVAL, "'%s' is not yes or no", value);
        return LW_OK;
    case SIM_NK_RELAY:
        if (lw_parse_bool(value, &n->cfg.relay) != LW_OK)
            return fail(err, errlen, LW_ERR_INVAL, "'%s' is not yes or no", value);
        return LW_OK;
    case SIM_NK_RELAY_RANK:
        if (strcmp(value, "auto") == 0) {
            n->cfg.relay_rank = LW_NODE_RELAY_RANK_LEARN;
            return LW_OK;
        }
        rc = parse_u32_key(value, 0, LW_HOP_MAX, &u, err, errlen, false);
        if (rc == LW_OK)
            n->cfg.relay_rank = (uint8_t)u;
        return rc;
    case SIM_NK_LINKS:
        return parse_links(n, value, err, errlen);
    case SIM_NK_FAIL_AT:
        return parse_duration_key(value, 0, SIM_TRACE_MAX_TIME_MS, &n->fail_ms, err, errlen);
    case SIM_NK_JOIN_ATTEMPTS:
        return parse_u32_key(value, 0, 1000000, &n->cfg.join_attempts_max, err, errlen, false);
    case SIM_NK_KIND:
        for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
            if (strcmp(value, kind_names[i]) == 0) {
                n->kind = (enum sim_kind)i;
                return LW_OK;
            }
        }
        return fail(err, errlen, LW_ERR_INVAL,
                    "'%s' is not a kind (water, smoke, gas, co or multi)", value);
    case SIM_NK_LABEL:
    case SIM_NK_BUILDING:
    case SIM_NK_FLOOR:
    case SIM_NK_UNIT:
    case SIM_NK_PLACE:
        return set_text(&n->text[k], value, err, errlen);
    case SIM_NK_TAGS:
        return set_tags(&n->text[k], value, err, errlen);
    case SIM_NK_GRID:
        return parse_u32_key(value, 0, 65535, &n->grid, err, errlen, false);
    case SIM_NK_INTERVAL:
        return parse_duration_key(value, 100, SIM_DAY_MS, &n->interval_ms, err, errlen);
    case SIM_NK_JITTER:
        return parse_duration_key(value, 0, SIM_DAY_MS, &n->jitter_ms, err, errlen);
    case SIM_NK_OFFSET:
        return parse_duration_key(value, 0, SIM_TRACE_MAX_TIME_MS, &n->offset_ms, err, errlen);
    case SIM_NK_FCNT_START:
        return parse_u32_key(value, 0, UINT32_MAX, &n->cfg.fcnt_start, err, errlen, false);
    case SIM_NK_RSSI:
        return parse_double_key(value, -150, 0, &n->rssi_dbm, err, errlen);
    case SIM_NK_SNR:
        return parse_double_key(value, -30, 30, &n->snr_db, err, errlen);
    case SIM_NK_HOP_LIMIT:
        rc = parse_u32_key(value, 0, LW_HOP_MAX, &u, err, errlen, false);
        if (rc == LW_OK)
            n->cfg.hop_limit = (uint8_t)u;
        return rc;
    case SIM_NK_ALARM_FRAMES:
        if (strcmp(value, "auto") == 0)
            n->alarm_frames = SIM_ALARM_AUTO;
        else if (strcmp(value, "never") == 0)
            n->alarm_frames = SIM_ALARM_NEVER;
        else if (strcmp(value, "always") == 0)
            n->alarm_frames = SIM_ALARM_ALWAYS;
        else
            return fail(err, errlen, LW_ERR_INVAL, "'%s' is not auto, never or always", value);
        return LW_OK;
    }
    return fail(err, errlen, LW_ERR_INVAL, "unknown key");
}

static int key_index(const char *const *names, int count, const char *key)
{
    for (int i = 0; i < count; i++) {
        if (strcmp(names[i], key) == 0)
            return i;
    }
    return -1;
}

static bool continuable_node_key(int k)
{
    return k >= SIM_NK_METRIC || k == SIM_NK_LINKS;
}

int sim_scenario_apply(struct sim_scenario *sc, struct sim_node *node, const char *key,
                       const char *value, int line, bool continuation, char *err, size_t errlen)
{
    int *lines;
    int k;
    bool may_continue;

    if (node) {
        k = key_index(sim_node_key_names, SIM_NK_COUNT, key);
        if (k < 0) {
            if (key_index(scenario_key_names, SIM_SK_COUNT, key) >= 0)
                return fail(err, errlen, LW_ERR_INVAL,
                            "unknown key in [node:%s] (it belongs in [scenario])", node->name);
            return fail(err, errlen, LW_ERR_INVAL, "unknown key in [node:%s]", node->name);
        }
        lines = node->key_line;
        may_continue = continuable_node_key(k);
    } else {
        k = key_index(scenario_key_names, SIM_SK_COUNT, key);
        if (k < 0) {
            if (key_index(sim_node_key_names, SIM_NK_COUNT, key) >= 0)
                return fail(err, errlen, LW_ERR_INVAL,
                            "unknown key in [scenario] (it belongs in a [node:NAME] section)");
            return fail(err, errlen, LW_ERR_INVAL, "unknown key in [scenario]");
        }
        lines = sc->key_line;
        may_continue = k == SIM_SK_DESCRIPTION;
    }

    if (lines[k] != 0) {
        if (!continuation) {
            if (lines[k] > 0)
                return fail(err, errlen, LW_ERR_DUP, "given twice (first at line %d)", lines[k]);
            return fail(err, errlen, LW_ERR_DUP, "given twice");
        }
        if (!may_continue)
            return fail(err, errlen, LW_ERR_INVAL,
                        "continuation lines are only allowed for traces, links and description");
    } else {
        continuation = false;
        /* Remember the key even if its value is bad: no "missing" error follows, and a
         * second line with the same key is still a duplicate. */
        lines[k] = line > 0 ? line : -1;
    }
    if (node)
        return apply_node_key(node, k, value, continuation, err, errlen);
    return apply_scenario_key(sc, k, value, continuation, err, errlen);
}

/* ---- whole-scenario checks ------------------------------------------------------------- */

void sim_diag_report(struct diag_sink *d, int line, const char *key, const char *fmt, ...)
{
    char msg[SIM_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    d->errors++;
    if (d->diag)
        d->diag(d->user, d->file, line < 0 ? 0 : line, key, msg);
}

static int line_of(const struct sim_node *n, int k)
{
    return n->key_line[k] > 0 ? n->key_line[k] : n->line;
}

static void check_node(struct diag_sink *d, const struct sim_scenario *sc, struct sim_node *n)
{
    static const int required[] = {SIM_NK_EUI, SIM_NK_KIND, SIM_NK_LABEL};
    static const int personal_required[] = {SIM_NK_ADDRESS, SIM_NK_KEY};
    static const int join_refused[] = {SIM_NK_ADDRESS, SIM_NK_KEY, SIM_NK_FCNT_START};
    char a[32], b[32];

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        if (n->key_line[required[i]] == 0)
            sim_diag_report(d, n->line, sim_node_key_names[required[i]],
                            "missing in [node:%s] (required)", n->name);
    }
    if (n->join) {
        if (n->key_line[SIM_NK_ROOT_KEY] == 0)
            sim_diag_report(d, line_of(n, SIM_NK_JOIN), "root_key",
                            "missing in [node:%s] (a node with join = yes needs its root key)",
                            n->name);
        for (size_t i = 0; i < sizeof(join_refused) / sizeof(join_refused[0]); i++) {
            if (n->key_line[join_refused[i]] != 0)
                sim_diag_report(
                    d, line_of(n, join_refused[i]), sim_node_key_names[join_refused[i]],
                    "not allowed with join = yes (the join assigns the address and session "
                    "keys, and counters restart with each session)");
        }
    } else {
        for (size_t i = 0; i < sizeof(personal_required) / sizeof(personal_required[0]); i++) {
            if (n->key_line[personal_required[i]] == 0)
                sim_diag_report(d, n->line, sim_node_key_names[personal_required[i]],
                                "missing in [node:%s] (required unless join = yes)", n->name);
        }
        if (n->key_line[SIM_NK_ROOT_KEY] != 0)
            sim_diag_report(d, line_of(n, SIM_NK_ROOT_KEY), "root_key",
                            "only used with join = yes (add it, or remove root_key)");
        if (n->key_line[SIM_NK_JOIN_ATTEMPTS] != 0)
            sim_diag_report(d, line_of(n, SIM_NK_JOIN_ATTEMPTS), "join_attempts",
                            "only used with join = yes");
    }
    if (n->key_line[SIM_NK_KIND] == 0)
        return; /* metric checks need the kind */

    unsigned have = 0;
    for (int m = 0; m < SIM_M_COUNT; m++) {
        if (n->key_line[SIM_NK_METRIC + m] == 0)
            continue;
        have |= 1u << m;
        if (!(metrics[m].kinds & KIND_BIT(n->kind)))
            sim_diag_report(d, line_of(n, SIM_NK_METRIC + m), sim_metric_name((enum sim_metric)m),
                            "a %s node does not measure this (use kind = multi)",
                            sim_kind_name(n->kind));
    }
    enum sim_metric need = kind_required[n->kind];
    if (need != SIM_M_COUNT && !(have & (1u << need)))
        sim_diag_report(d, n->line, sim_metric_name(need),
                        "missing in [node:%s] (a %s node needs it)", n->name,
                        sim_kind_name(n->kind));
    if (n->kind == SIM_KIND_MULTI &&
        !(have & ((1u << SIM_M_WATER) | (1u << SIM_M_SMOKE) | (1u << SIM_M_OBSCURATION) |
                  (1u << SIM_M_GAS) | (1u << SIM_M_CO))))
        sim_diag_report(d, n->line, "kind",
                        "a multi node needs at least one of water_mm, smoke, obscuration, gas_lel, "
                        "co_ppm");
    if (n->kind == SIM_KIND_MULTI && (have & (1u << SIM_M_OBSCURATION)) &&
        !(have & (1u << SIM_M_SMOKE)))
        sim_diag_report(d, line_of(n, SIM_NK_METRIC + SIM_M_OBSCURATION), "obscuration",
                        "needs a smoke trace too (both travel in the smoke field)");

    if (n->jitter_ms >= n->interval_ms) {
        sim_format_duration(n->jitter_ms, a, sizeof(a));
        sim_format_duration(n->interval_ms, b, sizeof(b));
        sim_diag_report(d, line_of(n, SIM_NK_JITTER), "jitter",
                        "%s must be shorter than the interval (%s)", a, b);
    }
    if (sc->duration_ms && n->offset_ms >= sc->duration_ms) {
        sim_format_duration(n->offset_ms, a, sizeof(a));
        sim_format_duration(sc->duration_ms, b, sizeof(b));
        sim_diag_report(d, line_of(n, SIM_NK_OFFSET), "offset",
                        "%s is not within the scenario duration (%s): the node would never report",
                        a, b);
    }
}

int sim_scenario_finish(struct sim_scenario *sc, const char *file, sim_diag_fn diag, void *user)
{
    struct diag_sink d = {.file = file, .diag = diag, .user = user};
    static const int required[] = {SIM_SK_NAME, SIM_SK_START, SIM_SK_DURATION, SIM_SK_NETWORK_ID};

    if (file) { /* command-line scenarios set these through their own options */
        if (!sc->have_section)
            sim_diag_report(&d, 1, NULL, "no [scenario] section");
        else
            for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
                if (sc->key_line[required[i]] == 0)
                    sim_diag_report(&d, sc->section_line, scenario_key_names[required[i]],
                                    "missing in [scenario] (required)");
            }
        if (sc->n_nodes == 0)
            sim_diag_report(&d, 1, NULL, "no [node:NAME] sections: nothing to simulate");
    }

    for (size_t i = 0; i < sc->n_nodes; i++) {
        struct sim_node *n = sc->nodes[i];
        n->cfg.net_id = sc->network_id;
        check_node(&d, sc, n);
        /* Uniqueness against every earlier node: report at the later one. */
        for (size_t j = 0; j < i; j++) {
            const struct sim_node *o = sc->nodes[j];
            if (n->key_line[SIM_NK_ADDRESS] && o->key_line[SIM_NK_ADDRESS] &&
                n->cfg.address == o->cfg.address)
                sim_diag_report(&d, line_of(n, SIM_NK_ADDRESS), "address",
                                "0x%04X is already used by node %s (line %d)", n->cfg.address,
                                o->name, line_of(o, SIM_NK_ADDRESS));
            if (n->key_line[SIM_NK_EUI] && o->key_line[SIM_NK_EUI] &&
                memcmp(n->cfg.eui, o->cfg.eui, sizeof(n->cfg.eui)) == 0)
                sim_diag_report(&d, line_of(n, SIM_NK_EUI), "eui",
                                "already used by node %s (line %d)", o->name,
                                line_of(o, SIM_NK_EUI));
            if (n->key_line[SIM_NK_KEY] && o->key_line[SIM_NK_KEY] &&
                memcmp(n->cfg.key, o->cfg.key, sizeof(n->cfg.key)) == 0)
                sim_diag_report(&d, line_of(n, SIM_NK_KEY), "key",
                                "same key as node %s (line %d): every node needs its own", o->name,
                                line_of(o, SIM_NK_KEY));
            /* One key, one role: a root key is never anybody's node key, nor shared. */
            for (int a = 0; a < 2; a++) {
                int ka = a ? SIM_NK_ROOT_KEY : SIM_NK_KEY;
                const uint8_t *va = a ? n->cfg.root_key : n->cfg.key;
                for (int b = 0; b < 2; b++) {
                    int kb = b ? SIM_NK_ROOT_KEY : SIM_NK_KEY;
                    const uint8_t *vb = b ? o->cfg.root_key : o->cfg.key;
                    if ((ka == SIM_NK_KEY && kb == SIM_NK_KEY) || !n->key_line[ka] ||
                        !o->key_line[kb] || memcmp(va, vb, LW_KEY_LEN) != 0)
                        continue;
                    sim_diag_report(
                        &d, line_of(n, ka), sim_node_key_names[ka],
                        "same key as the %s of node %s (line %d): every key has one role "
                        "and one node",
                        sim_node_key_names[kb], o->name, line_of(o, kb));
                }
            }
        }
    }
    /* Mesh topology: every link names a node of the scenario or the gateway. */
    sc->has_links = false;
    for (size_t i = 0; i < sc->n_nodes; i++)
        sc->has_links |= sc->nodes[i]->n_links > 0;
    for (size_t i = 0; i < sc->n_nodes; i++) {
        struct sim_node *n = sc->nodes[i];
        for (size_t l = 0; l < n->n_links; l++)
            if (strcmp(n->links[l].to, SIM_LINK_GATEWAY) != 0 && !sim_find_node(sc, n->links[l].to))
                sim_diag_report(&d, line_of(n, SIM_NK_LINKS), "links",
                                "no node named %s (links name nodes of this scenario or gateway)",
                                n->links[l].to);
        if (sc->has_links && n->n_links == 0) {
            /* Links are symmetric: one named from the other side is enough. */
            bool named = false;
            for (size_t j = 0; j < sc->n_nodes && !named; j++)
                for (size_t l = 0; l < sc->nodes[j]->n_links && !named; l++)
                    named = strcmp(sc->nodes[j]->links[l].to, n->name) == 0;
            if (!named)
                sim_diag_report(
                    &d, n->line, "links",
                    "[node:%s] has no links while other nodes have: nothing would hear it",
                    n->name);
        }
        if (n->cfg.relay && n->join)
            sim_diag_report(&d, line_of(n, SIM_NK_RELAY), "relay",
                            "a relay needs a fixed address (join = no): its route entries name it");
        if ((n->cfg.relay || n->key_line[SIM_NK_FAIL_AT]) && !sc->has_links &&
            (n->cfg.relay || n->key_line[SIM_NK_RELAY_RANK]))
            sim_diag_report(
                &d, line_of(n, SIM_NK_RELAY), "relay",
                "relays need a topology: give the nodes links (links = NAME:SNR[:LOSS%%])");
        if (n->key_line[SIM_NK_RELAY_RANK] && !n->cfg.relay)
            sim_diag_report(&d, line_of(n, SIM_NK_RELAY_RANK), "relay_rank",
                            "only for relay = yes");
    }
    return d.errors;
}
