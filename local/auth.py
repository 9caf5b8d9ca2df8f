#!/usr/bin/env python3
"""Sign-in on the local stack: the user pool (Cognito in moto, as in AWS) and the local issuer.

The user pool of template.yaml is created in the local engine's Cognito (local/stack.py
provision); people sign up and sign in there exactly as in AWS, and its ID tokens are bearer
tokens for the API:

  auth.py sign-up EMAIL PASSWORD [--admin] [--name NAME] [--lambda-url URL]
                                             SignUp, confirmed by an administrator
                                             (AdminConfirmSignUp: no e-mail with a code is
                                             sent locally, so the address counts as verified,
                                             as the code would make it), then the pool's
                                             post-confirmation trigger (customer-signup: the
                                             customer's profile), invoked through the running
                                             stack's Lambda Invoke API since moto's Cognito
                                             calls no triggers; with --admin added to the
                                             `admin` group (AdminAddUserToGroup)
  auth.py sign-in EMAIL PASSWORD             AdminInitiateAuth (ADMIN_USER_PASSWORD_AUTH, with the
                                             administrator's keys): prints the ID token

The local issuer is a second issuer that only the local stack trusts: a key pair of its own,
for tokens of any chosen customer id (`make token`), the storefront's demo sign-in and the
tests:

  auth.py keygen DIR                  create DIR/private.pem and DIR/jwks.json once (RS256 key
                                      pair; the functions verify with the JWKS), plus
                                      DIR/other.pem, a key no one trusts (for the tests)
  auth.py local-env --jwks-url URL    the functions' AUTH_LOCAL_* settings (the local issuer
                                      beside the user pool), as KEY=VALUE lines; with
                                      --only-issuer, AUTH_ISSUER, AUTH_AUDIENCE and AUTH_JWKS_URL
                                      of the local issuer instead, for functions that trust one
                                      issuer only (as under `sam local`, see local/sam-env.json)
  auth.py env DIR                     the local issuer as the functions' only issuer, its key set
                                      inline (AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS)
  auth.py token DIR --customer UUID   a token for that customer (an hour by default)
  auth.py token DIR --admin           a token in the admin group
  auth.py storefront-env DIR          STOREFRONT_DEMO_SIGNIN, the storefront's demo customers
                                      with tokens (12 hours), as a KEY=VALUE line (local only)

Local tokens carry what Cognito ID tokens carry: iss, aud, sub, exp, iat, nbf, token_use and,
for admins, cognito:groups.
"""

import argparse
import base64
import functools
import json
import sys
import time
import uuid
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# Cognito picks each user's `sub` itself (a random UUID, shown at sign-up), so a token for a
# customer id chosen beforehand (`make token CUSTOMER=<uuid>`, the sample orders' customer, the
# demo customers, every test's own customer) can only come from an issuer of our own: this one,
# which only the local stack trusts (AUTH_LOCAL_*), never template.yaml.
ISSUER = "https://auth.shop.localhost/local-pool"
AUDIENCE = "shop-local-client"
KEY_ID = "local-1"
ADMIN_SUBJECT = "00000000-0000-4000-8000-00000000ad01"
# Whom the local storefront offers to sign in as: the sample orders' customer and two more.
DEMO_CUSTOMERS = [
    ("550e8400-e29b-41d4-a716-446655440000", "Ada Lovelace (sample orders)"),
    ("6f9619ff-8b86-4d11-b42d-00c04fc964ff", "Grace Hopper"),
    ("0b1c2d3e-4f50-4a6b-8c7d-8e9fa0b1c2d3", "Alan Turing"),
]
DEMO_TTL = 12 * 3600
ROOT = Path(__file__).resolve().parent.parent
# The Lambda Invoke API when no running stack names its own (`cargo lambda watch`'s default).
DEFAULT_LAMBDA_URL = "http://127.0.0.1:9000"


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


def local_env_lines(jwks_url: str, only_issuer: bool) -> str:
    prefix = "AUTH_" if only_issuer else "AUTH_LOCAL_"
    return f"{prefix}ISSUER={ISSUER}\n{prefix}AUDIENCE={AUDIENCE}\n{prefix}JWKS_URL={jwks_url}\n"


