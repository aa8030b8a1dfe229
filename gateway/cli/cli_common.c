/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI side of the control socket: one request, one reply, errors turned into one line that
 * says what to do and an exit status. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lw_ctlproto.h"

struct cli_globals cli_global;

const char *cli_socket_path(const char *opt)
{
    if (opt && opt[0])
        return opt;
    if (cli_global.socket && cli_global.socket[0])
        return cli_global.socket;
    const char *e = getenv("LORAWATCH_SOCKET");
    return e && e[0] ? e : CLI_DEFAULT_SOCKET;
}

int cli_exit_for_code(const char *code)
{
    static const struct {
        const char *code;
        int exit;
    } map[] = {{"not_found", CLI_EXIT_NOT_FOUND},
               {"conflict", CLI_EXIT_CONFLICT},
               {"denied", CLI_EXIT_DENIED},
               {"timeout", CLI_EXIT_TIMEOUT},
               {"usage", CLI_EXIT_USAGE}};
    for (size_t i = 0; code && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].exit;
    return CLI_EXIT_FAIL;
}

void cli_print_json(const cJSON *v)
{
    char *s = cJSON_Print(v);
    if (s)
        puts(s);
    free(s);
}

static int send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        /* MSG_NOSIGNAL: a daemon that refuses us closes at once; an error, not SIGPIPE. */
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

cJSON *cli_call(const char *prog, const char *path, const cJSON *req, int timeout_s,
                bool quiet_unreachable, int *exit_code)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    *exit_code = CLI_EXIT_FAIL;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "lorawatch %s: socket path too long: %s\n", prog, path);
        *exit_code = CLI_EXIT_USAGE;
        return NULL;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (e == ENOENT || e == ECONNREFUSED) {
            *exit_code = CLI_EXIT_NOT_RUNNING;
            if (!quiet_unreachable)
                fprintf(stderr,
                        "lorawatch %s: the daemon is not running (nothing listens on %s); start "
                        "it with 'systemctl start lorawatchd'\n",
                        prog, path);
        } else if (e == EACCES || e == EPERM) {
            *exit_code = CLI_EXIT_DENIED;
            fprintf(stderr,
                    "lorawatch %s: %s: permission denied; run as root or as a member of the "
                    "lorawatch group\n",
                    prog, path);
        } else {
            fprintf(stderr, "lorawatch %s: %s: %s\n", prog, path, strerror(e));
        }
        return NULL;
    }
    struct timeval tv = {.tv_sec = timeout_s > 0 ? timeout_s : 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char *body = cJSON_PrintUnformatted(req);
    uint8_t *buf = malloc(4 + LW_CTL_MAX_MSG);
    uint8_t hdr[4];
    size_t len = 0;
    cJSON *reply = NULL;
    if (!body || !buf) {
        fprintf(stderr, "lorawatch %s: out of memory\n", prog);
        goto out;
    }
    if (strlen(body) > LW_CTL_MAX_MSG) {
        fprintf(stderr, "lorawatch %s: request too large\n", prog);
        *exit_code = CLI_EXIT_USAGE;
        goto out;
    }
    lw_ctl_header(hdr, (uint32_t)strlen(body));
    if (send_all(fd, hdr, 4) != 0 || send_all(fd, body, strlen(body)) != 0) {
        *exit_code = CLI_EXIT_DENIED;
        fprintf(stderr,
                "lorawatch %s: %s: the daemon closed the connection; run as root or as a "
                "member of the lorawatch group\n",
                prog, path);
        goto out;
    }
    const uint8_t *rb = NULL;
    size_t rlen = 0;
    long used = 0;
    while ((used = lw_ctl_take(buf, len, &rb, &rlen)) == 0 && len < 4 + LW_CTL_MAX_MSG) {
        ssize_t n = read(fd, buf + len, 4 + LW_CTL_MAX_MSG - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            *exit_code = CLI_EXIT_TIMEOUT;
            fprintf(stderr, "lorawatch %s: %s: no answer within %d s (daemon stalled?)\n", prog,
                    path, (int)tv.tv_sec);
            goto out;
        }
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (used <= 0) {
        *exit_code = len == 0 ? CLI_EXIT_DENIED : CLI_EXIT_FAIL;
        fprintf(stderr, "lorawatch %s: %s: the daemon closed the connection%s\n", prog, path,
                len == 0 ? " (not root or in the lorawatch group?)" : " mid-reply");
        goto out;
    }
    reply = cJSON_ParseWithLength((const char *)rb, rlen);
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    if (!cJSON_IsObject(reply) || !cJSON_IsTrue(ok)) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(reply, "code");
        fprintf(stderr, "lorawatch %s: %s\n", prog,
                cJSON_IsString(e) ? e->valuestring : "malformed reply from the daemon");
        *exit_code = cli_exit_for_code(cJSON_IsString(code) ? code->valuestring : NULL);
        cJSON_Delete(reply);
        reply = NULL;
        goto out;
    }
    *exit_code = CLI_EXIT_OK;
out:
    free(body);
    free(buf);
    close(fd);
    return reply;
}

const char *cli_jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

bool cli_jnum(const cJSON *o, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}

void cli_local_time(double unix_ms, bool with_date, char *out, size_t cap)
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    if (with_date)
        strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
    else
        strftime(out, cap, "%m-%d %H:%M:%S", &tm);
}

int cli_no_more_args(const char *cmd, int argc, char **argv, int first)
{
    if (first >= argc)
        return 0;
    fprintf(stderr, "lorawatch %s: unexpected argument '%s'\n", cmd, argv[first]);
    return CLI_EXIT_USAGE;
}
