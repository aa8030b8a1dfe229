/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer harness for lw_ini_parse: arbitrary bytes; line numbers stay within the text and the
 * return value is exactly the number of syntax errors plus handler rejections. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw_ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    int lines; /* lines in the text */
    int syntax;
    int rejected;
};

static void check_line(const struct seen *s, int lineno)
{
    if (lineno < 1 || lineno > s->lines)
        abort();
}

static int on_pair(void *user, int lineno, const char *section, const char *name, const char *value)
{
    struct seen *s = user;
    check_line(s, lineno);
    if (!section || !name || !value)
        abort();
    /* Reject some pairs so the counting path is exercised too. */
    if (name[0] == 'x') {
        s->rejected++;
        return -1;
    }
    return 0;
}

static void on_syntax(void *user, int lineno, const char *why)
{
    struct seen *s = user;
    check_line(s, lineno);
    if (!why || !why[0])
        abort();
    s->syntax++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen s = {0};
    s.lines = size ? 1 : 0;
    for (size_t i = 0; i + 1 < size; i++)
        s.lines += data[i] == '\n';
    int rc = lw_ini_parse((const char *)data, size, on_pair, on_syntax, &s);
    if (rc != s.syntax + s.rejected)
        abort();
    return 0;
}
