/* SPDX-License-Identifier: Apache-2.0 */
/* The daemon's table of contents: the gateway's state, shared by the files of gateway/daemon/,
 * each of which does one job of the pipeline (see gw_core.c for the order they start in).
 * Prototypes are grouped by the file that defines them. Nothing outside gateway/daemon/ includes
 * this header. */
#ifndef GW_INT_H
#define GW_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "lw_alert.h"
#include "lw_alertdb.h"
#include "lw_cmd.h"
#include "lw_phonecmd.h"
#include "lw_control.h"
#include "lw_downlink.h"
#include "lw_escalation.h"
#include "lw_gateway.h"
#include "lw_incident.h"
#include "lw_ingest.h"
#include "lw_mesh.h"
#include "lw_metrics.h"
#include "lw_mqtt.h"
#include "lw_nodedb.h"
#include "lw_pairing.h"
#include "lw_registry.h"
#include "lw_rules.h"
#include "lw_spool.h"
#include "lw_store.h"

struct lw_gateway {
    uv_loop_t *loop;
    const struct lw_config *cfg;
    struct lw_store *store;
    struct lw_nodedb *nodedb;
    struct lw_registry *reg;
    struct lw_join_limiter join_limiter;
    struct lw_escalation *escalation;
    struct lw_incidents *incidents;
    uv_timer_t escalation_timer; /* escalations, reminders, silence expiry: runs only when due */
    char command_prefix[128];    /* lorawatch/<site>/command/ */
    struct lw_pairing_stats joins;
    struct lw_phonecmd_counts commands; /* MQTT commands from phones by outcome */
    int64_t outbox_handed;              /* highest outbox row given to the MQTT client */
    bool handover_failed;               /* a row of the current hand-over could not be given */
    struct lw_radio *radio;
    struct lw_mqtt *mqtt;
    struct lw_control *control;
    uv_timer_t commit_timer;
    uv_timer_t status_timer;
    uv_timer_t sync_timer; /* runs only until the wall clock is synchronised */
    uv_timer_t metrics_timer;
    uv_timer_t retention_timer; /* deletes raw readings past [storage] retention_days */
    uv_timer_t rules_timer;     /* time-based rules: node silence, the gateway's radio */
    struct lw_rules *rules;     /* what rules share across nodes (coincidence groups) */
    int64_t rules_tick_ms;      /* rule clock at the last tick */
    uint64_t metrics_due; /* loop time the metrics timer should fire: its lateness is loop lag */
    double lag_s, lag_max_s;
    bool clock_synced;
    int handles_open;
    bool medium_clock;
    int64_t clock_ms; /* latest reception time: drives the journal when the medium is the clock */
    int64_t ts_cached_s; /* node-state time text, formatted once per second */
    char ts_cached[40];
    int64_t last_alert_id;     /* highest alert id handed out */
    int64_t reserved_alert_id; /* ids up to this are reserved in the database */
    int64_t last_incident_id;  /* the same for incidents */
    int64_t reserved_incident_id;
    struct lw_spool *spool;              /* alert writes the database has not taken yet, in order */
    uv_timer_t storage_timer;            /* while the disk fails: ballast, probe, queued writes */
    struct lw_rule_state storage_st;     /* the storage trouble alert */
    struct lw_rule_conf storage_rule;    /* ... and its built-in rule (lw_alert_storage_rule) */
    enum lw_store_trouble storage_shown; /* as the status message last said */
    bool storage_checking;
    uint64_t flush_retry_ms; /* loop time before which a failed flush is not tried again */
    int64_t started_ms;
    struct lw_node_conf *was; /* the nodes as the last run left them, until its alerts are back */
    size_t n_was;
    bool test_mode; /* alert_transition is publishing a test alarm */
    struct lw_ingest_stats ingest;
    struct lw_mesh *mesh;   /* mesh sink: created with the first frame, see lw_gateway_handle_rx */
    struct lw_downlink *dl; /* downlink queue, airtime and listen-before-talk; see send_downlink */
    uv_timer_t dl_timer;    /* the queue's next due time */
    uv_timer_t relay_timer; /* relays gone silent: see on_relay_timer */
    struct relay_alert {    /* one trouble alert per silent relay */
        uint16_t relay;
        struct lw_rule_state st;
    } * relay_alerts;
    size_t n_relay_alerts;
    struct retimed { /* an open alert whose times the clock's synchronisation corrected */
        int64_t id, raised_ms;
        char *message; /* its raise message with corrected times; NULL: none stored */
    } * retimed;
    size_t n_retimed;
    struct pending_cmd { /* a CMD sent again after the node's next uplinks */
        uint16_t node;
        uint8_t sends_left;
        uint8_t len;
        uint8_t buf[LW_CMD_MAX_LEN];
    } * pending_cmds;
    size_t n_pending_cmds;
    struct lw_gateway_counters c;
    char status_topic[128];
    char mark_topic[128]; /* lorawatch/<site>/gateway/mark: see publish_mark */
    int64_t mark_sent;    /* the mark last given to the broker (-1: none on this connection) */
    int64_t mark_requeue; /* broker lost state, requeue waits for the disk; -1: none */
    unsigned
        foreign_status; /* connects in a row that found another gateway's status (gw_status.c) */
    char **replayed;    /* replay_outbox: retained topics sent again in this pass */
    size_t n_replayed, cap_replayed;
    int64_t sent_pruned_ms; /* wall clock of the last lw_store_outbox_prune */
    void (*done)(void *);
    void *done_arg;
};

