#!/usr/bin/env python3
"""Translates template.yaml with the SAM translator, offline, into the
CloudFormation template `sam deploy` would submit, and prints it as JSON.

Usage: translate_template.py [TEMPLATE] [--param NAME=VALUE ...]

The translator needs a region and an S3 CodeUri; nothing is uploaded and no
AWS call is made. Parameter values only matter for SAM's own conditions
(e.g. the deployment preference's type); CloudFormation resolves the rest.
"""
import argparse
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-3")

from samtranslator.public.translator import ManagedPolicyLoader  # noqa: E402,F401
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402


class OfflinePolicyLoader:
    """No IAM calls: the template names no managed policy by name alone."""

    def load(self):
        return {}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("template", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "template.yaml"))
    ap.add_argument("--param", action="append", default=[])
    args = ap.parse_args()
    with open(args.template) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://translation-only/bootstrap.zip"
    params = dict(p.split("=", 1) for p in args.param)
    out = transform(template, params, OfflinePolicyLoader())
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)
    print()


if __name__ == "__main__":
    main()
