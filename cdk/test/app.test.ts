import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RustFunction } from 'cargo-lambda-cdk';
import { buildFlowGuardApp } from '../lib/app';
import { ACCOUNT, tempDir, testApp } from './util';

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
    const dir = tempDir('zip-');
    const zip = path.join(dir, 'flowguard-lambda.zip');
    fs.writeFileSync(zip, 'zip');
    const [stack] = buildFlowGuardApp(testApp({ regions: 'us-east-1', lambdaZip: zip }), { account: ACCOUNT });
    expect(stack.function).not.toBeInstanceOf(RustFunction);
    const [built] = buildFlowGuardApp(testApp({ regions: 'us-east-1' }), { account: ACCOUNT });
    expect(built.function).toBeInstanceOf(RustFunction);
  });

  test('a KMS key per region: a template rendered per stack, or a map', () => {
    const envKey = (stack: { region: string }, stacks: ReturnType<typeof buildFlowGuardApp>) => {
      const template = Template.fromStack(stacks.find((s) => s.region === stack.region)!);
      const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
      const group = Object.values(template.findResources('AWS::Logs::LogGroup')).find((g) => g.Properties.LogGroupName);
      expect(group?.Properties.KmsKeyId).toEqual(fn.Properties.Environment.Variables.FLOWGUARD_KMS_KEY_ARN);
      return fn.Properties.Environment.Variables.FLOWGUARD_KMS_KEY_ARN;
    };
    const templated = buildFlowGuardApp(
      testApp({ regions: 'us-east-1,eu-west-1', kmsKeyArn: 'arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd12ab34cd56ef1234567890ab' }),
      { account: ACCOUNT },
    );
    expect(templated.map((s) => envKey(s, templated))).toEqual([
      `arn:aws:kms:us-east-1:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab`,
      `arn:aws:kms:eu-west-1:${ACCOUNT}:key/mrk-1234abcd12ab34cd56ef1234567890ab`,
    ]);
    const mapped = buildFlowGuardApp(
      testApp({
        regions: 'us-east-1,eu-west-1',
        kmsKeyArns: JSON.stringify({
          'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0d3c8a1e-2b4f-4c6d-8e9f-0a1b2c3d4e5f`,
          'us-east-1': `arn:aws:kms:us-east-1:${ACCOUNT}:key/5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c`,
        }),
      }),
      { account: ACCOUNT },
    );
    expect(mapped.map((s) => envKey(s, mapped))).toEqual([
      `arn:aws:kms:us-east-1:${ACCOUNT}:key/5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c`,
      `arn:aws:kms:eu-west-1:${ACCOUNT}:key/0d3c8a1e-2b4f-4c6d-8e9f-0a1b2c3d4e5f`,
    ]);
    // Without credentials the account is the deploying one: {account_id} becomes AWS::AccountId.
    const [agnostic] = buildFlowGuardApp(
      testApp({ regions: 'us-east-1', kmsKeyArn: 'arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd12ab34cd56ef1234567890ab' }),
      {},
    );
    expect(JSON.stringify(Template.fromStack(agnostic).toJSON())).toContain(
      '{"Fn::Join":["",["arn:aws:kms:us-east-1:",{"Ref":"AWS::AccountId"},":key/mrk-1234abcd12ab34cd56ef1234567890ab"]]}',
    );
  });

  test('a literal KMS key in a multi-region deployment fails the synth for the other region', () => {
    expect(() =>
      buildFlowGuardApp(
        testApp({ regions: 'us-east-1,eu-west-1', kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/abc` }),
        { account: ACCOUNT },
      ),
    ).toThrow(/kmsKeyArn .*must be a key in eu-west-1, the stack's region, not in us-east-1.*write \{region\} in the ARN/);
  });

  test('-c reservedConcurrency=none, or nothing, reserves nothing', () => {
    for (const context of [{}, { reservedConcurrency: 'none' }]) {
      const [stack] = buildFlowGuardApp(testApp({ regions: 'us-east-1', ...context }), { account: ACCOUNT });
      const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    const [reserved] = buildFlowGuardApp(testApp({ regions: 'us-east-1', reservedConcurrency: '4' }), { account: ACCOUNT });
    Template.fromStack(reserved).hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 4 });
  });

  test('a bad context value fails the synth with a message naming it', () => {
    expect(() => buildFlowGuardApp(testApp({ regions: 'us-east-1', trafficType: 'accept' }), { account: ACCOUNT })).toThrow(
      'invalid flowguard setting trafficType (FLOWGUARD_TRAFFIC_TYPE): "ACCEPT": must be REJECT or ALL',
    );
    expect(() => buildFlowGuardApp(testApp({ regions: 'us-east-1', retentionDays: '90' }), { account: ACCOUNT })).toThrow(
      /retentionDays \(FLOWGUARD_RETENTION_DAYS\): 90: must be a retention that CloudWatch Logs accepts and at least 365/,
    );
    expect(() => buildFlowGuardApp(testApp({ regions: 'us-east-1', destination: 'my-bucket' }), { account: ACCOUNT })).toThrow(
      /destination \(FLOWGUARD_DESTINATION\): "my-bucket": must be cloud-watch-logs or an S3 bucket/,
    );
    expect(() => buildFlowGuardApp(testApp({ regions: 'us-east-1', s3HivePartitions: 'yes' }), { account: ACCOUNT })).toThrow(
      /s3HivePartitions \(FLOWGUARD_S3_HIVE_PARTITIONS\): true: is an option of S3 destinations/,
    );
  });

  test('-c destination and the S3 options reach every region\'s Lambda; an S3:// scheme is refused', () => {
    const app = testApp({
      regions: 'us-east-1,eu-west-1',
      destination: ' S3://flow-logs-archive/vpc ',
      s3FileFormat: 'Parquet',
      s3PerHourPartition: 'YES',
      logFormat: '${version} ${srcaddr} ${dstaddr} ${action}',
    });
    // The scheme is s3:// in lower case, as the Lambda reads it.
    expect(() => buildFlowGuardApp(app, { account: ACCOUNT })).toThrow(/destination .*" S3:\/\/flow-logs-archive\/vpc ": must be/);
    const stacks = buildFlowGuardApp(
      testApp({ regions: 'us-east-1,eu-west-1', destination: 's3://flow-logs-archive/vpc', s3FileFormat: 'Parquet', s3PerHourPartition: 'YES' }),
      { account: ACCOUNT },
    );
    for (const stack of stacks) {
      Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            FLOWGUARD_DESTINATION: 'arn:{partition}:s3:::flow-logs-archive/vpc',
            FLOWGUARD_S3_FILE_FORMAT: 'parquet',
            FLOWGUARD_S3_HIVE_PARTITIONS: 'false',
            FLOWGUARD_S3_PER_HOUR_PARTITION: 'true',
          }),
        },
      });
      expect(stack.deliveryRole).toBeUndefined();
    }
  });
});