/* gw_core.c */
int64_t gw_now_ms(const struct lw_gateway *g);
void gw_handle_closed(struct lw_gateway *g);
void gw_timer_init(struct lw_gateway *g, uv_timer_t *t);
void gw_timer_close(uv_timer_t *t);

/* gw_storage.c */
void gw_storage_check(struct lw_gateway *g);
void gw_storage_commit_soon(struct lw_gateway *g);
void gw_storage_set_levels(struct lw_gateway *g, const struct lw_config *cfg);
int gw_storage_open(struct lw_gateway *g);
void gw_storage_start(struct lw_gateway *g);
void gw_storage_stop(struct lw_gateway *g);

/* gw_journal.c */
int64_t gw_next_alert_id(struct lw_gateway *g);
int64_t gw_next_incident_id(struct lw_gateway *g);
void gw_journal_event(struct lw_gateway *g, int64_t alert, int64_t t, const char *event,
                      const char *actor, unsigned tier, const char *via, const char *detail,
                      const char *outcome);
int gw_journal_now(struct lw_gateway *g);
int gw_journal_open(struct lw_gateway *g);
void gw_journal_stop(struct lw_gateway *g);
int gw_journal_alert(struct lw_gateway *g, const struct lw_rule_conf *rule, uint16_t node,
                     const struct lw_alert_info *info, const char *json);
int gw_journal_state(struct lw_gateway *g, int64_t alert, enum lw_alert_state state, int64_t t);
int gw_journal_incident(struct lw_gateway *g, int64_t id, bool open, enum lw_hazard hazard,
                        enum lw_level level, const char *building, int64_t t);
int gw_journal_update(struct lw_gateway *g, int64_t alert, unsigned tier, const char *acked_by,
                      int64_t acked_ms, const char *outcome);
int gw_journal_peak(struct lw_gateway *g, int64_t alert, double peak);
void gw_journal_silence_end(struct lw_gateway *g, int64_t silence, int64_t t);
void gw_journal_acked(struct lw_gateway *g, int64_t seq, int64_t t);

/* gw_registry.c */
long gw_rule_index(const struct lw_config *cfg, const char *name);
int gw_rebuild_registry(void *arg);
int gw_registry_open(struct lw_gateway *g);

/* gw_alerts.c */
void gw_alert_rising(struct lw_gateway *g, const struct lw_node_conf *node,
                     const struct lw_rule_conf *rule, struct lw_rule_state *st, double v,
                     int64_t t);
void gw_alert_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                         const struct lw_rule_conf *rule, struct lw_rule_state *st,
                         enum lw_alert_state state, double value, int64_t t);
int gw_alerts_open(struct lw_gateway *g);

/* gw_escalation.c */
void gw_escalation_transition(struct lw_gateway *g, const struct lw_node_conf *node,
                              const struct lw_rule_conf *rule, enum lw_alert_state state,
                              const struct lw_alert_info *info, const char *json);
