/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for the spool file reader (lw_spool_load): whatever a file left by a killed
 * daemon holds (cut short, damaged, another version's) is queued whole, cut at a clean record, or
 * set aside; never a crash or a write of another kind than the table has. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_spool.h"

static int apply_a(struct lw_store *s, const void *data)
{
    (void)s;
    (void)data;
    return LW_OK;
}

static int apply_b(struct lw_store *s, const void *data)
{
    (void)s;
    (void)data;
    return LW_OK;
}

static const lw_spool_apply_fn kinds[] = {apply_a, apply_b};

static bool count_message(void *arg, int64_t tag, const char *topic, const char *payload,
                          bool retain)
{
    (void)retain;
    if (!lw_spool_tag(tag) || !topic || !payload)
        abort();
    (*(size_t *)arg)++;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/lw-fuzz-spool.%ld", (long)getpid());
    static const char header[] = "lorawatch spool 1 fuzz\n";
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    /* Half the inputs get the right header, so the records behind it are reached. */
    if (size && (data[0] & 1))
        fwrite(header, 1, sizeof(header) - 1, f);
    fwrite(data, 1, size, f);
    fclose(f);
    struct lw_spool *sp = lw_spool_new(1 << 16);
    if (!sp || lw_spool_keep(sp, path, kinds, 2, "fuzz") != LW_OK)
        abort();
    size_t loaded = 0, messages = 0;
    int rc = lw_spool_load(sp, &loaded);
    if (rc != LW_OK && (loaded || lw_spool_count(sp)))
        abort();
    if (rc == LW_OK && lw_spool_count(sp) != loaded)
        abort();
    lw_spool_each_message(sp, true, count_message, &messages);
    if (messages > loaded)
        abort();
    lw_spool_free(sp);
    unlink(path);
    char aside[80];
    snprintf(aside, sizeof(aside), "%s.unread", path);
    unlink(aside);
    return 0;
}
