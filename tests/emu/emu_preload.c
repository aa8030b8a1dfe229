/* SPDX-License-Identifier: Apache-2.0 */
/* LD_PRELOAD stand-in for a radio HAT: interposes open/ioctl/close on /dev/spidev* and the
 * libgpiod 1.6 functions lorawatchd uses, and hosts a register-level chip emulator in the
 * process, so the daemon's unmodified spidev and libgpiod code drives an emulated SX1276 or
 * SX1262. Frames come in as lw_simwire datagrams (lorawatch-sim --gateway pointed at LW_EMU_AIR)
 * and become receptions in the chip one after the other, each when its airtime has passed (the
 * channel carries one frame at a time); what the chip transmits goes back to the last sender.
 *
 * Environment:
 *   LW_EMU_CHIP   sx127x (default) or sx126x
 *   LW_EMU_PINS   reset,cs,irq,busy line offsets (default: the Dragino or Waveshare board's)
 *   LW_EMU_AIR    HOST:PORT of the UDP socket for the air (default 127.0.0.1:17100)
 *   LW_EMU_FAULT  fault at power-on: missing, missing-ff, dead
 * Text datagrams to the same port change the chip: "EMU:hang", "EMU:dead", "EMU:deaf",
 * "EMU:notxdone", "EMU:brownout" (the chip resets itself), "EMU:ok", "EMU:busy-channel",
 * "EMU:free-channel", "EMU:bad-crc" (the next frame fails its CRC). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <linux/spi/spidev.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "emu_chip.h"
#include "lw_airtime.h"
#include "lw_simwire.h"

/* ---- the emulated board ------------------------------------------------------------------ */

enum { ROLE_NONE, ROLE_RESET, ROLE_CS, ROLE_IRQ, ROLE_BUSY };

struct gpiod_line {
    struct gpiod_chip *chip;
    unsigned offset;
    int role;
    bool requested;
    int value;
    char consumer[32];
};

#define EMU_LINES 64
struct gpiod_chip {
    struct gpiod_line lines[EMU_LINES];
};

/* Frames on their way through the air: delivered in order, each at the end of its airtime. */
#define AIR_QUEUE 256
struct air_frame {
    uint8_t data[255];
    uint16_t len;
    int16_t rssi_x10, snr_x10;
    uint8_t sf;
    uint32_t bw_hz;
    bool crc_ok;
    uint64_t due_us;
};

static struct {
    pthread_mutex_t lock;
    struct air_frame air[AIR_QUEUE];
    size_t air_head, air_len;
    uint64_t air_busy_until_us;
    bool ready;
    const struct emu_chip_ops *ops;
    void *chip;
    int pins[5]; /* by role */
    int spi_fd;  /* the fd handed out for the spidev, -1 when closed */
    int pipe[2]; /* IRQ edges */
    int irq_level;
    bool in_reset, cs_low;
    bool bad_crc_next;
    int air_fd;
    struct sockaddr_in peer;
    bool have_peer;
    pthread_t worker;
    bool worker_running;
    int stop_pipe[2];
    unsigned frames_in, frames_received;
} emu = {.lock = PTHREAD_MUTEX_INITIALIZER, .spi_fd = -1, .air_fd = -1};

