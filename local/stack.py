#!/usr/bin/env python3
"""The local stack's AWS side, driven by template.yaml (the one source of truth).

  stack.py provision [--env-file F] [--credentials F [--iam]]
                     [--rabbitmq URL [--rabbitmq-queue Q] [--rabbitmq-transport]]
                     [--stripe URL --stripe-webhook-secret WHSEC] [--parameter NAME=VALUE ...]
                                      create the template's tables, queues and user pool on the
                                      engine at AWS_ENDPOINT_URL and write the functions'
                                      environment; with --credentials, write an AWS shared
                                      credentials file with a profile per function (named by its
                                      binary) and `local-admin`; with --iam (the engine enforces
                                      IAM), each function's profile is an IAM user holding exactly
                                      its role's policies; with --rabbitmq, the template's broker
                                      parameters for that broker, its credentials in a secret
                                      (see local_broker); with --stripe, the template's payment
                                      parameters for the local Stripe at URL, its keys in a
                                      secret (see local_stripe); --parameter sets any other
                                      template parameter, as `--parameter-overrides` would
  stack.py pollers --lambda-url URL   run the template's event sources: poll each SQS queue and
                                      DynamoDB stream and invoke the function it feeds, the way
                                      Lambda's event source mappings do (a stream's tumbling
                                      windows included), and invoke each scheduled function at
                                      its rate, as EventBridge's schedule rules do (every
                                      LOCAL_SCHEDULE_SECONDS seconds instead, when set); with
                                      LOCAL_RABBITMQ_URL set, also the Amazon MQ source (a
                                      RabbitMQ queue)
  stack.py dlq [--redrive]            show the messages in the order events dead-letter queue,
                                      or move them back to the queue to be consumed again

Functions are invoked through the Lambda Invoke API that `cargo lambda watch` serves.

The event sources take the template's parameters at their defaults, unless the environment
sets a variable of a parameter's name, as `--parameter-overrides` would: e.g.
OrderCountsWindowSeconds=2 for short tumbling windows, RelayMaximumRecordAgeSeconds=120.
"""

import argparse
import base64
import json
import logging
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("local-stack")

# Failed SQS messages come back after this many seconds instead of the queue's visibility
# timeout, so that retries and the dead-letter queue can be watched locally without waiting.
SQS_RETRY_DELAY = int(os.environ.get("LOCAL_SQS_RETRY_DELAY", "2"))

# The profile of the local administrator: provisioning, the event-source pollers and the tests.
ADMIN_PROFILE = "local-admin"


class Tagged(dict):
    """A CloudFormation intrinsic such as !Ref or !GetAtt, kept as {"Ref": value}."""


def _intrinsic(loader, tag_suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if name == "Fn::GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return Tagged({name: value})


class TemplateLoader(yaml.SafeLoader):
    pass


TemplateLoader.add_multi_constructor("!", _intrinsic)


def load_template(path=ROOT / "template.yaml"):
    with open(path) as handle:
        return yaml.load(handle, Loader=TemplateLoader)


def resources_of(template, kind):
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def parameter_value(template, name):
    """A parameter's value as `--parameter-overrides` would give it: from the environment under
    the parameter's name when set there (e.g. RelayMaximumRecordAgeSeconds=120 make dev), else
    its default."""
    return os.environ.get(name) or str(template["Parameters"][name].get("Default", ""))


def parameter_problems(template, parameters):
    """What CloudFormation would refuse of these parameter values: a name the template does
    not declare, a value outside its AllowedValues or not matching its AllowedPattern."""
    problems = []
    for name, value in parameters.items():
        declared = template.get("Parameters", {}).get(name)
        if declared is None:
            problems.append(f"{name} is no parameter of template.yaml")
            continue
        allowed = declared.get("AllowedValues")
        if allowed is not None and str(value) not in [str(item) for item in allowed]:
            problems.append(f"{name}={value!r} is none of {allowed}")
        pattern = declared.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, str(value)):
            problems.append(f"{name}={value!r} does not match {pattern}")
    return problems


def resolve_parameters(template, value):
    """The value with every !Ref to a parameter replaced by the parameter's value."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in template.get("Parameters", {}):
            return parameter_value(template, value["Ref"])
        return type(value)({key: resolve_parameters(template, item) for key, item in value.items()})
    if isinstance(value, list):
        return [resolve_parameters(template, item) for item in value]
    return value


def get_att(value):
    """(logical id, attribute) of a !GetAtt, else None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return logical_id, attribute
    return None


def function_binaries(template):
    """{function logical id: binary name} of every function."""
    return {
        name: resource["Metadata"]["BuildProperties"]["Binary"]
        for name, resource in resources_of(template, "AWS::Serverless::Function").items()
    }


class Engine:
    """Clients of the local engine. `settings` (keys, region) default to the environment's, and
    so do the endpoints (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>) unless `endpoint_url`."""

    def __init__(self, endpoint_url=None, **settings):
        self.session = boto3.session.Session(**settings)
        self.dynamodb = self.session.client("dynamodb", endpoint_url=endpoint_url)
        self.streams = self.session.client("dynamodbstreams", endpoint_url=endpoint_url)
        self.sqs = self.session.client("sqs", endpoint_url=endpoint_url)
        self.iam = self.session.client("iam", endpoint_url=endpoint_url)
        self.cognito = self.session.client("cognito-idp", endpoint_url=endpoint_url)
        self.sts = self.session.client("sts", endpoint_url=endpoint_url)
        self.secretsmanager = self.session.client("secretsmanager", endpoint_url=endpoint_url)
        self.events = self.session.client("events", endpoint_url=endpoint_url)
        self.region = self.sqs.meta.region_name

    def credentials(self):
        """The (access key id, secret) this engine's clients sign with."""
        frozen = self.session.get_credentials().get_frozen_credentials()
        return frozen.access_key, frozen.secret_key

    @cached_property
    def account_id(self):
        return self.sts.get_caller_identity()["Account"]

    def queue_url(self, name):
        return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def event_bus_arn(self, name):
        return f"arn:aws:events:{self.region}:{self.account_id}:event-bus/{name}"

    def queue_arn(self, name):
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url(name), AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]


# --- the template's intrinsics, resolved locally ------------------------------------------------

# The stack's one event bus, as the local engine names it.
LOCAL_EVENT_BUS = "shop-events"

NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


class Unresolvable(Exception):
    pass


