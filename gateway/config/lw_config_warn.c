/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration warnings: settings that load fine but leave a gateway in service deaf, open to
 * forged frames or paging nobody. lorawatchd -n prints them (and fails on them with --strict);
 * the daemon logs them at start. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lw_config.h"
#include "lw_roster.h"

/* Node keys printed in lorawatch's own configuration examples and manual pages: whoever has read
 * them can seal frames as such a node. */
static const char *const published_keys[] = {
    "6A1F3C9E58B20D47A3E19C5F0B7D2846", /* config/lorawatch.conf's former example node */
    "3C0E9A51D47B28F6E1A59C03B7D4862F", /* lorawatch.conf(5), EXAMPLES */
};

struct warn_out {
    const struct lw_config *cfg;
    lw_config_error_fn fn;
    void *arg;
    size_t n;
};

static void warn(struct warn_out *w, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct warn_out *w, int line, const char *fmt, ...)
{
    char msg[600], full[LW_PATH_MAX + 640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(full, sizeof(full), "%s:%d: %s", w->cfg->path, line, msg);
    else
        snprintf(full, sizeof(full), "%s: %s", w->cfg->path, msg);
    w->n++;
    if (w->fn)
        w->fn(w->arg, full);
    else
        fprintf(stderr, "%s\n", full);
}

static void key_hex(const uint8_t key[LW_KEY_LEN], char out[2 * LW_KEY_LEN + 1])
{
    for (size_t i = 0; i < LW_KEY_LEN; i++)
        snprintf(out + 2 * i, 3, "%02X", key[i]);
}

/* Why a node key is known to others, or NULL when it is not. */
static const char *weak_key(const uint8_t key[LW_KEY_LEN])
{
    char hex[2 * LW_KEY_LEN + 1];
    key_hex(key, hex);
    for (size_t i = 0; i < sizeof(published_keys) / sizeof(published_keys[0]); i++)
        if (strcmp(hex, published_keys[i]) == 0)
            return "the example key published in lorawatch's documentation";
    bool same = true;
    for (size_t i = 1; i < 2 * LW_KEY_LEN && same; i++)
        same = hex[i] == hex[0];
    return same ? "one hex digit repeated, guessed at once" : NULL;
}

bool lw_config_radio_chosen(const struct lw_config *cfg)
{
    return cfg->radio_chosen_line > 0;
}

size_t lw_config_warnings(const struct lw_config *cfg, lw_config_error_fn fn, void *arg)
{
    struct warn_out w = {.cfg = cfg, .fn = fn, .arg = arg};

    if (!lw_config_radio_chosen(cfg))
        warn(&w, 0,
             "[radio] backend: not set: lorawatchd refuses to start until the radio is chosen: "
             "backend = sx127x or sx126x (a HAT; or board = its preset), udp-forwarder (a "
             "concentrator with lora_pkt_fwd) or sim (lorawatch-sim only); see docs/HARDWARE.md");
    else if (strcmp(cfg->radio_backend, "sim") == 0)
        warn(&w, cfg->radio_chosen_line,
             "[radio] backend = sim: frames come from lorawatch-sim's simulated medium only, "
             "never from a radio; a gateway in service needs sx127x, sx126x (or board) or "
             "udp-forwarder (docs/HARDWARE.md)");

    for (size_t i = 0; i < cfg->n_nodes; i++) {
        const struct lw_node_conf *n = &cfg->nodes[i];
        const char *why = weak_key(n->key);
        if (why)
            warn(&w, n->line,
                 "[node:%s] key: %s: anyone can forge this node's readings and alarms; pair "
                 "nodes with 'lorawatch pair' (keys from 'lorawatch keygen') and delete this "
                 "section",
                 n->name, why);
    }

    if (!cfg->roster || cfg->roster->n == 0)
        warn(&w, 0,
             "[duty:ID]: no duty roster: alerts reach only the lorawatch/%s/alert/ and "
             "lorawatch/%s/duty/tier/N topics and no person is paged; add a [duty:ID] section "
             "for each person on duty (lorawatch.conf(5), docs/MQTT.md)",
             cfg->site, cfg->site);
    return w.n;
}
