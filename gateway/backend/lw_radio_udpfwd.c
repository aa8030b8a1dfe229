/* SPDX-License-Identifier: Apache-2.0 */
/* udp-forwarder radio backend: the server end of Semtech's UDP packet-forwarder protocol, so an
 * 8-channel SX1301/SX1302 concentrator works through the vendor's lora_pkt_fwd. */
#include "lw_radio.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lw_clock.h"
#include "lw_error.h"
#include "lw_log.h"
#include "lw_parse.h"
#include "lw_semtech.h"

/* Valid rxpk of one PUSH_DATA waiting to be read, one at a time. */
#define FWD_RING 64
/* Forwarders tracked by EUI for the logs; more are still served, just not counted. */
#define FWD_MAX_GATEWAYS 8
/* Datagrams handled in one read() that yield no frame (PULL_DATA, TX_ACK, garbage): after that
 * read() returns LW_ERR_AGAIN and the level-triggered poll calls again, so a flood of them cannot
 * hold the loop. */
#define FWD_MAX_IDLE_DGRAMS 64

struct fwd_gateway {
    uint8_t eui[LW_SEMTECH_EUI_LEN];
    uint64_t push, pull, tx_ack;
};

struct udpfwd {
    int fd; /* the UDP socket */
    /* The loop watches ep: the socket and an eventfd that is set while rxpk wait in the ring, so
     * frames left over when lw_radio stops draining for this wakeup get another one. */
    int efd, ep;
    bool efd_set;
    /* Where downlinks go: the source of the last PULL_DATA (lora_pkt_fwd pulls from its
     * downstream socket, a different port from the one it pushes from). */
    struct sockaddr_storage pull_addr;
    socklen_t pull_len;
    struct lw_semtech_txpk tx; /* downlink parameters from the configuration */
    uint16_t tx_token;
    struct lw_radio_stats st;
    struct lw_semtech_push_counts pc;
    uint64_t dropped_dgrams, tx_acks, tx_refused;
    struct fwd_gateway gw[FWD_MAX_GATEWAYS];
    size_t n_gw;
    struct lw_semtech_rxpk ring[FWD_RING];
    size_t ring_pos, ring_len;
    int64_t ring_t_ms, ring_mono_ms;         /* reception time of the datagram the ring came from */
    uint8_t dgram[LW_SEMTECH_MAX_DGRAM + 1]; /* one more byte to notice oversized datagrams */
};

static void format_eui(const uint8_t eui[LW_SEMTECH_EUI_LEN], char out[2 * LW_SEMTECH_EUI_LEN + 1])
{
    lw_format_hex(eui, LW_SEMTECH_EUI_LEN, out);
}

static void format_addr(const struct sockaddr_storage *sa, socklen_t len, char *out, size_t cap)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo((const struct sockaddr *)sa, len, host, sizeof(host), serv, sizeof(serv),
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        snprintf(out, cap, "?");
    else if (sa->ss_family == AF_INET6)
        snprintf(out, cap, "[%s]:%s", host, serv);
    else
        snprintf(out, cap, "%s:%s", host, serv);
}

/* The forwarder with this EUI, added (and announced with everyone's counts) when new. */
static struct fwd_gateway *gateway_of(struct udpfwd *s, const uint8_t *eui,
                                      const struct sockaddr_storage *from, socklen_t fromlen)
{
    for (size_t i = 0; i < s->n_gw; i++)
        if (memcmp(s->gw[i].eui, eui, LW_SEMTECH_EUI_LEN) == 0)
            return &s->gw[i];
    char e[2 * LW_SEMTECH_EUI_LEN + 1], a[NI_MAXHOST + NI_MAXSERV + 4];
    format_eui(eui, e);
    format_addr(from, fromlen, a, sizeof(a));
    if (s->n_gw == FWD_MAX_GATEWAYS) {
        lw_log_rl(LW_LOG_WARNING,
                  "radio udp-forwarder: forwarder %s from %s not tracked (%d known)", e, a,
                  FWD_MAX_GATEWAYS);
        return NULL;
    }
    struct fwd_gateway *g = &s->gw[s->n_gw++];
    memcpy(g->eui, eui, LW_SEMTECH_EUI_LEN);
    lw_log(LW_LOG_INFO, "radio udp-forwarder: new forwarder %s from %s (%zu known)", e, a, s->n_gw);
    for (size_t i = 0; i + 1 < s->n_gw; i++) {
        format_eui(s->gw[i].eui, e);
        lw_log(LW_LOG_INFO,
               "radio udp-forwarder: forwarder %s so far: %llu PUSH_DATA, %llu PULL_DATA", e,
               (unsigned long long)s->gw[i].push, (unsigned long long)s->gw[i].pull);
    }
    return g;
}

