#!/usr/bin/env python3
"""Read-only checks against a live stage (or the local function): routing,
CORS and the error format, without writing any data — no request carries a
valid token.

    smoke.py --url https://{api}.execute-api.eu-west-3.amazonaws.com/main [--origin https://app.example.com]
    smoke.py --stack-name intervention-verify     (reads the stack's ApiBaseUrl output)

Prints one line per check; exits 1 if any check fails.
"""
import argparse
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "hooks"))
import checks  # noqa: E402  (the checks the PreTraffic hook runs too)


def request(method, url, headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def stack_outputs(stack_name, region):
    import boto3  # in .venv (moto's dependency); only needed with --stack-name

    cf = boto3.client("cloudformation", region_name=region)
    stack = cf.describe_stacks(StackName=stack_name)["Stacks"][0]
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}, params


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="the stage's base URL (…/main) or a local function's")
    ap.add_argument("--stack-name")
    ap.add_argument("--region", default="eu-west-3")
    ap.add_argument("--origin", help="an allowed origin (default: the first of the stack's AllowedOrigins)")
    args = ap.parse_args()
    origin = args.origin
    base = args.url
    if args.stack_name:
        outputs, params = stack_outputs(args.stack_name, args.region)
        base = base or outputs["ApiBaseUrl"]
        if not origin:
            first = params.get("AllowedOrigins", "*").split(",")[0].strip()
            origin = "https://smoke-check.example" if first == "*" else first
    if not base:
        ap.error("give --url or --stack-name")
    origin = origin or "https://smoke-check.example"
    base = base.rstrip("/")
    results = []
    for check in checks.checks(origin):
        body = check.body.encode() if check.body else None
        detail = check.expect(*request(check.method, base + check.path, check.headers, body))
        results.append(detail is None)
        print(f"{'ok  ' if detail is None else 'FAIL'} {check.name}{'' if detail is None else ' — ' + detail}")

    failed = results.count(False)
    print(f"smoke: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
