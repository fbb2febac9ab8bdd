"""CodeDeploy's PreTraffic hook: before any traffic shifts to a new version of
the function, invoke that version with the read-only checks (hooks/checks.py)
as API Gateway proxy events, and report Succeeded only if every answer is
right. Failed stops the deployment: the alias stays on the old version.

Environment:
  TARGET_FUNCTION  the new version's ARN (the template passes VerifyFunction.Version)
  PROBE_ORIGIN     an allowed origin the preflight check is sent from ("*"
                   or empty: any origin is allowed, a made-up one is used)

Its role may invoke that function's versions and report this hook's status,
nothing else. Nothing it logs carries a token.
"""
import json
import os
import uuid

import boto3

import checks


def run_checks(invoke, origin):
    """Runs every check a direct invocation can answer; returns the failures
    as (name, detail). `invoke(event)` returns the function's JSON answer."""
    failures = []
    for check in checks.checks(origin):
        if check.gateway_only:
            continue
        try:
            detail = checks.judge_proxy_response(check, invoke(checks.proxy_event(check, f"pre-traffic-{uuid.uuid4()}")))
        except Exception as e:  # an invocation that fails is a failed check
            detail = f"{type(e).__name__}: {e}"
        print(json.dumps({"check": check.name, "ok": detail is None, "detail": detail}))
        if detail is not None:
            failures.append((check.name, detail))
    return failures


def lambda_invoker(client, function):
    def invoke(event):
        answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        payload = answer["Payload"].read()
        if answer.get("FunctionError"):
            raise RuntimeError(f"function error {answer['FunctionError']}: {payload[:300]!r}")
        return json.loads(payload)
    return invoke


def handler(event, _context):
    function = os.environ["TARGET_FUNCTION"]
    origin = os.environ.get("PROBE_ORIGIN", "").strip()
    if origin in ("", "*"):
        origin = "https://pre-traffic-check.invalid"
    failures = run_checks(lambda_invoker(boto3.client("lambda"), function), origin)
    status = "Failed" if failures else "Succeeded"
    print(json.dumps({"target": function, "status": status, "failed": len(failures)}))
    boto3.client("codedeploy").put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status, "failures": [name for name, _ in failures]}