static int fwd_open(const struct lw_config *cfg, void **ctx)
{
    struct udpfwd *s = calloc(1, sizeof(*s));
    if (!s)
        return LW_ERR_NOMEM;
    s->efd = s->ep = -1;
    /* Several concentrators, or one after an outage, may burst: queue rather than drop. */
    s->fd = lw_radio_udp_bind("udp-forwarder", "forwarder_listen", cfg->forwarder_listen, 1 << 20);
    if (s->fd < 0) {
        int rc = s->fd;
        free(s);
        return rc;
    }
    struct epoll_event ev = {.events = EPOLLIN};
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->efd < 0 || s->ep < 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->fd, &ev) != 0 ||
        epoll_ctl(s->ep, EPOLL_CTL_ADD, s->efd, &ev) != 0) {
        lw_log(LW_LOG_ERR, "radio udp-forwarder: cannot set up polling: %s", strerror(errno));
        goto fail;
    }
    s->tx.freq_hz = cfg->frequency_hz;
    s->tx.sf = (uint8_t)cfg->spreading_factor;
    s->tx.bw_hz = cfg->bandwidth_hz;
    s->tx.cr = (uint8_t)cfg->coding_rate;
    s->tx.power_dbm = (uint8_t)cfg->tx_power_dbm;
    s->tx.ipol = true; /* downlinks with inverted IQ, so nodes do not hear each other's uplinks */
    if (getrandom(&s->tx_token, sizeof(s->tx_token), GRND_NONBLOCK) != sizeof(s->tx_token))
        s->tx_token = (uint16_t)lw_clock_mono_ms();
    lw_log(LW_LOG_INFO, "radio udp-forwarder: listening on udp %s (Semtech protocol v%d)",
           cfg->forwarder_listen, LW_SEMTECH_VERSION);
    *ctx = s;
    return LW_OK;
fail:
    if (s->fd >= 0)
        close(s->fd);
    if (s->efd >= 0)
        close(s->efd);
    if (s->ep >= 0)
        close(s->ep);
    free(s);
    return LW_ERR_IO;
}

static void fwd_close(void *ctx)
{
    struct udpfwd *s = ctx;
    char e[2 * LW_SEMTECH_EUI_LEN + 1];
    for (size_t i = 0; i < s->n_gw; i++) {
        format_eui(s->gw[i].eui, e);
        lw_log(LW_LOG_INFO,
               "radio udp-forwarder: forwarder %s: %llu PUSH_DATA, %llu PULL_DATA, %llu TX_ACK", e,
               (unsigned long long)s->gw[i].push, (unsigned long long)s->gw[i].pull,
               (unsigned long long)s->gw[i].tx_ack);
    }
    lw_log(LW_LOG_INFO,
           "radio udp-forwarder: %llu rxpk: %llu accepted, %llu CRC failed, %llu without CRC, "
           "%llu not LoRa, %llu invalid, %llu over capacity; %llu datagrams dropped; %llu "
           "downlinks sent, %llu refused by the forwarder",
           (unsigned long long)s->pc.rxpk, (unsigned long long)s->pc.accepted,
           (unsigned long long)s->pc.crc_bad, (unsigned long long)s->pc.crc_none,
           (unsigned long long)s->pc.not_lora, (unsigned long long)s->pc.invalid,
           (unsigned long long)s->pc.overflow, (unsigned long long)s->dropped_dgrams,
           (unsigned long long)s->st.tx_frames, (unsigned long long)s->tx_refused);
    close(s->ep);
    close(s->efd);
    close(s->fd);
    free(s);
}

