/**
 * `FlowGuardLogArchive`: the bucket of an S3 destination, with the bucket policy that AWS
 * documents for flow-log delivery, and a lifecycle that never expires a flow log sooner than the
 * policy's retention.
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LOG_ARCHIVE_STACK, buildFlowGuardApp } from '../lib/app';
import { ALLOWED_RETENTION_DAYS } from '../lib/config';
import { LogArchiveStack } from '../lib/log-archive-stack';
import { buildOrganizationApp } from '../lib/organization-app';
import { HUB, ORG_CONTEXT, ORG_ID, unacknowledged } from './organization-util';
import { ACCOUNT, REGION, testApp } from './util';

const BUCKET = 'flowguard-log-archive-111111111111';
const ARCHIVE_ACCOUNT = '555555555555';
const bucketArn = { 'Fn::GetAtt': [expect.stringMatching(/^FlowLogBucket/), 'Arn'] };
const objects = (path: string) => ({ 'Fn::Join': ['', [bucketArn, path]] });

interface Archive {
  readonly app: App;
  readonly stack: LogArchiveStack;
  readonly template: Template;
}

/** The single-account app with the log archive, and `context` on top. */
function single(context: Record<string, unknown> = {}): Archive & { flowguard: Stack[] } {
  const app = testApp({ regions: 'us-east-1,eu-west-1', destination: `s3://${BUCKET}/vpc-flow-logs/`, logArchive: 'true', ...context });
  const flowguard = buildFlowGuardApp(app, { account: ACCOUNT });
  const stack = app.node.findChild(LOG_ARCHIVE_STACK) as LogArchiveStack;
  return { app, stack, template: Template.fromStack(stack), flowguard };
}

/** The organization app with the log archive in ARCHIVE_ACCOUNT, and `context` on top. */
function organization(context: Record<string, unknown> = {}): Archive {
  const app = testApp({ ...ORG_CONTEXT, destination: `arn:aws:s3:::${BUCKET}`, logArchiveAccount: ARCHIVE_ACCOUNT, ...context });
  const built = buildOrganizationApp(app, {});
  const stack = built.logArchive as LogArchiveStack;
  return { app, stack, template: Template.fromStack(stack) };
}

function buckets(template: Template): Record<string, any> {
  return template.findResources('AWS::S3::Bucket');
}

function flowLogBucket(template: Template): any {
  return Object.entries(buckets(template)).find(([id]) => id.startsWith('FlowLogBucket'))![1];
}

function policy(template: Template, bucketPrefix: string): any[] {
  const found = Object.values(template.findResources('AWS::S3::BucketPolicy')).filter((p) =>
    JSON.stringify(p.Properties.Bucket).includes(`"${bucketPrefix}`),
  );
  expect(found).toHaveLength(1);
  return found[0].Properties.PolicyDocument.Statement;
}

const bySid = (statements: any[], sid: string) => statements.find((s) => s.Sid === sid);

