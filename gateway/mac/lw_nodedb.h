/* SPDX-License-Identifier: Apache-2.0 */
/* The node registry's table in the database: nodes paired through the control socket and those
 * provisioned from [node:] sections, their keys, place, lifecycle state and last contact, and the
 * append-only maintenance journal. A node row is a place: its address keys readings and alerts,
 * so history follows the place when hardware is replaced. */
#ifndef LW_NODEDB_H
#define LW_NODEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_contact.h"
#include "lw_model.h"
#include "lw_store.h"

struct lw_nodedb;

/* Last contact of a node, as kept in the table (0 / INT16_MIN / -1: unknown). */
/* Prepare the statements; NULL on failure (logged). The store must outlive it. */
struct lw_nodedb *lw_nodedb_new(struct lw_store *s);
void lw_nodedb_free(struct lw_nodedb *d);

/* Make the table agree with cfg's [node:] sections: insert or update them (source 'config'),
 * retire config nodes no longer in the file. A section whose address, name or EUI belongs to a
 * paired node is skipped and reported through err (one call per problem). Commits. Returns
 * LW_OK, or LW_ERR_DB. */
int lw_nodedb_sync_config(struct lw_nodedb *d, const struct lw_config *cfg, int64_t now_ms,
                          void (*err)(void *arg, const char *msg), void *arg);

/* Every node (retired ones only with include_retired), ordered by address, as a malloc'd array
 * the caller frees; seen (optional, same order) gets each node's last contact. */
int lw_nodedb_load(struct lw_nodedb *d, bool include_retired, struct lw_node_conf **nodes,
                   struct lw_node_contact **seen, size_t *n);

/* Insert or replace a node's description, keys and state (not its contact columns). Joins the
 * open transaction: commit with lw_store_commit. */
int lw_nodedb_put(struct lw_nodedb *d, const struct lw_node_conf *n);
/* Delete a node that has no history; LW_ERR_STATE when readings or alerts refer to it. */
int lw_nodedb_delete(struct lw_nodedb *d, uint16_t address);
/* Record a frame: joined nodes' frame counter (the floor a restart resumes from), first/last
 * seen, link and battery. Joins the open batch transaction, like the reading it came with. */
int lw_nodedb_seen(struct lw_nodedb *d, uint16_t address, uint32_t fcnt,
                   const struct lw_node_contact *seen);
/* Raise the node's stored downlink counter bound to upto (never lowers it): counters up to it may
 * be used. Joins the open transaction: commit with lw_store_commit before sending. LW_OK,
 * LW_ERR_NOTFOUND (no such node) or LW_ERR_DB. */
int lw_nodedb_reserve_fcnt_down(struct lw_nodedb *d, uint16_t address, uint32_t upto);
/* Readings and alerts recorded for a node. */
int lw_nodedb_history(struct lw_nodedb *d, uint16_t address, int64_t *readings, int64_t *alerts);
/* Lowest address no node row (retired ones included) uses; LW_ERR_RANGE when all are taken. */
int lw_nodedb_free_address(struct lw_nodedb *d, uint16_t *out);
/* Append a maintenance journal row: who (uid, -1 for the daemon itself), what, which node, the
 * old and new values (text, NULL when not applicable). Joins the open transaction. */
int lw_nodedb_journal(struct lw_nodedb *d, int64_t ts_ms, long uid, const char *action,
                      uint16_t node, const char *old_value, const char *new_value,
                      const char *detail);

#endif
