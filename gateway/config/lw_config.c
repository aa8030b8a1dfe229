/* Configuration loading: key tables, INI parsing through lw_ini, defaults and cross-checks. */
#include "lw_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lw_airtime.h"
#include "lw_error.h"
#include "lw_ini.h"
#include "lw_parse.h"
#include "lw_presets.h"
#include "lw_reading.h"
#include "lw_roster.h"

static const char *const kind_names[] = {"water", "smoke", "gas", "co", "multi", NULL};
static const char *const level_names[] = {"blue", "yellow", "orange", "red", NULL};
static const char *const hazard_names[] = {"flood", "fire", "gas", "trouble", NULL};
static const char *const metric_names[] = {"water_mm", "smoke",  "obscuration", "gas_lel",
                                           "co_ppm",   "temp_c", "battery_mv",  NULL};
static const char *const metric_units[] = {"mm", "", "%/m", "%LEL", "ppm", "°C", "mV"};
static const char *const backend_names[] = {"sim", "udp-forwarder", "sx127x", "sx126x", NULL};
static const char *const region_names[] = {"CN470", "EU868", NULL};
static const char *const clock_names[] = {"system", "medium", NULL};
static const char *const log_names[] = {"err", "warning", "notice", "info", "debug", NULL};
static const char *const direction_names[] = {"above", "below", NULL};
static const char *const rule_type_names[] = {"threshold", "silence", "flag", "radio_fault", NULL};
static const char *const statistic_names[] = {"value", "mean", "rise", "twa", "days_left", NULL};
static const char *const filter_names[] = {"none", "floodnet", NULL};
static const char *const coincidence_names[] = {"none", "building", "zone", NULL};
static const char *const flag_names[] = {"none", "fault", "tamper", "low_battery", NULL};
static const char *const tls_names[] = {"tlsv1.2", "tlsv1.3", NULL};

const char *lw_kind_name(enum lw_node_kind k)
{
    return k < LW_KIND_COUNT ? kind_names[k] : "?";
}
int lw_kind_from_name(const char *name)
{
    for (int i = 0; kind_names[i]; i++)
        if (strcmp(kind_names[i], name) == 0)
            return i;
    return -1;
}
const char *lw_node_state_name(enum lw_node_state s)
{
    static const char *const names[] = {"pending", "active", "retired"};
    return s < LW_NODE_STATE_COUNT ? names[s] : "?";
}
const char *lw_level_name(enum lw_level l)
{
    return l < LW_LEVEL_COUNT ? level_names[l] : "?";
}
const char *lw_hazard_name(enum lw_hazard h)
{
    return h < LW_HAZARD_COUNT ? hazard_names[h] : "?";
}
const char *lw_metric_name(enum lw_metric m)
{
    return m < LW_METRIC_COUNT ? metric_names[m] : "?";
}
const char *lw_metric_unit(enum lw_metric m)
{
    return m < LW_METRIC_COUNT ? metric_units[m] : "";
}

/* ---- key tables ------------------------------------------------------------------------- */

enum key_type {
    KT_STR,      /* char array; optional choices list */
    KT_U32,      /* uint32_t in [min, max] */
    KT_U16,      /* uint16_t in [min, max] */
    KT_DURATION, /* uint64_t milliseconds in [min, max] */
    KT_DOUBLE,   /* double, bounds from the metric table at validation */
    KT_ENUM,     /* int-sized enum, index into choices */
    KT_KINDS,    /* comma list of node kinds -> bitmask */
    KT_HEX,      /* fixed-size byte array as hex */
};

struct key {
    const char *section; /* "gateway", "radio", ... or "node" / "rule" for repeated sections */
    const char *name;
    enum key_type type;
    size_t off;
    size_t size;
    const char *def; /* NULL: required */
    uint64_t min, max;
    const char *const *choices;
    const char *help;
};

#define CF(f) offsetof(struct lw_config, f), sizeof(((struct lw_config *)0)->f)
#define NF(f) offsetof(struct lw_node_conf, f), sizeof(((struct lw_node_conf *)0)->f)
#define RF(f) offsetof(struct lw_rule_conf, f), sizeof(((struct lw_rule_conf *)0)->f)
#define DAY   (86400000ull)