class Resolver:
    """Resolves !Ref, !GetAtt, !Sub, !If and conditions to what the local engine made: tables
    and queues by their logical ids, the user pool by its name (its logical id). Parameters and
    conditions take their defaults; pseudo parameters are the engine's."""

    def __init__(self, template, engine, parameters=None):
        self.template, self.engine = template, engine
        self.resources = template["Resources"]
        self.parameters = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
        self.parameters.update(parameters or {})
        self.physical_ids = {}

    def kind(self, name):
        if name not in self.resources:
            raise Unresolvable(f"{name} is neither a parameter nor a resource of the template")
        return self.resources[name]["Type"]

    def ref(self, name):
        if name in self.parameters:
            return self.parameters[name]
        pseudo = {"AWS::Region": self.engine.region, "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
                  "AWS::StackName": "local"}
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::AccountId":
            return self.engine.account_id
        if name in pseudo:
            return pseudo[name]
        kind = self.kind(name)
        if kind == "AWS::DynamoDB::Table":
            return name
        if kind == "AWS::SQS::Queue":
            return self.engine.queue_url(name)
        if kind in ("AWS::Cognito::UserPool", "AWS::Cognito::UserPoolClient"):
            return self.user_pool_part(name)
        if kind == "AWS::Events::EventBus":
            return LOCAL_EVENT_BUS
        raise Unresolvable(f"!Ref {name}: a {kind} has no local counterpart")

    def user_pool_part(self, name, missing_ok=False):
        """The id of the user pool or app client `name` (locally named by its logical id)."""
        if name not in self.physical_ids:
            cognito = self.engine.cognito
            if self.kind(name) == "AWS::Cognito::UserPool":
                pages = cognito.get_paginator("list_user_pools").paginate(MaxResults=60)
                found = [p["Id"] for page in pages for p in page["UserPools"] if p["Name"] == name]
            else:
                pool = self.resolve(self.resources[name]["Properties"]["UserPoolId"])
                pages = cognito.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool, MaxResults=60)
                found = [c["ClientId"] for page in pages for c in page["UserPoolClients"] if c["ClientName"] == name]
            if not found:
                if missing_ok:
                    return None
                raise Unresolvable(f"{name} does not exist on the engine (run `stack.py provision`)")
            self.physical_ids[name] = found[0]
        return self.physical_ids[name]

    def get_att(self, name, attribute):
        kind = self.kind(name)
        if kind == "AWS::DynamoDB::Table" and attribute in ("Arn", "StreamArn"):
            table = self.engine.dynamodb.describe_table(TableName=name)["Table"]
            return table["TableArn" if attribute == "Arn" else "LatestStreamArn"]
        if kind == "AWS::SQS::Queue" and attribute in ("Arn", "QueueName", "QueueUrl"):
            return {"Arn": self.engine.queue_arn, "QueueName": str, "QueueUrl": self.engine.queue_url}[attribute](name)
        if kind == "AWS::Events::EventBus" and attribute in ("Arn", "Name"):
            return self.engine.event_bus_arn(LOCAL_EVENT_BUS) if attribute == "Arn" else LOCAL_EVENT_BUS
        if kind == "AWS::Cognito::UserPool" and attribute == "Arn":
            pool = self.user_pool_part(name)
            return f"arn:aws:cognito-idp:{self.engine.region}:{self.engine.account_id}:userpool/{pool}"
        raise Unresolvable(f"!GetAtt {name}.{attribute}: a {kind}'s {attribute} has no local counterpart")

    def condition(self, name):
        return bool(self.resolve(self.template["Conditions"][name]))

    def sub(self, argument):
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def one(match):
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", one, text)

    def resolve(self, value):
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                name, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(name, attribute)
            if key == "Fn::Sub":
                return self.sub(argument)
            if key == "Fn::If":
                condition, chosen, otherwise = argument
                return self.resolve(chosen if self.condition(condition) else otherwise)
            if key in ("Fn::Condition", "Condition") and isinstance(argument, str):
                return self.condition(argument)
            if key == "Fn::Equals":
                first, second = self.resolve(argument)
                return str(first) == str(second)
            if key == "Fn::Not":
                return not self.resolve(argument)[0]
            if key == "Fn::And":
                return all(self.resolve(argument))
            if key == "Fn::Or":
                return any(self.resolve(argument))
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(items))
        resolved = ((key, self.resolve(item)) for key, item in value.items())
        return {key: item for key, item in resolved if item is not NO_VALUE}


# --- provision -------------------------------------------------------------------------------

def provision(template, engine):
    """Creates every table, queue and user pool of the template (locally named by logical id),
    and its event bus (`shop-events`)."""
    queues = resources_of(template, "AWS::SQS::Queue")
    for name, resource in queues.items():
        props = resource.get("Properties", {})
        attributes = {
            key: str(props[key])
            for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")
            if key in props
        }
        engine.sqs.create_queue(QueueName=name, Attributes=attributes)
    for name, resource in queues.items():
        redrive = resource.get("Properties", {}).get("RedrivePolicy")
        if redrive:
            target, _ = get_att(redrive["deadLetterTargetArn"])
            policy = {"deadLetterTargetArn": engine.queue_arn(target), "maxReceiveCount": int(redrive["maxReceiveCount"])}
            engine.sqs.set_queue_attributes(
                QueueUrl=engine.queue_url(name), Attributes={"RedrivePolicy": json.dumps(policy)}
            )

    existing = set(engine.dynamodb.list_tables()["TableNames"])
    for name, resource in resources_of(template, "AWS::DynamoDB::Table").items():
        props = dict(resource["Properties"])
        indexes = secondary_indexes(props)
        if name in existing:
            check_indexes(engine, name, indexes)
            continue
        request = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        engine.dynamodb.create_table(**request)
        engine.dynamodb.get_waiter("table_exists").wait(TableName=name)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            engine.dynamodb.update_time_to_live(
                TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
            )
    if resources_of(template, "AWS::Events::EventBus"):
        buses = {bus["Name"] for bus in engine.events.list_event_buses()["EventBuses"]}
        if LOCAL_EVENT_BUS not in buses:
            engine.events.create_event_bus(Name=LOCAL_EVENT_BUS)
        provision_rules(template, engine)
    provision_user_pools(template, Resolver(template, engine))


def provision_rules(template, engine):
    """The template's rules on the stack's bus, each named by its logical id, to its queues."""
    resolver = Resolver(template, engine)
    for name, resource in resources_of(template, "AWS::Events::Rule").items():
        props = resource["Properties"]
        engine.events.put_rule(
            Name=name, EventBusName=LOCAL_EVENT_BUS, EventPattern=json.dumps(props["EventPattern"]), State="ENABLED"
        )
        targets = [{"Id": target["Id"], "Arn": resolver.resolve(target["Arn"])} for target in props["Targets"]]
        engine.events.put_targets(Rule=name, EventBusName=LOCAL_EVENT_BUS, Targets=targets)


def secondary_indexes(props):
    """The table's global secondary indexes as CreateTable takes them: name, key schema and
    projection (INCLUDE with its attributes, as in AWS: what an index leaves out, such as a
    product's stock, is not written to it, and a query of it does not return it)."""
    return [
        {"IndexName": index["IndexName"], "KeySchema": index["KeySchema"], "Projection": index["Projection"]}
        for index in props.get("GlobalSecondaryIndexes", [])
    ]


def projection_of(index):
    projection = index.get("Projection", {})
    return projection.get("ProjectionType"), sorted(projection.get("NonKeyAttributes", []))


def check_indexes(engine, table, indexes):
    """An engine that outlives the stack keeps its tables: refuses to go on with a table whose
    indexes are not the template's (the functions would query indexes that are not there, or
    read attributes an index no longer holds)."""
    described = engine.dynamodb.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
    have = {index["IndexName"]: (index["KeySchema"], projection_of(index)) for index in described}
    want = {index["IndexName"]: (index["KeySchema"], projection_of(index)) for index in indexes}
    if have != want:
        raise SystemExit(
            f"table {table} on the engine has other indexes than template.yaml's "
            f"({sorted(have)} vs {sorted(want)}, or their keys or projections differ): "
            "start the engine afresh, or delete the table, and provision again"
        )


