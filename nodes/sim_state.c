/* SPDX-License-Identifier: Apache-2.0 */
/* Simulator state file: strict INI reading with line numbers, atomic durable rewriting. */
#include "sim_state.h"
#include "lw_error.h"
#include "lw_ini.h"
#include "lw_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIM_STATE_FILE_MAX (4 * 1024 * 1024)

int sim_state_init(struct sim_state *st, const char *path)
{
    memset(st, 0, sizeof(*st));
    if (path) {
        st->path = strdup(path);
        if (!st->path)
            return LW_ERR_NOMEM;
    }
    return LW_OK;
}

static void free_nodes(struct sim_state_node *nodes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(nodes[i].name);
    free(nodes);
}

void sim_state_free(struct sim_state *st)
{
    free_nodes(st->nodes, st->n);
    free(st->path);
    memset(st, 0, sizeof(*st));
}

static struct sim_state_node *find(const struct sim_state *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++) {
        if (strcmp(st->nodes[i].name, name) == 0)
            return &st->nodes[i];
    }
    return NULL;
}

static struct sim_state_node *add(struct sim_state *st, const char *name)
{
    if (st->n == st->cap) {
        size_t ncap = st->cap ? st->cap * 2 : 16;
        struct sim_state_node *nn = realloc(st->nodes, ncap * sizeof(*nn));
        if (!nn)
            return NULL;
        st->nodes = nn;
        st->cap = ncap;
    }
    struct sim_state_node *e = &st->nodes[st->n];
    memset(e, 0, sizeof(*e));
    e->name = strdup(name);
    if (!e->name)
        return NULL;
    st->n++;
    return e;
}

/* ---- parsing ------------------------------------------------------------------------------ */

struct parse {
    struct sim_state tmp;
    char *err;
    size_t errlen;
    int errors;
};

