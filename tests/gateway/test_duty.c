/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of lw_escalation (escalation, reminders, acknowledgements, silences) with injected
 * time and recording ops, and of lw_phonecmd (the duty phones' command payloads). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw_phonecmd.h"
#include "lw_config.h"
#include "lw_escalation.h"
#include "lw_error.h"

static void fail_on_config_error(void *arg, const char *msg)
{
    (void)arg;
    fail_msg("config: %s", msg);
}

/* What the ops saw: one line per call, "publish TOPIC kind=K tier=T" or "journal EVENT ...". */
struct rec {
    char lines[256][160];
    int n;
};
static struct rec R;
/* What each tier topic got: "ALERT tier/T KIND reminder=N PAYLOAD-START". */
static struct rec P;

static int r_publish(void *arg, int64_t alert, const char *topic, const char *payload, bool retain)
{
    (void)arg;
    (void)retain;
    const char *k = strstr(payload, "\"kind\":\"");
    char kind[16] = "-";
    if (k)
        sscanf(k + 8, "%15[a-z]", kind);
    snprintf(R.lines[R.n++ % 256], 160, "publish %lld %s %s", (long long)alert, topic, kind);
    const char *t = strstr(topic, "/duty/tier/"), *rm = strstr(payload, "\"reminder\":");
    if (t)
        snprintf(P.lines[P.n++ % 256], 160, "%lld tier/%s %s reminder=%d %.20s", (long long)alert,
                 t + 11, kind, rm ? atoi(rm + 11) : -1, payload);
    return LW_OK;
}

static bool got(const char *line)
{
    for (int i = 0; i < P.n && i < 256; i++)
        if (strcmp(P.lines[i], line) == 0)
            return true;
    return false;
}

static int r_journal(void *arg, int64_t alert, const char *event, const char *actor, unsigned tier,
                     const char *via, const char *detail, const char *outcome)
{
    (void)arg;
    (void)detail;
    snprintf(R.lines[R.n++ % 256], 160, "journal %lld %s %s %u %s%s%s", (long long)alert, event,
             actor ? actor : "", tier, via ? via : "", outcome ? " " : "", outcome ? outcome : "");
    return LW_OK;
}

static int r_update(void *arg, int64_t alert, unsigned tier, const char *by, int64_t ms,
                    const char *outcome)
{
    (void)arg;
    (void)ms;
    snprintf(R.lines[R.n++ % 256], 160, "update %lld %u %s%s%s", (long long)alert, tier,
             by ? by : "", outcome ? " " : "", outcome ? outcome : "");
    return LW_OK;
}

static void r_silence_ended(void *arg, int64_t id, int64_t ms)
{
    (void)arg;
    (void)ms;
    snprintf(R.lines[R.n++ % 256], 160, "silence-ended %lld", (long long)id);
}

static int r_commit(void *arg)
{
    (void)arg;
    return LW_OK;
}

static bool saw(const char *line)
{
    for (int i = 0; i < R.n && i < 256; i++)
        if (strcmp(R.lines[i], line) == 0)
            return true;
    return false;
}

static int count_prefix(const char *prefix)
{
    int c = 0;
    for (int i = 0; i < R.n && i < 256; i++)
        c += strncmp(R.lines[i], prefix, strlen(prefix)) == 0;
    return c;
}

static const char conf_text[] = "[gateway]\nsite = s\n[alerts]\nescalate_after = 5m\n"
                                "remind_every = 2m\nmax_silence = 24h\n"
                                "[duty:wang]\ntier = 1\ngrids = G1, G3\n"
                                "[duty:zhao]\ntier = 1\ngrids = G2\n"
                                "[duty:room]\ntier = 2\n"
                                "[duty:office]\ntier = 3\nmqtt_user = office-1\n";

struct fixture {
    struct lw_config *cfg;
    struct lw_escalation *d;
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&R, 0, sizeof(R));
    memset(&P, 0, sizeof(P));
    f.cfg =
        lw_config_parse("duty.conf", conf_text, sizeof(conf_text) - 1, fail_on_config_error, NULL);
    assert_non_null(f.cfg);
    struct lw_escalation_ops ops = {.publish = r_publish,
                                    .journal = r_journal,
                                    .update = r_update,
                                    .silence_ended = r_silence_ended,
                                    .commit = r_commit};
    f.d = lw_escalation_new("s", f.cfg, &ops);
    assert_non_null(f.d);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    lw_escalation_free(f->d);
    lw_config_free(f->cfg);
    return 0;
}

