import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RustFunction } from 'cargo-lambda-cdk';
import { buildFlowGuardApp } from '../lib/app';
import { FlowGuardStack } from '../lib/flowguard-stack';
import { ACCOUNT, actionsOf, allowing, logicalId, resourcesOf, roleStatements, tempDir, testApp } from './util';

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
    }
    // One delivery role for the account, in the first region's stack, trusting both regions.
    Template.fromStack(stacks[0]).hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'flowguard-delivery',
      AssumeRolePolicyDocument: {
        Statement: [{
          Condition: {
            ArnLike: { 'aws:SourceArn': ['us-east-1', 'eu-west-1'].map((r) => `arn:aws:ec2:${r}:${ACCOUNT}:vpc-flow-log/*`) },
          },
        }],
      },
    });
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

/** The roles named `flowguard-delivery` in a stack's template, by logical id. */
function deliveryRoles(stack: FlowGuardStack): Record<string, { [key: string]: any }> {
  return Template.fromStack(stack).findResources('AWS::IAM::Role', { Properties: { RoleName: 'flowguard-delivery' } });
}

/**
 * A role ARN of a template as the deployment resolves it (partition aws, account ACCOUNT unless
 * the stack names one): `Fn::GetAtt` of a role of the template (no path: `:role/NAME`), or an
 * `Fn::Join` of the partition and account.
 */
function resolvedArn(template: Template, value: unknown): string {
  const v = value as any;
  if (typeof v === 'string') {
    return v;
  }
  if (v['Fn::GetAtt'] !== undefined) {
    const [id, attribute] = v['Fn::GetAtt'];
    const resource = template.toJSON().Resources[id];
    expect([resource.Type, attribute]).toEqual(['AWS::IAM::Role', 'Arn']);
    return `arn:aws:iam::${ACCOUNT}:role/${resource.Properties.RoleName}`;
  }
  if (v['Fn::Join'] !== undefined) {
    const [separator, parts] = v['Fn::Join'];
    const refs: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::AccountId': ACCOUNT };
    return parts.map((p: any) => (typeof p === 'string' ? p : refs[p.Ref] ?? JSON.stringify(p))).join(separator);
  }
  throw new Error(`not a role ARN: ${JSON.stringify(value)}`);
}

