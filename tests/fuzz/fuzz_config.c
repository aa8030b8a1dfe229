/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_config_parse: arbitrary text as a config file; a config is returned
 * exactly when no error was reported, and every message names the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_config.h"
#include "lw_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    unsigned errors;
};

static void on_error(void *arg, const char *msg)
{
    struct seen *s = arg;
    if (strncmp(msg, "fuzz.conf", 9) != 0)
        abort(); /* every message starts with the file name */
    s->errors++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {0};
    char db[LW_PATH_MAX + 16];
    struct lw_config *cfg = lw_config_parse("fuzz.conf", (const char *)data, size, on_error, &s);
    if (!cfg)
        return 0;
    if (s.errors)
        abort(); /* errors reported, yet a config came back */
    lw_config_db_path(cfg, db, sizeof(db));
    for (size_t r = 0; r < cfg->n_rules; r++) {
        const struct lw_rule_conf *rule = &cfg->rules[r];
        if (rule->metric >= LW_METRIC_COUNT || rule->level >= LW_LEVEL_COUNT ||
            rule->hazard >= LW_HAZARD_COUNT || rule->threshold <= rule->clear)
            abort(); /* validated rules are well-formed (negated when below) */
        for (size_t n = 0; n < cfg->n_nodes; n++)
            (void)lw_rule_applies(rule, &cfg->nodes[n]);
    }
    for (size_t n = 0; n < cfg->n_nodes; n++) {
        if (cfg->nodes[n].address == 0 || cfg->nodes[n].address == 0xFFFF ||
            cfg->nodes[n].kind >= LW_KIND_COUNT)
            abort();
        for (size_t m = 0; m < n; m++)
            if (cfg->nodes[m].address == cfg->nodes[n].address)
                abort(); /* duplicate addresses are refused */
    }
    lw_config_free(cfg);
    return 0;
}