def env_lines(directory: Path) -> str:
    jwks = json.dumps(json.loads((directory / "jwks.json").read_text()), separators=(",", ":"))
    return f"AUTH_ISSUER={ISSUER}\nAUTH_AUDIENCE={AUDIENCE}\nAUTH_JWKS='{jwks}'\n"


@functools.lru_cache(maxsize=4)
def signing_key(path: Path, modified_ns: int):
    """The private key at `path` as it was at `modified_ns`: read and checked once, since a
    test run signs a token for nearly every request, and checking an RSA key costs tens of
    milliseconds."""
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def token(directory: Path, subject: str, admin: bool, ttl: int) -> str:
    path = directory / "private.pem"
    key = signing_key(path, path.stat().st_mtime_ns)
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "nbf": now, "exp": now + ttl, "token_use": "id"}
    if admin:
        claims["cognito:groups"] = ["admin"]
    header = {"alg": "RS256", "typ": "JWT", "kid": KEY_ID}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


def storefront_env(directory: Path) -> str:
    customers = [{"id": id, "name": name, "token": token(directory, id, False, DEMO_TTL)} for id, name in DEMO_CUSTOMERS]
    # And the shop's admin, for the orders and catalogue pages.
    customers.append({"id": ADMIN_SUBJECT, "name": "Shop admin", "token": token(directory, ADMIN_SUBJECT, True, DEMO_TTL), "admin": True})
    return f"STOREFRONT_DEMO_SIGNIN='{json.dumps(customers, separators=(',', ':'))}'\n"


def user_pool(engine=None):
    """(Cognito client, pool id, app client id, admin group) of the template's user pool on the
    engine (by default AWS_ENDPOINT_URL's, or AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER's)."""
    import stack

    template = stack.load_template()
    engine = engine or stack.Engine()
    resolver = stack.Resolver(template, engine)
    pool = next(iter(stack.resources_of(template, "AWS::Cognito::UserPool")))
    client = next(iter(stack.resources_of(template, "AWS::Cognito::UserPoolClient")))
    group = next(iter(stack.resources_of(template, "AWS::Cognito::UserPoolGroup").values()))["Properties"]["GroupName"]
    return engine.cognito, resolver.ref(pool), resolver.ref(client), group


class TriggerFailed(Exception):
    """The user pool's post-confirmation trigger failed: the person is confirmed, without the
    profile the trigger makes."""


def post_confirmation_trigger(template=None):
    """The binary of the function template.yaml's user pool invokes once a sign-up is confirmed
    (its LambdaConfig's PostConfirmation)."""
    import stack

    template = template or stack.load_template()
    pool = next(iter(stack.resources_of(template, "AWS::Cognito::UserPool").values()))
    target = pool["Properties"]["LambdaConfig"]["PostConfirmation"]
    return stack.function_binaries(template)[stack.get_att(target)[0]]


def post_confirmation_event(cognito, pool, client, username):
    """The event Cognito sends the post-confirmation trigger when a person confirms their
    sign-up, with the user's attributes as the pool holds them."""
    user = cognito.admin_get_user(UserPoolId=pool, Username=username)
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user["UserAttributes"]}
    attributes["cognito:user_status"] = user["UserStatus"]
    return {
        "version": "1",
        "region": cognito.meta.region_name,
        "userPoolId": pool,
        # A pool whose user names are e-mail addresses names each user by their sub.
        "userName": user["Username"],
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": attributes},
        "response": {},
    }


def running_stack_lambda_url(cognito_endpoint):
    """The Lambda Invoke API of the running local stack whose user pool is at `cognito_endpoint`:
    the one its event-source pollers invoke, as their command line in the stack's state
    (.local/stack-<port>/, see scripts/stack.sh) names it. None when no such stack runs."""
    prefix = cognito_endpoint.rstrip("/") + "/"
    for state in sorted((ROOT / ".local").glob("stack-*")):
        try:
            env = dict(line.split("=", 1) for line in (state / "functions.env").read_text().splitlines() if "=" in line)
            pid = int((state / "pollers.pid").read_text())
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except (OSError, ValueError):
            continue
        if env.get("AUTH_JWKS_URL", "").startswith(prefix) and "--lambda-url" in argv[:-1]:
            return argv[argv.index("--lambda-url") + 1]
    return None


