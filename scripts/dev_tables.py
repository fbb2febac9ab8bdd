#!/usr/bin/env python3
"""Creates the two tables on the local engine and loads a seed file into them;
with SECRET_ID (the secret's value in $SECRET_VALUE), also stores that secret
in the engine's Secrets Manager, as production keeps it.

Usage: dev_tables.py ENDPOINT SEED_JSON INTERVENTIONS_TABLE NOTIFICATIONS_TABLE [SECRET_ID]
"""
import json
import os
import sys
from decimal import Decimal

import boto3


def local(endpoint):
    """Arguments of a boto3 client for the local engine."""
    return dict(endpoint_url=endpoint, region_name="eu-west-3",
                aws_access_key_id="local", aws_secret_access_key="local")


def main():
    endpoint, seed_path, interventions, notifications = sys.argv[1:5]
    ddb = boto3.resource("dynamodb", **local(endpoint))
    existing = {t.name for t in ddb.tables.all()}
    for name, key_type in ((interventions, "N"), (notifications, "S")):
        if name in existing:
            ddb.Table(name).delete()
        ddb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": key_type}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
    with open(seed_path) as f:
        seed = json.load(f, parse_float=Decimal)
    for name, key in ((interventions, "interventions"), (notifications, "notifications")):
        table = ddb.Table(name)
        for item in seed[key]:
            table.put_item(Item=item)
    if len(sys.argv) > 5:
        store_secret(endpoint, sys.argv[5], os.environ["SECRET_VALUE"])
    statuses = sorted({i["status"] for i in seed["interventions"]})
    print(f"seeded {len(seed['interventions'])} interventions (statuses {statuses}) "
          f"and {len(seed['notifications'])} notifications")


def store_secret(endpoint, secret_id, value):
    sm = boto3.client("secretsmanager", **local(endpoint))
    try:
        sm.create_secret(Name=secret_id, SecretString=value)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=secret_id, SecretString=value)
    print(f"stored secret {secret_id} in the local Secrets Manager")


if __name__ == "__main__":
    main()
