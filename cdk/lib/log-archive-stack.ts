/**
 * `FlowGuardLogArchive`: the S3 bucket that the flow logs deliver into when `destination` is S3,
 * made as AWS documents it for flow logs (VPC User Guide, "Amazon S3 bucket permissions for flow
 * logs"; CloudWatch Logs User Guide, "Logs sent to Amazon S3"), usually in the log-archive account
 * of a landing zone. It is the place where the flow logs' retention is enforced: the members'
 * flowguard runs cannot read its lifecycle, so it is set here, to keep every object at least the
 * policy's retention.
 *
 *   VPC Flow Logs (delivery.logs.amazonaws.com, for this account or the organization)
 *     ── s3:PutObject BUCKET/PREFIX/AWSLogs/... ──> FlowLogBucket ── access logs ──> AccessLogBucket
 *
 * Both buckets: public access blocked, TLS only, ACLs disabled (bucket owner enforced), SSE-S3,
 * versioned, kept with their policies when the stack is deleted, and a lifecycle that expires objects (and the versions
 * that someone deleted or overwrote) no sooner than the policy's retention.
 *
 * SSE-S3, not SSE-KMS: the flow-logs service writes with SSE-S3 with nothing more to grant, whereas
 * a customer managed key would need a key policy for delivery.logs.amazonaws.com, and the AWS managed
 * key aws/s3 cannot be used across accounts at all (AWS Prescriptive Guidance, "Configure VPC Flow
 * Logs for centralization across AWS accounts").
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LogArchiveSources } from './log-archive-config';
import { S3Destination } from './config';

/** The service principal that delivers vended logs, flow logs included, into S3. */
export const LOG_DELIVERY_PRINCIPAL = 'delivery.logs.amazonaws.com';

/** The folder that the flow-logs service writes under, below the destination's prefix. */
export const SERVICE_FOLDER = 'AWSLogs';

export interface LogArchiveStackProps extends StackProps {
  /** The bucket (created with this name) and the prefix that the flow logs deliver to. */
  readonly destination: S3Destination;
  /** The policy's retention (days): no object expires sooner. */
  readonly retentionDays: number;
  /** When objects expire (at least `retentionDays`); undefined: never. */
  readonly expirationDays?: number;
  /** Who may deliver: one account (`aws:SourceAccount`) or the organization (`aws:SourceOrgID`). */
  readonly sources: LogArchiveSources;
}

export class LogArchiveStack extends Stack {
  public readonly bucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LogArchiveStackProps) {
    super(scope, id, props);
    if (props.expirationDays !== undefined && props.expirationDays < props.retentionDays) {
      throw new Error(
        `the log archive would expire flow logs after ${props.expirationDays} days, before the policy's retention of ` +
          `${props.retentionDays} days`,
      );
    }

    // Server access logs of the flow-log bucket: who read or changed the audit evidence.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogBucket', this.bucketProps(props));
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives the server access logs of the flow-log bucket. S3 advises against access logging on ' +
        'a target bucket (Amazon S3 User Guide, "Enabling Amazon S3 server access logging"): into itself it would ' +
        'log its own log deliveries in a loop, and a third bucket would only move the question.',
    });

    this.bucket = new s3.Bucket(this, 'FlowLogBucket', {
      ...this.bucketProps(props),
      bucketName: props.destination.bucket,
    });
    this.logAccessTo(this.accessLogBucket, `${props.destination.bucket}/`);
    for (const statement of flowLogDeliveryStatements(this.bucket.bucketArn, props.destination.prefix, props.sources, this)) {
      this.bucket.addToResourcePolicy(statement);
    }
    // The policies stay with the buckets: a kept bucket without its policy would lose TLS-only
    // access, and the flow logs that point at it their delivery.
    for (const bucket of [this.bucket, this.accessLogBucket]) {
      bucket.policy?.applyRemovalPolicy(RemovalPolicy.RETAIN);
    }

    const prefix = props.destination.prefix === '' ? '' : `/${props.destination.prefix}`;
    new CfnOutput(this, 'FlowLogBucketNameOutput', { key: 'FlowLogBucketName', value: this.bucket.bucketName });
    new CfnOutput(this, 'FlowLogDestinationOutput', {
      key: 'FlowLogDestination',
      value: `${this.bucket.bucketArn}${prefix}`,
      description: 'The destination setting of the flowguard stacks (-c destination=...)',
    });
    new CfnOutput(this, 'AccessLogBucketNameOutput', { key: 'AccessLogBucketName', value: this.accessLogBucket.bucketName });
  }

  /**
   * Server access logging of the flow-log bucket into `target`, under `prefix`. Written out rather
   * than with `serverAccessLogsBucket`, whose result depends on a feature flag (without it, the
   * target gets the LogDeliveryWrite ACL, which bucket-owner-enforced ownership refuses): with ACLs
   * disabled, S3 grants the logging service principal in the target's policy (Amazon S3 User Guide,
   * "Permissions for server access log delivery"), for this bucket of this account only.
   */
  private logAccessTo(target: s3.Bucket, prefix: string): void {
    (this.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: target.bucketName,
      logFilePrefix: prefix,
    };
    target.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogsPolicy',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [target.arnForObjects(`${prefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': this.bucket.bucketArn },
          StringEquals: { 'aws:SourceAccount': this.account },
        },
      }),
    );
  }

  /** What both buckets share: private, TLS only, encrypted, versioned, retained, the lifecycle. */
  private bucketProps(props: LogArchiveStackProps): s3.BucketProps {
    const expiration = props.expirationDays === undefined ? undefined : Duration.days(props.expirationDays);
    return {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // A deleted or overwritten log file stays, as a noncurrent version, for the same time.
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: expiration === undefined ? 'KeepFlowLogs' : `ExpireAfter${props.expirationDays}Days`,
          expiration,
          noncurrentVersionExpiration: expiration,
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    };
  }
}