static struct lw_escalation_alert alert(int64_t id, const char *grid, enum lw_hazard h)
{
    struct lw_escalation_alert a = {.id = id, .node = 7, .hazard = h};
    snprintf(a.grid, sizeof(a.grid), "%s", grid);
    snprintf(a.building, sizeof(a.building), "B7");
    return a;
}

#define MIN 60000

static void test_worker_of_the_sector_first_then_up_the_tiers(void **state)
{
    struct fixture *f = *state;
    struct lw_escalation_alert a = alert(1, "G3", LW_HAZARD_FLOOD);
    lw_escalation_raised(f->d, &a, "{\"id\":1}", 0, 0);
    assert_true(saw("publish 1 lorawatch/s/duty/person/wang notified"));
    assert_true(saw("publish 1 lorawatch/s/duty/tier/1 notified"));
    assert_false(saw("publish 1 lorawatch/s/duty/person/zhao notified")); /* other sector */
    assert_true(saw("journal 1 notified wang 1 mqtt"));
    assert_int_equal(lw_escalation_next_due(f->d), 2 * MIN); /* the first reminder */
    lw_escalation_tick(f->d, 2 * MIN, 0);
    lw_escalation_tick(f->d, 4 * MIN, 0);
    assert_int_equal(count_prefix("journal 1 reminded wang 1"), 2);
    assert_false(saw("publish 1 lorawatch/s/duty/person/room escalated"));
    lw_escalation_tick(f->d, 5 * MIN, 0);
    assert_true(saw("publish 1 lorawatch/s/duty/person/room escalated"));
    assert_true(saw("journal 1 escalated room 2 mqtt"));
    assert_true(saw("update 1 2 "));
    lw_escalation_tick(f->d, 10 * MIN, 0);
    assert_true(saw("publish 1 lorawatch/s/duty/person/office-1 escalated"));
    /* Tier 3 is the top: reminders only from now on. */
    int before = count_prefix("journal 1 escalated");
    lw_escalation_tick(f->d, 15 * MIN, 0);
    lw_escalation_tick(f->d, 20 * MIN, 0);
    assert_int_equal(count_prefix("journal 1 escalated"), before);
    assert_true(count_prefix("journal 1 reminded office 3") >= 2);
}

static void test_ack_stops_escalation_and_is_told(void **state)
{
    struct fixture *f = *state;
    struct lw_escalation_alert a = alert(2, "G1", LW_HAZARD_FIRE);
    char why[128];
    lw_escalation_raised(f->d, &a, "{\"id\":2}", 0, 0);
    lw_escalation_tick(f->d, 5 * MIN, 0); /* room told */
    assert_int_equal(
        lw_escalation_ack(
            f->d, 2,
            &(struct lw_ack){.actor = "room", .tier = 2, .via = "mqtt", .note = "on the way"}, 1000,
            why, sizeof(why)),
        LW_OK);
    assert_true(saw("journal 2 acknowledged room 2 mqtt"));
    assert_true(saw("update 2 2 room"));
    assert_true(saw("publish 2 lorawatch/s/duty/person/wang acknowledged"));
    assert_true(saw("publish 2 lorawatch/s/duty/person/room acknowledged"));
    assert_int_equal(lw_escalation_next_due(f->d), INT64_MAX);
    lw_escalation_tick(f->d, 60 * MIN, 0);
    assert_false(saw("publish 2 lorawatch/s/duty/person/office-1 escalated"));
    assert_int_equal(
        lw_escalation_ack(f->d, 2,
                          &(struct lw_ack){.actor = "wang", .tier = 1, .via = "mqtt", .note = NULL},
                          2000, why, sizeof(why)),
        LW_ERR_STATE);
    assert_int_equal(
        lw_escalation_ack(f->d, 99,
                          &(struct lw_ack){.actor = "wang", .tier = 1, .via = "mqtt", .note = NULL},
                          2000, why, sizeof(why)),
        LW_ERR_UNKNOWN_NODE);
    lw_escalation_resolved(f->d, 2, "{\"id\":2,\"state\":\"cleared\"}");
    assert_true(saw("publish 2 lorawatch/s/duty/person/wang cleared"));
    assert_true(saw("publish 2 lorawatch/s/duty/person/room cleared"));
    assert_false(saw("publish 2 lorawatch/s/duty/person/office-1 cleared")); /* never told */
    assert_int_equal(
        lw_escalation_ack(f->d, 2,
                          &(struct lw_ack){.actor = "wang", .tier = 1, .via = "mqtt", .note = NULL},
                          2000, why, sizeof(why)),
        LW_ERR_UNKNOWN_NODE);
}

