/* SPDX-License-Identifier: Apache-2.0 */
/* Summary of a simulator run for people (one line) and for scripts (JSON through cJSON). */
#include "sim_report.h"
#include "lw_error.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static void format_virtual(uint64_t ms, char *out, size_t cap)
{
    if (ms % 60000 == 0)
        snprintf(out, cap, "%llu min", (unsigned long long)(ms / 60000));
    else if (ms >= 60000)
        snprintf(out, cap, "%.1f min", (double)ms / 60000.0);
    else
        snprintf(out, cap, "%.1f s", (double)ms / 1000.0);
}

void sim_report_print(const struct sim_stats *st, FILE *out)
{
    char virt[32];

    format_virtual(st->virtual_ms, virt, sizeof(virt));
    fprintf(out, "lorawatch-sim: ");
    if (st->scenario)
        fprintf(out, "scenario %s: ", st->scenario);
    else if (st->n_nodes == 1 && st->nodes[0].join)
        fprintf(out, "node %s: ", st->nodes[0].name);
    else if (st->n_nodes == 1)
        fprintf(out, "node 0x%04X: ", st->nodes[0].address);
    fprintf(out, "%llu frame%s from %zu node%s (ALARM %llu) over %s virtual in %.1f s",
            (unsigned long long)st->frames, st->frames == 1 ? "" : "s", st->n_nodes,
            st->n_nodes == 1 ? "" : "s", (unsigned long long)st->alarm_frames, virt,
            (double)st->real_ms / 1000.0);
    if (st->interrupted)
        fprintf(out, " (interrupted)");
    fputc('\n', out);
    for (size_t i = 0; i < st->n_nodes; i++) {
        const struct sim_node_stats *n = &st->nodes[i];
        if (!n->join)
            continue;
        if (n->joined_ms >= 0)
            fprintf(out, "lorawatch-sim: node %s joined as 0x%04X at +%.1f s after %u request%s",
                    n->name, n->address, (double)n->joined_ms / 1000.0, (unsigned)n->join_requests,
                    n->join_requests == 1 ? "" : "s");
        else
            fprintf(out, "lorawatch-sim: node %s did not join (%u request%s)", n->name,
                    (unsigned)n->join_requests, n->join_requests == 1 ? "" : "s");
        if (n->skipped)
            fprintf(out, "; %llu report%s skipped before the join", (unsigned long long)n->skipped,
                    n->skipped == 1 ? "" : "s");
        fputc('\n', out);
    }
    if (st->mesh) {
        const struct sim_mesh_stats *m = &st->mesh_st;
        fprintf(out,
                "lorawatch-sim: mesh: %llu/%llu uplinks delivered (%.1f %%), alarms %llu/%llu "
                "delivered (%llu acknowledged), alarm latency median %.0f ms p99 %.0f ms; "
                "%llu forwarded, %llu cancelled, %llu extra copies; lost: %llu collision, %llu "
                "link, %llu half-duplex, %llu not sent (radio busy); channel use",
                (unsigned long long)m->delivered, (unsigned long long)m->sent,
                m->sent ? 100.0 * (double)m->delivered / (double)m->sent : 0.0,
                (unsigned long long)m->alarms_delivered, (unsigned long long)m->alarms,
                (unsigned long long)m->alarms_acked, m->alarm_latency_median_ms,
                m->alarm_latency_p99_ms, (unsigned long long)m->forwarded,
                (unsigned long long)m->cancelled, (unsigned long long)m->copies,
                (unsigned long long)m->lost_collision, (unsigned long long)m->lost_link,
                (unsigned long long)m->lost_busy, (unsigned long long)m->tx_busy);
        for (uint32_t c = 0; c < m->channels && c < 16; c++)
            fprintf(out, " %.2f %%", 100.0 * m->utilisation[c]);
        fputc('\n', out);
    }
    if (st->send_errors)
        fprintf(out, "lorawatch-sim: %llu datagram%s could not be sent (last error: %s)\n",
                (unsigned long long)st->send_errors, st->send_errors == 1 ? "" : "s",
                uv_strerror(st->last_send_error));
    fflush(out);
}