void gw_restore_duty(struct lw_gateway *g, const struct lw_node_conf *nc,
                     const struct lw_rule_conf *rule, const struct lw_alertdb_open *o);
void gw_restore_incident(void *arg, int64_t incident, const char *hazard, const char *building,
                         int64_t alert);
void gw_restore_silence(void *arg, const struct lw_silence *s);
int gw_ack_alert(struct lw_gateway *g, int64_t id, const struct lw_ack *ack, char *why, size_t cap,
                 const char **code);
int gw_make_silence(struct lw_gateway *g, const char *node, const char *building, int hazard,
                    uint64_t for_ms, bool force, const char *actor, const char *reason,
                    struct lw_silence *s, char *why, size_t cap, const char **code);
int gw_lift_silence(struct lw_gateway *g, int64_t id, char *why, size_t cap, const char **code);
int gw_escalation_open(struct lw_gateway *g);
/* Journal cfg's duty roster (start-up and every reload); failures are logged, never fatal. */
void gw_escalation_journal_roster(struct lw_gateway *g, const struct lw_config *cfg);
void gw_escalation_start(struct lw_gateway *g);
void gw_escalation_stop(struct lw_gateway *g);

/* gw_clock.c */
void gw_clock_open(struct lw_gateway *g);
void gw_clock_start(struct lw_gateway *g);
void gw_clock_stop(struct lw_gateway *g);

/* gw_restore.c */
void gw_restore_counter(void *arg, uint16_t addr, uint32_t fcnt);
void gw_pin_restored(struct lw_gateway *g, const struct lw_node_conf *was, size_t n_was);
void gw_restore_open(struct lw_gateway *g);

/* gw_rules.c */
void gw_apply_rules(struct lw_gateway *g, struct lw_node *node, const struct lw_reading *r,
                    int64_t rule_ms, int64_t t);
void gw_prime_rules(struct lw_gateway *g);
void gw_rules_start(struct lw_gateway *g);
void gw_rules_stop(struct lw_gateway *g);

/* gw_status.c */
char *gw_status_json(struct lw_gateway *g, const char *state);
void gw_publish_status(struct lw_gateway *g);
void gw_requeue_lost(struct lw_gateway *g);
void gw_replay_outbox(struct lw_gateway *g, int64_t after);
bool gw_publish_from_memory(void *arg, int64_t tag, const char *topic, const char *payload,
                            bool retain);
int gw_status_start(struct lw_gateway *g);
void gw_status_stop(struct lw_gateway *g, const char *offline);

/* gw_uplink.c */
int gw_uplink_start(struct lw_gateway *g, bool with_radio);
void gw_uplink_stop(struct lw_gateway *g);

/* gw_relays.c */
struct relay_alert *gw_relay_alert_state(struct lw_gateway *g, uint16_t relay);
void gw_relay_node_conf(struct lw_gateway *g, uint16_t relay, struct lw_node_conf *node);
void gw_restore_on_first_frame(struct lw_gateway *g);
void gw_relays_start(struct lw_gateway *g);
void gw_relays_stop(struct lw_gateway *g);

/* gw_downlinks.c */
void gw_send_pending_cmd(struct lw_gateway *g, const struct lw_node *n);
char *gw_control_event_mode(struct lw_gateway *g, const cJSON *req);
int gw_send_downlink(struct lw_gateway *g, enum lw_dl_prio prio, const uint8_t *buf, size_t len);
void gw_reserve_downlinks_ahead(struct lw_gateway *g, const struct lw_node_conf *nc);
/* The ACK of an ALARM or of a trouble report (DATA with ACK_REQ, PROTOCOL.md 15.2). */
void gw_send_ack(struct lw_gateway *g, const struct lw_node *n, uint8_t type, uint32_t fcnt);
int gw_downlinks_start(struct lw_gateway *g);
void gw_downlinks_stop(struct lw_gateway *g);

/* gw_commands.c */
void gw_on_mqtt_message(void *arg, const char *topic, const void *payload, size_t len);
void gw_commands_start(struct lw_gateway *g);
void gw_commands_stop(struct lw_gateway *g);

/* gw_metrics.c */
void gw_fill_metrics(struct lw_gateway *g, bool up, struct lw_metrics *out);
void gw_metrics_start(struct lw_gateway *g);
void gw_metrics_stop(struct lw_gateway *g);

#endif
