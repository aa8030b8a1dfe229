/* SPDX-License-Identifier: Apache-2.0 */
/* CSV fields (RFC 4180) with the spreadsheet-formula guard OWASP describes for exported text. */
#include "lw_csv.h"

#include <stdlib.h>
#include <string.h>

static bool formula_like(const char *t)
{
    switch (t[0]) {
    case '=':
    case '+':
    case '@':
    case '\t':
    case '\r':
        return true;
    case '-': {
        if (!t[1])
            return false; /* a lone dash is the report's "none" */
        char *end;
        (void)strtod(t, &end);
        return *end != '\0'; /* "-3.5" is a number; "-1+2" or "-cmd" is not */
    }
    default:
        return false;
    }
}

void lw_csv_field(FILE *out, const char *t, bool text)
{
    bool guard = text && formula_like(t);
    if (!guard && !strpbrk(t, ",\"\r\n")) {
        fputs(t, out);
        return;
    }
    fputc('"', out);
    if (guard)
        fputc('\'', out);
    for (; *t; t++) {
        if (*t == '"')
            fputc('"', out);
        fputc(*t, out);
    }
    fputc('"', out);
}