static const struct key scalar_keys[] = {
    {"gateway", "site", KT_STR, CF(site), "estate", 0, 0, NULL,
     "Site name: the MQTT topic root is lorawatch/<site>/ (letters, digits, '-', '_')."},
    {"gateway", "network_id", KT_U32, CF(network_id), "0x4C57", 0, 0xFFFF, NULL,
     "16-bit network identifier in every frame; frames of other networks are dropped."},
    {"gateway", "state_dir", KT_STR, CF(state_dir), "/var/lib/lorawatch", 0, 0, NULL,
     "Directory for the database and other state, owned by the service user."},
    {"gateway", "database", KT_STR, CF(database), "", 0, 0, NULL,
     "SQLite database file; empty means <state_dir>/lorawatch.db."},
    {"gateway", "log_level", KT_STR, CF(log_level), "info", 0, 0, log_names,
     "Most verbose level logged."},
    {"gateway", "clock_check", KT_STR, CF(clock_check), "kernel", 0, 0, NULL,
     "How to tell the wall clock is synchronised: kernel (NTP status), none, or the path of a "
     "flag file such as /run/systemd/timesync/synchronized. Readings received earlier are "
     "marked and corrected once it is."},
    {"gateway", "metrics_file", KT_STR, CF(metrics_file), "", 0, 0, NULL,
     "Prometheus textfile written every metrics_interval (read by lorawatch status and "
     "node_exporter); empty: none."},
    {"gateway", "metrics_interval", KT_DURATION, CF(metrics_interval_ms), "15s", 1000, DAY, NULL,
     "How often metrics_file is rewritten."},
    {"gateway", "control_socket", KT_STR, CF(control_socket), "", 0, 0, NULL,
     "Unix socket the lorawatch CLI talks to; empty: none."},
    {"gateway", "control_group", KT_STR, CF(control_group), "lorawatch", 0, 0, NULL,
     "Group allowed on the control socket besides root and the service user; empty: owner "
     "only."},
    {"radio", "backend", KT_STR, CF(radio_backend), "sim", 0, 0, backend_names,
     "Radio driver: sim (the simulator's loopback medium), udp-forwarder (a concentrator's "
     "Semtech UDP packet forwarder, lora_pkt_fwd), sx127x (SX1276/77/78/79 HAT) or sx126x "
     "(SX1262 HAT) over spidev and GPIO. Default: the board's, else sim."},
    {"radio", "sim_listen", KT_STR, CF(sim_listen), "127.0.0.1:17000", 0, 0, NULL,
     "sim backend: UDP address the simulated medium sends frames to."},
    {"radio", "sim_clock", KT_STR, CF(sim_clock), "system", 0, 0, clock_names,
     "sim backend: 'medium' takes reception time from the simulator's virtual clock."},
    {"radio", "forwarder_listen", KT_STR, CF(forwarder_listen), "127.0.0.1:1700", 0, 0, NULL,
     "udp-forwarder backend: UDP address lora_pkt_fwd sends to (its server_address and "
     "serv_port_up/serv_port_down)."},
    {"radio", "tx_power_dbm", KT_U32, CF(tx_power_dbm), "14", 0, 27, NULL,
     "udp-forwarder backend: transmit power of downlinks in dBm; 470-510 MHz micro-power rules "
     "allow at most 50 mW (17 dBm) e.r.p. including antenna gain."},
    {"radio", "frequency_hz", KT_U32, CF(frequency_hz), "470300000", 137000000, 1020000000, NULL,
     "Channel centre frequency in Hz (CN470 uplink 470.3 + 0.2*n MHz)."},
    {"radio", "spreading_factor", KT_U32, CF(spreading_factor), "9", 7, 12, NULL,
     "LoRa spreading factor; in 470-510 MHz a frame may not be on air for more than 1 s."},
    {"radio", "bandwidth_hz", KT_U32, CF(bandwidth_hz), "125000", 125000, 500000, NULL,
     "LoRa bandwidth in Hz: 125000, 250000 or 500000."},
    {"radio", "coding_rate", KT_U32, CF(coding_rate), "5", 5, 8, NULL,
     "LoRa coding rate denominator: 4/5 .. 4/8."},
    {"radio", "board", KT_STR, CF(radio_board), "", 0, 0, NULL,
     "Radio HAT preset: dragino-lora-gps-hat (SX1276), waveshare-sx1262-hat (SX1262) or "
     "sx1302-forwarder (concentrator through lora_pkt_fwd); sets backend, SPI device and pins, "
     "each of which can still be set below. Empty: none."},
    {"radio", "region", KT_STR, CF(radio_region), "CN470", 0, 0, region_names,
     "Regional rules: CN470 (470-510 MHz, 17 dBm, 1 s per transmission, listen before talk) or "
     "EU868 (863-870 MHz, 16 dBm, 1 % duty cycle). Power is capped to the region's limit; "
     "settings under which a frame breaks its airtime rules are refused."},
    {"radio", "spi_device", KT_STR, CF(spi_device), "", 0, 0, NULL,
     "sx127x/sx126x: spidev device of the radio; empty: the board's (/dev/spidev0.0)."},
    {"radio", "spi_speed_hz", KT_U32, CF(spi_speed_hz), "1000000", 100000, 10000000, NULL,
     "sx127x/sx126x: SPI clock in Hz."},
    {"radio", "gpio_chip", KT_STR, CF(gpio_chip), "gpiochip0", 0, 0, NULL,
     "sx127x/sx126x: GPIO chip of the pins below (name, number or /dev path)."},
    {"radio", "pin_reset", KT_STR, CF(pin_reset), "", 0, 0, NULL,
     "sx127x/sx126x: GPIO line of the chip's NRESET; empty: the board's; none."},
    {"radio", "pin_cs", KT_STR, CF(pin_cs), "", 0, 0, NULL,
     "sx127x/sx126x: GPIO line used as software chip-select (NSS); none: the SPI controller's."},
    {"radio", "pin_dio0", KT_STR, CF(pin_dio0), "", 0, 0, NULL,
     "sx127x: GPIO line of DIO0 (RxDone, TxDone, CadDone interrupts)."},
    {"radio", "pin_dio1", KT_STR, CF(pin_dio1), "", 0, 0, NULL,
     "sx126x: GPIO line of DIO1 (every interrupt)."},
    {"radio", "pin_busy", KT_STR, CF(pin_busy), "", 0, 0, NULL,
     "sx126x: GPIO line of BUSY (low when the chip accepts a command)."},
    {"radio", "tcxo_voltage", KT_STR, CF(tcxo_voltage), "", 0, 0, NULL,
     "sx126x: TCXO supply the chip drives on DIO3, in volts (1.6 .. 3.3); none for a crystal; "
     "empty: the board's."},
    {"radio", "dio2_rf_switch", KT_STR, CF(dio2_rf_switch), "", 0, 0, NULL,
     "sx126x: yes when DIO2 drives the antenna switch; empty: the board's."},
    {"radio", "sync_word", KT_U32, CF(sync_word), "0x12", 0, 0xFF, NULL,
     "sx127x/sx126x: LoRa sync word (0x12 private networks; 0x34 is LoRaWAN's, do not use)."},
    {"radio", "preamble", KT_U32, CF(preamble), "8", 6, 65535, NULL,
     "sx127x/sx126x: preamble length in symbols."},
    {"radio", "watchdog_interval", KT_DURATION, CF(radio_watchdog_interval_ms), "30s", 1000,
     3600000, NULL,
     "sx127x/sx126x: how often the radio watchdog reads the chip's configuration back; a "
     "mismatch (a hung or reset chip) resets and re-initialises it."},
    {"radio", "watchdog_silence", KT_DURATION, CF(radio_watchdog_silence_ms), "30m", 0, DAY,
     NULL,
     "sx127x/sx126x: no interrupt at all for this long is treated as a deaf radio and reset; "
     "0 turns the check off."},
    {"mqtt", "host", KT_STR, CF(mqtt_host), "127.0.0.1", 0, 0, NULL, "MQTT broker host."},
    {"mqtt", "port", KT_U32, CF(mqtt_port), "1883", 1, 65535, NULL, "MQTT broker port."},
    {"mqtt", "client_id", KT_STR, CF(mqtt_client_id), "", 0, 0, NULL,
     "MQTT client id; empty means lorawatchd-<site>."},
    {"mqtt", "keepalive", KT_DURATION, CF(mqtt_keepalive_ms), "30s", 5000, 3600000, NULL,
     "MQTT keepalive interval."},
    {"mqtt", "username", KT_STR, CF(mqtt_username), "", 0, 0, NULL, "MQTT user name (optional)."},
    {"mqtt", "password", KT_STR, CF(mqtt_password), "", 0, 0, NULL,
     "MQTT password (optional; never logged)."},
    {"mqtt", "tls_ca_file", KT_STR, CF(mqtt_tls_ca_file), "", 0, 0, NULL,
     "CA certificate (PEM) that signed the broker's; setting it turns TLS on."},
    {"mqtt", "tls_cert_file", KT_STR, CF(mqtt_tls_cert_file), "", 0, 0, NULL,
     "Client certificate (PEM) when the broker requires one; needs tls_key_file."},
    {"mqtt", "tls_key_file", KT_STR, CF(mqtt_tls_key_file), "", 0, 0, NULL,
     "Private key (PEM) of the client certificate; must not be readable by others."},
    {"mqtt", "tls_version", KT_STR, CF(mqtt_tls_version), "tlsv1.2", 0, 0, tls_names,
     "Oldest TLS version accepted."},
    {"mqtt", "reconnect_min", KT_DURATION, CF(mqtt_reconnect_min_ms), "1s", 100, 600000, NULL,
     "First delay before reconnecting to the broker; doubles up to reconnect_max."},
    {"mqtt", "reconnect_max", KT_DURATION, CF(mqtt_reconnect_max_ms), "60s", 100, 3600000, NULL,
     "Longest delay between reconnection attempts; a broker on loopback (127.0.0.0/8, ::1, "
     "localhost) is tried again at least every second."},
    {"mqtt", "status_interval", KT_DURATION, CF(status_interval_ms), "60s", 1000, DAY, NULL,
     "How often the retained gateway status (with counters) is refreshed."},
    {"alerts", "escalate_after", KT_DURATION, CF(escalate_after_ms), "5m", 1000, DAY, NULL,
     "Unacknowledged this long at one duty tier, an alert goes to the next (worker, duty room, "
     "street office): teams are expected out within 5 minutes."},
    {"alerts", "remind_every", KT_DURATION, CF(remind_every_ms), "2m", 0, DAY, NULL,
     "Repeat an unacknowledged alert to its current tier this often (0: never)."},
    {"alerts", "max_silence", KT_DURATION, CF(max_silence_ms), "24h", 60000, 7 * DAY, NULL,
     "Longest maintenance silence lorawatch silence accepts; every silence has an expiry."},
    {"mesh", "hop_limit", KT_U32, CF(mesh_hop_limit), "3", 0, 7, NULL,
     "Most relays a frame may have crossed: frames asking for (hop_limit) or showing (hop count) "
     "more are dropped before any cryptography. The protocol allows 7."},
    {"mesh", "relay_silence", KT_DURATION, CF(mesh_relay_silence_ms), "300s", 10000, DAY, NULL,
     "A relay not heard this long raises one trouble alert naming it and the nodes behind it "
     "(EN 54-25: loss of communication within 300 s). Relays should report more often."},
    {"mesh", "event_interval", KT_DURATION, CF(mesh_event_interval_ms), "15s", 10000, 3600000,
     NULL,
     "Reporting interval of the nodes of a building while a flood incident there is open "
     "(event mode, sent to them as a CMD downlink); back to their own when it closes."},
    {"storage", "batch_rows", KT_U32, CF(batch_rows), "256", 1, 100000, NULL,
     "Readings written per transaction at most."},
    {"storage", "batch_interval", KT_DURATION, CF(batch_ms), "200ms", 1, 60000, NULL,
     "Longest time a reading waits in memory before its transaction commits."},
    {"storage", "retention_days", KT_U32, CF(retention_days), "400", 0, 36500, NULL,
     "Days raw readings are kept (deleted a little at a time); hourly and daily rollups and "
     "the journals are kept for good. 0 keeps raw readings for good."},
    {"storage", "spool_file", KT_STR, CF(spool_file), "", 0, 0, NULL,
     "File that keeps alert writes waiting for a full or failing disk (they are paged at once "
     "and journalled when the disk takes writes), so a daemon killed meanwhile finds them at "
     "its next start. Put it on another file system than the database: a tmpfs such as "
     "/run/lorawatch survives the daemon, not a reboot. Empty: kept in memory only."},
};