static void test_sector_without_worker_goes_to_tier_2(void **state)
{
    struct fixture *f = *state;
    struct lw_escalation_alert a = alert(3, "G9", LW_HAZARD_GAS);
    lw_escalation_raised(f->d, &a, "{\"id\":3}", 0, 0);
    assert_true(saw("journal 3 notified  1 mqtt"));
    assert_true(saw("publish 3 lorawatch/s/duty/person/room escalated"));
    unsigned tier;
    bool acked, held;
    assert_true(lw_escalation_state(f->d, 3, &tier, &acked, &held));
    assert_int_equal(tier, 2);
}

/* After a restart the time already spent at a tier counts (wall clock from the journal);
 * unknown or future times (clock not yet set) give the tier its full time again. */
static void test_restore_resumes_the_timers(void **state)
{
    struct fixture *f = *state;
    const int64_t wall = 1800000000000, mono = 1000; /* a new process: small monotonic time */
    /* Tier 1 told 4 min ago, last reminder 1.5 min ago: escalation in 1 min, reminder in 30 s. */
    struct lw_escalation_alert a = alert(4, "G1", LW_HAZARD_FLOOD);
    struct lw_escalation_resume r = {
        .tier = 1, .told_ms = wall - 4 * MIN, .reminded_ms = wall - 3 * MIN / 2};
    lw_escalation_restore(f->d, &a, "{\"id\":4}", &r, mono, wall);
    assert_int_equal(lw_escalation_next_due(f->d), mono + MIN / 2);
    lw_escalation_tick(f->d, mono + MIN / 2, wall + MIN / 2);
    assert_int_equal(count_prefix("journal 4 reminded wang 1"), 1);
    assert_int_equal(lw_escalation_next_due(f->d), mono + MIN);
    lw_escalation_tick(f->d, mono + MIN, wall + MIN);
    assert_true(saw("journal 4 escalated room 2 mqtt"));

    /* Tier 2 told an hour ago: the escalation fell due while the gateway was down. */
    struct lw_escalation_alert b = alert(5, "G1", LW_HAZARD_FIRE);
    struct lw_escalation_resume rb = {
        .tier = 2, .told_ms = wall - 60 * MIN, .reminded_ms = wall - MIN};
    lw_escalation_restore(f->d, &b, "{\"id\":5}", &rb, mono, wall);
    assert_int_equal(lw_escalation_next_due(f->d), mono);
    lw_escalation_tick(f->d, mono, wall);
    assert_true(saw("journal 5 escalated office 3 mqtt"));

    /* The wall clock is behind the journal (no RTC yet), or the times are unknown: full time. */
    struct lw_escalation_alert c = alert(6, "G2", LW_HAZARD_GAS);
    struct lw_escalation_resume rc = {
        .tier = 1, .told_ms = wall + 10 * MIN, .reminded_ms = wall + MIN};
    lw_escalation_restore(f->d, &c, "{\"id\":6}", &rc, mono, wall);
    struct lw_escalation_alert e = alert(7, "G2", LW_HAZARD_GAS);
    struct lw_escalation_resume re = {.tier = 1};
    lw_escalation_restore(f->d, &e, "{\"id\":7}", &re, mono, wall);
    R.n = 0;
    lw_escalation_tick(f->d, mono + 2 * MIN - 1, wall);
    assert_int_equal(count_prefix("journal 6 "), 0);
    assert_int_equal(count_prefix("journal 7 "), 0);
    lw_escalation_tick(f->d, mono + 5 * MIN, wall);
    assert_true(saw("journal 6 escalated room 2 mqtt"));
    assert_true(saw("journal 7 escalated room 2 mqtt"));

    /* Acknowledged before the restart: nothing more, whatever the times. */
    struct lw_escalation_alert g = alert(8, "G1", LW_HAZARD_FLOOD);
    struct lw_escalation_resume rg = {.tier = 1, .acked = true, .told_ms = wall - 60 * MIN};
    lw_escalation_restore(f->d, &g, "{\"id\":8}", &rg, mono, wall);
    R.n = 0;
    lw_escalation_tick(f->d, mono + 60 * MIN, wall + 60 * MIN);
    assert_int_equal(count_prefix("journal 8 "), 0);
}

