/* SPDX-License-Identifier: Apache-2.0 */
/* sx127x and sx126x radio backends: one epoll fd over the chip's IRQ line and a watchdog timer,
 * so everything (IRQ handling, read-back checks, resets) runs in the daemon's loop. */
#include "lw_radio_chip.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "lw_clock.h"
#include "lw_config.h"
#include "lw_error.h"
#include "lw_log.h"

/* ---- watchdog decisions (pure) ---------------------------------------------------------- */

/* A transmission may take twice its computed airtime plus this before it counts as lost. */
#define WD_TX_MARGIN_MS 1000
/* Retry delays after failed recoveries double up to this many intervals. */
#define WD_MAX_BACKOFF_SHIFT 6

void lw_radio_wd_start(struct lw_radio_wd *w, uint64_t interval_ms, uint64_t silence_ms,
                       uint64_t now_ms)
{
    memset(w, 0, sizeof(*w));
    w->interval_ms = interval_ms ? interval_ms : 1000;
    w->silence_ms = silence_ms;
    w->next_check_ms = now_ms + w->interval_ms;
    w->last_irq_ms = now_ms;
}

enum lw_radio_wd_action lw_radio_wd_poll(struct lw_radio_wd *w, bool down, uint64_t now_ms)
{
    if (down)
        return now_ms >= w->retry_ms ? LW_WD_RETRY : LW_WD_NOTHING;
    if (w->tx_deadline_ms && now_ms >= w->tx_deadline_ms) {
        w->tx_deadline_ms = 0;
        return LW_WD_TX_TIMEOUT;
    }
    if (w->silence_ms && now_ms - w->last_irq_ms >= w->silence_ms) {
        w->last_irq_ms = now_ms;
        return LW_WD_SILENT;
    }
    if (now_ms >= w->next_check_ms) {
        w->next_check_ms = now_ms + w->interval_ms;
        return LW_WD_CHECK;
    }
    return LW_WD_NOTHING;
}

void lw_radio_wd_irq(struct lw_radio_wd *w, uint64_t now_ms)
{
    w->last_irq_ms = now_ms;
}

void lw_radio_wd_tx(struct lw_radio_wd *w, uint32_t airtime_us, uint64_t now_ms)
{
    w->tx_deadline_ms = now_ms + 2ull * airtime_us / 1000u + WD_TX_MARGIN_MS;
}

void lw_radio_wd_recovered(struct lw_radio_wd *w, bool ok, uint64_t now_ms)
{
    w->tx_deadline_ms = 0;
    if (ok) {
        w->failures = 0;
        w->last_irq_ms = now_ms;
        w->next_check_ms = now_ms + w->interval_ms;
        return;
    }
    unsigned shift = w->failures < WD_MAX_BACKOFF_SHIFT ? w->failures : WD_MAX_BACKOFF_SHIFT;
    w->failures++;
    w->retry_ms = now_ms + (w->interval_ms << shift);
}

uint64_t lw_radio_wd_next_ms(const struct lw_radio_wd *w, bool down, uint64_t now_ms)
{
    uint64_t due = down ? w->retry_ms : w->next_check_ms;
    if (!down && w->tx_deadline_ms && w->tx_deadline_ms < due)
        due = w->tx_deadline_ms;
    if (!down && w->silence_ms && w->last_irq_ms + w->silence_ms < due)
        due = w->last_irq_ms + w->silence_ms;
    return due > now_ms ? due - now_ms : 0;
}

/* ---- the backend ------------------------------------------------------------------------ */

struct chip {
    const struct lw_chip_driver *drv;
    void *d;
    struct lw_chip_bus bus;
    bool bus_open;
    struct lw_radio_settings s;
    struct lw_chip_params p;
    int ep, tfd;
    struct lw_radio_wd wd;
    bool down;
    struct lw_radio_stats st;
    char desc[256];
};

static uint64_t now_ms(struct chip *c)
{
    return lw_radio_bus_now_us(&c->bus.radio) / 1000u;
}

static void arm_timer(struct chip *c)
{
    uint64_t ms = lw_radio_wd_next_ms(&c->wd, c->down, now_ms(c));
    if (ms == 0)
        ms = 1; /* 0 would disarm the timer */
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000}};
    timerfd_settime(c->tfd, 0, &its, NULL);
}

static void chip_free(struct chip *c)
{
    if (c->d)
        c->drv->destroy(c->d);
    if (c->bus_open)
        lw_chip_bus_close(&c->bus);
    if (c->tfd >= 0)
        close(c->tfd);
    if (c->ep >= 0)
        close(c->ep);
    free(c);
}

