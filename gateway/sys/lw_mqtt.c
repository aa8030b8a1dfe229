/* SPDX-License-Identifier: Apache-2.0 */
/* libmosquitto inside libuv. The client's socket changes on every reconnect, so each connection
 * gets its own heap-allocated uv_poll_t that is closed when the connection ends. */
#include "lw_mqtt.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lw_error.h"
#include "lw_log.h"

/* A broker on this machine is retried at least this often: a refused loopback connection costs
 * nothing, and every second of waiting is a second an alert waits. The backoff is for remote
 * brokers, which a fleet of gateways must not flood after an outage. */
#define LOOPBACK_RETRY_MS 1000
/* How long a connection waits for its probe to come back before it is used all the same. */
#define PROBE_WAIT_MS 5000
/* After another client took the session over: the first wait before trying again, the longest,
 * and how long a take-over is remembered for the doubling. Two gateways sharing a client id
 * would otherwise take the session from each other as fast as they reconnect, for ever. */
#define TAKEOVER_FIRST_MS  30000
#define TAKEOVER_MAX_MS    600000
#define TAKEOVER_MEMORY_MS 3600000

struct conn_poll {
    uv_poll_t h;
    struct lw_mqtt *m;
};

struct tagmap {
    int mid;
    int64_t tag;
};

struct lw_mqtt {
    uv_loop_t *loop;
    struct mosquitto *mosq;
    struct lw_mqtt_conf conf;
    char *strings[7]; /* owned copies behind conf */
    struct lw_mqtt_cbs cbs;
    char *subscribe;
    char *probe_topic, *probe_payload;
    char *probe_retained; /* the retained copy seen on probe_topic in this connection */
    char *owner_topic;
    char *owner_retained; /* the retained copy seen on owner_topic in this connection */
    int probe_mid;
    uint64_t probe_deadline;
    uv_timer_t misc; /* 1 s: keepalive and reconnect backoff */
    struct conn_poll *poll;
    int poll_events;
    uv_getaddrinfo_t resolve;
    bool resolving;
    bool connected; /* CONNACK received */
    bool ready;     /* connected and the probe answered (or given up on): publishing allowed */
    bool loopback;  /* the broker is on this machine: see LOOPBACK_RETRY_MS */
    bool socket_up; /* a socket exists (connecting or connected) */
    bool stopping;
    uint64_t backoff_ms;
    uint64_t next_attempt_ms;
    int disconnect_reason;     /* the broker's DISCONNECT reason code in this session, -1 none */
    bool lost_session;         /* an established session ended; connection_lost looks at it */
    bool closed_by_broker;     /* the last session ended with a bare close by the broker */
    uint64_t yield_ms;         /* lw_mqtt_yield: the next attempt waits this long */
    uint64_t takeover_wait_ms; /* the last take-over's wait; doubles */
    uint64_t takeover_ms;      /* when that was (loop time) */
    struct tagmap *tags;
    size_t ntags, captags;
    struct lw_mqtt_stats st;
    int handles_open;
    void (*done)(void *);
    void *done_arg;
};

static void update_poll(struct lw_mqtt *m);
static void connection_lost(struct lw_mqtt *m, const char *why, bool bare);

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static bool addr_loopback(int family, const void *a)
{
    if (family == AF_INET)
        return (ntohl(((const struct in_addr *)a)->s_addr) >> 24) == 127;
    return family == AF_INET6 && IN6_IS_ADDR_LOOPBACK((const struct in6_addr *)a);
}