static const struct key node_keys[] = {
    {"node", "address", KT_U16, NF(address), NULL, 1, 0xFFFE, NULL,
     "16-bit node address in frames (1..0xFFFE), unique."},
    {"node", "eui", KT_HEX, NF(eui), NULL, 0, 0, NULL, "EUI-64 of the node, 16 hex digits."},
    {"node", "key", KT_HEX, NF(key), NULL, 0, 0, NULL, "128-bit node key, 32 hex digits."},
    {"node", "kind", KT_ENUM, NF(kind), NULL, 0, 0, kind_names, "water|smoke|gas|co|multi."},
    {"node", "label", KT_STR, NF(label), "", 0, 0, NULL, "Human name of the node."},
    {"node", "building", KT_STR, NF(building), "", 0, 0, NULL, "Building."},
    {"node", "floor", KT_STR, NF(floor), "", 0, 0, NULL, "Floor."},
    {"node", "unit", KT_STR, NF(unit), "", 0, 0, NULL, "Unit, room or area."},
    {"node", "grid", KT_STR, NF(grid), "", 0, 0, NULL, "Grid sector of the responsible worker."},
    {"node", "place", KT_STR, NF(place), "", 0, 0, NULL, "Free-text place description."},
    {"node", "tags", KT_STR, NF(tags), "", 0, 0, NULL,
     "Comma-separated place tags used by rules (low-lying, basement, old-building ...)."},
    {"node", "mount_height", KT_U32, NF(mount_height_mm), "0", 0, 20000, NULL,
     "Water sensors: mounting height above the zero level in mm (0: not recorded)."},
    {"node", "zero_offset", KT_U32, NF(zero_offset_mm), "0", 0, 20000, NULL,
     "Water sensors: mm subtracted from every reported depth (calibration)."},
};

static const struct key rule_keys[] = {
    {"rule", "metric", KT_ENUM, RF(metric), "", 0, 0, metric_names,
     "Reading the rule watches; required for type threshold."},
    {"rule", "threshold", KT_DOUBLE, RF(threshold), "", 0, 0, NULL,
     "Raise when the value (or statistic) reaches this; required for type threshold."},
    {"rule", "clear", KT_DOUBLE, RF(clear), "", 0, 0, NULL,
     "Clear when the value is back at or beyond this (hysteresis); required for type "
     "threshold."},
    {"rule", "level", KT_ENUM, RF(level), NULL, 0, 0, level_names, "blue|yellow|orange|red."},
    {"rule", "hazard", KT_ENUM, RF(hazard), "", 0, 0, hazard_names,
     "flood|fire|gas|trouble; default follows the metric."},
    {"rule", "kinds", KT_KINDS, RF(kinds), "", 0, 0, NULL,
     "Node kinds the rule applies to; default: kinds that report the metric."},
    {"rule", "tags", KT_STR, RF(tags), "", 0, 0, NULL,
     "Only nodes carrying all these place tags (comma-separated)."},
    {"rule", "except_tags", KT_STR, RF(except_tags), "", 0, 0, NULL,
     "Not for nodes carrying any of these tags (comma-separated)."},
    {"rule", "persistence", KT_DURATION, RF(persistence_ms), "0s", 0, DAY, NULL,
     "How long the threshold must hold before the alert is raised."},
    /* Rule kinds and statistics (docs/RULES.md); indices below as RK_*. */
    {"rule", "type", KT_ENUM, RF(type), "threshold", 0, 0, rule_type_names,
     "threshold (a metric), silence (node not heard for timeout), flag (a bit of the reading's "
     "flags), radio_fault (the gateway's radio)."},
    {"rule", "statistic", KT_ENUM, RF(statistic), "value", 0, 0, statistic_names,
     "What threshold compares: value, mean (sliding, over window), rise (per minute over "
     "window), twa (time-weighted mean, time constant window, power exponent), days_left (days "
     "until the trend over window reaches floor)."},
    {"rule", "window", KT_DURATION, RF(window_ms), "0s", 0, 60 * DAY, NULL,
     "Window of mean, rise and days_left; time constant of twa."},
    {"rule", "exponent", KT_DOUBLE, RF(exponent), "1", 0, 0, NULL,
     "twa: power of the weighted mean, 1..4 (1.75 fits EN 50291 CO alarm times)."},
    {"rule", "floor", KT_DOUBLE, RF(floor), "0", 0, 0, NULL,
     "days_left: level at which the metric is exhausted, in its unit (battery cut-off mV)."},
    {"rule", "filter", KT_ENUM, RF(filter), "none", 0, 0, filter_names,
     "floodnet: clean water depth before the rule sees it (noise floor, spikes, impossible "
     "rises, plateaus); none: the readings as they come."},
    {"rule", "noise_floor", KT_DOUBLE, RF(noise_floor), "10", 0, 0, NULL,
     "floodnet: depths below this (mm) are 0."},
    {"rule", "spike", KT_DOUBLE, RF(spike), "100", 0, 0, NULL,
     "floodnet: a jump of more than this (mm) waits for the next reading to confirm it; "
     "dropped as a spike when that reading is back."},
    {"rule", "max_rise", KT_DOUBLE, RF(max_rise), "250", 0, 0, NULL,
     "floodnet: rises faster than this (mm/min) are artefacts, dropped."},
    {"rule", "plateau_tol", KT_DOUBLE, RF(plateau_tol), "2", 0, 0, NULL,
     "floodnet: readings after a jump staying within this (mm) are flat."},
    {"rule", "plateau_time", KT_DURATION, RF(plateau_ms), "3m", 0, DAY, NULL,
     "floodnet: flat this long after a jump is a plateau (a parked car), removed; 0: off."},
    {"rule", "coincidence", KT_ENUM, RF(coincidence), "none", 0, 0, coincidence_names,
     "building or zone (a shared zone-* tag): raised one level higher when another node of the "
     "group is in alarm under this rule, or was within coincidence_window."},
    {"rule", "coincidence_window", KT_DURATION, RF(coincidence_ms), "60s", 0, DAY, NULL,
     "How recent the other node's alarm must be to agree."},
    {"rule", "timeout", KT_DURATION, RF(timeout_ms), "0s", 0, 30 * DAY, NULL,
     "silence: raise when the node was not heard this long (clears when heard); radio_fault: "
     "also when no node at all was heard this long (0: off)."},
    {"rule", "flag", KT_ENUM, RF(flag), "none", 0, 0, flag_names,
     "flag rules: fault, tamper or low_battery bit of the reading's flags."},
};
enum {
    RK_METRIC,
    RK_THRESHOLD,
    RK_CLEAR,
    RK_LEVEL,
    RK_HAZARD,
    RK_KINDS,
    RK_TAGS,
    RK_EXCEPT,
    RK_PERSIST,
    RK_TYPE,
    RK_STAT,
    RK_WINDOW,
    RK_EXPONENT,
    RK_FLOOR,
    RK_FILTER,
    RK_NOISE,
    RK_SPIKE,
    RK_MAXRISE,
    RK_PTOL,
    RK_PTIME,
    RK_COINC,
    RK_CWINDOW,
    RK_TIMEOUT,
    RK_FLAG,
};
/* Not a field of lw_rule_conf: parsed into the direction sign below. */
static const struct key rule_direction_key = {"rule",
                                              "direction",
                                              KT_ENUM,
                                              0,
                                              0,
                                              "above",
                                              0,
                                              0,
                                              direction_names,
                                              "above: raise when value >= threshold; below: raise "
                                              "when value <= threshold."};

