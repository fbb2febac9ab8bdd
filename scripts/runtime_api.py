#!/usr/bin/env python3
"""A stand-in for the Lambda Runtime API: starts a function binary with
AWS_LAMBDA_RUNTIME_API pointing here, feeds it events, and measures it.

    runtime_api.py --binary target/release/bootstrap --events events.jsonl \
        [--repeat N] [--stdout FILE] [--env K=V ...] [--wrapper CMD] [--pause-before N=SECONDS]

Each line of --events is one invocation payload (JSON); with --repeat the
last line is sent N more times (warm invocations). Prints one JSON report:
init_ms (exec -> first `next`), each invocation's latency (event handed out
-> response received), the responses, the process's peak RSS (VmHWM), and
its CPU time (user + system, all threads, from /proc/PID/task/*/schedstat)
when it first asks for an event, after each invocation and at the end,
each read while it waits in `next`, so a whole loop is counted.
The binary's stdout goes to --stdout (default: discarded).
"""
import argparse
import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


class State:
    def __init__(self):
        self.events = queue.Queue()
        self.responses = queue.Queue()
        self.first_next = None
        self.nexts = 0
        self.handed_out = {}
        self.lock = threading.Lock()


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Without this every response waits on Nagle + delayed ACK (~40 ms).
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _reply(self, status, body=b"", headers=()):
            # Head and body in one write, as Lambda's Runtime API answers. Two
            # writes let the runtime's client read the head alone now and
            # then, and its pool, not yet holding the connection back, opens
            # a new one for the next `next`: ~10 system calls an invocation
            # that depended on timing, not on the binary measured.
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()

        def do_GET(self):
            if self.path != f"{PREFIX}/invocation/next":
                return self._reply(404)
            with state.lock:
                if state.first_next is None:
                    state.first_next = time.perf_counter()
                state.nexts += 1
            payload = state.events.get()
            if payload is None:  # shutdown
                return self._reply(500, b"{}")
            request_id = str(uuid.uuid4())
            state.handed_out[request_id] = time.perf_counter()
            deadline = int(time.time() * 1000) + 30_000
            self._reply(200, payload, [
                ("Content-Type", "application/json"),
                ("Lambda-Runtime-Aws-Request-Id", request_id),
                ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-3:123456789012:function:verify"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])

        def do_POST(self):
            size = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(size)
            now = time.perf_counter()
            parts = self.path[len(PREFIX):].strip("/").split("/")
            if parts[:1] == ["invocation"] and len(parts) == 3:
                request_id, kind = parts[1], parts[2]
                started = state.handed_out.pop(request_id, now)
                state.responses.put((kind, now - started, body))
                return self._reply(202, b'{"status":"OK"}')
            if parts == ["init", "error"]:
                state.responses.put(("init-error", 0.0, body))
                return self._reply(202, b'{"status":"OK"}')
            return self._reply(404)

    return Handler


def peak_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_ns(pid):
    """On-CPU time of every thread of `pid`, in nanoseconds (schedstat's
    first field: exact, unlike /proc/PID/stat's 10 ms ticks)."""
    total = 0
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
    except OSError:
        pass
    return total


def wait_for_next(state, count, timeout):
    """Until the function has asked for its `count`-th event: it is idle."""
    deadline = time.time() + timeout
    while True:
        with state.lock:
            if state.nexts >= count:
                return
        if time.time() > deadline:
            sys.exit("the function did not come back for the next event")
        time.sleep(0.0001)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--wrapper", default="", help="a command the binary runs under, e.g. 'qemu-aarch64 -L /usr/aarch64-linux-gnu'")
    ap.add_argument("--events", required=True)
    ap.add_argument("--repeat", type=int, default=0)
    ap.add_argument("--stdout", default=os.devnull)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--pause-before", action="append", default=[], metavar="N=SECONDS",
                    help="wait this long before handing out invocation N (1-based): an idle gap")
    args = ap.parse_args()

    with open(args.events) as f:
        events = [line.strip().encode() for line in f if line.strip()]
    if not events:
        sys.exit("no events")

    state = State()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()

    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_port}",
        "AWS_LAMBDA_FUNCTION_NAME": "verify",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/verify",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
    })
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v

    report = {"invocations": []}
    with open(args.stdout, "wb") as out:
        report["exec_epoch_us"] = time.time_ns() // 1000
        t0 = time.perf_counter()
        proc = subprocess.Popen(shlex.split(args.wrapper) + [args.binary], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + args.timeout
            while state.first_next is None:
                if proc.poll() is not None:
                    sys.exit(f"the function exited with {proc.returncode} before asking for an event")
                if time.time() > deadline:
                    sys.exit("the function never asked for an event")
                time.sleep(0.0002)
            report["init_ms"] = (state.first_next - t0) * 1000
            report["first_next_epoch_us"] = report["exec_epoch_us"] + int((state.first_next - t0) * 1e6)
            report["cpu_ms_at_first_next"] = cpu_ns(proc.pid) / 1e6
            schedule = events + [events[-1]] * args.repeat
            pauses = {int(k): float(v) for k, v in (p.split("=", 1) for p in args.pause_before)}
            for n, payload in enumerate(schedule, start=1):
                time.sleep(pauses.get(n, 0.0))
                state.events.put(payload)
                try:
                    kind, seconds, body = state.responses.get(timeout=args.timeout)
                except queue.Empty:
                    sys.exit("no response in time")
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                report["invocations"].append({
                    "kind": kind,
                    "ms": seconds * 1000,
                    "statusCode": parsed.get("statusCode") if isinstance(parsed, dict) else None,
                    "body": parsed.get("body") if isinstance(parsed, dict) else body.decode(errors="replace"),
                    "response": parsed,
                })
                # Once it asks for the next event it is idle: its CPU so far.
                wait_for_next(state, n + 1, args.timeout)
                report["invocations"][-1]["cpu_ms_after"] = cpu_ns(proc.pid) / 1e6
                if n == 1:
                    report["cpu_ms_after_first"] = report["invocations"][-1]["cpu_ms_after"]
            report["cpu_ms_end"] = cpu_ns(proc.pid) / 1e6
            report["peak_rss_kb"] = peak_rss_kb(proc.pid)
        finally:
            # Under a wrapper that forks (strace), stop the function itself:
            # the wrapper then exits by itself and writes its report.
            try:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                children = []
            for child in children:
                try:
                    os.kill(child, signal.SIGTERM)
                except OSError:
                    pass
            if not children:
                proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
            state.events.put(None)
            server.shutdown()
    json.dump(report, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
