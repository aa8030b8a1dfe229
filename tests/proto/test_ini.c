/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_ini: exact line numbers for pairs and syntax errors, CRLF, BOM, comments and
 * continuations. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lw_error.h"
#include "lw_ini.h"

#define MAX_EVENTS 32

struct pair_ev {
    int line;
    char section[64];
    char name[64];
    char value[256];
};

struct syntax_ev {
    int line;
    char why[64];
};

struct collect {
    struct pair_ev pairs[MAX_EVENTS];
    int n_pairs;
    struct syntax_ev syn[MAX_EVENTS];
    int n_syn;
};

/* Accepts every pair except those named "bad", which it rejects like a config would. */
static int on_pair(void *user, int lineno, const char *section, const char *name, const char *value)
{
    struct collect *c = user;
    assert_true(c->n_pairs < MAX_EVENTS);
    struct pair_ev *e = &c->pairs[c->n_pairs++];
    e->line = lineno;
    snprintf(e->section, sizeof(e->section), "%s", section);
    snprintf(e->name, sizeof(e->name), "%s", name);
    snprintf(e->value, sizeof(e->value), "%s", value);
    return strcmp(name, "bad") == 0 ? LW_ERR_CONFIG : 0;
}

static void on_syntax(void *user, int lineno, const char *why)
{
    struct collect *c = user;
    assert_true(c->n_syn < MAX_EVENTS);
    c->syn[c->n_syn].line = lineno;
    snprintf(c->syn[c->n_syn].why, sizeof(c->syn[0].why), "%s", why);
    c->n_syn++;
}

static int parse_len(struct collect *c, const char *text, size_t len)
{
    memset(c, 0, sizeof(*c));
    return lw_ini_parse(text, len, on_pair, on_syntax, c);
}

static int parse(struct collect *c, const char *text)
{
    return parse_len(c, text, strlen(text));
}

static void assert_pair(const struct collect *c, int i, int line, const char *section,
                        const char *name, const char *value)
{
    assert_true(i < c->n_pairs);
    assert_int_equal(c->pairs[i].line, line);
    assert_string_equal(c->pairs[i].section, section);
    assert_string_equal(c->pairs[i].name, name);
    assert_string_equal(c->pairs[i].value, value);
}

static void test_pairs_carry_exact_line_numbers(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "; header comment\n"
                               "[a]\n"
                               "x = 1\n"
                               "\n"
                               "# another comment\n"
                               "y=2\n"
                               "[b]\n"
                               "z = three words\n"
                               "w: colon form\n"),
                     0);
    assert_int_equal(c.n_syn, 0);
    assert_int_equal(c.n_pairs, 4);
    assert_pair(&c, 0, 3, "a", "x", "1");
    assert_pair(&c, 1, 6, "a", "y", "2");
    assert_pair(&c, 2, 8, "b", "z", "three words");
    assert_pair(&c, 3, 9, "b", "w", "colon form");
}

static void test_pair_before_any_section_has_empty_section(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "k = v\n[s]\nk = w\n"), 0);
    assert_int_equal(c.n_pairs, 2);
    assert_pair(&c, 0, 1, "", "k", "v");
    assert_pair(&c, 1, 3, "s", "k", "w");
}

static void test_missing_equals_reported_on_its_line(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\nx = 1\njunk line\ny = 2\n"), 1);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 3);
    assert_non_null(strstr(c.syn[0].why, "name = value"));
    assert_int_equal(c.n_pairs, 2);
    assert_pair(&c, 0, 2, "a", "x", "1");
    assert_pair(&c, 1, 4, "a", "y", "2"); /* parsing goes on after the bad line */
}

static void test_missing_name_reported(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\n= 5\nx = 1\n"), 1);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 2);
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 3, "a", "x", "1");
}