/* 127.0.0.0/8, ::1, localhost and *.localhost (RFC 6761): never leaves the machine. */
static bool host_loopback(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, host, buf) == 1)
        return addr_loopback(AF_INET, buf);
    if (inet_pton(AF_INET6, host, buf) == 1)
        return addr_loopback(AF_INET6, buf);
    size_t n = strlen(host);
    if (n && host[n - 1] == '.')
        n--;
    return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
           (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

/* The session is usable: tell the owner, with what the probe found. */
static void become_ready(struct lw_mqtt *m, const char *retained)
{
    m->ready = true;
    if (m->probe_topic)
        mosquitto_unsubscribe(m->mosq, NULL, m->probe_topic); /* our own later copies: noise */
    if (m->owner_topic)
        mosquitto_unsubscribe(m->mosq, NULL, m->owner_topic);
    if (m->cbs.connected)
        m->cbs.connected(m->cbs.arg, retained, m->owner_retained);
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct lw_mqtt *m = obj;
    (void)mosq;
    if (rc != 0) { /* an MQTT 5 CONNACK reason code */
        lw_log_rl(LW_LOG_WARNING, "mqtt: broker %s:%u refused the connection: %s", m->conf.host,
                  m->conf.port, mosquitto_reason_string(rc));
        return; /* the broker closes the socket; the read path notices */
    }
    m->connected = true;
    m->ready = false;
    m->disconnect_reason = -1;
    m->backoff_ms = m->conf.reconnect_min_ms;
    m->st.connects++;
    lw_log(LW_LOG_NOTICE, "mqtt: connected to %s:%u as %s", m->conf.host, m->conf.port,
           m->conf.client_id);
    /* A clean session forgets subscriptions: subscribe again on every connect. */
    if (m->subscribe) {
        int src = mosquitto_subscribe(m->mosq, NULL, m->subscribe, 1);
        if (src != MOSQ_ERR_SUCCESS)
            lw_log(LW_LOG_WARNING, "mqtt: cannot subscribe to %s: %s", m->subscribe,
                   mosquitto_strerror(src));
    }
    if (!m->probe_topic) {
        become_ready(m, NULL);
        return;
    }
    /* QoS 0 both ways, like the retained copy we want to see: one queue, one order. */
    free(m->probe_retained);
    m->probe_retained = NULL;
    free(m->owner_retained);
    m->owner_retained = NULL;
    m->probe_mid = 0;
    m->probe_deadline = uv_now(m->loop) + PROBE_WAIT_MS;
    /* Subscribed before the probe: its retained copy, if any, arrives before the probe's echo. */
    if (m->owner_topic && mosquitto_subscribe(m->mosq, NULL, m->owner_topic, 0) != MOSQ_ERR_SUCCESS)
        lw_log(LW_LOG_WARNING, "mqtt: cannot subscribe to %s", m->owner_topic);
    if (mosquitto_subscribe(m->mosq, &m->probe_mid, m->probe_topic, 0) != MOSQ_ERR_SUCCESS ||
        mosquitto_publish(m->mosq, NULL, m->probe_topic, (int)strlen(m->probe_payload),
                          m->probe_payload, 0, false) != MOSQ_ERR_SUCCESS) {
        lw_log(LW_LOG_WARNING, "mqtt: cannot probe %s", m->probe_topic);
        become_ready(m, NULL);
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int qos_count,
                         const int *granted_qos)
{
    struct lw_mqtt *m = obj;
    (void)mosq;
    if (m->ready || !m->connected || mid != m->probe_mid)
        return;
    if (qos_count < 1 || granted_qos[0] > 2) { /* 0x80: refused, e.g. by an ACL */
        lw_log_rl(LW_LOG_WARNING, "mqtt: the broker refused a subscription to %s", m->probe_topic);
        become_ready(m, NULL);
    }
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
    struct lw_mqtt *m = obj;
    (void)mosq;
    if (m->owner_topic && msg->topic && strcmp(msg->topic, m->owner_topic) == 0) {
        /* Only the retained copy before the session is ready; later ones are our own echo. */
        if (!m->ready && m->connected && msg->retain && msg->payloadlen >= 0) {
            free(m->owner_retained);
            m->owner_retained = strndup(msg->payload ? msg->payload : "", (size_t)msg->payloadlen);
        }
        return;
    }
    if (m->probe_topic && msg->topic && strcmp(msg->topic, m->probe_topic) == 0) {
        if (m->ready || !m->connected || msg->payloadlen < 0)
            return;
        size_t len = (size_t)msg->payloadlen;
        if (msg->retain) { /* the broker's copy, sent before our probe */
            free(m->probe_retained);
            m->probe_retained = strndup(msg->payload ? msg->payload : "", len);
        } else if (len == strlen(m->probe_payload) &&
                   memcmp(msg->payload, m->probe_payload, len) == 0) {
            become_ready(m, m->probe_retained ? m->probe_retained : "");
        }
        return;
    }
    if (m->cbs.message && msg->topic && msg->payloadlen >= 0)
        m->cbs.message(m->cbs.arg, msg->topic, msg->payload, (size_t)msg->payloadlen);
}

/* Once per established session, from libmosquitto or from connection_lost. */
static void session_ended(struct lw_mqtt *m)
{
    if (m->connected) {
        m->connected = false;
        m->ready = false;
        m->lost_session = true;
        m->st.disconnects++;
        if (!m->stopping && m->yield_ms == 0)
            lw_log(LW_LOG_WARNING, "mqtt: lost connection to %s:%u", m->conf.host, m->conf.port);
        if (m->cbs.disconnected && !m->stopping)
            m->cbs.disconnected(m->cbs.arg);
    }
}

/* rc: a DISCONNECT reason code from the broker (MQTT 5), or libmosquitto's own error code. */
static void on_disconnect_v5(struct mosquitto *mosq, void *obj, int rc,
                             const mosquitto_property *props)
{
    (void)mosq;
    (void)props;
    struct lw_mqtt *m = obj;
    /* libmosquitto's errors (MOSQ_ERR_*) are all below 0x80, the broker's error reasons not. */
    if (m->connected && rc >= 0x80) {
        m->disconnect_reason = rc;
        if (rc != MQTT_RC_SESSION_TAKEN_OVER && !m->stopping)
            lw_log_rl(LW_LOG_WARNING, "mqtt: the broker ended the session: %s (reason 0x%02X)",
                      mosquitto_reason_string(rc), (unsigned)rc);
    }
    session_ended(m);
}

/* The wait after a take-over: 30 s, doubling while take-overs keep coming, at most 10 min. */
static uint64_t takeover_wait(struct lw_mqtt *m)
{
    uint64_t now = uv_now(m->loop);
    if (m->takeover_wait_ms == 0 || now - m->takeover_ms > TAKEOVER_MEMORY_MS)
        m->takeover_wait_ms = TAKEOVER_FIRST_MS;
    else if ((m->takeover_wait_ms *= 2) > TAKEOVER_MAX_MS)
        m->takeover_wait_ms = TAKEOVER_MAX_MS;
    m->takeover_ms = now;
    m->st.takeovers++;
    return m->takeover_wait_ms;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
    (void)mosq;
    struct lw_mqtt *m = obj;
    for (size_t i = 0; i < m->ntags; i++) {
        if (m->tags[i].mid != mid)
            continue;
        int64_t tag = m->tags[i].tag;
        m->tags[i] = m->tags[--m->ntags];
        m->st.acked++;
        if (m->cbs.acked)
            m->cbs.acked(m->cbs.arg, tag);
        return;
    }
}

/* Every libuv handle we own counts down here; the last one to close frees the client. */
static void handle_released(struct lw_mqtt *m)
{
    if (--m->handles_open > 0 || !m->stopping)
        return;
    mosquitto_destroy(m->mosq);
    for (size_t i = 0; i < sizeof(m->strings) / sizeof(m->strings[0]); i++) {
        if (m->strings[i])
            explicit_bzero(m->strings[i], strlen(m->strings[i])); /* the password among them */
        free(m->strings[i]);
    }
    free(m->tags);
    free(m->subscribe);
    free(m->probe_topic);
    free(m->probe_payload);
    free(m->probe_retained);
    free(m->owner_topic);
    free(m->owner_retained);
    void (*done)(void *) = m->done;
    void *arg = m->done_arg;
    free(m);
    mosquitto_lib_cleanup();
    if (done)
        done(arg);
}

static void poll_closed(uv_handle_t *h)
{
    struct conn_poll *p = h->data;
    struct lw_mqtt *m = p->m;
    free(p);
    handle_released(m);
}

static void drop_poll(struct lw_mqtt *m)
{
    if (!m->poll)
        return;
    uv_close((uv_handle_t *)&m->poll->h, poll_closed);
    m->poll = NULL;
    m->poll_events = 0;
}

/* Called whenever libmosquitto says the connection is gone (or never came up). */
/* Called whenever libmosquitto says the connection is gone (or never came up). bare: the broker
 * closed it (end of stream), not an error or timeout of ours. */
static void connection_lost(struct lw_mqtt *m, const char *why, bool bare)
{
    drop_poll(m);
    if (m->socket_up) {
        m->socket_up = false;
        /* Closes the socket if libmosquitto has not already done so. */
        mosquitto_disconnect(m->mosq);
        session_ended(m);
    }
    if (m->stopping)
        return;
    bool session = m->lost_session;
    m->lost_session = false;
    int reason = session ? m->disconnect_reason : -1;
    m->disconnect_reason = -1;
    /* A failed attempt since says the broker was away (restarted): not a take-over. */
    m->closed_by_broker = session && bare && reason < 0 && m->yield_ms == 0;
    if (m->yield_ms > 0 || (session && reason == MQTT_RC_SESSION_TAKEN_OVER)) {
        bool asked = m->yield_ms > 0; /* lw_mqtt_yield: counted and told there */
        uint64_t wait = asked ? m->yield_ms : takeover_wait(m);
        m->yield_ms = 0;
        m->next_attempt_ms = uv_now(m->loop) + wait;
        if (!asked && m->cbs.taken_over)
            m->cbs.taken_over(m->cbs.arg, wait);
        return;
    }
    uint64_t cap = m->conf.reconnect_max_ms; /* also caps a reconnect_min above it */
    if (m->loopback && cap > LOOPBACK_RETRY_MS)
        cap = LOOPBACK_RETRY_MS;
    if (m->backoff_ms > cap)
        m->backoff_ms = cap;
    lw_log_rl(LW_LOG_INFO, "mqtt: %s (next attempt in %llu ms)", why,
              (unsigned long long)m->backoff_ms);
    m->next_attempt_ms = uv_now(m->loop) + m->backoff_ms;
    m->backoff_ms *= 2;
    if (m->backoff_ms > cap)
        m->backoff_ms = cap;
}

static void check_socket(struct lw_mqtt *m, int rc)
{
    if (rc != MOSQ_ERR_SUCCESS || mosquitto_socket(m->mosq) < 0) {
        connection_lost(m, rc == MOSQ_ERR_SUCCESS ? "connection closed" : mosquitto_strerror(rc),
                        rc == MOSQ_ERR_SUCCESS || rc == MOSQ_ERR_CONN_LOST);
        return;
    }
    update_poll(m);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct conn_poll *p = h->data;
    struct lw_mqtt *m = p->m;
    int rc = MOSQ_ERR_SUCCESS;
    if (status < 0) {
        connection_lost(m, uv_strerror(status), false);
        return;
    }
    if (events & (UV_READABLE | UV_DISCONNECT))
        rc = mosquitto_loop_read(m->mosq, 1);
    if (rc == MOSQ_ERR_SUCCESS && m->poll == p && (events & UV_WRITABLE))
        rc = mosquitto_loop_write(m->mosq, 1);
    if (m->poll != p)
        return;
    /* A hang-up is final even when the client does not say so: with TLS, libmosquitto keeps a
     * socket whose handshake can never finish as "pending", and epoll would report the hang-up
     * again at once, for ever, spinning the loop. */
    if (rc == MOSQ_ERR_SUCCESS && (events & UV_DISCONNECT)) {
        connection_lost(m, "connection closed by the broker", true);
        return;
    }
    check_socket(m, rc);
}

static void update_poll(struct lw_mqtt *m)
{
    int fd = mosquitto_socket(m->mosq);
    if (fd < 0)
        return;
    if (!m->poll) {
        m->poll = calloc(1, sizeof(*m->poll));
        if (!m->poll || uv_poll_init(m->loop, &m->poll->h, fd) != 0) {
            free(m->poll);
            m->poll = NULL;
            lw_log(LW_LOG_ERR, "mqtt: cannot watch socket");
            return;
        }
        m->poll->m = m;
        m->poll->h.data = m->poll;
        m->handles_open++;
    }
    int want = UV_READABLE | UV_DISCONNECT | (mosquitto_want_write(m->mosq) ? UV_WRITABLE : 0);
    if (want != m->poll_events) {
        uv_poll_start(&m->poll->h, want, on_poll);
        m->poll_events = want;
    }
}

static void start_connect(struct lw_mqtt *m)
{
    /* connect_async may be called again after a failure: it resets host and socket. */
    int rc = mosquitto_connect_async(m->mosq, m->conf.host, m->conf.port, (int)m->conf.keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS) {
        m->socket_up = false;
        connection_lost(m, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc), false);
        return;
    }
    m->socket_up = true;
    update_poll(m);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct lw_mqtt *m = req->data;
    /* A name whose every address is on this machine is as cheap to retry as 127.0.0.1. */
    bool loop = status == 0 && res != NULL;
    for (const struct addrinfo *a = res; loop && a; a = a->ai_next)
        loop = a->ai_family == AF_INET
                   ? addr_loopback(AF_INET, &((struct sockaddr_in *)a->ai_addr)->sin_addr)
                   : a->ai_family == AF_INET6 &&
                         addr_loopback(AF_INET6, &((struct sockaddr_in6 *)a->ai_addr)->sin6_addr);
    if (status == 0)
        m->loopback = loop || host_loopback(m->conf.host);
    uv_freeaddrinfo(res);
    m->resolving = false;
    if (m->stopping) {
        handle_released(m);
        return;
    }
    handle_released(m);
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof(why), "cannot resolve %s: %s", m->conf.host, uv_strerror(status));
        connection_lost(m, why, false);
        return;
    }
    start_connect(m);
}

