/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_csv: RFC 4180 quoting and the formula guard on text cells, table-driven. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_csv.h"

static char *field(const char *t, bool text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    lw_csv_field(f, t, text);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_cases(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        bool text;
        const char *out;
    } cases[] = {
        {"plain", true, "plain"},
        {"", true, ""},
        {"a,b", true, "\"a,b\""},
        {"say \"hi\"", true, "\"say \"\"hi\"\"\""},
        {"two\r\nlines", true, "\"two\r\nlines\""},
        /* What a spreadsheet would run as a formula is kept as text. */
        {"=HYPERLINK(\"http://x\")", true, "\"'=HYPERLINK(\"\"http://x\"\")\""},
        {"+1+1", true, "\"'+1+1\""},
        {"@SUM(A1)", true, "\"'@SUM(A1)\""},
        {"\tx", true, "\"'\tx\""},
        {"-cmd", true, "\"'-cmd\""},
        {"-1+2", true, "\"'-1+2\""},
        /* A dash alone (the report's "none") and negative numbers stay as they are. */
        {"-", true, "-"},
        {"-3.5", true, "-3.5"},
        {"-12", false, "-12"},
        /* Number cells are never guarded. */
        {"+5", false, "+5"},
        {"2026-07-15T02:00:00+08:00", true, "2026-07-15T02:00:00+08:00"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = field(cases[i].in, cases[i].text);
        if (strcmp(got, cases[i].out) != 0)
            fail_msg("case %zu: '%s' gave '%s', want '%s'", i, cases[i].in, got, cases[i].out);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