static void perr(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void perr(struct parse *p, int line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (p->errors++ > 0)
        return; /* the first problem is the one reported */
    n = snprintf(p->err, p->errlen, "line %d: ", line);
    if (n < 0 || (size_t)n >= p->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > 40)
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static int on_section(void *user, int line, const char *section)
{
    struct parse *p = user;

    if (strncmp(section, "node:", 5) != 0 || !name_ok(section + 5)) {
        perr(p, line, "[%s]: expected [node:NAME] (NAME: 1..40 letters, digits, '-', '_', '.')",
             section);
        return LW_ERR_CONFIG;
    }
    if (find(&p->tmp, section + 5)) {
        perr(p, line, "[%s] appears twice", section);
        return LW_ERR_CONFIG;
    }
    if (!add(&p->tmp, section + 5)) {
        perr(p, line, "out of memory");
        return LW_ERR_NOMEM;
    }
    return LW_OK;
}

static int on_pair(void *user, int line, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    struct sim_state_node *e =
        strncmp(section, "node:", 5) == 0 ? find(&p->tmp, section + 5) : NULL;

    if (!e) {
        if (section[0] == '\0')
            perr(p, line, "%s: key outside a [node:NAME] section", name);
        return LW_ERR_CONFIG; /* a bad section was reported at its header */
    }
    if (strcmp(name, "eui") == 0) {
        if (e->have_eui || lw_parse_hex(value, e->eui, sizeof(e->eui)) != LW_OK) {
            perr(p, line, "eui: '%s' is not 16 hex digits given once", value);
            return LW_ERR_CONFIG;
        }
        e->have_eui = true;
    } else if (strcmp(name, "join_nonce") == 0) {
        if (lw_parse_u32(value, 0, UINT32_MAX, &e->join_nonce) != LW_OK) {
            perr(p, line, "join_nonce: '%s' is not a number in 0..4294967295", value);
            return LW_ERR_CONFIG;
        }
    } else if (strcmp(name, "fcnt_bound") == 0) {
        if (lw_parse_u32(value, 0, UINT32_MAX, &e->fcnt_bound) != LW_OK) {
            perr(p, line, "fcnt_bound: '%s' is not a number in 0..4294967295", value);
            return LW_ERR_CONFIG;
        }
    } else {
        perr(p, line, "%s: unknown key (expected eui, join_nonce, fcnt_bound)", name);
        return LW_ERR_CONFIG;
    }
    return LW_OK;
}

static void on_syntax(void *user, int line, const char *why)
{
    perr(user, line, "%s", why);
}

int sim_state_parse(struct sim_state *st, const char *text, size_t len, char *err, size_t errlen)
{
    struct parse p = {.err = err, .errlen = errlen};

    if (errlen)
        err[0] = '\0';
    int bad = lw_ini_parse_sections(text, len, on_pair, on_syntax, on_section, &p);
    if (bad > 0 || p.errors > 0) {
        if (p.errors == 0)
            snprintf(err, errlen, "malformed state file");
        free_nodes(p.tmp.nodes, p.tmp.n);
        return LW_ERR_CONFIG;
    }
    free_nodes(st->nodes, st->n);
    st->nodes = p.tmp.nodes;
    st->n = p.tmp.n;
    st->cap = p.tmp.cap;
    return LW_OK;
}

int sim_state_load(struct sim_state *st, char *err, size_t errlen)
{
    FILE *f;
    char *buf;
    size_t len;
    int rc;

    if (!st->path)
        return LW_OK;
    f = fopen(st->path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return LW_OK;
        snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
        return LW_ERR_IO;
    }
    buf = malloc(SIM_STATE_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return LW_ERR_NOMEM;
    }
    len = fread(buf, 1, SIM_STATE_FILE_MAX + 1, f);
    rc = ferror(f) ? LW_ERR_IO : LW_OK;
    fclose(f);
    if (rc == LW_OK && len > SIM_STATE_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", st->path, SIM_STATE_FILE_MAX);
        rc = LW_ERR_TOOBIG;
    } else if (rc != LW_OK) {
        snprintf(err, errlen, "%s: read error", st->path);
    } else {
        char msg[256];
        rc = sim_state_parse(st, buf, len, msg, sizeof(msg));
        if (rc != LW_OK)
            snprintf(err, errlen, "%s: %s", st->path, msg);
    }
    free(buf);
    return rc;
}

struct sim_state_node *sim_state_node(struct sim_state *st, const char *name, const uint8_t eui[8],
                                      bool *replaced)
{
    struct sim_state_node *e = find(st, name);

    *replaced = false;
    if (!e)
        e = add(st, name);
    else if (e->have_eui && memcmp(e->eui, eui, 8) != 0) {
        /* Another node had this name: its counters say nothing about this one's keys. */
        e->join_nonce = 0;
        e->fcnt_bound = 0;
        *replaced = true;
    }
    if (e) {
        memcpy(e->eui, eui, 8);
        e->have_eui = true;
    }
    return e;
}

/* ---- writing ------------------------------------------------------------------------------ */

static int fsync_dir_of(const char *path)
{
    char *copy = strdup(path);
    int fd, rc = 0;

    if (!copy)
        return -1;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return -1;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = -1;
    close(fd);
    return rc;
}

int sim_state_save(const struct sim_state *st, char *err, size_t errlen)
{
    char *tmp;
    FILE *f;
    int fd, ok;
    size_t plen;

    if (!st->path)
        return LW_OK;
    plen = strlen(st->path);
    tmp = malloc(plen + 16);
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return LW_ERR_NOMEM;
    }
    snprintf(tmp, plen + 16, "%s.tmp%ld", st->path, (long)getpid() % 100000);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(tmp);
        return LW_ERR_IO;
    }
    fputs("; lorawatch-sim node state (--state): the last join nonce used and a bound ahead of\n"
          "; each personalised node's frame counter. Written by lorawatch-sim; never lower a "
          "value.\n",
          f);
    for (size_t i = 0; i < st->n; i++) {
        const struct sim_state_node *e = &st->nodes[i];
        char hex[17];
        fprintf(f, "\n[node:%s]\n", e->name);
        if (e->have_eui) {
            lw_format_hex(e->eui, sizeof(e->eui), hex);
            fprintf(f, "eui = %s\n", hex);
        }
        fprintf(f, "join_nonce = %u\nfcnt_bound = %u\n", (unsigned)e->join_nonce,
                (unsigned)e->fcnt_bound);
    }
    ok = fflush(f) == 0 && !ferror(f) && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, st->path) != 0) {
        snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return LW_ERR_IO;
    }
    free(tmp);
    if (fsync_dir_of(st->path) != 0) {
        snprintf(err, errlen, "%s: fsync of its directory: %s", st->path, strerror(errno));
        return LW_ERR_IO;
    }
    return LW_OK;
}
