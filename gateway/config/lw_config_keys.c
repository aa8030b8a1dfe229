/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration's key tables: section, name, type, default, bounds and help of every key,
 * and the listing printed from them (--help-config). Apart from the parser so each stays a
 * readable size; lw_config_int.h shares them. */
#include "lw_config.h"

#include <stdio.h>
#include <string.h>

#include "lw_config_int.h"
#include "lw_roster.h"

static const char *const backend_names[] = {"sim", "udp-forwarder", "sx127x", "sx126x", NULL};
static const char *const region_names[] = {"CN470", "EU868", NULL};
static const char *const clock_names[] = {"system", "medium", NULL};
static const char *const log_names[] = {"err", "warning", "notice", "info", "debug", NULL};
const char *const lw_config_direction_names[] = {"above", "below", NULL};
const char *const lw_config_rule_type_names[] = {"threshold", "silence", "flag", "radio_fault",
                                                 NULL};
const char *const lw_config_statistic_names[] = {"value", "mean", "rise", "twa", "days_left", NULL};
static const char *const filter_names[] = {"none", "floodnet", NULL};
static const char *const coincidence_names[] = {"none", "building", "zone", NULL};
static const char *const flag_names[] = {"none", "fault", "tamper", "low_battery", NULL};
static const char *const tls_names[] = {"tlsv1.2", "tlsv1.3", NULL};

#define CF(f) offsetof(struct lw_config, f), sizeof(((struct lw_config *)0)->f)
#define NF(f) offsetof(struct lw_node_conf, f), sizeof(((struct lw_node_conf *)0)->f)
#define RF(f) offsetof(struct lw_rule_conf, f), sizeof(((struct lw_rule_conf *)0)->f)
#define DAY   (86400000ull)

const struct key lw_config_scalar_keys[] = {
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
     "MQTT client id; empty means lorawatchd-<site>. Each gateway on a broker needs its own."},
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

const struct key lw_config_node_keys[] = {
    {"node", "address", KT_U16, NF(address), NULL, 1, 0xFFFE, NULL,
     "16-bit node address in frames (1..0xFFFE), unique."},
    {"node", "eui", KT_HEX, NF(eui), NULL, 0, 0, NULL, "EUI-64 of the node, 16 hex digits."},
    {"node", "key", KT_HEX, NF(key), NULL, 0, 0, NULL, "128-bit node key, 32 hex digits."},
    {"node", "kind", KT_ENUM, NF(kind), NULL, 0, 0, lw_kind_names, "water|smoke|gas|co|multi."},
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

const struct key lw_config_rule_keys[] = {
    {"rule", "metric", KT_ENUM, RF(metric), "", 0, 0, lw_metric_names,
     "Reading the rule watches; required for type threshold."},
    {"rule", "threshold", KT_DOUBLE, RF(threshold), "", 0, 0, NULL,
     "Raise when the value (or statistic) reaches this; required for type threshold."},
    {"rule", "clear", KT_DOUBLE, RF(clear), "", 0, 0, NULL,
     "Clear when the value is back at or beyond this (hysteresis); required for type "
     "threshold."},
    {"rule", "level", KT_ENUM, RF(level), NULL, 0, 0, lw_level_names, "blue|yellow|orange|red."},
    {"rule", "hazard", KT_ENUM, RF(hazard), "", 0, 0, lw_hazard_names,
     "flood|fire|gas|trouble; default follows the metric."},
    {"rule", "kinds", KT_KINDS, RF(kinds), "", 0, 0, NULL,
     "Node kinds the rule applies to; default: kinds that report the metric."},
    {"rule", "tags", KT_STR, RF(tags), "", 0, 0, NULL,
     "Only nodes carrying all these place tags (comma-separated)."},
    {"rule", "except_tags", KT_STR, RF(except_tags), "", 0, 0, NULL,
     "Not for nodes carrying any of these tags (comma-separated)."},
    {"rule", "persistence", KT_DURATION, RF(persistence_ms), "0s", 0, DAY, NULL,
     "How long the threshold must hold before the alert is raised."},
    /* Rule kinds and statistics (docs/RULES.md); indices as RK_* (lw_config_int.h). */
    {"rule", "type", KT_ENUM, RF(type), "threshold", 0, 0, lw_config_rule_type_names,
     "threshold (a metric), silence (node not heard for timeout), flag (a bit of the reading's "
     "flags), radio_fault (the gateway's radio)."},
    {"rule", "statistic", KT_ENUM, RF(statistic), "value", 0, 0, lw_config_statistic_names,
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
_Static_assert(sizeof(lw_config_scalar_keys) / sizeof(lw_config_scalar_keys[0]) == N_SCALAR,
               "N_SCALAR must count lw_config_scalar_keys");
_Static_assert(sizeof(lw_config_node_keys) / sizeof(lw_config_node_keys[0]) == N_NODE,
               "N_NODE must count lw_config_node_keys");
_Static_assert(sizeof(lw_config_rule_keys) / sizeof(lw_config_rule_keys[0]) == N_RULE,
               "N_RULE must count lw_config_rule_keys (and RK_* follow them)");

/* Not a field of lw_rule_conf: lw_config.c parses it into the direction sign. */
const struct key lw_config_direction_key = {
    "rule",
    "direction",
    KT_ENUM,
    0,
    0,
    "above",
    0,
    0,
    lw_config_direction_names,
    "above: raise when value >= threshold; below: raise when value <= threshold."};

void lw_config_choices_text(const char *const *choices, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; choices[i]; i++) {
        if (i)
            strncat(out, ", ", cap - strlen(out) - 1);
        strncat(out, choices[i], cap - strlen(out) - 1);
    }
}

static void print_table(FILE *out, const struct key *tab, size_t n, const char *section)
{
    for (size_t i = 0; i < n; i++) {
        const struct key *k = &tab[i];
        if (section && strcmp(section, k->section) != 0)
            continue;
        char range[160] = "";
        if (k->choices)
            lw_config_choices_text(k->choices, range, sizeof(range));
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
        print_table(out, lw_config_scalar_keys, N_SCALAR, sections[s]);
    }
    fprintf(out, "[node:NAME]   (one section per node; NAME is its id)\n");
    print_table(out, lw_config_node_keys, N_NODE, NULL);
    fprintf(out, "[rule:NAME]   (one section per rule)\n");
    print_table(out, lw_config_rule_keys, N_RULE, NULL);
    print_table(out, &lw_config_direction_key, 1, NULL);
    lw_roster_print_keys(out);
}
