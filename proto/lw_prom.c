/* SPDX-License-Identifier: Apache-2.0 */
/* Strict reader for the Prometheus text format (the subset a textfile holds). */
#include "lw_prom.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lw_error.h"

static int name_char(int c, int first)
{
    return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* Labels: key="value" pairs separated by commas; values may contain \" \\ \n escapes.
 * Returns the index just past '}' or -1. */
static long scan_labels(const char *s, size_t n, size_t i)
{
    for (;;) {
        if (i < n && s[i] == '}')
            return (long)i + 1;
        if (i >= n || !name_char((unsigned char)s[i], 1))
            return -1;
        while (i < n && name_char((unsigned char)s[i], 0))
            i++;
        if (i + 1 >= n || s[i] != '=' || s[i + 1] != '"')
            return -1;
        for (i += 2; i < n && s[i] != '"'; i++)
            if (s[i] == '\\') {
                if (++i >= n || (s[i] != '"' && s[i] != '\\' && s[i] != 'n'))
                    return -1;
            }
        if (i >= n)
            return -1;
        i++; /* closing quote */
        if (i < n && s[i] == ',')
            i++;
        else if (i >= n || s[i] != '}')
            return -1;
    }
}

static int parse_value(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "Inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcmp(buf, "-Inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (strcmp(buf, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    if (strpbrk(buf, "xXnNiI")) /* no hex floats, no other spellings of inf/nan */
        return -1;
    char *end;
    *out = strtod(buf, &end);
    return end == buf + n ? 0 : -1;
}

static int parse_line(const char *s, size_t n, struct lw_prom_sample *out)
{
    size_t i = 0;
    if (!name_char((unsigned char)s[0], 1))
        return -1;
    while (i < n && name_char((unsigned char)s[i], 0))
        i++;
    if (i >= sizeof(out->name))
        return -1;
    memcpy(out->name, s, i);
    out->name[i] = '\0';
    out->labels[0] = '\0';
    if (i < n && s[i] == '{') {
        long end = scan_labels(s, n, i + 1);
        if (end < 0 || (size_t)(end - (long)i - 2) >= sizeof(out->labels))
            return -1;
        memcpy(out->labels, s + i + 1, (size_t)end - i - 2);
        out->labels[end - (long)i - 2] = '\0';
        i = (size_t)end;
    }
    if (i >= n || (s[i] != ' ' && s[i] != '\t'))
        return -1;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t v = i;
    while (i < n && s[i] != ' ' && s[i] != '\t')
        i++;
    if (parse_value(s + v, i - v, &out->value) != 0)
        return -1;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n) { /* optional integer timestamp, then nothing */
        size_t t = i;
        if (s[i] == '-')
            i++;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        if (i == t || i != n)
            return -1;
    }
    return 0;
}

int lw_prom_parse(const char *text, size_t len, lw_prom_fn fn, void *arg, int *bad_line)
{
    int line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        struct lw_prom_sample smp;
        if (memchr(s, '\0', n) || parse_line(s, n, &smp) != 0) {
            if (bad_line)
                *bad_line = line;
            return LW_ERR_INVAL;
        }
        int rc = fn(arg, &smp);
        if (rc)
            return rc;
    }
    return 0;
}

int lw_prom_label(const char *labels, const char *key, char *out, size_t cap)
{
    size_t kl = strlen(key);
    for (const char *p = labels; *p;) {
        const char *eq = strchr(p, '=');
        if (!eq || eq[1] != '"')
            return 0;
        const char *v = eq + 2, *e = v;
        while (*e && *e != '"')
            e += (*e == '\\' && e[1]) ? 2 : 1;
        if ((size_t)(eq - p) == kl && strncmp(p, key, kl) == 0) {
            size_t n = (size_t)(e - v) < cap - 1 ? (size_t)(e - v) : cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = *e ? e + 1 : e;
        if (*p == ',')
            p++;
    }
    return 0;
}
