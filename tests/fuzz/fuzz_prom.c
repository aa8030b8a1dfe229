/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_prom_parse: arbitrary bytes as a metrics file; accepted samples have a
 * valid name, and lw_prom_label never reads past the label text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lw_prom.h"

static int on_sample(void *arg, const struct lw_prom_sample *s)
{
    char v[32];
    (void)arg;
    if (!s->name[0] || strlen(s->name) >= sizeof(s->name))
        __builtin_trap();
    lw_prom_label(s->labels, "outcome", v, sizeof(v));
    lw_prom_label(s->labels, "site", v, 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int bad = 0;
    lw_prom_parse((const char *)data, size, on_sample, NULL, &bad);
    return 0;
}
