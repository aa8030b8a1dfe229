/* SPDX-License-Identifier: Apache-2.0 */
/* MQTT 5 client driven from the libuv loop: libmosquitto's socket watched by uv_poll, its keepalive
 * by a 1 s timer, reconnection with exponential backoff (at most 1 s for a broker on loopback), a
 * much slower one after another client took the session over (lw_mqtt_yield). No threads. */
#ifndef LW_MQTT_H
#define LW_MQTT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct lw_mqtt_conf {
    const char *host;
    uint16_t port;
    const char *client_id;
    unsigned keepalive_s;
    const char *username; /* NULL or "" for none */
    const char *password;
    const char *tls_ca_file; /* NULL or "": no TLS */
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *tls_version;
    const char *will_topic; /* retained last will, QoS 1 */
    const char *will_payload;
    uint64_t reconnect_min_ms;
    uint64_t reconnect_max_ms;
    const char *subscribe; /* topic filter subscribed at QoS 1 on every connect; NULL: none */
    /* A retained topic read back on every connect before the session counts as up (NULL: none):
     * subscribed, then probe_payload is published on it, not retained. The broker queues the
     * retained copy to us before our own later message on the same topic, so when the probe
     * comes back, whatever retained copy the broker holds has arrived. */
    const char *probe_topic;
    const char *probe_payload;
    /* A retained topic only this client should write (the gateway's status), read along with the
     * probe on every connect: its retained copy says who wrote there last (NULL: none). */
    const char *owner_topic;
};

struct lw_mqtt_cbs {
    void *arg;
    /* Session up: (re)publish what is pending. retained: the broker's retained message on
     * probe_topic ("" when it has none), NULL when it could not be read (no probe topic, the
     * broker refused the subscription or never echoed the probe). owner: likewise the retained
     * message on owner_topic. */
    void (*connected)(void *arg, const char *retained, const char *owner);
    /* The broker ended the session with DISCONNECT reason 0x8E "session taken over": another
     * client connected with this client id. The client already waits before reconnecting as
     * after lw_mqtt_yield; retry_ms is how long. */
    void (*taken_over)(void *arg, uint64_t retry_ms);
    void (*disconnected)(void *arg);       /* session lost; reconnect is scheduled */
    void (*acked)(void *arg, int64_t tag); /* broker acknowledged a publish with tag > 0 */
    /* A message on the subscribed filter (payload not NUL-terminated); never the probe topic. */
    void (*message)(void *arg, const char *topic, const void *payload, size_t len);
};

struct lw_mqtt;

/* Returns NULL on failure (logged). conf strings are copied. */
struct lw_mqtt *lw_mqtt_new(uv_loop_t *loop, const struct lw_mqtt_conf *conf,
                            const struct lw_mqtt_cbs *cbs);
/* Begin connecting; failures are retried in the background. */
void lw_mqtt_start(struct lw_mqtt *m);
/* Connected and the probe (if any) answered: publishing is possible. */
bool lw_mqtt_connected(const struct lw_mqtt *m);
/* Publish. tag > 0 asks for an acked(tag) callback once the broker has the message (QoS >= 1).
 * Returns LW_OK or LW_ERR_AGAIN when not connected, LW_ERR_IO on other failures. */
int lw_mqtt_publish(struct lw_mqtt *m, const char *topic, const char *payload, int qos, bool retain,
                    int64_t tag);
/* Is a message with this tag handed to the client and not yet acknowledged? */
bool lw_mqtt_tag_pending(const struct lw_mqtt *m, int64_t tag);
/* Publish a last retained message (e.g. status offline) if connected, disconnect cleanly, close
 * the handles; the object is freed once libuv has released them. done(arg) runs at that point. */
/* The session before this one ended with the broker closing it without a reason (no DISCONNECT
 * from the broker, no error of ours): what a broker that does not send reason 0x8E (mosquitto
 * before 2.0.15) does when another client takes the session over. */
bool lw_mqtt_closed_by_broker(const struct lw_mqtt *m);
/* Another client owns this client id: leave the session (a clean DISCONNECT: no last will) and
 * stay away for a while, 30 s at first, doubling with every take-over within the hour up to 10 min,
 * so two clients sharing an id do not steal the session from each other for ever. Counted in
 * takeovers. Returns the wait in ms. */
uint64_t lw_mqtt_yield(struct lw_mqtt *m);
void lw_mqtt_stop(struct lw_mqtt *m, const char *final_topic, const char *final_payload,
                  void (*done)(void *arg), void *arg);

struct lw_mqtt_stats {
    uint64_t connects;
    uint64_t disconnects;
    uint64_t published;
    uint64_t acked;
    uint64_t publish_failures;
    uint64_t takeovers; /* sessions taken over by another client with this client id */
};
void lw_mqtt_stats(const struct lw_mqtt *m, struct lw_mqtt_stats *out);

#endif
