/* SPDX-License-Identifier: Apache-2.0 */
/* Test stand-in for Semtech's lora_pkt_fwd: speaks the UDP packet-forwarder protocol v2 byte for
 * byte (PROTOCOL.TXT) from two sockets as the real one does, pushing rxpk that carry frames it
 * seals itself for one node, and checks that every PUSH_ACK and PULL_ACK echoes its token.
 * usage: fake_forwarder --server HOST:PORT --key HEX32 --address N [options]; -h lists them. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <openssl/evp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lw_frame.h"
#include "lw_reading.h"

#define VERSION     2
#define PUSH_DATA   0x00
#define PUSH_ACK    0x01
#define PULL_DATA   0x02
#define PULL_RESP   0x03
#define PULL_ACK    0x04
#define TX_ACK      0x05
#define ACK_WAIT_MS 2000
#define MAX_PULLS   8

struct opts {
    const char *server;
    uint8_t eui[8];
    uint8_t key[LW_KEY_LEN];
    unsigned net_id, address, water_mm, count, fcnt_start, per_push, keepalive_ms, linger_ms;
    int rssi;
    double lsnr;
    bool rssis, malformed;
};

struct state {
    int up, down; /* like lora_pkt_fwd: PUSH_DATA from one socket, PULL_DATA from another */
    uint16_t pull_tokens[MAX_PULLS];
    size_t n_pull_tokens;
    int64_t next_pull_ms;
    unsigned pull_data, pull_acks, push_data, push_acks, bad, pull_resp, tx_acks, malformed;
};

static const struct opts *O;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fake_forwarder: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static bool hex(const char *s, uint8_t *out, size_t n)
{
    if (strlen(s) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = (uint8_t)v;
    }
    return true;
}

static uint16_t random_token(void)
{
    return (uint16_t)(rand() & 0xFFFF);
}

/* Header: version, token high, token low, identifier; then the EUI. */
static size_t header(uint8_t *b, uint8_t version, uint16_t token, uint8_t id, bool eui)
{
    b[0] = version;
    b[1] = (uint8_t)(token >> 8);
    b[2] = (uint8_t)token;
    b[3] = id;
    if (!eui)
        return 4;
    memcpy(b + 4, O->eui, 8);
    return 12;
}

static int connected_socket(const char *server)
{
    char host[128];
    const char *colon = strrchr(server, ':');
    if (!colon || (size_t)(colon - server) >= sizeof(host))
        die("--server must be HOST:PORT");
    memcpy(host, server, (size_t)(colon - server));
    host[colon - server] = '\0';
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *ai;
    if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
        die("cannot resolve %s", server);
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    /* connect(): only the server's datagrams arrive, as for lora_pkt_fwd. */
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)
        die("cannot connect to %s: %s", server, strerror(errno));
    freeaddrinfo(ai);
    return fd;
}

static void send_dgram(int fd, const uint8_t *b, size_t n)
{
    if (send(fd, b, n, 0) != (ssize_t)n)
        die("send: %s", strerror(errno));
}

static void send_pull(struct state *s)
{
    uint8_t b[12];
    uint16_t t = random_token();
    send_dgram(s->down, b, header(b, VERSION, t, PULL_DATA, true));
    s->pull_tokens[s->n_pull_tokens++ % MAX_PULLS] = t;
    s->pull_data++;
    s->next_pull_ms = now_ms() + O->keepalive_ms;
}

/* Answer a PULL_RESP as lora_pkt_fwd does: TX_ACK with the same token and no error. */
static void on_pull_resp(struct state *s, const uint8_t *b, ssize_t n)
{
    char json[1024];
    size_t l = (size_t)n - 4 < sizeof(json) - 1 ? (size_t)n - 4 : sizeof(json) - 1;
    memcpy(json, b + 4, l);
    json[l] = '\0';
    if (!strstr(json, "\"txpk\""))
        die("PULL_RESP without txpk: %s", json);
    printf("PULL_RESP %s\n", json);
    s->pull_resp++;
    uint8_t ack[64];
    size_t k = header(ack, VERSION, (uint16_t)(b[1] << 8 | b[2]), TX_ACK, true);
    const char *ok = "{\"txpk_ack\":{\"error\":\"NONE\"}}";
    memcpy(ack + k, ok, strlen(ok));
    send_dgram(s->down, ack, k + strlen(ok));
    s->tx_acks++;
}

/* Serve both sockets until push_token is acknowledged (push_token < 0: for wait_ms). Returns
 * whether the PUSH_ACK came. Every datagram is checked byte for byte. */