# What CreateUserPool / CreateUserPoolClient / CreateGroup take of the template's properties
# (the same names in CloudFormation and in the API). The app client's hosted sign-in settings
# (OAuth flows, scopes, callback and logout URLs) are left out: the local engine serves no
# hosted sign-in, and the callback is the CloudFront distribution's address. So is the pool's
# LambdaConfig: moto's Cognito calls no triggers, and `auth.py sign-up` invokes the
# post-confirmation trigger itself; and its UserPoolTier, a billing plan moto has no notion of.
USER_POOL_PROPERTIES = ("UsernameAttributes", "AliasAttributes", "AutoVerifiedAttributes", "Policies", "Schema",
                        "MfaConfiguration", "AdminCreateUserConfig", "AccountRecoverySetting", "UsernameConfiguration",
                        "UserAttributeUpdateSettings", "UserPoolAddOns")
USER_POOL_CLIENT_PROPERTIES = ("GenerateSecret", "ExplicitAuthFlows", "PreventUserExistenceErrors", "ReadAttributes",
                               "WriteAttributes", "AccessTokenValidity", "IdTokenValidity", "RefreshTokenValidity",
                               "TokenValidityUnits", "EnableTokenRevocation")
USER_POOL_GROUP_PROPERTIES = ("Description", "Precedence")


def provision_user_pools(template, resolver):
    """The template's user pools, app clients and groups, in the engine's Cognito."""
    cognito = resolver.engine.cognito

    def settings(props, names):
        return {name: resolver.resolve(props[name]) for name in names if name in props}

    for name, resource in resources_of(template, "AWS::Cognito::UserPool").items():
        if resolver.user_pool_part(name, missing_ok=True) is None:
            cognito.create_user_pool(PoolName=name, **settings(resource.get("Properties", {}), USER_POOL_PROPERTIES))
    for name, resource in resources_of(template, "AWS::Cognito::UserPoolClient").items():
        props = resource["Properties"]
        if resolver.user_pool_part(name, missing_ok=True) is None:
            cognito.create_user_pool_client(UserPoolId=resolver.resolve(props["UserPoolId"]), ClientName=name,
                                            **settings(props, USER_POOL_CLIENT_PROPERTIES))
    for name, resource in resources_of(template, "AWS::Cognito::UserPoolGroup").items():
        props = resource["Properties"]
        try:
            cognito.create_group(UserPoolId=resolver.resolve(props["UserPoolId"]),
                                 GroupName=resolver.resolve(props.get("GroupName", name)),
                                 **settings(props, USER_POOL_GROUP_PROPERTIES))
        except cognito.exceptions.GroupExistsException:
            pass


# The services whose calls the local engine authorizes for the functions. The roles' other
# statements (CloudWatch Logs, X-Ray, and with a broker Amazon MQ and EC2) name services no
# local function reaches, so their local copies leave them out.
LOCALLY_AUTHORIZED_SERVICES = ("dynamodb", "sqs", "cognito-idp", "secretsmanager", "events")
# moto authorizes a Cognito request against the resource `*`, never the user pool it acts on,
# so a statement naming the pool would allow nothing there: locally a Cognito statement keeps
# its actions and names `*` (the engine holds the one pool of the template).
RESOURCE_UNCHECKED_SERVICES = ("cognito-idp",)


def local_policies(resolver, role):
    """{policy name: document} of a role, as the local engine can hold them: the statements for
    DynamoDB (streams included), SQS, Secrets Manager, EventBridge and Cognito, with their
    resources resolved to the engine's ARNs (Cognito's on `*`, see RESOURCE_UNCHECKED_SERVICES).
    No `dynamodb:TransactWriteItems` is added, although plain moto authorizes a transaction as
    that action on `*`: local/moto_server.py authorizes each item with its own action on its
    table (PutItem, UpdateItem, DeleteItem, ConditionCheckItem), as AWS does, so a role that
    lacks one of those fails locally as it would in AWS."""
    policies = {}
    for policy in role["Properties"].get("Policies", []):
        statements = []
        for statement in policy["PolicyDocument"]["Statement"]:
            if "Fn::If" in statement:
                statement = resolver.resolve(statement)  # only with its condition (at the defaults)
                if statement is NO_VALUE:
                    continue
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            kept = [action for action in actions if action.split(":", 1)[0] in LOCALLY_AUTHORIZED_SERVICES]
            if not kept:
                continue
            if all(action.split(":", 1)[0] in RESOURCE_UNCHECKED_SERVICES for action in kept):
                resource = "*"
            else:
                resource = resolver.resolve(statement["Resource"])
            statements.append({**statement, "Action": kept, "Resource": resource})
        if statements:
            policies[policy["PolicyName"]] = {"Version": "2012-10-17", "Statement": statements}
    return policies


def function_users(template, resolver):
    """Creates an IAM user per function (named by its binary) with its role's policies and a
    fresh access key; returns {binary: (access key id, secret)}."""
    iam, keys = resolver.engine.iam, {}
    for name, binary in function_binaries(template).items():
        role = template["Resources"][name]["Properties"]["Role"]["Fn::GetAtt"][0]
        policies = local_policies(resolver, template["Resources"][role])
        try:
            iam.create_user(UserName=binary)
        except iam.exceptions.EntityAlreadyExistsException:  # an engine that outlives the stack
            for key in iam.list_access_keys(UserName=binary)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=binary, AccessKeyId=key["AccessKeyId"])
            for policy in iam.list_user_policies(UserName=binary)["PolicyNames"]:
                iam.delete_user_policy(UserName=binary, PolicyName=policy)
        for policy, document in policies.items():
            iam.put_user_policy(UserName=binary, PolicyName=policy, PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=binary)["AccessKey"]
        keys[binary] = (key["AccessKeyId"], key["SecretAccessKey"])
    return keys


def write_credentials(path, profiles):
    """An AWS shared credentials file: {profile: (access key id, secret)}, readable by us only."""
    text = "".join(
        f"[{profile}]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n\n"
        for profile, (key, secret) in profiles.items()
    )
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text("")
    partial.chmod(0o600)
    partial.write_text(text)
    partial.replace(path)


def read_credentials(path):
    """{profile: (access key id, secret)} of a credentials file written by write_credentials."""
    import configparser

    parser = configparser.ConfigParser()
    parser.read(path)
    return {name: (parser[name]["aws_access_key_id"], parser[name]["aws_secret_access_key"])
            for name in parser.sections()}


def provision_credentials(template, engine, path, iam, parameters=None):
    """Writes the credentials file: `local-admin` (the keys this provisioning signs with) and a
    profile per function binary. With `iam` each function's profile is an IAM user of its own
    (see function_users); an engine that does not check IAM (DynamoDB Local, LocalStack) takes
    any keys, and there every function signs with the administrator's, which keeps everything
    it reaches in the one account the provisioning made it in."""
    admin = engine.credentials()
    if iam:
        functions = function_users(template, Resolver(template, engine, parameters))
    else:
        functions = {binary: admin for binary in function_binaries(template).values()}
    write_credentials(path, {ADMIN_PROFILE: admin, **dict(sorted(functions.items()))})


