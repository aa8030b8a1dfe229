/* SPDX-License-Identifier: Apache-2.0 */
/* Alert latency of a running lorawatchd: frames into its sim radio at a steady background rate, an
 * alert raised or cleared every interval, timed from the datagram leaving here to the alert
 * arriving at an MQTT subscriber; beside it a bare QoS 1 publish->subscribe through the same
 * broker at the same moments, the reference the latency is judged against.
 * usage: bench_latency --udp-port P --mqtt-port P [--site S] [--seconds S] [--rate FPS]
 *                      [--alert-interval-ms MS] [--fcnt-base N] [--json FILE] */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"
#include "lw_error.h"
#include "lw_simwire.h"

struct shared {
    pthread_mutex_t mu;
    size_t cap;
    double *alert_sent, *alert_recv;
    size_t alerts_sent, alerts_recv;
    unsigned state_mismatches;
    double *probe_sent, *probe_recv;
    size_t probes_sent, probes_recv;
    unsigned subscribed;
    char probe_topic[96];
};

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *qos)
{
    struct shared *s = obj;
    (void)mosq, (void)mid, (void)n, (void)qos;
    pthread_mutex_lock(&s->mu);
    s->subscribed++;
    pthread_mutex_unlock(&s->mu);
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    double now = bench_mono_s();
    struct shared *s = obj;
    (void)mosq;
    /* libmosquitto terminates every payload with a NUL byte. */
    const char *p = msg->payloadlen > 0 ? msg->payload : "";
    pthread_mutex_lock(&s->mu);
    if (strcmp(msg->topic, s->probe_topic) == 0) {
        size_t k = strtoul(p, NULL, 10);
        if (k < s->probes_sent && s->probe_recv[k] == 0) {
            s->probe_recv[k] = now;
            s->probes_recv++;
        }
    } else if (msg->payloadlen > 0) {
        /* Alerts come in the order their frames were sent: the k-th message answers the k-th
         * transition, raised for even k and cleared for odd k. */
        size_t k = s->alerts_recv;
        bool cleared = strstr(p, "\"state\":\"cleared\"") != NULL;
        if (k < s->alerts_sent) {
            if (cleared != (k % 2 == 1))
                s->state_mismatches++;
            s->alert_recv[k] = now;
            s->alerts_recv++;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static size_t latencies_ms(const double *sent, const double *recv, size_t n, double *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (recv[i] > 0)
            out[m++] = (recv[i] - sent[i]) * 1e3;
    return m;
}

int main(int argc, char **argv)
{
    unsigned udp_port = 0, mqtt_port = 0, rate = 1000, interval_ms = 100;
    uint32_t fcnt_base = 1;
    double seconds = 60;
    const char *site = "bench", *json = NULL;
    static const struct option opts[] = {{"udp-port", required_argument, NULL, 'u'},
                                         {"mqtt-port", required_argument, NULL, 'p'},
                                         {"site", required_argument, NULL, 's'},
                                         {"seconds", required_argument, NULL, 't'},
                                         {"rate", required_argument, NULL, 'r'},
                                         {"alert-interval-ms", required_argument, NULL, 'i'},
                                         {"fcnt-base", required_argument, NULL, 'f'},
                                         {"json", required_argument, NULL, 'j'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "u:p:s:t:r:i:f:j:", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            udp_port = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'p':
            mqtt_port = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 's':
            site = optarg;
            break;
        case 't':
            seconds = strtod(optarg, NULL);
            break;
        case 'r':
            rate = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'i':
            interval_ms = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'f':
            fcnt_base = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'j':
            json = optarg;
            break;
        default:
            udp_port = 0;
            break;
        }
    }
    if (!udp_port || !mqtt_port || rate == 0 || rate > 100000 || interval_ms == 0 || seconds <= 0 ||
        seconds > 3600 || fcnt_base == 0) {
        fprintf(stderr, "usage: bench_latency --udp-port P --mqtt-port P [--site S] [--seconds S] "
                        "[--rate FPS] [--alert-interval-ms MS] [--fcnt-base N] [--json FILE]\n");
        return 2;
    }

    struct shared s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    s.cap = (size_t)(seconds * 1000.0 / interval_ms) + 2;
    s.alert_sent = calloc(s.cap, sizeof(double));
    s.alert_recv = calloc(s.cap, sizeof(double));
    s.probe_sent = calloc(s.cap, sizeof(double));
    s.probe_recv = calloc(s.cap, sizeof(double));
    double *lat = calloc(s.cap, sizeof(double));
    if (!s.alert_sent || !s.alert_recv || !s.probe_sent || !s.probe_recv || !lat)
        return 1;
    snprintf(s.probe_topic, sizeof(s.probe_topic), "bench/roundtrip/%d", (int)getpid());

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)udp_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
        perror("bench_latency: udp socket");
        return 1;
    }

    mosquitto_lib_init();
    char id[64], alert_topic[128];
    snprintf(id, sizeof(id), "bench_latency-%d", (int)getpid());
    snprintf(alert_topic, sizeof(alert_topic), "lorawatch/%s/alert/+", site);
    struct mosquitto *mosq = mosquitto_new(id, true, &s);
    if (!mosq)
        return 1;
    mosquitto_subscribe_callback_set(mosq, on_subscribe);
    mosquitto_message_callback_set(mosq, on_message);
    if (mosquitto_connect(mosq, "127.0.0.1", (int)mqtt_port, 30) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(mosq) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "bench_latency: no broker on 127.0.0.1:%u\n", mqtt_port);
        return 1;
    }
    mosquitto_subscribe(mosq, NULL, alert_topic, 1);
    mosquitto_subscribe(mosq, NULL, s.probe_topic, 1);
    double until = bench_mono_s() + 5;
    for (;;) {
        pthread_mutex_lock(&s.mu);
        unsigned n = s.subscribed;
        pthread_mutex_unlock(&s.mu);
        if (n >= 2)
            break;
        if (bench_mono_s() > until) {
            fprintf(stderr, "bench_latency: subscriptions not acknowledged by the broker\n");
            return 1;
        }
        usleep(10000);
    }

    /* Steady background from every node but the alert node, one frame per period; the alert
     * frames and probes ride on the same schedule, probes half an interval after alerts. */
    uint32_t *fcnt = calloc(BENCH_NODES + 1, sizeof(uint32_t));
    if (!fcnt)
        return 1;
    for (unsigned a = 0; a <= BENCH_NODES; a++)
        fcnt[a] = fcnt_base;
    const double period = 1.0 / rate, interval = interval_ms / 1000.0;
    const double t0 = bench_mono_s() + 0.1, t_end = t0 + seconds;
    double next_alert = t0 + interval / 2, next_probe = t0 + interval;
    unsigned long bg_sent = 0, send_errors = 0;
    unsigned bg_addr = 0;
    uint8_t dg[LW_SIMWIRE_MAX_LEN];
    for (unsigned long tick = 0;; tick++) {
        double t = t0 + (double)tick * period;
        if (t >= t_end)
            break;
        bench_sleep_until(t);
        double now = bench_mono_s();
        if (now >= next_alert && s.alerts_sent < s.cap) {
            size_t k = s.alerts_sent;
            int n = bench_datagram(BENCH_ALERT_NODE, fcnt[BENCH_ALERT_NODE]++, (unsigned)k,
                                   k % 2 == 0, dg, sizeof(dg));
            pthread_mutex_lock(&s.mu);
            s.alert_sent[k] = bench_mono_s();
            s.alerts_sent++;
            pthread_mutex_unlock(&s.mu);
            if (n < 0 || send(fd, dg, (size_t)n, 0) != n)
                send_errors++;
            next_alert += interval;
        }
        if (now >= next_probe && s.probes_sent < s.cap) {
            char payload[32];
            int len = snprintf(payload, sizeof(payload), "%zu", s.probes_sent);
            pthread_mutex_lock(&s.mu);
            s.probe_sent[s.probes_sent] = bench_mono_s();
            s.probes_sent++;
            pthread_mutex_unlock(&s.mu);
            if (mosquitto_publish(mosq, NULL, s.probe_topic, len, payload, 1, false) !=
                MOSQ_ERR_SUCCESS)
                send_errors++;
            next_probe += interval;
        }
        bg_addr = bg_addr % (BENCH_NODES - 1) + 1; /* 1 .. BENCH_NODES-1 */
        int n = bench_datagram(bg_addr, fcnt[bg_addr]++, (unsigned)tick, false, dg, sizeof(dg));
        if (n < 0 || send(fd, dg, (size_t)n, 0) != n)
            send_errors++;
        else
            bg_sent++;
    }
    double t_sent = bench_mono_s();
    /* Stragglers: a few seconds at most. */
    until = t_sent + 3;
    for (;;) {
        pthread_mutex_lock(&s.mu);
        bool all = s.alerts_recv >= s.alerts_sent && s.probes_recv >= s.probes_sent;
        pthread_mutex_unlock(&s.mu);
        if (all || bench_mono_s() > until)
            break;
        usleep(10000);
    }
    mosquitto_disconnect(mosq);
    mosquitto_loop_stop(mosq, false);
    mosquitto_destroy(mosq);
    mosquitto_lib_cleanup();
    close(fd);

    pthread_mutex_lock(&s.mu);
    size_t na = latencies_ms(s.alert_sent, s.alert_recv, s.alerts_sent, lat);
    double a50 = bench_percentile(lat, na, 50), a99 = bench_percentile(lat, na, 99),
           amax = na ? lat[na - 1] : NAN;
    size_t np = latencies_ms(s.probe_sent, s.probe_recv, s.probes_sent, lat);
    double b50 = bench_percentile(lat, np, 50), b99 = bench_percentile(lat, np, 99),
           bmax = np ? lat[np - 1] : NAN;
    double bg_fps = bg_sent / (t_sent - t0);
    printf("%-32s %14s\n", "figure", "value");
    bench_row("latency_background_fps", bg_fps, 0);
    bench_row("alerts_sent", (double)s.alerts_sent, 0);
    bench_row("alerts_received", (double)na, 0);
    bench_row("alert_state_mismatches", s.state_mismatches, 0);
    bench_row("alert_latency_p50_ms", a50, 3);
    bench_row("alert_latency_p99_ms", a99, 3);
    bench_row("alert_latency_max_ms", amax, 3);
    bench_row("broker_roundtrip_p50_ms", b50, 3);
    bench_row("broker_roundtrip_p99_ms", b99, 3);
    bench_row("broker_roundtrip_max_ms", bmax, 3);
    bench_row("alert_p99_vs_broker_p99", a99 / b99, 2);
    if (send_errors)
        bench_row("send_errors", (double)send_errors, 0);
    int rc = 0;
    if (json) {
        struct bench_json j;
        if (!bench_json_open(&j, json))
            return 1;
        bench_json_num(&j, "alert_latency_p50_ms", a50, 3);
        bench_json_num(&j, "alert_latency_p99_ms", a99, 3);
        bench_json_num(&j, "alert_latency_max_ms", amax, 3);
        bench_json_num(&j, "broker_roundtrip_p50_ms", b50, 3);
        bench_json_num(&j, "broker_roundtrip_p99_ms", b99, 3);
        bench_json_num(&j, "broker_roundtrip_max_ms", bmax, 3);
        bench_json_num(&j, "alert_p99_vs_broker_p99", a99 / b99, 2);
        bench_json_num(&j, "latency_alerts_sent", (double)s.alerts_sent, 0);
        bench_json_num(&j, "latency_alerts_received", (double)na, 0);
        bench_json_num(&j, "latency_state_mismatches", s.state_mismatches, 0);
        bench_json_num(&j, "latency_background_fps", bg_fps, 0);
        bench_json_num(&j, "latency_background_frames", (double)bg_sent, 0);
        bench_json_num(&j, "latency_seconds", seconds, 0);
        if (!bench_json_close(&j))
            rc = 1;
    }
    pthread_mutex_unlock(&s.mu);
    if (na == 0 || np == 0) {
        fprintf(stderr, "bench_latency: %s never arrived\n", na == 0 ? "alerts" : "probes");
        rc = 1;
    }
    free(fcnt);
    free(lat);
    free(s.alert_sent);
    free(s.alert_recv);
    free(s.probe_sent);
    free(s.probe_recv);
    return rc;
}
