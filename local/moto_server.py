#!/usr/bin/env python3
"""moto server with DynamoDB's atomicity: `moto_server.py [-H host] [-p port]`.

moto serves each request on its own thread and applies a conditional write or a transaction
without isolation, so two concurrent `SET stock = stock - :q` with `stock >= :q` can both pass
their condition (a lost update DynamoDB never allows). This launcher runs the same moto app
with one lock around every request, except SQS long polls (which only wait), so concurrency
tests see the engine behave as DynamoDB does.

It also keeps a cancelled transaction out of the table's stream. moto undoes a cancelled
transaction by putting back a copy of each table it touched, stream included; a shard
iterator handed out before then still reads the discarded stream, with the cancelled writes
in it, and the sequence numbers they held go to the next real writes, which a reader that
has passed them never sees. DynamoDB never shows a cancelled write. Here the stream object
outlives the undo, holding the records as they were before the transaction.
"""

import argparse
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

UNLOCKED_TARGETS = ("AmazonSQS.ReceiveMessage",)


def serialized(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "") in UNLOCKED_TARGETS:
            return app(environ, start_response)
        with lock:
            return list(app(environ, start_response))

    return handle


def keep_streams_through_cancelled_transactions():
    transact = DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        shards = {name: table.stream_shard for name, table in self.tables.items()
                  if getattr(table, "stream_shard", None) is not None}
        try:
            return transact(self, transact_items)
        except Exception:
            for name, shard in shards.items():
                table = self.tables.get(name)
                if table is not None and table.stream_shard is not shard:
                    shard.items = table.stream_shard.items  # the records from before
                    shard.table = table
                    table.stream_shard = shard
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


def main():
    keep_streams_through_cancelled_transactions()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