def local_endpoints(engine):
    """{AWS endpoint: local endpoint} of the services whose URLs the functions are given."""
    return {f"https://cognito-idp.{engine.region}.amazonaws.com": engine.cognito.meta.endpoint_url.rstrip("/")}


def function_environment(template, engine, parameters=None):
    """The environment every function gets, with the template's intrinsics resolved locally
    (its parameters at their defaults, but for those given)."""
    resolver = Resolver(template, engine, parameters)
    env = {}
    sections = [template.get("Globals", {}).get("Function", {})]
    # A function under a condition that does not hold is not deployed: its settings are not
    # everyone's (they are one environment here).
    sections += [
        r.get("Properties", {})
        for r in resources_of(template, "AWS::Serverless::Function").values()
        if "Condition" not in r or resolver.condition(r["Condition"])
    ]
    for section in sections:
        for key, value in section.get("Environment", {}).get("Variables", {}).items():
            if isinstance(value, dict) and value.get("Ref") in resolver.parameters and os.environ.get(key):
                # A parameter's value, as `--parameter-overrides` would give it: from the
                # environment when set there (e.g. RATE_LIMIT_PER_MINUTE=1000 make dev).
                value = os.environ[key]
            value = resolver.resolve(value)
            if value is NO_VALUE:
                continue  # set only under a condition (AWS_ENDPOINT_URL for sam local, the broker's)
            if key.endswith("_URL"):
                # A URL the function fetches (the user pool's JWKS) goes to the local engine; an
                # identifier such as the issuer stays as AWS writes it, as the tokens carry it.
                for aws, local in local_endpoints(engine).items():
                    if value.startswith(aws + "/"):
                        value = local + value[len(aws):]
            env[key] = str(value)
    # Locally, the tests' webhook receivers listen on 127.0.0.1: loopback (only) is allowed
    # there. Never in AWS, where the setting is not given.
    env["WEBHOOKS_ALLOW_LOOPBACK"] = "true"
    return env


# --- event sources ---------------------------------------------------------------------------

class FunctionError(Exception):
    pass


def invoke(lambda_url, function, event):
    """Invokes a function through the Lambda Invoke API; returns its JSON response."""
    request = urllib.request.Request(
        f"{lambda_url}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            body = response.read()
            function_error = response.headers.get("X-Amz-Function-Error")
    except urllib.error.HTTPError as error:
        raise FunctionError(f"{function}: HTTP {error.code}: {error.read()[:500]!r}") from error
    except (urllib.error.URLError, OSError) as error:
        raise FunctionError(f"{function}: {error}") from error
    result = json.loads(body) if body.strip() else {}
    if function_error or (isinstance(result, dict) and "errorType" in result):
        raise FunctionError(f"{function}: {result}")
    return result


def event_sources(template):
    """(function binary, event type, properties) for every SQS and DynamoDB event source, with
    the template's parameters filled in."""
    for resource in resources_of(template, "AWS::Serverless::Function").values():
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] in ("SQS", "DynamoDB"):
                yield binary, event["Type"], resolve_parameters(template, event["Properties"])


def schedule_sources(template):
    """(function binary, properties) for every Schedule event source (SAM's EventBridge
    schedule rule), with the template's parameters filled in and the rule's name added
    (`RuleName`: the event's Name, else one made of the function's and the event's logical
    ids, as SAM makes it but for the stack's name and the random suffix)."""
    for name, resource in resources_of(template, "AWS::Serverless::Function").items():
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        for event_name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] == "Schedule":
                props = resolve_parameters(template, event.get("Properties", {}))
                yield binary, {"RuleName": props.get("Name") or f"local-{name}{event_name}", **props}


# EventBridge's rate expressions: a positive whole number and a unit, singular for 1 and
# plural for more (rate(1 minute), rate(5 minutes)); AWS refuses rate(1 minutes) and
# rate(5 minute), and so does this.
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
RATE = re.compile(r"rate\(\s*([0-9]+)\s+([a-z]+?)(s?)\s*\)")


def rate_seconds(expression):
    """The period of an EventBridge rate expression, in seconds; ValueError for anything else
    (cron expressions included: the local stack runs rates only)."""
    match = RATE.fullmatch(expression.strip())
    if not match:
        raise ValueError(f"{expression!r} is no rate expression (rate(N minute|minutes|hour|hours|day|days))")
    value, unit, plural = int(match.group(1)), match.group(2), match.group(3)
    if unit not in RATE_UNITS:
        raise ValueError(f"{expression!r}: the unit is one of minute(s), hour(s), day(s)")
    if value < 1:
        raise ValueError(f"{expression!r}: the value must be 1 or more")
    if (value == 1) == bool(plural):
        raise ValueError(f"{expression!r}: the unit is singular for 1 and plural for more, as EventBridge requires")
    return value * RATE_UNITS[unit]


def schedule_period(expression):
    """Seconds between a schedule's invocations: LOCAL_SCHEDULE_SECONDS (a number, fractions
    allowed) when set, so that tests see a schedule work within seconds; else the rate's."""
    override = os.environ.get("LOCAL_SCHEDULE_SECONDS")
    if override:
        seconds = float(override)
        if not 0 < seconds < float("inf"):
            raise ValueError(f"LOCAL_SCHEDULE_SECONDS={override!r}: a number of seconds above 0")
        return seconds
    return rate_seconds(expression)


def scheduled_event(rule_arn, region, account, now=None):
    """The event EventBridge sends the target of a schedule rule."""
    now = datetime.now(timezone.utc) if now is None else now
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": now.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def schedule_enabled(props):
    """Whether a Schedule event's rule is enabled (SAM's Enabled, or its State)."""
    return props.get("Enabled") not in (False, "false", "False") and props.get("State", "ENABLED") != "DISABLED"


def schedule_poller(engine, lambda_url, function, props, stop):
    """An EventBridge schedule rule and its target: the function is invoked once a period
    (the first a period after the start), with the Scheduled Event, or with the rule's Input
    (a JSON text) in its place when it has one. A disabled rule (Enabled: false, or State
    DISABLED) invokes nothing. A failed invocation is logged, and the next comes at its time
    (locally there are no retries of the failed one). An invocation that outlasts the period
    delays the next; missed ones are not made up."""
    if not schedule_enabled(props):
        log.info("the schedule of %s is disabled", function)
        stop.wait()
        return
    period = schedule_period(props["Schedule"])
    rule_arn = f"arn:aws:events:{engine.region}:{engine.account_id}:rule/{props['RuleName']}"
    log.info("invoking %s every %g s (%s%s)", function, period, props["Schedule"],
             "; LOCAL_SCHEDULE_SECONDS" if os.environ.get("LOCAL_SCHEDULE_SECONDS") else "")
    due = time.monotonic() + period
    while not stop.wait(max(0.0, due - time.monotonic())):
        event = json.loads(props["Input"]) if props.get("Input") else scheduled_event(
            rule_arn, engine.region, engine.account_id)
        try:
            invoke(lambda_url, function, event)
        except FunctionError as error:
            log.warning("%s failed on its scheduled invocation: %s", function, error)
        due = max(due + period, time.monotonic())


