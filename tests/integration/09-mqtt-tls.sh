#!/usr/bin/env bash
# MQTT over TLS: a mosquitto that requires TLS, a client certificate and a password; lorawatchd
# connects with its CA, certificate, key and credentials, and its status reaches a TLS subscriber.
# A daemon trusting the wrong CA never connects, keeps retrying and still stops cleanly; a
# certificate without its key is a configuration error at its line.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/common.sh"
cd "$WORK"

ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" 2>/dev/null; }
ec -x509 -keyout ca.key -out ca.crt -days 2 -subj "/CN=lorawatch test CA"
ec -x509 -keyout other-ca.key -out other-ca.crt -days 2 -subj "/CN=somebody else"
for who in server client; do
  ec -keyout "$who.key" -out "$who.csr" -subj "/CN=$who"
  openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') -out "$who.crt" 2>/dev/null
done
chmod 600 ./*.key
[ -s server.crt ] && [ -s client.crt ] || fail "test certificates not generated"

PORT=$(lw_free_port tcp)
mosquitto_passwd -c -b passwd lorawatchd gateway-secret
mosquitto_passwd -b passwd phone phone-secret
# "user root": a broker started as root would otherwise drop to the mosquitto user before
# reading the key in our private directory (the setting is ignored when not run as root).
cat >mosquitto.conf <<EOC
user root
per_listener_settings false
allow_anonymous false
password_file $WORK/passwd
listener $PORT 127.0.0.1
cafile $WORK/ca.crt
certfile $WORK/server.crt
keyfile $WORK/server.key
require_certificate true
EOC
lw_spawn broker mosquitto.log mosquitto -c mosquitto.conf
lw_wait_for 10 lw_tcp_listening "$PORT" || fail "TLS broker did not start"

conf() { # conf CA_FILE NAME [extra lines]
  {
    printf '[gateway]\nsite = tls\ndatabase = %s/%s.db\n' "$WORK" "$2"
    printf '[radio]\nsim_listen = 127.0.0.1:%s\n' "$(lw_free_port udp)"
    printf '[mqtt]\nhost = 127.0.0.1\nport = %s\nusername = lorawatchd\npassword = gateway-secret\n' "$PORT"
    printf 'tls_ca_file = %s\ntls_cert_file = %s/client.crt\ntls_key_file = %s/client.key\n' \
      "$1" "$WORK" "$WORK"
    printf 'reconnect_min = 200ms\nreconnect_max = 1s\n'
  } >"$2.conf"
  chmod 600 "$2.conf"
}

lw_spawn sub sub.log mosquitto_sub -h 127.0.0.1 -p "$PORT" --cafile ca.crt --cert client.crt \
  --key client.key -u phone -P phone-secret -v -t 'lorawatch/tls/gateway/status'
conf "$WORK/ca.crt" good
lw_start_daemon good.conf
lw_wait_for 10 grep -q '"state":"online"' sub.log || fail "no status over TLS"
grep -q 'mqtt: TLS (tlsv1.2) with CA' lorawatchd.log || fail "TLS not announced in the log"
grep -q 'gateway-secret' lorawatchd.log && fail "password written to the log"
lw_stop_daemon
pass "TLS with client certificate and password: status delivered; secret not logged"

conf "$WORK/other-ca.crt" wrong
tries() { grep -c 'New connection from' mosquitto.log || true; }
before=$(tries)
lw_start_daemon wrong.conf
# reconnect_min 200ms, reconnect_max 1s: a new attempt at least every 2 s (the 1 s backoff plus
# the 1 s timer that starts it), so 4 more within 8 s.
lw_wait_for 8 sh -c "[ \$(grep -c 'New connection from' mosquitto.log) -ge $((before + 4)) ]" ||
  fail "daemon gave up retrying: $(($(tries) - before)) connection attempts in 8 s"
grep -q 'mqtt: connected' lorawatchd.log && fail "connected to a broker signed by an untrusted CA"
kill -0 "$LW_DAEMON_PID" || fail "daemon died on a TLS failure"
lw_stop_daemon
pass "untrusted broker certificate: never connected, kept retrying ($(($(tries) - before)) attempts), stopped cleanly"

conf "$WORK/ca.crt" nokey
sed -i '/^tls_key_file/d' nokey.conf
rc=0; "$LW_BIN/lorawatchd" -n -f nokey.conf >nokey.log 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q 'nokey.conf:[0-9]*: \[mqtt\] tls_cert_file: needs tls_key_file too' nokey.log ||
  fail "certificate without key not reported at its line"
pass "certificate without key: rejected at file:line"
lw_validate_captured "$WORK/sub.log"
