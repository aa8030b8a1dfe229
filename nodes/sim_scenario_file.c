/* SPDX-License-Identifier: Apache-2.0 */
/* Reading a scenario file, kept apart from what its keys mean: the lines are indexed and the
 * sections created before the INI parser walks the keys, and the diagnostics of every pass are
 * handed on in line order. */
#include "sim_scenario.h"
#include "lw_error.h"
#include "lw_ini.h"
#include "sim_scenario_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_FILE_MAX      (1024 * 1024)
#define SIM_INIH_NAME_MAX 49 /* inih cuts section names at 50 bytes including the NUL */

struct parse_ctx {
    struct sim_scenario *sc;
    struct diag_sink d;
    const char *text;
    size_t len;
    size_t *line_off; /* start offset of each line, 1-based index */
    size_t n_lines;
    char **bad_sections; /* reported already: their keys are skipped quietly */
    size_t n_bad;
};

static bool is_bad_section(const struct parse_ctx *c, const char *section)
{
    for (size_t i = 0; i < c->n_bad; i++) {
        if (strncmp(c->bad_sections[i], section, SIM_INIH_NAME_MAX) == 0)
            return true;
    }
    return false;
}

static void add_bad_section(struct parse_ctx *c, const char *section)
{
    char **nb = realloc(c->bad_sections, (c->n_bad + 1) * sizeof(*nb));
    if (!nb)
        return;
    c->bad_sections = nb;
    nb[c->n_bad] = strdup(section);
    if (nb[c->n_bad])
        c->n_bad++;
}

static bool node_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    return true;
}

/* First pass over the raw text: index the lines (to tell continuation lines apart) and create
 * the nodes in file order from their section headers, so empty or misspelt sections are reported
 * at their own line and node order does not depend on key order. */
static int prescan(struct parse_ctx *c)
{
    size_t cap = 64;

    c->line_off = malloc(cap * sizeof(size_t));
    if (!c->line_off)
        return LW_ERR_NOMEM;
    c->n_lines = 0;
    c->line_off[0] = 0;
    for (size_t pos = 0; pos < c->len;) {
        const char *start = c->text + pos;
        const char *nl = memchr(start, '\n', c->len - pos);
        size_t ll = nl ? (size_t)(nl - start) : c->len - pos;
        if (c->n_lines + 2 > cap) {
            cap *= 2;
            size_t *no = realloc(c->line_off, cap * sizeof(size_t));
            if (!no)
                return LW_ERR_NOMEM;
            c->line_off = no;
        }
        c->line_off[++c->n_lines] = pos;
        int lineno = (int)c->n_lines;
        pos += ll + (nl ? 1 : 0);

        size_t i = 0;
        while (i < ll && (start[i] == ' ' || start[i] == '\t'))
            i++;
        if (i > 0 || i >= ll || start[i] != '[' || ll > LW_INI_MAX_LINE)
            continue;
        const char *close = memchr(start + i, ']', ll - i);
        if (!close)
            continue; /* lw_ini reports the missing ']' */
        char sect[LW_INI_MAX_LINE + 1];
        size_t sl = (size_t)(close - (start + i + 1));
        memcpy(sect, start + i + 1, sl);
        sect[sl] = '\0';

        if (strcmp(sect, "scenario") == 0) {
            if (c->sc->have_section) {
                sim_diag_report(&c->d, lineno, "[scenario]",
                                "second [scenario] section (first at line %d)",
                                c->sc->section_line);
            } else {
                c->sc->have_section = true;
                c->sc->section_line = lineno;
            }
        } else if (strncmp(sect, "node:", 5) == 0) {
            const char *name = sect + 5;
            struct sim_node *o = sim_find_node(c->sc, name);
            if (!node_name_ok(name) || strlen(name) > SIM_NAME_MAX) {
                sim_diag_report(&c->d, lineno, NULL,
                                "[%s]: bad node name (1..%d letters, digits, '-', '_' or '.')",
                                sect, SIM_NAME_MAX);
                add_bad_section(c, sect);
            } else if (o) {
                sim_diag_report(&c->d, lineno, NULL, "[%s]: duplicate node name (first at line %d)",
                                sect, o->line);
            } else if (!sim_scenario_add_node(c->sc, name, lineno)) {
                return LW_ERR_NOMEM;
            }
        } else {
            sim_diag_report(&c->d, lineno, NULL,
                            "[%s]: unknown section (expected [scenario] or [node:NAME])", sect);
            add_bad_section(c, sect);
        }
    }
    return LW_OK;
}

static bool line_is_indented(const struct parse_ctx *c, int lineno)
{
    if (lineno < 1 || (size_t)lineno > c->n_lines)
        return false;
    char ch = c->text[c->line_off[lineno]];
    return c->line_off[lineno] < c->len && (ch == ' ' || ch == '\t');
}

