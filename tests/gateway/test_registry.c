/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_registry: lookup by address among unsorted config nodes and per-node rule state
 * slots. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "lw_config.h"
#include "lw_registry.h"

static void fail_on_config_error(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("config: %s", msg);
}

/* Nodes deliberately out of address order in the file. */
static struct lw_config *make_config(void)
{
    static const uint16_t addr[] = {0x0300, 0x0001, 0xFFFE, 0x0200, 0x0010};
    char text[2048];
    size_t n = 0;
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "[rule:w]\nmetric = water_mm\nthreshold = 10\nclear = 5\nlevel = red\n"
                          "[rule:b]\nmetric = battery_mv\ndirection = below\nthreshold = 3300\n"
                          "clear = 3400\nlevel = blue\n");
    for (size_t i = 0; i < sizeof(addr) / sizeof(addr[0]); i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n,
                              "[node:n%04x]\naddress = 0x%04X\neui = 00000000000000%02X\n"
                              "key = 0102030405060708090A0B0C0D0E0F%02X\nkind = water\n",
                              addr[i], addr[i], (unsigned)i + 1, (unsigned)i + 1);
    struct lw_config *cfg = lw_config_parse("reg.conf", text, n, fail_on_config_error, NULL);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_nodes, 5);
    return cfg;
}

static void test_find_by_address_among_unsorted_nodes(void **state)
{
    struct lw_config *cfg = make_config();
    struct lw_registry *reg = lw_registry_new(cfg, cfg->nodes, cfg->n_nodes);
    char name[16];
    (void)state;
    assert_non_null(reg);
    assert_int_equal(lw_registry_count(reg), 5);
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        uint16_t a = cfg->nodes[i].address;
        struct lw_node *n = lw_registry_find(reg, a);
        assert_non_null(n);
        /* The registry keeps its own copy of the node's description. */
        assert_ptr_not_equal(n->conf, &cfg->nodes[i]);
        assert_memory_equal(n->conf, &cfg->nodes[i], sizeof(cfg->nodes[i]));
        snprintf(name, sizeof(name), "n%04x", a);
        assert_string_equal(n->conf->name, name);
        assert_false(n->replay.any);
        assert_true(n->frames == 0 && n->last_seen_ms == 0);
    }
    /* lw_registry_at walks in address order. */
    uint16_t prev = 0;
    for (size_t i = 0; i < lw_registry_count(reg); i++) {
        struct lw_node *n = lw_registry_at(reg, i);
        assert_non_null(n);
        assert_true(i == 0 || n->conf->address > prev);
        prev = n->conf->address;
    }
    assert_null(lw_registry_at(reg, 5));
    lw_registry_free(reg);
    lw_config_free(cfg);
}

static void test_missing_address_gives_null(void **state)
{
    struct lw_config *cfg = make_config();
    struct lw_registry *reg = lw_registry_new(cfg, cfg->nodes, cfg->n_nodes);
    static const uint16_t missing[] = {0x0000, 0x0002, 0x000F, 0x0011,
                                       0x0250, 0x0301, 0xFFFD, 0xFFFF};
    (void)state;
    for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++)
        assert_null(lw_registry_find(reg, missing[i]));
    lw_registry_free(reg);
    lw_config_free(cfg);
}

