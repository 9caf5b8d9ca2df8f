"""LocalStack as scripts/localstack.sh starts it: every listener on loopback (DynamoDB Local, its
Java child that binds every interface, included), and DynamoDB (v2 provider: DynamoDB Local's
own streams) and SQS answering as the stack needs; and that the listener check can fail. It
starts a LocalStack of its own on a free port and fails, never skips, when LocalStack cannot
start. Run by `make test` before the integration suite on LocalStack:

    python local/localstack/test_localstack.py
"""

import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import listeners  # noqa: E402

SCRIPT = ROOT / "scripts" / "localstack.sh"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def host_addresses():
    """This machine's addresses other than loopback, in the host's namespace."""
    output = subprocess.run(["ip", "-o", "addr", "show"], check=True, capture_output=True, text=True).stdout
    found = []
    for match in re.finditer(r"\binet6? ([0-9a-f.:]+)/", output):
        address = ipaddress.ip_address(match.group(1))
        if not address.is_loopback and not address.is_link_local:
            found.append(str(address))
    return found


def refused(host, port):
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except OSError:
        return True


class LocalStackOnLoopback(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.state = Path(tempfile.mkdtemp(prefix="localstack-test-"))
        # A failed start raises here, which fails every test of the class: LocalStack not
        # starting is a failure of this test, not a reason to skip it.
        subprocess.run([str(SCRIPT), "start", str(cls.port), str(cls.state)], check=True, timeout=900)
        cls.pid = int((cls.state / "localstack.pid").read_text())
        cls.bridge = int((cls.state / "localstack-bridge.pid").read_text())
        cls.endpoint = f"http://127.0.0.1:{cls.port}"
        options = dict(
            endpoint_url=cls.endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        )
        cls.dynamodb = boto3.client("dynamodb", **options)
        cls.streams = boto3.client("dynamodbstreams", **options)
        cls.sqs = boto3.client("sqs", **options)

    @classmethod
    def tearDownClass(cls):
        tree = listeners.descendants([cls.pid, cls.bridge])
        subprocess.run([str(SCRIPT), "stop", str(cls.state)], check=True, timeout=60)
        left = [pid for pid in tree if Path(f"/proc/{pid}").exists()]
        if left:
            raise AssertionError(f"`localstack.sh stop` left processes running: {left}")
        shutil.rmtree(cls.state)

    def test_every_listener_is_on_loopback_or_in_a_namespace_with_loopback_only(self):
        found = listeners.listeners([self.pid, self.bridge])
        for listener in found:
            self.assertFalse(listener.exposed, str(listener))
        # DynamoDB Local (started by the first DynamoDB call, which `start` makes) binds every
        # interface of its namespace, which has no device but loopback.
        java = [listener for listener in found if listener.command == "java"]
        self.assertTrue(java, f"no DynamoDB Local listener among {[str(x) for x in found]}")
        for listener in java:
            self.assertEqual(listener.devices, ("lo",), str(listener))
        # Seen from the host (ss, as an operator would look): LocalStack's tree listens on
        # 127.0.0.1:PORT alone, the bridge's socket.
        tree = set(listeners.descendants([self.pid, self.bridge]))
        ss = subprocess.run(["ss", "-ltnpH"], check=True, capture_output=True, text=True).stdout
        ours = [line.split()[3] for line in ss.splitlines() if tree & {int(p) for p in re.findall(r"pid=(\d+)", line)}]
        self.assertEqual(ours, [f"127.0.0.1:{self.port}"], ss)
        # And nothing reaches LocalStack or DynamoDB Local through this machine's other addresses.
        host_ports = {line.split()[3].rsplit(":", 1)[1] for line in ss.splitlines()}
        for address in host_addresses():
            self.assertTrue(refused(address, self.port), f"{address}:{self.port} answers")
            for listener in java:
                if str(listener.port) not in host_ports:  # unless some other program holds that port
                    self.assertTrue(refused(address, listener.port), f"{address}:{listener.port} answers")
                    self.assertTrue(refused("127.0.0.1", listener.port), f"127.0.0.1:{listener.port} answers")

    def test_health_reports_dynamodb_sqs_and_eventbridge_and_nothing_else(self):
        services = self.health()
        self.assertEqual(services.get("dynamodb"), "running")
        self.assertEqual(services.get("sqs"), "running")
        # EventBridge starts at its first request.
        self.assertIn(services.get("events"), ("available", "running"))
        # DynamoDB brings its streams API and Kinesis (used by the default provider only).
        others = {name: status for name, status in services.items()
                  if name not in ("dynamodb", "sqs", "events", "dynamodbstreams", "kinesis")}
        self.assertTrue(all(status == "disabled" for status in others.values()), others)

    def test_dynamodb_streams_hold_every_write_from_the_first_in_order(self):
        # The v2 provider serves DynamoDB Local's own streams; the default provider pipes them
        # through a Kinesis emulator and lost the writes made just after CreateTable.
        table = f"streams-{uuid.uuid4().hex[:8]}"
        self.dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        for i in range(12):
            self.dynamodb.put_item(TableName=table, Item={"pk": {"S": f"item-{i:02}"}, "n": {"N": str(i)}})
        arn = self.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        records, deadline = [], time.monotonic() + 20
        while len(records) < 12 and time.monotonic() < deadline:
            records = []
            for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                iterator = self.streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                records += self.streams.get_records(ShardIterator=iterator, Limit=100)["Records"]
            time.sleep(0.2)
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in records], [f"item-{i:02}" for i in range(12)])
        self.assertEqual({r["eventName"] for r in records}, {"INSERT"})
        self.assertIn("NewImage", records[0]["dynamodb"])
        # The records came from DynamoDB Local itself: LocalStack's Kinesis never started.
        self.assertNotEqual(self.health().get("kinesis"), "running")

    def health(self):
        with urllib.request.urlopen(f"{self.endpoint}/_localstack/health", timeout=10) as response:
            return json.load(response)["services"]

    def test_dynamodb_is_aws_exact_on_validation_and_transactions(self):
        table = f"exact-{uuid.uuid4().hex[:8]}"
        self.dynamodb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        # DynamoDB (and DynamoDB Local) reject an expression value the expression does not use.
        with self.assertRaises(ClientError) as raised:
            self.dynamodb.put_item(
                TableName=table,
                Item={"pk": {"S": "a"}},
                ConditionExpression="attribute_not_exists(pk)",
                ExpressionAttributeValues={":unused": {"N": "1"}},
            )
        self.assertEqual(raised.exception.response["Error"]["Code"], "ValidationException")
        # A cancelled transaction names the item whose condition failed.
        self.dynamodb.put_item(TableName=table, Item={"pk": {"S": "taken"}})
        with self.assertRaises(ClientError) as raised:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
                    {"Put": {"TableName": table, "Item": {"pk": {"S": "taken"}},
                             "ConditionExpression": "attribute_not_exists(pk)"}},
                ]
            )
        error = raised.exception.response
        self.assertEqual(error["Error"]["Code"], "TransactionCanceledException")
        self.assertEqual([r["Code"] for r in error["CancellationReasons"]], ["None", "ConditionalCheckFailed"])
        self.assertNotIn("Item", self.dynamodb.get_item(TableName=table, Key={"pk": {"S": "new"}}))

    def test_sqs_hands_out_queue_urls_on_this_endpoint_and_delivers(self):
        name = f"queue-{uuid.uuid4().hex[:8]}"
        created = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        url = self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        self.assertEqual(url, created)
        self.assertTrue(url.startswith(f"{self.endpoint}/"), url)
        self.sqs.send_message(
            QueueUrl=url, MessageBody='{"hello":1}',
            MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
        )
        messages = self.sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=5, MessageAttributeNames=["All"], AttributeNames=["All"]
        )["Messages"]
        self.assertEqual([m["Body"] for m in messages], ['{"hello":1}'])
        self.assertEqual(messages[0]["MessageAttributes"]["kind"]["StringValue"], "greeting")
        self.assertEqual(messages[0]["Attributes"]["ApproximateReceiveCount"], "1")
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])