/* duty.reminder counts the reminders of the tier the message goes to: an escalation tells a
 * tier that has had none (not the count of the tier below), and an acknowledgement tells each
 * tier its own count. */
static void test_reminder_count_is_the_tiers_own(void **state)
{
    struct fixture *f = *state;
    struct lw_escalation_alert a = alert(9, "G1", LW_HAZARD_FLOOD);
    char why[128];
    lw_escalation_raised(f->d, &a, "{\"id\":9}", 0, 0);
    lw_escalation_tick(f->d, 2 * MIN, 0);
    lw_escalation_tick(f->d, 4 * MIN, 0);
    lw_escalation_tick(f->d, 5 * MIN, 0);
    assert_true(got("9 tier/1 notified reminder=0 {\"id\":9,\"duty\":{\"tie"));
    assert_true(got("9 tier/1 reminder reminder=1 {\"id\":9,\"duty\":{\"tie"));
    assert_true(got("9 tier/1 reminder reminder=2 {\"id\":9,\"duty\":{\"tie"));
    assert_true(got("9 tier/2 escalated reminder=0 {\"id\":9,\"duty\":{\"tie"));
    lw_escalation_tick(f->d, 7 * MIN, 0);
    assert_true(got("9 tier/2 reminder reminder=1 {\"id\":9,\"duty\":{\"tie"));
    assert_int_equal(
        lw_escalation_ack(f->d, 9,
                          &(struct lw_ack){.actor = "room", .tier = 2, .via = "mqtt", .note = NULL},
                          1000, why, sizeof(why)),
        LW_OK);
    assert_true(got("9 tier/1 acknowledged reminder=2 {\"id\":9,\"duty\":{\"tie"));
    assert_true(got("9 tier/2 acknowledged reminder=1 {\"id\":9,\"duty\":{\"tie"));
}

/* A restored alert goes on where it was: its messages repeat the raise message it was restored
 * with, and each tier's reminder count continues from the journal's. */
static void test_restore_continues_the_reminder_count(void **state)
{
    struct fixture *f = *state;
    const int64_t wall = 1800000000000, mono = 1000;
    const char *raised = "{\"id\":10,\"level\":\"red\",\"value\":120}";
    struct lw_escalation_alert a = alert(10, "G1", LW_HAZARD_FIRE);
    struct lw_escalation_resume r = {.tier = 2, .told_ms = wall - MIN, .reminded_ms = wall - MIN};
    r.reminders[1] = 3;
    r.reminders[2] = 1;
    lw_escalation_restore(f->d, &a, raised, &r, mono, wall);
    lw_escalation_tick(f->d, mono + MIN, wall + MIN);
    assert_true(got("10 tier/2 reminder reminder=2 {\"id\":10,\"level\":\"re"));
    lw_escalation_tick(f->d, mono + 4 * MIN, wall + 4 * MIN);
    assert_true(got("10 tier/3 escalated reminder=0 {\"id\":10,\"level\":\"re"));
    lw_escalation_resolved(f->d, 10, "{\"id\":10,\"level\":\"red\",\"state\":\"cleared\"}");
    assert_true(got("10 tier/1 cleared reminder=3 {\"id\":10,\"level\":\"re"));
    assert_true(got("10 tier/2 cleared reminder=2 {\"id\":10,\"level\":\"re"));
    assert_true(got("10 tier/3 cleared reminder=0 {\"id\":10,\"level\":\"re"));
}