static bool serve(struct state *s, int push_token, int wait_ms)
{
    int64_t until = now_ms() + wait_ms;
    for (;;) {
        int64_t now = now_ms();
        if (now >= s->next_pull_ms)
            send_pull(s);
        if (now >= until)
            return false;
        int64_t next = s->next_pull_ms < until ? s->next_pull_ms : until;
        struct pollfd p[2] = {{.fd = s->up, .events = POLLIN}, {.fd = s->down, .events = POLLIN}};
        if (poll(p, 2, (int)(next - now)) <= 0)
            continue;
        uint8_t b[2048];
        if (p[0].revents & POLLIN) {
            ssize_t n = recv(s->up, b, sizeof(b), 0);
            if (n < 0)
                continue; /* ECONNREFUSED from an earlier send: the daemon is not there yet */
            uint16_t t = (uint16_t)(b[1] << 8 | b[2]);
            if (n != 4 || b[0] != VERSION || b[3] != PUSH_ACK || push_token < 0 ||
                t != (uint16_t)push_token) {
                fprintf(stderr,
                        "fake_forwarder: unexpected %zd-byte datagram on the up socket "
                        "(id %u, token 0x%04X)\n",
                        n, n >= 4 ? b[3] : 0, t);
                s->bad++;
                continue;
            }
            s->push_acks++;
            return true;
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = recv(s->down, b, sizeof(b), 0);
            if (n < 0)
                continue;
            if (n >= 4 && b[0] == VERSION && b[3] == PULL_RESP) {
                on_pull_resp(s, b, n);
                continue;
            }
            uint16_t t = (uint16_t)(b[1] << 8 | b[2]);
            bool known = false;
            for (size_t i = 0; i < MAX_PULLS && i < s->n_pull_tokens; i++)
                if (s->pull_tokens[i] == t) {
                    known = true;
                    s->pull_tokens[i] = (uint16_t)~t; /* each token acknowledged once */
                }
            if (n != 4 || b[0] != VERSION || b[3] != PULL_ACK || !known) {
                fprintf(stderr, "fake_forwarder: bad PULL_ACK (%zd bytes, token 0x%04X)\n", n, t);
                s->bad++;
                continue;
            }
            s->pull_acks++;
        }
    }
}

/* One rxpk object as the SX1301 lora_pkt_fwd prints it (the SX1302 one adds rssis). */
static size_t rxpk(char *out, size_t cap, const uint8_t *frame, size_t len, unsigned chan, int stat,
                   const char *modu)
{
    struct timeval tv;
    struct tm tm;
    char iso[96], b64[400];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
    EVP_EncodeBlock((unsigned char *)b64, frame, (int)len);
    char rssis[32] = "";
    if (O->rssis)
        snprintf(rssis, sizeof(rssis), "\"rssis\":%d,", O->rssi - 3);
    int n = snprintf(out, cap,
                     "{\"tmst\":%u,\"time\":\"%s\",\"chan\":%u,\"rfch\":0,\"freq\":%.6f,"
                     "\"stat\":%d,\"modu\":\"%s\",\"datr\":\"SF9BW125\",\"codr\":\"4/5\","
                     "\"lsnr\":%.1f,%s\"rssi\":%d,\"size\":%zu,\"data\":\"%s\"}",
                     (unsigned)(now_ms() * 1000u), iso, chan, 470.3 + 0.2 * chan, stat, modu,
                     O->lsnr, rssis, O->rssi, len, b64);
    if (n < 0 || (size_t)n >= cap)
        die("rxpk too long");
    return (size_t)n;
}

static size_t seal(uint32_t fcnt, uint8_t *frame)
{
    struct lw_reading r = {.present = LW_R_WATER, .water_mm = (uint16_t)O->water_mm};
    uint8_t plain[LW_READING_MAX_LEN];
    int pl = lw_reading_encode(&r, plain, sizeof(plain));
    struct lw_frame_hdr h = {.type = LW_FT_DATA,
                             .hop_limit = 3,
                             .net_id = (uint16_t)O->net_id,
                             .src = (uint16_t)O->address,
                             .dst = LW_ADDR_GATEWAY,
                             .fcnt = fcnt};
    int n = pl < 0 ? pl : lw_frame_seal(&h, O->key, plain, (size_t)pl, frame, LW_FRAME_MAX_LEN);
    if (n < 0)
        die("cannot seal a frame (%d)", n);
    return (size_t)n;
}

