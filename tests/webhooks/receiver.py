"""A webhook receiver for the integration tests. Each path /hooks/<name> is an endpoint of its
own; every delivery is verified with the Standard Webhooks Python library (an implementation
independent of the shop's), once with each secret the test gave, and recorded.

  PUT  /control/<name>  {"secrets": [...], "failFirst": n, "status": s, "onlyIf": text}
        answer 500, 503 and 429 in turn to the first n requests of each webhook-id, then 200;
        or always `status`; either only for bodies containing `onlyIf` (others get 200)
  GET  /control/<name>  {"received": [{"id", "timestamp", "type", "verified": [bool per secret],
                          "status", "at", "body"}]}

It prints its port on its first line and stops when its standard input closes, so that it
ends with the test process that started it. It listens on 127.0.0.1 only.
"""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

FAILURES = [500, 503, 429]
lock = threading.Lock()
endpoints = {}


def endpoint(name):
    return endpoints.setdefault(name, {"secrets": [], "failFirst": 0, "status": None, "onlyIf": None,
                                       "received": [], "seen": {}})


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        if status == 429:
            self.send_header("retry-after", "1")
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get("content-length", 0)))

    def do_PUT(self):
        name = self.path.removeprefix("/control/")
        settings = json.loads(self.body())
        with lock:
            state = endpoint(name)
            state["secrets"] = settings.get("secrets") or []
            state["failFirst"] = settings.get("failFirst") or 0
            state["status"] = settings.get("status")
            state["onlyIf"] = settings.get("onlyIf")
        self.answer(204)

    def do_GET(self):
        name = self.path.removeprefix("/control/")
        with lock:
            body = json.dumps({"received": endpoint(name)["received"]}).encode()
        self.answer(200, body)

    def do_POST(self):
        name = self.path.removeprefix("/hooks/")
        body = self.body()
        headers = {key: value for key, value in self.headers.items()}
        with lock:
            state = endpoint(name)
            verified = []
            for secret in state["secrets"]:
                try:
                    Webhook(secret).verify(body, headers)
                    verified.append(True)
                except WebhookVerificationError:
                    verified.append(False)
            webhook_id = self.headers.get("webhook-id")
            concerned = state["onlyIf"] is None or state["onlyIf"].encode() in body
            seen = state["seen"].get(webhook_id, 0)
            state["seen"][webhook_id] = seen + 1
            if not concerned:
                status = 200
            elif state["status"] is not None:
                status = state["status"]
            elif seen < state["failFirst"]:
                status = FAILURES[seen % len(FAILURES)]
            else:
                status = 200
            try:
                kind = json.loads(body).get("type")
            except ValueError:
                kind = None
            state["received"].append({
                "id": webhook_id, "timestamp": self.headers.get("webhook-timestamp"), "type": kind,
                "verified": verified, "status": status, "at": time.time(), "body": body.decode(errors="replace"),
            })
        self.answer(status, b'{"received": true}' if status < 300 else b"try again later")

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()  # until the test process ends
    server.shutdown()


if __name__ == "__main__":
    main()