char *sim_report_json(const struct sim_stats *st)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *nodes = NULL;
    char *text = NULL;

    if (!root)
        return NULL;
    if (st->scenario)
        cJSON_AddStringToObject(root, "scenario", st->scenario);
    else
        cJSON_AddNullToObject(root, "scenario");
    cJSON_AddNumberToObject(root, "start_ms", (double)st->start_ms);
    cJSON_AddNumberToObject(root, "frames", (double)st->frames);
    cJSON_AddNumberToObject(root, "alarm_frames", (double)st->alarm_frames);
    cJSON_AddNumberToObject(root, "node_count", (double)st->n_nodes);
    cJSON_AddNumberToObject(root, "datagrams", (double)st->datagrams);
    cJSON_AddNumberToObject(root, "ticks", (double)st->ticks);
    cJSON_AddNumberToObject(root, "send_errors", (double)st->send_errors);
    cJSON_AddNumberToObject(root, "airtime_ms", (double)(st->airtime_us / 1000));
    cJSON_AddNumberToObject(root, "virtual_ms", (double)st->virtual_ms);
    cJSON_AddNumberToObject(root, "real_ms", (double)st->real_ms);
    cJSON_AddBoolToObject(root, "interrupted", st->interrupted);
    cJSON_AddNumberToObject(root, "rx_datagrams", (double)st->rx_datagrams);
    cJSON_AddNumberToObject(root, "rx_malformed", (double)st->rx_malformed);
    cJSON_AddNumberToObject(root, "reply_waits", (double)st->reply_waits);
    if (st->mesh) {
        const struct sim_mesh_stats *m = &st->mesh_st;
        cJSON *o = cJSON_AddObjectToObject(root, "mesh");
        cJSON_AddNumberToObject(o, "uplinks_sent", (double)m->sent);
        cJSON_AddNumberToObject(o, "uplinks_delivered", (double)m->delivered);
        cJSON_AddNumberToObject(o, "delivery_ratio",
                                m->sent ? (double)m->delivered / (double)m->sent : 0);
        cJSON_AddNumberToObject(o, "routine_sent", (double)m->routine_sent);
        cJSON_AddNumberToObject(o, "routine_delivered", (double)m->routine_delivered);
        cJSON_AddNumberToObject(o, "copies_at_gateway", (double)m->copies);
        cJSON_AddNumberToObject(o, "alarms", (double)m->alarms);
        cJSON_AddNumberToObject(o, "alarms_delivered", (double)m->alarms_delivered);
        cJSON_AddNumberToObject(o, "alarms_acked", (double)m->alarms_acked);
        cJSON_AddNumberToObject(o, "alarm_latency_median_ms", m->alarm_latency_median_ms);
        cJSON_AddNumberToObject(o, "alarm_latency_p99_ms", m->alarm_latency_p99_ms);
        cJSON_AddNumberToObject(o, "alarm_latency_max_ms", m->alarm_latency_max_ms);
        cJSON_AddNumberToObject(o, "transmissions", (double)m->transmissions);
        cJSON_AddNumberToObject(o, "forwarded", (double)m->forwarded);
        cJSON_AddNumberToObject(o, "cancelled", (double)m->cancelled);
        cJSON_AddNumberToObject(o, "lost_link", (double)m->lost_link);
        cJSON_AddNumberToObject(o, "lost_collision", (double)m->lost_collision);
        cJSON_AddNumberToObject(o, "lost_half_duplex", (double)m->lost_busy);
        cJSON_AddNumberToObject(o, "lost_weak", (double)m->lost_weak);
        cJSON_AddNumberToObject(o, "not_sent_radio_busy", (double)m->tx_busy);
        cJSON *u = cJSON_AddArrayToObject(o, "channel_utilisation");
        for (uint32_t c = 0; u && c < m->channels && c < 16; c++)
            cJSON_AddItemToArray(u, cJSON_CreateNumber(m->utilisation[c]));
    }
    nodes = cJSON_AddArrayToObject(root, "nodes");
    for (size_t i = 0; nodes && i < st->n_nodes; i++) {
        const struct sim_node_stats *n = &st->nodes[i];
        cJSON *o = cJSON_CreateObject();
        char addr[8];
        if (!o)
            break;
        snprintf(addr, sizeof(addr), "0x%04X", n->address);
        cJSON_AddStringToObject(o, "name", n->name ? n->name : "");
        cJSON_AddStringToObject(o, "address", addr);
        cJSON_AddNumberToObject(o, "frames", (double)n->frames);
        cJSON_AddNumberToObject(o, "alarm_frames", (double)n->alarm_frames);
        if (n->frames) {
            cJSON_AddNumberToObject(o, "first_fcnt", (double)n->first_fcnt);
            cJSON_AddNumberToObject(o, "last_fcnt", (double)n->last_fcnt);
        }
        if (n->first_alarm_ms >= 0)
            cJSON_AddNumberToObject(o, "first_alarm_ms", (double)n->first_alarm_ms);
        else
            cJSON_AddNullToObject(o, "first_alarm_ms");
        cJSON_AddNumberToObject(o, "downlinks", (double)n->downlinks);
        if (st->mesh) {
            cJSON_AddNumberToObject(o, "forwarded", (double)n->forwarded);
            cJSON_AddNumberToObject(o, "cancelled", (double)n->cancelled);
            cJSON_AddBoolToObject(o, "failed", n->failed);
        }
        cJSON_AddBoolToObject(o, "join", n->join);
        if (n->join) {
            cJSON_AddNumberToObject(o, "join_requests", (double)n->join_requests);
            if (n->joined_ms >= 0)
                cJSON_AddNumberToObject(o, "joined_ms", (double)n->joined_ms);
            else
                cJSON_AddNullToObject(o, "joined_ms");
            cJSON_AddNumberToObject(o, "skipped", (double)n->skipped);
        }
        if (n->error)
            cJSON_AddStringToObject(o, "error", lw_strerror(n->error));
        cJSON_AddItemToArray(nodes, o);
    }
    text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

int sim_report_write_json(const struct sim_stats *st, const char *path, char *err, size_t errlen)
{
    char *text = sim_report_json(st);
    FILE *f;
    int rc = LW_OK;

    if (!text) {
        snprintf(err, errlen, "%s: out of memory", path);
        return LW_ERR_NOMEM;
    }
    f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(text);
        return LW_ERR_IO;
    }
    if (fprintf(f, "%s\n", text) < 0 || fflush(f) != 0)
        rc = LW_ERR_IO;
    if (f != stdout && fclose(f) != 0)
        rc = LW_ERR_IO;
    if (rc != LW_OK)
        snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
    free(text);
    return rc;
}