/* PUSH_DATA with json; waits for its PUSH_ACK when ack. */
static void push(struct state *s, const char *json, bool ack)
{
    static uint8_t b[65536];
    uint16_t t = random_token();
    size_t k = header(b, VERSION, t, PUSH_DATA, true);
    memcpy(b + k, json, strlen(json)); /* no C terminator on the wire, as lora_pkt_fwd */
    send_dgram(s->up, b, k + strlen(json));
    s->push_data++;
    if (ack && !serve(s, t, ACK_WAIT_MS))
        die("no PUSH_ACK for token 0x%04X", t);
}

/* One datagram of each kind a server must drop without acknowledging (and count). */
static void send_malformed(struct state *s)
{
    static uint8_t b[40000];
    size_t k;
    const char *bad_json = "{\"rxpk\":[{\"stat\":1,";
    k = header(b, VERSION, random_token(), PUSH_DATA, true); /* truncated JSON */
    memcpy(b + k, bad_json, strlen(bad_json));
    send_dgram(s->up, b, k + strlen(bad_json));
    k = header(b, VERSION, random_token(), 0x07, true); /* unknown packet type */
    send_dgram(s->up, b, k);
    k = header(b, 1, random_token(), PUSH_DATA, true); /* protocol version 1 */
    memcpy(b + k, "{}", 2);
    send_dgram(s->up, b, k + 2);
    send_dgram(s->up, b, 3);                                  /* shorter than a header */
    k = header(b, VERSION, random_token(), PULL_RESP, false); /* a server's packet type */
    memcpy(b + k, "{\"txpk\":{}}", 11);
    send_dgram(s->up, b, k + 11);
    k = header(b, VERSION, random_token(), PUSH_DATA, true); /* oversized */
    memset(b + k, ' ', sizeof(b) - k);
    memcpy(b + k, "{\"rxpk\":[]}", 11);
    send_dgram(s->up, b, sizeof(b));
    s->malformed += 6;
    /* None of them may be acknowledged. */
    serve(s, -1, 300);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: fake_forwarder --server HOST:PORT --key HEX32 --address N [options]\n"
               "  --eui HEX16        gateway EUI (default AA555A0000000101)\n"
               "  --network-id N     (default 0x4C57)\n"
               "  --water MM         water_mm in every frame (default 10)\n"
               "  --count N          frames to push (default 1), counters from --fcnt-start\n"
               "  --fcnt-start N     (default 1)\n"
               "  --per-push N       rxpk per PUSH_DATA (default 1)\n"
               "  --rssi DBM         (default -87)  --lsnr DB (default 7.5)\n"
               "  --rssis            add an SX1302 signal RSSI (rssi - 3) to every rxpk\n"
               "  --malformed        also push a CRC-failed and an FSK rxpk (acknowledged) and\n"
               "                     six malformed datagrams (not acknowledged)\n"
               "  --keepalive MS     PULL_DATA interval (default 500)\n"
               "  --linger MS        keep pulling (and answering PULL_RESP) this long at the end\n"
               "Prints a JSON summary; exit 1 on any protocol violation by the server.\n");
}

static unsigned num(const char *s)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (!*s || *end || v > 0xFFFFFFFFul)
        die("not a number: %s", s);
    return (unsigned)v;
}