describe('the log archive, single-account mode', () => {
  const { app, stack, template, flowguard } = single();

  test('is synthesized in the deploying account, in the first region; every FlowGuard stack waits for it', () => {
    expect([stack.stackName, stack.account, stack.region]).toEqual([LOG_ARCHIVE_STACK, ACCOUNT, 'us-east-1']);
    for (const each of flowguard) {
      expect(each.dependencies).toEqual([stack]);
    }
    expect(app.synth().stacks.map((s) => s.stackName).sort()).toEqual([
      'FlowGuard-eu-west-1',
      'FlowGuard-us-east-1',
      LOG_ARCHIVE_STACK,
    ]);
  });

  test('creates the bucket that the destination names, and the flowguard stacks deliver there', () => {
    expect(flowLogBucket(template).Properties.BucketName).toBe(BUCKET);
    const variables = Template.fromStack(flowguard[0]).toJSON().Resources;
    const fn = Object.values(variables).find((r: any) => r.Type === 'AWS::Lambda::Function') as any;
    expect(fn.Properties.Environment.Variables.FLOWGUARD_DESTINATION).toBe(`arn:{partition}:s3:::${BUCKET}/vpc-flow-logs/`);
    const bucketId = stack.getLogicalId(stack.bucket.node.defaultChild as never);
    template.hasOutput('FlowLogDestination', { Value: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/vpc-flow-logs']] } });
  });

  test('AWSLogDeliveryWrite: delivery.logs.amazonaws.com puts objects in this account\'s folders only, ACL bucket-owner-full-control', () => {
    const source = {
      StringEquals: { 'aws:SourceAccount': ACCOUNT },
      // The documented arn:PARTITION:logs:REGION:ACCOUNT:*, for every region.
      ArnLike: { 'aws:SourceArn': `arn:aws:logs:*:${ACCOUNT}:*` },
    };
    expect(bySid(policy(template, 'FlowLogBucket'), 'AWSLogDeliveryWrite')).toEqual({
      Sid: 'AWSLogDeliveryWrite',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: 's3:PutObject',
      // Both layouts that AWS documents: default prefixes, and Hive-compatible ones.
      Resource: [objects(`/vpc-flow-logs/AWSLogs/${ACCOUNT}/*`), objects(`/vpc-flow-logs/AWSLogs/aws-account-id=${ACCOUNT}/*`)],
      Condition: {
        StringEquals: { ...source.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
        ArnLike: source.ArnLike,
      },
    });
    expect(bySid(policy(template, 'FlowLogBucket'), 'AWSLogDeliveryAclCheck')).toEqual({
      Sid: 'AWSLogDeliveryAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: ['s3:GetBucketAcl', 's3:ListBucket'],
      Resource: bucketArn,
      Condition: source,
    });
  });

  test('nothing else is allowed on the bucket, and non-TLS requests are denied', () => {
    const statements = policy(template, 'FlowLogBucket');
    expect(statements.filter((s) => s.Effect === 'Allow').map((s) => s.Sid)).toEqual(['AWSLogDeliveryWrite', 'AWSLogDeliveryAclCheck']);
    expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Resource: [bucketArn, { 'Fn::Join': ['', [bucketArn, '/*']] }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  test('without a prefix, the folders are at the top of the bucket; an account-agnostic synth uses AWS::AccountId', () => {
    const app = testApp({ regions: REGION, destination: `arn:aws:s3:::${BUCKET}`, logArchive: 'true' });
    buildFlowGuardApp(app, {});
    const agnostic = Template.fromStack(app.node.findChild(LOG_ARCHIVE_STACK) as Stack);
    const write = bySid(policy(agnostic, 'FlowLogBucket'), 'AWSLogDeliveryWrite');
    expect(write.Resource[0]).toEqual({ 'Fn::Join': ['', [bucketArn, '/AWSLogs/', { Ref: 'AWS::AccountId' }, '/*']] });
    expect(write.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });

  test('-c logArchiveRegion puts the bucket elsewhere; -c logArchiveAccount may only name the deploying account', () => {
    expect(single({ logArchiveRegion: 'eu-west-1' }).stack.region).toBe('eu-west-1');
    expect(single({ logArchiveAccount: ACCOUNT }).stack.account).toBe(ACCOUNT);
    expect(() => single({ logArchiveAccount: ARCHIVE_ACCOUNT })).toThrow(
      /logArchiveAccount \(the account of FlowGuardLogArchive\): "555555555555": must be the deploying account \(111111111111\)/,
    );
  });

  test('cdk-nag: nothing unacknowledged; only S1 on the access-log bucket is acknowledged', () => {
    expect(unacknowledged(app)).toEqual([]);
    const acknowledged: string[] = [];
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          acknowledged.push(...Object.keys(entry.data as object).map((id) => `${construct.node.path} ${id.replace(/^annotation::/i, '')}`));
        }
      }
    }
    expect(acknowledged).toEqual([`${LOG_ARCHIVE_STACK}/AccessLogBucket AwsSolutions-S1`]);
  });
});

describe('the log archive, organization mode', () => {
  const { stack, template } = organization();

  test('is synthesized in the log-archive account, in the home region, apart from the hub\'s deployment', () => {
    expect([stack.stackName, stack.account, stack.region]).toEqual([LOG_ARCHIVE_STACK, ARCHIVE_ACCOUNT, 'us-east-1']);
    expect(stack.dependencies).toEqual([]);
    expect(organization({ logArchiveRegion: 'eu-west-1' }).stack.region).toBe('eu-west-1');
    // The home region is the StackSets' (stackSetRegion), not whichever region is listed first.
    expect(organization({ regions: 'eu-west-1,us-east-1', stackSetRegion: 'us-east-1' }).stack.region).toBe('us-east-1');
  });

  test('admits the flow logs of every account of the organization (aws:SourceOrgID), under AWSLogs/', () => {
    const statements = policy(template, 'FlowLogBucket');
    expect(bySid(statements, 'AWSLogDeliveryWrite')).toEqual({
      Sid: 'AWSLogDeliveryWrite',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: objects('/AWSLogs/*'),
      Condition: { StringEquals: { 'aws:SourceOrgID': ORG_ID, 's3:x-amz-acl': 'bucket-owner-full-control' } },
    });
    expect(bySid(statements, 'AWSLogDeliveryAclCheck')).toEqual({
      Sid: 'AWSLogDeliveryAclCheck',
      Effect: 'Allow',
      Principal: { Service: 'delivery.logs.amazonaws.com' },
      Action: ['s3:GetBucketAcl', 's3:ListBucket'],
      Resource: bucketArn,
      Condition: { StringEquals: { 'aws:SourceOrgID': ORG_ID } },
    });
    expect(JSON.stringify(statements)).not.toContain('aws:SourceAccount');
  });

  test('the log-archive account may be the hub account', () => {
    expect(organization({ logArchiveAccount: HUB }).stack.account).toBe(HUB);
  });

  test('cdk-nag: nothing unacknowledged', () => {
    expect(unacknowledged(organization().app)).toEqual([]);
  });
});

describe('both buckets', () => {
  const { template } = single();

  test('private, TLS only, ACLs disabled, SSE-S3, versioned, kept with their policies when the stack is deleted', () => {
    const all = Object.entries(buckets(template));
    expect(all.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['AccessLogBucket', 'FlowLogBucket']);
    for (const [id, bucket] of all) {
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        VersioningConfiguration: { Status: 'Enabled' },
      });
      expect(bucket.Properties.AccessControl).toBeUndefined();
      const prefix = id.replace(/[0-9A-F]{8}$/, '');
      expect(JSON.stringify(policy(template, prefix))).toContain('"aws:SecureTransport":"false"');
    }
    // Their policies are kept too: a kept bucket keeps TLS only, and the flow logs their delivery.
    for (const bucketPolicy of Object.values(template.findResources('AWS::S3::BucketPolicy'))) {
      expect([bucketPolicy.DeletionPolicy, bucketPolicy.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
    }
  });

  test('the flow-log bucket logs its access into the access-log bucket, which admits S3 logging for it only', () => {
    const accessLogId = Object.keys(buckets(template)).find((id) => id.startsWith('AccessLogBucket'));
    expect(flowLogBucket(template).Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: accessLogId },
      LogFilePrefix: `${BUCKET}/`,
    });
    const logging = policy(template, 'AccessLogBucket').filter((s) => s.Effect === 'Allow');
    expect(logging).toEqual([
      {
        Sid: 'S3ServerAccessLogsPolicy',
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogId, 'Arn'] }, `/${BUCKET}/*`]] },
        Condition: { ArnLike: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': ACCOUNT } },
      },
    ]);
  });
});