static void test_rule_state_slots_distinct_per_node(void **state)
{
    struct lw_config *cfg = make_config();
    struct lw_registry *reg = lw_registry_new(cfg, cfg->nodes, cfg->n_nodes);
    (void)state;
    assert_int_equal(cfg->n_rules, 2);
    /* Every (node, rule) slot is its own, zeroed, and writing one leaves the others alone. */
    for (size_t i = 0; i < lw_registry_count(reg); i++) {
        struct lw_node *n = lw_registry_at(reg, i);
        for (size_t r = 0; r < cfg->n_rules; r++) {
            assert_false(n->rules[r].active);
            assert_false(n->rules[r].above);
            n->rules[r].alert_id = (int64_t)(i * 10 + r + 1);
        }
    }
    for (size_t i = 0; i < lw_registry_count(reg); i++) {
        struct lw_node *n = lw_registry_at(reg, i);
        for (size_t r = 0; r < cfg->n_rules; r++)
            assert_int_equal(n->rules[r].alert_id, i * 10 + r + 1);
        for (size_t j = 0; j < i; j++)
            assert_true(lw_registry_at(reg, j)->rules != n->rules);
    }
    /* The slots follow the node, not its position in the file. */
    lw_registry_find(reg, 0xFFFE)->rules[1].active = true;
    assert_true(lw_registry_find(reg, 0xFFFE)->rules[1].active);
    assert_false(lw_registry_find(reg, 0x0300)->rules[1].active);
    assert_false(lw_registry_find(reg, 0xFFFE)->rules[0].active);
    lw_registry_free(reg);
    lw_config_free(cfg);
}

static void test_empty_registry(void **state)
{
    struct lw_config *cfg = lw_config_parse("empty.conf", "", 0, fail_on_config_error, NULL);
    (void)state;
    assert_non_null(cfg);
    struct lw_registry *reg = lw_registry_new(cfg, cfg->nodes, cfg->n_nodes);
    assert_non_null(reg);
    assert_int_equal(lw_registry_count(reg), 0);
    assert_null(lw_registry_find(reg, 1));
    assert_null(lw_registry_at(reg, 0));
    lw_registry_free(reg);
    lw_registry_free(NULL);
    lw_config_free(cfg);
}

static void test_retired_nodes_left_out_and_eui_lookup(void **state)
{
    struct lw_config *cfg = make_config();
    (void)state;
    cfg->nodes[3].state = LW_NODE_RETIRED; /* 0x0200 */
    struct lw_registry *reg = lw_registry_new(cfg, cfg->nodes, cfg->n_nodes);
    assert_int_equal(lw_registry_count(reg), 4);
    assert_null(lw_registry_find(reg, 0x0200));
    static const uint8_t eui3[8] = {0, 0, 0, 0, 0, 0, 0, 3}, eui4[8] = {0, 0, 0, 0, 0, 0, 0, 4};
    struct lw_node *n = lw_registry_find_eui(reg, eui3);
    assert_non_null(n);
    assert_int_equal(n->conf->address, 0xFFFE);
    assert_null(lw_registry_find_eui(reg, eui4)); /* retired */
    lw_registry_free(reg);
    lw_config_free(cfg);
}

static void test_update_replaces_description_and_recomputes_rules(void **state)
{
    struct lw_config *cfg = make_config();
    (void)state;
    struct lw_registry *reg = lw_registry_new(cfg, cfg->nodes, cfg->n_nodes);
    struct lw_node *n = lw_registry_find(reg, 0x0010);
    assert_true(n->rules[0].applies); /* water rule on a water node */
    struct lw_node_conf c = *n->conf;
    c.kind = LW_KIND_SMOKE;
    snprintf(c.building, sizeof(c.building), "B7");
    n->rules[0].active = true; /* runtime state survives an update */
    assert_int_equal(lw_registry_update(reg, &c), 0);
    assert_string_equal(n->conf->building, "B7");
    assert_false(n->rules[0].applies);
    assert_true(n->rules[0].active);
    c.address = 0x0999;
    assert_int_not_equal(lw_registry_update(reg, &c), 0);
    lw_registry_free(reg);
    lw_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_by_address_among_unsorted_nodes),
        cmocka_unit_test(test_missing_address_gives_null),
        cmocka_unit_test(test_rule_state_slots_distinct_per_node),
        cmocka_unit_test(test_empty_registry),
        cmocka_unit_test(test_retired_nodes_left_out_and_eui_lookup),
        cmocka_unit_test(test_update_replaces_description_and_recomputes_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