def sign_up(email: str, password: str, admin: bool, engine=None, name=None, lambda_url=None) -> str:
    """Signs a person up as a customer does, confirms them as an administrator would (no e-mail
    is sent locally, so the address is marked verified, as confirming the e-mailed code would),
    runs the pool's post-confirmation trigger as Cognito would (moto's calls none) and, for an
    admin, adds them to the admin group. Returns their `sub`; raises TriggerFailed when the
    trigger fails."""
    import stack

    cognito, pool, client, group = user_pool(engine)
    attributes = [{"Name": "email", "Value": email}] + ([{"Name": "name", "Value": name}] if name else [])
    answer = cognito.sign_up(ClientId=client, Username=email, Password=password, UserAttributes=attributes)
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username=email)
    cognito.admin_update_user_attributes(UserPoolId=pool, Username=email,
                                         UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    function = post_confirmation_trigger()
    url = (lambda_url or running_stack_lambda_url(cognito.meta.endpoint_url) or DEFAULT_LAMBDA_URL).rstrip("/")
    try:
        stack.invoke(url, function, post_confirmation_event(cognito, pool, client, email))
    except stack.FunctionError as error:
        raise TriggerFailed(f"{email} is confirmed, but the post-confirmation trigger ({function} through the "
                            f"Lambda Invoke API at {url}) failed, so they have no profile: {error}") from error
    if admin:
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=group)
    return answer["UserSub"]


# How the local scripts sign in: the admin flow, signed with the administrator's keys, which
# the app client allows beside SRP. Its public password flow (USER_PASSWORD_AUTH) is off, and
# moto's SRP takes any password.
SIGN_IN_FLOW = "ADMIN_USER_PASSWORD_AUTH"


def sign_in(email: str, password: str, engine=None) -> str:
    """The ID token of an administrator's sign-in with the person's password (AdminInitiateAuth,
    ADMIN_USER_PASSWORD_AUTH): the API's bearer token."""
    cognito, pool, client, _ = user_pool(engine)
    answer = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client, AuthFlow=SIGN_IN_FLOW,
                                         AuthParameters={"USERNAME": email, "PASSWORD": password})
    return answer["AuthenticationResult"]["IdToken"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("sign-up", "sign-in"):
        command = commands.add_parser(name)
        command.add_argument("email")
        command.add_argument("password")
        if name == "sign-up":
            command.add_argument("--admin", action="store_true", help="add to the admin group")
            command.add_argument("--name", help="the person's name (the `name` attribute)")
            command.add_argument("--lambda-url", help="the Lambda Invoke API the trigger is invoked through "
                                 f"(default: the running stack's, else {DEFAULT_LAMBDA_URL})")
    local = commands.add_parser("local-env")
    local.add_argument("--jwks-url", required=True, help="where the local issuer's JWKS is served")
    local.add_argument("--only-issuer", action="store_true", help="as AUTH_ISSUER, AUTH_AUDIENCE, AUTH_JWKS_URL")
    for name in ("keygen", "env", "token", "storefront-env"):
        command = commands.add_parser(name)
        command.add_argument("directory", type=Path)
        if name == "token":
            who = command.add_mutually_exclusive_group(required=True)
            who.add_argument("--customer", type=uuid.UUID)
            who.add_argument("--admin", action="store_true")
            command.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid")
    args = parser.parse_args()
    if args.command in ("sign-up", "sign-in"):
        import botocore.exceptions

        try:
            if args.command == "sign-up":
                subject = sign_up(args.email, args.password, args.admin, name=args.name, lambda_url=args.lambda_url)
                print(f"{args.email} signed up{' (admin)' if args.admin else ''}: customer id {subject}", file=sys.stderr)
            else:
                print(sign_in(args.email, args.password))
        except botocore.exceptions.ClientError as error:  # e.g. a taken e-mail, a weak password
            sys.exit(f"{args.command}: {error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}")
        except botocore.exceptions.EndpointConnectionError as error:
            sys.exit(f"{args.command}: is the local stack running? {error}")
        except TriggerFailed as error:
            sys.exit(f"{args.command}: {error}")
    elif args.command == "local-env":
        sys.stdout.write(local_env_lines(args.jwks_url, args.only_issuer))
    elif args.command == "keygen":
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
