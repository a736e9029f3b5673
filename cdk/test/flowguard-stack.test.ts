import childProcess = require('node:child_process');
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { Bundling } from 'cargo-lambda-cdk/lib/bundling';
import { DELIVERY_ROLE_NAME, FACTS } from '../lib/facts';
import { FlowGuardStack, LAMBDA_BINARY, LAMBDA_PACKAGE, WORKSPACE_MANIFEST } from '../lib/flowguard-stack';
import {
  ACCOUNT,
  REGION,
  Statement,
  actionsOf,
  allStatements,
  allowing,
  logicalId,
  resourcesOf,
  roleStatements,
  synth,
  tempDir,
  testApp,
} from './util';

const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const FLOW_LOG_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc-flow-log/*`;
const VPC_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc/*`;
const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/vpc/flow-logs`;
const REPO_ROOT = path.join(__dirname, '..', '..');

/** Everything the account lets flowguard change, apart from its own logs and failure queue. */
const WRITES = [
  'ec2:CreateFlowLogs',
  'ec2:DeleteFlowLogs',
  'ec2:CreateTags',
  'ec2:DeleteTags',
  'logs:CreateLogGroup',
  'logs:PutRetentionPolicy',
  'logs:DeleteRetentionPolicy',
  'logs:DeleteLogGroup',
  'logs:TagResource',
  'logs:TagLogGroup',
  'logs:AssociateKmsKey',
  'iam:PassRole',
];

function functionStatements(stack: FlowGuardStack, template: ReturnType<typeof synth>['template']): Statement[] {
  return roleStatements(template, logicalId(stack, stack.functionRole));
}