static const struct lw_chip_driver *driver_of(const char *backend)
{
    if (strcmp(backend, "sx127x") == 0)
        return &lw_sx127x_driver;
    if (strcmp(backend, "sx126x") == 0)
        return &lw_sx126x_driver;
    return NULL;
}

/* Open bus and driver and bring the chip up; shared by the backend and the self-test. */
/* The Linux transport's messages (and the drivers', through the bus) go to the journal; messages
 * that can repeat at bus speed are limited per call site like lw_log_rl. */
static void journal_log(int prio, struct lw_radio_log_site *site, const char *msg)
{
    if (site) {
        struct lw_ratelimit rl = {site->window_start_ms, site->printed, site->suppressed};
        bool ok = lw_ratelimit_ok(&rl, prio);
        site->window_start_ms = rl.window_start_ms;
        site->printed = rl.printed;
        site->suppressed = rl.suppressed;
        if (!ok)
            return;
    }
    lw_log(prio, "%s", msg);
}

static int chip_start(const struct lw_config *cfg, const struct lw_spi_ops *spi,
                      const struct lw_gpio_ops *gpio, struct chip **out)
{
    lw_radio_linux_set_log(journal_log);
    char why[200];
    struct chip *c = calloc(1, sizeof(*c));
    if (!c)
        return LW_ERR_NOMEM;
    c->ep = c->tfd = -1;
    int rc = lw_radio_settings_from_config(cfg, &c->s, why, sizeof(why));
    c->drv = driver_of(cfg->radio_backend);
    if (rc != LW_OK || !c->drv) {
        lw_log(LW_LOG_ERR, "radio %s: %s", cfg->radio_backend,
               rc != LW_OK ? why : "not a chip backend");
        free(c);
        return LW_ERR_CONFIG;
    }
    if (c->s.power_capped)
        lw_log(LW_LOG_WARNING, "radio %s: tx_power_dbm = %u capped to %d dBm, the %s limit",
               c->drv->name, cfg->tx_power_dbm, c->s.power_dbm, c->s.region);
    rc = lw_chip_bus_open(&c->bus, spi, c->s.spi_device, c->s.spi_speed_hz, gpio, c->s.gpio_chip,
                          &c->s.pins);
    if (rc != LW_OK) {
        free(c);
        return rc;
    }
    c->bus_open = true;
    lw_radio_chip_params(&c->s, &c->p);
    if ((rc = c->drv->create(&c->bus.radio, &c->p, &c->d)) != LW_OK ||
        (rc = c->drv->init(c->d, c->desc, sizeof(c->desc))) != LW_OK) {
        chip_free(c);
        return rc;
    }
    *out = c;
    return LW_OK;
}

int lw_radio_chip_open(const struct lw_config *cfg, const struct lw_spi_ops *spi,
                       const struct lw_gpio_ops *gpio, void **ctx)
{
    struct chip *c;
    int rc = chip_start(cfg, spi, gpio, &c);
    if (rc != LW_OK)
        return rc;
    struct epoll_event ev = {.events = EPOLLIN};
    int irq = lw_chip_bus_irq_fd(&c->bus);
    c->ep = epoll_create1(EPOLL_CLOEXEC);
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->ep < 0 || c->tfd < 0 || irq < 0 || epoll_ctl(c->ep, EPOLL_CTL_ADD, irq, &ev) != 0 ||
        epoll_ctl(c->ep, EPOLL_CTL_ADD, c->tfd, &ev) != 0) {
        lw_log(LW_LOG_ERR, "radio %s: cannot set up polling: %s", c->drv->name,
               irq < 0 ? "no IRQ line" : strerror(errno));
        chip_free(c);
        return LW_ERR_IO;
    }
    lw_radio_wd_start(&c->wd, c->s.wd_interval_ms, c->s.wd_silence_ms, now_ms(c));
    arm_timer(c);
    lw_log(LW_LOG_INFO, "radio %s: %s", c->drv->name, c->desc);
    if (c->s.board[0])
        lw_log(LW_LOG_INFO, "radio %s: board %s, region %s%s", c->drv->name, c->s.board,
               c->s.region, c->s.lbt ? " (listen before talk)" : "");
    *ctx = c;
    return LW_OK;
}

static int chip_open(const struct lw_config *cfg, void **ctx)
{
    return lw_radio_chip_open(cfg, &lw_spi_linux_ops, &lw_gpio_linux_ops, ctx);
}

