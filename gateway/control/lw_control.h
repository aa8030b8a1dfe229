/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's Unix control socket for the lorawatch CLI: 0660 with the service group (0600 with
 * none), and every connection's peer credentials checked again (root, the daemon's own user, or a
 * member of the group), so a wrong mode on the file alone does not let anyone in. */
#ifndef LW_CONTROL_H
#define LW_CONTROL_H

#include <uv.h>

/* Who sent a request: the connection's SO_PEERCRED, for the maintenance journal. */
struct lw_control_peer {
    unsigned uid, gid;
    int pid;
};

/* Reply to one request (cmd is req's "cmd"; req is the whole parsed object): a malloc'd JSON
 * object text, or NULL for "unknown command". */
struct cJSON;
typedef char *(*lw_control_fn)(void *arg, const char *cmd, const struct cJSON *req,
                               const struct lw_control_peer *peer);

struct lw_control;

/* Listen on path. group: name of the group allowed in, or "" for the owner only.
 * Returns LW_OK or a negative lw_err after logging why. */
int lw_control_new(uv_loop_t *loop, const char *path, const char *group, lw_control_fn fn,
                   void *arg, struct lw_control **out);
/* Close the listener and every client, remove the socket file; memory is released once libuv
 * has closed the handles. */
void lw_control_free(struct lw_control *c);

struct lw_control_stats {
    unsigned long long accepted;
    unsigned long long refused; /* peer credentials not allowed */
    unsigned long long bad;     /* malformed or oversized messages */
    unsigned long long requests;
};
void lw_control_stats(const struct lw_control *c, struct lw_control_stats *out);

#endif