static void test_unclosed_section_reported(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\nx = 1\n[b\ny = 2\n"), 1);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 3);
    assert_non_null(strstr(c.syn[0].why, "]"));
    assert_int_equal(c.n_pairs, 2);
    assert_int_equal(c.pairs[1].line, 4);
    assert_string_equal(c.pairs[1].name, "y");
}

static void test_line_length_limit_exact(void **state)
{
    char text[1024];
    struct collect c;
    (void)state;

    /* "k = " plus filler: a line of exactly LW_INI_MAX_LINE characters is accepted... */
    char ok[LW_INI_MAX_LINE + 1], longer[LW_INI_MAX_LINE + 2];
    memset(ok, 'v', sizeof(ok));
    memcpy(ok, "k = ", 4);
    ok[LW_INI_MAX_LINE] = '\0';
    memset(longer, 'v', sizeof(longer));
    memcpy(longer, "k = ", 4);
    longer[LW_INI_MAX_LINE + 1] = '\0';

    snprintf(text, sizeof(text), "[s]\n%s\n", ok);
    assert_int_equal(parse(&c, text), 0);
    assert_int_equal(c.n_pairs, 1);
    assert_int_equal(strlen(c.pairs[0].value), LW_INI_MAX_LINE - 4);

    /* ... one more is a syntax error on that line, and later lines keep their numbers. */
    snprintf(text, sizeof(text), "[s]\n%s\nafter = 1\n", longer);
    assert_int_equal(parse(&c, text), 1);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 2);
    assert_non_null(strstr(c.syn[0].why, "too long"));
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 3, "s", "after", "1");

    /* The limit excludes the terminator: the same line with CRLF is still fine. */
    snprintf(text, sizeof(text), "[s]\r\n%s\r\n", ok);
    assert_int_equal(parse(&c, text), 0);
    assert_int_equal(c.n_pairs, 1);
}

static void test_very_long_line_does_not_split(void **state)
{
    char text[2048];
    struct collect c;
    (void)state;
    memset(text, 0, sizeof(text));
    strcpy(text, "[s]\nk = ");
    memset(text + strlen(text), 'x', 1000);
    strcat(text, "\n= not a pair\nz = 1\n");
    assert_int_equal(parse(&c, text), 2);
    assert_int_equal(c.n_syn, 2);
    assert_int_equal(c.syn[0].line, 2);
    assert_int_equal(c.syn[1].line, 3);
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 4, "s", "z", "1");
}

static void test_nul_byte_reported(void **state)
{
    static const char text[] = "x = 1\ny = a\0b\nw = 3\n";
    struct collect c;
    (void)state;
    assert_int_equal(parse_len(&c, text, sizeof(text) - 1), 1);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 2);
    assert_non_null(strstr(c.syn[0].why, "NUL"));
    assert_int_equal(c.n_pairs, 2);
    assert_pair(&c, 0, 1, "", "x", "1");
    assert_pair(&c, 1, 3, "", "w", "3");
}

static void test_crlf_file(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\r\nx = 1\r\n\r\ny = two\r\n[b]\r\nz=3"), 0);
    assert_int_equal(c.n_syn, 0);
    assert_int_equal(c.n_pairs, 3);
    assert_pair(&c, 0, 2, "a", "x", "1");
    assert_pair(&c, 1, 4, "a", "y", "two");
    assert_pair(&c, 2, 6, "b", "z", "3");
}

static void test_utf8_bom_on_first_line(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "\xEF\xBB\xBF[a]\nx = 1\n"), 0);
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 2, "a", "x", "1");

    assert_int_equal(parse(&c, "\xEF\xBB\xBFx = 1\n"), 0);
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 1, "", "x", "1");

    assert_int_equal(parse(&c, "\xEF\xBB\xBF"), 0);
    assert_int_equal(c.n_pairs, 0);
}

static void test_comments(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "; semicolon comment\n"
                               "# hash comment\n"
                               "[a]\n"
                               "  ; indented comment\n"
                               "x = 1 ; inline comment\n"
                               "y = a;b\n"
                               "z = 5 # not a comment inline\n"
                               "; k = not a pair\n"),
                     0);
    assert_int_equal(c.n_syn, 0);
    assert_int_equal(c.n_pairs, 3);
    assert_pair(&c, 0, 5, "a", "x", "1");
    assert_pair(&c, 1, 6, "a", "y", "a;b"); /* ';' starts a comment only after a blank */
    assert_pair(&c, 2, 7, "a", "z", "5 # not a comment inline");
}

