#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in MQTT 5 broker that does what mosquitto 2.0.15 and later, EMQX and HiveMQ do to a
client whose session another client took over: DISCONNECT with reason 0x8E, then close. Every
connection gets CONNACK, then that DISCONNECT after DELAY seconds. Prints one line per CONNECT
(with its protocol level) on stdout. Usage: fake_broker_takeover.py PORT [DELAY]"""
import socket
import sys
import threading
import time


def read_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError
        b += c
    return b


def read_packet(s):
    head = read_exact(s, 1)[0]
    mult, length = 1, 0
    while True:
        d = read_exact(s, 1)[0]
        length += (d & 0x7F) * mult
        mult *= 128
        if not d & 0x80:
            break
    return head, read_exact(s, length)


def serve(conn, delay):
    try:
        head, body = read_packet(conn)
        if head >> 4 != 1:
            return
        print("CONNECT protocol %d %.3f" % (body[6], time.time()), flush=True)
        conn.sendall(bytes([0x20, 3, 0, 0, 0]))  # CONNACK: success, no properties
        end = time.time() + delay
        conn.settimeout(0.05)
        while time.time() < end:  # read (and drop) what the client sends meanwhile
            try:
                if not conn.recv(4096):
                    return
            except socket.timeout:
                pass
        conn.sendall(bytes([0xE0, 2, 0x8E, 0]))  # DISCONNECT: session taken over
    except (EOFError, OSError):
        pass
    finally:
        conn.close()


def main():
    port = int(sys.argv[1])
    delay = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(8)
    print("listening", flush=True)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, delay), daemon=True).start()


main()
