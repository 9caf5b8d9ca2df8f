#!/usr/bin/env python3
"""Replays the stream records the outbox relay gave up on (or, with --bus, those the bus's
reader gave up on: the same records, put on the event bus).

Each message of the relay-failures queue is what Lambda's stream event source sends its
on-failure destination: not the records, but where they are (DDBStreamBatchInfo: the stream,
the shard, the first and last sequence number). For each message this reads those records
from the store table's stream, which keeps them 24 hours, invokes the relay with them as its
event source would, and deletes the message only once the relay reported every record sent.
A message whose records the relay failed on again, or which the stream no longer holds, stays
in the queue (visible again once this run ends) and is reported.

  In AWS (the stack's outputs name the queue and the function):
    replay_relay_failures.py --stack shop [--region eu-west-1] [--dry-run]
  Against the local stack (AWS_ENDPOINT_URL set; the relay under `cargo lambda watch`):
    AWS_ENDPOINT_URL=http://127.0.0.1:5000 replay_relay_failures.py [--lambda-url http://127.0.0.1:9000]

Exits 0 when every message was replayed (or there were none), 1 when some stay in the queue.
Replaying is safe to repeat: the consumer counts an order once however often its event comes.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stack import stream_record  # noqa: E402  (the event record as Lambda builds it)

# {reader: (its failures queue's output, its function's output, the local queue (named by
# logical id), the local function (named by binary, as `cargo lambda watch` does))}
READERS = {
    "relay": ("RelayFailuresQueueUrl", "OrderEventsRelayFunctionName", "RelayFailuresQueue", "order-events-relay"),
    "bus": ("BusFailuresQueueUrl", "PublishToEventBusFunctionName", "BusFailuresQueue", "publish-to-event-bus"),
}
# A message is hidden from other readers while this run works on it.
VISIBILITY_TIMEOUT = 300
# The Invoke API takes at most 6 MB; the relay's event source sends at most 100 records.
MAX_RECORDS, MAX_PAYLOAD = 100, 5 * 1024 * 1024
# A shard's reader may see a few empty pages before the next records.
EMPTY_PAGES = 5


class Unreplayable(Exception):
    """The message cannot be replayed now; it stays in the queue."""


def stack_outputs(stack, region):
    cloudformation = boto3.client("cloudformation", region_name=region)
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def read_records(streams, info):
    """The records from startSequenceNumber to endSequenceNumber of the shard, in order."""
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    try:
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"],
            ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=info["startSequenceNumber"],
        )["ShardIterator"]
    except (streams.exceptions.TrimmedDataAccessException, streams.exceptions.ResourceNotFoundException) as error:
        raise Unreplayable(f"the stream no longer holds these records (it keeps them 24 h): {error}") from error
    records, empty = [], 0
    while iterator and empty < EMPTY_PAGES:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        iterator = page.get("NextShardIterator")
        empty = 0 if page["Records"] else empty + 1
        for record in page["Records"]:
            number = int(record["dynamodb"]["SequenceNumber"])
            if number > end:
                return records
            if number >= start:
                records.append(stream_record(record, info["streamArn"]))
        if records and int(records[-1]["dynamodb"]["SequenceNumber"]) == end:
            return records
    return records


def batches(records):
    """The records in invocations of at most MAX_RECORDS and MAX_PAYLOAD bytes, in order."""
    batch, size = [], 0
    for record in records:
        record_size = len(json.dumps(record))
        if batch and (len(batch) == MAX_RECORDS or size + record_size > MAX_PAYLOAD):
            yield batch
            batch, size = [], 0
        batch.append(record)
        size += record_size
    if batch:
        yield batch


def invoke_relay(lambda_client, function, records):
    """Invokes the relay as its event source does; raises Unreplayable unless it sent every record."""
    response = lambda_client.invoke(FunctionName=function, Payload=json.dumps({"Records": records}).encode())
    body = response["Payload"].read()
    result = json.loads(body) if body.strip() else {}
    if response.get("FunctionError") or (isinstance(result, dict) and "errorType" in result):
        raise Unreplayable(f"the relay failed: {result}")
    failures = [f.get("itemIdentifier") for f in (result or {}).get("batchItemFailures", [])]
    if failures:
        raise Unreplayable(f"the relay could not send record {failures[0]} (and any after it)")


def replay(message, streams, lambda_client, function, dry_run):
    """Replays one failure message; returns a line saying what was done, or raises Unreplayable."""
    try:
        body = json.loads(message["Body"])
        info = body["DDBStreamBatchInfo"]
    except (ValueError, KeyError, TypeError) as error:
        raise Unreplayable(f"not a DynamoDB stream on-failure record: {error!r}") from error
    condition = body.get("requestContext", {}).get("condition", "unknown condition")
    where = (f"{info['batchSize']} record(s) {info['startSequenceNumber']}..{info['endSequenceNumber']} "
             f"of shard {info['shardId']} ({condition}, first written {info.get('approximateArrivalOfFirstRecord', '?')})")
    try:
        records = read_records(streams, info)
    except Unreplayable as error:
        raise Unreplayable(f"{where}: {error}") from error
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    if not numbers or int(numbers[0]) != int(info["startSequenceNumber"]) or int(numbers[-1]) != int(info["endSequenceNumber"]):
        raise Unreplayable(f"{where}: the stream no longer holds all of these records (it keeps them 24 h)")
    if dry_run:
        return f"would replay {where}: {len(records)} found in the stream"
    for batch in batches(records):
        try:
            invoke_relay(lambda_client, function, batch)
        except Unreplayable as error:
            raise Unreplayable(f"{where}: {error}") from error
    return f"replayed {where}: {len(records)} record(s) sent by the relay"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", help="the deployed stack: its outputs name the queue and the relay function")
    parser.add_argument("--region", help="the stack's region (else the usual AWS configuration)")
    parser.add_argument("--lambda-url", help="a Lambda Invoke API to call instead of AWS's "
                        "(local stack: http://127.0.0.1:9000, the default without --stack)")
    parser.add_argument("--queue-url", help="the relay-failures queue (else from the stack, or the local one)")
    parser.add_argument("--function", help="the relay function's name (else from the stack, or the local one)")
    parser.add_argument("--bus", action="store_true",
                        help="replay what the bus's reader (publish-to-event-bus) gave up on, not the relay")
    parser.add_argument("--dry-run", action="store_true", help="read the messages and the records; invoke and delete nothing")
    args = parser.parse_args(argv)
    queue_output, function_output, local_queue, local_function = READERS["bus" if args.bus else "relay"]

    local = not args.stack
    if local and not os.environ.get("AWS_ENDPOINT_URL"):
        parser.error("give --stack NAME (AWS), or set AWS_ENDPOINT_URL to replay on the local stack")
    outputs = stack_outputs(args.stack, args.region) if args.stack else {}
    session = dict(region_name=args.region) if args.region else {}
    sqs, streams = boto3.client("sqs", **session), boto3.client("dynamodbstreams", **session)
    queue_url = args.queue_url or outputs.get(queue_output) or (
        sqs.get_queue_url(QueueName=local_queue)["QueueUrl"] if local else None)
    function = args.function or outputs.get(function_output) or (local_function if local else None)
    if not queue_url or not function:
        sys.exit(f"stack {args.stack} has no {queue_output} / {function_output} output")
    lambda_url = args.lambda_url or ("http://127.0.0.1:9000" if local else None)
    lambda_client = boto3.client(
        "lambda", endpoint_url=lambda_url,
        config=Config(read_timeout=900, retries={"mode": "standard", "max_attempts": 3}), **session,
    )
    print(f"relay failures: {queue_url}\nrelay: {function}" + (f" at {lambda_url}" if lambda_url else ""))

    seen, replayed, kept = set(), 0, []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
            VisibilityTimeout=VISIBILITY_TIMEOUT, AttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                print(f"{message['MessageId']}: {replay(message, streams, lambda_client, function, args.dry_run)}"
                      + ("" if args.dry_run else "; failure message deleted"))
                if args.dry_run:
                    kept.append(message)
                    continue
                # Only now: the relay has sent every record the message stands for.
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                replayed += 1
            except (Unreplayable, BotoCoreError, ClientError) as error:
                print(f"{message['MessageId']}: left in the queue: {error}")
                kept.append(message)
    for message in kept:  # visible again: for the alarm, and for the next run
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    failed = 0 if args.dry_run else len(kept)
    print(f"{len(seen)} failure message(s): {replayed} replayed and deleted, {failed} left in the queue"
          + (" (dry run: nothing invoked or deleted)" if args.dry_run else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
