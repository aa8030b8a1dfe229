#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Attacker on the simulated radio medium for the attack tests (70-79): records genuine
datagrams, replays them (directly or with a forged relay hop), sends every bit flip and
truncation of a recorded frame, and floods the gateway with frames and join requests of unknown
nodes. Datagrams are lw_simwire (proto/PROTOCOL.md section 11); frames are never sealed here:
an attacker has no key, so everything it sends is either a copy or a forgery.

  attack_udp.py capture PORT FILE COUNT        record COUNT datagrams sent to 127.0.0.1:PORT
  attack_udp.py send PORT FILE [--lines A:B] [--relay ADDR:SNR]... [--rate R]
  attack_udp.py bitflips PORT FILE LINE         every single-bit flip of that line's frame
  attack_udp.py truncations PORT FILE LINE      the frame cut to every shorter length (1..n-1)
  attack_udp.py oversize PORT FILE LINE         padded to 255 bytes, and a datagram declaring 300
  attack_udp.py flood-data PORT COUNT [--rate R] [--net N]
  attack_udp.py flood-join PORT COUNT [--rate R] [--eui HEX] [--net N]
Each sending command prints the number of datagrams sent.
"""
import argparse
import os
import random
import socket
import struct
import sys
import time

HDR = struct.Struct("<4sBBBBIIhhQH")  # magic, version, kind, sf, reserved, freq, bw, rssi, snr, t_ms, len
AIR = 1


def wire(payload, t_ms=0, declared=None):
    n = len(payload) if declared is None else declared
    return HDR.pack(b"LWSM", 1, AIR, 9, 0, 470300000, 125000, -900, 70, t_ms, n) + payload


def unwire(d):
    f = HDR.unpack_from(d)
    return f, d[HDR.size:]


def load(path):
    with open(path) as fh:
        return [bytes.fromhex(l.strip()) for l in fh if l.strip()]


class Sender:
    """Sends to the daemon at about `rate` datagrams per second (0: as fast as possible)."""

    def __init__(self, port, rate=0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.addr = ("127.0.0.1", port)
        self.rate = rate
        self.n = 0
        self.t0 = time.monotonic()

    def send(self, d):
        self.s.sendto(d, self.addr)
        self.n += 1
        if self.rate and self.n % 50 == 0:
            ahead = self.n / self.rate - (time.monotonic() - self.t0)
            if ahead > 0:
                time.sleep(ahead)

    def done(self):
        print(self.n)


def add_hop(frame, relay, snr):
    """What a relay does (PROTOCOL.md 8.1): hop_count + 1 and a route entry after the frame."""
    f = bytearray(frame)
    hops = (f[1] >> 5) + 1
    f[1] = (hops << 5) | (f[1] & 0x1F)
    return bytes(f) + struct.pack("<Hb", relay, snr)


def cmd_capture(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", a.port))
    s.settimeout(a.timeout)
    with open(a.file, "w") as out:
        for _ in range(a.count):
            try:
                d, _ = s.recvfrom(2048)
            except socket.timeout:
                break
            out.write(d.hex() + "\n")
            out.flush()


def cmd_send(a):
    grams = load(a.file)
    lo, hi = 0, len(grams)
    if a.lines:
        x, y = a.lines.split(":")
        lo, hi = int(x) - 1, int(y)
    tx = Sender(a.port, a.rate)
    for d in grams[lo:hi]:
        f, payload = unwire(d)
        for r in a.relay or []:
            addr, snr = r.split(":")
            payload = add_hop(payload, int(addr, 0), int(snr))
        tx.send(wire(payload, f[9]))
    tx.done()


def one(a):
    d = load(a.file)[a.line - 1]
    return unwire(d)


def cmd_bitflips(a):
    f, frame = one(a)
    tx = Sender(a.port, a.rate)
    for i in range(len(frame) * 8):
        b = bytearray(frame)
        b[i // 8] ^= 1 << (i % 8)
        tx.send(wire(bytes(b), f[9]))
    tx.done()


def cmd_truncations(a):
    f, frame = one(a)
    tx = Sender(a.port, a.rate)
    for n in range(1, len(frame)):
        tx.send(wire(frame[:n], f[9]))
    tx.done()


def cmd_oversize(a):
    f, frame = one(a)
    tx = Sender(a.port, a.rate)
    rnd = random.Random(9)
    pad = bytes(rnd.randrange(256) for _ in range(255 - len(frame)))
    tx.send(wire(frame + pad, f[9]))  # a 255-byte frame: the genuine one with junk after its MIC
    big = frame + pad + bytes(45)
    tx.send(wire(big, f[9]))  # 300 payload bytes: more than any LoRa packet
    tx.done()


def cmd_flood_data(a):
    rnd = random.Random(a.seed)
    tx = Sender(a.port, a.rate)
    for _ in range(a.count):
        src = rnd.randrange(0x8000, 0xFFFE)  # the tests keep their nodes below 0x8000
        body = bytes(rnd.randrange(256) for _ in range(rnd.randrange(8, 40)))
        frame = struct.pack("<BBHHHI", 0x11, 0x0C, a.net, src, 0, rnd.randrange(1, 1 << 32)) + body
        tx.send(wire(frame))
    tx.done()


def cmd_flood_join(a):
    rnd = random.Random(a.seed)
    eui = bytes.fromhex(a.eui) if a.eui else None
    tx = Sender(a.port, a.rate)
    for _ in range(a.count):
        e = eui or bytes(rnd.randrange(256) for _ in range(8))
        mic = bytes(rnd.randrange(256) for _ in range(8))
        frame = struct.pack("<BBHHHI", 0x13, 0x0C, a.net, 0xFFFF, 0, rnd.randrange(1, 1 << 32)) + e + mic
        tx.send(wire(frame))
    tx.done()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("port", type=int)
    c.add_argument("file")
    c.add_argument("count", type=int)
    c.add_argument("--timeout", type=float, default=20)
    c.set_defaults(fn=cmd_capture)
    c = sub.add_parser("send")
    c.add_argument("port", type=int)
    c.add_argument("file")
    c.add_argument("--lines")
    c.add_argument("--relay", action="append")
    c.add_argument("--rate", type=float, default=0)
    c.set_defaults(fn=cmd_send)
    for name, fn in (("bitflips", cmd_bitflips), ("truncations", cmd_truncations), ("oversize", cmd_oversize)):
        c = sub.add_parser(name)
        c.add_argument("port", type=int)
        c.add_argument("file")
        c.add_argument("line", type=int)
        c.add_argument("--rate", type=float, default=2000)
        c.set_defaults(fn=fn)
    for name, fn in (("flood-data", cmd_flood_data), ("flood-join", cmd_flood_join)):
        c = sub.add_parser(name)
        c.add_argument("port", type=int)
        c.add_argument("count", type=int)
        c.add_argument("--rate", type=float, default=0)
        c.add_argument("--net", type=lambda v: int(v, 0), default=0x4C57)
        c.add_argument("--eui")
        c.add_argument("--seed", type=int, default=1)
        c.set_defaults(fn=fn)
    a = p.parse_args()
    a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
