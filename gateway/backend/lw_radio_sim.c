/* SPDX-License-Identifier: Apache-2.0 */
/* sim radio backend: receives lw_simwire datagrams from lorawatch-sim over loopback UDP. */
#include "lw_radio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_parse.h"
#include "lw_simwire.h"

struct sim {
    int fd;
    bool medium_clock;
    struct sockaddr_storage peer; /* last sender: where downlinks go */
    socklen_t peer_len;
    struct lw_radio_stats st;
    uint8_t dgram[LW_SIMWIRE_MAX_LEN + 64]; /* room to notice oversized datagrams */
};

static int sim_open(const struct lw_config *cfg, void **ctx)
{
    struct sim *s = calloc(1, sizeof(*s));
    if (!s)
        return LW_ERR_NOMEM;
    s->fd = lw_radio_udp_bind("sim", "sim_listen", cfg->sim_listen, 4 << 20);
    if (s->fd < 0) {
        int rc = s->fd;
        free(s);
        return rc;
    }
    s->medium_clock = strcmp(cfg->sim_clock, "medium") == 0;
    lw_log(LW_LOG_INFO, "radio sim: listening on udp %s, %s clock", cfg->sim_listen,
           s->medium_clock ? "medium" : "system");
    *ctx = s;
    return LW_OK;
}

static void sim_close(void *ctx)
{
    struct sim *s = ctx;
    close(s->fd);
    free(s);
}

static int sim_fd(void *ctx)
{
    return ((struct sim *)ctx)->fd;
}

/* Datagrams dropped in one read call at most: junk must not escape the per-wakeup budget of the
 * caller and starve timers, MQTT and the watchdog. */
#define SIM_MAX_DROPS 64

static int sim_read(void *ctx, struct lw_radio_rx *rx)
{
    struct sim *s = ctx;
    for (int drops = 0; drops < SIM_MAX_DROPS; drops++) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(s->fd, s->dgram, sizeof(s->dgram), MSG_TRUNC, (struct sockaddr *)&from,
                             &fromlen);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return LW_ERR_AGAIN;
            if (errno == EINTR)
                continue;
            return LW_ERR_IO;
        }
        struct lw_simwire m;
        int rc = (size_t)n > sizeof(s->dgram) ? LW_ERR_TOOBIG
                                              : lw_simwire_decode(s->dgram, (size_t)n, &m);
        if (rc != LW_OK) {
            s->st.rx_malformed++;
            lw_log_rl(LW_LOG_WARNING, "radio sim: dropped %zd-byte datagram: %s", n,
                      lw_strerror(rc));
            continue;
        }
        memcpy(&s->peer, &from, fromlen);
        s->peer_len = fromlen;
        bool virt = s->medium_clock && m.t_ms;
        rx->t_ms = virt ? (int64_t)m.t_ms : lw_clock_wall_ms();
        rx->mono_ms = virt ? (int64_t)m.t_ms : lw_clock_mono_ms();
        rx->len = 0;
        if (m.kind == LW_SIMWIRE_TICK) {
            if (!s->medium_clock)
                continue; /* ticks only matter when the medium drives the clock */
            return LW_OK;
        }
        memcpy(rx->buf, m.payload, m.len);
        rx->len = m.len;
        rx->rssi_x10 = m.rssi_x10;
        rx->snr_x10 = m.snr_x10;
        rx->freq_hz = m.freq_hz;
        rx->sf = m.sf;
        rx->bw_hz = m.bw_hz;
        s->st.rx_frames++;
        return LW_OK;
    }
    return LW_ERR_AGAIN; /* the fd stays readable: the loop comes back after its other work */
}

static int sim_transmit(void *ctx, const uint8_t *buf, size_t len)
{
    struct sim *s = ctx;
    if (!s->peer_len)
        return LW_ERR_STATE; /* nobody on the medium has spoken yet */
    uint8_t out[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire m = {.kind = LW_SIMWIRE_AIR, .payload = buf, .len = (uint16_t)len};
    int n = lw_simwire_encode(&m, out, sizeof(out));
    if (n < 0)
        return n;
    if (sendto(s->fd, out, (size_t)n, 0, (struct sockaddr *)&s->peer, s->peer_len) != n)
        return LW_ERR_IO;
    s->st.tx_frames++;
    return LW_OK;
}

static void sim_stats(void *ctx, struct lw_radio_stats *out)
{
    *out = ((struct sim *)ctx)->st;
}

const struct lw_radio_ops lw_radio_sim_ops = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .fd = sim_fd,
    .read = sim_read,
    .transmit = sim_transmit,
    .stats = sim_stats,
};
