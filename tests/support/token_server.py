#!/usr/bin/env python3
"""A registry token service for tests (the distribution spec's token flow).

Issues RS256 JWTs signed with openssl, carrying the signing certificate in
x5c so docker-registry verifies them against its rootcertbundle. One user:
with the right Basic credentials every requested scope is granted; without
credentials (anonymous) no access is granted; wrong credentials get 401.

usage: token_server.py PORT_FILE KEY CERT USER PASSWORD ISSUER SERVICE
"""
import base64
import http.server
import json
import subprocess
import sys
import time
import urllib.parse
import uuid

port_file, key, cert, user, password, issuer, service = sys.argv[1:8]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_certificate():
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"], check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


X5C = der_certificate()


def sign(claims):
    header = {"alg": "RS256", "typ": "JWT", "x5c": [X5C]}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input.encode(),
                               check=True, capture_output=True).stdout
    return signing_input + "." + b64url(signature)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        authorised = False
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            given = base64.b64decode(header[6:]).decode(errors="replace")
            if given != f"{user}:{password}":
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"details":"invalid credentials"}')
                return
            authorised = True
        access = []
        if authorised:
            for scope in query.get("scope", []):
                parts = scope.split(":")
                if len(parts) >= 3:
                    access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
        now = int(time.time())
        token = sign({"iss": issuer, "sub": user if authorised else "", "aud": service, "exp": now + 300,
                      "nbf": now - 10, "iat": now, "jti": str(uuid.uuid4()), "access": access})
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stderr.write("token: " + (format % args) + "\n")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