static void test_continuation_calls_handler_again(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\nx = one\n  two\n\tthree\ny = 3\n"), 0);
    assert_int_equal(c.n_syn, 0);
    assert_int_equal(c.n_pairs, 4);
    assert_pair(&c, 0, 2, "a", "x", "one");
    assert_pair(&c, 1, 3, "a", "x", "two");
    assert_pair(&c, 2, 4, "a", "x", "three");
    assert_pair(&c, 3, 5, "a", "y", "3");
}

static void test_handler_rejections_counted(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\nbad = 1\nok = 2\nbad = 3\njunk\n"), 3);
    assert_int_equal(c.n_pairs, 3);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 5);
    /* A rejected continuation counts once more. */
    assert_int_equal(parse(&c, "[a]\nbad = 1\n  more\n"), 2);
    assert_int_equal(c.n_pairs, 2);
    assert_pair(&c, 1, 3, "a", "bad", "more");
}

static void test_no_trailing_newline(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, "[a]\nx = 1\ny = last"), 0);
    assert_int_equal(c.n_pairs, 2);
    assert_pair(&c, 1, 3, "a", "y", "last");
    assert_int_equal(parse(&c, "[a]\nnoequals"), 1);
    assert_int_equal(c.syn[0].line, 2);
}

static void test_empty_and_blank_text(void **state)
{
    struct collect c;
    (void)state;
    assert_int_equal(parse(&c, ""), 0);
    assert_int_equal(c.n_pairs, 0);
    assert_int_equal(c.n_syn, 0);
    assert_int_equal(parse(&c, "\n\n\n"), 0);
    assert_int_equal(parse(&c, "   \n\t\n"), 0);
    assert_int_equal(c.n_pairs, 0);
    assert_int_equal(c.n_syn, 0);
}

static void test_text_need_not_be_nul_terminated(void **state)
{
    /* Only the first len bytes count: "y=2" lies beyond them. */
    static const char buf[] = {'x', '=', '1', '\n', 'y', '=', '2'};
    struct collect c;
    (void)state;
    assert_int_equal(parse_len(&c, buf, 4), 0);
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 1, "", "x", "1");
    assert_int_equal(parse_len(&c, buf, 3), 0);
    assert_int_equal(c.n_pairs, 1);
    assert_pair(&c, 0, 1, "", "x", "1");
}

static void test_null_syntax_callback_still_counts(void **state)
{
    struct collect c;
    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(lw_ini_parse("junk\n[a\nx=1\n", 12, on_pair, NULL, &c), 2);
    assert_int_equal(c.n_pairs, 1);
}

static void test_indented_junk_without_previous_name_reported(void **state)
{
    struct collect c;
    (void)state;
    /* Indented text right after a section header continues nothing: not INI syntax. */
    assert_int_equal(parse(&c, "[a]\n  junk\nx = 1\n"), 1);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 2);
}

static void test_every_syntax_error_reported_even_after_earlier_errors(void **state)
{
    struct collect c;
    (void)state;
    /* An indented line with no key above it is a syntax error with its own line, counted
     * beside the handler's rejections. */
    assert_int_equal(parse(&c, "[a]\nbad = 1\nok = 2\n[b]\n  junk\nz = 3\n"), 2);
    assert_int_equal(c.n_syn, 1);
    assert_int_equal(c.syn[0].line, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_carry_exact_line_numbers),
        cmocka_unit_test(test_pair_before_any_section_has_empty_section),
        cmocka_unit_test(test_missing_equals_reported_on_its_line),
        cmocka_unit_test(test_missing_name_reported),
        cmocka_unit_test(test_unclosed_section_reported),
        cmocka_unit_test(test_line_length_limit_exact),
        cmocka_unit_test(test_very_long_line_does_not_split),
        cmocka_unit_test(test_nul_byte_reported),
        cmocka_unit_test(test_crlf_file),
        cmocka_unit_test(test_utf8_bom_on_first_line),
        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_continuation_calls_handler_again),
        cmocka_unit_test(test_handler_rejections_counted),
        cmocka_unit_test(test_no_trailing_newline),
        cmocka_unit_test(test_empty_and_blank_text),
        cmocka_unit_test(test_text_need_not_be_nul_terminated),
        cmocka_unit_test(test_null_syntax_callback_still_counts),
        cmocka_unit_test(test_indented_junk_without_previous_name_reported),
        cmocka_unit_test(test_every_syntax_error_reported_even_after_earlier_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
