/* SPDX-License-Identifier: Apache-2.0 */
/* Value traces of simulated sensors: "value@time" points parsed from text, evaluated at a
 * virtual time by linear interpolation or by holding the last step. */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_TRACE_MAX_TIME_MS (UINT64_C(30) * 24 * 3600 * 1000) /* 30 days of virtual time */

enum sim_trace_mode {
    SIM_TRACE_LINEAR, /* continuous metrics: straight lines between points */
    SIM_TRACE_STEP,   /* discrete metrics: hold the last point's value */
};

/* What values a trace accepts and how it is evaluated. */
struct sim_trace_limits {
    double min, max;
    bool integer; /* values must be whole numbers */
    enum sim_trace_mode mode;
};

struct sim_trace_point {
    uint64_t t_ms; /* virtual time from the start */
    double v;
};

struct sim_trace {
    bool set;      /* at least one value parsed */
    bool constant; /* written as a single bare number */
    enum sim_trace_mode mode;
    struct sim_trace_point *pts;
    size_t n, cap;
};

void sim_trace_init(struct sim_trace *t);
void sim_trace_free(struct sim_trace *t);

/* Parse text and append its points to t (continuation lines of a long trace call this again).
 * text is either one bare number (a constant) or whitespace-separated value@time points with
 * strictly ascending times (durations as accepted by lw_parse_duration_ms).
 * Returns LW_OK, or LW_ERR_INVAL / LW_ERR_RANGE / LW_ERR_NOMEM with a message in err; on error
 * t is left as it was. */
int sim_trace_append(struct sim_trace *t, const char *text, const struct sim_trace_limits *lim,
                     char *err, size_t errlen);

/* Value at virtual time t_ms: the first value before the first point, the last after the last
 * one, interpolated (LINEAR) or held (STEP) in between. 0 for an unset trace. */
double sim_trace_eval(const struct sim_trace *t, uint64_t t_ms);

/* Compact duration for messages: "0s", "250ms", "90s", "25m", "1h30m", "52m30s". */
void sim_format_duration(uint64_t ms, char *out, size_t cap);

#endif