class ListenerCheck(unittest.TestCase):
    """The check above can fail: in a namespace of its own that has a network device besides
    loopback (a veth pair, connected to nothing), a listener on every interface is flagged and
    one on 127.0.0.1 is not."""

    def test_a_listener_on_every_interface_is_flagged_where_a_network_device_exists(self):
        netns = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--user", "--map-root-user", "--net"]
        server = (
            "import socket, time\n"
            "everywhere, loopback = socket.socket(), socket.socket()\n"
            "everywhere.bind(('0.0.0.0', 0)); everywhere.listen()\n"
            "loopback.bind(('127.0.0.1', 0)); loopback.listen()\n"
            "print(everywhere.getsockname()[1], loopback.getsockname()[1], flush=True)\n"
            "time.sleep(60)\n"
        )
        process = subprocess.Popen(
            [*netns, "sh", "-c", 'ip link add v0 type veth peer name v1 && exec "$0" -c "$1"', sys.executable, server],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            ports = process.stdout.readline().split()
            self.assertEqual(len(ports), 2, "the listener in the namespace did not start")
            found = {listener.port: listener for listener in listeners.listeners([process.pid])}
            everywhere, loopback = found[int(ports[0])], found[int(ports[1])]
            self.assertIn("v0", everywhere.devices)
            self.assertTrue(everywhere.exposed, str(everywhere))
            self.assertFalse(loopback.exposed, str(loopback))
        finally:
            process.kill()
            process.wait()
            process.stdout.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
