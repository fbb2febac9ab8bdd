#!/usr/bin/env python3
"""checkov (PyPI, in .venv-checkov) on the template as CloudFormation receives
it, translated once per parameter set given, judged against the accepted
findings of tests/checkov/skips.yaml.

    checkov.py TEMPLATE.json [TEMPLATE.json ...]   (make lint-template)

Fails on a finding the file does not accept (check id and resource), and on
an accepted finding that no longer occurs (a stale skip). Prints checkov's
totals and each accepted finding once.
"""
import json
import os
import subprocess
import sys

import yaml

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CHECKOV = os.path.join(ROOT, ".venv-checkov", "bin", "checkov")


def findings(template):
    out = subprocess.run(
        [CHECKOV, "--file", template, "--framework", "cloudformation", "--output", "json",
         "--skip-download", "--quiet", "--compact"],
        capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        sys.exit(f"checkov failed ({out.returncode}): {out.stderr[-2000:]}")
    report = json.loads(out.stdout or "{}")
    for result in report if isinstance(report, list) else [report]:
        summary = result.get("summary", {})
        print(f"checkov {os.path.basename(template)}: {summary.get('passed', 0)} passed, "
              f"{summary.get('failed', 0)} failed")
        for check in result.get("results", {}).get("failed_checks", []):
            yield check["check_id"], check["resource"].split(".")[-1], check["check_name"]


def main():
    with open(os.path.join(ROOT, "tests", "checkov", "skips.yaml")) as f:
        skips = {s["id"]: s for s in yaml.safe_load(f)}
    for s in skips.values():
        if not str(s.get("reason", "")).strip():
            sys.exit(f"{s['id']}: a skip without a reason")
    used, unaccepted = set(), []
    for template in sys.argv[1:]:
        for check_id, resource, name in findings(template):
            skip = skips.get(check_id)
            if skip and resource in skip["resources"]:
                used.add((check_id, resource))
            else:
                unaccepted.append(f"{check_id} on {resource}: {name}")
    stale = [f"{i} on {r}" for i, s in skips.items() for r in s["resources"] if (i, r) not in used]
    for i, s in skips.items():
        print(f"accepted {i} on {', '.join(s['resources'])}")
    for line in unaccepted:
        print(f"FAIL {line}")
    for line in stale:
        print(f"FAIL stale skip (no longer found): {line}")
    return 1 if unaccepted or stale else 0


if __name__ == "__main__":
    sys.exit(main())