describe('the lifecycle keeps every flow log at least the policy\'s retention', () => {
  const rules = (template: Template) =>
    Object.values(buckets(template)).map((b) => b.Properties.LifecycleConfiguration.Rules as any[]);

  test.each(ALLOWED_RETENTION_DAYS)('retentionDays=%p: objects and deleted or overwritten versions expire after exactly that', (days) => {
    for (const [rule, ...others] of rules(single({ retentionDays: String(days) }).template)) {
      expect(others).toEqual([]);
      expect(rule).toEqual({
        Id: `ExpireAfter${days}Days`,
        Status: 'Enabled',
        ExpirationInDays: days,
        NoncurrentVersionExpiration: { NoncurrentDays: days },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      });
      expect(rule.Transitions).toBeUndefined();
    }
  });

  test('a longer expiration is kept; "never" expires nothing', () => {
    for (const [rule] of rules(single({ retentionDays: '731', logArchiveExpirationDays: '2000' }).template)) {
      expect([rule.ExpirationInDays, rule.NoncurrentVersionExpiration.NoncurrentDays]).toEqual([2000, 2000]);
    }
    for (const [rule] of rules(single({ logArchiveExpirationDays: 'Never' }).template)) {
      expect(rule).toEqual({ Id: 'KeepFlowLogs', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } });
    }
    for (const [rule] of rules(organization({ retentionDays: '1096' }).template)) {
      expect(rule.ExpirationInDays).toBe(1096);
    }
  });

  test('an expiration shorter than the retention is refused, naming the setting and the retention', () => {
    expect(() => single({ retentionDays: '731', logArchiveExpirationDays: '400' })).toThrow(
      'invalid flowguard setting logArchiveExpirationDays (the log-archive bucket\'s lifecycle): "400": must keep the ' +
        'flow logs at least retentionDays (731 days, the policy\'s retention): a whole number of days of at least 731, or "never"',
    );
    expect(() => single({ logArchiveExpirationDays: '364' })).toThrow(/logArchiveExpirationDays .*"364": must keep/);
    expect(() => organization({ retentionDays: '3653', logArchiveExpirationDays: '3652' })).toThrow(/"3652": must keep .*\(3653 days/);
    expect(() => single({ logArchiveExpirationDays: 'a year' })).toThrow(/logArchiveExpirationDays .*"a year": must keep/);
  });

  test('the stack itself refuses it too, whatever builds it', () => {
    expect(
      () =>
        new LogArchiveStack(testApp(), 'Archive', {
          destination: { arn: `arn:aws:s3:::${BUCKET}`, bucket: BUCKET, prefix: '' },
          retentionDays: 365,
          expirationDays: 90,
          sources: { kind: 'account' },
        }),
    ).toThrow('would expire flow logs after 90 days, before the policy\'s retention of 365 days');
  });
});