/* msg_ids of every duty message, "topic msg_id", in order. */
static char ids[64][160];
static int n_ids;

static int id_publish(void *arg, int64_t alert, const char *topic, const char *payload, bool retain)
{
    (void)arg;
    (void)alert;
    (void)retain;
    cJSON *o = cJSON_Parse(payload);
    const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(o, "duty"), "msg_id");
    assert_true(cJSON_IsString(id));
    if (n_ids < 64)
        snprintf(ids[n_ids++], sizeof(ids[0]), "%s %s", topic, id->valuestring);
    cJSON_Delete(o);
    return LW_OK;
}

static int seen_ids(const char *line)
{
    int c = 0;
    for (int i = 0; i < n_ids; i++)
        c += strcmp(ids[i], line) == 0;
    return c;
}

/* Every duty message has an id naming alert, tier, kind (and reminder number): the same on the
 * tier topic and on each person's, different for every other message. */
static void test_msg_ids(void **state)
{
    struct fixture *f = *state;
    struct lw_escalation_ops ops = {.publish = id_publish,
                                    .journal = r_journal,
                                    .update = r_update,
                                    .silence_ended = r_silence_ended,
                                    .commit = r_commit};
    struct lw_escalation *d = lw_escalation_new("s", f->cfg, &ops);
    struct lw_escalation_alert a = alert(5, "G1", LW_HAZARD_FLOOD);
    char why[128];
    n_ids = 0;
    lw_escalation_raised(d, &a, "{\"id\":5}", 0, 0);
    lw_escalation_tick(d, 2 * MIN, 0);
    lw_escalation_tick(d, 4 * MIN, 0);
    lw_escalation_tick(d, 5 * MIN, 0);
    /* The water rose into higher colours twice: every tier told is paged with each update. */
    lw_escalation_updated(d, 5, "{\"id\":5,\"state\":\"updated\"}", 0);
    lw_escalation_updated(d, 5, "{\"id\":5,\"state\":\"updated\"}", 0);
    lw_escalation_updated(d, 99, "{\"id\":99,\"state\":\"updated\"}", 0); /* not open */
    assert_int_equal(
        lw_escalation_ack(d, 5,
                          &(struct lw_ack){.actor = "room", .tier = 2, .via = "mqtt", .note = NULL},
                          1000, why, sizeof(why)),
        LW_OK);
    lw_escalation_resolved(d, 5, "{\"id\":5,\"state\":\"cleared\"}");
    assert_int_equal(seen_ids("lorawatch/s/duty/tier/1 5-1-notified"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/wang 5-1-notified"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/wang 5-1-reminder-1"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/wang 5-1-reminder-2"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/room 5-2-escalated"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/wang 5-1-updated-1"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/room 5-2-updated-1"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/room 5-2-updated-2"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/office-1 5-3-updated-1"), 0); /* not told */
    assert_true(saw("journal 5 repaged wang 1 mqtt"));
    assert_true(saw("journal 5 repaged room 2 mqtt"));
    assert_int_equal(seen_ids("lorawatch/s/duty/person/wang 5-1-acknowledged"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/room 5-2-acknowledged"), 1);
    assert_int_equal(seen_ids("lorawatch/s/duty/person/room 5-2-cleared"), 1);
    for (int i = 0; i < n_ids; i++) /* one topic never gets the same id twice */
        assert_int_equal(seen_ids(ids[i]), 1);
    lw_escalation_free(d);
}

/* The follow-ups' sentences: the escalation says how long nobody answered, on the monotonic clock
 * (a simulated medium's raise time is not the wall clock's), and the acknowledgement who, by
 * roster name, with the outcome and note. */
static char last_room[2048];
static int text_publish(void *arg, int64_t alert, const char *topic, const char *payload,
                        bool retain)
{
    (void)arg, (void)alert, (void)retain;
    if (strcmp(topic, "lorawatch/s/duty/person/room") == 0)
        snprintf(last_room, sizeof(last_room), "%s", payload);
    return LW_OK;
}

static void test_follow_up_sentences(void **state)
{
    struct fixture *f = *state;
    struct lw_escalation_ops ops = {.publish = text_publish,
                                    .journal = r_journal,
                                    .update = r_update,
                                    .silence_ended = r_silence_ended,
                                    .commit = r_commit};
    struct lw_escalation *d = lw_escalation_new("s", f->cfg, &ops);
    struct lw_escalation_alert a = alert(7, "G2", LW_HAZARD_FLOOD);
    const int64_t wall = INT64_C(1796668800000); /* months after the medium's raise time */
    lw_escalation_raised(d, &a,
                         "{\"id\":7,\"time_ms\":1784052000000,\"title_zh\":\"内涝红色预警：1号楼\","
                         "\"title_en\":\"RED flood warning: block 1\",\"text_zh\":\"raise\","
                         "\"text_en\":\"raise\"}",
                         1000, wall);
    lw_escalation_tick(d, 1000 + 5 * MIN, wall + 5 * MIN); /* zhao (G2) -> room */
    cJSON *o = cJSON_Parse(last_room);
    assert_non_null(o);
    assert_string_equal(cJSON_GetObjectItem(o, "text_zh")->valuestring,
                        "升级通知：#7「内涝红色预警：1号楼」已发出5分钟仍无人确认，现通知社区值班室，"
                        "请立即处置。");
    cJSON_Delete(o);
    char why[128];
    assert_int_equal(lw_escalation_ack(d, 7,
                                       &(struct lw_ack){.actor = "room", .tier = 2, .via = "mqtt",
                                                        .note = "已到", .outcome = "dealt_with"},
                                       wall + 6 * MIN, why, sizeof(why)),
                     LW_OK);
    o = cJSON_Parse(last_room);
    assert_string_equal(cJSON_GetObjectItem(o, "text_en")->valuestring,
                        "Acknowledged: alert #7 (RED flood warning: block 1) by room (community "
                        "duty room): dealt with; note: \"已到\".");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(o, "duty"), "outcome")->valuestring, "dealt_with");
    cJSON_Delete(o);
    lw_escalation_free(d);
}

