#!/usr/bin/env python3
"""The local stack's token issuer: what a Cognito user pool is in AWS.

  auth.py keygen DIR                  create DIR/private.pem and DIR/jwks.json once (RS256 key
                                      pair; the functions verify with the JWKS), plus
                                      DIR/other.pem, a key no one trusts (for the tests)
  auth.py env DIR                     the functions' AUTH_* settings, as KEY=VALUE lines
  auth.py token DIR --customer UUID   a token for that customer (an hour by default)
  auth.py token DIR --admin           a token in the admin group
  auth.py storefront-env DIR          STOREFRONT_DEMO_SIGNIN, the storefront's demo customers
                                      with tokens (12 hours), as a KEY=VALUE line (local only)

Tokens carry what Cognito ID tokens carry: iss, aud, sub, exp, iat, token_use and, for
admins, cognito:groups.
"""

import argparse
import base64
import json
import sys
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ISSUER = "https://auth.shop.localhost/local-pool"
AUDIENCE = "shop-local-client"
KEY_ID = "local-1"
ADMIN_SUBJECT = "00000000-0000-4000-8000-00000000ad01"
# Whom the local storefront offers to sign in as: the seed's customer and two more.
DEMO_CUSTOMERS = [
    ("550e8400-e29b-41d4-a716-446655440000", "Ada Lovelace (seed customer)"),
    ("6f9619ff-8b86-4d11-b42d-00c04fc964ff", "Grace Hopper"),
    ("0b1c2d3e-4f50-4a6b-8c7d-8e9fa0b1c2d3", "Alan Turing"),
]
DEMO_TTL = 12 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def write_key(path: Path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


def keygen(directory: Path):
    if (directory / "jwks.json").exists():
        return
    directory.mkdir(parents=True, exist_ok=True)
    public = write_key(directory / "private.pem").public_key().public_numbers()
    write_key(directory / "other.pem")
    jwks = {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": KEY_ID, "n": uint(public.n), "e": uint(public.e)}]}
    (directory / "jwks.json").write_text(json.dumps(jwks))


def env_lines(directory: Path) -> str:
    jwks = json.dumps(json.loads((directory / "jwks.json").read_text()), separators=(",", ":"))
    return f"AUTH_ISSUER={ISSUER}\nAUTH_AUDIENCE={AUDIENCE}\nAUTH_JWKS='{jwks}'\n"


def token(directory: Path, subject: str, admin: bool, ttl: int) -> str:
    key = serialization.load_pem_private_key((directory / "private.pem").read_bytes(), password=None)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + ttl, "token_use": "id"}
    if admin:
        claims["cognito:groups"] = ["admin"]
    header = {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def storefront_env(directory: Path) -> str:
    customers = [{"id": id, "name": name, "token": token(directory, id, False, DEMO_TTL)} for id, name in DEMO_CUSTOMERS]
    return f"STOREFRONT_DEMO_SIGNIN='{json.dumps(customers, separators=(',', ':'))}'\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("keygen", "env", "token", "storefront-env"):
        command = commands.add_parser(name)
        command.add_argument("directory", type=Path)
        if name == "token":
            who = command.add_mutually_exclusive_group(required=True)
            who.add_argument("--customer", type=uuid.UUID)
            who.add_argument("--admin", action="store_true")
            command.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid")
    args = parser.parse_args()
    if args.command == "keygen":
        keygen(args.directory)
    elif args.command == "env":
        sys.stdout.write(env_lines(args.directory))
    elif args.command == "storefront-env":
        sys.stdout.write(storefront_env(args.directory))
    else:
        subject = ADMIN_SUBJECT if args.admin else str(args.customer)
        print(token(args.directory, subject, args.admin, args.ttl))


if __name__ == "__main__":
    main()