#define N_SCALAR (sizeof(scalar_keys) / sizeof(scalar_keys[0]))
#define N_NODE   (sizeof(node_keys) / sizeof(node_keys[0]))
#define N_RULE   (sizeof(rule_keys) / sizeof(rule_keys[0]))

/* Metric limits: the TLV ranges, so a rule can never name an impossible value. */
static const double metric_min[] = {0, 0, 0, 0, 0, -3276.8, 0};
static const double metric_max[] = {65535, 1, 655.35, 100, 65535, 3276.7, 65535};
static const uint32_t metric_kinds[] = {
    1u << LW_KIND_WATER | 1u << LW_KIND_MULTI,
    1u << LW_KIND_SMOKE | 1u << LW_KIND_MULTI,
    1u << LW_KIND_SMOKE | 1u << LW_KIND_MULTI,
    1u << LW_KIND_GAS | 1u << LW_KIND_MULTI,
    1u << LW_KIND_CO | 1u << LW_KIND_MULTI,
    (1u << LW_KIND_COUNT) - 1,
    (1u << LW_KIND_COUNT) - 1,
};
static const enum lw_hazard metric_hazard[] = {LW_HAZARD_FLOOD,  LW_HAZARD_FIRE, LW_HAZARD_FIRE,
                                               LW_HAZARD_GAS,    LW_HAZARD_GAS,  LW_HAZARD_FIRE,
                                               LW_HAZARD_TROUBLE};

/* ---- parse state ------------------------------------------------------------------------ */

struct parse {
    struct lw_config *cfg;
    const char *file;
    lw_config_error_fn err;
    void *err_arg;
    int errors;
    int scalar_line[N_SCALAR];
    int (*node_line)[N_NODE];     /* per node: where each key was set */
    int (*rule_line)[N_RULE + 1]; /* per rule; last slot: direction */
    bool *rule_below;
    bool *node_bad; /* a value failed to parse: skip cross-checks that would repeat it */
    bool *rule_bad;
    /* The section the pairs now belong to, decided at its header. */
    enum { SEC_NONE, SEC_SCALAR, SEC_NODE, SEC_RULE, SEC_DUTY, SEC_BAD } cur;
    size_t cur_index;
};

/* Longest node or rule id: "node:" plus the id must fit inih's section buffer. */
#define ID_MAX (LW_INI_MAX_SECTION - 5)

/* Line where a scalar key was set (0 when defaulted), for messages about cross-checks. */
static int sline(const struct parse *p, const char *name)
{
    for (size_t i = 0; i < N_SCALAR; i++)
        if (strcmp(scalar_keys[i].name, name) == 0)
            return p->scalar_line[i];
    return 0;
}

static void report(struct parse *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void report(struct parse *p, int line, const char *fmt, ...)
{
    char msg[512], full[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(full, sizeof(full), "%s:%d: %s", p->file, line, msg);
    else
        snprintf(full, sizeof(full), "%s: %s", p->file, msg);
    p->errors++;
    if (p->err)
        p->err(p->err_arg, full);
    else
        fprintf(stderr, "%s\n", full);
}

static void choices_text(const char *const *choices, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; choices[i]; i++) {
        if (i)
            strncat(out, ", ", cap - strlen(out) - 1);
        strncat(out, choices[i], cap - strlen(out) - 1);
    }
}

static int choice_index(const char *const *choices, const char *v)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], v) == 0)
            return i;
    return -1;
}

/* Store value into base per key k. On failure writes what is allowed into why. */
static int set_value(const struct key *k, void *base, const char *v, char *why, size_t whycap)
{
    char *field = (char *)base + k->off;
    char list[160];
    int rc;
    switch (k->type) {
    case KT_STR:
        if (strlen(v) >= k->size) {
            snprintf(why, whycap, "too long (at most %zu bytes)", k->size - 1);
            return LW_ERR_RANGE;
        }
        if (k->choices && choice_index(k->choices, v) < 0) {
            choices_text(k->choices, list, sizeof(list));
            snprintf(why, whycap, "must be one of: %s", list);
            return LW_ERR_INVAL;
        }
        memcpy(field, v, strlen(v) + 1);
        return LW_OK;
    case KT_U32:
    case KT_U16: {
        uint32_t u;
        rc = lw_parse_u32(v, (uint32_t)k->min, (uint32_t)k->max, &u);
        if (rc != LW_OK) {
            snprintf(why, whycap, "must be an integer from %llu to %llu (decimal or 0x hex)",
                     (unsigned long long)k->min, (unsigned long long)k->max);
            return rc;
        }
        if (k->type == KT_U16) {
            uint16_t s = (uint16_t)u;
            memcpy(field, &s, sizeof(s));
        } else {
            memcpy(field, &u, sizeof(u));
        }
        return LW_OK;
    }
    case KT_DURATION: {
        uint64_t ms;
        rc = lw_parse_duration_ms(v, k->max, &ms);
        if (rc == LW_OK && ms < k->min)
            rc = LW_ERR_RANGE;
        if (rc != LW_OK) {
            snprintf(why, whycap,
                     "must be a duration from %llu ms to %llu s (units ms, s, m, h, d)",
                     (unsigned long long)k->min, (unsigned long long)(k->max / 1000));
            return rc;
        }
        memcpy(field, &ms, sizeof(ms));
        return LW_OK;
    }
    case KT_DOUBLE: {
        double d;
        rc = lw_parse_double(v, -1e9, 1e9, &d);
        if (rc != LW_OK) {
            snprintf(why, whycap, "must be a number");
            return rc;
        }
        memcpy(field, &d, sizeof(d));
        return LW_OK;
    }
    case KT_ENUM: {
        int i = choice_index(k->choices, v);
        if (i < 0) {
            choices_text(k->choices, list, sizeof(list));
            snprintf(why, whycap, "must be one of: %s", list);
            return LW_ERR_INVAL;
        }
        memcpy(field, &i, sizeof(i));
        return LW_OK;
    }
    case KT_KINDS: {
        uint32_t mask = 0;
        char buf[LW_TEXT_MAX];
        if (strlen(v) >= sizeof(buf)) {
            snprintf(why, whycap, "too long");
            return LW_ERR_RANGE;
        }
        strcpy(buf, v);
        for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
            int i = choice_index(kind_names, t);
            if (i < 0) {
                choices_text(kind_names, list, sizeof(list));
                snprintf(why, whycap, "'%s' is not a node kind (%s)", t, list);
                return LW_ERR_INVAL;
            }
            mask |= 1u << i;
        }
        memcpy(field, &mask, sizeof(mask));
        return LW_OK;
    }
    case KT_HEX:
        rc = lw_parse_hex(v, (uint8_t *)field, k->size);
        if (rc != LW_OK) {
            snprintf(why, whycap, "must be exactly %zu hex digits", 2 * k->size);
            return rc;
        }
        return LW_OK;
    }
    return LW_ERR_INVAL;
}

static const struct key *find_key(const struct key *tab, size_t n, const char *name, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tab[i].name, name) == 0) {
            *idx = i;
            return &tab[i];
        }
    return NULL;
}

static bool grow(void **arr, size_t n, size_t elem)
{
    void *a = realloc(*arr, (n + 1) * elem);
    if (!a)
        return false;
    *arr = a;
    memset((char *)a + n * elem, 0, elem);
    return true;
}