/* libmosquitto resolves the broker's name with a blocking getaddrinfo inside connect_async: a
 * dead resolver would stall the whole loop (and trip the watchdog). So names are first resolved
 * on libuv's thread pool; only when that works does libmosquitto get to resolve them again,
 * which then answers at once. Numeric addresses need no lookup. */
static void try_connect(struct lw_mqtt *m)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, m->conf.host, buf) == 1 || inet_pton(AF_INET6, m->conf.host, buf) == 1) {
        start_connect(m);
        return;
    }
    if (m->resolving)
        return;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    m->resolve.data = m;
    if (uv_getaddrinfo(m->loop, &m->resolve, on_resolved, m->conf.host, NULL, &hints) != 0) {
        connection_lost(m, "cannot start a name lookup", false);
        return;
    }
    m->resolving = true;
    m->handles_open++; /* the request keeps m alive until its callback */
}

static void on_misc(uv_timer_t *t)
{
    struct lw_mqtt *m = t->data;
    if (m->stopping)
        return;
    if (m->connected && !m->ready && uv_now(m->loop) >= m->probe_deadline) {
        lw_log_rl(LW_LOG_WARNING, "mqtt: no answer on %s: going on without it", m->probe_topic);
        become_ready(m, NULL);
    }
    if (m->socket_up) {
        check_socket(m, mosquitto_loop_misc(m->mosq));
        return;
    }
    if (uv_now(m->loop) >= m->next_attempt_ms && !m->resolving)
        try_connect(m);
}

