/* SPDX-License-Identifier: Apache-2.0 */
/* INI parsing with exact line numbers: inih reads lines through our reader, which counts them
 * and blanks out lines that are not INI syntax after reporting them. Debian's libinih is built
 * without INI_HANDLER_LINENO, so the line number has to come from the reader. */
#include "lw_ini.h"

#include <ini.h>
#include <stdbool.h>
#include <string.h>

struct ini_ctx {
    const char *text;
    size_t len;
    size_t pos;
    int lineno;
    int rejected;
    bool have_key; /* a pair seen since the last header: indented lines continue it */
    lw_ini_pair_fn pair;
    lw_ini_syntax_fn syntax;
    lw_ini_section_fn section;
    void *user;
};

static void syntax_error(struct ini_ctx *c, const char *why)
{
    c->rejected++;
    if (c->syntax)
        c->syntax(c->user, c->lineno, why);
}

/* Anything inih would otherwise reject (or worse, silently split): report it here instead,
 * following inih's own order of tests. Section headers go to the section callback. */
static const char *check_line(struct ini_ctx *c, char *line)
{
    char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == ';' || *p == '#')
        return NULL;
    if (p != line && c->have_key)
        return NULL; /* indented: a continuation of the previous value */
    if (*p == '[') {
        char *close = strchr(p, ']');
        if (!close)
            return "section header lacks ']'";
        if ((size_t)(close - p - 1) > LW_INI_MAX_SECTION)
            return "section name too long";
        c->have_key = false;
        if (c->section) {
            char name[LW_INI_MAX_SECTION + 1];
            memcpy(name, p + 1, (size_t)(close - p - 1));
            name[close - p - 1] = '\0';
            if (c->section(c->user, c->lineno, name) < 0)
                c->rejected++;
        }
        return NULL;
    }
    if (!strchr(p, '=') && !strchr(p, ':'))
        return p != line ? "indented line with no key above it to continue"
                         : "expected 'name = value'";
    if (*p == '=' || *p == ':')
        return "missing name before '='";
    c->have_key = true;
    return NULL;
}

static char *reader(char *buf, int num, void *stream)
{
    struct ini_ctx *c = stream;
    if (c->pos >= c->len)
        return NULL;
    const char *start = c->text + c->pos;
    const char *nl = memchr(start, '\n', c->len - c->pos);
    size_t linelen = nl ? (size_t)(nl - start) : c->len - c->pos;
    c->pos += linelen + (nl ? 1 : 0);
    c->lineno++;
    if (c->lineno == 1 && linelen >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0) {
        start += 3; /* UTF-8 byte order mark, as some Windows editors write */
        linelen -= 3;
    }
    if (linelen && start[linelen - 1] == '\r')
        linelen--;

    buf[0] = '\0';
    if (linelen > LW_INI_MAX_LINE || linelen + 3 > (size_t)num) {
        syntax_error(c, "line too long");
        return buf;
    }
    if (memchr(start, '\0', linelen)) {
        syntax_error(c, "NUL byte in line");
        return buf;
    }
    memcpy(buf, start, linelen);
    buf[linelen] = '\0';
    const char *why = check_line(c, buf);
    if (why) {
        syntax_error(c, why);
        buf[0] = '\0';
    }
    return buf;
}

static int on_pair(void *user, const char *section, const char *name, const char *value)
{
    struct ini_ctx *c = user;
    if (!name)
        return 1; /* start-of-section call, when the library is built to make it */
    if (c->pair(c->user, c->lineno, section, name, value ? value : "") < 0)
        c->rejected++;
    return 1; /* errors are counted here, not by inih, so it never stops early */
}

int lw_ini_parse_sections(const char *text, size_t len, lw_ini_pair_fn pair,
                          lw_ini_syntax_fn syntax, lw_ini_section_fn section, void *user)
{
    struct ini_ctx c = {
        .text = text,
        .len = len,
        .pair = pair,
        .syntax = syntax,
        .section = section,
        .user = user,
    };
    int first = ini_parse_stream(reader, &c, on_pair, &c);
    if (first > 0) {
        /* Handler results never reach inih (on_pair returns 1), so this is a line inih found
         * wrong that the pre-check let through: still report it with its line. */
        int saved = c.lineno;
        c.lineno = first;
        syntax_error(&c, "not valid INI syntax");
        c.lineno = saved;
    }
    return c.rejected;
}

int lw_ini_parse(const char *text, size_t len, lw_ini_pair_fn pair, lw_ini_syntax_fn syntax,
                 void *user)
{
    return lw_ini_parse_sections(text, len, pair, syntax, NULL, user);
}
