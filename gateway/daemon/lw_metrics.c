/* SPDX-License-Identifier: Apache-2.0 */
/* Metrics text and atomic file writes. */
#include "lw_metrics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_version.h"

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
        } else if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        } else {
            size_t cap = b->cap * 2 + (size_t)n;
            char *p = realloc(b->p, cap);
            if (!p)
                b->failed = true;
            else {
                b->p = p;
                b->cap = cap;
            }
        }
    }
}

/* One metric: HELP and TYPE lines, then the sample. */
static void metric(struct buf *b, const char *name, const char *type, const char *help,
                   const char *labels, double v)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s%s%s%s %.17g\n", name, help, name, type, name,
        labels ? "{" : "", labels ? labels : "", labels ? "}" : "", v);
}

static const char *const command_codes[LW_CMDC_N] = {
    [LW_CMDC_USAGE] = "usage",       [LW_CMDC_DENIED] = "denied", [LW_CMDC_NOT_FOUND] = "not_found",
    [LW_CMDC_CONFLICT] = "conflict", [LW_CMDC_DB] = "db",
};

void lw_phonecmd_count(struct lw_phonecmd_counts *c, const char *code)
{
    if (!code) {
        c->accepted++;
        return;
    }
    for (int i = 0; i < LW_CMDC_N; i++)
        if (strcmp(code, command_codes[i]) == 0) {
            c->refused[i]++;
            return;
        }
    c->refused[LW_CMDC_USAGE]++;
}