struct lw_mqtt *lw_mqtt_new(uv_loop_t *loop, const struct lw_mqtt_conf *conf,
                            const struct lw_mqtt_cbs *cbs)
{
    struct lw_mqtt *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->loop = loop;
    m->cbs = *cbs;
    m->conf = *conf;
    m->strings[0] = dup_or_null(conf->host);
    m->strings[1] = dup_or_null(conf->client_id);
    m->strings[2] = dup_or_null(conf->username);
    m->strings[3] = dup_or_null(conf->password);
    m->strings[4] = dup_or_null(conf->will_topic);
    m->strings[5] = dup_or_null(conf->will_payload);
    m->conf.host = m->strings[0];
    m->conf.client_id = m->strings[1];
    m->conf.subscribe = m->conf.probe_topic = m->conf.probe_payload = m->conf.owner_topic =
        NULL; /* see below */
    m->disconnect_reason = -1;
    m->backoff_ms = conf->reconnect_min_ms;
    m->loopback = m->conf.host && host_loopback(m->conf.host);
    mosquitto_lib_init();
    m->mosq = mosquitto_new(m->conf.client_id, true, m);
    if (!m->mosq) {
        lw_log(LW_LOG_ERR, "mqtt: cannot create client");
        goto fail;
    }
    /* MQTT 5: the broker can say why it ends the session (0x8E: another client took it over). */
    mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_callback_set(m->mosq, on_connect);
    mosquitto_disconnect_v5_callback_set(m->mosq, on_disconnect_v5);
    mosquitto_publish_callback_set(m->mosq, on_publish);
    mosquitto_message_callback_set(m->mosq, on_message);
    mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
    if (conf->subscribe && conf->subscribe[0] && !(m->subscribe = strdup(conf->subscribe)))
        goto fail;
    if (conf->probe_topic && conf->probe_topic[0] &&
        (!(m->probe_topic = strdup(conf->probe_topic)) ||
         !(m->probe_payload = strdup(conf->probe_payload ? conf->probe_payload : ""))))
        goto fail;
    /* Read with the probe only: its echo says the retained copy has arrived. */
    if (m->probe_topic && conf->owner_topic && conf->owner_topic[0] &&
        !(m->owner_topic = strdup(conf->owner_topic)))
        goto fail;
    if (m->strings[2] && mosquitto_username_pw_set(m->mosq, m->strings[2], m->strings[3]) != 0)
        goto fail;
    if (conf->tls_ca_file && conf->tls_ca_file[0]) {
        bool client = conf->tls_cert_file && conf->tls_cert_file[0];
        int rc =
            mosquitto_tls_set(m->mosq, conf->tls_ca_file, NULL, client ? conf->tls_cert_file : NULL,
                              client ? conf->tls_key_file : NULL, NULL);
        if (rc == MOSQ_ERR_SUCCESS)
            /* 1 = SSL_VERIFY_PEER: the broker's certificate and host name are checked. */
            rc = mosquitto_tls_opts_set(m->mosq, 1, conf->tls_version, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            lw_log(LW_LOG_ERR, "mqtt: TLS set-up failed: %s", mosquitto_strerror(rc));
            goto fail;
        }
        lw_log(LW_LOG_INFO, "mqtt: TLS (%s) with CA %s%s", conf->tls_version, conf->tls_ca_file,
               client ? " and a client certificate" : "");
    }
    if (m->strings[4] &&
        mosquitto_will_set(m->mosq, m->strings[4], (int)strlen(m->strings[5] ? m->strings[5] : ""),
                           m->strings[5], 1, true) != 0) {
        lw_log(LW_LOG_ERR, "mqtt: cannot set last will");
        goto fail;
    }
    uv_timer_init(loop, &m->misc);
    m->misc.data = m;
    m->handles_open = 1;
    return m;
fail:
    if (m->mosq)
        mosquitto_destroy(m->mosq);
    for (size_t i = 0; i < sizeof(m->strings) / sizeof(m->strings[0]); i++)
        free(m->strings[i]);
    free(m->subscribe);
    free(m->probe_topic);
    free(m->probe_payload);
    free(m->owner_topic);
    free(m);
    return NULL;
}

