#!/usr/bin/env python3
"""The local stack's front door: what API Gateway (HTTP API) and CloudFront are in AWS.

  gateway.py --port 9000 --lambda-url http://127.0.0.1:9050 [--site storefront] [--openapi F]
             [--connect-src http://127.0.0.1:9060]

- API requests are routed by template.yaml's own routes (the HttpApi events of each function;
  anything else goes to the `$default` function), turned into API Gateway's HTTP API event
  (payload 2.0, with path parameters, the source address, and a body base64-encoded when it
  is not UTF-8, as API Gateway does), and invoked through the Lambda Invoke API that
  `cargo lambda watch` serves. The function's answer becomes the HTTP response.
- Static files are served from the storefront folder, with the headers CloudFront adds in
  AWS: the shop at `/`, the API docs page at `/api/docs` and the API document at
  `/api/openapi.json`. In AWS those come from another origin; locally one origin serves both.
  The shop's policy lets it call the origins `--connect-src` names besides its own (the local
  Stripe, where the shopper's browser confirms a payment, as the template's lets it call
  https://api.stripe.com); the docs page's, its own only.

One source of routes: this reads template.yaml, so a route exists locally exactly when it
exists in AWS.
"""

import argparse
import base64
import http.client
import json
import logging
import mimetypes
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import stack

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("gateway")

# The headers CloudFront's response headers policies add to the static site (template.yaml,
# StorefrontHeaders and ApiDocsHeaders): scripts, styles and requests from this origin only,
# but for the payment provider the shop's page calls (site_headers).
SITE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SITE_HEADERS = {
    "Content-Security-Policy": SITE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "no-cache",
}


def site_headers(connect=()):
    """SITE_HEADERS with a policy that lets the page call the origins `connect` too."""
    for origin in connect:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                or parts.query or parts.fragment or any(c in origin for c in " ;,'\""):
            raise ValueError(f"not an origin: {origin!r}")
    sources = " ".join(["'self'", *(origin.rstrip("/") for origin in connect)])
    policy = SITE_POLICY.replace("connect-src 'self';", f"connect-src {sources};")
    return {**SITE_HEADERS, "Content-Security-Policy": policy}


# As deploy-storefront.sh uploads them to S3.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def routes_of(template):
    """[(method, path regex, path template, parameter names, binary)] and the $default binary."""
    routes, default = [], None
    for resource in stack.resources_of(template, "AWS::Serverless::Function").values():
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            props = event.get("Properties", {})
            if "Path" not in props:
                default = binary
                continue
            names = re.findall(r"\{(\w+)\}", props["Path"])
            pattern = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(props["Path"])) + "$"
            routes.append((props["Method"].upper(), re.compile(pattern), props["Path"], names, binary))
    return routes, default


def http_event(method, route_key, path, query, headers, parameters, body, source_ip):
    """The event API Gateway (HTTP API, payload format 2.0) gives a function for one request;
    `headers` lower-cased, `body` bytes."""
    queries = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        queries[name] = f"{queries[name]},{value}" if name in queries else value
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    now = time.time()
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if queries:
        event["queryStringParameters"] = queries
    if parameters:
        event["pathParameters"] = parameters
    if body:
        event["body"] = text
    if "cookie" in headers:
        event["cookies"] = [cookie.strip() for cookie in headers["cookie"].split(";")]
    return event