function bySid(statements: Statement[], sid: string): Statement {
  const found = statements.filter((s) => s.Sid === sid);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('the Lambda function', () => {
  const { stack, template } = synth();

  test('is the arm64 provided.al2023 build of crates/lambda, with JSON logs and no reserved concurrency', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Architectures: ['arm64'],
      Handler: 'bootstrap',
      Timeout: 60,
      MemorySize: 256,
      // A new account (concurrency quota 10) cannot reserve anything: AWS keeps 100 unreserved.
      ReservedConcurrentExecutions: Match.absent(),
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: logicalId(stack, stack.function.logGroup as never) } },
      Role: { 'Fn::GetAtt': [logicalId(stack, stack.functionRole), 'Arn'] },
    });
  });

  test('gets the configuration table as its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          FLOWGUARD_DELIVERY_ROLE_ARN: { 'Fn::GetAtt': [logicalId(stack, stack.deliveryRole!), 'Arn'] },
          FLOWGUARD_LOG_GROUP: '/vpc/flow-logs',
          FLOWGUARD_RETENTION_DAYS: '365',
          FLOWGUARD_TRAFFIC_TYPE: 'REJECT',
          FLOWGUARD_DRY_RUN: 'false',
          FLOWGUARD_EXEMPT_TAG: 'flowguard:exempt',
          FLOWGUARD_MAX_AGGREGATION_INTERVAL: '600',
        },
      },
    });
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    expect(Object.keys(fn.Properties.Environment.Variables)).not.toContain('FLOWGUARD_KMS_KEY_ARN');
  });

  test('passes every non-default setting through', () => {
    const custom = synth({
      dryRun: true,
      retentionDays: 731,
      trafficType: 'ALL',
      logGroupName: '/flow/{region}/{vpc_id}',
      exemptTag: 'sec:exempt',
      kmsKeyArn: KMS_KEY,
      maxAggregationInterval: 60,
      reservedConcurrency: 2,
    });
    custom.template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 2,
      Environment: {
        Variables: {
          // The Lambda substitutes the placeholders itself.
          FLOWGUARD_LOG_GROUP: '/flow/{region}/{vpc_id}',
          FLOWGUARD_RETENTION_DAYS: '731',
          FLOWGUARD_TRAFFIC_TYPE: 'ALL',
          FLOWGUARD_DRY_RUN: 'true',
          FLOWGUARD_EXEMPT_TAG: 'sec:exempt',
          FLOWGUARD_KMS_KEY_ARN: KMS_KEY,
          FLOWGUARD_MAX_AGGREGATION_INTERVAL: '60',
        },
      },
    });
  });

  test('keeps its own log (the reports) for a year', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 365, LogGroupName: Match.absent() },
      DeletionPolicy: 'Retain',
    });
  });

  test('retries asynchronous invocations twice for up to an hour, then sends them to the on-failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, stack.function) },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack, stack.onFailureQueue), 'Arn'] } },
      },
    });
  });

  test('reserves concurrency only when asked to; "none" is the same as nothing', () => {
    synth({ reservedConcurrency: 3 }).template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
    });
    synth({ reservedConcurrency: 'none' }).template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  test('is built from the workspace root, selecting the flowguard-lambda package and binary', () => {
    const bundle = jest.spyOn(Bundling, 'bundle');
    try {
      new FlowGuardStack(testApp(), 'WorkspaceBuild', { env: { account: ACCOUNT, region: REGION } });
      expect(bundle).toHaveBeenCalledTimes(1);
      const options = bundle.mock.calls[0][0];
      // The manifest (and so the directory that cargo-lambda builds in, or mounts in Docker) is
      // the root one, which declares the workspace that crates/lambda inherits from.
      expect(path.resolve(options.manifestPath)).toBe(path.resolve(REPO_ROOT, 'Cargo.toml'));
      expect(path.resolve(WORKSPACE_MANIFEST)).toBe(path.resolve(REPO_ROOT, 'Cargo.toml'));
      const root = fs.readFileSync(options.manifestPath, 'utf8');
      expect(root).toMatch(/^\[workspace\]/m);
      expect(root).toMatch(/members = \[[^\]]*"crates\/lambda"/);
      const lambdaCrate = fs.readFileSync(path.join(REPO_ROOT, 'crates', 'lambda', 'Cargo.toml'), 'utf8');
      expect(lambdaCrate).toMatch(new RegExp(`^name = "${LAMBDA_PACKAGE}"`, 'm'));
      expect(lambdaCrate).toMatch(new RegExp(`\\[\\[bin\\]\\]\\s*name = "${LAMBDA_BINARY}"`));
      expect(lambdaCrate).toMatch(/\.workspace = true/); // what a build from crates/lambda alone would miss
      // The command that cargo-lambda-cdk runs (computed here without running anything).
      const cache = Bundling as unknown as { runsLocally?: boolean };
      const saved = cache.runsLocally;
      cache.runsLocally = false;
      try {
        const bundling = new Bundling(path.dirname(options.manifestPath), options);
        expect(bundling.command.join(' ')).toMatch(
          /cargo lambda build .*--release --arm64 --bin flowguard-lambda --flatten flowguard-lambda --package flowguard-lambda$/,
        );
      } finally {
        cache.runsLocally = saved;
      }
    } finally {
      bundle.mockRestore();
    }
  });

  test('synthesizes without starting cargo (no bundling, no cargo-lambda probe)', () => {
    Bundling.clearRunsLocallyCache(); // as in a fresh `cdk synth` process
    const spawnSync = jest.spyOn(childProcess, 'spawnSync');
    const execSync = jest.spyOn(childProcess, 'execSync');
    try {
      const app = testApp();
      new FlowGuardStack(app, 'NoCargo', { env: { account: ACCOUNT, region: REGION } });
      app.synth();
      const commands = [...spawnSync.mock.calls, ...execSync.mock.calls].map((c) => String(c[0]));
      expect(commands.filter((c) => c.includes('cargo'))).toEqual([]);
    } finally {
      spawnSync.mockRestore();
      execSync.mockRestore();
    }
  });

  test('can deploy a prebuilt zip instead (-c lambdaZip=...)', () => {
    const dir = tempDir('zip-');
    const zip = path.join(dir, 'bootstrap.zip');
    fs.writeFileSync(zip, 'not really a zip');
    const prebuilt = synth({ lambdaZip: zip });
    prebuilt.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'provided.al2023',
      Architectures: ['arm64'],
      Handler: 'bootstrap',
      LoggingConfig: { LogFormat: 'JSON' },
    });
  });
});