void lw_mqtt_start(struct lw_mqtt *m)
{
    uv_timer_start(&m->misc, on_misc, 1000, 1000);
    try_connect(m);
}

bool lw_mqtt_connected(const struct lw_mqtt *m)
{
    return m->ready;
}

int lw_mqtt_publish(struct lw_mqtt *m, const char *topic, const char *payload, int qos, bool retain,
                    int64_t tag)
{
    if (!m->ready)
        return LW_ERR_AGAIN;
    int mid = 0;
    int rc = mosquitto_publish(m->mosq, &mid, topic, (int)strlen(payload), payload, qos, retain);
    /* For QoS >= 1 libmosquitto queues the message before writing it: when only the write failed
     * (the connection just broke) it still holds it, will resend it on reconnect, and its
     * acknowledgement must find the tag, or the outbox would send it a second time. */
    bool queued = qos > 0 && mid != 0 &&
                  (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_ERRNO || rc == MOSQ_ERR_NO_CONN);
    if (rc != MOSQ_ERR_SUCCESS) {
        m->st.publish_failures++;
        lw_log_rl(LW_LOG_WARNING, "mqtt: publish to %s failed: %s", topic, mosquitto_strerror(rc));
        if (!queued)
            return LW_ERR_IO;
    }
    m->st.published++;
    if (tag > 0 && qos > 0) {
        if (m->ntags == m->captags) {
            size_t cap = m->captags ? 2 * m->captags : 64;
            struct tagmap *t = realloc(m->tags, cap * sizeof(*t));
            if (!t)
                return LW_OK; /* not tracked: redelivered from the outbox after a restart */
            m->tags = t;
            m->captags = cap;
        }
        m->tags[m->ntags++] = (struct tagmap){.mid = mid, .tag = tag};
    }
    update_poll(m);
    return LW_OK;
}