describe('the delivery role of a deployment in several regions: one per account, flowguard-delivery', () => {
  const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/flowguard-delivery`;
  const regions = ['eu-west-1', 'us-east-1', 'ap-south-1'];
  const app = testApp({ regions: regions.join(','), logGroupName: '/vpc/{region}/flow-logs' });
  const stacks = buildFlowGuardApp(app, { account: ACCOUNT });
  const [first, ...others] = stacks;

  test('the first region\'s stack creates it, the other stacks create none', () => {
    expect(stacks.map((s) => [s.region, Object.keys(deliveryRoles(s)).length])).toEqual([
      ['eu-west-1', 1],
      ['us-east-1', 0],
      ['ap-south-1', 0],
    ]);
    expect(first.deliveryRoleRegions).toEqual(regions);
    for (const stack of others) {
      expect(stack.deliveryRoleRegions).toBeUndefined();
      // No role of the delivery's trust either, whatever its name.
      const roles = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'));
      expect(JSON.stringify(roles)).not.toContain('vpc-flow-logs.amazonaws.com');
    }
  });

  test('the other stacks depend on the first, which depends on none of them', () => {
    const assembly = app.synth();
    const dependencies = (name: string) => assembly.getStackByName(name).dependencies.map((d) => d.id);
    for (const stack of others) {
      expect(stack.dependencies).toEqual([first]);
      expect(dependencies(stack.stackName)).toContain(first.artifactId);
    }
    expect(first.dependencies).toEqual([]);
    const regionStacks = others.map((s) => s.artifactId);
    expect(dependencies(first.stackName).filter((id) => regionStacks.includes(id))).toEqual([]);
  });

  test('trusts VPC Flow Logs of this account in every region of the deployment, and no other', () => {
    const [role] = Object.values(deliveryRoles(first));
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': ACCOUNT },
          ArnLike: { 'aws:SourceArn': regions.map((r) => `arn:aws:ec2:${r}:${ACCOUNT}:vpc-flow-log/*`) },
        },
      },
    ]);
  });

  test('writes into the managed group of every region, and cannot create a log group', () => {
    const template = Template.fromStack(first);
    const [roleId] = Object.keys(deliveryRoles(first));
    const statements = roleStatements(template, roleId);
    expect(statements).toHaveLength(1);
    expect([...actionsOf(statements[0])].sort()).toEqual(['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents']);
    // (CDK sorts a statement's resources when it minimizes the policy.)
    expect([...resourcesOf(statements[0])].sort()).toEqual(
      regions
        .flatMap((r) => {
          const group = `arn:aws:logs:${r}:${ACCOUNT}:log-group:/vpc/${r}/flow-logs`;
          return [group, `${group}:*`];
        })
        .sort(),
    );
    expect(allowing(statements, 'logs:CreateLogGroup')).toEqual([]);
  });

  test('every function gets its ARN, and may pass and read that role only', () => {
    for (const stack of stacks) {
      const template = Template.fromStack(stack);
      const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
      const variable = fn.Properties.Environment.Variables.FLOWGUARD_DELIVERY_ROLE_ARN;
      expect(resolvedArn(template, variable)).toBe(ROLE_ARN);
      expect(resolvedArn(template, template.toJSON().Outputs.DeliveryRoleArn.Value)).toBe(ROLE_ARN);
      const statements = roleStatements(template, logicalId(stack, stack.functionRole));
      for (const action of ['iam:PassRole', 'iam:GetRole']) {
        const granted = allowing(statements, action);
        expect(granted).toHaveLength(1);
        expect(actionsOf(granted[0])).toEqual([action]);
        expect(resourcesOf(granted[0])).toEqual([variable]);
      }
      expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('iam:')).sort()).toEqual(['iam:GetRole', 'iam:PassRole']);
    }
    // In the first stack, the role's own ARN (CloudFormation creates the role before the function).
    const firstFn = Object.values(Template.fromStack(first).findResources('AWS::Lambda::Function'))[0];
    expect(firstFn.Properties.Environment.Variables.FLOWGUARD_DELIVERY_ROLE_ARN).toEqual({
      'Fn::GetAtt': [Object.keys(deliveryRoles(first))[0], 'Arn'],
    });
  });

  test('without credentials: the deploying account in the trust and in the ARN', () => {
    const agnostic = buildFlowGuardApp(testApp({ regions: 'us-east-1,eu-west-1' }), {});
    const [role] = Object.values(deliveryRoles(agnostic[0]));
    const flowLogs = (r: string) => ({ 'Fn::Join': ['', [`arn:aws:ec2:${r}:`, { Ref: 'AWS::AccountId' }, ':vpc-flow-log/*']] });
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': [flowLogs('us-east-1'), flowLogs('eu-west-1')] },
    });
    expect(deliveryRoles(agnostic[1])).toEqual({});
    const fn = Object.values(Template.fromStack(agnostic[1]).findResources('AWS::Lambda::Function'))[0];
    expect(fn.Properties.Environment.Variables.FLOWGUARD_DELIVERY_ROLE_ARN).toEqual({
      'Fn::Join': ['', ['arn:aws:iam::', { Ref: 'AWS::AccountId' }, ':role/flowguard-delivery']],
    });
    expect(agnostic[1].dependencies).toEqual([agnostic[0]]);
  });

  test('one region: its stack creates the role for that region alone', () => {
    const [only] = buildFlowGuardApp(testApp({ regions: 'us-east-1' }), { account: ACCOUNT });
    const [role] = Object.values(deliveryRoles(only));
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike).toEqual({
      'aws:SourceArn': `arn:aws:ec2:us-east-1:${ACCOUNT}:vpc-flow-log/*`,
    });
    expect(only.dependencies).toEqual([]);
  });

  test('with an S3 destination: no delivery role, and no dependency between the region stacks', () => {
    const s3 = buildFlowGuardApp(testApp({ regions: 'us-east-1,eu-west-1', destination: 's3://flow-logs-archive/vpc' }), {
      account: ACCOUNT,
    });
    for (const stack of s3) {
      expect(stack.deliveryRole).toBeUndefined();
      expect(stack.dependencies).toEqual([]);
      expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain('flowguard-delivery');
    }
  });

  test('a stack refuses a role that does not serve its region or its log group, or of another account', () => {
    const scratch = testApp();
    const owner = new FlowGuardStack(scratch, 'Owner', { env: { account: ACCOUNT, region: 'us-east-1' }, deliveryRoleSource: { regions: ['us-east-1'] } });
    expect(() => new FlowGuardStack(scratch, 'Elsewhere', { env: { account: ACCOUNT, region: 'eu-west-1' }, deliveryRoleSource: { createdBy: owner } })).toThrow(
      /the delivery role of Owner serves us-east-1, not eu-west-1/,
    );
    const wide = new FlowGuardStack(scratch, 'Wide', { env: { account: ACCOUNT, region: 'us-east-1' }, deliveryRoleSource: { regions: ['us-east-1', 'eu-west-1'] } });
    expect(() => new FlowGuardStack(scratch, 'OtherAccount', { env: { account: '999999999999', region: 'eu-west-1' }, deliveryRoleSource: { createdBy: wide } })).toThrow(
      /each account needs its own delivery role/,
    );
    expect(() => new FlowGuardStack(scratch, 'NotMine', { env: { account: ACCOUNT, region: 'eu-west-1' }, deliveryRoleSource: { regions: ['us-east-1'] } })).toThrow(
      /must serve its own region, eu-west-1/,
    );
    expect(() => new FlowGuardStack(scratch, 'OtherGroup', { env: { account: ACCOUNT, region: 'eu-west-1' }, logGroupName: '/flow', deliveryRoleSource: { createdBy: wide } })).toThrow(
      /the delivery role of Wide writes into \/vpc\/flow-logs, OtherGroup's flow logs into \/flow/,
    );
    const s3 = new FlowGuardStack(scratch, 'S3', { env: { account: ACCOUNT, region: 'us-east-1' }, destination: 's3://flow-logs-archive/vpc' });
    expect(() => new FlowGuardStack(scratch, 'NoRole', { env: { account: ACCOUNT, region: 'us-east-1' }, deliveryRoleSource: { createdBy: s3 } })).toThrow(
      /S3 creates no delivery role/,
    );
  });
});
