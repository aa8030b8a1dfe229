/* SPDX-License-Identifier: Apache-2.0 */
/* The in-memory queue of writes waiting for the database: a singly linked list, oldest first. */
#include "lw_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw_alertdb.h"
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
    /* lw_spool_keep: the file that mirrors the queue (fd -1: memory only) */
    char *path, *header;
    const lw_spool_apply_fn *kinds;
    size_t n_kinds;
    int fd;
    bool file_failed;
};

struct lw_spool *lw_spool_new(size_t max_bytes)
{
    struct lw_spool *sp = calloc(1, sizeof(*sp));
    if (sp) {
        sp->next_tag = SPOOL_TAG_BASE;
        sp->max_bytes = max_bytes;
        sp->fd = -1;
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
    if (sp->fd >= 0)
        close(sp->fd);
    free(sp->path);
    free(sp->header);
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

/* ---- the file ------------------------------------------------------------------------------
 * A header line, then records, each a 4-byte length (of what follows) and a type byte:
 *   'W' kind (u32) data            a write, kind its index in the kinds table
 *   'M' alert (i64) tag (i64) retain (u8) topic_len (u32) topic payload   a message
 *   'A' tag (i64) t_ms (i64)       the broker acknowledged message tag at t_ms
 * Integers in host order: the file never leaves the machine that wrote it. */

static void put(unsigned char **p, const void *v, size_t n)
{
    memcpy(*p, v, n);
    *p += n;
}

static void file_failed(struct lw_spool *sp, const char *what)
{
    if (!sp->file_failed)
        lw_log(LW_LOG_ERR,
               "spool file %s: %s: %s; alert writes waiting for the database are kept in memory "
               "only (lost if the daemon dies before the disk takes them)",
               sp->path, what, strerror(errno));
    sp->file_failed = true;
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = -1;
}

static bool write_all(int fd, const unsigned char *b, size_t n)
{
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* Append one record to fd; false on a write error. */
static bool put_rec(const struct lw_spool *sp, int fd, const struct rec *r)
{
    size_t body;
    uint32_t kind = 0;
    if (r->apply) {
        while (kind < sp->n_kinds && sp->kinds[kind] != r->apply)
            kind++;
        if (kind == sp->n_kinds)
            return true; /* not one the file can name: kept in memory only */
        body = 1 + 4 + r->len;
    } else {
        body = 1 + 8 + 8 + 1 + 4 + strlen(r->topic) + strlen(r->payload);
    }
    if (body > UINT32_MAX)
        return true;
    unsigned char *buf = malloc(4 + body), *p = buf;
    if (!buf)
        return false;
    uint32_t blen = (uint32_t)body;
    put(&p, &blen, 4);
    if (r->apply) {
        *p++ = 'W';
        put(&p, &kind, 4);
        put(&p, r->data, r->len);
    } else {
        *p++ = 'M';
        put(&p, &r->alert, 8);
        put(&p, &r->tag, 8);
        *p++ = r->retain;
        uint32_t tl = (uint32_t)strlen(r->topic);
        put(&p, &tl, 4);
        put(&p, r->topic, tl);
        put(&p, r->payload, strlen(r->payload));
    }
    bool ok = write_all(fd, buf, 4 + body);
    free(buf);
    /* An acknowledgement that came before the file was rewritten goes with its message. */
    if (ok && !r->apply && r->acked) {
        unsigned char a[4 + 17], *q = a;
        uint32_t alen = 17;
        put(&q, &alen, 4);
        *q++ = 'A';
        put(&q, &r->tag, 8);
        put(&q, &r->acked_ms, 8);
        ok = write_all(fd, a, sizeof(a));
    }
    return ok;
}

/* The file holds the queue as it is now: written beside it and renamed over it. */
static void rewrite(struct lw_spool *sp)
{
    if (!sp->path || sp->file_failed)
        return;
    size_t plen = strlen(sp->path);
    char *tmp = malloc(plen + 5);
    if (!tmp)
        return;
    memcpy(tmp, sp->path, plen);
    memcpy(tmp + plen, ".new", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write_all(fd, (const unsigned char *)sp->header, strlen(sp->header));
    for (const struct rec *r = sp->head; ok && r; r = r->next)
        ok = put_rec(sp, fd, r);
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, sp->path) != 0)
        ok = false;
    if (!ok) {
        unlink(tmp);
        free(tmp);
        file_failed(sp, "cannot be written");
        return;
    }
    free(tmp);
    if (sp->fd >= 0)
        close(sp->fd);
    sp->fd = open(sp->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (sp->fd < 0)
        file_failed(sp, "cannot be opened");
}

static void keep_rec(struct lw_spool *sp, const struct rec *r)
{
    if (sp->fd >= 0 && !put_rec(sp, sp->fd, r))
        file_failed(sp, "cannot be written");
}

int lw_spool_keep(struct lw_spool *sp, const char *path, const lw_spool_apply_fn *kinds,
                  size_t n_kinds, const char *layout)
{
    if (!path || !path[0])
        return LW_OK;
    size_t hl = strlen("lorawatch spool 1 ") + strlen(layout) + 2;
    sp->path = strdup(path);
    sp->header = malloc(hl);
    if (!sp->path || !sp->header)
        return LW_ERR_NOMEM;
    snprintf(sp->header, hl, "lorawatch spool 1 %s\n", layout);
    sp->kinds = kinds;
    sp->n_kinds = n_kinds;
    return LW_OK;
}

static void set_aside(struct lw_spool *sp, const char *why)
{
    size_t plen = strlen(sp->path);
    char *old = malloc(plen + 8);
    if (old) {
        memcpy(old, sp->path, plen);
        memcpy(old + plen, ".unread", 8);
        if (rename(sp->path, old) == 0)
            lw_log(LW_LOG_ERR, "spool file %s: %s; set aside as %s, nothing of it queued", sp->path,
                   why, old);
        free(old);
    }
}

static bool get(const unsigned char **p, const unsigned char *end, void *v, size_t n)
{
    if ((size_t)(end - *p) < n)
        return false;
    memcpy(v, *p, n);
    *p += n;
    return true;
}

/* Parse the records of buf (after the header) into the queue. Returns the records queued; *cut
 * is set when the last one was cut short. -1: a record no writer of this layout makes. */
static long parse_recs(struct lw_spool *sp, const unsigned char *p, const unsigned char *end,
                       bool *cut)
{
    long n = 0;
    *cut = false;
    while (p < end) {
        uint32_t blen;
        if (!get(&p, end, &blen, 4) || (size_t)(end - p) < blen || blen < 1) {
            *cut = true;
            return n;
        }
        const unsigned char *q = p, *rend = p + blen;
        p = rend;
        unsigned char type = *q++;
        if (type == 'W') {
            uint32_t kind;
            if (!get(&q, rend, &kind, 4) || kind >= sp->n_kinds)
                return -1;
            struct rec *r = calloc(1, sizeof(*r) + (size_t)(rend - q));
            if (!r)
                return -1;
            r->apply = sp->kinds[kind];
            r->len = (size_t)(rend - q);
            memcpy(r->data, q, r->len);
            append(sp, r);
        } else if (type == 'M') {
            int64_t alert, tag;
            unsigned char retain;
            uint32_t tl;
            if (!get(&q, rend, &alert, 8) || !get(&q, rend, &tag, 8) ||
                !get(&q, rend, &retain, 1) || !get(&q, rend, &tl, 4) || (size_t)(rend - q) < tl)
                return -1;
            size_t pl = (size_t)(rend - q) - tl;
            struct rec *r = calloc(1, sizeof(*r));
            char *topic = malloc((size_t)tl + 1), *payload = malloc(pl + 1);
            if (!r || !topic || !payload || memchr(q, 0, (size_t)(rend - q))) {
                free(r);
                free(topic);
                free(payload);
                return -1;
            }
            memcpy(topic, q, tl);
            topic[tl] = '\0';
            memcpy(payload, q + tl, pl);
            payload[pl] = '\0';
            r->topic = topic;
            r->payload = payload;
            r->alert = alert;
            r->tag = tag; /* the old run's tag until renumbered: acknowledgements name it */
            r->retain = retain != 0;
            append(sp, r);
        } else if (type == 'A') {
            int64_t tag, t;
            if (!get(&q, rend, &tag, 8) || !get(&q, rend, &t, 8))
                return -1;
            for (struct rec *r = sp->head; r; r = r->next)
                if (!r->apply && r->tag == tag) {
                    r->acked = true;
                    r->acked_ms = t;
                }
            continue;
        } else {
            return -1;
        }
        n++;
    }
    return n;
}

int lw_spool_load(struct lw_spool *sp, size_t *loaded)
{
    *loaded = 0;
    if (!sp->path)
        return LW_OK;
    int rc = LW_OK;
    int fd = open(sp->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
        size_t size = (size_t)st.st_size, hl = strlen(sp->header), got = 0;
        unsigned char *buf = size <= 2 * sp->max_bytes + hl ? malloc(size) : NULL;
        while (buf && got < size) {
            ssize_t r = read(fd, buf + got, size - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (!buf || got != size) {
            set_aside(sp, buf ? "cannot be read" : "too large");
            rc = LW_ERR_INVAL;
        } else if (size < hl || memcmp(buf, sp->header, hl) != 0) {
            set_aside(sp, "written by another version of lorawatchd");
            rc = LW_ERR_INVAL;
        } else {
            bool cut;
            long n = parse_recs(sp, buf + hl, buf + size, &cut);
            if (n < 0) {
                /* Nothing of a damaged file: what it queued is dropped again. */
                for (struct rec *r = sp->head, *next; r; r = next) {
                    next = r->next;
                    rec_free(r);
                }
                sp->head = sp->tail = NULL;
                sp->n = 0;
                sp->bytes = 0;
                set_aside(sp, "damaged");
                rc = LW_ERR_INVAL;
            } else {
                if (cut)
                    lw_log(LW_LOG_WARNING,
                           "spool file %s: its last record was cut short (the daemon died "
                           "writing it): dropped",
                           sp->path);
                *loaded = (size_t)n;
                /* This run's tags: the old run's meant nothing to the new MQTT client. */
                for (struct rec *r = sp->head; r; r = r->next)
                    if (!r->apply)
                        r->tag = ++sp->next_tag;
            }
        }
        free(buf);
    }
    if (fd >= 0)
        close(fd);
    rewrite(sp);
    return rc;
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
    keep_rec(sp, r);
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
    keep_rec(sp, r);
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
            if (sp->fd >= 0) {
                unsigned char a[4 + 17], *p = a;
                uint32_t alen = 17;
                put(&p, &alen, 4);
                *p++ = 'A';
                put(&p, &tag, 8);
                put(&p, &t_ms, 8);
                if (!write_all(sp->fd, a, sizeof(a)))
                    file_failed(sp, "cannot be written");
            }
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
        rc = lw_alertdb_journal_row(s, r->alert, r->acked_ms, "published", NULL);
    return rc;
}

int lw_spool_flush(struct lw_spool *sp, struct lw_store *s)
{
    struct rec *prev = NULL, *r = sp->head;
    bool dropped = false;
    if (!r) /* nothing queued: a commit (and no file to rewrite) */
        return lw_store_commit(s);
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
            if (dropped)
                rewrite(sp);
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
            dropped = true;
        } else {
            prev = r;
        }
        r = next;
    }
    int rc = lw_store_commit(s);
    if (rc != LW_OK) {
        if (dropped)
            rewrite(sp);
        return rc;
    }
    for (struct rec *q = sp->head, *next; q; q = next) {
        next = q->next;
        rec_free(q);
    }
    sp->head = sp->tail = NULL;
    sp->n = 0;
    sp->bytes = 0;
    rewrite(sp); /* on disk now: the file keeps nothing */
    return LW_OK;
}
