#!/usr/bin/env python3
"""moto server as the local stack's AWS:
`moto_server.py [-H host] [-p port] [--iam] [--local-jwks FILE]`.

DynamoDB's atomicity. moto serves each request on its own thread and applies a conditional
write or a transaction without isolation, so two concurrent `SET stock = stock - :q` with
`stock >= :q` can both pass their condition (a lost update DynamoDB never allows). This
launcher runs the same moto app with one lock around every request, except SQS long polls
(which only wait), so concurrency tests see the engine behave as DynamoDB does.

It also undoes a cancelled transaction without copying tables, and keeps it out of the
table's stream (`transactions_that_copy_no_table`), and sends to a queue without counting its
messages (`send_without_counting_the_queue`): moto alone does work that grows with a table or
a queue for each transaction or message, and every request waits for it.

--iam: every request is authenticated and authorized against the IAM users and policies
created in this moto, from the first request on, as AWS does. The administrator `local-admin`
(allowed everything) exists before the first request, with the key pair in this process's
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (the local tools' dummy keys), since nobody could
create the first user through the API once every call needs a permission. moto evaluates
every DynamoDB request against the resource `*` (so a policy naming a table allows nothing)
and a transaction as the action `dynamodb:TransactWriteItems`; here DynamoDB, DynamoDB
Streams, SQS, Secrets Manager and EventBridge requests are authorized as AWS authorizes them:
on the table, index, stream, queue, secret or event bus (by its full ARN) they touch, each item of a
transaction with its own action (PutItem, UpdateItem, DeleteItem, ConditionCheckItem;
GetItem in TransactGetItems) on its table, each table of a batch, and SQS batches as their
single-message actions. A statement's `dynamodb:LeadingKeys` condition is evaluated against
the partition keys a request names (an index's, for a Query of the index), as AWS evaluates
it; moto itself evaluates no condition. A refusal is answered as AWS answers
it (400 AccessDeniedException for the JSON protocols) and logged on stderr.

--local-jwks FILE: serves FILE at GET /local-issuer/.well-known/jwks.json, the key set of the
local token issuer (local/auth.py), so that one local process serves both issuers' keys: the
user pool's (moto's Cognito, at /<pool id>/.well-known/jwks.json) and the local issuer's.
"""

import argparse
import copy
import json
import logging
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.events.responses import EventsHandler
from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, IAMRequest
from moto.iam.models import iam_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.sqs.models import Queue, SQSBackend
from moto.sqs.responses import SQSResponse
from werkzeug.exceptions import HTTPException
from werkzeug.serving import run_simple

UNLOCKED_TARGETS = ("AmazonSQS.ReceiveMessage",)
ADMIN = "local-admin"
LOCAL_JWKS_PATH = "/local-issuer/.well-known/jwks.json"

log = logging.getLogger("local-iam")


def serialized(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "") in UNLOCKED_TARGETS:
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return handle


def serving_local_jwks(app, jwks_file):
    """Answers GET /local-issuer/.well-known/jwks.json from the file (read at each request, so
    that a key made after the start is served), everything else from moto."""

    def handle(environ, start_response):
        if environ.get("PATH_INFO") == LOCAL_JWKS_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            body = Path(jwks_file).read_bytes()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return handle


