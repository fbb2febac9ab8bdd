"""The read-only checks, written once and run three ways:

- over HTTP against a stage or the local function (scripts/smoke.py);
- by invoking a new function version with API Gateway proxy events, before
  CodeDeploy shifts any traffic to it (hooks/pre_traffic.py);
- against the arm64 artifact under emulation (scripts/test_artifact.py).

No check writes data: no request carries a valid token, and every one is
answered before storage is touched.
"""
import json

ROUTE = "/interventions/v2/rs/{interventionId}/verify"
# A real intervention id is not needed: every check stops before storage.
PROBE_ID = "1"
FORGED = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
          "eyJzdWIiOiI0MiIsImV4cCI6NDEwMjQ0NDgwMCwic2NvcGUiOiJpbnRlcnZlbnRpb25zOnZlcmlmeSJ9."
          "c21va2UtY2hlY2stZm9yZ2VkLXNpZ25hdHVyZQ")
BODY = json.dumps({"decisionComment": "smoke check", "decision": 1})


def header(headers, name):
    return next((v for k, v in (headers or {}).items() if k.lower() == name.lower()), None)


def problem(headers, body):
    """The problem+json document of an answer, or None."""
    if (header(headers, "content-type") or "").split(";")[0].strip() != "application/problem+json":
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


class Check:
    """One request and what its answer must be. `expect(status, headers,
    body)` returns None when the answer is right, else what is wrong."""

    def __init__(self, name, method, headers, body, expect, path=None, gateway_only=False,
                 intervention_id=PROBE_ID):
        self.name, self.method, self.headers, self.body = name, method, headers, body
        self.expect, self.gateway_only = expect, gateway_only
        self.intervention_id = intervention_id
        self.path = path or ROUTE.replace("{interventionId}", intervention_id)


def _allowed(origin, headers):
    return header(headers, "access-control-allow-origin") in (origin, "*")


def checks(origin):
    """The checks for a caller from `origin` (an allowed origin)."""

    def preflight(status, h, _):
        if status == 204 and _allowed(origin, h) and "PATCH" in (header(h, "access-control-allow-methods") or ""):
            return None
        return (f"{status}, allow-origin {header(h, 'access-control-allow-origin')!r}, "
                f"allow-methods {header(h, 'access-control-allow-methods')!r}")

    def get(status, h, body):
        p = problem(h, body)
        if status == 405 and p and p.get("code") == "method_not_allowed" and "PATCH" in (header(h, "allow") or ""):
            return None
        return f"{status}, allow {header(h, 'allow')!r}, body {body[:200]!r}"

    def no_tokens(status, h, body):
        p = problem(h, body)
        if (status == 401 and (header(h, "www-authenticate") or "").startswith("Bearer")
                and p and p.get("requestId") and _allowed(origin, h)):
            return None
        return f"{status}, www-authenticate {header(h, 'www-authenticate')!r}, body {body[:200]!r}"

    def forged(status, h, body):
        p = problem(h, body)
        if (status == 401 and 'error="invalid_token"' in (header(h, "www-authenticate") or "")
                and p and p.get("code") == "invalid_access_token"):
            return None
        return f"{status}, www-authenticate {header(h, 'www-authenticate')!r}, body {body[:200]!r}"

    def unknown_route(status, _h, body):
        return None if 400 <= status < 500 else f"{status}, body {body[:200]!r}"

    json_headers = {"Origin": origin, "Content-Type": "application/json"}
    return [
        Check(f"preflight from {origin} -> 204 with Access-Control-Allow-Origin", "OPTIONS",
              {"Origin": origin, "Access-Control-Request-Method": "PATCH",
               "Access-Control-Request-Headers": "authorization,content-type,x-session-token"},
              None, preflight),
        Check("GET -> 405 problem+json with Allow", "GET", {"Origin": origin}, None, get),
        Check("PATCH without tokens -> 401 with WWW-Authenticate", "PATCH", json_headers, BODY, no_tokens),
        Check("PATCH with a forged token -> 401 invalid_token", "PATCH",
              {**json_headers, "Authorization": f"Bearer {FORGED}", "x-session-token": FORGED}, BODY, forged),
        # Answered by the gateway, which a direct invocation does not pass.
        Check("unknown path -> the gateway's 4xx, not a 2xx or 5xx", "GET", {"Origin": origin}, None,
              unknown_route, path="/no-such-route", gateway_only=True),
    ]


def proxy_event(check, request_id):
    """The API Gateway REST proxy event stage `main` hands the function for
    `check` (the shape of AWS's sample `apigateway-aws-proxy` event)."""
    headers = {"Host": "pre-traffic.invalid", "User-Agent": "pre-traffic-check", **check.headers}
    return {
        "resource": ROUTE,
        "path": check.path,
        "httpMethod": check.method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"interventionId": check.intervention_id},
        "stageVariables": None,
        "requestContext": {
            "resourceId": "pretraffic",
            "resourcePath": ROUTE,
            "httpMethod": check.method,
            "requestId": request_id,
            "path": "/main" + check.path,
            "accountId": "000000000000",
            "protocol": "HTTP/1.1",
            "stage": "main",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pre-traffic-check"},
            "domainName": "pre-traffic.invalid",
            "apiId": "pretraffic",
        },
        "body": check.body,
        "isBase64Encoded": False,
    }


def judge_proxy_response(check, payload):
    """None when the function's proxy response to `check` is right, else what
    is wrong. `payload` is the invocation's JSON answer."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        return f"not an API Gateway proxy response: {str(payload)[:200]!r}"
    headers = dict(payload.get("headers") or {})
    for k, values in (payload.get("multiValueHeaders") or {}).items():
        headers.setdefault(k, ", ".join(values))
    body = payload.get("body") or ""
    if payload.get("isBase64Encoded"):
        import base64
        body = base64.b64decode(body).decode("utf-8", "replace")
    return check.expect(int(payload["statusCode"]), headers, body)