int main(int argc, char **argv)
{
    static struct opts o = {.net_id = 0x4C57,
                            .water_mm = 10,
                            .count = 1,
                            .fcnt_start = 1,
                            .per_push = 1,
                            .keepalive_ms = 500,
                            .rssi = -87,
                            .lsnr = 7.5};
    static const struct option lo[] = {{"server", 1, 0, 's'},
                                       {"eui", 1, 0, 'e'},
                                       {"key", 1, 0, 'k'},
                                       {"address", 1, 0, 'a'},
                                       {"network-id", 1, 0, 'n'},
                                       {"water", 1, 0, 'w'},
                                       {"count", 1, 0, 'c'},
                                       {"fcnt-start", 1, 0, 'f'},
                                       {"per-push", 1, 0, 'p'},
                                       {"rssi", 1, 0, 'r'},
                                       {"lsnr", 1, 0, 'l'},
                                       {"rssis", 0, 0, 'S'},
                                       {"malformed", 0, 0, 'm'},
                                       {"keepalive", 1, 0, 'K'},
                                       {"linger", 1, 0, 'L'},
                                       {"help", 0, 0, 'h'},
                                       {0, 0, 0, 0}};
    bool have_key = false;
    hex("AA555A0000000101", o.eui, 8);
    for (int c; (c = getopt_long(argc, argv, "h", lo, NULL)) != -1;) {
        switch (c) {
        case 's':
            o.server = optarg;
            break;
        case 'e':
            if (!hex(optarg, o.eui, 8))
                die("--eui: 16 hex digits");
            break;
        case 'k':
            have_key = hex(optarg, o.key, LW_KEY_LEN);
            if (!have_key)
                die("--key: 32 hex digits");
            break;
        case 'a':
            o.address = num(optarg);
            break;
        case 'n':
            o.net_id = num(optarg);
            break;
        case 'w':
            o.water_mm = num(optarg);
            break;
        case 'c':
            o.count = num(optarg);
            break;
        case 'f':
            o.fcnt_start = num(optarg);
            break;
        case 'p':
            o.per_push = num(optarg);
            break;
        case 'r':
            o.rssi = atoi(optarg);
            break;
        case 'l':
            o.lsnr = atof(optarg);
            break;
        case 'S':
            o.rssis = true;
            break;
        case 'm':
            o.malformed = true;
            break;
        case 'K':
            o.keepalive_ms = num(optarg);
            break;
        case 'L':
            o.linger_ms = num(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.server || !have_key || !o.address || !o.per_push || o.per_push > 8 || !o.keepalive_ms) {
        usage(stderr);
        return 2;
    }
    O = &o;
    srand((unsigned)getpid() ^ (unsigned)now_ms());
    struct state s = {.up = connected_socket(o.server), .down = connected_socket(o.server)};

    /* Open the downlink route and wait until the server has acknowledged it. */
    send_pull(&s);
    for (int64_t until = now_ms() + ACK_WAIT_MS; s.pull_acks == 0 && now_ms() < until;)
        serve(&s, -1, 50);
    if (s.pull_acks == 0)
        die("no PULL_ACK");
    /* A status report, as lora_pkt_fwd sends every stat_interval. */
    push(&s,
         "{\"stat\":{\"time\":\"2026-07-15 02:00:00 GMT\",\"rxnb\":0,\"rxok\":0,\"rxfw\":0,"
         "\"ackr\":100.0,\"dwnb\":0,\"txnb\":0}}",
         true);
    static char json[8192];
    uint32_t fcnt = o.fcnt_start;
    for (unsigned sent = 0; sent < o.count;) {
        size_t n = (size_t)snprintf(json, sizeof(json), "{\"rxpk\":[");
        for (unsigned i = 0; i < o.per_push && sent < o.count; i++, sent++) {
            uint8_t frame[LW_FRAME_MAX_LEN];
            size_t len = seal(fcnt++, frame);
            if (i)
                json[n++] = ',';
            n += rxpk(json + n, sizeof(json) - n, frame, len, sent % 8, 1, "LORA");
        }
        snprintf(json + n, sizeof(json) - n, "]}");
        push(&s, json, true);
    }
    if (o.malformed) {
        /* Passed on by a forwarder configured with forward_crc_error / FSK channels. */
        uint8_t frame[LW_FRAME_MAX_LEN];
        size_t len = seal(fcnt, frame), n = (size_t)snprintf(json, sizeof(json), "{\"rxpk\":[");
        n += rxpk(json + n, sizeof(json) - n, frame, len, 0, -1, "LORA");
        json[n++] = ',';
        n += rxpk(json + n, sizeof(json) - n, frame, len, 1, 1, "FSK");
        snprintf(json + n, sizeof(json) - n, "]}");
        push(&s, json, true);
        send_malformed(&s);
    }
    if (o.linger_ms)
        serve(&s, -1, (int)o.linger_ms);
    /* Stop pulling and take the acknowledgements still owed, so a PULL_DATA sent just before
     * the end is not miscounted as unanswered. */
    s.next_pull_ms = INT64_MAX;
    for (int64_t until = now_ms() + ACK_WAIT_MS; s.pull_acks < s.pull_data && now_ms() < until;)
        serve(&s, -1, 50);
    printf("{\"pull_data\":%u,\"pull_acks\":%u,\"push_data\":%u,\"push_acks\":%u,"
           "\"malformed_sent\":%u,\"pull_resp\":%u,\"tx_acks\":%u,\"bad\":%u}\n",
           s.pull_data, s.pull_acks, s.push_data, s.push_acks, s.malformed, s.pull_resp, s.tx_acks,
           s.bad);
    close(s.up);
    close(s.down);
    return s.bad ? 1 : 0;
}
