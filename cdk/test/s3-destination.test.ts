/**
 * Flow logs into an S3 bucket (`-c destination=...`, docs/design.md "Destinations and integrations"):
 * no delivery role and no managed log group anywhere, the log-delivery permissions that AWS
 * documents for a principal that creates flow logs into S3 instead of PassRole and the group's,
 * and the destination in the Lambda's environment; the CloudWatch Logs variants stay as they were.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { OU, only, policyOf, synthOrganization, unacknowledged } from './organization-util';
import { Statement, actionsOf, allowing, logicalId, resourcesOf, roleStatements, synth } from './util';
import { ACCOUNT, REGION } from './util';

const ARCHIVE = 'arn:aws:s3:::flowguard-log-archive/vpc-flow-logs/';
const FLOW_LOG_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc-flow-log/*`;

/** What the S3 variant must never grant: the delivery role and the log group are CloudWatch Logs'. */
const CLOUD_WATCH_ONLY = ['iam:PassRole', 'iam:GetRole', 'logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource'];

const sids = (statements: Statement[]) => statements.filter((s) => s.Sid !== undefined).map((s) => s.Sid);

function functionStatements(props: Parameters<typeof synth>[0]) {
  const synthesized = synth(props);
  return { ...synthesized, statements: roleStatements(synthesized.template, logicalId(synthesized.stack, synthesized.stack.functionRole)) };
}

function environment(template: Template): Record<string, unknown> {
  return Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;
}

describe('the single-account stack, into S3', () => {
  const { stack, template, statements } = functionStatements({ destination: ARCHIVE });

  test('creates no delivery role and no flow-log group: only the function\'s own role and log', () => {
    expect(stack.deliveryRole).toBeUndefined();
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.absent() });
  });

  test('gives the Lambda the destination and EC2\'s DestinationOptions, and no delivery role', () => {
    expect(environment(template)).toEqual({
      FLOWGUARD_LOG_GROUP: '/vpc/flow-logs',
      FLOWGUARD_RETENTION_DAYS: '365',
      FLOWGUARD_TRAFFIC_TYPE: 'REJECT',
      FLOWGUARD_DRY_RUN: 'false',
      FLOWGUARD_EXEMPT_TAG: 'flowguard:exempt',
      FLOWGUARD_MAX_AGGREGATION_INTERVAL: '600',
      FLOWGUARD_DESTINATION: ARCHIVE,
      FLOWGUARD_S3_FILE_FORMAT: 'plain-text',
      FLOWGUARD_S3_HIVE_PARTITIONS: 'false',
      FLOWGUARD_S3_PER_HOUR_PARTITION: 'false',
    });
  });

  test('passes every S3 option and the log format through; an s3:// URL keeps {partition} for the Lambda', () => {
    const custom = synth({
      destination: 's3://flowguard-log-archive',
      s3FileFormat: 'parquet',
      s3HivePartitions: true,
      s3PerHourPartition: true,
      logFormat: '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${reject-reason}',
    });
    expect(environment(custom.template)).toMatchObject({
      FLOWGUARD_DESTINATION: 'arn:{partition}:s3:::flowguard-log-archive',
      FLOWGUARD_S3_FILE_FORMAT: 'parquet',
      FLOWGUARD_S3_HIVE_PARTITIONS: 'true',
      FLOWGUARD_S3_PER_HOUR_PARTITION: 'true',
      FLOWGUARD_LOG_FORMAT: '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${action} ${reject-reason}',
    });
  });

  test('the function role: the reads, CreateFlowLogs as for CloudWatch Logs, and the S3 log delivery', () => {
    expect(sids(statements)).toEqual([
      'ReadInventory',
      'CreateFlowLogsOnVpcs',
      'CreateManagedFlowLogs',
      'TagFlowLogsAtCreation',
      'CreateLogDeliveryToS3',
      'ReplaceOwnFailingFlowLogs',
      'DeleteLogDeliveryToS3',
    ]);
    expect(statements.filter((s) => s.Sid?.endsWith('LogDeliveryToS3'))).toEqual([
      { Sid: 'CreateLogDeliveryToS3', Effect: 'Allow', Action: 'logs:CreateLogDelivery', Resource: '*' },
      { Sid: 'DeleteLogDeliveryToS3', Effect: 'Allow', Action: 'logs:DeleteLogDelivery', Resource: '*' },
    ]);
    // Foreign CloudWatch flow logs are still judged by their group's retention.
    expect(allowing(statements, 'logs:DescribeLogGroups').map((s) => s.Sid)).toEqual(['ReadInventory']);
  });

  test('keeps the tag conditions of CreateFlowLogs and DeleteFlowLogs', () => {
    expect(allowing(statements, 'ec2:CreateFlowLogs').find((s) => s.Sid === 'CreateManagedFlowLogs')?.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/managed-by': 'flowguard' },
    });
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

  test('no PassRole, no IAM at all, no log-group write, no S3 permission', () => {
    const actions = statements.flatMap(actionsOf);
    for (const action of CLOUD_WATCH_ONLY) {
      expect(actions).not.toContain(action);
    }
    expect(actions.filter((a) => a.startsWith('iam:') || a.startsWith('s3:'))).toEqual([]);
    // On "*": the reads, and the two log-delivery permissions that AWS documents on "*".
    const onStar = statements.filter((s) => resourcesOf(s).includes('*')).flatMap(actionsOf).sort();
    expect(onStar).toEqual([
      'ec2:DescribeFlowLogs',
      'ec2:DescribeVpcs',
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:DescribeLogGroups',
    ]);
  });

  test('a dry run keeps CreateLogDelivery (as it keeps PassRole for CloudWatch Logs), and no delete', () => {
    const dry = functionStatements({ destination: ARCHIVE, dryRun: true }).statements;
    expect(sids(dry)).toEqual([
      'ReadInventory',
      'CreateFlowLogsOnVpcs',
      'CreateManagedFlowLogs',
      'TagFlowLogsAtCreation',
      'CreateLogDeliveryToS3',
    ]);
    expect(dry.flatMap(actionsOf)).not.toContain('logs:DeleteLogDelivery');
    expect(dry.flatMap(actionsOf)).not.toContain('ec2:DeleteFlowLogs');
  });

  test('watches EC2 only: there is no managed log group whose events matter', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(2);
    const patterns = rules.filter((r) => r.Properties.EventPattern !== undefined).map((r) => r.Properties.EventPattern);
    expect(patterns.map((p) => p.source)).toEqual([['aws.ec2']]);
  });

  test('outputs the destination instead of the delivery role and the group', () => {
    template.hasOutput('FlowLogDestination', { Value: ARCHIVE });
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('DeliveryRoleArn');
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('FlowLogGroup');
  });

  test('cdk-nag finds nothing unacknowledged, enforcing or dry run', () => {
    expect(unacknowledged(synth({ destination: ARCHIVE }).app)).toEqual([]);
    expect(unacknowledged(synth({ destination: ARCHIVE, dryRun: true }).app)).toEqual([]);
  });
});