/* A [node:ID] or [rule:ID] header: start a new entry, refusing bad and repeated ids. */
static int new_entry(struct parse *p, int line, const char *section, const char *id, bool is_node)
{
    struct lw_config *c = p->cfg;
    size_t n = is_node ? c->n_nodes : c->n_rules;
    p->cur = SEC_BAD;
    if (strlen(id) == 0 || strlen(id) > ID_MAX ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
            strlen(id)) {
        report(p, line, "[%s]: name must be 1-%d letters, digits, '-', '_' or '.'", section,
               ID_MAX);
        return LW_ERR_CONFIG;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = is_node ? c->nodes[i].name : c->rules[i].name;
        if (strcmp(name, id) == 0) {
            report(p, line, "[%s]: section appears twice (first at line %d)", section,
                   is_node ? c->nodes[i].line : c->rules[i].line);
            return LW_ERR_CONFIG;
        }
    }
    bool ok = is_node ? grow((void **)&c->nodes, n, sizeof(*c->nodes)) &&
                            grow((void **)&p->node_line, n, sizeof(*p->node_line)) &&
                            grow((void **)&p->node_bad, n, sizeof(*p->node_bad))
                      : grow((void **)&c->rules, n, sizeof(*c->rules)) &&
                            grow((void **)&p->rule_line, n, sizeof(*p->rule_line)) &&
                            grow((void **)&p->rule_below, n, sizeof(*p->rule_below)) &&
                            grow((void **)&p->rule_bad, n, sizeof(*p->rule_bad));
    if (!ok) {
        report(p, line, "out of memory");
        return LW_ERR_NOMEM;
    }
    if (is_node) {
        strcpy(c->nodes[n].name, id);
        c->nodes[n].line = line;
        c->n_nodes++;
    } else {
        strcpy(c->rules[n].name, id);
        c->rules[n].line = line;
        c->n_rules++;
    }
    p->cur = is_node ? SEC_NODE : SEC_RULE;
    p->cur_index = n;
    return LW_OK;
}

static int on_section(void *user, int line, const char *section)
{
    struct parse *p = user;
    if (strncmp(section, "node:", 5) == 0)
        return new_entry(p, line, section, section + 5, true);
    if (strncmp(section, "rule:", 5) == 0)
        return new_entry(p, line, section, section + 5, false);
    if (strncmp(section, "duty:", 5) == 0) {
        p->cur = SEC_DUTY; /* the duty roster's own parser reads these (lw_roster.c) */
        return LW_OK;
    }
    for (size_t j = 0; j < N_SCALAR; j++)
        if (strcmp(scalar_keys[j].section, section) == 0) {
            p->cur = SEC_SCALAR;
            return LW_OK;
        }
    p->cur = SEC_BAD;
    report(p, line,
           "[%s]: unknown section (expected gateway, radio, mesh, mqtt, storage, alerts, node:NAME, "
           "rule:NAME or duty:ID)",
           section);
    return LW_ERR_CONFIG;
}

static int on_pair(void *user, int line, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    char why[256];
    const struct key *k = NULL;
    size_t idx = 0, i = p->cur_index;
    void *base = p->cfg;
    int *seen = NULL;
    bool *bad = NULL;

    switch (p->cur) {
    case SEC_NONE:
        report(p, line, "%s: key outside any [section]", name);
        return LW_ERR_CONFIG;
    case SEC_DUTY:
        return LW_OK;
    case SEC_BAD:
        return LW_ERR_CONFIG; /* the header was reported; its keys would only repeat it */
    case SEC_NODE:
        k = find_key(node_keys, N_NODE, name, &idx);
        base = &p->cfg->nodes[i];
        if (k)
            seen = &p->node_line[i][idx];
        bad = &p->node_bad[i];
        break;
    case SEC_RULE:
        if (strcmp(name, "direction") == 0) {
            if (p->rule_line[i][N_RULE]) {
                report(p, line, "[%s] direction: set twice (first at line %d)", section,
                       p->rule_line[i][N_RULE]);
                return LW_ERR_CONFIG;
            }
            p->rule_line[i][N_RULE] = line;
            int d = choice_index(direction_names, value);
            if (d < 0) {
                report(p, line, "[%s] direction = %s: must be 'above' or 'below'", section, value);
                p->rule_bad[i] = true;
                return LW_ERR_CONFIG;
            }
            p->rule_below[i] = d == 1;
            return LW_OK;
        }
        k = find_key(rule_keys, N_RULE, name, &idx);
        base = &p->cfg->rules[i];
        if (k)
            seen = &p->rule_line[i][idx];
        bad = &p->rule_bad[i];
        break;
    case SEC_SCALAR:
        for (idx = 0; idx < N_SCALAR; idx++)
            if (strcmp(scalar_keys[idx].section, section) == 0 &&
                strcmp(scalar_keys[idx].name, name) == 0) {
                k = &scalar_keys[idx];
                seen = &p->scalar_line[idx];
                break;
            }
        break;
    }
    if (!k) {
        report(p, line, "[%s] %s: unknown key (lorawatchd --help-config lists them)", section,
               name);
        return LW_ERR_CONFIG;
    }
    if (*seen) {
        report(p, line, "[%s] %s: set twice (first at line %d)", section, name, *seen);
        return LW_ERR_CONFIG;
    }
    *seen = line;
    if (set_value(k, base, value, why, sizeof(why)) != LW_OK) {
        /* Keys and passwords are never echoed back. */
        bool secret = strcmp(name, "key") == 0 || strcmp(name, "password") == 0;
        report(p, line, "[%s] %s = %s: %s", section, name, secret ? "(hidden)" : value, why);
        if (bad)
            *bad = true;
        else
            set_value(k, base, k->def, why, sizeof(why)); /* later checks see a sane value */
        return LW_ERR_CONFIG;
    }
    return LW_OK;
}

static void on_syntax(void *user, int line, const char *why)
{
    report(user, line, "%s", why);
}

static void apply_defaults(struct parse *p)
{
    char why[256];
    for (size_t i = 0; i < N_SCALAR; i++)
        if (!p->scalar_line[i] &&
            set_value(&scalar_keys[i], p->cfg, scalar_keys[i].def, why, sizeof(why)) != LW_OK)
            report(p, 0, "internal: bad default for %s: %s", scalar_keys[i].name, why);
}

static void validate_nodes(struct parse *p)
{
    struct lw_config *c = p->cfg;
    char why[256];
    for (size_t i = 0; i < c->n_nodes; i++) {
        struct lw_node_conf *n = &c->nodes[i];
        for (size_t k = 0; k < N_NODE; k++) {
            if (p->node_line[i][k])
                continue;
            if (!node_keys[k].def)
                report(p, n->line, "[node:%s]: missing required key '%s' (%s)", n->name,
                       node_keys[k].name, node_keys[k].help);
            else
                set_value(&node_keys[k], n, node_keys[k].def, why, sizeof(why));
        }
        /* A [node:] section is a personalised node: one key both ways, always in session. */
        memcpy(n->key_down, n->key, LW_KEY_LEN);
        n->has_session = true;
        n->from_config = true;
        n->state = LW_NODE_ACTIVE;
        if (p->node_bad[i])
            continue; /* its bad value was reported; comparing it would only repeat that */
        if (p->node_line[i][2] && lw_all_zero(n->key, sizeof(n->key)))
            report(p, p->node_line[i][2], "[node:%s] key: an all-zero key is not a key", n->name);
        for (size_t j = 0; j < i; j++) {
            const struct lw_node_conf *o = &c->nodes[j];
            if (p->node_bad[j])
                continue;
            if (p->node_line[i][0] && p->node_line[j][0] && o->address == n->address)
                report(p, p->node_line[i][0],
                       "[node:%s] address = 0x%04X: already used by "
                       "node '%s' (line %d)",
                       n->name, n->address, o->name, p->node_line[j][0]);
            if (p->node_line[i][1] && p->node_line[j][1] && !memcmp(o->eui, n->eui, 8))
                report(p, p->node_line[i][1], "[node:%s] eui: already used by node '%s' (line %d)",
                       n->name, o->name, p->node_line[j][1]);
            if (p->node_line[i][2] && p->node_line[j][2] && !memcmp(o->key, n->key, LW_KEY_LEN))
                report(p, p->node_line[i][2],
                       "[node:%s] key: same key as node '%s' (line %d); every node needs its own",
                       n->name, o->name, p->node_line[j][2]);
        }
    }
}