bool lw_mqtt_tag_pending(const struct lw_mqtt *m, int64_t tag)
{
    for (size_t i = 0; i < m->ntags; i++)
        if (m->tags[i].tag == tag)
            return true;
    return false;
}

bool lw_mqtt_closed_by_broker(const struct lw_mqtt *m)
{
    return m->closed_by_broker;
}

uint64_t lw_mqtt_yield(struct lw_mqtt *m)
{
    uint64_t wait = takeover_wait(m);
    m->yield_ms = wait;
    m->ready = false; /* nothing more is published in this session */
    if (m->socket_up) {
        /* A clean DISCONNECT: the broker keeps the other client's status, not our will. Once it
         * is written libmosquitto closes the socket and connection_lost applies the wait. */
        if (mosquitto_disconnect(m->mosq) == MOSQ_ERR_SUCCESS)
            update_poll(m);
        else
            connection_lost(m, "left the session", false);
    } else {
        m->yield_ms = 0;
        m->next_attempt_ms = uv_now(m->loop) + wait;
    }
    return wait;
}

static void misc_closed(uv_handle_t *h)
{
    handle_released(h->data);
}

/* At stop only: write what libmosquitto still holds (queued alerts, the final status, the
 * DISCONNECT) for at most ms, blocking. A non-blocking socket takes only what fits; whatever is
 * cut off would make the broker publish the will over the final status. */
