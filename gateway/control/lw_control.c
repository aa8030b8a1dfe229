/* SPDX-License-Identifier: Apache-2.0 */
/* Control socket server on the libuv loop: accept, check peer credentials, frame, dispatch. */
#define _GNU_SOURCE /* struct ucred, SO_PEERGROUPS */
#include "lw_control.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw_ctlproto.h"
#include "lw_error.h"
#include "lw_log.h"

#define MAX_CLIENTS 16      /* a maintenance CLI, not a service: bounded memory under abuse */
#define IDLE_TIMEOUT_MS 30000 /* an idle client gives its slot back */
#define READ_CHUNK 16384
/* The rest of one message (header and body at most) plus one read: whole requests pipelined
 * behind a large one are never mistaken for oversized input. */
#define CLIENT_BUF (4 + LW_CTL_MAX_MSG + READ_CHUNK)
#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

struct client {
    uv_pipe_t pipe;
    uv_timer_t idle;
    int handles; /* open libuv handles of this client: pipe and timer */
    struct lw_control *ctl;
    uint8_t *buf;
    size_t len;
    bool closing;
    struct lw_control_peer peer;
};

struct lw_control {
    uv_pipe_t server;
    char path[108];
    gid_t gid;
    bool have_group;
    lw_control_fn fn;
    void *arg;
    struct client *clients[MAX_CLIENTS];
    int open_handles;
    bool closing;
    struct lw_control_stats st;
};

struct write_req {
    uv_write_t req;
    struct client *cl;
    bool close_after;
    uint8_t data[];
};

static void server_closed(uv_handle_t *h);

static void release(struct lw_control *c)
{
    if (--c->open_handles == 0 && c->closing)
        free(c);
}

static void client_closed(uv_handle_t *h)
{
    struct client *cl = h->data;
    struct lw_control *c = cl->ctl;
    if (--cl->handles > 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (c->clients[i] == cl)
            c->clients[i] = NULL;
    free(cl->buf);
    free(cl);
    release(c);
}

static void client_close(struct client *cl)
{
    if (cl->closing)
        return;
    cl->closing = true;
    uv_close((uv_handle_t *)&cl->pipe, client_closed);
    uv_close((uv_handle_t *)&cl->idle, client_closed);
}

static void on_idle(uv_timer_t *t)
{
    lw_log(LW_LOG_INFO, "control: idle client disconnected");
    client_close(t->data);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static bool drain(struct client *cl);

static void written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct client *cl = w->cl;
    bool close_after = w->close_after;
    free(w);
    if (status < 0 || close_after) {
        client_close(cl);
        return;
    }
    if (cl->closing)
        return;
    /* A client taking its replies is not idle (one that never reads stalls its writes and still
     * times out). */
    uv_timer_start(&cl->idle, on_idle, IDLE_TIMEOUT_MS, 0);
    /* Replies drained: answer what already sits in the buffer (several requests may have come in
     * one write), then read again. */
    if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) == 0 && drain(cl))
        uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, on_read);
}

static void send_reply(struct client *cl, const char *json, bool close_after)
{
    size_t n = strlen(json);
    struct write_req *w = malloc(sizeof(*w) + 4 + n);
    if (!w) {
        client_close(cl);
        return;
    }
    w->cl = cl;
    w->close_after = close_after;
    lw_ctl_header(w->data, (uint32_t)n);
    memcpy(w->data + 4, json, n);
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)(4 + n));
    if (uv_write(&w->req, (uv_stream_t *)&cl->pipe, &b, 1, written) != 0) {
        free(w);
        client_close(cl);
    }
}

static void send_error(struct client *cl, const char *why, bool close_after)
{
    char out[300];
    /* why never contains quotes or backslashes: it is one of our own sentences. */
    snprintf(out, sizeof(out), "{\"ok\":false,\"error\":\"%s\"}", why);
    send_reply(cl, out, close_after);
}

