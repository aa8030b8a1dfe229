/* lorawatchd: parse options, load the configuration, start the gateway, run the loop, stop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <uv.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_gateway.h"
#include "lw_log.h"
#include "lw_version.h"

#define DEFAULT_CONFIG "/etc/lorawatch/lorawatch.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatchd [-dnv] [-f FILE]\n"
            "       lorawatchd --help-config\n"
            "\n"
            "LoRa flood and fire warning gateway. Receives frames from paired sensor nodes,\n"
            "verifies and stores their readings in SQLite, applies the threshold rules and\n"
            "publishes warnings over MQTT to the duty staff.\n"
            "\n"
            "Options:\n"
            "  -f, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
            "  -n, --check         check the configuration, print problems as FILE:LINE and\n"
            "                      exit: 0 when valid, 1 when not\n"
            "  -d, --foreground    stay in the foreground and log to stderr (always the case\n"
            "                      under systemd, which is detected)\n"
            "  -v, --verbose       log debug messages (overrides [gateway] log_level)\n"
            "      --help-config   list every configuration key with default, range, meaning\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "Signals: SIGTERM and SIGINT commit pending readings, publish the offline status\n"
            "and exit 0.\n"
            "\n"
            "Exit status: 0 success; 1 configuration invalid or start-up failed; 2 usage error.\n"
            "See lorawatchd(8) and lorawatch.conf(5).\n");
}

struct daemon_state {
    uv_loop_t loop;
    uv_signal_t sig[3];
    struct lw_gateway *gw;
    bool stopping;
};

static void signals_closed(uv_handle_t *h)
{
    (void)h;
}

static void gateway_stopped(void *arg)
{
    struct daemon_state *d = arg;
    d->gw = NULL;
    for (int i = 0; i < 3; i++)
        uv_close((uv_handle_t *)&d->sig[i], signals_closed);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon_state *d = h->data;
    if (signum == SIGHUP) {
        lw_log(LW_LOG_NOTICE, "SIGHUP: reloading is not supported yet; restart to apply changes");
        return;
    }
    if (d->stopping)
        return;
    d->stopping = true;
    lw_log(LW_LOG_NOTICE, "%s: stopping", strsignal(signum));
    sd_notify(0, "STOPPING=1");
    lw_gateway_stop(d->gw, gateway_stopped, d);
}

static void print_config_error(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'f'}, {"check", no_argument, NULL, 'n'},
        {"foreground", no_argument, NULL, 'd'},   {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {"help-config", no_argument, NULL, 'C'},  {NULL, 0, NULL, 0},
    };
    const char *path = DEFAULT_CONFIG;
    bool check = false, foreground = false, verbose = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:ndvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            path = optarg;
            break;
        case 'n':
            check = true;
            break;
        case 'd':
            foreground = true;
            break;
        case 'v':
            verbose = true;
            break;
        case 'V':
            printf("lorawatchd %s\n", LW_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        case 'C':
            lw_config_print_keys(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "lorawatchd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    struct lw_config *cfg = lw_config_load(path, print_config_error, NULL);
    if (!cfg) {
        fprintf(stderr, "lorawatchd: %s: configuration not valid\n", path);
        return 1;
    }
    if (check) {
        printf("%s: configuration OK (%zu nodes, %zu rules)\n", path, cfg->n_nodes, cfg->n_rules);
        lw_config_free(cfg);
        return 0;
    }

    lw_log_init("lorawatchd", verbose ? LW_LOG_DEBUG : lw_log_level_parse(cfg->log_level));
    /* systemd supervises us directly (Type=notify): never fork under it. */
    if (!foreground && !getenv("NOTIFY_SOCKET") && !getenv("INVOCATION_ID")) {
        if (daemon(0, 0) != 0) {
            perror("lorawatchd: daemon");
            lw_config_free(cfg);
            return 1;
        }
        lw_log_to_syslog();
    }
    signal(SIGPIPE, SIG_IGN);

    struct daemon_state d = {0};
    uv_loop_init(&d.loop);
    int rc = lw_gateway_new(&d.loop, cfg, true, &d.gw);
    if (rc != LW_OK) {
        lw_log(LW_LOG_ERR, "start-up failed: %s", lw_strerror(rc));
        uv_run(&d.loop, UV_RUN_DEFAULT); /* let partly started modules release their handles */
        uv_loop_close(&d.loop);
        lw_config_free(cfg);
        return 1;
    }
    static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        uv_signal_start(&d.sig[i], on_signal, signums[i]);
    }
    lw_log(LW_LOG_NOTICE, "lorawatchd %s started", LW_VERSION);
    sd_notify(0, "READY=1\nSTATUS=receiving");

    uv_run(&d.loop, UV_RUN_DEFAULT);
    int close_rc = uv_loop_close(&d.loop);
    if (close_rc != 0)
        lw_log(LW_LOG_ERR, "internal: loop closed with handles still open");
    lw_config_free(cfg);
    lw_log(LW_LOG_NOTICE, "exited cleanly");
    return close_rc == 0 ? 0 : 1;
}