static int fwd_fd(void *ctx)
{
    return ((struct udpfwd *)ctx)->ep;
}

/* Keep the eventfd set exactly while frames wait in the ring. */
static void ring_signal(struct udpfwd *s)
{
    bool pending = s->ring_pos < s->ring_len;
    uint64_t v = 1;
    if (pending && !s->efd_set)
        s->efd_set = write(s->efd, &v, sizeof(v)) == sizeof(v);
    else if (!pending && s->efd_set)
        s->efd_set = !(read(s->efd, &v, sizeof(v)) == sizeof(v) || errno == EAGAIN);
}

static void send_ack(struct udpfwd *s, uint8_t id, uint16_t token,
                     const struct sockaddr_storage *to, socklen_t tolen)
{
    uint8_t ack[LW_SEMTECH_ACK_LEN];
    lw_semtech_build_ack(id, token, ack);
    if (sendto(s->fd, ack, sizeof(ack), 0, (const struct sockaddr *)to, tolen) != sizeof(ack))
        lw_log_rl(LW_LOG_WARNING, "radio udp-forwarder: cannot send %s: %s", lw_semtech_id_name(id),
                  strerror(errno));
}

static void drop(struct udpfwd *s, ssize_t n, const char *why)
{
    s->st.rx_malformed++;
    s->dropped_dgrams++;
    lw_log_rl(LW_LOG_WARNING, "radio udp-forwarder: dropped %zd-byte datagram: %s", n, why);
}

/* PUSH_DATA: acknowledge at once (PROTOCOL.TXT 3.1), then queue its valid rxpk. Entries the
 * forwarder passed on with a bad or no CRC, or in FSK, or malformed, are counted as malformed. */
static void on_push(struct udpfwd *s, const struct lw_semtech_up *up, ssize_t n,
                    const struct sockaddr_storage *from, socklen_t fromlen)
{
    struct lw_semtech_push_counts before = s->pc;
    size_t got = 0;
    if (lw_semtech_parse_push(up->json, up->json_len, s->ring, FWD_RING, &got, &s->pc) != LW_OK) {
        drop(s, n, "PUSH_DATA without a valid JSON object");
        return;
    }
    send_ack(s, LW_SEMTECH_PUSH_ACK, up->token, from, fromlen);
    struct fwd_gateway *g = gateway_of(s, up->eui, from, fromlen);
    if (g)
        g->push++;
    uint64_t refused = (s->pc.crc_bad - before.crc_bad) + (s->pc.crc_none - before.crc_none) +
                       (s->pc.not_lora - before.not_lora) + (s->pc.invalid - before.invalid) +
                       (s->pc.overflow - before.overflow);
    if (refused) {
        s->st.rx_malformed += refused;
        lw_log_rl(LW_LOG_WARNING,
                  "radio udp-forwarder: PUSH_DATA with %llu rxpk not taken (%llu CRC failed, "
                  "%llu no CRC, %llu not LoRa, %llu invalid, %llu over capacity)",
                  (unsigned long long)refused, (unsigned long long)(s->pc.crc_bad - before.crc_bad),
                  (unsigned long long)(s->pc.crc_none - before.crc_none),
                  (unsigned long long)(s->pc.not_lora - before.not_lora),
                  (unsigned long long)(s->pc.invalid - before.invalid),
                  (unsigned long long)(s->pc.overflow - before.overflow));
    }
    s->ring_pos = 0;
    s->ring_len = got;
    s->ring_t_ms = lw_clock_wall_ms();
    s->ring_mono_ms = lw_clock_mono_ms();
}

static void on_pull(struct udpfwd *s, const struct lw_semtech_up *up,
                    const struct sockaddr_storage *from, socklen_t fromlen)
{
    send_ack(s, LW_SEMTECH_PULL_ACK, up->token, from, fromlen);
    memcpy(&s->pull_addr, from, fromlen);
    s->pull_len = fromlen;
    struct fwd_gateway *g = gateway_of(s, up->eui, from, fromlen);
    if (g)
        g->pull++;
}