static void handle(struct client *cl, const uint8_t *body, size_t len)
{
    struct lw_control *c = cl->ctl;
    char cmd[32], why[128];
    cJSON *req = NULL;
    if (lw_ctl_parse_request(body, len, cmd, sizeof(cmd), &req, why, sizeof(why)) != LW_OK) {
        c->st.bad++;
        lw_log_rl(LW_LOG_WARNING, "control: bad request: %s", why);
        send_error(cl, why, false);
        return;
    }
    c->st.requests++;
    char *reply = c->fn(c->arg, cmd, req, &cl->peer);
    cJSON_Delete(req);
    if (!reply) {
        snprintf(why, sizeof(why), "unknown command '%s'", cmd);
        send_error(cl, why, false);
        return;
    }
    send_reply(cl, reply, false);
    free(reply);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)h;
    (void)suggested;
    static char chunk[READ_CHUNK]; /* one loop thread: a static read buffer is safe */
    *buf = uv_buf_init(chunk, sizeof(chunk));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct client *cl = s->data;
    if (nread < 0) {
        client_close(cl);
        return;
    }
    if (nread == 0 || cl->closing)
        return;
    uv_timer_start(&cl->idle, on_idle, IDLE_TIMEOUT_MS, 0);
    if (cl->len + (size_t)nread > CLIENT_BUF) {
        /* Cannot happen to a client that keeps to the protocol: after drain() less than one whole
         * message is left, and a read adds at most one chunk. */
        cl->ctl->st.bad++;
        lw_log_rl(LW_LOG_WARNING, "control: oversized input, connection closed");
        send_error(cl, "message too large", true);
        uv_read_stop(s);
        return;
    }
    memcpy(cl->buf + cl->len, buf->base, (size_t)nread);
    cl->len += (size_t)nread;
    if (!drain(cl) && !cl->closing)
        uv_read_stop(s);
}

/* Answers every whole request in the client's buffer. False when reading must pause: a reply is
 * still queued (a client that sends without reading our replies must not grow our write queue;
 * written() resumes) or the connection is being closed. */
static bool drain(struct client *cl)
{
    uv_stream_t *s = (uv_stream_t *)&cl->pipe;
    while (!cl->closing) {
        const uint8_t *body;
        size_t blen;
        long used = lw_ctl_take(cl->buf, cl->len, &body, &blen);
        if (used == 0)
            return true;
        if (used < 0) {
            cl->ctl->st.bad++;
            lw_log_rl(LW_LOG_WARNING, "control: %s message announced, connection closed",
                      used == LW_ERR_TOOBIG ? "oversized" : "empty");
            send_error(cl, used == LW_ERR_TOOBIG ? "message too large" : "empty message", true);
            return false;
        }
        handle(cl, body, blen);
        memmove(cl->buf, cl->buf + used, cl->len - (size_t)used);
        cl->len -= (size_t)used;
        if (uv_stream_get_write_queue_size(s) > 0)
            return false;
    }
    return false;
}

