/* The in-memory queue of writes waiting for the database: a singly linked list, oldest first. */
#include "lw_spool.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_error.h"
#include "lw_log.h"
#include "lw_store_int.h"

/* Far above any outbox sequence number the database will hand out. */
#define SPOOL_TAG_BASE (INT64_C(1) << 48)

struct rec {
    struct rec *next;
    lw_spool_apply_fn apply; /* NULL: a message */
    int64_t alert;
    int64_t tag;
    bool retain, handed, acked;
    int64_t acked_ms;
    char *topic, *payload;
    size_t len;
    unsigned char data[]; /* the write's data */
};

struct lw_spool {
    struct rec *head, *tail;
    size_t n;
    size_t bytes, max_bytes;
    uint64_t refused;
    int64_t next_tag;
};

struct lw_spool *lw_spool_new(size_t max_bytes)
{
    struct lw_spool *sp = calloc(1, sizeof(*sp));
    if (sp) {
        sp->next_tag = SPOOL_TAG_BASE;
        sp->max_bytes = max_bytes;
    }
    return sp;
}

/* Room for a record of this many bytes? Counts the refusal when not. */
static bool room(struct lw_spool *sp, size_t len)
{
    if (sp->bytes + len <= sp->max_bytes)
        return true;
    if (!sp->refused++)
        lw_log(LW_LOG_ERR,
               "%zu bytes of alert writes wait for the database: further ones are "
               "paged but not kept for the journal",
               sp->bytes);
    return false;
}

uint64_t lw_spool_refused(const struct lw_spool *sp)
{
    return sp->refused;
}

static void rec_free(struct rec *r)
{
    free(r->topic);
    free(r->payload);
    free(r);
}

void lw_spool_free(struct lw_spool *sp)
{
    if (!sp)
        return;
    for (struct rec *r = sp->head, *next; r; r = next) {
        next = r->next;
        rec_free(r);
    }
    free(sp);
}

static void append(struct lw_spool *sp, struct rec *r)
{
    sp->bytes += sizeof(*r) + r->len + (r->topic ? strlen(r->topic) + strlen(r->payload) + 2 : 0);
    if (sp->tail)
        sp->tail->next = r;
    else
        sp->head = r;
    sp->tail = r;
    sp->n++;
}

int lw_spool_write(struct lw_spool *sp, lw_spool_apply_fn apply, const void *data, size_t len)
{
    if (!room(sp, sizeof(struct rec) + len))
        return LW_ERR_TOOBIG;
    struct rec *r = calloc(1, sizeof(*r) + len);
    if (!r)
        return LW_ERR_NOMEM;
    r->apply = apply;
    memcpy(r->data, data, len);
    r->len = len;
    append(sp, r);
    return LW_OK;
}

int lw_spool_message(struct lw_spool *sp, int64_t alert, const char *topic, const char *payload,
                     bool retain, int64_t *tag)
{
    if (!room(sp, sizeof(struct rec) + strlen(topic) + strlen(payload) + 2))
        return LW_ERR_TOOBIG;
    struct rec *r = calloc(1, sizeof(*r));
    if (!r)
        return LW_ERR_NOMEM;
    r->topic = strdup(topic);
    r->payload = strdup(payload);
    if (!r->topic || !r->payload) {
        rec_free(r);
        return LW_ERR_NOMEM;
    }
    r->alert = alert;
    r->retain = retain;
    r->tag = ++sp->next_tag;
    *tag = r->tag;
    append(sp, r);
    return LW_OK;
}

bool lw_spool_tag(int64_t tag)
{
    return tag > SPOOL_TAG_BASE;
}

void lw_spool_acked(struct lw_spool *sp, int64_t tag, int64_t t_ms)
{
    for (struct rec *r = sp->head; r; r = r->next)
        if (!r->apply && r->tag == tag) {
            r->acked = true;
            r->acked_ms = t_ms;
            return;
        }
}

void lw_spool_each_message(struct lw_spool *sp, bool force,
                           bool (*fn)(void *arg, int64_t tag, const char *topic,
                                      const char *payload, bool retain),
                           void *arg)
{
    for (struct rec *r = sp->head; r; r = r->next)
        if (!r->apply && !r->acked && (force || !r->handed))
            r->handed = fn(arg, r->tag, r->topic, r->payload, r->retain);
}

size_t lw_spool_count(const struct lw_spool *sp)
{
    return sp->n;
}

static int apply(struct lw_store *s, const struct rec *r)
{
    if (r->apply)
        return r->apply(s, r->data);
    int64_t seq, alert = 0;
    int rc = lw_store_outbox_add(s, r->alert, r->topic, r->payload, r->retain, &seq);
    if (!r->acked)
        return rc;
    /* Acknowledged from memory: kept as the broker's like any other (outbox_sent), so a broker
     * that loses it later gets it again; published at the time of its acknowledgement. */
    if (rc == LW_OK)
        rc = lw_store_outbox_done(s, seq, &alert);
    if (rc == LW_OK && r->alert > 0)
        rc = lw_store_journal(s, r->alert, r->acked_ms, "published", NULL);
    return rc;
}

int lw_spool_flush(struct lw_spool *sp, struct lw_store *s)
{
    struct rec *prev = NULL, *r = sp->head;
    while (r) {
        /* One savepoint per write: a refused write leaves the others in the transaction. */
        int rc = lw_store_savepoint(s);
        if (rc == LW_OK)
            rc = apply(s, r);
        int code = rc == LW_OK ? SQLITE_OK : lw_store_last_error(s);
        char why[128] = "";
        if (rc != LW_OK)
            snprintf(why, sizeof(why), "%s", sqlite3_errmsg(lw_store_handle(s)));
        lw_store_savepoint_end(s, rc == LW_OK);
        if (rc != LW_OK && code != SQLITE_CONSTRAINT) {
            /* The disk: the whole queue waits. What this flush wrote must not be committed by
             * someone else meanwhile (it would be written twice), so the transaction goes. */
            lw_store_rollback(s);
            return rc;
        }
        struct rec *next = r->next;
        if (rc != LW_OK) {
            /* Never written however long it waits: dropped rather than block the rest. */
            lw_log(LW_LOG_ERR, "database: a queued alert write was refused (%s); dropped", why);
            if (prev)
                prev->next = next;
            else
                sp->head = next;
            if (sp->tail == r)
                sp->tail = prev;
            sp->n--;
            sp->bytes -=
                sizeof(*r) + r->len + (r->topic ? strlen(r->topic) + strlen(r->payload) + 2 : 0);
            rec_free(r);
        } else {
            prev = r;
        }
        r = next;
    }
    int rc = lw_store_commit(s);
    if (rc != LW_OK)
        return rc;
    for (struct rec *q = sp->head, *next; q; q = next) {
        next = q->next;
        rec_free(q);
    }
    sp->head = sp->tail = NULL;
    sp->n = 0;
    sp->bytes = 0;
    return LW_OK;
}
