/* SPDX-License-Identifier: Apache-2.0 */
/* Simulated radio medium over UDP: encode lw_simwire datagrams and send them without blocking. */
#include "sim_medium.h"
#include "lw_error.h"
#include "lw_simwire.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A send that the kernel could not take at once: queued through libuv with its own copy. */
struct queued_send {
    uv_udp_send_t req;
    struct sim_medium *m;
    size_t len;
    uint8_t data[];
};

int sim_medium_open(struct sim_medium *m, uv_loop_t *loop, const char *host, uint16_t port,
                    char *err, size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    char portstr[8];
    int rc;

    memset(m, 0, sizeof(*m));
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "gateway address %s: %s", host, gai_strerror(rc));
        if (res)
            freeaddrinfo(res);
        return LW_ERR_INVAL;
    }
    memcpy(&m->dest, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);

    rc = uv_udp_init(loop, &m->udp);
    if (rc < 0) {
        snprintf(err, errlen, "UDP socket: %s", uv_strerror(rc));
        return LW_ERR_IO;
    }
    m->udp.data = m;
    m->open = true;
    return LW_OK;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct sim_medium *m = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)m->rxbuf, sizeof(m->rxbuf));
}

/* Same host as the gateway we send to (port ignored: the backend answers from its own socket). */
static bool from_gateway(const struct sim_medium *m, const struct sockaddr *a)
{
    const struct sockaddr *d = (const struct sockaddr *)&m->dest;

    if (a->sa_family != d->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
                   ((const struct sockaddr_in *)d)->sin_addr.s_addr &&
               ((const struct sockaddr_in *)a)->sin_port ==
                   ((const struct sockaddr_in *)d)->sin_port;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)d)->sin6_addr, sizeof(struct in6_addr)) == 0 &&
               ((const struct sockaddr_in6 *)a)->sin6_port ==
                   ((const struct sockaddr_in6 *)d)->sin6_port;
    return false;
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    struct sim_medium *m = h->data;
    struct lw_simwire w;

    if (nread <= 0 || addr == NULL)
        return; /* nothing, or an error the next send will report */
    if ((flags & UV_UDP_PARTIAL) || !from_gateway(m, addr) ||
        lw_simwire_decode((const uint8_t *)buf->base, (size_t)nread, &w) != LW_OK) {
        m->rx_malformed++;
        return;
    }
    m->rx_datagrams++;
    if (m->on_rx)
        m->on_rx(m->rx_user, &w);
}

int sim_medium_listen(struct sim_medium *m, sim_medium_rx_fn fn, void *user, char *err,
                      size_t errlen)
{
    struct sockaddr_storage any;
    int rc;

    memset(&any, 0, sizeof(any));
    any.ss_family = m->dest.ss_family;
    if (any.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&any;
        a6->sin6_addr = in6addr_any;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&any;
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    }
    rc = uv_udp_bind(&m->udp, (const struct sockaddr *)&any, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&m->udp, on_alloc, on_recv);
    if (rc < 0) {
        snprintf(err, errlen, "UDP receive socket: %s", uv_strerror(rc));
        return LW_ERR_IO;
    }
    m->on_rx = fn;
    m->rx_user = user;
    return LW_OK;
}

void sim_medium_close(struct sim_medium *m, uv_close_cb close_cb)
{
    if (m->open && m->on_rx)
        uv_udp_recv_stop(&m->udp);
    if (m->open && !uv_is_closing((uv_handle_t *)&m->udp))
        uv_close((uv_handle_t *)&m->udp, close_cb);
    m->open = false;
}

static void on_queued_sent(uv_udp_send_t *req, int status)
{
    struct queued_send *q = (struct queued_send *)req;

    if (status < 0 && status != UV_ECANCELED) {
        q->m->errors++;
        q->m->last_error = status;
    }
    free(q);
}

int sim_medium_send_raw(struct sim_medium *m, const uint8_t *buf, size_t len)
{
    uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
    const struct sockaddr *to = (const struct sockaddr *)&m->dest;
    int rc;

    if (!m->open)
        return LW_ERR_STATE;
    rc = uv_udp_try_send(&m->udp, &b, 1, to);
    if (rc == UV_EAGAIN || rc == UV_ENOSYS) {
        struct queued_send *q = malloc(sizeof(*q) + len);
        if (!q) {
            m->errors++;
            m->last_error = UV_ENOMEM;
            return LW_ERR_NOMEM;
        }
        q->m = m;
        q->len = len;
        memcpy(q->data, buf, len);
        b = uv_buf_init((char *)q->data, (unsigned)len);
        rc = uv_udp_send(&q->req, &m->udp, &b, 1, to, on_queued_sent);
        if (rc < 0)
            free(q);
    }
    if (rc < 0) {
        m->errors++;
        m->last_error = rc;
        return LW_ERR_IO;
    }
    m->datagrams++;
    m->bytes += len;
    return LW_OK;
}

int sim_medium_send_air(struct sim_medium *m, const struct sim_rf *rf, uint64_t t_ms,
                        const uint8_t *frame, size_t len)
{
    uint8_t buf[LW_SIMWIRE_MAX_LEN];
    struct lw_simwire w = {
        .kind = LW_SIMWIRE_AIR,
        .sf = rf->sf,
        .freq_hz = rf->freq_hz,
        .bw_hz = rf->bw_hz,
        .rssi_x10 = rf->rssi_x10,
        .snr_x10 = rf->snr_x10,
        .t_ms = t_ms,
        .payload = frame,
        .len = (uint16_t)len,
    };
    int n;

    if (len > UINT16_MAX)
        return LW_ERR_TOOBIG;
    n = lw_simwire_encode(&w, buf, sizeof(buf));
    if (n < 0)
        return n;
    return sim_medium_send_raw(m, buf, (size_t)n);
}

int sim_medium_send_tick(struct sim_medium *m, uint64_t t_ms)
{
    uint8_t buf[LW_SIMWIRE_HDR_LEN];
    struct lw_simwire w = {.kind = LW_SIMWIRE_TICK, .t_ms = t_ms};
    int n = lw_simwire_encode(&w, buf, sizeof(buf));

    if (n < 0)
        return n;
    return sim_medium_send_raw(m, buf, (size_t)n);
}