/* Keys that mean something only for some rule types: set elsewhere they are a mistake. */
static const struct {
    int key;
    uint32_t types; /* bit per enum lw_rule_type */
} rule_key_types[] = {
    {RK_METRIC, 1u << LW_RULE_THRESHOLD},
    {RK_THRESHOLD, 1u << LW_RULE_THRESHOLD},
    {RK_CLEAR, 1u << LW_RULE_THRESHOLD},
    {RK_STAT, 1u << LW_RULE_THRESHOLD},
    {RK_WINDOW, 1u << LW_RULE_THRESHOLD},
    {RK_EXPONENT, 1u << LW_RULE_THRESHOLD},
    {RK_FLOOR, 1u << LW_RULE_THRESHOLD},
    {RK_FILTER, 1u << LW_RULE_THRESHOLD},
    {RK_NOISE, 1u << LW_RULE_THRESHOLD},
    {RK_SPIKE, 1u << LW_RULE_THRESHOLD},
    {RK_MAXRISE, 1u << LW_RULE_THRESHOLD},
    {RK_PTOL, 1u << LW_RULE_THRESHOLD},
    {RK_PTIME, 1u << LW_RULE_THRESHOLD},
    {RK_COINC, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_FLAG},
    {RK_CWINDOW, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_FLAG},
    {RK_TIMEOUT, 1u << LW_RULE_SILENCE | 1u << LW_RULE_RADIO_FAULT},
    {RK_FLAG, 1u << LW_RULE_FLAG},
    {RK_KINDS, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_SILENCE | 1u << LW_RULE_FLAG},
    {RK_TAGS, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_SILENCE | 1u << LW_RULE_FLAG},
    {RK_EXCEPT, 1u << LW_RULE_THRESHOLD | 1u << LW_RULE_SILENCE | 1u << LW_RULE_FLAG},
};

/* A double key of rule r must lie in [lo, hi]. */
static void rule_range(struct parse *p, size_t i, int key, double v, double lo, double hi,
                       const char *unit)
{
    if (v < lo || v > hi)
        report(p, p->rule_line[i][key] ? p->rule_line[i][key] : p->cfg->rules[i].line,
               "[rule:%s] %s = %g: must be in %g..%g%s", p->cfg->rules[i].name,
               rule_keys[key].name, v, lo, hi, unit);
}

/* Threshold rules: metric, threshold and clear with hysteresis, statistic and filter options. */
static void validate_threshold_rule(struct parse *p, size_t i)
{
    struct lw_rule_conf *r = &p->cfg->rules[i];
    const int *line = p->rule_line[i];
    /* Defaults that follow from the metric. */
    if (!line[RK_HAZARD])
        r->hazard = metric_hazard[r->metric];
    if (!line[RK_KINDS])
        r->kinds = metric_kinds[r->metric];
    double lo = metric_min[r->metric], hi = metric_max[r->metric];
    const char *unit = "";
    if (r->statistic == LW_STAT_RISE) {
        lo = -hi; /* a rate per minute: at most the whole range in a minute */
        unit = " per minute";
    } else if (r->statistic == LW_STAT_DAYS_LEFT) {
        lo = 0;
        hi = 36500;
        unit = " days";
    }
    if (r->threshold < lo || r->threshold > hi)
        report(p, line[RK_THRESHOLD], "[rule:%s] threshold = %g: %s must be in %g..%g%s", r->name,
               r->threshold, metric_names[r->metric], lo, hi, unit);
    if (r->clear < lo || r->clear > hi)
        report(p, line[RK_CLEAR], "[rule:%s] clear = %g: %s must be in %g..%g%s", r->name,
               r->clear, metric_names[r->metric], lo, hi, unit);
    bool below = p->rule_below[i];
    if (!below && r->clear >= r->threshold)
        report(p, line[RK_CLEAR],
               "[rule:%s] clear = %g: must be below threshold %g for a rising rule", r->name,
               r->clear, r->threshold);
    if (below && r->clear <= r->threshold)
        report(p, line[RK_CLEAR],
               "[rule:%s] clear = %g: must be above threshold %g for a 'below' rule", r->name,
               r->clear, r->threshold);
    if (below) {
        /* A falling rule is a rising rule on the negated value: one evaluator for both. */
        r->below = true;
        r->threshold = -r->threshold;
        r->clear = -r->clear;
    }
    if ((r->kinds & metric_kinds[r->metric]) == 0)
        report(p, r->line, "[rule:%s]: no node kind in 'kinds' reports %s", r->name,
               metric_names[r->metric]);
    if (r->statistic != LW_STAT_VALUE && r->window_ms == 0)
        report(p, line[RK_STAT] ? line[RK_STAT] : r->line,
               "[rule:%s] statistic = %s: needs a window", r->name, statistic_names[r->statistic]);
    if (r->statistic == LW_STAT_VALUE && line[RK_WINDOW])
        report(p, line[RK_WINDOW], "[rule:%s] window: only for statistic mean, rise, twa or "
               "days_left", r->name);
    if (r->statistic != LW_STAT_TWA && line[RK_EXPONENT])
        report(p, line[RK_EXPONENT], "[rule:%s] exponent: only for statistic = twa", r->name);
    rule_range(p, i, RK_EXPONENT, r->exponent, 1, 4, "");
    if (r->statistic == LW_STAT_DAYS_LEFT) {
        if (!below)
            report(p, line[RK_STAT], "[rule:%s] statistic = days_left: needs direction = below "
                   "(raise when few days are left)", r->name);
        rule_range(p, i, RK_FLOOR, r->floor, metric_min[r->metric], metric_max[r->metric],
                   metric_units[r->metric][0] ? " (the metric's unit)" : "");
    } else if (line[RK_FLOOR]) {
        report(p, line[RK_FLOOR], "[rule:%s] floor: only for statistic = days_left", r->name);
    }
    if (r->filter == LW_FILTER_FLOODNET && r->metric != LW_METRIC_WATER)
        report(p, line[RK_FILTER], "[rule:%s] filter = floodnet: only for metric water_mm",
               r->name);
    rule_range(p, i, RK_NOISE, r->noise_floor, 0, 1000, " mm");
    rule_range(p, i, RK_SPIKE, r->spike, 1, 65535, " mm");
    rule_range(p, i, RK_MAXRISE, r->max_rise, 1, 65535, " mm/min");
    rule_range(p, i, RK_PTOL, r->plateau_tol, 0, 1000, " mm");
    for (int k = RK_NOISE; k <= RK_PTIME; k++)
        if (line[k] && r->filter != LW_FILTER_FLOODNET)
            report(p, line[k], "[rule:%s] %s: only with filter = floodnet (metric water_mm)",
                   r->name, rule_keys[k].name);
}

static void validate_rules(struct parse *p)
{
    struct lw_config *c = p->cfg;
    char why[256];
    for (size_t i = 0; i < c->n_rules; i++) {
        struct lw_rule_conf *r = &c->rules[i];
        bool missing = false;
        for (size_t k = 0; k < N_RULE; k++) {
            if (p->rule_line[i][k])
                continue;
            /* metric, threshold and clear are required of threshold rules only. */
            bool required = !rule_keys[k].def || (k <= RK_CLEAR && r->type == LW_RULE_THRESHOLD);
            if (required) {
                report(p, r->line, "[rule:%s]: missing required key '%s' (%s)", r->name,
                       rule_keys[k].name, rule_keys[k].help);
                missing = true;
            } else if (rule_keys[k].def[0]) {
                set_value(&rule_keys[k], r, rule_keys[k].def, why, sizeof(why));
            }
        }
        if (missing || p->rule_bad[i])
            continue;
        for (size_t k = 0; k < sizeof(rule_key_types) / sizeof(rule_key_types[0]); k++) {
            int line = p->rule_line[i][rule_key_types[k].key];
            if (line && !(rule_key_types[k].types & (1u << r->type)))
                report(p, line, "[rule:%s] %s: not a key of type = %s rules", r->name,
                       rule_keys[rule_key_types[k].key].name, rule_type_names[r->type]);
        }
        if (p->rule_line[i][N_RULE] && r->type != LW_RULE_THRESHOLD)
            report(p, p->rule_line[i][N_RULE], "[rule:%s] direction: not a key of type = %s rules",
                   r->name, rule_type_names[r->type]);
        if (r->type == LW_RULE_THRESHOLD) {
            validate_threshold_rule(p, i);
            continue;
        }
        /* Trouble rules: a condition that holds (1) or not (0); reported as trouble. */
        r->metric = LW_METRIC_BATTERY;
        r->threshold = 1;
        r->clear = 0;
        r->filter = LW_FILTER_NONE;
        if (!p->rule_line[i][RK_HAZARD])
            r->hazard = LW_HAZARD_TROUBLE;
        if (!p->rule_line[i][RK_KINDS])
            r->kinds = r->type == LW_RULE_RADIO_FAULT ? 0 : (1u << LW_KIND_COUNT) - 1;
        if (r->type == LW_RULE_SILENCE && r->timeout_ms == 0)
            report(p, p->rule_line[i][RK_TIMEOUT] ? p->rule_line[i][RK_TIMEOUT] : r->line,
                   "[rule:%s] timeout: a silence rule needs a timeout of at least 1 s", r->name);
        if (r->type == LW_RULE_SILENCE && r->timeout_ms > 0 && r->timeout_ms < 1000)
            report(p, p->rule_line[i][RK_TIMEOUT],
                   "[rule:%s] timeout: a silence rule needs a timeout of at least 1 s", r->name);
        if (r->type == LW_RULE_FLAG && r->flag == LW_FLAGBIT_NONE)
            report(p, p->rule_line[i][RK_FLAG] ? p->rule_line[i][RK_FLAG] : r->line,
                   "[rule:%s]: a flag rule needs flag = fault, tamper or low_battery", r->name);
    }
}

