"""Tests of scripts/lib/iam_check.py: each deliberately wrong statement of the fixture is reported,
the correct fixture passes, and the skip list works both ways. Run by scripts/test-cdk:
    .venv/bin/python -m unittest discover -s scripts/lib -p 'test_iam_check.py'
"""

import io
import sys
import tempfile
import unittest
from contextlib import redirect_stdout
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import iam_check  # noqa: E402

FIXTURES = Path(__file__).parent / "iam_check_fixtures"
WRONG = FIXTURES / "wrong.template.json"
RIGHT = FIXTURES / "right.template.json"


def found(path: Path) -> set[tuple[str, str, str, str]]:
    findings, _ = iam_check.check([path])
    return {(f.tool, f.issue, f.subject, f.where.split(" statement ")[-1]) for f in findings}


class WrongStatements(unittest.TestCase):
    findings = found(WRONG)

    def assertReported(self, issue: str, subject: str, sid: str) -> None:
        self.assertIn(("iam-check", issue, subject, sid), self.findings)

    def test_an_action_that_does_not_exist(self) -> None:
        self.assertReported("UNKNOWN_ACTION", "ec2:DescribeVpcz", "NoSuchAction")
        self.assertIn(("parliament", "UNKNOWN_ACTION", "ec2:DescribeVpcz", "wrong.template.json Policy"), self.findings)

    def test_a_resource_of_another_type(self) -> None:
        # ec2:DeleteFlowLogs is authorized on vpc-flow-log only, never on an instance ARN (rendered
        # from Fn::Join with the partition).
        self.assertReported("RESOURCE_MISMATCH", "ec2:DeleteFlowLogs", "WrongResourceType")

    def test_a_condition_key_that_the_action_does_not_support(self) -> None:
        self.assertReported("UNKNOWN_CONDITION_KEY", "ec2:DescribeVpcs", "InapplicableConditionKey")
        # In a trust policy too: s3:prefix means nothing to sts:AssumeRole.
        self.assertReported("UNKNOWN_CONDITION_KEY", "sts:AssumeRole", "0")

    def test_an_action_without_resource_types_given_a_resource(self) -> None:
        # The ARN comes from Fn::GetAtt of the log group (name and :* rendered).
        self.assertReported("NO_RESOURCE_TYPE", "logs:DescribeLogGroups", "NoResourceTypeGivenAResource")

    def test_star_for_an_action_with_resource_types(self) -> None:
        self.assertReported("RESOURCE_STAR", "iam:PassRole", "StarWithResourceTypes")

    def test_a_resource_that_no_action_of_its_statement_uses(self) -> None:
        # The bucket ARN comes from Fn::Sub with a Ref to the log group.
        self.assertReported("RESOURCE_MISMATCH", "logs:CreateLogStream,logs:PutLogEvents", "ResourceOfNoAction")
        self.assertNotIn(("iam-check", "RESOURCE_MISMATCH", "logs:CreateLogStream", "ResourceOfNoAction"), self.findings)

    def test_an_unknown_condition_operator(self) -> None:
        self.assertReported("UNKNOWN_OPERATOR", "StringEqualz", "UnknownOperator")

    def test_the_templates_that_stacksets_embed(self) -> None:
        self.assertIn(("iam-check", "UNKNOWN_ACTION", "sts:AssumeRoles", "0"), self.findings)
        findings, _ = iam_check.check([WRONG])
        embedded = [f for f in findings if f.subject == "sts:AssumeRoles"]
        self.assertEqual([f.where for f in embedded], ["wrong.template.json StackSet/TemplateBody: Role (trust) statement 0"])

    def test_the_command_fails(self) -> None:
        with redirect_stdout(io.StringIO()) as out:
            self.assertEqual(iam_check.main([str(WRONG)]), 1)
        self.assertIn("UNKNOWN_ACTION ec2:DescribeVpcz", out.getvalue())


class RightStatements(unittest.TestCase):
    def test_nothing_is_reported(self) -> None:
        # Trust, inline, managed, queue and key policies; Fn::Sub, Fn::GetAtt, Fn::Join and Ref
        # rendered; a key policy's "*"; aws:RequestTag on vpc-flow-log; global keys.
        findings, counts = iam_check.check([RIGHT])
        self.assertEqual([str(f) for f in findings], [])
        self.assertEqual(counts, {"templates": 1, "documents": 5, "statements": 8})


class Skips(unittest.TestCase):
    def run_with(self, skips: str) -> tuple[int, str]:
        with tempfile.NamedTemporaryFile("w", suffix=".md") as file:
            file.write(skips)
            file.flush()
            with redirect_stdout(io.StringIO()) as out:
                code = iam_check.main(["--skips", file.name, str(RIGHT)])
        return code, out.getvalue()

    def test_a_skip_that_matches_nothing_fails_as_stale(self) -> None:
        code, out = self.run_with("- iam-check RESOURCE_STAR iam:PassRole: a reason\n")
        self.assertEqual(code, 1)
        self.assertIn("stale skip", out)

    def test_a_listed_finding_is_skipped(self) -> None:
        lines = "".join(
            f"- {tool} {issue} {subject}: the fixture is wrong on purpose\n"
            for tool, issue, subject, _ in found(WRONG)
        )
        with tempfile.NamedTemporaryFile("w", suffix=".md") as file:
            file.write(lines)
            file.flush()
            with redirect_stdout(io.StringIO()) as out:
                self.assertEqual(iam_check.main(["--skips", file.name, str(WRONG)]), 0, out.getvalue())


if __name__ == "__main__":
    unittest.main()