def sqs_poller(engine, lambda_url, function, props, stop):
    """Lambda's SQS event source mapping: batches, partial batch failures, redrive to the DLQ."""
    queue, _ = get_att(props["Queue"])
    url, arn = engine.queue_url(queue), engine.queue_arn(queue)
    batch_size = min(int(props.get("BatchSize", 10)), 10)
    log.info("polling queue %s for %s", queue, function)
    while not stop.is_set():
        messages = engine.sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=batch_size,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            continue
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": a.get("StringValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": a["DataType"],
                    }
                    for name, a in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": engine.sqs.meta.region_name,
            }
            for m in messages
        ]
        try:
            result = invoke(lambda_url, function, {"Records": records})
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except FunctionError as error:
            log.warning("%s failed on a batch of %d: %s", function, len(messages), error)
            failed = {m["MessageId"] for m in messages}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            engine.sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
            )
        for m in messages:
            if m["MessageId"] in failed:
                engine.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=SQS_RETRY_DELAY
                )


def stream_record(record, stream_arn):
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    change.setdefault("SizeBytes", 0)
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", "us-east-1"),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


# How long DynamoDB keeps a stream record; Lambda stops retrying a record once it is gone.
STREAM_RETENTION_SECONDS = 24 * 3600


def instant(seconds):
    """An ISO 8601 instant in UTC, to the second, as Lambda writes a window's bounds."""
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Window:
    """One tumbling window of one shard: its bounds, and the state the function returned last
    (the aggregate of the window's records so far)."""

    def __init__(self, start, length):
        self.start, self.end, self.state = start, start + length, {}

    def bounds(self):
        return {"start": instant(self.start), "end": instant(self.end)}


