/* SPDX-License-Identifier: Apache-2.0 */
/* lorawatchd: parse options, load the configuration, start the gateway, run the loop, stop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <uv.h>

#include "lw_config.h"
#include "lw_error.h"
#include "lw_secrets.h"
#include "lw_gateway.h"
#include "lw_log.h"
#include "lw_radio_chip.h"
#include "lw_version.h"
#include "lw_sdnotify.h"

#define DEFAULT_CONFIG "/etc/lorawatch/lorawatch.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: lorawatchd [-dv] [-f FILE]\n"
            "       lorawatchd -n [--strict] [-f FILE]\n"
            "       lorawatchd --help-config\n"
            "       lorawatchd --radio-selftest [-f FILE]\n"
            "\n"
            "LoRa flood and fire warning gateway. Receives frames from paired sensor nodes,\n"
            "verifies and stores their readings in SQLite, applies the threshold rules and\n"
            "publishes warnings over MQTT to the duty staff.\n"
            "\n"
            "Options:\n"
            "  -f, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
            "  -n, --check         check the configuration, print problems as FILE:LINE and\n"
            "                      exit: 0 when valid, 1 when not. Settings that are valid but\n"
            "                      wrong for a gateway in service (no radio chosen or the\n"
            "                      simulator's, a published node key, no duty roster) are\n"
            "                      printed as WARNING: lines and do not change the status\n"
            "      --strict        with -n: exit 1 when there is any warning as well\n"
            "  -d, --foreground    stay in the foreground and log to stderr (always the case\n"
            "                      under systemd, which is detected)\n"
            "  -v, --verbose       log debug messages (overrides [gateway] log_level)\n"
            "      --help-config   list every configuration key with default, range, meaning\n"
            "      --radio-selftest  probe the radio chip of [radio] backend sx127x/sx126x,\n"
            "                      configure it, print what was found and exit: 0 when it\n"
            "                      answers and holds its configuration, 1 when not\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          print this help and exit\n"
            "\n"
            "Signals: SIGTERM and SIGINT commit pending readings, publish the offline status\n"
            "and exit 0. SIGHUP reloads rules, nodes and log_level from the same file; a file\n"
            "with errors is refused and the running configuration stays in force.\n"
            "\n"
            "Exit status: 0 success; 1 configuration invalid or start-up failed; 2 usage error.\n"
            "See lorawatchd(8) and lorawatch.conf(5).\n");
}

struct daemon_state {
    uv_loop_t loop;
    uv_signal_t sig[4];
    struct lw_gateway *gw;
    struct lw_sdnotify *wd;
    struct lw_config *cfg;
    const char *path;
    bool verbose;
    bool stopping;
};

static const int signums[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

static void print_config_error(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "%s\n", msg);
}

static void print_config_warning(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "WARNING: %s\n", msg);
}

static void log_config_warning(void *arg, const char *msg)
{
    (void)arg;
    lw_log(LW_LOG_WARNING, "%s", msg);
}

static void log_config_error(void *arg, const char *msg)
{
    (void)arg;
    lw_log(LW_LOG_ERR, "%s", msg);
}

static void gateway_stopped(void *arg)
{
    struct daemon_state *d = arg;
    d->gw = NULL;
    for (int i = 0; i < 4; i++)
        uv_close((uv_handle_t *)&d->sig[i], NULL);
}

static void reload(struct daemon_state *d)
{
    sd_notify(0, "RELOADING=1");
    lw_log(LW_LOG_NOTICE, "SIGHUP: reloading %s", d->path);
    struct lw_config *next = lw_config_load(d->path, log_config_error, NULL);
    if (!next) {
        lw_log(LW_LOG_ERR, "reload refused: %s is not valid; the running configuration stays",
               d->path);
    } else if (lw_gateway_reload(d->gw, next) != LW_OK) {
        lw_log(LW_LOG_ERR, "reload failed: out of memory; the running configuration stays");
        lw_config_free(next);
    } else {
        lw_config_free(d->cfg);
        d->cfg = next;
        lw_log_set_level(d->verbose ? LW_LOG_DEBUG : lw_log_level_parse(next->log_level));
    }
    sd_notify(0, "READY=1");
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon_state *d = h->data;
    if (d->stopping)
        return;
    if (signum == SIGHUP) {
        reload(d);
        return;
    }
    if (signum == SIGUSR1) {
        /* Test-only: block the loop so a test can watch the watchdog keep-alives stop. */
        const char *secs = getenv("LORAWATCHD_TEST_STALL_S");
        if (secs) {
            lw_log(LW_LOG_WARNING, "test switch: stalling the event loop for %s s", secs);
            sleep((unsigned)atoi(secs));
        }
        return;
    }
    d->stopping = true;
    lw_log(LW_LOG_NOTICE, "%s: stopping", strsignal(signum));
    sd_notify(0, "STOPPING=1");
    lw_sdnotify_stop(d->wd);
    d->wd = NULL;
    lw_gateway_stop(d->gw, gateway_stopped, d);
}

