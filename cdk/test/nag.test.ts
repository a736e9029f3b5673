import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildFlowGuardApp } from '../lib/app';
import { ACCOUNT, REGION, synth, testApp } from './util';

const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

/** cdk-nag's AwsSolutions findings (errors and warnings) that no acknowledgement covers. */
function unacknowledged(scope: ReturnType<typeof synth>['app']) {
  return new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(scope)
    .violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
}

describe('cdk-nag AwsSolutions', () => {
  test.each([
    ['enforcing, defaults', {}],
    ['dry run', { dryRun: true }],
    ['per-VPC groups, KMS, e-mail, custom schedule', {
      logGroupName: '/vpc/{region}/{vpc_id}',
      kmsKeyArn: KMS_KEY,
      alarmEmail: 'secops@example.com',
      sweepSchedule: 'rate(30 minutes)',
    }],
    ['group name with region and account', { logGroupName: '/vpc/{account_id}/{region}/flow-logs', trafficType: 'ALL' as const }],
    ['KMS key template, reserved concurrency', {
      kmsKeyArn: 'arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      reservedConcurrency: 2,
    }],
    ['KMS alias, per-VPC groups', { kmsKeyArn: 'alias/flowguard-logs', logGroupName: '/vpc/{vpc_id}' }],
  ])('%s: zero unacknowledged errors or warnings', (_name, props) => {
    const { app } = synth(props);
    expect(unacknowledged(app)).toEqual([]);
  });

  test.each([
    ['enforcing', { regions: 'us-east-1,eu-west-1,ap-south-1' }],
    ['per-VPC groups named by region', { regions: 'us-east-1,eu-west-1', logGroupName: '/vpc/{region}/{vpc_id}' }],
  ])('an app of several regions (one delivery role, the others by name), %s: zero unacknowledged errors or warnings', (_name, context) => {
    const app = testApp(context);
    buildFlowGuardApp(app, { account: ACCOUNT });
    expect(unacknowledged(app)).toEqual([]);
  });

  test('is live: a new wildcard grant without a reason is reported', () => {
    const { app, stack } = synth();
    stack.functionRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:Describe*'], resources: ['*'] }));
    expect(unacknowledged(app)).toEqual([
      'error AwsSolutions-IAM5[Action::ec2:Describe*] at FlowGuard-test/FunctionRole/DefaultPolicy/Resource',
    ]);
  });

  test('every acknowledgement names its resource and gives a specific reason', () => {
    const { stack } = synth();
    const acknowledged: Array<[string, string, string]> = [];
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
            acknowledged.push([construct.node.path, id.replace(/^annotation::/i, ''), reason]);
          }
        }
      }
    }
    // On resources, never on the stack as a whole; wildcard findings one resource at a time.
    expect(acknowledged.map(([where]) => where)).not.toContain(stack.node.path);
    for (const [, id, reason] of acknowledged) {
      expect(id).toMatch(/^AwsSolutions-(IAM5\[Resource::.+\]|SQS3)$/);
      expect(reason.length).toBeGreaterThan(60);
    }
    expect(acknowledged.map(([where, id]) => `${where} ${id}`).sort()).toEqual([
      'FlowGuard-test/DeliveryRole AwsSolutions-IAM5[Resource::arn:aws:logs:us-east-1:111111111111:log-group:/vpc/flow-logs:*]',
      'FlowGuard-test/FunctionRole AwsSolutions-IAM5[Resource::*]',
      'FlowGuard-test/FunctionRole AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:111111111111:vpc-flow-log/*]',
      'FlowGuard-test/FunctionRole AwsSolutions-IAM5[Resource::arn:aws:ec2:us-east-1:111111111111:vpc/*]',
      'FlowGuard-test/FunctionRole AwsSolutions-IAM5[Resource::arn:aws:logs:us-east-1:111111111111:log-group:/vpc/flow-logs:*]',
      'FlowGuard-test/OnFailureQueue AwsSolutions-SQS3',
      'FlowGuard-test/RuleDeadLetterQueue AwsSolutions-SQS3',
    ]);
  });

  test('runs on every synth of the app, and a finding fails the synth', () => {
    const app = testApp({ regions: REGION });
    const [stack] = buildFlowGuardApp(app, { account: ACCOUNT });
    stack.functionRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:Get*'], resources: ['*'] }));
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:Get\*\]/);
    } finally {
      errors.mockRestore();
    }
  });

  test('a clean app synthesizes with an empty validation report', () => {
    const app = testApp({ regions: 'us-east-1,eu-west-1', dryRun: 'true' });
    buildFlowGuardApp(app, { account: ACCOUNT });
    const assembly = app.synth();
    const report = path.join(assembly.directory, 'validation-report.json');
    if (fs.existsSync(report)) {
      const json = JSON.parse(fs.readFileSync(report, 'utf8'));
      const violations = JSON.stringify(json).match(/"ruleName"/g) ?? [];
      expect(violations).toEqual([]);
    }
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['FlowGuard-eu-west-1', 'FlowGuard-us-east-1']);
  });
});