static void test_silences(void **state)
{
    struct fixture *f = *state;
    char why[160];
    struct lw_silence s = {.id = 5, .hazard = -1, .until_ms = 3600000};
    snprintf(s.building, sizeof(s.building), "B7");
    snprintf(s.actor, sizeof(s.actor), "uid:0");
    /* Fire is never silenced without force; no target; too long. */
    assert_int_equal(lw_escalation_silence_add(f->d, &s, 0, 0, why, sizeof(why)), LW_ERR_STATE);
    s.hazard = LW_HAZARD_FLOOD;
    s.until_ms = 25 * 3600000LL;
    assert_int_equal(lw_escalation_silence_add(f->d, &s, 0, 0, why, sizeof(why)), LW_ERR_RANGE);
    s.until_ms = 3600000;
    s.building[0] = 0;
    assert_int_equal(lw_escalation_silence_add(f->d, &s, 0, 0, why, sizeof(why)), LW_ERR_INVAL);
    snprintf(s.building, sizeof(s.building), "B7");
    assert_int_equal(lw_escalation_silence_add(f->d, &s, 0, 0, why, sizeof(why)), LW_OK);
    struct lw_escalation_alert flood = alert(6, "G1", LW_HAZARD_FLOOD);
    struct lw_escalation_alert fire = alert(7, "G1", LW_HAZARD_FIRE);
    lw_escalation_raised(f->d, &flood, "{\"id\":6}", 0, 0);
    lw_escalation_raised(f->d, &fire, "{\"id\":7}", 0, 0);
    assert_true(saw("journal 6 silenced uid:0 0 gateway"));
    assert_false(saw("publish 6 lorawatch/s/duty/person/wang notified"));
    assert_true(saw("publish 7 lorawatch/s/duty/person/wang notified")); /* fire goes through */
    lw_escalation_tick(f->d, 10 * MIN, 30 * MIN); /* held: no escalation while silenced */
    assert_false(saw("publish 6 lorawatch/s/duty/person/room escalated"));
    lw_escalation_tick(f->d, 61 * MIN, 3600000); /* the silence runs out */
    assert_true(saw("silence-ended 5"));
    assert_true(saw("publish 6 lorawatch/s/duty/person/wang notified"));
    const struct lw_silence *all;
    assert_int_equal(lw_escalation_silences(f->d, &all), 0);
}