static int on_pair(void *user, int lineno, const char *section, const char *name, const char *value)
{
    struct parse_ctx *c = user;
    char err[SIM_MSG_MAX];
    struct sim_node *node = NULL;
    int rc;

    if (section[0] == '\0') {
        sim_diag_report(&c->d, lineno, name,
                        "key outside any section (put it under [scenario] or "
                        "[node:NAME])");
        return LW_ERR_CONFIG;
    }
    if (strcmp(section, "scenario") != 0) {
        if (strncmp(section, "node:", 5) == 0)
            node = sim_find_node(c->sc, section + 5);
        if (!node) {
            if (is_bad_section(c, section))
                return LW_ERR_CONFIG; /* the section header was reported */
            sim_diag_report(&c->d, lineno, name, "key in unknown section [%s]", section);
            return LW_ERR_CONFIG;
        }
    }
    err[0] = '\0';
    rc = sim_scenario_apply(c->sc, node, name, value, lineno, line_is_indented(c, lineno), err,
                            sizeof(err));
    if (rc != LW_OK) {
        sim_diag_report(&c->d, lineno, name, "%s", err);
        return rc;
    }
    return LW_OK;
}

static void on_syntax(void *user, int lineno, const char *why)
{
    struct parse_ctx *c = user;
    sim_diag_report(&c->d, lineno, NULL, "%s", why);
}

/* Diagnostics come from three passes (section headers, lines, whole-scenario checks); they are
 * held back and handed on in line order, so the user reads the file from top to bottom. */
struct held_diag {
    int line, seq;
    char *key, *msg;
};

struct held_diags {
    struct held_diag *d;
    size_t n, cap;
    bool lost; /* out of memory while holding: pass the rest straight through */
    sim_diag_fn diag;
    void *user;
};

static void hold_diag(void *user, const char *file, int line, const char *key, const char *msg)
{
    struct held_diags *h = user;

    if (!h->lost && h->n == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 16;
        struct held_diag *nd = realloc(h->d, ncap * sizeof(*nd));
        if (nd) {
            h->d = nd;
            h->cap = ncap;
        } else {
            h->lost = true;
        }
    }
    if (!h->lost) {
        struct held_diag *d = &h->d[h->n];
        d->line = line;
        d->seq = (int)h->n;
        d->key = key ? strdup(key) : NULL;
        d->msg = strdup(msg);
        if (d->msg && (d->key || !key)) {
            h->n++;
            return;
        }
        free(d->key);
        free(d->msg);
        h->lost = true;
    }
    if (h->diag)
        h->diag(h->user, file, line, key, msg);
}

static int held_cmp(const void *a, const void *b)
{
    const struct held_diag *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sim_scenario_parse(struct sim_scenario *sc, const char *text, size_t len, const char *file,
                       sim_diag_fn diag, void *user)
{
    struct held_diags held = {.diag = diag, .user = user};
    struct parse_ctx c = {
        .sc = sc,
        .d = {.file = file ? file : "-", .diag = hold_diag, .user = &held},
        .text = text,
        .len = len,
    };

    if (prescan(&c) != LW_OK) {
        sim_diag_report(&c.d, 0, NULL, "out of memory");
    } else {
        lw_ini_parse(text, len, on_pair, on_syntax, &c);
        c.d.errors += sim_scenario_finish(sc, c.d.file, hold_diag, &held);
    }
    if (held.n > 1)
        qsort(held.d, held.n, sizeof(*held.d), held_cmp);
    for (size_t i = 0; i < held.n; i++) {
        if (diag)
            diag(user, c.d.file, held.d[i].line, held.d[i].key, held.d[i].msg);
        free(held.d[i].key);
        free(held.d[i].msg);
    }
    free(held.d);
    free(c.line_off);
    for (size_t i = 0; i < c.n_bad; i++)
        free(c.bad_sections[i]);
    free(c.bad_sections);
    return c.d.errors;
}

int sim_scenario_load(struct sim_scenario *sc, const char *path, sim_diag_fn diag, void *user)
{
    struct diag_sink d = {.file = path, .diag = diag, .user = user};
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;
    int errors;

    if (!f) {
        sim_diag_report(&d, 0, NULL, "cannot open: %s", strerror(errno));
        return d.errors;
    }
    buf = malloc(SIM_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        sim_diag_report(&d, 0, NULL, "out of memory");
        return d.errors;
    }
    len = fread(buf, 1, SIM_FILE_MAX + 1, f);
    if (ferror(f))
        sim_diag_report(&d, 0, NULL, "cannot read: %s", strerror(errno));
    else if (len > SIM_FILE_MAX)
        sim_diag_report(&d, 0, NULL, "larger than %d bytes: not a scenario file", SIM_FILE_MAX);
    fclose(f);
    if (d.errors) {
        free(buf);
        return d.errors;
    }
    errors = sim_scenario_parse(sc, buf, len, path, diag, user);
    free(buf);
    return errors;
}