/* Board and region presets, pins and chip options of the sx127x/sx126x backends (lw_presets). */
static void validate_radio_chip(struct parse *p)
{
    struct lw_config *c = p->cfg;
    char names[160], why[200];
    const struct lw_board *b = NULL;
    if (c->radio_board[0] && !(b = lw_board_find(c->radio_board))) {
        lw_board_names(names, sizeof(names));
        report(p, sline(p, "board"), "[radio] board = %s: must be one of: %s", c->radio_board,
               names);
    }
    if (b && !sline(p, "backend"))
        snprintf(c->radio_backend, sizeof(c->radio_backend), "%s", b->backend);
    else if (b && strcmp(b->backend, c->radio_backend) != 0)
        report(p, sline(p, "backend"), "[radio] backend = %s: board %s needs backend %s",
               c->radio_backend, b->name, b->backend);
    const struct lw_region *r = lw_region_find(c->radio_region);
    bool chip = strcmp(c->radio_backend, "sx127x") == 0 || strcmp(c->radio_backend, "sx126x") == 0;
    if (r && !sline(p, "frequency_hz"))
        c->frequency_hz = r->default_freq_hz;
    if (r && (sline(p, "region") || chip) &&
        (c->frequency_hz < r->freq_min_hz || c->frequency_hz > r->freq_max_hz))
        report(p, sline(p, "frequency_hz") ? sline(p, "frequency_hz") : sline(p, "region"),
               "[radio] frequency_hz = %u: outside the %s band (%u-%u Hz)", c->frequency_hz,
               r->name, r->freq_min_hz, r->freq_max_hz);
    if (r && r->duty_permille) {
        struct lw_lora_params lp;
        lw_lora_params_default(&lp);
        lp.sf = (uint8_t)c->spreading_factor;
        lp.bw_hz = c->bandwidth_hz;
        lp.cr = (uint8_t)(c->coding_rate - 4);
        lp.preamble = (uint16_t)c->preamble;
        size_t biggest = LW_FRAME_OVERHEAD + LW_READING_MAX_LEN;
        uint32_t us = lw_airtime_us(&lp, biggest);
        if (us && lw_region_check_airtime(r, us, why, sizeof(why)) != LW_OK)
            report(p, sline(p, "spreading_factor") ? sline(p, "spreading_factor")
                                                   : sline(p, "region"),
                   "[radio] spreading_factor = %u: a %zu-byte frame: %s", c->spreading_factor,
                   biggest, why);
    }
    static const char *const pin_keys[] = {"pin_reset", "pin_cs", "pin_dio0", "pin_dio1",
                                           "pin_busy"};
    const char *pin_vals[] = {c->pin_reset, c->pin_cs, c->pin_dio0, c->pin_dio1, c->pin_busy};
    int pins[5];
    for (int i = 0; i < 5; i++)
        if (lw_pin_parse(pin_vals[i], &pins[i]) != LW_OK) {
            report(p, sline(p, pin_keys[i]),
                   "[radio] %s = %s: must be a GPIO line number (0-1023) or none", pin_keys[i],
                   pin_vals[i]);
            pins[i] = -1;
        }
    if (c->tcxo_voltage[0] && strcmp(c->tcxo_voltage, "none") != 0) {
        double v;
        if (lw_parse_double(c->tcxo_voltage, 1.6, 3.3, &v) != LW_OK)
            report(p, sline(p, "tcxo_voltage"),
                   "[radio] tcxo_voltage = %s: must be volts from 1.6 to 3.3, or none",
                   c->tcxo_voltage);
    }
    if (c->dio2_rf_switch[0] && strcmp(c->dio2_rf_switch, "yes") != 0 &&
        strcmp(c->dio2_rf_switch, "no") != 0)
        report(p, sline(p, "dio2_rf_switch"), "[radio] dio2_rf_switch = %s: must be yes or no",
               c->dio2_rf_switch);
    if (!chip)
        return;
    /* Lines the chip cannot work without: from the key, else from the board. */
    bool sx126x = strcmp(c->radio_backend, "sx126x") == 0;
    static const int need127[] = {0, 2}, need126[] = {0, 3, 4};
    const int *need = sx126x ? need126 : need127;
    for (int i = 0; i < (sx126x ? 3 : 2); i++) {
        int k = need[i];
        bool from_board = false;
        if (pins[k] == -2 && b) {
            const int bp[] = {b->pins.reset, b->pins.cs, b->pins.irq, b->pins.irq, b->pins.busy};
            from_board = bp[k] >= 0 && strcmp(b->backend, c->radio_backend) == 0;
        }
        if (pins[k] == -1 || (pins[k] == -2 && !from_board))
            report(p, sline(p, pin_keys[k]) ? sline(p, pin_keys[k]) : sline(p, "backend"),
                   "[radio] %s: backend %s needs it (set board, or %s to the GPIO line)",
                   pin_keys[k], c->radio_backend, pin_keys[k]);
    }
}

/* China's 470-510 MHz micro-power rules cap every transmission at 1 s: reject radio settings under
 * which our largest uplink frame would be on air longer than that. */