describe('the single-account stack, into CloudWatch Logs', () => {
  test('with a log format: FLOWGUARD_LOG_FORMAT, and no S3 variable', () => {
    const { template } = synth({ logFormat: '${version} ${srcaddr} ${dstaddr} ${action}' });
    const variables = environment(template);
    expect(variables.FLOWGUARD_LOG_FORMAT).toBe('${version} ${srcaddr} ${dstaddr} ${action}');
    expect(Object.keys(variables).filter((k) => k.startsWith('FLOWGUARD_S3_') || k === 'FLOWGUARD_DESTINATION')).toEqual([]);
    expect(variables.FLOWGUARD_DELIVERY_ROLE_ARN).toBeDefined();
  });

  test('an S3 option without an S3 destination fails the synth, naming it', () => {
    expect(() => synth({ s3FileFormat: 'parquet' })).toThrow(/s3FileFormat \(FLOWGUARD_S3_FILE_FORMAT\): "parquet": is an option of S3/);
  });
});

describe('the organization, into S3', () => {
  const destination = 's3://flowguard-log-archive';
  const synthesized = synthOrganization({ destination, s3FileFormat: 'parquet', hubInScope: 'true', hubOu: OU });
  const hub = synthesized.hub['us-east-1'];

  test('the hub passes the destination and the options, and no delivery role template', () => {
    const variables = only(hub, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;
    expect(variables).toMatchObject({
      FLOWGUARD_ORGANIZATION: 'true',
      FLOWGUARD_DESTINATION: 'arn:{partition}:s3:::flowguard-log-archive',
      FLOWGUARD_S3_FILE_FORMAT: 'parquet',
      FLOWGUARD_S3_HIVE_PARTITIONS: 'false',
      FLOWGUARD_S3_PER_HOUR_PARTITION: 'false',
    });
    expect(variables.FLOWGUARD_DELIVERY_ROLE_ARN).toBeUndefined();
  });

  test('the hub\'s bus rules and the spokes\' forwarding rules watch EC2 only', () => {
    const onBus = Object.values(hub.findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventBusName !== undefined);
    expect(onBus.map((r) => r.Properties.EventPattern.source)).toEqual([['aws.ec2']]);
    const forwarding = Object.values(synthesized.spokeRegion.findResources('AWS::Events::Rule'));
    expect(forwarding.map((r) => r.Properties.EventPattern.source)).toEqual([['aws.ec2']]);
  });

  test('the spoke creates no delivery role: the member role is its only role', () => {
    const roles = Object.values(synthesized.spokeAccount.findResources('AWS::IAM::Role'));
    expect(roles.map((r) => r.Properties.RoleName)).toEqual(['flowguard-member']);
    expect(synthesized.built.spokeAccount.deliveryRole).toBeUndefined();
    expect(Object.keys(synthesized.spokeAccount.toJSON().Outputs)).toEqual(['MemberRoleArn']);
  });

  test('the member role gets the S3 log delivery instead of PassRole', () => {
    const [memberId] = only(synthesized.spokeAccount, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-member' } });
    const actions = policyOf(synthesized.spokeAccount, memberId).flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['logs:CreateLogDelivery', 'logs:DeleteLogDelivery']));
    for (const action of CLOUD_WATCH_ONLY) {
      expect(actions).not.toContain(action);
    }
  });

  test('with hubInScope, the hub role acts in its own account with the S3 statements, no PassRole', () => {
    const [hubRoleId] = only(hub, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-hub-us-east-1' } });
    const statements = policyOf(hub, hubRoleId);
    expect(statements.map((s) => s.Sid).filter((s) => s !== undefined)).toEqual([
      'AssumeMemberRoleInTheOrganization',
      'ReadTheOrganization',
      'ReadInventory',
      'CreateFlowLogsOnVpcs',
      'CreateManagedFlowLogs',
      'TagFlowLogsAtCreation',
      'CreateLogDeliveryToS3',
      'ReplaceOwnFailingFlowLogs',
      'DeleteLogDeliveryToS3',
    ]);
    expect(statements.flatMap(actionsOf)).not.toContain('iam:PassRole');
  });

  test('cdk-nag finds nothing unacknowledged, the spoke templates included', () => {
    expect(unacknowledged(synthesized.app)).toEqual([]);
    expect(unacknowledged(synthOrganization({ destination, dryRun: 'true' }).app)).toEqual([]);
  });
});
