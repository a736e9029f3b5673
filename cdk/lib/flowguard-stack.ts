/**
 * One flowguard deployment: one account, one region (DESIGN.md, "Deployment").
 *
 *   CloudTrail events (EventBridge rules) ─┐
 *   scheduled sweep ───────────────────────┴─> Lambda (flowguard-lambda) ──> EC2 / Logs APIs
 *        rule target failures ─> RuleDeadLetterQueue     │ async failures ─> OnFailureQueue
 *   alarms (function errors, failed destination deliveries, queue depth, RemediationFailures)
 *        ─> AlarmTopic (e-mail)
 *
 * The Lambda's role is least privilege and each grant says why (see `grant`): a dry-run stack
 * can only do what EC2's DryRun check of CreateFlowLogs needs.
 */
import * as path from 'node:path';
import {
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  StackProps,
  Tags,
  ArnFormat,
  Validations,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Bundling } from 'cargo-lambda-cdk/lib/bundling';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { Construct } from 'constructs';
import { FlowGuardConfig, FlowGuardSettings, kmsKeyFor, resolveConfig } from './config';
import { FACTS, RolePlace, deliveryInlinePolicy, deliveryTrustPolicy, logGroupArn } from './facts';
import { LogGroupName, logGroupName } from './log-group-name';

/** The tag that marks what flowguard created (flow logs, log groups): the facts' managed_tag. */
export const MANAGED_BY_TAG = { key: FACTS.managed_tag.key, value: FACTS.managed_tag.value };
/** The Lambda's CloudWatch Embedded Metric Format namespace and failure metric (DESIGN.md). */
export const METRIC_NAMESPACE = 'FlowGuard';
export const REMEDIATION_FAILURES_METRIC = 'RemediationFailures';

/**
 * The workspace root's Cargo.toml, relative to this file (cdk/lib). The Lambda is built from the
 * root, not from crates/lambda: that crate inherits its version, edition, rust-version, lints and
 * dependencies from the root manifest (`*.workspace = true`), and Cargo.lock lives there too.
 * cargo-lambda-cdk runs `cargo lambda build` in the manifest's directory (and mounts that
 * directory in Docker), so anything narrower than the root cannot build it.
 */
export const WORKSPACE_MANIFEST = path.join(__dirname, '..', '..', 'Cargo.toml');
/** The Lambda's package in the workspace, and its binary (crates/lambda/Cargo.toml). */
export const LAMBDA_PACKAGE = 'flowguard-lambda';
export const LAMBDA_BINARY = 'flowguard-lambda';

export interface FlowGuardStackProps extends StackProps, FlowGuardSettings {
  /**
   * A prebuilt Lambda package (a zip with `bootstrap`, from `cargo lambda build --release --arm64
   * --output-format zip --package flowguard-lambda` at the workspace root) deployed instead of
   * building it with cargo-lambda during the deployment.
   *
   * @default - build flowguard-lambda from the workspace root with cargo-lambda-cdk's RustFunction
   */
  readonly lambdaZip?: string;
}

/** One statement of a role's policy; `wildcardReason` is required when a resource has a `*`. */
interface Grant {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, string>>;
  readonly wildcardReason?: string;
}

export class FlowGuardStack extends Stack {
  public readonly config: FlowGuardConfig;
  public readonly logGroupName: LogGroupName;
  /** The KMS key ARN of this stack's region (placeholders rendered), if any. */
  public readonly kmsKeyArn?: string;
  public readonly deliveryRole: iam.Role;
  public readonly functionRole: iam.Role;
  public readonly function: lambda.Function;
  public readonly onFailureQueue: sqs.Queue;
  public readonly ruleDeadLetterQueue: sqs.Queue;
  public readonly alarmTopic: sns.Topic;
  private readonly wildcardReasons = new Map<iam.Role, Map<string, string[]>>();