describe('bad log-archive settings are refused, naming the key', () => {
  test.each([
    [{ destination: undefined }, /logArchive \(the FlowGuardLogArchive stack\): true: creates the bucket that destination names, and the destination is cloud-watch-logs/],
    [{ logArchive: 'maybe' }, /logArchive \(the FlowGuardLogArchive stack\): "maybe": must be true\/false/],
    [{ logArchive: 'false', logArchiveAccount: ACCOUNT }, /logArchive .*: false: is false, but logArchiveAccount \(111111111111\) asks for the log archive/],
    [{ logArchiveAccount: '1234' }, /logArchiveAccount .*"1234": must be a 12-digit AWS account id/],
    [{ logArchiveRegion: 'Europe' }, /logArchiveRegion \(the region of the log-archive bucket\): "Europe": must be an AWS region name/],
    [{ logArchive: undefined, logArchiveRegion: 'eu-west-1' }, /logArchiveRegion .*: applies to the log archive only/],
    [{ logArchive: '', logArchiveExpirationDays: '731' }, /logArchiveExpirationDays .*: applies to the log archive only/],
  ])('%j', (context, message) => {
    expect(() => single(context)).toThrow(message);
  });

  test('organization mode needs the log-archive account', () => {
    expect(() => organization({ logArchiveAccount: undefined, logArchive: 'true' })).toThrow(
      /logArchive .*: needs -c logArchiveAccount=ID in organization mode/,
    );
    // Without either key there is no log archive, and the app is as before.
    const app = testApp({ ...ORG_CONTEXT, destination: `s3://${BUCKET}` });
    expect(buildOrganizationApp(app, {}).logArchive).toBeUndefined();
  });

  test('without the keys, no log archive in single-account mode either', () => {
    const app = testApp({ regions: REGION, destination: `s3://${BUCKET}` });
    const [stack] = buildFlowGuardApp(app, { account: ACCOUNT });
    expect(app.node.tryFindChild(LOG_ARCHIVE_STACK)).toBeUndefined();
    expect(stack.dependencies).toEqual([]);
  });
});
