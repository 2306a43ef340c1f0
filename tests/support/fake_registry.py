#!/usr/bin/env python3
"""A scripted HTTP server standing in for a misbehaving registry in tests.

ROUTES is a JSON file: {"METHOD /path": {"status": 500, "headers": {...},
"body": "text" | "body_size": N}, ...}. Unlisted paths answer 404 with a
registry-style error. Every request is appended to PORT_FILE.log.

usage: fake_registry.py PORT_FILE ROUTES
"""
import http.server
import json
import os
import sys

port_file, routes_file = sys.argv[1:3]
with open(routes_file) as f:
    ROUTES = json.load(f)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        with open(port_file + ".log", "a") as log:
            log.write(f"{self.command} {self.path}\n")
        route = ROUTES.get(f"{self.command} {self.path}")
        if route is None:
            route = {"status": 404, "headers": {"Content-Type": "application/json"},
                     "body": '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}'}
        if "body_size" in route:
            body = b"{" + b" " * (route["body_size"] - 2) + b"}"
        else:
            body = route.get("body", "").encode()
        self.send_response(route["status"])
        for name, value in route.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = answer

    def log_message(self, format, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
