"""`make seed-deployed` against a CloudFormation stack on the local engine: the store table is
found through the stack's outputs, the catalogue is loaded, and loading again adds nothing and
leaves what a trading shop changed (a product's stock) as it is.

Needs the local stack's AWS_* settings (scripts/test.sh exports them).
"""

import json
import os
import subprocess
import unittest
import uuid
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = json.loads((ROOT / "local" / "catalogue.json").read_text())

TEMPLATE = {
    "Resources": {
        "Store": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            },
        }
    },
    "Outputs": {"StoreTableName": {"Value": {"Ref": "Store"}}},
}


def seed(stack):
    return subprocess.run(
        [str(ROOT / "scripts" / "seed-deployed.sh"), "--stack", stack],
        capture_output=True,
        text=True,
        timeout=600,
    )


class SeedDeployed(unittest.TestCase):
    def setUp(self):
        self.cloudformation = boto3.client("cloudformation")
        self.dynamodb = boto3.client("dynamodb")
        self.stack = f"seed-test-{uuid.uuid4().hex[:8]}"
        self.cloudformation.create_stack(StackName=self.stack, TemplateBody=json.dumps(TEMPLATE))
        outputs = self.cloudformation.describe_stacks(StackName=self.stack)["Stacks"][0]["Outputs"]
        self.table = {o["OutputKey"]: o["OutputValue"] for o in outputs}["StoreTableName"]

    def tearDown(self):
        self.cloudformation.delete_stack(StackName=self.stack)

    def product(self, entry):
        key = {"pk": {"S": f"PRODUCT#{entry['id']}"}, "sk": {"S": "PRODUCT"}}
        return self.dynamodb.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")

    def test_loads_the_catalogue_once_and_keeps_what_the_shop_changed(self):
        first = seed(self.stack)
        self.assertEqual(first.returncode, 0, first.stderr)
        self.assertIn(f"{len(CATALOGUE)} products added, 0 already there", first.stdout)
        smartphone = CATALOGUE[0]
        item = self.product(smartphone)
        self.assertEqual(item["name"]["S"], smartphone["name"])
        self.assertEqual(int(item["stock"]["N"]), smartphone["stock"])

        # The shop trades: the stock moves. Loading again adds nothing and keeps it.
        self.dynamodb.update_item(
            TableName=self.table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET stock = :s",
            ExpressionAttributeValues={":s": {"N": "3"}},
        )
        second = seed(self.stack)
        self.assertEqual(second.returncode, 0, second.stderr)
        self.assertIn(f"0 products added, {len(CATALOGUE)} already there", second.stdout)
        self.assertEqual(self.product(smartphone)["stock"]["N"], "3")

    def test_a_stack_that_is_not_ours_is_named_in_the_error(self):
        missing = seed(f"no-such-stack-{uuid.uuid4().hex[:8]}")
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("seed-deployed: stack no-such-stack-", missing.stderr)


if __name__ == "__main__":
    unittest.main()
