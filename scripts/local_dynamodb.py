#!/usr/bin/env python3
"""The local DynamoDB engine for `make dev` and the tests: moto's WSGI app,
served by waitress (HTTP/1.1 keep-alive, as DynamoDB serves), with

* one lock around each DynamoDB request. moto checks a condition and then writes, one
  thread per request, with nothing in between: two concurrent conditional
  writes to one item can both pass, which DynamoDB never allows. Serialising
  requests restores DynamoDB's per-item isolation, so a race test measures the
  function and not the engine.
* a small fault injector and request counter under `/_local/` (tests only):
  POST /_local/faults {"code": "...", "count": n, "status": 400, "delay_ms": d, "delay_table": t}
  answers the next n DynamoDB requests with that error (or delays every request
  by d ms); GET /_local/stats counts requests by operation; POST
  /_local/stats/reset zeroes it. Secrets Manager reads are also counted per
  secret id ("GetSecretValue <id>").

Prints `READY <port>` once listening. With --parent-pid it exits when that
process is gone, so a test run never leaves an engine behind.
"""
import argparse
import io
import json
import os
import sys
import threading
import time

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress.server import create_server

ERROR_TYPES = {
    "ProvisionedThroughputExceededException": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
    "ThrottlingException": "com.amazon.coral.availability#ThrottlingException",
    "TransactionConflictException": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
    "RequestLimitExceeded": "com.amazonaws.dynamodb.v20120810#RequestLimitExceeded",
    "InternalServerError": "com.amazonaws.dynamodb.v20120810#InternalServerError",
}


class LocalEngine:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.state_lock = threading.Lock()
        self.faults = {"code": None, "count": 0, "status": 400, "delay_ms": 0, "delay_table": None}
        self.stats = {}

    def _json(self, start_response, status, body):
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def _control(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD")
        with self.state_lock:
            if path == "/_local/faults" and method == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                spec = json.loads(environ["wsgi.input"].read(size) or b"{}")
                self.faults = {
                    "code": spec.get("code"),
                    "count": int(spec.get("count", 0)),
                    "status": int(spec.get("status", 400)),
                    "delay_ms": int(spec.get("delay_ms", 0)),
                    # Only requests on this table are delayed, when set.
                    "delay_table": spec.get("delay_table"),
                }
                return self._json(start_response, "200 OK", self.faults)
            if path == "/_local/stats" and method == "GET":
                return self._json(start_response, "200 OK", self.stats)
            if path == "/_local/stats/reset" and method == "POST":
                self.stats = {}
                return self._json(start_response, "200 OK", {})
        return self._json(start_response, "404 Not Found", {"error": "unknown control path"})

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/_local/"):
            return self._control(environ, start_response)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1] if target else "other"
        keys = [operation]
        if operation == "GetSecretValue":
            # Counted per secret too, so a test sees its own reads only.
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                keys.append(f"GetSecretValue {json.loads(body).get('SecretId')}")
            except ValueError:
                pass
        with self.state_lock:
            for key in keys:
                self.stats[key] = self.stats.get(key, 0) + 1
            delay = self.faults["delay_ms"]
            fault = None
            if self.faults["count"] > 0 and self.faults["code"]:
                self.faults["count"] -= 1
                fault = (self.faults["code"], self.faults["status"])
        if delay and self.faults["delay_table"]:
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size)
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                if json.loads(body).get("TableName") != self.faults["delay_table"]:
                    delay = 0
            except ValueError:
                delay = 0
        if delay:
            time.sleep(delay / 1000)
        if fault:
            code, status = fault
            # Drain the request body so the connection stays usable.
            size = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"].read(size)
            body = {"__type": ERROR_TYPES.get(code, code), "message": "injected by the local engine"}
            data = json.dumps(body).encode()
            reason = "Bad Request" if status == 400 else "Service Unavailable"
            start_response(f"{status} {reason}", [
                ("Content-Type", "application/x-amz-json-1.0"),
                ("Content-Length", str(len(data))),
            ])
            return [data]
        if not target.startswith("DynamoDB_"):
            # Secrets Manager needs no isolation, and in AWS it does not wait
            # on DynamoDB: the function's start-up reads run side by side.
            return [b"".join(self.app(environ, start_response))]
        with self.lock:
            # Consume the whole response inside the lock: moto builds it lazily.
            return [b"".join(self.app(environ, start_response))]


def watch_parent(pid):
    while True:
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    # Not werkzeug's dev server: it answers `Connection: close` to every
    # request whatever its protocol version, so each DynamoDB call would open
    # a new connection (and, behind TLS, a new handshake) and the warm
    # connection the function keeps could not be measured. waitress keeps
    # HTTP/1.1 connections open.
    server = create_server(
        LocalEngine(app), host=args.host, port=args.port, threads=8,
        ident="local-dynamodb", clear_untrusted_proxy_headers=True,
    )
    if args.parent_pid:
        threading.Thread(target=watch_parent, args=(args.parent_pid,), daemon=True).start()
    print(f"READY {server.effective_port}", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