class StreamDelivery:
    """Lambda's DynamoDB stream event source: in-order batches, retry from the first failed
    record, bisect a failing batch (which uses no attempts), and hand a record that keeps
    failing to the on-failure destination so that it cannot block the shard for ever: after
    MaximumRetryAttempts (-1, the default: no limit), or once it is older than
    MaximumRecordAgeInSeconds (-1, the default: the stream's retention).

    With TumblingWindowInSeconds, as Lambda documents for DynamoDB streams: each record belongs
    to the window (of the window's length, aligned to the epoch) in which it was written to the
    stream; each invocation carries its window's bounds, the shard, and the state the previous
    invocation of the window returned ({} at the window's start), and must answer with a state
    (an answer without one is a failed invocation). A reported record failure is retried from
    that record with the state the function returned; a failed invocation, with the state it
    was given. Once the window's end has passed (or a record of a later window comes), the
    function is invoked once more with no records, the state, and isFinalInvokeForWindow; that
    invocation is retried until it succeeds, the shard waiting meanwhile; then the next window
    starts with a fresh state. Windows are never terminated early here (the 1 MB state limit
    is not emulated)."""

    def __init__(self, engine, lambda_url, function, props, stream_arn, clock=time.time):
        self.engine, self.lambda_url, self.function = engine, lambda_url, function
        self.stream_arn, self.clock = stream_arn, clock
        self.max_retries = int(props.get("MaximumRetryAttempts", -1))
        max_age = int(props.get("MaximumRecordAgeInSeconds", -1))
        self.max_age = STREAM_RETENTION_SECONDS if max_age == -1 else min(max_age, STREAM_RETENTION_SECONDS)
        self.bisect = bool(props.get("BisectBatchOnFunctionError", False))
        destination = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        self.failure_queue = get_att(destination)[0] if destination else None
        self.window_length = int(props.get("TumblingWindowInSeconds", 0) or 0)
        self.windows = {}  # shard id: its open Window
        self.closed_until = {}  # shard id: the end of its last finished window

    def age(self, record):
        created = record["dynamodb"].get("ApproximateCreationDateTime")
        return self.clock() - float(created) if created is not None else 0.0

    def deliver(self, records, stop, shard_id="shardId-local"):
        """Delivers records read from one shard, in order; with tumbling windows, window by
        window, finishing a window before the first record of a later one."""
        if not self.window_length:
            self.attempt(records, stop, shard_id, None)
            return
        for start, group in self.by_window(records, shard_id):
            window = self.windows.get(shard_id)
            if window is not None and window.start != start:
                if not self.finish(stop, shard_id):
                    return  # stopping: the records wait, as they would in a paused shard
                window = None
            if window is None:
                window = self.windows[shard_id] = Window(start, self.window_length)
            self.attempt(group, stop, shard_id, window)

    def by_window(self, records, shard_id):
        """[(window start, records)] in stream order. A record belongs to the window its write
        time falls in; never to one that is already finished or older than the open one
        (a record seen late, or a clock that stepped back, joins the current window)."""
        open_window = self.windows.get(shard_id)
        floor = open_window.start if open_window else self.closed_until.get(shard_id, float("-inf"))
        groups = []
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            written = float(created) if created is not None else self.clock()
            floor = max(floor, written - written % self.window_length)
            if groups and groups[-1][0] == floor:
                groups[-1][1].append(record)
            else:
                groups.append((floor, [record]))
        return groups

    def close_expired(self, stop, shard_id):
        """Finishes the shard's open window once its end has passed."""
        window = self.windows.get(shard_id)
        if window is not None and self.clock() >= window.end:
            self.finish(stop, shard_id)

    def finish(self, stop, shard_id):
        """The window's final invocation, retried until it succeeds (Lambda pauses the shard
        meanwhile); True once the window is finished."""
        window, attempts = self.windows[shard_id], 0
        while not stop.is_set():
            try:
                self.invoke_batch([], shard_id, window, final=True)
                del self.windows[shard_id]
                self.closed_until[shard_id] = window.end
                return True
            except FunctionError as failure:
                attempts += 1
                log.warning("%s failed on the final invocation of the window %s: %s; retrying with the same state",
                            self.function, window.bounds()["start"], failure)
                time.sleep(min(0.25 * 2 ** min(attempts, 4), 4))
        return False

    def invoke_batch(self, records, shard_id, window, final=False):
        """Invokes the function with the records (and, in a window, the window's event); its
        answer. In a window the answer's state becomes the window's."""
        if window is None:
            return invoke(self.lambda_url, self.function, {"Records": records})
        event = {
            "Records": records,
            "window": window.bounds(),
            "state": dict(window.state),
            "shardId": shard_id,
            "eventSourceARN": self.stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": False,
        }
        result = invoke(self.lambda_url, self.function, event)
        if not isinstance(result, dict) or "state" not in result:
            raise FunctionError(f"{self.function}: the answer in a tumbling window has no state: {result!r}")
        if not final:
            window.state = result["state"] or {}
        return result

    def attempt(self, records, stop, shard_id, window):
        attempts, error = 0, None
        while records and not stop.is_set():
            expired = 0
            while expired < len(records) and self.age(records[expired]) > self.max_age:
                expired += 1
            if expired:
                self.give_up(records[:expired], shard_id, "RecordAgeExceeded", attempts, error)
                records, attempts, error = records[expired:], 0, None
                continue
            try:
                result = self.invoke_batch(records, shard_id, window)
                failures = [f.get("itemIdentifier") for f in result.get("batchItemFailures", [])]
                if not failures:
                    return
                numbers = [r["dynamodb"]["SequenceNumber"] for r in records]
                first = min((numbers.index(f) for f in failures if f in numbers), default=0)
                records, error = records[first:], None  # checkpoint: everything before it is done
                log.warning("%s reported a failure at %s; retrying from there", self.function, numbers[first])
            except FunctionError as failure:
                log.warning("%s failed on a batch of %d: %s", self.function, len(records), failure)
                error = "Unhandled"
                if self.bisect and len(records) > 1:
                    half = len(records) // 2
                    self.attempt(records[:half], stop, shard_id, window)
                    self.attempt(records[half:], stop, shard_id, window)
                    return
            attempts += 1
            if 0 <= self.max_retries < attempts:
                self.give_up(records[:1], shard_id, "RetryAttemptsExhausted", attempts, error)
                records, attempts, error = records[1:], 0, None
                continue
            time.sleep(min(0.25 * 2 ** min(attempts, 4), 4))

    def give_up(self, records, shard_id, condition, attempts, error):
        """Sends the on-failure record Lambda sends for a DynamoDB stream: where the records
        are in the stream (not the records themselves), and why they were given up on."""
        first, last = records[0]["dynamodb"], records[-1]["dynamodb"]
        log.error("%s gave up on stream records %s..%s (%s)", self.function,
                  first["SequenceNumber"], last["SequenceNumber"], condition)
        if not self.failure_queue:
            return

        def arrival(change):
            created = change.get("ApproximateCreationDateTime") or self.clock()
            return datetime.fromtimestamp(float(created), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

        info = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "version": "1.0",
            "timestamp": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrival(first),
                "approximateArrivalOfLastRecord": arrival(last),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        if attempts:  # records given up on before any invocation carry no response
            info["responseContext"] = {"statusCode": 200, "executedVersion": "$LATEST"}
            if error:
                info["responseContext"]["functionError"] = error
        self.engine.sqs.send_message(QueueUrl=self.engine.queue_url(self.failure_queue), MessageBody=json.dumps(info))


def stream_poller(engine, lambda_url, function, props, stop):
    table, _ = get_att(props["Stream"])
    stream_arn = engine.dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    delivery = StreamDelivery(engine, lambda_url, function, props, stream_arn)
    batch_size = int(props.get("BatchSize", 100))
    log.info("polling the stream of %s for %s%s", table, function,
             f" (tumbling windows of {delivery.window_length} s)" if delivery.window_length else "")
    # Like Lambda, remember how far each shard was delivered (its checkpoint) and read on
    # from there; a fresh iterator per poll never goes stale.
    checkpoints, shards, polls = {}, [], 0
    while not stop.is_set():
        busy = False
        if polls % 25 == 0:  # the shard list changes rarely: look again every 25 polls
            shards = engine.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        polls += 1
        for shard in shards:
            shard_id = shard["ShardId"]
            position = {"ShardIteratorType": props.get("StartingPosition", "TRIM_HORIZON")}
            if shard_id in checkpoints:
                position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": checkpoints[shard_id]}
            iterator = engine.streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, **position)
            output = engine.streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=batch_size)
            records = [stream_record(r, stream_arn) for r in output.get("Records", [])]
            if records:
                busy = True
                log.debug("%s: %d stream records, %s..%s", function, len(records),
                          records[0]["dynamodb"]["SequenceNumber"], records[-1]["dynamodb"]["SequenceNumber"])
                delivery.deliver(records, stop, shard_id)
                checkpoints[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            delivery.close_expired(stop, shard_id)  # a tumbling window whose end has passed
        if not busy:
            stop.wait(0.2)


def broker_parameters():
    """The template's broker parameters the local stack sets from the environment: the queue
    the consumer reads (LOCAL_RABBITMQ_QUEUE) and the stock requests' exchange and queues
    (LOCAL_INVENTORY_EXCHANGE, LOCAL_STOCK_CHECK_QUEUE, LOCAL_STOCK_DEDUCT_QUEUE), so that a
    test run's queues are its own on a shared broker."""
    names = {"RabbitMqQueue": "LOCAL_RABBITMQ_QUEUE", "InventoryExchange": "LOCAL_INVENTORY_EXCHANGE",
             "StockCheckQueue": "LOCAL_STOCK_CHECK_QUEUE", "StockDeductQueue": "LOCAL_STOCK_DEDUCT_QUEUE"}
    return {parameter: os.environ[variable] for parameter, variable in names.items() if os.environ.get(variable)}


def broker_sources(template, resolver):
    """(function binary, properties) for every Amazon MQ event source mapping, its parameters
    resolved."""
    functions = resources_of(template, "AWS::Serverless::Function")
    for mapping in resources_of(template, "AWS::Lambda::EventSourceMapping").values():
        props = mapping["Properties"]
        if "Queues" in props:
            function = functions[props["FunctionName"]["Ref"]]
            yield function["Metadata"]["BuildProperties"]["Binary"], {**props, "Queues": resolver.resolve(props["Queues"])}


def deploy_custom_resources(template, resolver, lambda_url):
    """CloudFormation's part in a deploy for each custom resource the template backs with a
    function: a Create request, and the answer the function PUTs to the response URL (a local
    listener here, a pre-signed S3 URL in AWS). Raises when a function reports FAILED."""
    from http.server import BaseHTTPRequestHandler, HTTPServer

    functions = function_binaries(template)
    for name, resource in template["Resources"].items():
        if not resource["Type"].startswith("Custom::"):
            continue
        answers = []

        class Answer(BaseHTTPRequestHandler):
            def do_PUT(self):
                answers.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        server = HTTPServer(("127.0.0.1", 0), Answer)
        threading.Thread(target=server.handle_request, daemon=True).start()
        props = {key: resolver.resolve(value) for key, value in resource["Properties"].items() if key != "ServiceToken"}
        function = functions[resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]]
        invoke(lambda_url, function, {
            "RequestType": "Create",
            "ServiceToken": function,
            "ResponseURL": f"http://127.0.0.1:{server.server_port}/{name}",
            "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/local/local",
            "RequestId": str(uuid.uuid4()),
            "ResourceType": resource["Type"],
            "LogicalResourceId": name,
            "ResourceProperties": props,
        })
        server.server_close()
        if not answers or answers[0].get("Status") != "SUCCESS":
            raise FunctionError(f"{name}: {answers[0] if answers else 'no answer'}")
        log.info("%s: %s", name, answers[0]["PhysicalResourceId"])


def broker_message(properties, body, redelivered):
    """One message as Lambda's Amazon MQ for RabbitMQ event carries it."""
    return {
        "basicProperties": {
            "contentType": properties.content_type,
            "contentEncoding": properties.content_encoding,
            "headers": properties.headers or {},
            "deliveryMode": properties.delivery_mode or 1,
            "priority": properties.priority or 0,
            "correlationId": properties.correlation_id,
            "replyTo": properties.reply_to,
            "expiration": properties.expiration,
            "messageId": properties.message_id,
            "timestamp": str(properties.timestamp) if properties.timestamp else None,
            "type": properties.type,
            "userId": properties.user_id,
            "appId": properties.app_id,
            "clusterId": properties.cluster_id,
            "bodySize": len(body),
        },
        "redelivered": redelivered,
        "data": base64.b64encode(body).decode(),
    }


