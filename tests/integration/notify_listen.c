/* SPDX-License-Identifier: Apache-2.0 */
/* Test helper standing in for systemd's end of sd_notify(3): binds a Unix datagram socket and
 * prints every message it receives as "<monotonic ms> <message>", one line per message.
 * usage: notify_listen SOCKET_PATH  (stops on SIGTERM or SIGINT) */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc != 2 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "usage: notify_listen SOCKET_PATH\n");
        return 2;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("notify_listen");
        return 1;
    }
    struct sigaction act = {.sa_handler = on_stop};
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    char buf[4096];
    while (!stop) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
        if (n < 0)
            continue; /* EINTR: the loop condition decides */
        buf[n] = '\0';
        for (char *p = buf; *p; p++)
            if (*p == '\n')
                *p = ' '; /* one line per datagram */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        printf("%lld %s\n", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, buf);
        fflush(stdout);
    }
    close(fd);
    unlink(argv[1]);
    return 0;
}