/* Node keys, the MQTT password, the TLS key and the readings must not be open to other users. */
static int check_secrets(const struct lw_config *cfg, const char *path)
{
    char err[512], db[LW_PATH_MAX + 16];
    int bad = 0;
    if ((cfg->n_nodes || cfg->mqtt_password[0]) &&
        lw_check_private(path, "configuration with keys", err, sizeof(err)) != LW_OK) {
        lw_log(LW_LOG_ERR, "%s", err);
        bad++;
    }
    if (cfg->mqtt_tls_key_file[0] &&
        lw_check_private(cfg->mqtt_tls_key_file, "TLS private key", err, sizeof(err)) != LW_OK) {
        lw_log(LW_LOG_ERR, "%s", err);
        bad++;
    }
    lw_config_db_path(cfg, db, sizeof(db));
    static const char *const suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[LW_PATH_MAX + 32];
        snprintf(f, sizeof(f), "%s%s", db, suffix[i]);
        if (lw_check_private(f, "database", err, sizeof(err)) != LW_OK) {
            lw_log(LW_LOG_ERR, "%s", err);
            bad++;
        }
    }
    return bad ? LW_ERR_CONFIG : LW_OK;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'f'},
        {"check", no_argument, NULL, 'n'},
        {"strict", no_argument, NULL, 'S'},
        {"foreground", no_argument, NULL, 'd'},
        {"verbose", no_argument, NULL, 'v'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {"help-config", no_argument, NULL, 'C'},
        {"radio-selftest", no_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    struct daemon_state d = {.path = DEFAULT_CONFIG};
    bool check = false, strict = false, foreground = false, selftest = false;
    int c;
    while ((c = getopt_long(argc, argv, "f:ndvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f':
            d.path = optarg;
            break;
        case 'n':
            check = true;
            break;
        case 'd':
            foreground = true;
            break;
        case 'v':
            d.verbose = true;
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
        case 'R':
            selftest = true;
            break;
        case 'S':
            strict = true;
            break;
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
    if (strict && !check) {
        fprintf(stderr, "lorawatchd: --strict goes with -n (--check)\n");
        return 2;
    }

    d.cfg = lw_config_load(d.path, print_config_error, NULL);
    if (!d.cfg) {
        fprintf(stderr, "lorawatchd: %s: configuration not valid\n", d.path);
        return 1;
    }
    if (selftest) {
        /* The chip's own messages (what failed and why) go to stderr with the result. */
        lw_log_init("lorawatchd", d.verbose ? LW_LOG_DEBUG : LW_LOG_INFO);
        int st = lw_radio_chip_selftest(d.cfg, &lw_spi_linux_ops, &lw_gpio_linux_ops, stdout);
        lw_config_free(d.cfg);
        return st == LW_OK ? 0 : 1;
    }
    if (check) {
        size_t warnings = lw_config_warnings(d.cfg, print_config_warning, NULL);
        if (strict && warnings) {
            fprintf(stderr, "lorawatchd: %s: %zu warning%s, refused under --strict\n", d.path,
                    warnings, warnings == 1 ? "" : "s");
            lw_config_free(d.cfg);
            return 1;
        }
        printf("%s: configuration OK (%zu nodes, %zu rules, %zu warning%s)\n", d.path,
               d.cfg->n_nodes, d.cfg->n_rules, warnings, warnings == 1 ? "" : "s");
        lw_config_free(d.cfg);
        return 0;
    }

    lw_log_init("lorawatchd", d.verbose ? LW_LOG_DEBUG : lw_log_level_parse(d.cfg->log_level));
    /* A package's configuration leaves the radio for the admin to choose: starting on the
     * simulator's default would run a gateway that hears nothing. */
    if (!lw_config_radio_chosen(d.cfg)) {
        lw_log(LW_LOG_ERR,
               "%s: [radio] backend: not set: choose the radio (sx127x, sx126x, board, "
               "udp-forwarder, or sim for the simulator); see docs/HARDWARE.md",
               d.path);
        lw_config_free(d.cfg);
        return 1;
    }
    lw_config_warnings(d.cfg, log_config_warning, NULL);
    /* Files we create (database, WAL) are for the service user and its group only. */
    umask(027);
    if (check_secrets(d.cfg, d.path) != LW_OK) {
        lw_log(LW_LOG_ERR, "refusing to start with secrets open to other users");
        lw_config_free(d.cfg);
        return 1;
    }
    /* systemd supervises us directly (Type=notify): never fork under it. */
    if (!foreground && !getenv("NOTIFY_SOCKET") && !getenv("INVOCATION_ID")) {
        if (daemon(0, 0) != 0) {
            perror("lorawatchd: daemon");
            lw_config_free(d.cfg);
            return 1;
        }
        lw_log_to_syslog();
    }
    signal(SIGPIPE, SIG_IGN);

    uv_loop_init(&d.loop);
    int rc = lw_gateway_new(&d.loop, d.cfg, true, &d.gw);
    if (rc != LW_OK) {
        lw_log(LW_LOG_ERR, "start-up failed: %s", lw_strerror(rc));
        uv_run(&d.loop, UV_RUN_DEFAULT); /* let partly started modules release their handles */
        uv_loop_close(&d.loop);
        lw_config_free(d.cfg);
        return 1;
    }
    for (int i = 0; i < 4; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        uv_signal_start(&d.sig[i], on_signal, signums[i]);
    }
    d.wd = lw_sdnotify_start(&d.loop);
    lw_log(LW_LOG_NOTICE, "lorawatchd %s started", LW_VERSION);
    sd_notify(0, "READY=1\nSTATUS=receiving");

    uv_run(&d.loop, UV_RUN_DEFAULT);
    int close_rc = uv_loop_close(&d.loop);
    if (close_rc != 0)
        lw_log(LW_LOG_ERR, "internal: loop closed with handles still open");
    lw_config_free(d.cfg);
    lw_log(LW_LOG_NOTICE, "exited cleanly");
    return close_rc == 0 ? 0 : 1;
}
