#!/usr/bin/env python3
"""moto server with DynamoDB's atomicity: `moto_server.py [-H host] [-p port]`.

moto serves each request on its own thread and applies a conditional write or a transaction
without isolation, so two concurrent `SET stock = stock - :q` with `stock >= :q` can both pass
their condition (a lost update DynamoDB never allows). This launcher runs the same moto app
with one lock around every request, except SQS long polls (which only wait), so concurrency
tests see the engine behave as DynamoDB does.
"""

import argparse
import threading

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


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
