#!/usr/bin/env python3
"""Runs the PreTraffic hook (hooks/pre_traffic.py) as CodeDeploy would, with
the real boto3 clients: Lambda's Invoke API is the local function's (`cargo
lambda watch` serves it), and CodeDeploy's is a stand-in on loopback that
records the status the hook reports (moto has no lifecycle hooks).

    hook_check.py --function-url http://127.0.0.1:9000 --origin http://localhost:5173 \
        --denied-origin http://127.0.0.1:1

Twice: from an allowed origin the hook must report Succeeded; from an origin
the function does not allow (a version whose CORS settings are wrong, as the
preflight check sees it) it must report Failed, naming the preflight.
Exits 1 otherwise.
"""
import argparse
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOOKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hooks")
sys.path.insert(0, HOOKS)

TARGET = "CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus"


def codedeploy_stand_in(reports):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            target = self.headers.get("X-Amz-Target")
            if target != TARGET:
                self.send_response(400)
                self.end_headers()
                return
            reports.append(body)
            out = json.dumps({"lifecycleEventHookExecutionId": body["lifecycleEventHookExecutionId"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--function-url", required=True, help="the local Lambda Invoke API (cargo lambda watch)")
    ap.add_argument("--function-name", default="bootstrap")
    ap.add_argument("--origin", required=True, help="an origin the function allows")
    ap.add_argument("--denied-origin", required=True, help="an origin it does not")
    args = ap.parse_args()

    reports = []
    server = codedeploy_stand_in(reports)
    os.environ.update({
        "AWS_ENDPOINT_URL_LAMBDA": args.function_url,
        "AWS_ENDPOINT_URL_CODEDEPLOY": f"http://127.0.0.1:{server.server_port}",
        "AWS_ACCESS_KEY_ID": "hook-check", "AWS_SECRET_ACCESS_KEY": "hook-check",
        "AWS_DEFAULT_REGION": "eu-west-3", "TARGET_FUNCTION": args.function_name,
    })
    import pre_traffic

    failed = 0
    for origin, want, failing in [(args.origin, "Succeeded", False), (args.denied_origin, "Failed", True)]:
        os.environ["PROBE_ORIGIN"] = origin
        event = {"DeploymentId": f"d-{uuid.uuid4().hex[:9].upper()}",
                 "LifecycleEventHookExecutionId": uuid.uuid4().hex}
        answer = pre_traffic.handler(event, None)
        got = reports[-1] if reports else {}
        ok = (got.get("status") == want
              and got.get("deploymentId") == event["DeploymentId"]
              and got.get("lifecycleEventHookExecutionId") == event["LifecycleEventHookExecutionId"]
              # A refused origin fails the preflight first (and every check
              # that wants CORS headers after it).
              and bool(answer["failures"]) == failing
              and (not failing or answer["failures"][0].startswith("preflight")))
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} hook from {origin}: reported {got.get('status')!r} "
              f"(want {want!r}), failed checks {answer['failures']}")
    server.shutdown()
    print(f"pre-traffic hook: {2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
