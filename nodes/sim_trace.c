/* SPDX-License-Identifier: Apache-2.0 */
/* Value traces: strict parsing of "value@time" lists and their evaluation in virtual time. */
#include "sim_trace.h"
#include "lw_error.h"
#include "lw_parse.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_TRACE_TOKEN_MAX 64

void sim_trace_init(struct sim_trace *t)
{
    memset(t, 0, sizeof(*t));
}

void sim_trace_free(struct sim_trace *t)
{
    free(t->pts);
    sim_trace_init(t);
}

static int trace_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int trace_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void sim_format_duration(uint64_t ms, char *out, size_t cap)
{
    uint64_t s = ms / 1000, h = s / 3600, m = s / 60 % 60, sec = s % 60;

    if (ms % 1000)
        snprintf(out, cap, "%llums", (unsigned long long)ms);
    else if (h && !m && !sec)
        snprintf(out, cap, "%lluh", (unsigned long long)h);
    else if (h && !sec)
        snprintf(out, cap, "%lluh%llum", (unsigned long long)h, (unsigned long long)m);
    else if (h)
        snprintf(out, cap, "%lluh%llum%llus", (unsigned long long)h, (unsigned long long)m,
                 (unsigned long long)sec);
    else if (m && !sec)
        snprintf(out, cap, "%llum", (unsigned long long)m);
    else if (m)
        snprintf(out, cap, "%llum%llus", (unsigned long long)m, (unsigned long long)sec);
    else
        snprintf(out, cap, "%llus", (unsigned long long)sec);
}

static int parse_value(const char *tok, const char *vs, const struct sim_trace_limits *lim,
                       double *v, char *err, size_t errlen)
{
    int rc = lw_parse_double(vs, -1e300, 1e300, v);

    if (rc != LW_OK && tok == vs)
        return trace_fail(LW_ERR_INVAL, err, errlen, "'%s' is not a number", tok);
    if (rc != LW_OK)
        return trace_fail(LW_ERR_INVAL, err, errlen, "'%s': '%s' is not a number", tok, vs);
    if (*v < lim->min || *v > lim->max)
        return trace_fail(LW_ERR_RANGE, err, errlen, "'%s': %s is out of range %g..%g", tok, vs,
                          lim->min, lim->max);
    if (lim->integer && *v != floor(*v))
        return trace_fail(LW_ERR_RANGE, err, errlen, "'%s': %s must be a whole number", tok, vs);
    return LW_OK;
}

static int trace_push(struct sim_trace_point **pts, size_t *n, size_t *cap, uint64_t t_ms, double v)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct sim_trace_point *np = realloc(*pts, ncap * sizeof(*np));
        if (!np)
            return LW_ERR_NOMEM;
        *pts = np;
        *cap = ncap;
    }
    (*pts)[*n].t_ms = t_ms;
    (*pts)[*n].v = v;
    (*n)++;
    return LW_OK;
}

int sim_trace_append(struct sim_trace *t, const char *text, const struct sim_trace_limits *lim,
                     char *err, size_t errlen)
{
    /* Work on a copy of the point array so that a bad line leaves t unchanged. */
    struct sim_trace_point *pts = NULL;
    size_t n = t->n, cap = 0, tokens = 0;
    bool constant = false;
    int rc = LW_OK;
    const char *p = text;

    if (t->constant)
        return trace_fail(LW_ERR_INVAL, err, errlen,
                          "a constant cannot be continued with more values");
    if (t->n) {
        cap = t->n;
        pts = malloc(cap * sizeof(*pts));
        if (!pts)
            return trace_fail(LW_ERR_NOMEM, err, errlen, "out of memory");
        memcpy(pts, t->pts, cap * sizeof(*pts));
    }

    for (;;) {
        char tok[SIM_TRACE_TOKEN_MAX];
        size_t len;
        double v;

        p += strspn(p, " \t");
        if (*p == '\0')
            break;
        len = strcspn(p, " \t");
        if (len >= sizeof(tok)) {
            rc = trace_fail(LW_ERR_INVAL, err, errlen, "'%.20s...': token too long", p);
            goto out;
        }
        memcpy(tok, p, len);
        tok[len] = '\0';
        p += len;
        tokens++;

        char *at = strchr(tok, '@');
        if (!at) {
            if (tokens > 1 || n > 0 || p[strspn(p, " \t")] != '\0') {
                rc = trace_fail(LW_ERR_INVAL, err, errlen,
                                "'%s': expected value@time (a bare number is only allowed "
                                "alone, as a constant)",
                                tok);
                goto out;
            }
            rc = parse_value(tok, tok, lim, &v, err, errlen);
            if (rc != LW_OK)
                goto out;
            rc = trace_push(&pts, &n, &cap, 0, v);
            if (rc != LW_OK)
                goto nomem;
            constant = true;
            break;
        }

        *at = '\0';
        const char *ts = at + 1;
        uint64_t t_ms;
        char shown[SIM_TRACE_TOKEN_MAX + 1];
        snprintf(shown, sizeof(shown), "%s@%s", tok, ts);
        rc = parse_value(shown, tok, lim, &v, err, errlen);
        if (rc != LW_OK)
            goto out;
        rc = lw_parse_duration_ms(ts, SIM_TRACE_MAX_TIME_MS, &t_ms);
        if (rc != LW_OK) {
            rc = trace_fail(rc, err, errlen,
                            rc == LW_ERR_RANGE
                                ? "'%s': time '%s' is beyond 30 days"
                                : "'%s': bad time '%s' (a duration such as 90s, 25m or 1.5h)",
                            shown, ts);
            goto out;
        }
        if (n > 0 && t_ms <= pts[n - 1].t_ms) {
            char prev[32];
            sim_format_duration(pts[n - 1].t_ms, prev, sizeof(prev));
            rc = trace_fail(LW_ERR_INVAL, err, errlen,
                            "'%s': times must ascend (previous point is at %s)", shown, prev);
            goto out;
        }
        rc = trace_push(&pts, &n, &cap, t_ms, v);
        if (rc != LW_OK)
            goto nomem;
    }
    if (tokens == 0) {
        rc = trace_fail(LW_ERR_INVAL, err, errlen,
                        "empty trace: give a number or value@time points");
        goto out;
    }

    free(t->pts);
    t->pts = pts;
    t->n = n;
    t->cap = cap;
    t->set = true;
    t->constant = constant;
    t->mode = lim->mode;
    return LW_OK;

nomem:
    rc = trace_fail(LW_ERR_NOMEM, err, errlen, "out of memory");
out:
    free(pts);
    return rc;
}

double sim_trace_eval(const struct sim_trace *t, uint64_t t_ms)
{
    if (!t->set || t->n == 0)
        return 0.0;
    if (t_ms <= t->pts[0].t_ms)
        return t->pts[0].v;
    if (t_ms >= t->pts[t->n - 1].t_ms)
        return t->pts[t->n - 1].v;

    /* Binary search for the segment [lo, lo + 1] holding t_ms. */
    size_t lo = 0, hi = t->n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->pts[mid].t_ms <= t_ms)
            lo = mid;
        else
            hi = mid;
    }
    const struct sim_trace_point *a = &t->pts[lo], *b = &t->pts[hi];
    if (t->mode == SIM_TRACE_STEP)
        return a->v;
    double f = (double)(t_ms - a->t_ms) / (double)(b->t_ms - a->t_ms);
    return a->v + (b->v - a->v) * f;
}