/* One node's silence without a hazard (lorawatch silence --node N on a water node): accepted
 * without force; it holds that node's flood and trouble alerts, never its fire alarms. A
 * building's silence of every hazard stays refused without force. */
static void test_node_silence_of_its_own_hazards(void **state)
{
    struct fixture *f = *state;
    char why[160];
    struct lw_silence s = {.id = 5, .node = 7, .hazard = -1, .until_ms = 3600000};
    snprintf(s.actor, sizeof(s.actor), "uid:0");
    assert_int_equal(lw_escalation_silence_add(f->d, &s, 0, 0, why, sizeof(why)), LW_OK);
    struct lw_escalation_alert flood = alert(6, "G1", LW_HAZARD_FLOOD);
    struct lw_escalation_alert trouble = alert(8, "G1", LW_HAZARD_TROUBLE);
    struct lw_escalation_alert fire = alert(7, "G1", LW_HAZARD_FIRE);
    lw_escalation_raised(f->d, &flood, "{\"id\":6}", 0, 0);
    lw_escalation_raised(f->d, &trouble, "{\"id\":8}", 0, 0);
    lw_escalation_raised(f->d, &fire, "{\"id\":7}", 0, 0);
    assert_true(saw("journal 6 silenced uid:0 0 gateway"));
    assert_true(saw("journal 8 silenced uid:0 0 gateway"));
    assert_false(saw("publish 6 lorawatch/s/duty/person/wang notified"));
    assert_true(saw("publish 7 lorawatch/s/duty/person/wang notified")); /* fire goes through */
    struct lw_silence b = {.id = 6, .hazard = -1, .until_ms = 3600000};
    snprintf(b.building, sizeof(b.building), "B7");
    assert_int_equal(lw_escalation_silence_add(f->d, &b, 0, 0, why, sizeof(why)), LW_ERR_STATE);
    assert_non_null(strstr(why, "never silenced without --force"));
    struct lw_silence n = {.id = 7, .node = 7, .hazard = LW_HAZARD_FIRE, .until_ms = 3600000};
    assert_int_equal(lw_escalation_silence_add(f->d, &n, 0, 0, why, sizeof(why)), LW_ERR_STATE);
}

/* A silence lasts its duration on the monotonic clock: the wall clock stepping forward (NTP after
 * a boot without RTC) must not end it early, nor a step back keep it beyond its hour. */
static void test_silence_outlasts_wall_clock_steps(void **state)
{
    struct fixture *f = *state;
    char why[160];
    const int64_t wall0 = 1784000000000LL; /* July 2026 */
    const int64_t mono0 = 5 * MIN;
    struct lw_silence s = {.id = 9, .hazard = LW_HAZARD_FLOOD, .until_ms = wall0 + 60 * MIN};
    snprintf(s.building, sizeof(s.building), "B7");
    snprintf(s.actor, sizeof(s.actor), "uid:0");
    assert_int_equal(lw_escalation_silence_add(f->d, &s, mono0, wall0, why, sizeof(why)), LW_OK);
    assert_int_equal(lw_escalation_next_due(f->d), mono0 + 60 * MIN);
    struct lw_escalation_alert flood = alert(6, "G1", LW_HAZARD_FLOOD);
    lw_escalation_raised(f->d, &flood, "{\"id\":6}", mono0 + MIN, wall0 + MIN);
    assert_true(saw("journal 6 silenced uid:0 0 gateway"));
    /* Ten minutes in, the wall clock jumps three hours ahead: still silenced. */
    lw_escalation_tick(f->d, mono0 + 10 * MIN, wall0 + 190 * MIN);
    assert_false(saw("silence-ended 9"));
    assert_false(saw("publish 6 lorawatch/s/duty/person/wang notified"));
    /* Then two hours back: the hour is up on the monotonic clock all the same. */
    lw_escalation_tick(f->d, mono0 + 59 * MIN, wall0 - 60 * MIN);
    assert_false(saw("silence-ended 9"));
    lw_escalation_tick(f->d, mono0 + 60 * MIN, wall0 - 59 * MIN);
    assert_true(saw("silence-ended 9"));
    assert_true(saw("publish 6 lorawatch/s/duty/person/wang notified"));
    const struct lw_silence *all;
    assert_int_equal(lw_escalation_silences(f->d, &all), 0);
}

