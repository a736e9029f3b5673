import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { RustFunction } from 'cargo-lambda-cdk';
import { buildFlowGuardApp } from '../lib/app';
import { ACCOUNT, testApp } from './util';

describe('the app', () => {
  test('one stack per region of -c regions, settings from the context', () => {
    const app = testApp({ regions: 'us-east-1,eu-west-1', dryRun: 'true', retentionDays: '400' });
    const stacks = buildFlowGuardApp(app, { account: ACCOUNT, region: 'ap-south-1' });
    expect(stacks.map((s) => [s.stackName, s.region, s.account])).toEqual([
      ['FlowGuard-us-east-1', 'us-east-1', ACCOUNT],
      ['FlowGuard-eu-west-1', 'eu-west-1', ACCOUNT],
    ]);
    for (const stack of stacks) {
      expect(stack.config.dryRun).toBe(true);
      const template = Template.fromStack(stack);
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { FLOWGUARD_DRY_RUN: 'true', FLOWGUARD_RETENTION_DAYS: '400' } },
      });
      // Each region's delivery role trusts flow logs of that region only.
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [{
            Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:ec2:${stack.region}:${ACCOUNT}:vpc-flow-log/*` } },
          }],
        },
      });
    }
  });

  test('the default region when the context names none', () => {
    const stacks = buildFlowGuardApp(testApp(), { account: ACCOUNT, region: 'eu-north-1' });
    expect(stacks.map((s) => s.stackName)).toEqual(['FlowGuard-eu-north-1']);
    expect(stacks[0].config.dryRun).toBe(false);
  });

  test('an account-agnostic synth (no credentials) uses the deploying account', () => {
    const [stack] = buildFlowGuardApp(testApp({ regions: 'us-east-1' }), {});
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
      },
    });
  });

  test('-c lambdaZip deploys a prebuilt package instead of building crates/lambda', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowguard-zip-'));
    const zip = path.join(dir, 'flowguard-lambda.zip');
    fs.writeFileSync(zip, 'zip');
    const [stack] = buildFlowGuardApp(testApp({ regions: 'us-east-1', lambdaZip: zip }), { account: ACCOUNT });
    expect(stack.function).not.toBeInstanceOf(RustFunction);
    const [built] = buildFlowGuardApp(testApp({ regions: 'us-east-1' }), { account: ACCOUNT });
    expect(built.function).toBeInstanceOf(RustFunction);
  });

  test('a bad context value fails the synth with a message naming it', () => {
    expect(() => buildFlowGuardApp(testApp({ regions: 'us-east-1', trafficType: 'accept' }), { account: ACCOUNT })).toThrow(
      'invalid flowguard setting trafficType (FLOWGUARD_TRAFFIC_TYPE): "ACCEPT": must be REJECT or ALL',
    );
    expect(() => buildFlowGuardApp(testApp({ regions: 'us-east-1', retentionDays: '90' }), { account: ACCOUNT })).toThrow(
      /retentionDays \(FLOWGUARD_RETENTION_DAYS\): 90: must be a retention that CloudWatch Logs accepts and at least 365/,
    );
  });
});