class Functions:
    """The Lambda Invoke API of `cargo lambda watch`, one connection per thread."""

    def __init__(self, lambda_url):
        parts = urlsplit(lambda_url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.local = threading.local()

    def invoke(self, function, event):
        body = json.dumps(event).encode()
        for attempt in range(2):
            connection = getattr(self.local, "connection", None)
            if connection is None:
                connection = self.local.connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
            try:
                connection.request(
                    "POST",
                    f"/2015-03-31/functions/{function}/invocations",
                    body=body,
                    headers={"Content-Type": "application/json"},
                )
                response = connection.getresponse()
                payload = response.read()
                return response.status, response.getheader("X-Amz-Function-Error"), payload
            except (http.client.HTTPException, OSError):
                # A kept-alive connection the other side closed: one fresh try.
                connection.close()
                self.local.connection = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


class Gateway(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "local-gateway"
    # Set on the class by main().
    routes, default, functions, site, openapi, storefront_config = [], None, None, None, None, None
    # The shop's pages' headers; the docs page's are SITE_HEADERS.
    shop_headers = SITE_HEADERS

    def log_message(self, format, *args):  # one line per request, as the stack's other logs
        log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        if self.command in ("GET", "HEAD") and self.serve_site(url.path):
            return
        function, route, parameters = self.route(self.command, url.path)
        event = self.event(route, url, parameters, body)
        try:
            status, error, payload = self.functions.invoke(function, event)
        except Exception as failure:  # the emulator itself is down
            log.warning("%s: %s", function, failure)
            return self.reply(502, {"Content-Type": "application/json"}, b'{"message":"Bad Gateway"}')
        if status != 200 or error:
            # API Gateway's own answer when the integration fails.
            log.warning("%s failed: %s", function, payload[:500])
            return self.reply(500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')
        self.relay(json.loads(payload or b"{}"))

    def route(self, method, path):
        for route_method, pattern, template_path, names, binary in self.routes:
            match = pattern.match(path)
            if match and route_method == method:
                return binary, f"{method} {template_path}", {name: match.group(name) for name in names}
        return self.default, "$default", None

    def event(self, route_key, url, parameters, body):
        headers = {}
        for name, value in self.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]},{value}" if name in headers else value
        return http_event(self.command, route_key, url.path, url.query, headers, parameters, body, self.client_address[0])

    def relay(self, answer):
        status = int(answer.get("statusCode", 200))
        headers = dict(answer.get("headers") or {})
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        body = answer.get("body") or ""
        payload = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
        self.reply(status, headers, payload, cookies=answer.get("cookies") or [])

    def reply(self, status, headers, payload, cookies=()):
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in cookies:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def serve_site(self, path):
        """The static site, as CloudFront serves it from S3; `False` when it is an API path."""
        if path == "/shop/config.js" and self.storefront_config is not None:
            return self.file_reply(self.storefront_config(), "text/javascript",
                                   {**self.shop_headers, "Cache-Control": "no-store"})
        if path == "/api/openapi.json" and self.openapi:
            return self.file_reply(Path(self.openapi).read_bytes(), "application/json")
        if path in ("/", "/index.html"):
            file = self.site / "index.html"
        elif path == "/api/docs":
            file = self.site / "api" / "docs" / "index.html"
        elif path.startswith("/shop/") or path.startswith("/api/docs/"):
            file = (self.site / path.lstrip("/")).resolve()
            if self.site.resolve() not in file.parents:
                return False
        else:
            return False
        if not file.is_file():
            return False
        content_type = CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        shop = not path.startswith("/api/")
        return self.file_reply(file.read_bytes(), content_type, self.shop_headers if shop else None)

    def file_reply(self, payload, content_type, headers=None):
        """`headers`: SITE_HEADERS, or the ones given (the shop's)."""
        headers = {**(headers or SITE_HEADERS), "Content-Type": content_type}
        self.reply(200, headers, payload)
        return True


def storefront_config_module(demo_sign_in):
    """`/shop/config.js`, the page's settings: where the API is, and (locally) the demo
    customers it offers to sign in as, with their tokens."""

    def module():
        sign_in = {"demo": json.loads(demo_sign_in)} if demo_sign_in else None
        config = {"apiBase": "", "signIn": sign_in}
        return f"export default {json.dumps(config)};\n".encode()

    return module


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s gateway %(levelname)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lambda-url", required=True, help="the Lambda Invoke API (cargo lambda watch)")
    parser.add_argument("--site", default=str(ROOT / "storefront"), help="the static site's folder")
    parser.add_argument("--openapi", help="the API document to serve at /api/openapi.json")
    parser.add_argument("--demo-sign-in", help="a file holding the demo customers' JSON list (local only)")
    parser.add_argument("--connect-src", action="append", default=[], metavar="ORIGIN",
                        help="an origin the shop's page may call besides its own (the local Stripe); repeatable")
    args = parser.parse_args()

    Gateway.routes, Gateway.default = routes_of(stack.load_template())
    Gateway.functions = Functions(args.lambda_url)
    Gateway.site = Path(args.site)
    Gateway.openapi = args.openapi
    Gateway.shop_headers = site_headers(args.connect_src)
    demo = Path(args.demo_sign_in).read_text().strip() if args.demo_sign_in else ""
    Gateway.storefront_config = staticmethod(storefront_config_module(demo))
    server = ThreadingHTTPServer((args.host, args.port), Gateway)
    server.daemon_threads = True
    log.info("serving %d routes and the site on http://%s:%d", len(Gateway.routes), args.host, args.port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