static void chip_close(void *ctx)
{
    struct chip *c = ctx;
    lw_log(LW_LOG_INFO,
           "radio %s: %llu frames received, %llu with a bad CRC, %llu sent; %llu watchdog checks, "
           "%llu resets (%llu failed), %llu TX timeouts",
           c->drv->name, (unsigned long long)c->st.rx_frames,
           (unsigned long long)c->st.rx_crc_errors, (unsigned long long)c->st.tx_frames,
           (unsigned long long)c->st.watchdog_checks, (unsigned long long)c->st.resets,
           (unsigned long long)c->st.recoveries_failed, (unsigned long long)c->st.tx_timeouts);
    chip_free(c);
}

static int chip_fd(void *ctx)
{
    return ((struct chip *)ctx)->ep;
}

/* Reset through the reset line and configure again. */
static void recover(struct chip *c, const char *why)
{
    char desc[sizeof(c->desc)];
    c->st.resets++;
    lw_log(LW_LOG_WARNING, "radio %s: %s: resetting the chip (reset %llu)", c->drv->name, why,
           (unsigned long long)c->st.resets);
    int rc = c->drv->init(c->d, desc, sizeof(desc));
    uint64_t now = now_ms(c);
    lw_radio_wd_recovered(&c->wd, rc == LW_OK, now);
    if (rc == LW_OK) {
        if (c->down)
            lw_log(LW_LOG_NOTICE, "radio %s: working again after %llu failed recoveries",
                   c->drv->name, (unsigned long long)c->st.recoveries_failed);
        else
            lw_log(LW_LOG_NOTICE, "radio %s: recovered, listening again", c->drv->name);
        c->down = false;
        c->st.fault = false;
        return;
    }
    c->st.recoveries_failed++;
    c->down = true;
    c->st.fault = true;
    lw_log(LW_LOG_ERR,
           "radio %s: recovery failed (%s); the radio is not receiving, next try in %llu s",
           c->drv->name, lw_strerror(rc),
           (unsigned long long)((c->wd.retry_ms > now ? c->wd.retry_ms - now : 0) / 1000));
}

static void run_watchdog(struct chip *c)
{
    char why[160];
    enum lw_radio_wd_action a;
    /* A few actions at most per call: each recovery already restarts the schedule. */
    for (int i = 0; i < 4 && (a = lw_radio_wd_poll(&c->wd, c->down, now_ms(c))) != LW_WD_NOTHING;
         i++) {
        switch (a) {
        case LW_WD_CHECK: {
            c->st.watchdog_checks++;
            int rc = c->drv->check(c->d, why, sizeof(why));
            if (rc == LW_ERR_STATE)
                recover(c, why);
            else if (rc != LW_OK)
                recover(c, "chip does not answer on the bus");
            break;
        }
        case LW_WD_SILENT:
            snprintf(why, sizeof(why), "no interrupt for %llu s",
                     (unsigned long long)(c->wd.silence_ms / 1000));
            recover(c, why);
            break;
        case LW_WD_TX_TIMEOUT:
            c->st.tx_timeouts++;
            recover(c, "TX done never came");
            break;
        case LW_WD_RETRY:
            recover(c, "still down");
            break;
        default:
            break;
        }
    }
}

/* Service at most this many IRQs without a frame per read() call, so a chip raising garbage
 * interrupts cannot hold the loop. */
#define CHIP_MAX_IDLE_IRQS 16

