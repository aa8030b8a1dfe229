/* SPDX-License-Identifier: Apache-2.0 */
/* The sensor model: traces to the units and ranges of a reading's TLVs, and the ALARM rule.
 * Apart from the scenario parser, since the run samples it and the parser never does. */
#include "sim_sensor.h"
#include "sim_trace.h"

#include <math.h>
#include <string.h>

static uint16_t to_u16(double v, double scale, double max)
{
    double x = round(v * scale);
    if (x < 0)
        x = 0;
    if (x > max)
        x = max;
    return (uint16_t)x;
}

void sim_node_sample(const struct sim_node *n, uint64_t t_ms, struct lw_reading *r, bool *alarm)
{
    const struct sim_trace *tr = n->traces;

    memset(r, 0, sizeof(*r));
    if (tr[SIM_M_WATER].set) {
        r->present |= LW_R_WATER;
        r->water_mm = to_u16(sim_trace_eval(&tr[SIM_M_WATER], t_ms), 1, 65535);
    }
    if (tr[SIM_M_SMOKE].set || tr[SIM_M_OBSCURATION].set) {
        r->present |= LW_R_SMOKE;
        r->smoke_alarm = sim_trace_eval(&tr[SIM_M_SMOKE], t_ms) >= 0.5 ? 1 : 0;
        r->smoke_obscuration = to_u16(sim_trace_eval(&tr[SIM_M_OBSCURATION], t_ms), 100, 65535);
    }
    if (tr[SIM_M_GAS].set) {
        r->present |= LW_R_GAS;
        r->gas_lel_x10 = to_u16(sim_trace_eval(&tr[SIM_M_GAS], t_ms), 10, 1000);
    }
    if (tr[SIM_M_CO].set) {
        r->present |= LW_R_CO;
        r->co_ppm = to_u16(sim_trace_eval(&tr[SIM_M_CO], t_ms), 1, 65535);
    }
    if (tr[SIM_M_TEMP].set) {
        double x = round(sim_trace_eval(&tr[SIM_M_TEMP], t_ms) * 10);
        r->present |= LW_R_TEMP;
        r->temp_c_x10 = (int16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x);
    }
    if (tr[SIM_M_BATTERY].set) {
        r->present |= LW_R_BATTERY;
        r->battery_mv = to_u16(sim_trace_eval(&tr[SIM_M_BATTERY], t_ms), 1, 65535);
    }
    if (tr[SIM_M_FLAGS].set) {
        r->present |= LW_R_FLAGS;
        r->flags = (uint8_t)to_u16(sim_trace_eval(&tr[SIM_M_FLAGS], t_ms), 1, LW_FLAG_MASK);
    }

    switch (n->alarm_frames) {
    case SIM_ALARM_ALWAYS:
        *alarm = true;
        break;
    case SIM_ALARM_NEVER:
        *alarm = false;
        break;
    case SIM_ALARM_AUTO:
        *alarm = ((r->present & LW_R_SMOKE) && r->smoke_alarm) ||
                 ((r->present & LW_R_GAS) && r->gas_lel_x10 >= 250) ||
                 ((r->present & LW_R_CO) && r->co_ppm >= 100);
        break;
    }
}
