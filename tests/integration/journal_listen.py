#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Stand-in for journald's native socket: binds a Unix datagram socket and prints every entry it
receives as one JSON object per line (field name -> value), decoding the native journal protocol
(KEY=value lines, and KEY\\n<64-bit little-endian length><bytes>\\n for values with newlines).
usage: journal_listen.py SOCKET_PATH  (stops on SIGTERM)"""
import json
import os
import socket
import struct
import sys


def parse(data):
    fields, i = {}, 0
    while i < len(data):
        nl = data.find(b"\n", i)
        if nl < 0:
            raise ValueError("entry does not end with a newline")
        line = data[i:nl]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            i = nl + 1
        else:  # binary-safe field
            key = line
            (size,) = struct.unpack_from("<Q", data, nl + 1)
            start = nl + 1 + 8
            value = data[start:start + size]
            if data[start + size:start + size + 1] != b"\n":
                raise ValueError("binary field %r not followed by a newline" % key)
            i = start + size + 1
        fields[key.decode()] = value.decode("utf-8", "replace")
    return fields


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: journal_listen.py SOCKET_PATH")
    path = sys.argv[1]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    while True:
        data = s.recv(1 << 20)
        try:
            print(json.dumps(parse(data)), flush=True)
        except (ValueError, struct.error) as e:
            print(json.dumps({"_MALFORMED": str(e)}), flush=True)


if __name__ == "__main__":
    main()