  constructor(scope: Construct, id: string, props: FlowGuardStackProps = {}) {
    super(scope, id, props);
    this.config = resolveConfig(props);
    const config = this.config;
    // The key of this region: from the per-region map, or the template with {region} and
    // {account_id} filled in; a literal key of another region fails the synth here, as the
    // Lambda would refuse it at start-up (and CloudWatch Logs would refuse it anyway).
    this.kmsKeyArn = kmsKeyFor(config, this.region, this.account);
    this.logGroupName = logGroupName(config.logGroupName, this.region, this.account);

    this.createManagedLogGroup();
    this.deliveryRole = this.createDeliveryRole();
    this.functionRole = this.createFunctionRole();
    this.function = this.createFunction(props.lambdaZip);

    const queues = this.createQueues();
    this.onFailureQueue = queues.onFailure;
    this.ruleDeadLetterQueue = queues.ruleDeadLetter;
    this.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.onFailureQueue),
    });
    this.createRules();

    this.alarmTopic = this.createAlarmTopic();
    this.createAlarms();

    new CfnOutput(this, 'FunctionNameOutput', { key: 'FunctionName', value: this.function.functionName });
    new CfnOutput(this, 'FunctionLogGroupOutput', {
      key: 'FunctionLogGroup',
      value: this.function.logGroup.logGroupName,
    });
    new CfnOutput(this, 'DeliveryRoleArnOutput', { key: 'DeliveryRoleArn', value: this.deliveryRole.roleArn });
    new CfnOutput(this, 'FlowLogGroupOutput', { key: 'FlowLogGroup', value: this.logGroupName.name });
    new CfnOutput(this, 'AlarmTopicArnOutput', { key: 'AlarmTopicArn', value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'DryRunOutput', { key: 'DryRun', value: String(config.dryRun) });
  }

  /** The flow logs' log group, unless the name has `{vpc_id}` (then the Lambda creates them). */
  private createManagedLogGroup(): void {
    if (this.logGroupName.perVpc) {
      return;
    }
    const group = new logs.LogGroup(this, 'FlowLogGroup', {
      logGroupName: this.logGroupName.name,
      retention: this.config.retentionDays as logs.RetentionDays,
      // Flow logs are audit evidence: deleting the stack never deletes them.
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: this.kmsKeyArn ? kms.Key.fromKeyArn(this, 'FlowLogKey', this.kmsKeyArn) : undefined,
    });
    Tags.of(group).add(MANAGED_BY_TAG.key, MANAGED_BY_TAG.value);
  }

  /** This stack's account, region and partition, as the facts' role templates name them. */
  private rolePlace(): RolePlace {
    return { partition: this.partition, region: this.region, account: this.account };
  }

  /** ARNs of the managed log group(s): the group itself, and its streams (`:*`). */
  private logGroupArns(): string[] {
    const group = logGroupArn(this.rolePlace(), this.logGroupName.iamPattern);
    return [group, `${group}:*`];
  }

  /**
   * The role that VPC Flow Logs assumes to write into the managed log group(s). It gets no
   * logs:CreateLogGroup, although AWS's example policy has it: flowguard creates the group itself,
   * with its KMS key, tag and retention, before any flow log points at it; a service that could
   * create the group would, after someone deleted it, recreate it never-expiring, unencrypted and
   * untagged. Without the permission, delivery fails instead, and flowguard (triggered by the
   * DeleteLogGroup event, or the next sweep) recreates the group properly.
   */
  private createDeliveryRole(): iam.Role {
    // Both policies are the facts' templates (crates/core/facts.json, delivery_role), which
    // `flowguard setup-role` renders too (with every region instead of this stack's).
    const [trust] = deliveryTrustPolicy(this.rolePlace()).Statement;
    if (trust.Principal === undefined || trust.Action !== 'sts:AssumeRole') {
      throw new Error('the facts\' delivery trust policy must be one sts:AssumeRole statement for a service');
    }
    const role = new iam.Role(this, 'DeliveryRole', {
      description: 'Assumed by VPC Flow Logs to deliver the flow logs created by flowguard to its log group(s)',
      // Confused deputy: only flow logs of this account, in this region, may use the role.
      assumedBy: new iam.ServicePrincipal(trust.Principal.Service, { conditions: trust.Condition }),
    });
    for (const statement of deliveryInlinePolicy(this.rolePlace(), this.logGroupName.iamPattern).Statement) {
      this.grant(role, {
        sid: statement.Sid ?? 'DeliverFlowLogs',
        actions: typeof statement.Action === 'string' ? [statement.Action] : statement.Action,
        resources: statement.Resource ?? [],
        wildcardReason:
          'Flow Logs writes one log stream per network interface, named at delivery time, so the streams ' +
          'are granted as <group>:*' + this.perVpcReason(),
      });
    }
    this.acknowledgeWildcards(role);
    return role;
  }

  private perVpcReason(): string {
    return this.logGroupName.perVpc
      ? '; the group name contains {vpc_id}, which is only known when the Lambda creates the group, so it is a *'
      : '';
  }

  private flowLogArn(): string {
    return this.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' });
  }

  private vpcArn(): string {
    return this.formatArn({ service: 'ec2', resource: 'vpc', resourceName: '*' });
  }

  /**
   * The function's role. Each statement below is one thing the Lambda needs; a dry run gets only
   * the reads and what EC2's DryRun permission check of CreateFlowLogs evaluates.
   */
  private createFunctionRole(): iam.Role {
    const role = new iam.Role(this, 'FunctionRole', {
      description: `flowguard Lambda (${this.config.dryRun ? 'dry run: plans only' : 'enforcing'})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    this.grant(role, {
      sid: 'ReadInventory',
      actions: ['ec2:DescribeVpcs', 'ec2:DescribeFlowLogs', 'logs:DescribeLogGroups'],
      resources: ['*'],
      wildcardReason:
        'ec2:DescribeVpcs, ec2:DescribeFlowLogs and logs:DescribeLogGroups are list calls that support ' +
        'no resource-level permission: IAM only accepts "*" for them',
    });
    // CreateFlowLogs is authorized on two resource types (Service Authorization Reference, Amazon
    // EC2): the resource it watches (here `vpc`, which carries the VPC's own tags, ec2:ResourceTag)
    // and the `vpc-flow-log` being created, the only one whose condition keys include the request's
    // tags (aws:RequestTag/${TagKey}, aws:TagKeys). A condition key that a resource type does not
    // have is absent from the request context when that resource is evaluated, and StringEquals on
    // an absent key is false, so one statement with the aws:RequestTag condition on both ARNs would
    // deny every call: hence two statements. The flow log may only be created carrying the tag
    // managed-by=flowguard, the tag that the DeleteFlowLogs grant below trusts; the same request
    // (with DryRun=true) is what the dry run's permission check sends.
    this.grant(role, {
      sid: 'CreateFlowLogsOnVpcs',
      actions: ['ec2:CreateFlowLogs'],
      resources: [this.vpcArn()],
      wildcardReason:
        'flowguard puts a flow log on every VPC of the region, including VPCs created after the deployment, ' +
        'so the VPCs are granted by prefix',
    });
    this.grant(role, {
      sid: 'CreateManagedFlowLogs',
      actions: ['ec2:CreateFlowLogs'],
      resources: [this.flowLogArn()],
      conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      wildcardReason:
        'a new flow log has no id before CreateFlowLogs, so flow logs are granted by prefix, and only when the ' +
        'request tags them managed-by=flowguard (condition aws:RequestTag)',
    });
    // Tags given in CreateFlowLogs' TagSpecifications are authorized as ec2:CreateTags as well
    // (EC2 User Guide, "Grant permission to tag resources during creation"): only inside
    // CreateFlowLogs (ec2:CreateAction), and only the managed-by=flowguard tag.
    this.grant(role, {
      sid: 'TagFlowLogsAtCreation',
      actions: ['ec2:CreateTags'],
      resources: [this.flowLogArn()],
      conditions: {
        StringEquals: {
          'ec2:CreateAction': 'CreateFlowLogs',
          [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value,
        },
      },
      wildcardReason:
        'tags (managed-by=flowguard) only a flow log being created by CreateFlowLogs (condition ' +
        'ec2:CreateAction), whose id is not known in advance',
    });
    // Only the delivery role, and no iam:PassedToService condition: AWS documents no value of
    // that key for CreateFlowLogs' DeliverLogsPermissionArn, and a wrong one would deny every
    // CreateFlowLogs. What the role can be used for is bounded by its own trust policy instead
    // (vpc-flow-logs.amazonaws.com, for flow logs of this account and region only).
    this.grant(role, {
      sid: 'PassDeliveryRoleToFlowLogs',
      actions: ['iam:PassRole'],
      resources: [this.deliveryRole.roleArn],
    });
    this.grant(role, {
      sid: 'ReadDeliveryRole',
      actions: ['iam:GetRole'],
      resources: [this.deliveryRole.roleArn],
    });
    if (!this.config.dryRun) {
      this.grantWrites(role);
    }
    this.acknowledgeWildcards(role);
    return role;
  }

  /** What only an enforcing stack may do: replace its own failing flow logs, manage its log groups. */
  private grantWrites(role: iam.Role): void {
    this.grant(role, {
      sid: 'ReplaceOwnFailingFlowLogs',
      actions: ['ec2:DeleteFlowLogs'],
      resources: [this.flowLogArn()],
      conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      wildcardReason:
        'deletes only flow logs tagged managed-by=flowguard (condition aws:ResourceTag), i.e. the ones ' +
        'flowguard created and found failing delivery; their ids are not known in advance',
    });
    // CreateLogGroup with `tags` (flowguard always tags its groups managed-by=flowguard) needs
    // logs:TagResource or the deprecated logs:TagLogGroup besides logs:CreateLogGroup (CloudWatch
    // Logs API reference, CreateLogGroup's `tags`): TagResource only.
    this.grant(role, {
      sid: 'ManageFlowLogGroups',
      actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource'],
      resources: this.logGroupArns(),
      wildcardReason:
        'the managed flow-log group only; CloudWatch Logs authorizes PutRetentionPolicy and CreateLogGroup ' +
        'on the <group>:* form of the ARN' + this.perVpcReason(),
    });
  }

  /**
   * Adds one statement to a role's policy. A statement with a `*` in a resource must say why:
   * the reason becomes the cdk-nag acknowledgement of exactly that resource (AwsSolutions-IAM5).
   * Several statements may share a wildcard resource; its acknowledgement then gives every reason.
   */
  private grant(role: iam.Role, statement: Grant): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: statement.sid,
        actions: statement.actions,
        resources: statement.resources,
        conditions: statement.conditions,
      }),
    );
    let reasons = this.wildcardReasons.get(role);
    if (!reasons) {
      reasons = new Map();
      this.wildcardReasons.set(role, reasons);
    }
    for (const resource of statement.resources) {
      // The same flattening as cdk-nag's, so the acknowledged finding id matches exactly.
      const flat = flattenCfnReference(this.resolve(resource));
      if (!flat.includes('*')) {
        continue;
      }
      if (!statement.wildcardReason) {
        throw new Error(`statement ${statement.sid} grants a wildcard resource (${flat}) without a reason`);
      }
      const id = `AwsSolutions-IAM5[Resource::${flat}]`;
      reasons.set(id, [...(reasons.get(id) ?? []), `${statement.sid}: ${statement.wildcardReason}.`]);
    }
  }

  /** Records the cdk-nag acknowledgements of a role's wildcard resources, once its policy is complete. */
  private acknowledgeWildcards(role: iam.Role): void {
    for (const [id, reasons] of this.wildcardReasons.get(role) ?? []) {
      Validations.of(role).acknowledge({ id, reason: reasons.join(' ') });
    }
  }

  private createFunction(lambdaZip: string | undefined): lambda.Function {
    const config = this.config;
    const environment: Record<string, string> = {
      FLOWGUARD_DELIVERY_ROLE_ARN: this.deliveryRole.roleArn,
      FLOWGUARD_LOG_GROUP: config.logGroupName,
      FLOWGUARD_RETENTION_DAYS: String(config.retentionDays),
      FLOWGUARD_TRAFFIC_TYPE: config.trafficType,
      FLOWGUARD_DRY_RUN: String(config.dryRun),
      FLOWGUARD_EXEMPT_TAG: config.exemptTag,
      FLOWGUARD_MAX_AGGREGATION_INTERVAL: String(config.maxAggregationInterval),
    };
    if (this.kmsKeyArn) {
      // The key of this stack's region, rendered: the Lambda runs in one region only.
      environment.FLOWGUARD_KMS_KEY_ARN = this.kmsKeyArn;
    }
    // The Lambda's reports: one JSON summary line per invocation; a year of them.
    const logGroup = new logs.LogGroup(this, 'FunctionLogGroup', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // With a role of its own, the function gets no implicit logging permission: this group only.
    logGroup.grantWrite(this.functionRole);
    const options: lambda.FunctionOptions = {
      description: `flowguard: keeps VPC flow logs on (${config.dryRun ? 'dry run' : 'enforcing'})`,
      role: this.functionRole,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(60),
      memorySize: 256,
      // Off unless asked for: AWS refuses a reservation that leaves less than 100 unreserved
      // executions, which is every reservation in a new account (quota 10).
      reservedConcurrentExecutions: config.reservedConcurrency,
      // JSON makes Lambda set AWS_LAMBDA_LOG_FORMAT=JSON, which the Rust tracing setup follows.
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
      environment,
    };
    if (lambdaZip) {
      return new lambda.Function(this, 'Function', {
        ...options,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(lambdaZip),
      });
    }
    return withoutCargoProbe(!this.bundlingRequired, () =>
      new RustFunction(this, 'Function', {
        ...options,
        runtime: 'provided.al2023',
        manifestPath: WORKSPACE_MANIFEST,
        binaryName: LAMBDA_BINARY,
        // `--bin` alone would resolve features over every member of the workspace.
        bundling: { cargoLambdaFlags: ['--package', LAMBDA_PACKAGE] },
      }),
    );
  }

  private createQueues(): { onFailure: sqs.Queue; ruleDeadLetter: sqs.Queue } {
    const props: sqs.QueueProps = {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    };
    const onFailure = new sqs.Queue(this, 'OnFailureQueue', props);
    const ruleDeadLetter = new sqs.Queue(this, 'RuleDeadLetterQueue', props);
    Validations.of(onFailure).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'OnFailureQueue is itself the last stop: the on-failure destination of the Lambda\'s asynchronous ' +
        'invocations, watched by the OnFailureQueueDepth alarm and read by a person.',
    });
    Validations.of(ruleDeadLetter).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'RuleDeadLetterQueue is itself the dead-letter queue of the EventBridge rule targets, watched by ' +
        'the RuleDeadLetterQueueDepth alarm and read by a person.',
    });
    return { onFailure, ruleDeadLetter };
  }

  /** The triggers of DESIGN.md: CloudTrail API calls, and the scheduled sweep. */
  private createRules(): void {
    const target = new targets.LambdaFunction(this.function, {
      deadLetterQueue: this.ruleDeadLetterQueue,
      retryAttempts: 4,
      maxEventAge: Duration.hours(1),
    });
    new events.Rule(this, 'Ec2ApiCallRule', {
      description: 'flowguard: a VPC was created, or flow logs were deleted',
      eventPattern: {
        source: ['aws.ec2'],
        // Only this account's API calls, even if the bus is ever opened to other accounts.
        account: [this.account],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ec2.amazonaws.com'],
          eventName: ['CreateVpc', 'CreateDefaultVpc', 'DeleteFlowLogs'],
        },
      },
      targets: [target],
    });
    const name = this.logGroupName;
    const logGroupMatch = name.perVpc ? events.Match.prefix(name.literalPrefix) : [name.name];
    new events.Rule(this, 'LogGroupApiCallRule', {
      description: 'flowguard: the managed flow-log group was deleted or its retention changed',
      eventPattern: {
        source: ['aws.logs'],
        account: [this.account],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['logs.amazonaws.com'],
          eventName: ['DeleteLogGroup', 'PutRetentionPolicy', 'DeleteRetentionPolicy'],
          // With `{vpc_id}` first in the name there is no literal prefix: all groups are sent, and
          // the Lambda ignores those that are not its own.
          ...(name.literalPrefix === '' ? {} : { requestParameters: { logGroupName: logGroupMatch } }),
        },
      },
      targets: [target],
    });
    new events.Rule(this, 'SweepSchedule', {
      description: 'flowguard: sweep the region (the safety net for missed CloudTrail events)',
      schedule: events.Schedule.expression(this.config.sweepSchedule),
      targets: [target],
    });
  }

  private createAlarmTopic(): sns.Topic {
    // CloudWatch alarms can only publish to an encrypted topic whose key lets cloudwatch.amazonaws.com
    // use it, which an AWS-managed key (alias/aws/sns) does not: hence a key of our own.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'flowguard: encrypts the alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'flowguard alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // enforceSSL replaces SNS's default access policy, so CloudWatch needs an explicit grant;
    // limited to this account's alarms (confused deputy).
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );
    if (this.config.alarmEmail) {
      topic.addSubscription(new subscriptions.EmailSubscription(this.config.alarmEmail));
    }
    return topic;
  }

  private createAlarms(): void {
    const period = Duration.minutes(5);
    const action = new cloudwatchActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
    };
    alarm(
      'FunctionErrors',
      this.function.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
      'The flowguard Lambda returned errors (retryable failures or invalid events); see its log group.',
    );
    alarm(
      'DestinationDeliveryFailures',
      this.function.metric('DestinationDeliveryFailures', { period, statistic: cloudwatch.Stats.SUM }),
      'Lambda could not deliver a failed event to the on-failure queue: the event is lost unless the function ' +
        'log shows it; check the queue and the function role\'s sqs:SendMessage.',
    );
    alarm(
      'RemediationFailures',
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName: REMEDIATION_FAILURES_METRIC,
        dimensionsMap: { FunctionName: this.function.functionName },
        statistic: cloudwatch.Stats.SUM,
        period,
      }),
      'flowguard could not remediate at least one VPC or log group; the report in the function log says which and why.',
    );
    alarm(
      'OnFailureQueueDepth',
      this.onFailureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      'An event failed all Lambda retries and waits in the on-failure queue: read it, fix the cause, re-drive it.',
    );
    alarm(
      'RuleDeadLetterQueueDepth',
      this.ruleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: cloudwatch.Stats.MAXIMUM }),
      'EventBridge could not deliver an event to the flowguard Lambda: read the dead-letter queue.',
    );
  }
}

/**
 * cargo-lambda-cdk's RustFunction runs `cargo lambda --version` in its constructor, to choose
 * between local and Docker bundling, even when the stack is not bundled (tests, CI synths with
 * `aws:cdk:bundling-stacks=[]`). When no bundling will happen, the probe's cached answer is
 * preset for the duration of the constructor so that no cargo process is started; it is
 * restored afterwards, so a stack that does bundle probes as usual.
 */
function withoutCargoProbe<T>(skip: boolean, build: () => T): T {
  if (!skip) {
    return build();
  }
  const cache = Bundling as unknown as { runsLocally?: boolean };
  const saved = cache.runsLocally;
  cache.runsLocally = saved ?? false;
  try {
    return build();
  } finally {
    cache.runsLocally = saved;
  }
}