static int (*real_open)(const char *, int, ...);
static int (*real_close)(int);
static int (*real_ioctl)(int, unsigned long, ...);

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    char buf[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    fprintf(stderr, "lw-emu: %s\n", buf);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void resolve(void)
{
    if (!real_open) {
        real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
        real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
        real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    }
}

/* Called with the lock held: queue an edge when the IRQ line rose. */
static void update_irq(void)
{
    int level = emu.in_reset ? 0 : emu.ops->irq(emu.chip);
    if (level && !emu.irq_level) {
        uint8_t b = 1;
        if (write(emu.pipe[1], &b, 1) != 1)
            say("IRQ edge lost: %s", strerror(errno));
    }
    emu.irq_level = level;
}

static void setup_locked(void)
{
    if (emu.ready)
        return;
    const char *chip = getenv("LW_EMU_CHIP");
    bool sx126x = chip && strcmp(chip, "sx126x") == 0;
    emu.ops = sx126x ? &emu_sx126x_ops : &emu_sx127x_ops;
    emu.chip = sx126x ? emu_sx126x_new(now_us()) : emu_sx127x_new(now_us());
    int def127[5] = {-1, 17, 25, 4, -1}, def126[5] = {-1, 18, 21, 16, 20};
    memcpy(emu.pins, sx126x ? def126 : def127, sizeof(emu.pins));
    const char *pins = getenv("LW_EMU_PINS");
    if (pins)
        sscanf(pins, "%d,%d,%d,%d", &emu.pins[ROLE_RESET], &emu.pins[ROLE_CS], &emu.pins[ROLE_IRQ],
               &emu.pins[ROLE_BUSY]);
    const char *fault = getenv("LW_EMU_FAULT");
    if (fault && strcmp(fault, "missing") == 0)
        emu.ops->fault(emu.chip, EMU_MISSING);
    else if (fault && strcmp(fault, "missing-ff") == 0)
        emu.ops->fault(emu.chip, EMU_MISSING_FF);
    else if (fault && strcmp(fault, "dead") == 0)
        emu.ops->fault(emu.chip, EMU_DEAD);
    if (pipe(emu.pipe) != 0 || fcntl(emu.pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(emu.pipe[1], F_SETFL, O_NONBLOCK) != 0 || fcntl(emu.pipe[0], F_SETFD, FD_CLOEXEC) ||
        fcntl(emu.pipe[1], F_SETFD, FD_CLOEXEC))
        say("cannot make the IRQ pipe: %s", strerror(errno));
    emu.ready = true;
    say("emulating %s, pins reset %d cs %d irq %d busy %d", emu.ops->name, emu.pins[ROLE_RESET],
        emu.pins[ROLE_CS], emu.pins[ROLE_IRQ], emu.pins[ROLE_BUSY]);
}

static void setup(void)
{
    pthread_mutex_lock(&emu.lock);
    setup_locked();
    pthread_mutex_unlock(&emu.lock);
}

/* ---- the air: datagrams in, transmissions out ------------------------------------------- */

static void send_tx_locked(void)
{
    uint8_t frame[256], out[LW_SIMWIRE_MAX_LEN];
    size_t n = emu.ops->take_tx(emu.chip, frame, sizeof(frame));
    if (!n)
        return;
    say("chip transmitted %zu bytes", n);
    if (!emu.have_peer)
        return;
    struct lw_simwire m = {.kind = LW_SIMWIRE_AIR, .payload = frame, .len = (uint16_t)n};
    int len = lw_simwire_encode(&m, out, sizeof(out));
    if (len > 0)
        sendto(emu.air_fd, out, (size_t)len, 0, (struct sockaddr *)&emu.peer, sizeof(emu.peer));
}

static void control_locked(const char *cmd)
{
    static const struct {
        const char *name;
        enum emu_fault f;
    } faults[] = {{"hang", EMU_HANG},
                  {"dead", EMU_DEAD},
                  {"deaf", EMU_DEAF},
                  {"notxdone", EMU_NO_TXDONE},
                  {"ok", EMU_OK}};
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        if (strcmp(cmd, faults[i].name) == 0) {
            emu.ops->fault(emu.chip, faults[i].f);
            say("chip now: %s", cmd);
            return;
        }
    if (strcmp(cmd, "brownout") == 0)
        emu.ops->reset(emu.chip, now_us());
    else if (strcmp(cmd, "busy-channel") == 0 || strcmp(cmd, "free-channel") == 0)
        emu.ops->activity(emu.chip, cmd[0] == 'b');
    else if (strcmp(cmd, "bad-crc") == 0)
        emu.bad_crc_next = true;
    else {
        say("unknown command '%s'", cmd);
        return;
    }
    say("chip now: %s", cmd);
}

static void datagram_locked(const uint8_t *buf, size_t n, const struct sockaddr_in *from)
{
    if (n > 4 && memcmp(buf, "EMU:", 4) == 0) {
        char cmd[32];
        size_t l = n - 4 < sizeof(cmd) - 1 ? n - 4 : sizeof(cmd) - 1;
        memcpy(cmd, buf + 4, l);
        cmd[l] = '\0';
        cmd[strcspn(cmd, "\r\n")] = '\0';
        control_locked(cmd);
        return;
    }
    struct lw_simwire m;
    if (lw_simwire_decode(buf, n, &m) != 0) {
        say("dropped a %zu-byte datagram that is not lw_simwire", n);
        return;
    }
    emu.peer = *from;
    emu.have_peer = true;
    if (m.kind != LW_SIMWIRE_AIR)
        return;
    if (emu.air_len == AIR_QUEUE) {
        say("air queue full: frame dropped");
        return;
    }
    struct air_frame *a = &emu.air[(emu.air_head + emu.air_len++) % AIR_QUEUE];
    memcpy(a->data, m.payload, m.len);
    a->len = m.len;
    a->rssi_x10 = m.rssi_x10;
    a->snr_x10 = m.snr_x10;
    a->sf = m.sf;
    a->bw_hz = m.bw_hz;
    a->crc_ok = !emu.bad_crc_next;
    emu.bad_crc_next = false;
    struct lw_lora_params p;
    lw_lora_params_default(&p);
    if (m.sf >= 6 && m.sf <= 12)
        p.sf = m.sf;
    if (m.bw_hz)
        p.bw_hz = m.bw_hz;
    uint32_t us = lw_airtime_us(&p, m.len);
    uint64_t now = now_us(), start = emu.air_busy_until_us > now ? emu.air_busy_until_us : now;
    a->due_us = start + (us ? us : 50000);
    emu.air_busy_until_us = a->due_us;
}

/* Frames whose airtime is over reach the chip. */
static void deliver_air_locked(void)
{
    uint64_t now = now_us();
    while (emu.air_len && emu.air[emu.air_head].due_us <= now) {
        struct air_frame *a = &emu.air[emu.air_head];
        struct emu_frame f = {.data = a->data,
                              .len = a->len,
                              .rssi_x10 = a->rssi_x10,
                              .snr_x10 = a->snr_x10,
                              .crc_ok = a->crc_ok,
                              .has_crc = true,
                              .sf = a->sf,
                              .bw_hz = a->bw_hz};
        emu.frames_in++;
        if (!emu.in_reset && emu.ops->inject(emu.chip, &f, now))
            emu.frames_received++;
        else
            say("frame of %u bytes not received (chip not listening with SF%u BW%u)", a->len, a->sf,
                a->bw_hz);
        emu.air_head = (emu.air_head + 1) % AIR_QUEUE;
        emu.air_len--;
        update_irq();
    }
}

static void *worker(void *arg)
{
    (void)arg;
    uint8_t buf[1024];
    for (;;) {
        pthread_mutex_lock(&emu.lock);
        uint64_t next = emu.ops->next_event_us(emu.chip), now = now_us();
        if (emu.air_len && (!next || emu.air[emu.air_head].due_us < next))
            next = emu.air[emu.air_head].due_us;
        pthread_mutex_unlock(&emu.lock);
        int timeout = next ? (next > now ? (int)((next - now) / 1000) + 1 : 0) : 50;
        if (timeout > 50)
            timeout = 50;
        struct pollfd p[2] = {{.fd = emu.air_fd, .events = POLLIN},
                              {.fd = emu.stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, timeout) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        pthread_mutex_lock(&emu.lock);
        if (p[0].revents & POLLIN) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n =
                recvfrom(emu.air_fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
            if (n > 0)
                datagram_locked(buf, (size_t)n, &from);
        }
        if (!emu.in_reset)
            emu.ops->tick(emu.chip, now_us());
        update_irq();
        deliver_air_locked();
        send_tx_locked();
        pthread_mutex_unlock(&emu.lock);
    }
    return NULL;
}

static void start_air_locked(void)
{
    if (emu.worker_running)
        return;
    const char *air = getenv("LW_EMU_AIR");
    char host[64] = "127.0.0.1";
    int port = 17100;
    if (air && sscanf(air, "%63[^:]:%d", host, &port) != 2)
        say("LW_EMU_AIR=%s: expected HOST:PORT", air);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    emu.air_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (emu.air_fd < 0 || bind(emu.air_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        say("cannot listen on udp %s:%d: %s", host, port, strerror(errno));
        return;
    }
    if (pipe(emu.stop_pipe) != 0)
        return;
    emu.worker_running = pthread_create(&emu.worker, NULL, worker, NULL) == 0;
    say("air on udp %s:%d", host, port);
}

static void stop_air(void)
{
    pthread_mutex_lock(&emu.lock);
    bool running = emu.worker_running;
    emu.worker_running = false;
    pthread_mutex_unlock(&emu.lock);
    if (!running)
        return;
    if (write(emu.stop_pipe[1], "x", 1) != 1)
        say("cannot stop the air thread");
    pthread_join(emu.worker, NULL);
    real_close(emu.stop_pipe[0]);
    real_close(emu.stop_pipe[1]);
    real_close(emu.air_fd);
    emu.air_fd = -1;
    say("%u frames on the air, %u received by the chip", emu.frames_in, emu.frames_received);
}

/* ---- spidev ----------------------------------------------------------------------------- */

int open(const char *path, int flags, ...)
{
    resolve();
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
    }
    if (strncmp(path, "/dev/spidev", 11) == 0) {
        const char *fault = getenv("LW_EMU_FAULT");
        if (fault && strcmp(fault, "no-spidev") == 0) {
            errno = ENOENT;
            return -1;
        }
        setup();
        int fd = real_open("/dev/null", O_RDWR | (flags & O_CLOEXEC));
        pthread_mutex_lock(&emu.lock);
        emu.spi_fd = fd;
        start_air_locked();
        pthread_mutex_unlock(&emu.lock);
        return fd;
    }
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int close(int fd)
{
    resolve();
    if (fd >= 0 && fd == emu.spi_fd) {
        stop_air();
        emu.spi_fd = -1;
    }
    return real_close(fd);
}

int ioctl(int fd, unsigned long req, ...)
{
    resolve();
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fd < 0 || fd != emu.spi_fd)
        return real_ioctl(fd, req, arg);
    if (req == SPI_IOC_WR_MODE || req == SPI_IOC_WR_BITS_PER_WORD ||
        req == SPI_IOC_WR_MAX_SPEED_HZ || req == SPI_IOC_RD_MODE ||
        req == SPI_IOC_RD_BITS_PER_WORD || req == SPI_IOC_RD_MAX_SPEED_HZ)
        return 0;
    if (_IOC_TYPE(req) != SPI_IOC_MAGIC || _IOC_NR(req) != 0 || _IOC_DIR(req) != _IOC_WRITE ||
        _IOC_SIZE(req) % sizeof(struct spi_ioc_transfer) != 0) {
        errno = ENOTTY;
        return -1;
    }
    struct spi_ioc_transfer *tr = arg;
    size_t n = _IOC_SIZE(req) / sizeof(*tr);
    int total = 0;
    pthread_mutex_lock(&emu.lock);
    /* One message is one chip-select frame; with a software chip-select the chip only listens
     * while that line is low. */
    bool selected = emu.pins[ROLE_CS] < 0 || emu.cs_low;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *tx = (const uint8_t *)(uintptr_t)tr[i].tx_buf;
        uint8_t *rx = (uint8_t *)(uintptr_t)tr[i].rx_buf;
        if (selected && !emu.in_reset && tx)
            emu.ops->spi(emu.chip, tx, rx, tr[i].len, now_us());
        else if (rx)
            memset(rx, 0, tr[i].len);
        total += (int)tr[i].len;
    }
    update_irq();
    send_tx_locked();
    pthread_mutex_unlock(&emu.lock);
    return total;
}

/* ---- libgpiod 1.6 ----------------------------------------------------------------------- */

static struct gpiod_chip *chip_new(void)
{
    setup();
    struct gpiod_chip *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    for (unsigned i = 0; i < EMU_LINES; i++) {
        c->lines[i].chip = c;
        c->lines[i].offset = i;
        c->lines[i].role = ROLE_NONE;
        for (int r = ROLE_RESET; r <= ROLE_BUSY; r++)
            if (emu.pins[r] == (int)i)
                c->lines[i].role = r;
    }
    return c;
}

struct gpiod_chip *gpiod_chip_open(const char *path)
{
    if (!path || strncmp(path, "/dev/gpiochip", 13) != 0) {
        errno = ENOENT;
        return NULL;
    }
    return chip_new();
}

struct gpiod_chip *gpiod_chip_open_by_name(const char *name)
{
    const char *want = getenv("LW_EMU_GPIOCHIP");
    if (!name || strcmp(name, want ? want : "gpiochip0") != 0) {
        errno = ENOENT;
        return NULL;
    }
    return chip_new();
}

struct gpiod_chip *gpiod_chip_open_by_number(unsigned int num)
{
    if (num != 0) {
        errno = ENOENT;
        return NULL;
    }
    return chip_new();
}

void gpiod_chip_close(struct gpiod_chip *chip)
{
    free(chip);
}

struct gpiod_line *gpiod_chip_get_line(struct gpiod_chip *chip, unsigned int offset)
{
    if (offset >= EMU_LINES) {
        errno = EINVAL;
        return NULL;
    }
    return &chip->lines[offset];
}

const char *gpiod_line_consumer(struct gpiod_line *line)
{
    return line->requested ? line->consumer : NULL;
}

static int request(struct gpiod_line *line, const char *consumer, int value)
{
    const char *busy = getenv("LW_EMU_PIN_IN_USE");
    if (busy && atoi(busy) == (int)line->offset) {
        snprintf(line->consumer, sizeof(line->consumer), "another-program");
        line->requested = true;
        errno = EBUSY;
        return -1;
    }
    if (line->requested) {
        errno = EBUSY;
        return -1;
    }
    line->requested = true;
    snprintf(line->consumer, sizeof(line->consumer), "%s", consumer ? consumer : "");
    line->value = value;
    return 0;
}

static void set_locked(struct gpiod_line *line, int value)
{
    line->value = value;
    if (line->role == ROLE_CS)
        emu.cs_low = value == 0;
    if (line->role == ROLE_RESET) {
        if (!value) {
            emu.in_reset = true;
        } else if (emu.in_reset) {
            emu.in_reset = false;
            emu.ops->reset(emu.chip, now_us());
        }
        update_irq();
    }
}

int gpiod_line_request_output(struct gpiod_line *line, const char *consumer, int default_val)
{
    if (request(line, consumer, default_val) != 0)
        return -1;
    pthread_mutex_lock(&emu.lock);
    set_locked(line, default_val);
    pthread_mutex_unlock(&emu.lock);
    return 0;
}

int gpiod_line_request_input(struct gpiod_line *line, const char *consumer)
{
    return request(line, consumer, 0);
}

int gpiod_line_request_rising_edge_events(struct gpiod_line *line, const char *consumer)
{
    return request(line, consumer, 0);
}

int gpiod_line_request_both_edges_events(struct gpiod_line *line, const char *consumer)
{
    return request(line, consumer, 0);
}

void gpiod_line_release(struct gpiod_line *line)
{
    line->requested = false;
}

int gpiod_line_set_value(struct gpiod_line *line, int value)
{
    if (!line->requested) {
        errno = EPERM;
        return -1;
    }
    pthread_mutex_lock(&emu.lock);
    set_locked(line, value);
    pthread_mutex_unlock(&emu.lock);
    return 0;
}

int gpiod_line_get_value(struct gpiod_line *line)
{
    if (!line->requested) {
        errno = EPERM;
        return -1;
    }
    int v = line->value;
    pthread_mutex_lock(&emu.lock);
    if (line->role == ROLE_BUSY)
        v = emu.in_reset ? 1 : emu.ops->busy(emu.chip, now_us());
    else if (line->role == ROLE_IRQ)
        v = emu.irq_level;
    pthread_mutex_unlock(&emu.lock);
    return v;
}

int gpiod_line_event_get_fd(struct gpiod_line *line)
{
    if (line->role != ROLE_IRQ || !line->requested) {
        errno = EPERM;
        return -1;
    }
    return emu.pipe[0];
}

int gpiod_line_event_read(struct gpiod_line *line, struct gpiod_line_event *event)
{
    uint8_t b;
    if (line->role != ROLE_IRQ) {
        errno = EPERM;
        return -1;
    }
    ssize_t n = read(emu.pipe[0], &b, 1);
    if (n != 1)
        return -1; /* errno EAGAIN from the non-blocking pipe */
    clock_gettime(CLOCK_MONOTONIC, &event->ts);
    event->event_type = GPIOD_LINE_EVENT_RISING_EDGE;
    return 0;
}

__attribute__((destructor)) static void emu_fini(void)
{
    stop_air();
    if (emu.ready) {
        emu.ops->free(emu.chip);
        emu.ready = false;
    }
}
