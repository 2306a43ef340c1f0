#!/usr/bin/env python3
"""A TCP proxy that slows the answers of TARGET to RATE bytes per second,
so tests can interrupt a download half-way. Counts the bytes it relayed
to clients in PORT_FILE.bytes.

usage: throttle_proxy.py PORT_FILE TARGET_HOST TARGET_PORT RATE
"""
import os
import socket
import sys
import threading
import time

port_file, target_host, target_port, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
relayed = 0
lock = threading.Lock()


def pump(source, sink, throttle):
    global relayed
    chunk = 16384
    try:
        while True:
            data = source.recv(chunk)
            if not data:
                break
            sink.sendall(data)
            if throttle:
                with lock:
                    relayed += len(data)
                    with open(port_file + ".bytes", "w") as f:
                        f.write(str(relayed))
                time.sleep(len(data) / rate)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    upstream = socket.create_connection((target_host, target_port))
    threading.Thread(target=pump, args=(client, upstream, False), daemon=True).start()
    threading.Thread(target=pump, args=(upstream, client, True), daemon=True).start()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
with open(port_file + ".tmp", "w") as f:
    f.write(str(listener.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