def broker_poller(_engine, lambda_url, function, props, stop):
    """Lambda's Amazon MQ event source: batches from a RabbitMQ queue; the batch is acknowledged
    when the function succeeds and requeued whole when it fails (brokers get no partial-batch
    response)."""
    import pika  # only needed when a broker is configured

    queue = props["Queues"][0]
    batch_size, window = int(props.get("BatchSize", 10)), float(props.get("MaximumBatchingWindowInSeconds", 1))
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["LOCAL_RABBITMQ_URL"]))
    try:
        channel = connection.channel()
        # As the NestJS services declare it; the stock requests' queues are declared (and bound)
        # by their custom resource first, the same way.
        channel.queue_declare(queue=queue, durable=True)
        log.info("consuming RabbitMQ queue %s for %s", queue, function)
        while not stop.is_set():
            # The window opens with the batch's first message (a window of 0: batches of what
            # one read finds, that is one message).
            batch, deadline = [], None
            while len(batch) < batch_size and (deadline is None or time.monotonic() < deadline):
                method, properties, body = channel.basic_get(queue=queue, auto_ack=False)
                if method is None:
                    if batch:
                        break
                    connection.sleep(0.1)
                    if stop.is_set():
                        return
                    continue
                if deadline is None:
                    deadline = time.monotonic() + window
                batch.append((method, broker_message(properties, body, method.redelivered)))
            if not batch:
                continue
            event = {
                "eventSource": "aws:rmq",
                "eventSourceArn": LOCAL_BROKER_ARN,
                "rmqMessagesByQueue": {f"{queue}::/": [message for _, message in batch]},
            }
            last = batch[-1][0].delivery_tag
            try:
                invoke(lambda_url, function, event)
                channel.basic_ack(delivery_tag=last, multiple=True)
            except FunctionError as error:
                log.warning("%s failed on a broker batch of %d: %s", function, len(batch), error)
                channel.basic_nack(delivery_tag=last, multiple=True, requeue=True)
                stop.wait(SQS_RETRY_DELAY)
    finally:
        if connection.is_open:
            connection.close()


def run_pollers(template, engine, lambda_url):
    stop = threading.Event()
    threads = []
    # A run that serves only some functions (the benchmark's end to end) names them.
    only = set(filter(None, os.environ.get("LOCAL_POLLED_FUNCTIONS", "").split(",")))
    sources = [
        (function, sqs_poller if kind == "SQS" else stream_poller, props)
        for function, kind, props in event_sources(template)
        if not only or function in only
    ]
    schedules = [(function, props) for function, props in schedule_sources(template) if not only or function in only]
    for function, props in schedules:
        if schedule_enabled(props):
            schedule_period(props["Schedule"])  # a schedule the local stack cannot run stops it here, not later
    sources += [(function, schedule_poller, props) for function, props in schedules]
    if os.environ.get("LOCAL_RABBITMQ_URL"):
        resolver = Resolver(template, engine, broker_parameters())
        deploy_custom_resources(template, resolver, lambda_url)
        sources += [
            (function, broker_poller, props)
            for function, props in broker_sources(template, resolver)
        ]
    for function, target, props in sources:

        def loop(target=target, function=function, props=props):
            while not stop.is_set():
                try:
                    target(engine, lambda_url, function, props, stop)
                except Exception:  # keep polling through a passing engine error, as Lambda does
                    log.exception("poller for %s failed; restarting", function)
                    stop.wait(1)

        thread = threading.Thread(target=loop, name=function, daemon=True)
        thread.start()
        threads.append(thread)
    try:
        while all(t.is_alive() for t in threads):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop.set()


# --- dead-letter queue -----------------------------------------------------------------------

def dead_letter_queue(engine, queue):
    policy = engine.sqs.get_queue_attributes(QueueUrl=engine.queue_url(queue), AttributeNames=["RedrivePolicy"])
    arn = json.loads(policy["Attributes"]["RedrivePolicy"])["deadLetterTargetArn"]
    return engine.sqs.get_queue_url(QueueName=arn.rsplit(":", 1)[1])["QueueUrl"]


def show_or_redrive(engine, queue, redrive):
    """Prints every message of the queue's DLQ; with redrive, sends each back and deletes it."""
    dlq, source = dead_letter_queue(engine, queue), engine.queue_url(queue)
    seen, moved = set(), 0
    while True:
        messages = engine.sqs.receive_message(
            QueueUrl=dlq, MaxNumberOfMessages=10, VisibilityTimeout=30 if redrive else 5, AttributeNames=["All"]
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in seen]
        if not fresh:
            break
        for message in fresh:
            seen.add(message["MessageId"])
            print(json.dumps({"messageId": message["MessageId"], "body": message["Body"]}))
            if redrive:
                engine.sqs.send_message(QueueUrl=source, MessageBody=message["Body"])
                engine.sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
    print(f"{len(seen)} message(s) in the dead-letter queue of {queue}" + (f"; {moved} moved back" if redrive else ""), file=sys.stderr)


def show_or_redrive_broker(url, queue, redrive):
    """The same for a RabbitMQ queue: its dead letters are in `<queue>.dead-letters` (where the
    consumer moves a message it can never read); redrive publishes each back to the queue."""
    import pika  # only needed when a broker is configured

    dead_letters = f"{queue}.dead-letters"
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        try:
            channel.queue_declare(queue=dead_letters, passive=True)
        except pika.exceptions.ChannelClosedByBroker:
            print(f"0 message(s) in the dead letters of RabbitMQ queue {queue}", file=sys.stderr)
            return
        seen = 0
        while True:
            method, properties, body = channel.basic_get(queue=dead_letters, auto_ack=False)
            if method is None:
                break
            seen += 1
            print(json.dumps({"queue": dead_letters, "body": body.decode("utf-8", "replace")}))
            if redrive:
                # Confirmed by the broker before the dead letter is acknowledged: never lost.
                channel.basic_publish("", queue, body, properties)
                channel.basic_ack(method.delivery_tag)
        # Unacknowledged ones go back to the dead letters when the channel closes.
        print(
            f"{seen} message(s) in the dead letters of RabbitMQ queue {queue}" + (f"; {seen} moved back" if redrive else ""),
            file=sys.stderr,
        )
    finally:
        if connection.is_open:
            connection.close()


# The Amazon MQ broker the local broker stands for (the template's RabbitMqBrokerArn).
LOCAL_BROKER_ARN = "arn:aws:mq:us-east-1:000000000000:broker:local:b-local"
# The Secrets Manager secret holding the local broker's credentials.
LOCAL_BROKER_SECRET = "local-rabbitmq"


