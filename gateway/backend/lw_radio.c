/* SPDX-License-Identifier: Apache-2.0 */
/* Radio backend selection and the loop glue: poll the backend fd, drain frames, hand them on. */
#include "lw_radio.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_parse.h"

static const struct lw_radio_ops *const backends[] = {&lw_radio_sim_ops, &lw_radio_udpfwd_ops,
                                                       &lw_radio_sx127x_ops, &lw_radio_sx126x_ops};

int lw_radio_udp_bind(const char *backend, const char *key, const char *hostport, int rcvbuf)
{
    char host[128], portstr[8];
    uint16_t port;
    if (lw_parse_hostport(hostport, host, sizeof(host), &port) != LW_OK)
        return LW_ERR_CONFIG;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_DGRAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    snprintf(portstr, sizeof(portstr), "%u", port);
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, portstr, &hints, &ai);
    if (gai != 0) {
        lw_log(LW_LOG_ERR, "radio %s: %s %s: %s (a numeric address is required)", backend, key,
               hostport, gai_strerror(gai));
        return LW_ERR_CONFIG;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        lw_log(LW_LOG_ERR, "radio %s: cannot listen on %s: %s", backend, hostport, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return LW_ERR_IO;
    }
    freeaddrinfo(ai);
    /* Bursts (many nodes at once, a forwarder after an outage) must queue, not drop. */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    return fd;
}

const struct lw_radio_ops *lw_radio_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

struct lw_radio {
    uv_poll_t poll;
    const struct lw_radio_ops *ops;
    void *ctx;
    lw_radio_rx_fn on_rx;
    void *arg;
    struct lw_radio_rx rx; /* one buffer reused: frames are handled before the next read */
};

/* A burst is drained in slices so a flood of frames cannot starve timers and MQTT. */
#define RADIO_MAX_PER_WAKEUP 64

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct lw_radio *r = h->data;
    (void)events;
    if (status < 0) {
        lw_log_rl(LW_LOG_ERR, "radio %s: poll error: %s", r->ops->name, uv_strerror(status));
        return;
    }
    for (int i = 0; i < RADIO_MAX_PER_WAKEUP; i++) {
        int rc = r->ops->read(r->ctx, &r->rx);
        if (rc == LW_ERR_AGAIN)
            break;
        if (rc != LW_OK) {
            lw_log_rl(LW_LOG_ERR, "radio %s: read failed: %s", r->ops->name, lw_strerror(rc));
            break;
        }
        r->on_rx(r->arg, &r->rx);
    }
}

int lw_radio_new(uv_loop_t *loop, const struct lw_config *cfg, lw_radio_rx_fn on_rx, void *arg,
                 struct lw_radio **out)
{
    const struct lw_radio_ops *ops = lw_radio_find(cfg->radio_backend);
    if (!ops) {
        lw_log(LW_LOG_ERR, "radio backend '%s' is not built in", cfg->radio_backend);
        return LW_ERR_CONFIG;
    }
    struct lw_radio *r = calloc(1, sizeof(*r));
    if (!r)
        return LW_ERR_NOMEM;
    r->ops = ops;
    r->on_rx = on_rx;
    r->arg = arg;
    int rc = ops->open(cfg, &r->ctx);
    if (rc != LW_OK)
        goto fail;
    int uvrc = uv_poll_init(loop, &r->poll, ops->fd(r->ctx));
    if (uvrc != 0) {
        lw_log(LW_LOG_ERR, "radio %s: cannot watch fd: %s", ops->name, uv_strerror(uvrc));
        ops->close(r->ctx);
        rc = LW_ERR_IO;
        goto fail;
    }
    r->poll.data = r;
    uvrc = uv_poll_start(&r->poll, UV_READABLE, on_poll);
    if (uvrc != 0) {
        /* The handle exists now: it is released through uv_close like any other. */
        lw_log(LW_LOG_ERR, "radio %s: cannot watch fd: %s", ops->name, uv_strerror(uvrc));
        lw_radio_free(r);
        return LW_ERR_IO;
    }
    *out = r;
    return LW_OK;
fail:
    free(r);
    return rc;
}

static void on_closed(uv_handle_t *h)
{
    struct lw_radio *r = h->data;
    r->ops->close(r->ctx);
    free(r);
}

void lw_radio_free(struct lw_radio *r)
{
    if (!r)
        return;
    uv_close((uv_handle_t *)&r->poll, on_closed);
}

void lw_radio_stats(struct lw_radio *r, struct lw_radio_stats *out)
{
    r->ops->stats(r->ctx, out);
}

int lw_radio_transmit(struct lw_radio *r, const uint8_t *buf, size_t len)
{
    return r->ops->transmit(r->ctx, buf, len);
}

int lw_radio_channel_busy(struct lw_radio *r)
{
    return r->ops->cad ? r->ops->cad(r->ctx) : 0;
}