static int chip_read(void *ctx, struct lw_radio_rx *rx)
{
    struct chip *c = ctx;
    uint64_t expirations;
    if (read(c->tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
        lw_log_rl(LW_LOG_WARNING, "radio %s: timer: %s", c->drv->name, strerror(errno));
    run_watchdog(c);
    lw_radio_bus_irq_take(&c->bus.radio);
    int result = LW_ERR_AGAIN;
    for (int i = 0; !c->down && i < CHIP_MAX_IDLE_IRQS; i++) {
        unsigned ev = 0;
        int rc = c->drv->service(c->d, &ev, rx);
        if (rc == LW_ERR_AGAIN)
            break;
        if (rc != LW_OK) {
            /* The bus failed: let the watchdog look at the chip right away. */
            lw_log_rl(LW_LOG_ERR, "radio %s: reading the chip failed: %s", c->drv->name,
                      lw_strerror(rc));
            c->wd.next_check_ms = 0;
            break;
        }
        lw_radio_wd_irq(&c->wd, now_ms(c));
        if (ev & LW_CHIP_EV_TX_DONE) {
            c->st.tx_frames++;
            c->wd.tx_deadline_ms = 0;
        }
        if (ev & LW_CHIP_EV_RX_BAD) {
            c->st.rx_malformed++;
            c->st.rx_crc_errors++;
            lw_log_rl(LW_LOG_INFO, "radio %s: frame with a bad or no payload CRC dropped",
                      c->drv->name);
        }
        if (ev & LW_CHIP_EV_RX) {
            c->st.rx_frames++;
            rx->t_ms = lw_clock_wall_ms();
            rx->mono_ms = lw_clock_mono_ms();
            result = LW_OK;
            break;
        }
    }
    arm_timer(c);
    return result;
}

static int chip_transmit(void *ctx, const uint8_t *buf, size_t len)
{
    struct chip *c = ctx;
    if (c->down)
        return LW_ERR_STATE;
    uint32_t airtime_us = 0;
    int rc = c->drv->transmit(c->d, buf, len, &airtime_us);
    if (rc == LW_OK) {
        lw_radio_wd_tx(&c->wd, airtime_us, now_ms(c));
        arm_timer(c);
    }
    return rc;
}

static int chip_cad(void *ctx)
{
    struct chip *c = ctx;
    if (c->down)
        return LW_ERR_STATE;
    return c->drv->cad(c->d);
}

static void chip_stats(void *ctx, struct lw_radio_stats *out)
{
    *out = ((struct chip *)ctx)->st;
}

const struct lw_radio_ops lw_radio_sx127x_ops = {
    .name = "sx127x",
    .open = chip_open,
    .close = chip_close,
    .fd = chip_fd,
    .read = chip_read,
    .transmit = chip_transmit,
    .stats = chip_stats,
    .cad = chip_cad,
};

const struct lw_radio_ops lw_radio_sx126x_ops = {
    .name = "sx126x",
    .open = chip_open,
    .close = chip_close,
    .fd = chip_fd,
    .read = chip_read,
    .transmit = chip_transmit,
    .stats = chip_stats,
    .cad = chip_cad,
};

int lw_radio_chip_selftest(const struct lw_config *cfg, const struct lw_spi_ops *spi,
                           const struct lw_gpio_ops *gpio, FILE *out)
{
    if (!driver_of(cfg->radio_backend)) {
        fprintf(out,
                "radio self-test: backend %s has no chip of ours to probe (it needs backend "
                "sx127x or sx126x%s)\n",
                cfg->radio_backend,
                strcmp(cfg->radio_backend, "udp-forwarder") == 0
                    ? "; a concentrator is checked with its forwarder's own tools"
                    : "");
        return LW_ERR_CONFIG;
    }
    struct chip *c;
    int rc = chip_start(cfg, spi, gpio, &c);
    if (rc != LW_OK) {
        fprintf(out, "radio self-test: %s: FAILED: %s (details above)\n", cfg->radio_backend,
                lw_strerror(rc));
        return rc;
    }
    fprintf(out, "radio self-test: %s: found %s\n", c->drv->name, c->desc);
    fprintf(out,
            "radio self-test: pins on %s: reset %d, chip-select %d, IRQ %d, BUSY %d (-1: not "
            "connected); region %s, %s\n",
            c->s.gpio_chip, c->s.pins.reset, c->s.pins.cs, c->s.pins.irq, c->s.pins.busy,
            c->s.region, c->s.board[0] ? c->s.board : "no board preset");
    char why[160];
    rc = c->drv->check(c->d, why, sizeof(why));
    if (rc != LW_OK)
        fprintf(out, "radio self-test: read-back FAILED: %s\n",
                rc == LW_ERR_STATE ? why : lw_strerror(rc));
    else
        fprintf(out, "radio self-test: configuration read back OK; the chip is listening\n");
    chip_free(c);
    return rc;
}

void lw_radio_chip_params(const struct lw_radio_settings *s, struct lw_chip_params *p)
{
    memset(p, 0, sizeof(*p));
    p->freq_hz = s->freq_hz;
    p->sf = s->sf;
    p->bw_hz = s->bw_hz;
    p->cr = s->cr;
    p->preamble = s->preamble;
    p->sync_word = s->sync_word;
    p->power_dbm = s->power_dbm;
    p->tcxo_mv = s->tcxo_mv;
    p->dio2_rf_switch = s->dio2_rf_switch;
}