def local_broker(engine, url, queue=None, transport=False):
    """The template's RabbitMQ parameters for the broker at `url` (its credentials in the URL,
    e.g. amqp://guest:guest@127.0.0.1:5672/%2f), set up as in AWS: the credentials go into a
    Secrets Manager secret on the engine, and the functions are given the URL without them and
    the secret's ARN. With `queue` the consumer reads that queue (Amazon MQ's event source, see
    `pollers`); with `transport` the relay publishes there."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    credentials = {"username": unquote(parts.username or "guest"), "password": unquote(parts.password or "guest")}
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    try:
        engine.secretsmanager.create_secret(Name=LOCAL_BROKER_SECRET, SecretString=json.dumps(credentials))
    except engine.secretsmanager.exceptions.ResourceExistsException:  # an engine that outlives the stack
        engine.secretsmanager.put_secret_value(SecretId=LOCAL_BROKER_SECRET, SecretString=json.dumps(credentials))
    arn = engine.secretsmanager.describe_secret(SecretId=LOCAL_BROKER_SECRET)["ARN"]
    parameters = {"RabbitMqBrokerUrl": bare, "RabbitMqSecretArn": arn}
    if queue:
        parameters.update(broker_parameters())
        parameters.update(RabbitMqBrokerArn=LOCAL_BROKER_ARN, RabbitMqQueue=queue)
    if transport:
        parameters["OrderEventsTransport"] = "rabbitmq"
    return parameters


# The local Stripe's keys (local/stripe_local.py's defaults), and the Secrets Manager secret
# holding the secret key and the webhook signing secret.
LOCAL_STRIPE_API_KEY = "sk_test_local"
LOCAL_STRIPE_PUBLISHABLE_KEY = "pk_test_local"
LOCAL_STRIPE_SECRET = "local-stripe"


def local_stripe(engine, url, webhook_secret):
    """The template's payment parameters for the local Stripe at `url` (local/stripe_local.py,
    started with its default keys and `--webhook-secret webhook_secret`), set up as in AWS: the
    secret key and the webhook signing secret go into a Secrets Manager secret on the engine
    ({"apiKey": ..., "webhookSecrets": [...]}), and the functions are given its ARN."""
    if not webhook_secret.startswith("whsec_"):
        raise ValueError("a Stripe webhook signing secret starts with whsec_")
    value = json.dumps({"apiKey": LOCAL_STRIPE_API_KEY, "webhookSecrets": [webhook_secret]})
    try:
        engine.secretsmanager.create_secret(Name=LOCAL_STRIPE_SECRET, SecretString=value)
    except engine.secretsmanager.exceptions.ResourceExistsException:  # an engine that outlives the stack
        engine.secretsmanager.put_secret_value(SecretId=LOCAL_STRIPE_SECRET, SecretString=value)
    arn = engine.secretsmanager.describe_secret(SecretId=LOCAL_STRIPE_SECRET)["ARN"]
    return {"PaymentProvider": "stripe", "StripeApiBase": url.rstrip("/"), "StripeSecretArn": arn,
            "StripePublishableKey": LOCAL_STRIPE_PUBLISHABLE_KEY}


def provision_stack(template, engine, env_file=None, credentials=None, iam=False, parameters=None):
    """Everything `stack.py provision` does, with the template's `parameters` (e.g. from
    local_broker); returns the functions' environment."""
    provision(template, engine)
    env = function_environment(template, engine, parameters)
    if credentials:
        provision_credentials(template, engine, credentials, iam, parameters)
        # Each function names its own profile (AWS_PROFILE, in its crate's Cargo.toml); keys in
        # this environment would win over the profile, so there are none.
        env["AWS_SHARED_CREDENTIALS_FILE"] = str(Path(credentials).resolve())
    lines = "".join(f"{key}={value}\n" for key, value in sorted(env.items()))
    if env_file:
        Path(env_file).write_text(lines)
    else:
        sys.stdout.write(lines)
    return env


def main():
    logging.basicConfig(level=logging.INFO, format="%(asctime)s local-stack %(levelname)s %(message)s")
    log.setLevel(os.environ.get("LOCAL_STACK_LOG", "INFO"))
    logging.getLogger("botocore").setLevel(logging.WARNING)  # not where each client found its settings
    logging.getLogger("pika").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    prov = commands.add_parser("provision")
    prov.add_argument("--env-file", help="write the functions' environment here (KEY=VALUE lines)")
    prov.add_argument("--credentials", help="write the profiles (local-admin and one per function) here")
    prov.add_argument("--iam", action="store_true", help="the engine enforces IAM: a user per function")
    prov.add_argument("--rabbitmq", metavar="URL", help="a broker for the functions (its credentials in the URL; "
                      "they go into a Secrets Manager secret, as in AWS)")
    prov.add_argument("--rabbitmq-queue", help="the consumer reads this queue of the broker (Amazon MQ's event source)")
    prov.add_argument("--rabbitmq-transport", action="store_true", help="the relay publishes to the broker")
    prov.add_argument("--stripe", metavar="URL", help="the local Stripe (local/stripe_local.py) as the functions' "
                      "payment provider; its keys go into a Secrets Manager secret, as in AWS")
    prov.add_argument("--stripe-webhook-secret", metavar="WHSEC", help="the local Stripe's webhook signing secret "
                      "(its --webhook-secret)")
    prov.add_argument("--parameter", metavar="NAME=VALUE", action="append", default=[],
                      help="a template parameter's value, as `--parameter-overrides` gives it (repeatable)")
    poll = commands.add_parser("pollers")
    poll.add_argument("--lambda-url", default="http://127.0.0.1:9000")
    dlq = commands.add_parser("dlq")
    dlq.add_argument("--queue", default="OrderEventsQueue", help="the queue whose DLQ to read")
    dlq.add_argument("--redrive", action="store_true", help="move the messages back to the queue")
    args = parser.parse_args()

    if not os.environ.get("AWS_ENDPOINT_URL"):
        sys.exit("AWS_ENDPOINT_URL must point at the local engine (e.g. http://127.0.0.1:5000)")
    template, engine = load_template(), Engine()
    if args.command == "provision":
        if args.iam and not args.credentials:
            parser.error("--iam needs --credentials")
        if (args.rabbitmq_queue or args.rabbitmq_transport) and not args.rabbitmq:
            parser.error("--rabbitmq-queue and --rabbitmq-transport need --rabbitmq")
        if bool(args.stripe) != bool(args.stripe_webhook_secret):
            parser.error("--stripe and --stripe-webhook-secret go together")
        if args.stripe_webhook_secret and not args.stripe_webhook_secret.startswith("whsec_"):
            parser.error("--stripe-webhook-secret: a Stripe webhook signing secret starts with whsec_")
        overrides = {}
        for item in args.parameter:
            name, equals, value = item.partition("=")
            if not equals:
                parser.error(f"--parameter {item}: NAME=VALUE")
            overrides[name] = value
        problems = parameter_problems(template, overrides)
        if problems:
            parser.error("--parameter: " + "; ".join(problems))
        parameters = {}
        if args.rabbitmq:
            parameters.update(local_broker(engine, args.rabbitmq, args.rabbitmq_queue, args.rabbitmq_transport))
        if args.stripe:
            stripe = local_stripe(engine, args.stripe, args.stripe_webhook_secret)
            problems = parameter_problems(template, stripe)
            if problems:
                sys.exit("the local Stripe's parameters are not what template.yaml takes: " + "; ".join(problems))
            parameters.update(stripe)
        parameters.update(overrides)
        provision_stack(template, engine, args.env_file, args.credentials, args.iam, parameters or None)
    elif args.command == "dlq":
        show_or_redrive(engine, args.queue, args.redrive)
        if os.environ.get("LOCAL_RABBITMQ_URL"):
            queue = os.environ.get("LOCAL_RABBITMQ_QUEUE", "order_created")
            show_or_redrive_broker(os.environ["LOCAL_RABBITMQ_URL"], queue, args.redrive)
    else:
        run_pollers(template, engine, args.lambda_url.rstrip("/"))


if __name__ == "__main__":
    main()