/**
 * The bucket policy statements that let VPC Flow Logs deliver (VPC User Guide, "Amazon S3 bucket
 * permissions for flow logs"): `AWSLogDeliveryWrite`, s3:PutObject under `PREFIX/AWSLogs/` with the
 * `bucket-owner-full-control` ACL, and `AWSLogDeliveryAclCheck`, s3:GetBucketAcl and s3:ListBucket
 * on the bucket (CloudWatch Logs User Guide, "Logs sent to Amazon S3": without s3:ListBucket,
 * CloudTrail shows AccessDenied errors). Both for `delivery.logs.amazonaws.com` only, on behalf of:
 *
 * - one account: `aws:SourceAccount` and `aws:SourceArn` like `arn:PARTITION:logs:*:ACCOUNT:*` (the
 *   documented pair, with every region), and only that account's folders, in both layouts that AWS
 *   documents: `AWSLogs/ACCOUNT/` and, with Hive-compatible prefixes, `AWSLogs/aws-account-id=ACCOUNT/`;
 * - the organization: `aws:SourceOrgID` ("any resource from any account within an organization",
 *   IAM User Guide, "Cross-service confused deputy prevention"), under `AWSLogs/`.
 */
export function flowLogDeliveryStatements(
  bucketArn: string,
  prefix: string,
  sources: LogArchiveSources,
  stack: Stack,
): iam.PolicyStatement[] {
  const root = `${bucketArn}/${prefix === '' ? '' : `${prefix}/`}${SERVICE_FOLDER}`;
  let objects: string[];
  let source: Record<string, Record<string, string>>;
  if (sources.kind === 'account') {
    const account = sources.account ?? stack.account;
    objects = [`${root}/${account}/*`, `${root}/aws-account-id=${account}/*`];
    source = {
      StringEquals: { 'aws:SourceAccount': account },
      ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:logs:*:${account}:*` },
    };
  } else {
    objects = [`${root}/*`];
    source = { StringEquals: { 'aws:SourceOrgID': sources.organizationId } };
  }
  const principal = new iam.ServicePrincipal(LOG_DELIVERY_PRINCIPAL);
  return [
    new iam.PolicyStatement({
      sid: 'AWSLogDeliveryWrite',
      principals: [principal],
      actions: ['s3:PutObject'],
      resources: objects,
      conditions: {
        ...source,
        StringEquals: { ...source.StringEquals, 's3:x-amz-acl': 'bucket-owner-full-control' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'AWSLogDeliveryAclCheck',
      principals: [principal],
      actions: ['s3:GetBucketAcl', 's3:ListBucket'],
      resources: [bucketArn],
      conditions: source,
    }),
  ];
}