def transactions_that_copy_no_table():
    """moto backs up every table a transaction names before applying it, as a deep copy of
    the table (every item, and every record its stream ever held), and puts the copy in the
    table's place if the transaction is cancelled. The copy grows with the table, and every
    request waits for it: late in a test run a transaction took most of a second, and the
    outbox relay's reader of the stream fell a minute behind. Here the backup is the items
    the transaction names, as they were, and the length of the table's stream; a cancelled
    transaction gets those back and its stream records are dropped, on the same table and
    stream objects, so a reader's iterator never sees a cancelled write (DynamoDB never shows
    one) and the next real write takes the sequence number after the last one it read."""
    transact = DynamoDBBackend.transact_write_items

    def backup(backend, transact_items):
        items, streams = [], {}
        for entry in transact_items:
            op = next(iter(entry.values()), None)
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue  # moto refuses it, and nothing is written
            key = op.get("Key") or {
                name: op.get("Item", {})[name]
                for name in (table.hash_key_attr, table.range_key_attr)
                if name in op.get("Item", {})
            }
            try:
                hash_key, range_key = backend.get_keys_value(table, key)
                before = copy.deepcopy(table.get_item(hash_key, range_key))
            except Exception:
                continue  # a malformed key: moto refuses it before writing
            items.append((table, hash_key, range_key, before))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        return items, streams.values()

    def put_back(table, hash_key, range_key, item):
        if item is not None:
            if range_key:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
        elif range_key:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items.pop(hash_key, None)

    def transact_write_items(self, transact_items):
        items, streams = backup(self, transact_items)
        try:
            return transact(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(items):
                put_back(table, hash_key, range_key, item)
            for shard, length in streams:
                del shard.items[length:]
            raise

    # moto deep-copies a table only for that backup, which this wrapper keeps instead: its
    # "copy" is the table itself, so its own undo puts back the very table it holds.
    Table.__deepcopy__ = lambda table, memo: table
    DynamoDBBackend.transact_write_items = transact_write_items


def send_without_counting_the_queue():
    """moto reads a queue's attributes for every message it is sent, and they include three
    counts of the messages it holds, each a walk over all of them: a send took longer the
    fuller the queue (7 ms for ten messages to an empty queue, 130 ms at 5,000), and as every
    request waits for the one before, a queue nobody reads (the stock events, locally) slowed
    the whole engine. A send reads no count, so while one runs the counts are not made."""
    sending = threading.local()
    send = SQSBackend.send_message

    def send_message(self, *args, **kwargs):
        sending.active = True
        try:
            return send(self, *args, **kwargs)
        finally:
            sending.active = False

    def uncounted_while_sending(count):
        return property(lambda queue: 0 if getattr(sending, "active", False) else count.fget(queue))

    for name in ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
                 "approximate_number_of_messages_not_visible"):
        setattr(Queue, name, uncounted_while_sending(getattr(Queue, name)))
    SQSBackend.send_message = send_message


# --- IAM ---------------------------------------------------------------------------------------

def create_admin(access_key_id, secret_access_key):
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_user(region_name="us-east-1", user_name=ADMIN)
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    backend.put_user_policy(ADMIN, "everything", json.dumps(everything))
    key = backend.create_access_key(ADMIN)
    del backend.access_keys[key.access_key_id]
    key.access_key_id, key.secret_access_key = access_key_id, secret_access_key
    backend.access_keys[access_key_id] = key


# AWS's answers to a request it refuses, by the moto error they stand for (JSON protocols).
JSON_AUTH_ERRORS = {
    "InvalidClientTokenId": "UnrecognizedClientException",
    "SignatureDoesNotMatch": "InvalidSignatureException",
}


def json_error(error):
    if isinstance(error, JsonRESTError):
        return error
    answer = JsonRESTError(JSON_AUTH_ERRORS.get(getattr(error, "error_type", ""), "AccessDeniedException"),
                           getattr(error, "message", str(error)))
    answer.code = 400
    return answer


def as_list(value):
    return value if isinstance(value, list) else [value]


def like(pattern, value):
    """IAM's StringLike: `*` any run of characters, `?` any one."""
    return re.fullmatch("".join({"*": ".*", "?": "."}.get(c, re.escape(c)) for c in pattern), value) is not None


def conditions_hold(statement, leading_keys):
    """Whether the statement's conditions hold for a request on items of these partition keys
    (None: a request that names no item). moto evaluates no condition of an identity policy
    (it treats every statement as unconditional); here `dynamodb:LeadingKeys` with
    ForAllValues:StringLike or ForAllValues:StringEquals is evaluated as AWS does, and any other
    condition refuses, so that nothing is allowed locally that AWS might refuse."""
    for operator, tests in statement.get("Condition", {}).items():
        for key, expected in tests.items():
            if key != "dynamodb:LeadingKeys" or leading_keys is None or operator not in (
                    "ForAllValues:StringLike", "ForAllValues:StringEquals"):
                log.warning("condition %s on %s is not evaluated locally: the statement allows nothing", operator, key)
                return False
            match = like if operator.endswith("Like") else str.__eq__
            if not all(any(match(pattern, key_value) for pattern in as_list(expected)) for key_value in leading_keys):
                return False
    return True


def allowed_with_conditions(request, resource, leading_keys):
    """Whether an Allow statement of the caller's policies that names the action and the
    resource also has its conditions hold (moto's own check found one, conditions aside)."""
    for policy in request._access_key.collect_policies():
        for statement in as_list(IAMPolicy(policy)._policy_json["Statement"]):
            checked = IAMPolicyStatement(statement)
            if (statement.get("Effect") == "Allow" and checked._check_element_matches("Action", request._action)
                    and checked._check_element_matches("Resource", resource)
                    and conditions_hold(statement, leading_keys)):
                return True
    return False


