/* SPDX-License-Identifier: Apache-2.0 */
/* Strict value parsers shared by the daemon's config, the simulator's scenarios and the CLI. */
#include "lw_parse.h"
#include "lw_error.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int lw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return LW_ERR_INVAL; /* strtoull would accept "-1" and leading blanks */
    char *end;
    errno = 0;
    unsigned long long v;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        /* Only hex digits after the prefix: strtoull would take a second "0x". */
        if (!s[2] || strspn(s + 2, "0123456789abcdefABCDEF") != strlen(s + 2))
            return LW_ERR_INVAL;
        v = strtoull(s + 2, &end, 16);
    } else {
        v = strtoull(s, &end, 10);
    }
    if (*end != '\0')
        return LW_ERR_INVAL;
    if (errno == ERANGE || v < min || v > max)
        return LW_ERR_RANGE;
    *out = v;
    return LW_OK;
}

int lw_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;
    int rc = lw_parse_u64(s, min, max, &v);
    if (rc == LW_OK)
        *out = (uint32_t)v;
    return rc;
}

int lw_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || (s[0] == '-' && isdigit((unsigned char)s[1]))))
        return LW_ERR_INVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return LW_ERR_INVAL;
    if (errno == ERANGE || v < min || v > max)
        return LW_ERR_RANGE;
    *out = v;
    return LW_OK;
}

int lw_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.'))
        return LW_ERR_INVAL; /* no "inf", "nan", hex floats or leading blanks */
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || strpbrk(s, "xXnNiI"))
        return LW_ERR_INVAL;
    if (errno == ERANGE || !isfinite(v) || v < min || v > max)
        return LW_ERR_RANGE;
    *out = v;
    return LW_OK;
}

int lw_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    if (!s)
        return LW_ERR_INVAL;
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return LW_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return LW_OK;
        }
    }
    return LW_ERR_INVAL;
}

int lw_parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
        return LW_ERR_INVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE || strpbrk(s, "xXnNiI+-"))
        return LW_ERR_INVAL;
    double scale;
    if (*end == '\0' || strcmp(end, "s") == 0)
        scale = 1000.0;
    else if (strcmp(end, "ms") == 0)
        scale = 1.0;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        scale = 60000.0;
    else if (strcmp(end, "h") == 0)
        scale = 3600000.0;
    else if (strcmp(end, "d") == 0)
        scale = 86400000.0;
    else
        return LW_ERR_INVAL;
    double ms = v * scale;
    if (!isfinite(ms) || ms > (double)max_ms)
        return LW_ERR_RANGE;
    *out = (uint64_t)llround(ms);
    return LW_OK;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int lw_parse_hex(const char *s, uint8_t *out, size_t n)
{
    if (!s)
        return LW_ERR_INVAL;
    size_t got = 0;
    const char *p = s;
    while (*p) {
        if (got > 0 && (*p == ':' || *p == '-'))
            p++;
        int hi = hexval((unsigned char)p[0]);
        int lo = hi < 0 ? -1 : hexval((unsigned char)p[1]);
        if (hi < 0 || lo < 0 || got == n)
            return LW_ERR_INVAL;
        out[got++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    return got == n ? LW_OK : LW_ERR_INVAL;
}

int lw_parse_hostport(const char *s, char *host, size_t hostcap, uint16_t *port)
{
    if (!s || !*s)
        return LW_ERR_INVAL;
    const char *h = s, *colon;
    size_t hlen;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return LW_ERR_INVAL;
        h = s + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon)
            return LW_ERR_INVAL;
        hlen = (size_t)(colon - s);
    }
    if (hlen == 0 || hlen >= hostcap)
        return LW_ERR_INVAL;
    uint32_t p;
    int rc = lw_parse_u32(colon + 1, 1, 65535, &p);
    if (rc != LW_OK)
        return rc;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return LW_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), so no
 * timezone-dependent libc call is involved. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int digits_value(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

int lw_parse_time(const char *s, int64_t *unix_ms)
{
    if (!s)
        return LW_ERR_INVAL;
    if (s[0] == '@') {
        int64_t secs;
        int rc = lw_parse_i64(s + 1, 0, INT64_C(253402300799), &secs);
        if (rc == LW_OK)
            *unix_ms = secs * 1000;
        return rc;
    }
    /* Fixed layout YYYY-MM-DDTHH:MM:SS: check every character, as sscanf's %d would accept
     * blanks and signs inside the fields. */
    static const char layout[] = "dddd-dd-ddTdd:dd:dd";
    for (size_t i = 0; i < sizeof(layout) - 1; i++) {
        if (layout[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != layout[i])
            return LW_ERR_INVAL;
    }
#define FIELD(off, n) digits_value(s + (off), (n))
    int y = FIELD(0, 4), mo = FIELD(5, 2), d = FIELD(8, 2), h = FIELD(11, 2), mi = FIELD(14, 2),
        sec = FIELD(17, 2);
#undef FIELD
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
        sec > 59)
        return LW_ERR_RANGE;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return LW_ERR_RANGE;
    const char *z = s + 19;
    int off_min = 0;
    if (strcmp(z, "Z") == 0) {
        off_min = 0;
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':' &&
               isdigit((unsigned char)z[1]) && isdigit((unsigned char)z[2]) &&
               isdigit((unsigned char)z[4]) && isdigit((unsigned char)z[5])) {
        int oh = (z[1] - '0') * 10 + (z[2] - '0'), om = (z[4] - '0') * 10 + (z[5] - '0');
        if (oh > 14 || om > 59)
            return LW_ERR_RANGE;
        off_min = (oh * 60 + om) * (z[0] == '-' ? -1 : 1);
    } else {
        return LW_ERR_INVAL;
    }
    int64_t days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t t = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off_min * 60;
    *unix_ms = t * 1000;
    return LW_OK;
}

void lw_format_hex(const uint8_t *in, size_t n, char *out)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

bool lw_text_ok(const char *s, size_t cap)
{
    size_t n = strlen(s);
    if (n >= cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return false;
    return true;
}

bool lw_all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}