static void on_tx_ack(struct udpfwd *s, const struct lw_semtech_up *up, ssize_t n,
                      const struct sockaddr_storage *from, socklen_t fromlen)
{
    char err[64];
    if (lw_semtech_parse_tx_ack(up->json, up->json_len, err, sizeof(err)) != LW_OK) {
        drop(s, n, "TX_ACK with malformed JSON");
        return;
    }
    s->tx_acks++;
    struct fwd_gateway *g = gateway_of(s, up->eui, from, fromlen);
    if (g)
        g->tx_ack++;
    if (err[0]) {
        s->tx_refused++;
        lw_log_rl(LW_LOG_WARNING, "radio udp-forwarder: downlink (token 0x%04X) refused: %s",
                  up->token, err);
    }
}

static int read_one(struct udpfwd *s, struct lw_radio_rx *rx)
{
    for (int idle = 0; idle < FWD_MAX_IDLE_DGRAMS; idle++) {
        if (s->ring_pos < s->ring_len) {
            const struct lw_semtech_rxpk *p = &s->ring[s->ring_pos++];
            memcpy(rx->buf, p->data, p->len);
            rx->len = p->len;
            rx->rssi_x10 = p->rssi_x10;
            rx->snr_x10 = p->snr_x10;
            rx->freq_hz = p->freq_hz;
            rx->sf = p->sf;
            rx->bw_hz = p->bw_hz;
            rx->t_ms = s->ring_t_ms;
            rx->mono_ms = s->ring_mono_ms;
            s->st.rx_frames++;
            return LW_OK;
        }
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
        struct lw_semtech_up up;
        int rc = (size_t)n > LW_SEMTECH_MAX_DGRAM ? LW_ERR_TOOBIG
                                                  : lw_semtech_parse_up(s->dgram, (size_t)n, &up);
        if (rc != LW_OK) {
            char why[96];
            if (rc == LW_ERR_TYPE)
                snprintf(why, sizeof(why), "packet type 0x%02X (%s) not expected from a forwarder",
                         s->dgram[3], lw_semtech_id_name(s->dgram[3]));
            else if (rc == LW_ERR_VERSION)
                snprintf(why, sizeof(why), "protocol version %u, expected %d", s->dgram[0],
                         LW_SEMTECH_VERSION);
            else
                snprintf(why, sizeof(why), "%s", lw_strerror(rc));
            drop(s, n, why);
            continue;
        }
        if (up.id == LW_SEMTECH_PUSH_DATA)
            on_push(s, &up, n, &from, fromlen);
        else if (up.id == LW_SEMTECH_PULL_DATA)
            on_pull(s, &up, &from, fromlen);
        else
            on_tx_ack(s, &up, n, &from, fromlen);
    }
    return LW_ERR_AGAIN;
}

static int fwd_read(void *ctx, struct lw_radio_rx *rx)
{
    struct udpfwd *s = ctx;
    int rc = read_one(s, rx);
    ring_signal(s);
    return rc;
}

static int fwd_transmit(void *ctx, const uint8_t *buf, size_t len)
{
    struct udpfwd *s = ctx;
    if (!s->pull_len)
        return LW_ERR_STATE; /* no forwarder has opened the downlink route with PULL_DATA yet */
    if (!buf || len == 0)
        return LW_ERR_INVAL;
    if (len > LW_FRAME_MAX_LEN)
        return LW_ERR_TOOBIG;
    struct lw_semtech_txpk tx = s->tx;
    tx.data = buf;
    tx.len = len;
    uint8_t out[LW_SEMTECH_PULL_RESP_MAX];
    int n = lw_semtech_build_pull_resp(++s->tx_token, &tx, out, sizeof(out));
    if (n < 0)
        return n;
    if (sendto(s->fd, out, (size_t)n, 0, (struct sockaddr *)&s->pull_addr, s->pull_len) != n)
        return LW_ERR_IO;
    s->st.tx_frames++;
    return LW_OK;
}

static void fwd_stats(void *ctx, struct lw_radio_stats *out)
{
    *out = ((struct udpfwd *)ctx)->st;
}

const struct lw_radio_ops lw_radio_udpfwd_ops = {
    .name = "udp-forwarder",
    .open = fwd_open,
    .close = fwd_close,
    .fd = fwd_fd,
    .read = fwd_read,
    .transmit = fwd_transmit,
    .stats = fwd_stats,
};