describe('the outputs', () => {
  test('name what an operator looks for after a deployment', () => {
    const { stack, template } = synth();
    template.hasOutput('FunctionName', { Value: { Ref: logicalId(stack, stack.function) } });
    template.hasOutput('FunctionLogGroup', { Value: { Ref: logicalId(stack, stack.function.logGroup as never) } });
    template.hasOutput('DeliveryRoleArn', { Value: { 'Fn::GetAtt': [logicalId(stack, stack.deliveryRole!), 'Arn'] } });
    template.hasOutput('FlowLogGroup', { Value: '/vpc/flow-logs' });
    template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(stack, stack.alarmTopic) } });
    template.hasOutput('DryRun', { Value: 'false' });
  });
});

describe('the managed log group', () => {
  test('has the configured retention, is retained on stack deletion and tagged managed-by=flowguard', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: '/vpc/flow-logs',
        RetentionInDays: 365,
        KmsKeyId: Match.absent(),
        Tags: [{ Key: 'managed-by', Value: 'flowguard' }],
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('uses the configured retention and KMS key', () => {
    const { template } = synth({ retentionDays: 3653, kmsKeyArn: KMS_KEY });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/vpc/flow-logs',
      RetentionInDays: 3653,
      KmsKeyId: KMS_KEY,
    });
  });

  test('substitutes {region} and {account_id} in the name', () => {
    const { template } = synth({ logGroupName: '/vpc/{account_id}/{region}' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/vpc/${ACCOUNT}/${REGION}` });
  });

  test('is not created when the name has {vpc_id}: the Lambda creates one group per VPC', () => {
    const { template } = synth({ logGroupName: '/vpc/{vpc_id}', kmsKeyArn: KMS_KEY });
    template.resourceCountIs('AWS::Logs::LogGroup', 1); // the function's own
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { FLOWGUARD_LOG_GROUP: '/vpc/{vpc_id}', FLOWGUARD_KMS_KEY_ARN: KMS_KEY } },
    });
  });

  test('refuses a KMS key of another region', () => {
    expect(() => synth({ kmsKeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abc` })).toThrow(
      /kmsKeyArn .*must be a key in us-east-1, the stack's region, not in eu-west-1/,
    );
    expect(() => synth({ kmsKeyArns: { [REGION]: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abc` } })).toThrow(
      /kmsKeyArns .*is listed for us-east-1 but is a key in eu-west-1/,
    );
  });

  test('renders {region} and {account_id} in the KMS key for the group and the Lambda', () => {
    const { template } = synth({ kmsKeyArn: 'arn:aws:kms:{region}:{account_id}:key/mrk-0123456789abcdef0123456789abcdef' });
    const rendered = `arn:aws:kms:${REGION}:${ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef`;
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/vpc/flow-logs', KmsKeyId: rendered });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLOWGUARD_KMS_KEY_ARN: rendered }) },
    });
  });

  test('takes the key of its own region from a per-region map', () => {
    const mine = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;
    const { template } = synth({ kmsKeyArns: { 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/66666666-7777-4888-9999-aaaaaaaaaaaa`, [REGION]: mine } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/vpc/flow-logs', KmsKeyId: mine });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLOWGUARD_KMS_KEY_ARN: mine }) },
    });
    expect(() => synth({ kmsKeyArns: { 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/66666666-7777-4888-9999-aaaaaaaaaaaa` } })).toThrow(
      /kmsKeyArns .*has no key for us-east-1/,
    );
  });

  test('is not created with a KMS alias: the Lambda resolves the alias and creates the group', () => {
    // CloudFormation's LogGroup (like CreateLogGroup) takes only a key ARN, and the stack cannot
    // resolve an alias; the Lambda does, with kms:DescribeKey, right before its CreateLogGroup.
    const { template } = synth({ kmsKeyArn: 'alias/flowguard-logs' });
    template.resourceCountIs('AWS::Logs::LogGroup', 1); // the function's own
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLOWGUARD_LOG_GROUP: '/vpc/flow-logs', FLOWGUARD_KMS_KEY_ARN: 'alias/flowguard-logs' }) },
    });
    template.hasOutput('FlowLogGroup', { Value: '/vpc/flow-logs' });
    // From a per-region map too; another region's key ARN does not matter to this stack.
    const map = synth({ kmsKeyArns: { [REGION]: 'alias/flowguard-logs', 'eu-west-1': `arn:aws:kms:eu-west-1:${ACCOUNT}:key/abc` } });
    map.template.resourceCountIs('AWS::Logs::LogGroup', 1);
    map.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLOWGUARD_KMS_KEY_ARN: 'alias/flowguard-logs' }) },
    });
  });

  test('refuses an invalid retention at synth time', () => {
    expect(() => synth({ retentionDays: 30 })).toThrow(/retentionDays \(FLOWGUARD_RETENTION_DAYS\): 30/);
  });
});

describe('the delivery role', () => {
  const { stack, template } = synth();
  const deliveryRoleId = logicalId(stack, stack.deliveryRole!);

  test('is named flowguard-delivery, the name of the facts\' default ARN (setup-role and the spokes use it too)', () => {
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'flowguard-delivery' });
    expect(template.toJSON().Resources[deliveryRoleId].Properties.RoleName).toBe(DELIVERY_ROLE_NAME);
    expect(FACTS.organization.delivery_role_arn.default).toBe(`arn:{partition}:iam::{account_id}:role/${DELIVERY_ROLE_NAME}`);
    expect(stack.deliveryRoleRegions).toEqual([REGION]);
  });

  test('trusts only VPC Flow Logs of this account and region (confused deputy)', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT },
              ArnLike: { 'aws:SourceArn': FLOW_LOG_ARN },
            },
          },
        ],
      },
    });
  });

  test('may write only to the managed log group', () => {
    const statements = roleStatements(template, deliveryRoleId);
    expect(statements).toHaveLength(1);
    // No logs:DescribeLogGroups: it has no resource type, so a grant on the group never applied.
    expect([...actionsOf(statements[0])].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:DescribeLogStreams',
      'logs:PutLogEvents',
    ]);
    expect(resourcesOf(statements[0])).toEqual([GROUP_ARN, `${GROUP_ARN}:*`]);
  });

  test('cannot create a log group: only flowguard does, with its key, tag and retention', () => {
    for (const props of [{}, { logGroupName: '/vpc/{vpc_id}' }, { dryRun: true }]) {
      const each = synth(props);
      const statements = roleStatements(each.template, logicalId(each.stack, each.stack.deliveryRole!));
      expect(allowing(statements, 'logs:CreateLogGroup')).toEqual([]);
    }
  });

  test('with {vpc_id} in the name, may write to the per-VPC groups only', () => {
    const perVpc = synth({ logGroupName: '/vpc/{region}/{vpc_id}/flow' });
    const statements = roleStatements(perVpc.template, logicalId(perVpc.stack, perVpc.stack.deliveryRole!));
    const pattern = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/vpc/${REGION}/*/flow`;
    expect(resourcesOf(statements[0])).toEqual([pattern, `${pattern}:*`]);
  });
});

describe('the function role (enforcing)', () => {
  const { stack, template } = synth();
  const statements = functionStatements(stack, template);
  const deliveryRoleArn = { 'Fn::GetAtt': [logicalId(stack, stack.deliveryRole!), 'Arn'] };

  test('reads the inventory with the calls that cannot be scoped', () => {
    const read = bySid(statements, 'ReadInventory');
    expect([...actionsOf(read)].sort()).toEqual(['ec2:DescribeFlowLogs', 'ec2:DescribeVpcs', 'logs:DescribeLogGroups']);
    expect(read.Resource).toBe('*');
  });

  test('creates flow logs on VPCs, only flow logs tagged managed-by=flowguard', () => {
    expect(allowing(statements, 'ec2:CreateFlowLogs')).toEqual([
      // The VPC's ARN carries no request tags: no condition on it (it would deny every call).
      { Sid: 'CreateFlowLogsOnVpcs', Effect: 'Allow', Action: 'ec2:CreateFlowLogs', Resource: VPC_ARN },
      // The flow log being created is the resource that aws:RequestTag applies to.
      {
        Sid: 'CreateManagedFlowLogs',
        Effect: 'Allow',
        Action: 'ec2:CreateFlowLogs',
        Resource: FLOW_LOG_ARN,
        Condition: { StringEquals: { 'aws:RequestTag/managed-by': 'flowguard' } },
      },
    ]);
  });

  test('tags flow logs only while creating them, and only managed-by=flowguard', () => {
    expect(allowing(statements, 'ec2:CreateTags')).toEqual([
      {
        Sid: 'TagFlowLogsAtCreation',
        Effect: 'Allow',
        Action: 'ec2:CreateTags',
        Resource: FLOW_LOG_ARN,
        Condition: {
          StringEquals: { 'ec2:CreateAction': 'CreateFlowLogs', 'aws:RequestTag/managed-by': 'flowguard' },
        },
      },
    ]);
  });

  test('deletes only flow logs tagged managed-by=flowguard', () => {
    expect(allowing(statements, 'ec2:DeleteFlowLogs')).toEqual([
      {
        Sid: 'ReplaceOwnFailingFlowLogs',
        Effect: 'Allow',
        Action: 'ec2:DeleteFlowLogs',
        Resource: FLOW_LOG_ARN,
        Condition: { StringEquals: { 'aws:ResourceTag/managed-by': 'flowguard' } },
      },
    ]);
  });

  test('writes to CloudWatch Logs only on the managed log group', () => {
    const manage = bySid(statements, 'ManageFlowLogGroups');
    // CreateLogGroup with tags needs logs:TagResource (or the deprecated TagLogGroup): not both.
    expect([...actionsOf(manage)].sort()).toEqual(['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource']);
    expect(resourcesOf(manage)).toEqual([GROUP_ARN, `${GROUP_ARN}:*`]);
    for (const action of ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource']) {
      expect(allowing(statements, action)).toEqual([manage]);
    }
    expect(allowing(statements, 'logs:TagLogGroup')).toEqual([]);
  });

  test('passes only the delivery role, without an iam:PassedToService condition (docs/design.md)', () => {
    expect(allowing(statements, 'iam:PassRole')).toEqual([
      { Sid: 'PassDeliveryRoleToFlowLogs', Effect: 'Allow', Action: 'iam:PassRole', Resource: deliveryRoleArn },
    ]);
  });

  test('reads the delivery role (the dry run reports whether it exists)', () => {
    expect(allowing(statements, 'iam:GetRole')).toEqual([
      { Sid: 'ReadDeliveryRole', Effect: 'Allow', Action: 'iam:GetRole', Resource: deliveryRoleArn },
    ]);
  });

  test('has no KMS permission, even with a KMS key ARN (CloudWatch Logs uses the key, see docs/deploy.md)', () => {
    for (const withKey of [synth({ kmsKeyArn: KMS_KEY }), synth({ kmsKeyArns: { [REGION]: KMS_KEY, 'eu-west-1': 'alias/elsewhere' } })]) {
      const kmsActions = allStatements(withKey.template).flatMap(actionsOf).filter((a) => a.startsWith('kms:'));
      expect(kmsActions).toEqual([]);
    }
  });

  test('with a KMS alias, may resolve it: kms:DescribeKey on the keys of its account and region, by that alias only', () => {
    const withAlias = synth({ kmsKeyArn: 'alias/flowguard-logs' });
    const all = allStatements(withAlias.template);
    expect(all.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual(['kms:DescribeKey']);
    expect(allowing(functionStatements(withAlias.stack, withAlias.template), 'kms:DescribeKey')).toEqual([
      {
        Sid: 'ResolveKmsAlias',
        Effect: 'Allow',
        Action: 'kms:DescribeKey',
        Resource: `arn:aws:kms:${REGION}:${ACCOUNT}:key/*`,
        Condition: { StringEquals: { 'kms:RequestAlias': ['alias/flowguard-logs'] } },
      },
    ]);
    // The alias of this stack's region only.
    const map = synth({ kmsKeyArns: { [REGION]: 'alias/here', 'eu-west-1': 'alias/there' } });
    expect(bySid(functionStatements(map.stack, map.template), 'ResolveKmsAlias').Condition).toEqual({
      StringEquals: { 'kms:RequestAlias': ['alias/here'] },
    });
  });

  test('a dry run resolves no alias (it creates no group), so it gets no KMS permission', () => {
    const dryRun = synth({ kmsKeyArn: 'alias/flowguard-logs', dryRun: true });
    expect(allStatements(dryRun.template).flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  test('uses the per-VPC group pattern for its Logs writes', () => {
    const perVpc = synth({ logGroupName: '/vpc/{account_id}/{vpc_id}' });
    const manage = bySid(functionStatements(perVpc.stack, perVpc.template), 'ManageFlowLogGroups');
    const pattern = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/vpc/${ACCOUNT}/*`;
    expect(resourcesOf(manage)).toEqual([pattern, `${pattern}:*`]);
  });
});

describe('no policy in the stack grants too much', () => {
  const configurations = {
    enforcing: synth(),
    'dry run': synth({ dryRun: true }),
    'per-VPC groups with KMS': synth({ logGroupName: '/vpc/{vpc_id}', kmsKeyArn: KMS_KEY }),
    'reserved concurrency, per-region KMS keys': synth({ reservedConcurrency: 2, kmsKeyArns: { [REGION]: KMS_KEY } }),
    'KMS alias': synth({ kmsKeyArn: 'alias/flowguard-logs' }),
  };

  describe.each(Object.entries(configurations))('%s', (_name, { template }) => {
    const statements = allStatements(template);

    test('no action wildcard, and no Deny needed to make it safe', () => {
      expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
      expect(statements.filter((s) => s.Effect !== 'Allow')).toEqual([]);
    });

    test('no iam:PassRole on "*", and no iam:PassedToService condition (AWS documents no value for flow logs)', () => {
      expect(allowing(statements, 'iam:PassRole')).not.toEqual([]);
      for (const s of allowing(statements, 'iam:PassRole')) {
        expect(resourcesOf(s)).not.toContain('*');
        expect(JSON.stringify(s.Condition ?? {})).not.toContain('iam:PassedToService');
      }
    });

    test('no ec2:CreateFlowLogs on flow logs without the managed-by=flowguard request tag', () => {
      const create = allowing(statements, 'ec2:CreateFlowLogs');
      expect(create).toHaveLength(2);
      for (const s of create) {
        if (resourcesOf(s).includes(FLOW_LOG_ARN)) {
          expect(resourcesOf(s)).toEqual([FLOW_LOG_ARN]);
          expect(s.Condition).toEqual({ StringEquals: { 'aws:RequestTag/managed-by': 'flowguard' } });
        } else {
          expect(resourcesOf(s)).toEqual([VPC_ARN]);
        }
      }
    });

    test('the delivery role cannot create log groups', () => {
      const delivery = statements.filter((s) => actionsOf(s).includes('logs:PutLogEvents') && actionsOf(s).includes('logs:DescribeLogStreams'));
      expect(delivery).toHaveLength(1);
      expect(actionsOf(delivery[0])).not.toContain('logs:CreateLogGroup');
    });

    test('no ec2:DeleteFlowLogs without the managed-by=flowguard condition', () => {
      for (const s of allowing(statements, 'ec2:DeleteFlowLogs')) {
        expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/managed-by': 'flowguard' } });
      }
    });

    test('no write action on "*"', () => {
      const onStar = statements.filter((s) => resourcesOf(s).some((r) => r === '*'));
      expect(onStar.flatMap(actionsOf).sort()).toEqual(['ec2:DescribeFlowLogs', 'ec2:DescribeVpcs', 'logs:DescribeLogGroups']);
    });

    test('never deletes a log group, never lowers or removes a retention, never touches other tags', () => {
      const actions = statements.flatMap(actionsOf);
      for (const forbidden of ['logs:DeleteLogGroup', 'logs:DeleteRetentionPolicy', 'ec2:DeleteTags', 'logs:UntagResource', 'logs:AssociateKmsKey', 'logs:DisassociateKmsKey']) {
        expect(actions).not.toContain(forbidden);
      }
    });
  });
});

describe('the function role (dry run)', () => {
  const { stack, template } = synth({ dryRun: true });
  const statements = functionStatements(stack, template);

  test('grants no write beyond what the DryRun check of CreateFlowLogs evaluates', () => {
    const writes = new Set(statements.flatMap(actionsOf).filter((a) => WRITES.includes(a)));
    expect([...writes].sort()).toEqual(['ec2:CreateFlowLogs', 'ec2:CreateTags', 'iam:PassRole']);
    expect(allowing(statements, 'ec2:CreateTags')[0].Condition).toEqual({
      StringEquals: { 'ec2:CreateAction': 'CreateFlowLogs', 'aws:RequestTag/managed-by': 'flowguard' },
    });
    // DryRun=true is authorized like the real call: the same tag conditions.
    expect(bySid(statements, 'CreateManagedFlowLogs').Condition).toEqual({
      StringEquals: { 'aws:RequestTag/managed-by': 'flowguard' },
    });
    expect(allowing(statements, 'iam:PassRole')[0].Condition).toBeUndefined();
  });

  test('no Logs write (but to its own log group) and no DeleteFlowLogs', () => {
    const ownLog = { 'Fn::GetAtt': [logicalId(stack, stack.function.logGroup as never), 'Arn'] };
    for (const s of statements) {
      if (actionsOf(s).some((a) => a.startsWith('logs:') && a !== 'logs:DescribeLogGroups')) {
        expect(s).toEqual({ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: ownLog });
      }
    }
    expect(statements.flatMap(actionsOf)).not.toContain('ec2:DeleteFlowLogs');
  });

  test('the complete list: reads, the DryRun-checked calls, its own log and its failure queue', () => {
    expect([...new Set(statements.flatMap(actionsOf))].sort()).toEqual([
      'ec2:CreateFlowLogs',
      'ec2:CreateTags',
      'ec2:DescribeFlowLogs',
      'ec2:DescribeVpcs',
      'iam:GetRole',
      'iam:PassRole',
      'logs:CreateLogStream',
      'logs:DescribeLogGroups',
      'logs:PutLogEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    for (const s of allowing(statements, 'sqs:SendMessage')) {
      expect(s.Resource).toEqual({ 'Fn::GetAtt': [logicalId(stack, stack.onFailureQueue), 'Arn'] });
    }
  });

  test('the Lambda is told it is a dry run', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FLOWGUARD_DRY_RUN: 'true' }) },
    });
  });
});

describe('the EventBridge rules', () => {
  const { stack, template } = synth();
  const target = {
    Arn: { 'Fn::GetAtt': [logicalId(stack, stack.function), 'Arn'] },
    DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(stack, stack.ruleDeadLetterQueue), 'Arn'] } },
  };

  test('three rules, each targeting the function with the dead-letter queue', () => {
    template.resourceCountIs('AWS::Events::Rule', 3);
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    for (const rule of rules) {
      expect(rule.Properties.Targets).toEqual([expect.objectContaining(target)]);
    }
    template.resourceCountIs('AWS::Lambda::Permission', 3);
  });

  test('EC2: CreateVpc, CreateDefaultVpc and DeleteFlowLogs via CloudTrail', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        account: [Match.anyValue()],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: ['CreateVpc', 'CreateDefaultVpc', 'DeleteFlowLogs'],
        },
      },
    });
  });

  test('Logs: DeleteLogGroup, PutRetentionPolicy, DeleteRetentionPolicy on the managed group', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.logs'],
        account: [Match.anyValue()],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['logs.amazonaws.com'],
          eventName: ['DeleteLogGroup', 'PutRetentionPolicy', 'DeleteRetentionPolicy'],
          requestParameters: { logGroupName: ['/vpc/flow-logs'] },
        },
      },
    });
  });

  test('Logs: a prefix match on the literal prefix when the name has {vpc_id}', () => {
    const perVpc = synth({ logGroupName: '/vpc/{region}/{vpc_id}' });
    perVpc.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.logs'],
        detail: { requestParameters: { logGroupName: [{ prefix: `/vpc/${REGION}/` }] } },
      },
    });
  });

  test('Logs: every group when the name starts with {vpc_id} (no literal prefix)', () => {
    const perVpc = synth({ logGroupName: '{vpc_id}-flow-logs' });
    perVpc.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.logs'], detail: { requestParameters: Match.absent() } },
    });
  });

  test('the scheduled sweep, hourly by default', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    const custom = synth({ sweepSchedule: 'cron(15 */6 * * ? *)' });
    custom.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 */6 * * ? *)' });
  });
});

describe('the queues', () => {
  const { stack, template } = synth();

  test('both are encrypted (SQS-managed) and keep messages 14 days', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties).toEqual(
        expect.objectContaining({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 }),
      );
    }
  });

  test('both refuse anything but TLS', () => {
    for (const queue of [stack.onFailureQueue, stack.ruleDeadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(stack, queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  test('EventBridge may send to the dead-letter queue for these rules only', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: logicalId(stack, stack.ruleDeadLetterQueue) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sqs:SendMessage',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('the alarms', () => {
  const { stack, template } = synth();
  const topic = { Ref: logicalId(stack, stack.alarmTopic) };
  const common = {
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    EvaluationPeriods: 1,
    Period: 300,
    TreatMissingData: 'notBreaching',
    AlarmActions: [topic],
  };

  test('five alarms, all to the topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
    }
  });

  test('on failed deliveries to the on-failure destination (an event that would be lost silently)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'DestinationDeliveryFailures',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, stack.function) } }],
    });
    synth({ dryRun: true }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DestinationDeliveryFailures',
    });
  });

  test('on function errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, stack.function) } }],
    });
  });

  test('on the RemediationFailures metric that the Lambda emits (EMF)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common,
      Namespace: 'FlowGuard',
      MetricName: 'RemediationFailures',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(stack, stack.function) } }],
    });
  });

  test('on the depth of both queues', () => {
    for (const queue of [stack.onFailureQueue, stack.ruleDeadLetterQueue]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ...common,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Statistic: 'Maximum',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, queue), 'QueueName'] } }],
      });
    }
  });
});

describe('the alarm topic', () => {
  test('is encrypted with a rotated key that CloudWatch may use', () => {
    const { stack, template } = synth();
    template.hasResourceProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, stack.alarmTopic.masterKey as never), 'Arn'] },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });

  test('refuses publishing without TLS, and lets only this account\'s alarms publish', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': ACCOUNT },
              ArnLike: { 'aws:SourceArn': `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
            },
          }),
        ],
      },
    });
  });

  test('has an e-mail subscription only when alarmEmail is set', () => {
    synth().template.resourceCountIs('AWS::SNS::Subscription', 0);
    synth({ alarmEmail: 'secops@example.com' }).template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
    });
  });
});