static void flush_out(struct lw_mqtt *m, int ms)
{
    int fd = mosquitto_socket(m->mosq);
    uint64_t deadline = uv_hrtime() / 1000000 + (uint64_t)ms;
    while (fd >= 0 && mosquitto_want_write(m->mosq)) {
        uint64_t now = uv_hrtime() / 1000000;
        if (now >= deadline)
            break;
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, (int)(deadline - now)) <= 0 ||
            mosquitto_loop_write(m->mosq, 1) != MOSQ_ERR_SUCCESS)
            break;
    }
}

void lw_mqtt_stop(struct lw_mqtt *m, const char *final_topic, const char *final_payload,
                  void (*done)(void *arg), void *arg)
{
    m->done = done;
    m->done_arg = arg;
    if (m->connected && final_topic) {
        mosquitto_publish(m->mosq, NULL, final_topic, (int)strlen(final_payload), final_payload, 1,
                          true);
        /* A clean DISCONNECT tells the broker not to send the will: we said goodbye ourselves. */
        flush_out(m, 1000);
    }
    m->stopping = true;
    if (m->resolving)
        uv_cancel((uv_req_t *)&m->resolve); /* its callback releases m's last reference */
    if (m->socket_up) {
        mosquitto_disconnect(m->mosq);
        flush_out(m, 500);
        m->socket_up = false;
    }
    m->connected = false;
    m->ready = false;
    drop_poll(m);
    uv_timer_stop(&m->misc);
    uv_close((uv_handle_t *)&m->misc, misc_closed);
}

void lw_mqtt_stats(const struct lw_mqtt *m, struct lw_mqtt_stats *out)
{
    *out = m->st;
}