static void validate_radio(struct parse *p)
{
    struct lw_config *c = p->cfg;
    validate_radio_chip(p);
    if (c->bandwidth_hz != 125000 && c->bandwidth_hz != 250000 && c->bandwidth_hz != 500000)
        report(p, sline(p, "bandwidth_hz"),
               "[radio] bandwidth_hz = %u: must be 125000, 250000 or 500000", c->bandwidth_hz);
    struct lw_lora_params lp;
    lw_lora_params_default(&lp);
    lp.sf = (uint8_t)c->spreading_factor;
    lp.bw_hz = c->bandwidth_hz;
    lp.cr = (uint8_t)(c->coding_rate - 4);
    size_t biggest = LW_FRAME_OVERHEAD + LW_READING_MAX_LEN;
    uint32_t us = lw_airtime_us(&lp, biggest);
    if (c->frequency_hz >= 470000000u && c->frequency_hz <= 510000000u && us > 1000000u)
        report(p, sline(p, "spreading_factor"),
               "[radio] spreading_factor = %u: a %zu-byte frame would be on air %.1f ms at "
               "%u Hz bandwidth; the 470-510 MHz rules allow at most 1000 ms per transmission",
               c->spreading_factor, biggest, us / 1000.0, c->bandwidth_hz);
    char host[128];
    uint16_t port;
    if (lw_parse_hostport(c->sim_listen, host, sizeof(host), &port) != LW_OK)
        report(p, sline(p, "sim_listen"), "[radio] sim_listen = %s: must be HOST:PORT",
               c->sim_listen);
    if (lw_parse_hostport(c->forwarder_listen, host, sizeof(host), &port) != LW_OK)
        report(p, sline(p, "forwarder_listen"), "[radio] forwarder_listen = %s: must be HOST:PORT",
               c->forwarder_listen);
    if (strspn(c->site, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") !=
            strlen(c->site) ||
        !c->site[0])
        report(p, sline(p, "site"),
               "[gateway] site = %s: only letters, digits, '-' and '_' "
               "(it is an MQTT topic level)",
               c->site);
    if (strcmp(c->clock_check, "kernel") != 0 && strcmp(c->clock_check, "none") != 0 &&
        c->clock_check[0] != '/')
        report(p, sline(p, "clock_check"),
               "[gateway] clock_check = %s: must be kernel, none or an absolute path",
               c->clock_check);
    if (c->control_socket[0] && c->control_socket[0] != '/')
        report(p, sline(p, "control_socket"),
               "[gateway] control_socket = %s: must be an absolute path", c->control_socket);
    /* TLS settings must make sense together, and the files must be there to be read. */
    const char *cert = c->mqtt_tls_cert_file, *key = c->mqtt_tls_key_file;
    if (cert[0] && !key[0])
        report(p, sline(p, "tls_cert_file"), "[mqtt] tls_cert_file: needs tls_key_file too");
    if (key[0] && !cert[0])
        report(p, sline(p, "tls_key_file"), "[mqtt] tls_key_file: needs tls_cert_file too");
    if ((cert[0] || key[0]) && !c->mqtt_tls_ca_file[0])
        report(p, sline(p, cert[0] ? "tls_cert_file" : "tls_key_file"),
               "[mqtt] client certificate without tls_ca_file: set the CA to turn TLS on");
    static const char *const tls_keys[] = {"tls_ca_file", "tls_cert_file", "tls_key_file"};
    const char *tls_files[] = {c->mqtt_tls_ca_file, cert, key};
    for (int i = 0; i < 3; i++) {
        FILE *f = tls_files[i][0] ? fopen(tls_files[i], "r") : NULL;
        if (tls_files[i][0] && !f)
            report(p, sline(p, tls_keys[i]), "[mqtt] %s = %s: cannot read: %s", tls_keys[i],
                   tls_files[i], strerror(errno));
        if (f)
            fclose(f);
    }
    if (c->mqtt_password[0] && !c->mqtt_username[0])
        report(p, sline(p, "password"), "[mqtt] password: set without a username");
    if (c->mqtt_reconnect_min_ms > c->mqtt_reconnect_max_ms)
        report(p, sline(p, "reconnect_min"), "[mqtt] reconnect_min: longer than reconnect_max");
    if (!c->mqtt_client_id[0])
        snprintf(c->mqtt_client_id, sizeof(c->mqtt_client_id), "lorawatchd-%.40s", c->site);
}

struct lw_config *lw_config_parse(const char *name, const char *text, size_t len,
                                  lw_config_error_fn err, void *arg)
{
    struct lw_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return NULL;
    snprintf(cfg->path, sizeof(cfg->path), "%s", name);
    struct parse p = {.cfg = cfg, .file = name, .err = err, .err_arg = arg};
    lw_ini_parse_sections(text, len, on_pair, on_syntax, on_section, &p);
    apply_defaults(&p);
    validate_radio(&p);
    validate_nodes(&p);
    validate_rules(&p);
    free(p.node_line);
    free(p.rule_line);
    free(p.rule_below);
    free(p.node_bad);
    free(p.rule_bad);
    p.errors += lw_roster_parse(name, text, len, &cfg->roster, err, arg);
    if (p.errors) {
        lw_config_free(cfg);
        return NULL;
    }
    return cfg;
}

struct lw_config *lw_config_load(const char *path, lw_config_error_fn err, void *arg)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        char msg[LW_PATH_MAX + 64];
        snprintf(msg, sizeof(msg), "%s: cannot open: %s", path, strerror(errno));
        if (err)
            err(arg, msg);
        else
            fprintf(stderr, "%s\n", msg);
        return NULL;
    }
    size_t cap = 1 << 20, len;
    char *text = malloc(cap);
    len = text ? fread(text, 1, cap, f) : 0;
    bool too_big = text && len == cap && fgetc(f) != EOF;
    fclose(f);
    if (!text || too_big) {
        char msg[LW_PATH_MAX + 64];
        snprintf(msg, sizeof(msg), "%s: %s", path, text ? "larger than 1 MiB" : "out of memory");
        if (err)
            err(arg, msg);
        else
            fprintf(stderr, "%s\n", msg);
        free(text);
        return NULL;
    }
    struct lw_config *cfg = lw_config_parse(path, text, len, err, arg);
    explicit_bzero(text, len); /* node keys and the MQTT password */
    free(text);
    return cfg;
}

void lw_config_free(struct lw_config *cfg)
{
    if (!cfg)
        return;
    /* Node keys are secrets: do not leave them in freed heap memory. */
    if (cfg->nodes)
        memset(cfg->nodes, 0, cfg->n_nodes * sizeof(*cfg->nodes));
    free(cfg->nodes);
    free(cfg->rules);
    lw_roster_free(cfg->roster);
    memset(cfg->mqtt_password, 0, sizeof(cfg->mqtt_password));
    free(cfg);
}

void lw_config_keep_restart_keys(const struct lw_config *running, struct lw_config *next,
                                 void (*note)(void *arg, const char *section, const char *key),
                                 void *arg)
{
    for (size_t i = 0; i < N_SCALAR; i++) {
        const struct key *k = &scalar_keys[i];
        if (strcmp(k->name, "log_level") == 0)
            continue;
        const char *a = (const char *)running + k->off;
        char *b = (char *)next + k->off;
        bool differs = k->type == KT_STR ? strcmp(a, b) != 0 : memcmp(a, b, k->size) != 0;
        if (differs) {
            if (note)
                note(arg, k->section, k->name);
            memcpy(b, a, k->size);
        }
    }
}

void lw_config_db_path(const struct lw_config *cfg, char *out, size_t cap)
{
    if (cfg->database[0])
        snprintf(out, cap, "%s", cfg->database);
    else
        snprintf(out, cap, "%s/lorawatch.db", cfg->state_dir);
}

/* Is tag t (length tl) one of the comma-separated node tags? */
static bool has_tag(const char *node_tags, const char *t, size_t tl)
{
    for (const char *s = node_tags; *s;) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t l = strcspn(s, ", ");
        if (l == tl && strncmp(s, t, tl) == 0)
            return true;
        s += l;
    }
    return false;
}

bool lw_tags_any(const char *node_tags, const char *list)
{
    char buf[LW_TEXT_MAX];
    snprintf(buf, sizeof(buf), "%s", list);
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (has_tag(node_tags, t, strlen(t)))
            return true;
    return false;
}

bool lw_tags_match(const char *node_tags, const char *wanted)
{
    char buf[LW_TEXT_MAX];
    snprintf(buf, sizeof(buf), "%s", wanted);
    for (char *save, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (!has_tag(node_tags, t, strlen(t)))
            return false;
    return true;
}

static void print_table(FILE *out, const struct key *tab, size_t n, const char *section)
{
    for (size_t i = 0; i < n; i++) {
        const struct key *k = &tab[i];
        if (section && strcmp(section, k->section) != 0)
            continue;
        char range[160] = "";
        if (k->choices)
            choices_text(k->choices, range, sizeof(range));
        else if (k->type == KT_U32 || k->type == KT_U16)
            snprintf(range, sizeof(range), "%llu..%llu", (unsigned long long)k->min,
                     (unsigned long long)k->max);
        else if (k->type == KT_DURATION)
            snprintf(range, sizeof(range), "%llums..%llus", (unsigned long long)k->min,
                     (unsigned long long)(k->max / 1000));
        fprintf(out, "  %-18s %-20s %s%s%s\n", k->name,
                k->def ? (k->def[0] ? k->def : "(empty)") : "(required)", k->help,
                range[0] ? "  Allowed: " : "", range);
    }
}

void lw_config_print_keys(FILE *out)
{
    static const char *const sections[] = {"gateway", "radio", "mesh", "mqtt", "storage"};
    fprintf(out, "%-20s %-20s %s\n", "  key", "default", "meaning");
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        fprintf(out, "[%s]\n", sections[s]);
        print_table(out, scalar_keys, N_SCALAR, sections[s]);
    }
    fprintf(out, "[node:NAME]   (one section per node; NAME is its id)\n");
    print_table(out, node_keys, N_NODE, NULL);
    fprintf(out, "[rule:NAME]   (one section per rule)\n");
    print_table(out, rule_keys, N_RULE, NULL);
    print_table(out, &rule_direction_key, 1, NULL);
    lw_roster_print_keys(out);
}
