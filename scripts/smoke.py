#!/usr/bin/env python3
"""Read-only checks against a live stage (or the local function): routing,
CORS and the error format, without writing any data — no request carries a
valid token.

    smoke.py --url https://{api}.execute-api.eu-west-3.amazonaws.com/main [--origin https://app.example.com]
    smoke.py --stack-name intervention-verify     (reads the stack's ApiBaseUrl output)

Prints one line per check; exits 1 if any check fails.
"""
import argparse
import json
import sys
import urllib.error
import urllib.request

ROUTE = "/interventions/v2/rs/{id}/verify"
# A real intervention id is not needed: every check stops before storage.
PROBE_ID = "1"
FORGED = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
          "eyJzdWIiOiI0MiIsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGUiOiJpbnRlcnZlbnRpb25zOnZlcmlmeSJ9."
          "c21va2UtY2hlY2stZm9yZ2VkLXNpZ25hdHVyZQ")


def request(method, url, headers=None, body=None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=body)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def header(headers, name):
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


def problem(headers, body):
    if (header(headers, "content-type") or "").split(";")[0].strip() != "application/problem+json":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


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
    url = base + ROUTE.format(id=PROBE_ID)

    results = []

    def check(name, ok, detail):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}{'' if ok else ' — ' + detail}")

    status, h, _ = request("OPTIONS", url, {
        "Origin": origin, "Access-Control-Request-Method": "PATCH",
        "Access-Control-Request-Headers": "authorization,content-type,x-session-token"})
    allow_origin = header(h, "access-control-allow-origin")
    check(f"preflight from {origin} -> 204 with Access-Control-Allow-Origin",
          status == 204 and allow_origin in (origin, "*")
          and "PATCH" in (header(h, "access-control-allow-methods") or ""),
          f"{status}, allow-origin {allow_origin!r}, allow-methods {header(h, 'access-control-allow-methods')!r}")

    status, h, body = request("GET", url, {"Origin": origin})
    p = problem(h, body)
    check("GET -> 405 problem+json with Allow",
          status == 405 and p is not None and p.get("code") == "method_not_allowed"
          and "PATCH" in (header(h, "allow") or ""),
          f"{status}, allow {header(h, 'allow')!r}, body {body[:200]!r}")

    json_body = json.dumps({"decisionComment": "smoke check", "decision": 1}).encode()
    status, h, body = request("PATCH", url, {"Origin": origin, "Content-Type": "application/json"}, json_body)
    p = problem(h, body)
    check("PATCH without tokens -> 401 with WWW-Authenticate",
          status == 401 and (header(h, "www-authenticate") or "").startswith("Bearer")
          and p is not None and p.get("requestId") and header(h, "access-control-allow-origin") in (origin, "*"),
          f"{status}, www-authenticate {header(h, 'www-authenticate')!r}, body {body[:200]!r}")

    status, h, body = request("PATCH", url, {
        "Origin": origin, "Content-Type": "application/json",
        "Authorization": f"Bearer {FORGED}", "x-session-token": FORGED}, json_body)
    p = problem(h, body)
    check("PATCH with a forged token -> 401 invalid_token",
          status == 401 and 'error="invalid_token"' in (header(h, "www-authenticate") or "")
          and p is not None and p.get("code") == "invalid_access_token",
          f"{status}, www-authenticate {header(h, 'www-authenticate')!r}, body {body[:200]!r}")

    status, h, body = request("GET", base + "/no-such-route", {"Origin": origin})
    check("unknown path -> the gateway's 4xx, not a 2xx or 5xx",
          400 <= status < 500,
          f"{status}, body {body[:200]!r}")

    failed = results.count(False)
    print(f"smoke: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
