/* SPDX-License-Identifier: Apache-2.0 */
/* The simulated radio medium: lw_simwire datagrams over loopback UDP to the gateway's sim
 * radio backend, on a libuv loop. */
#ifndef SIM_MEDIUM_H
#define SIM_MEDIUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* RF metadata stamped on every AIR datagram of one node. */
struct sim_rf {
    uint32_t freq_hz;
    uint32_t bw_hz;
    uint8_t sf;
    int16_t rssi_x10;
    int16_t snr_x10;
};

struct lw_simwire;
/* A datagram the gateway sent to the simulator (already decoded; payload valid during the call). */
typedef void (*sim_medium_rx_fn)(void *user, const struct lw_simwire *w);

struct sim_medium {
    uv_udp_t udp;
    struct sockaddr_storage dest;
    bool open;
    uint64_t datagrams; /* handed to the kernel (or queued) */
    uint64_t bytes;
    uint64_t errors; /* sends that failed */
    int last_error;  /* libuv error code of the last failure */
    sim_medium_rx_fn on_rx;
    void *rx_user;
    uint64_t rx_datagrams; /* well-formed datagrams received from the gateway */
    uint64_t rx_malformed; /* received datagrams that were not lw_simwire, or from elsewhere */
    uint8_t rxbuf[512];
};

/* Resolve host:port and open an unconnected UDP socket on loop. Returns LW_OK, or
 * LW_ERR_INVAL (host does not resolve) / LW_ERR_IO, with a message in err. */
int sim_medium_open(struct sim_medium *m, uv_loop_t *loop, const char *host, uint16_t port,
                    char *err, size_t errlen);
/* Receive the gateway's datagrams (downlinks) on the same socket the frames leave from: the
 * gateway answers the address that last spoke to it. Binds to an ephemeral port of the gateway's
 * address family. Datagrams not from the gateway's address or not lw_simwire are counted and
 * dropped. Returns LW_OK or LW_ERR_IO with a message in err. */
int sim_medium_listen(struct sim_medium *m, sim_medium_rx_fn fn, void *user, char *err,
                      size_t errlen);
/* Start closing; close_cb (may be NULL) runs from the loop once the handle is closed. */
void sim_medium_close(struct sim_medium *m, uv_close_cb close_cb);

/* Send one raw datagram. Returns LW_OK or LW_ERR_IO (counted in errors). */
int sim_medium_send_raw(struct sim_medium *m, const uint8_t *buf, size_t len);
/* One frame on the air at virtual time t_ms (0: the receiver uses its own clock). */
int sim_medium_send_air(struct sim_medium *m, const struct sim_rf *rf, uint64_t t_ms,
                        const uint8_t *frame, size_t len);
/* Virtual clock advance to t_ms. */
int sim_medium_send_tick(struct sim_medium *m, uint64_t t_ms);

#endif