/* Root, our own user, or a member (primary or supplementary) of the control group. */
static bool peer_allowed(struct lw_control *c, int fd, struct ucred *cr)
{
    socklen_t l = sizeof(*cr);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &l) != 0)
        return false;
    if (cr->uid == 0 || cr->uid == geteuid())
        return true;
    if (!c->have_group)
        return false;
    if (cr->gid == c->gid)
        return true;
    gid_t groups[256];
    l = sizeof(groups);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &l) != 0)
        return false;
    for (size_t i = 0; i < l / sizeof(gid_t); i++)
        if (groups[i] == c->gid)
            return true;
    return false;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct lw_control *c = server->data;
    if (status < 0 || c->closing)
        return;
    struct client *cl = calloc(1, sizeof(*cl));
    if (!cl)
        return;
    cl->ctl = c;
    uv_pipe_init(server->loop, &cl->pipe, 0);
    uv_timer_init(server->loop, &cl->idle);
    cl->pipe.data = cl;
    cl->idle.data = cl;
    cl->handles = 2;
    c->open_handles++;
    if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0) {
        client_close(cl);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cr = {0};
    int slot = -1;
    for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
        if (!c->clients[i])
            slot = i;
    if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) != 0 || !peer_allowed(c, fd, &cr)) {
        c->st.refused++;
        lw_log_rl(LW_LOG_WARNING,
                  "control: refused connection from uid %u gid %u (pid %d): not root, not the "
                  "service user, not in the control group",
                  (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid);
        client_close(cl);
        return;
    }
    if (slot < 0 || !(cl->buf = malloc(CLIENT_BUF))) {
        lw_log_rl(LW_LOG_WARNING, "control: too many clients, connection closed");
        client_close(cl);
        return;
    }
    c->clients[slot] = cl;
    cl->peer = (struct lw_control_peer){.uid = cr.uid, .gid = cr.gid, .pid = cr.pid};
    c->st.accepted++;
    uv_timer_start(&cl->idle, on_idle, IDLE_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&cl->pipe, alloc_cb, on_read);
}

int lw_control_new(uv_loop_t *loop, const char *path, const char *group, lw_control_fn fn,
                   void *arg, struct lw_control **out)
{
    if (strlen(path) >= sizeof(((struct lw_control *)0)->path)) {
        lw_log(LW_LOG_ERR, "control: socket path too long: %s", path);
        return LW_ERR_CONFIG;
    }
    struct lw_control *c = calloc(1, sizeof(*c));
    if (!c)
        return LW_ERR_NOMEM;
    snprintf(c->path, sizeof(c->path), "%s", path);
    c->fn = fn;
    c->arg = arg;
    if (group[0]) {
        struct group *g = getgrnam(group);
        if (!g) {
            lw_log(LW_LOG_ERR,
                   "control: group '%s' does not exist; create it or set "
                   "[gateway] control_group empty (owner only)",
                   group);
            free(c);
            return LW_ERR_CONFIG;
        }
        c->gid = g->gr_gid;
        c->have_group = true;
    }
    /* A stale socket from a crash is replaced; any other file there is left alone. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            lw_log(LW_LOG_ERR, "control: %s exists and is not a socket; not replacing it", path);
            free(c);
            return LW_ERR_CONFIG;
        }
        unlink(path);
    }
    uv_pipe_init(loop, &c->server, 0);
    c->server.data = c;
    c->open_handles = 1;
    int rc = uv_pipe_bind(&c->server, path);
    if (rc == 0 && chmod(path, c->have_group ? 0660 : 0600) != 0)
        rc = -errno;
    /* Under the service unit the socket is born with the right group (Group=), and chown is
     * outside its system call filter: only change the group when it differs. */
    if (rc == 0 && c->have_group && lstat(path, &st) == 0 && st.st_gid != c->gid &&
        chown(path, (uid_t)-1, c->gid) != 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->server, 8, on_connection);
    if (rc != 0) {
        lw_log(LW_LOG_ERR, "control: cannot listen on %s: %s", path, uv_strerror(rc));
        lw_control_free(c); /* the handle exists: freed once libuv has closed it */
        *out = NULL;
        return LW_ERR_IO;
    }
    lw_log(LW_LOG_INFO, "control: listening on %s (%s)", path,
           c->have_group ? group : "owner only");
    *out = c;
    return LW_OK;
}

static void server_closed(uv_handle_t *h)
{
    release(h->data);
}

void lw_control_free(struct lw_control *c)
{
    if (!c)
        return;
    c->closing = true;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (c->clients[i])
            client_close(c->clients[i]);
    unlink(c->path);
    uv_close((uv_handle_t *)&c->server, server_closed);
}

void lw_control_stats(const struct lw_control *c, struct lw_control_stats *out)
{
    *out = c->st;
}
