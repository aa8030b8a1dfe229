/* For modules that keep their own tables in the store's database (node registry, ...): the
 * connection, the shared open transaction, and statement execution with the store's error
 * accounting. Not for the rest of the daemon. */
#ifndef LW_STORE_INT_H
#define LW_STORE_INT_H

#include <sqlite3.h>

#include "lw_store.h"

sqlite3 *lw_store_handle(struct lw_store *s);
/* Open the batch transaction if none is open (rows then commit with lw_store_commit). */
int lw_store_begin(struct lw_store *s);
/* Step q once, reset it and clear its bindings; LW_OK for DONE/ROW, LW_ERR_DB (logged). */
int lw_store_step(struct lw_store *s, sqlite3_stmt *q);
/* SQLite's primary result code of the latest failed write (SQLITE_FULL, SQLITE_CONSTRAINT ...). */
int lw_store_last_error(const struct lw_store *s);
/* Roll the open transaction back, with the readings in it (counted lost). */
void lw_store_rollback(struct lw_store *s);

#endif