def authorize(handler, grants):
    """Authenticates the request, then requires every (action, resource[, partition keys]) of
    `grants`."""
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        ActionAuthenticatorMixin.request_count += 1
        return
    path = handler.raw_path
    query = urlparse(handler.uri).query
    if query:
        path += "?" + query
    is_json = bool(handler.headers.get("X-Amz-Target"))
    # A request that names nothing to act on (an empty batch) is still authenticated.
    grants = [grant if len(grant) == 3 else (*grant, None) for grant in dict.fromkeys(grants)]
    grants = grants or [(handler._get_action(), "*", None)]
    for index, (action, resource, leading_keys) in enumerate(grants):
        try:
            request = IAMRequest(
                account_id=handler.current_account, method=handler.method, path=path, data=handler.data,
                body=handler.raw_body, headers=handler.headers, action=action,
            )
            if index == 0:
                request.check_signature()
        except HTTPException as error:
            raise json_error(error) if is_json else error
        try:
            request.check_action_permitted(resource)
            if not allowed_with_conditions(request, resource, leading_keys):
                request._raise_access_denied()
        except HTTPException as error:
            principal = request._access_key.arn
            message = (f"User: {principal} is not authorized to perform: {request._action} on resource: "
                       f"{resource} because no identity-based policy allows the {request._action} action")
            log.warning("denied: %s %s on %s", principal.rsplit(":", 1)[-1], request._action, resource)
            if not is_json:
                raise
            denied = JsonRESTError("AccessDeniedException", message)
            denied.code = 400
            raise denied from error


def table_arn(handler, name):
    if name.startswith("arn:"):
        return name
    return f"arn:aws:dynamodb:{handler.region}:{handler.current_account}:table/{name}"


# The action each kind of transaction item is authorized as, on its own table.
TRANSACT_WRITE_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}


def partition_attribute(handler, table, index=None):
    """The partition key attribute of a table (or of one of its indexes); None when the
    table does not exist (the request fails on its own)."""
    try:
        found = handler.dynamodb_backend.get_table(table.rsplit("/", 1)[-1])
    except Exception:  # noqa: BLE001 - moto raises its own ResourceNotFound
        return None
    if index is None:
        return found.hash_key_attr
    for candidate in found.all_indexes():
        if candidate.name == index:
            return next(key["AttributeName"] for key in candidate.schema if key["KeyType"] == "HASH")
    return None


def key_value(item, attribute):
    value = (item or {}).get(attribute)
    return str(next(iter(value.values()))) if isinstance(value, dict) and value else None


def leading_keys(handler, table, items, index=None):
    """`dynamodb:LeadingKeys` of a request on these items (keys or whole items): their
    partition key values; None when they cannot be told."""
    attribute = partition_attribute(handler, table, index)
    values = tuple(sorted({key_value(item, attribute) for item in items}))
    return None if attribute is None or None in values else values


def queried_partition(handler, body):
    """The partition key value a Query names (`#k = :v` in its key condition, or the legacy
    KeyConditions); None when it names none that can be read."""
    attribute = partition_attribute(handler, body["TableName"], body.get("IndexName"))
    if attribute is None:
        return None
    if "KeyConditions" in body:
        condition = body["KeyConditions"].get(attribute, {})
        values = condition.get("AttributeValueList", [])
        return (key_value({attribute: values[0]}, attribute),) if condition.get("ComparisonOperator") == "EQ" and values else None
    names = body.get("ExpressionAttributeNames", {})
    for part in re.split(r"\s+AND\s+", body.get("KeyConditionExpression", ""), flags=re.IGNORECASE):
        found = re.fullmatch(r"\s*\(?\s*([#\w.]+)\s*=\s*(:\w+)\s*\)?\s*", part)
        if found and names.get(found.group(1), found.group(1)) == attribute:
            return (key_value({attribute: body.get("ExpressionAttributeValues", {}).get(found.group(2))}, attribute),)
    return None


