/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the simulator's scenario reader (nodes and their traces, mesh links,
 * relays): any text parses or is refused with diagnostics, never crashes or leaks; a valid mesh
 * has every link resolvable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void count(void *user, const char *file, int line, const char *key, const char *msg)
{
    (void)file;
    (void)line;
    (void)key;
    if (!msg || !msg[0])
        abort(); /* every diagnostic says something */
    (*(int *)user)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sim_scenario sc;
    int diags = 0;

    if (size > 65536)
        return 0;
    sim_scenario_init(&sc);
    int errors = sim_scenario_parse(&sc, (const char *)data, size, "fuzz.ini", count, &diags);
    if (errors != diags)
        abort();
    for (size_t i = 0; errors == 0 && i < sc.n_nodes; i++)
        for (size_t l = 0; l < sc.nodes[i]->n_links; l++) {
            const struct sim_link *k = &sc.nodes[i]->links[l];
            if (!k->to || k->loss < 0 || k->loss > 1 || k->snr_db < -30 || k->snr_db > 30)
                abort();
        }
    sim_scenario_free(&sc);
    return 0;
}