static void test_commands(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *why;
    } cases[] = {
        {"{\"cmd\":\"ack\",\"alert\":17,\"id\":\"r1\",\"note\":\"ok\"}", LW_OK, NULL},
        {"{\"cmd\":\"ack\",\"alert\":0}", LW_ERR_INVAL, "positive whole number"},
        {"{\"cmd\":\"ack\",\"alert\":1.5}", LW_ERR_INVAL, "positive whole number"},
        {"{\"cmd\":\"ack\",\"alert\":\"7\"}", LW_ERR_INVAL, "positive whole number"},
        {"{\"cmd\":\"ack\"}", LW_ERR_INVAL, "positive whole number"},
        {"{\"cmd\":\"ack\",\"alert\":3,\"extra\":1}", LW_ERR_INVAL, "unknown field"},
        {"[1,2]", LW_ERR_INVAL, "not a JSON object"},
        {"{\"cmd\":\"launch\"}", LW_ERR_INVAL, "\"cmd\" must be"},
        {"{\"cmd\":\"silence\",\"building\":\"7\",\"for\":\"2h\",\"reason\":\"pump\"}", LW_OK,
         NULL},
        {"{\"cmd\":\"silence\",\"for\":\"2h\",\"reason\":\"pump\"}", LW_ERR_INVAL, "node\" or"},
        {"{\"cmd\":\"silence\",\"node\":\"n\",\"for\":\"2h\"}", LW_ERR_INVAL, "reason"},
        {"{\"cmd\":\"silence\",\"node\":\"n\",\"for\":\"soon\",\"reason\":\"x\"}", LW_ERR_INVAL,
         "duration"},
        {"{\"cmd\":\"silence\",\"node\":\"n\",\"for\":\"1h\",\"reason\":\"x\",\"hazard\":\"ice\"}",
         LW_ERR_INVAL, "hazard"},
        {"{\"cmd\":\"silence\",\"node\":\"n\",\"for\":\"1h\",\"reason\":\"x\",\"force\":1}",
         LW_ERR_INVAL, "force"},
        {"{\"cmd\":\"unsilence\",\"silence\":4}", LW_OK, NULL},
        {"{\"cmd\":\"ack\",\"alert\":1,\"note\":\"a\\u0007b\"}", LW_ERR_INVAL, "note"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct lw_phonecmd c;
        char why[160] = "";
        int rc = lw_phonecmd_parse(cases[i].text, strlen(cases[i].text), &c, why, sizeof(why));
        if (rc != cases[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d (%s)", i, cases[i].text, rc, cases[i].rc, why);
        if (cases[i].why && !strstr(why, cases[i].why))
            fail_msg("case %zu: why '%s' lacks '%s'", i, why, cases[i].why);
    }
    struct lw_phonecmd c;
    char why[160], big[LW_PHONECMD_MAX_BYTES + 2];
    memset(big, ' ', sizeof(big));
    assert_int_equal(lw_phonecmd_parse(big, sizeof(big), &c, why, sizeof(why)), LW_ERR_TOOBIG);
    const char *ok = "{\"cmd\":\"silence\",\"node\":\"n1\",\"for\":\"90m\",\"reason\":\"x\","
                     "\"hazard\":\"fire\",\"force\":true,\"id\":\"q\"}";
    assert_int_equal(lw_phonecmd_parse(ok, strlen(ok), &c, why, sizeof(why)), LW_OK);
    assert_int_equal(c.kind, LW_PHONECMD_SILENCE);
    assert_int_equal(c.for_ms, 90 * MIN);
    assert_int_equal(c.hazard, LW_HAZARD_FIRE);
    assert_true(c.force);
    assert_string_equal(c.request_id, "q");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_worker_of_the_sector_first_then_up_the_tiers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ack_stops_escalation_and_is_told, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sector_without_worker_goes_to_tier_2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_resumes_the_timers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reminder_count_is_the_tiers_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_continues_the_reminder_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silences, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_silence_of_its_own_hazards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silence_outlasts_wall_clock_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_msg_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_follow_up_sentences, setup, teardown),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