def dynamodb_grants(handler):
    """(action, resource, partition keys) for each authorization AWS makes of the request."""
    action, body = handler._get_action(), handler.body or {}
    if action == "TransactWriteItems":
        return [(TRANSACT_WRITE_ACTIONS[kind], table_arn(handler, spec["TableName"]),
                 leading_keys(handler, spec["TableName"], [spec.get("Key") or spec.get("Item")]))
                for item in body.get("TransactItems", []) for kind, spec in item.items()]
    if action == "TransactGetItems":
        return [("GetItem", table_arn(handler, item["Get"]["TableName"]),
                 leading_keys(handler, item["Get"]["TableName"], [item["Get"].get("Key")]))
                for item in body.get("TransactItems", [])]
    if action == "BatchGetItem":
        return [(action, table_arn(handler, name), leading_keys(handler, name, request.get("Keys", [])))
                for name, request in body.get("RequestItems", {}).items()]
    if action == "BatchWriteItem":
        return [(action, table_arn(handler, name), leading_keys(
                    handler, name, [(w.get("PutRequest") or {}).get("Item") or (w.get("DeleteRequest") or {}).get("Key")
                                    for w in writes]))
                for name, writes in body.get("RequestItems", {}).items()]
    name = body.get("TableName") or body.get("ResourceArn")
    if not name:
        return [(action, "*")]  # ListTables and the like name no table
    if action == "Query":
        resource = table_arn(handler, name) + (f"/index/{body['IndexName']}" if body.get("IndexName") else "")
        return [(action, resource, queried_partition(handler, body))]
    if action == "Scan":
        # A scan names no partition: ForAllValues over no keys holds, as in AWS.
        resource = table_arn(handler, name) + (f"/index/{body['IndexName']}" if body.get("IndexName") else "")
        return [(action, resource, ())]
    if action in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"):
        return [(action, table_arn(handler, name), leading_keys(handler, name, [body.get("Key") or body.get("Item")]))]
    return [(action, table_arn(handler, name))]


def streams_grants(handler):
    action = handler._get_action()
    if action == "GetRecords":
        # moto's iterators are "<stream arn>|1|<id>", as DynamoDB's start with the stream's ARN.
        return [(action, handler._get_param("ShardIterator").split("|", 1)[0])]
    return [(action, handler._get_param("StreamArn") or "*")]


# SQS authorizes a batch as the action on one message.
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}


def sqs_grants(handler):
    action = handler._get_action()
    if action in ("GetQueueUrl", "CreateQueue"):
        resource = f"arn:aws:sqs:{handler.region}:{handler.current_account}:{handler._get_param('QueueName')}"
    else:
        resource = handler._determine_resource()
    return [(SQS_BATCH_ACTIONS.get(action, action), resource)]


def secretsmanager_grants(handler):
    """A request naming a secret (by name or ARN) is authorized on the secret's full ARN, as AWS
    authorizes it; one that names none (ListSecrets, CreateSecret of a new name) on its name."""
    action, secret_id = handler._get_action(), handler._get_param("SecretId") or handler._get_param("Name")
    if not secret_id:
        return [(action, "*")]
    if secret_id in handler.backend.secrets:
        return [(action, handler.backend.secrets[secret_id].arn)]
    if secret_id.startswith("arn:"):
        return [(action, secret_id)]
    return [(action, f"arn:aws:secretsmanager:{handler.region}:{handler.current_account}:secret:{secret_id}")]


def events_grants(handler):
    """PutEvents is authorized on each bus its entries name (by name or ARN; `default` when
    none), as AWS authorizes it; anything else on what it names, or `*`."""
    action = handler._get_action()
    if action != "PutEvents":
        return [(action, "*")]
    prefix = f"arn:aws:events:{handler.region}:{handler.current_account}:event-bus/"
    buses = (entry.get("EventBusName") or "default" for entry in handler._get_param("Entries") or [])
    return [(action, bus if bus.startswith("arn:") else prefix + bus) for bus in buses]


def enforce_iam():
    create_admin(os.environ.get("AWS_ACCESS_KEY_ID", "test"), os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    for handler_class, grants in ((DynamoHandler, dynamodb_grants), (DynamoDBStreamsHandler, streams_grants),
                                  (SQSResponse, sqs_grants), (SecretsManagerResponse, secretsmanager_grants),
                                  (EventsHandler, events_grants)):
        handler_class._authenticate_and_authorize_normal_action = (
            lambda self, resource="*", grants=grants: authorize(self, grants(self))
        )


def main():
    transactions_that_copy_no_table()
    send_without_counting_the_queue()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    parser.add_argument("--iam", action="store_true", help="authorize every request against IAM, as AWS does")
    parser.add_argument("--local-jwks", type=Path, help="the local issuer's key set, served at " + LOCAL_JWKS_PATH)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.iam:
        enforce_iam()
    app = serialized(DomainDispatcherApplication(create_backend_app))
    if args.local_jwks:
        app = serving_local_jwks(app, args.local_jwks)
    run_simple(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
