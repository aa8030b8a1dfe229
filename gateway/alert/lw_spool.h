/* SPDX-License-Identifier: Apache-2.0 */
/* Writes the database could not take yet, kept in memory in their order: an alert transition
 * that cannot be journalled (disk full, I/O error) is paged all the same, and written, with its
 * original times, once the disk takes writes again. */
#ifndef LW_SPOOL_H
#define LW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lw_store.h"

struct lw_spool;

/* Makes one write into the store's open transaction; LW_OK or a negative lw_err. */
typedef int (*lw_spool_apply_fn)(struct lw_store *s, const void *data);

/* max_bytes: what the queue may hold; beyond it writes and messages are refused (LW_ERR_TOOBIG)
 * and the caller pages without keeping: a disk full for days must not exhaust memory. */
struct lw_spool *lw_spool_new(size_t max_bytes);
void lw_spool_free(struct lw_spool *sp);

/* Queue a write; data (len bytes) is copied. LW_OK, LW_ERR_TOOBIG or LW_ERR_NOMEM. */
int lw_spool_write(struct lw_spool *sp, lw_spool_apply_fn apply, const void *data, size_t len);
/* Queue a message for the outbox (alert: its alert, 0 none). Until it is journalled it is
 * published from memory under *tag (lw_spool_tag says a tag is one of these). */
int lw_spool_message(struct lw_spool *sp, int64_t alert, const char *topic, const char *payload,
                     bool retain, int64_t *tag);
/* Tags of messages published from memory, apart from the outbox's sequence numbers. */
bool lw_spool_tag(int64_t tag);
/* The broker acknowledged a message published from memory at t_ms. */
void lw_spool_acked(struct lw_spool *sp, int64_t tag, int64_t t_ms);
/* fn for each queued message the broker has not acknowledged, oldest first; fn returns true
 * when it handed the message over (it is not offered again until force). */
void lw_spool_each_message(struct lw_spool *sp, bool force,
                           bool (*fn)(void *arg, int64_t tag, const char *topic,
                                      const char *payload, bool retain),
                           void *arg);
/* Writes and messages waiting. */
size_t lw_spool_count(const struct lw_spool *sp);
/* Writes and messages refused because the queue was full, since start. */
uint64_t lw_spool_refused(const struct lw_spool *sp);

/* Keep the queue in a file as well, so a daemon killed while writes wait for the disk finds them
 * at its next start (lw_spool_load). The file belongs on another file system than the database
 * (a tmpfs such as /run/lorawatch survives the daemon, not the machine). kinds: the apply
 * functions a write may use, in a fixed order (their index is what the file holds); layout: a
 * string that changes whenever the writes' data change shape (version and sizes): a file of
 * another layout is set aside (renamed *.unread) rather than read. path NULL or "": memory only.
 * A file that cannot be written is logged and the queue goes on in memory. LW_OK or
 * LW_ERR_NOMEM. */
int lw_spool_keep(struct lw_spool *sp, const char *path, const lw_spool_apply_fn *kinds,
                  size_t n_kinds, const char *layout);
/* Queue what the file kept (writes and messages in their order, acknowledgements applied) and
 * *loaded their number; the file then holds the queue as it is. A record cut short at the end
 * (the daemon died writing it) is dropped with a warning. LW_OK (also with no file), or
 * LW_ERR_INVAL for a file that is not a spool of this layout (set aside, nothing queued). */
int lw_spool_load(struct lw_spool *sp, size_t *loaded);

/* Write everything queued into the store, in order, and commit (also what others wrote into
 * the open transaction: with nothing queued this is a commit). A message the broker already
 * acknowledged becomes its 'published' journal row, the others outbox rows (they are handed
 * over again from there: at least once). LW_OK: all of it is on disk and the queue is empty.
 * Otherwise nothing is lost from the queue, except a write the database refuses for a reason
 * other than the disk (a constraint), which is dropped and logged. */
int lw_spool_flush(struct lw_spool *sp, struct lw_store *s);

#endif