char *lw_metrics_text(const struct lw_metrics *m)
{
    struct buf b = {.cap = 4096};
    b.p = malloc(b.cap);
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    char info[160];
    snprintf(info, sizeof(info), "site=\"%s\",version=\"%s\"", m->site, LW_VERSION);
    metric(&b, "lorawatch_info", "gauge", "Site and version of this gateway.", info, 1);
    metric(&b, "lorawatch_up", "gauge", "1 while lorawatchd runs, 0 in its last snapshot.", NULL,
           m->up);
    metric(&b, "lorawatch_start_time_seconds", "gauge", "When lorawatchd started (Unix time).",
           NULL, m->start_time_s);
    metric(&b, "lorawatch_metrics_time_seconds", "gauge", "When this snapshot was taken.", NULL,
           m->time_s);
    metric(&b, "lorawatch_metrics_interval_seconds", "gauge", "How often this file is rewritten.",
           NULL, m->interval_s);
    metric(&b, "lorawatch_nodes", "gauge", "Nodes in the registry.", NULL, (double)m->nodes);

    put(&b, "# HELP lorawatch_frames_total Radio frames by admission outcome.\n"
            "# TYPE lorawatch_frames_total counter\n");
    const struct {
        const char *outcome;
        uint64_t v;
    } out[] = {
        {"accepted", m->ingest.accepted}, {"malformed", m->ingest.malformed},
        {"network", m->ingest.network},   {"unknown_node", m->ingest.unknown},
        {"mic", m->ingest.mic},           {"replay", m->ingest.replay},
        {"ignored", m->ingest.ignored},
    };
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
        put(&b, "lorawatch_frames_total{outcome=\"%s\"} %llu\n", out[i].outcome,
            (unsigned long long)out[i].v);
    metric(&b, "lorawatch_radio_frames_total", "counter",
           "Frames the radio handed to the gateway (every outcome below starts here).", NULL,
           (double)m->frames);
    put(&b,
        "# HELP lorawatch_mesh_dropped_total Frames the mesh sink refused before admission "
        "(a malformed header is counted by admission, not here).\n"
        "# TYPE lorawatch_mesh_dropped_total counter\n"
        "lorawatch_mesh_dropped_total{reason=\"hop_limit\"} %llu\n"
        "lorawatch_mesh_dropped_total{reason=\"bad_route\"} %llu\n",
        (unsigned long long)m->mesh.hop_limit, (unsigned long long)m->mesh.bad_route);
    metric(&b, "lorawatch_mesh_duplicates_total", "counter",
           "Copies of accepted frames (other relays, replays) dropped by the mesh sink.", NULL,
           (double)m->mesh.duplicates);
    put(&b, "# HELP lorawatch_join_requests_total Join requests by outcome.\n"
            "# TYPE lorawatch_join_requests_total counter\n");
    const struct {
        const char *outcome;
        uint64_t v;
    } jo[] = {
        {"accepted", m->joins.accepted},         {"malformed", m->joins.malformed},
        {"rate_limited", m->joins.rate_limited}, {"unknown_eui", m->joins.unknown},
        {"window_closed", m->joins.window},      {"refused", m->joins.refused},
    };
    for (size_t i = 0; i < sizeof(jo) / sizeof(jo[0]); i++)
        put(&b, "lorawatch_join_requests_total{outcome=\"%s\"} %llu\n", jo[i].outcome,
            (unsigned long long)jo[i].v);
    put(&b,
        "# HELP lorawatch_control_connections_total Control-socket connections by outcome.\n"
        "# TYPE lorawatch_control_connections_total counter\n"
        "lorawatch_control_connections_total{outcome=\"accepted\"} %llu\n"
        "lorawatch_control_connections_total{outcome=\"refused\"} %llu\n",
        m->control.accepted, m->control.refused);
    metric(&b, "lorawatch_control_bad_requests_total", "counter",
           "Malformed or oversized control-socket messages.", NULL, (double)m->control.bad);
    put(&b,
        "# HELP lorawatch_mqtt_commands_total MQTT commands from duty phones by outcome and, "
        "when refused, by the reply's code.\n"
        "# TYPE lorawatch_mqtt_commands_total counter\n"
        "lorawatch_mqtt_commands_total{outcome=\"accepted\",code=\"\"} %llu\n",
        (unsigned long long)m->commands.accepted);
    for (int i = 0; i < LW_CMDC_N; i++)
        put(&b, "lorawatch_mqtt_commands_total{outcome=\"refused\",code=\"%s\"} %llu\n",
            command_codes[i], (unsigned long long)m->commands.refused[i]);
    metric(&b, "lorawatch_radio_malformed_total", "counter",
           "Transport-level input the radio backend dropped.", NULL, (double)m->radio_malformed);
    metric(&b, "lorawatch_radio_resets_total", "counter", "Radio resets by the radio watchdog.",
           NULL, (double)m->radio_resets);
    metric(&b, "lorawatch_radio_crc_errors_total", "counter",
           "Frames the radio chip received with a bad or no payload CRC.", NULL,
           (double)m->radio_crc_errors);
    metric(&b, "lorawatch_radio_watchdog_checks_total", "counter",
           "Read-backs of the radio chip's configuration by the radio watchdog.", NULL,
           (double)m->radio_watchdog_checks);
    metric(&b, "lorawatch_radio_tx_timeouts_total", "counter",
           "Transmissions whose TX done never came.", NULL, (double)m->radio_tx_timeouts);
    metric(&b, "lorawatch_radio_recoveries_failed_total", "counter",
           "Radio resets after which the chip still did not work.", NULL,
           (double)m->radio_recoveries_failed);
    metric(&b, "lorawatch_radio_fault", "gauge",
           "1 while the radio is down (its last recovery failed; retried with backoff).", NULL,
           m->radio_fault);

    metric(&b, "lorawatch_readings_stored_total", "counter", "Readings committed to SQLite.", NULL,
           (double)m->store.readings_committed);
    metric(
        &b, "lorawatch_readings_lost_total", "counter",
        "Readings rolled back with a failed commit, or shed while the database cannot take them.",
        NULL, (double)m->store.readings_lost);
    metric(&b, "lorawatch_storage_ok", "gauge",
           "1 while the database takes writes; 0: disk full, I/O error or a WAL a reader pins.",
           NULL, m->storage == LW_STORE_OK);
    {
        char lab[64];
        snprintf(lab, sizeof(lab), "state=\"%s\"", lw_store_trouble_name(m->storage));
        metric(&b, "lorawatch_storage_trouble", "gauge",
               "1 with the reason the database cannot be written (ok when it can).", lab, 1);
    }
    metric(&b, "lorawatch_storage_waiting", "gauge",
           "Alert writes kept in memory (already paged) until the database takes them.", NULL,
           (double)m->storage_waiting);
    metric(&b, "lorawatch_db_ballast_bytes", "gauge",
           "Space held beside the database for alerts, released when the disk is full.", NULL,
           (double)m->ballast_bytes);
    metric(&b, "lorawatch_db_wal_pinned_total", "counter",
           "Checkpoints a reader kept from resetting the WAL.", NULL,
           (double)m->store.checkpoints_pinned);
    metric(&b, "lorawatch_db_commit_failures_total", "counter", "Failed SQLite commits.", NULL,
           (double)m->store.commit_failures);
    metric(&b, "lorawatch_db_bytes", "gauge", "Database size including its WAL.", NULL,
           (double)m->db_bytes);

    put(&b,
        "# HELP lorawatch_alerts_total Alert transitions.\n"
        "# TYPE lorawatch_alerts_total counter\n"
        "lorawatch_alerts_total{event=\"raised\"} %llu\n"
        "lorawatch_alerts_total{event=\"cleared\"} %llu\n",
        (unsigned long long)m->alerts_raised, (unsigned long long)m->alerts_cleared);
    metric(&b, "lorawatch_alerts_active", "gauge", "Alerts raised and not cleared.", NULL,
           (double)m->alerts_active);

    metric(&b, "lorawatch_mqtt_connected", "gauge", "1 while connected to the broker.", NULL,
           m->mqtt_connected);
    metric(&b, "lorawatch_mqtt_outbox", "gauge",
           "Messages stored but not yet acknowledged by the broker.", NULL, (double)m->outbox);
    metric(&b, "lorawatch_mqtt_published_total", "counter", "MQTT publications.", NULL,
           (double)m->mqtt.published);
    metric(&b, "lorawatch_mqtt_acked_total", "counter",
           "Tracked publications the broker acknowledged.", NULL, (double)m->mqtt.acked);
    metric(&b, "lorawatch_mqtt_connects_total", "counter", "Successful broker connections.", NULL,
           (double)m->mqtt.connects);
    metric(&b, "lorawatch_mqtt_takeovers_total", "counter",
           "Sessions another client with this client id took over (two gateways, one id).", NULL,
           (double)m->mqtt.takeovers);

    metric(&b, "lorawatch_clock_synchronized", "gauge",
           "1 when the wall clock is known to be synchronised.", NULL, m->clock_synced);
    metric(&b, "lorawatch_loop_lag_seconds", "gauge",
           "How late the last periodic loop timer fired.", NULL, m->loop_lag_s);
    metric(&b, "lorawatch_loop_lag_max_seconds", "gauge", "Largest loop lag since start.", NULL,
           m->loop_lag_max_s);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

int lw_metrics_write(const char *path, const struct lw_metrics *m)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
        return LW_ERR_INVAL;
    char *text = lw_metrics_text(m);
    if (!text)
        return LW_ERR_NOMEM;
    /* A fresh, exclusively created file: a link planted at a fixed temporary name in a shared
     * textfile directory cannot make us write elsewhere. */
    int fd = mkstemp(tmp);
    int rc = LW_ERR_IO;
    if (fd >= 0) {
        fchmod(fd, 0640);
        size_t len = strlen(text), off = 0;
        while (off < len) {
            ssize_t n = write(fd, text + off, len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        if (close(fd) == 0 && off == len && rename(tmp, path) == 0)
            rc = LW_OK;
        else
            unlink(tmp);
    }
    free(text);
    return rc;
}
