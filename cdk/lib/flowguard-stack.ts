/**
 * One flowguard deployment: one account, one region (docs/design.md, "Deployment").
 *
 *   CloudTrail events (EventBridge rules) ─┐
 *   scheduled sweep ───────────────────────┴─> Lambda (flowguard-lambda) ──> EC2 / Logs APIs
 *        rule target failures ─> RuleDeadLetterQueue     │ async failures ─> OnFailureQueue
 *   alarms (function errors, failed destination deliveries, queue depth, RemediationFailures)
 *        ─> AlarmTopic (e-mail)
 *
 * The Lambda's role is least privilege and each grant says why (see remediation-grants.ts): a dry-run stack
 * can only do what EC2's DryRun check of CreateFlowLogs needs. With `securityHub` or
 * `configReevaluate` on, an enforcing role also gets exactly the facts' permissions of that
 * integration (see integration-grants.ts), and the Lambda its variable.
 *
 * The delivery role is `flowguard-delivery` (./delivery-role.ts), one per account: IAM role names are
 * global, so in a deployment of several regions the stack of one region creates it, trusting the flow
 * logs of every region and writing into the managed group(s) of every region, and the stacks of the
 * other regions use it by name and depend on that stack (`deliveryRoleSource`, set by ./app.ts).
 *
 * With an S3 destination (`destination`, usually the log-archive bucket of ./log-archive-stack.ts)
 * there is no delivery role and no managed log group: EC2 takes no role for S3, and the bucket's
 * lifecycle keeps the objects. The function then gets the log-delivery permissions that AWS
 * documents for a principal that creates flow logs into S3, instead of PassRole and the group's.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Tags } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createAlarmTopic, createAlarms } from './alarms';
import { FlowGuardConfig, FlowGuardSettings, isKmsAlias, kmsKeyFor, policyEnvironment, resolveConfig } from './config';
import { createDeliveryRole } from './delivery-role';
import { DELIVERY_ROLE_NAME, MANAGED_BY_TAG, RolePlace } from './facts';
import { createFlowGuardFunction } from './flowguard-function';
import { RoleGrants } from './grants';
import { LogGroupName, logGroupName } from './log-group-name';
import { remediationGrants } from './remediation-grants';
import { createSweepRule, createTriggerRules, triggerPatterns } from './triggers';

export { MANAGED_BY_TAG } from './facts';
export { METRIC_NAMESPACE, REMEDIATION_FAILURES_METRIC } from './alarms';
export { LAMBDA_BINARY, LAMBDA_PACKAGE, WORKSPACE_MANIFEST } from './flowguard-function';

/**
 * Where a stack's delivery role `flowguard-delivery` comes from. IAM role names are global in an
 * account, so of the stacks of one account, one creates the role for every region of the
 * deployment, and the others use it by name.
 */
export type DeliveryRoleSource =
  /** This stack creates the role, for the flow logs of these regions (its own among them). */
  | { readonly regions: readonly string[] }
  /** The stack of the same account that creates the role (for this stack's region among others). */
  | { readonly createdBy: FlowGuardStack };

export interface FlowGuardStackProps extends StackProps, FlowGuardSettings {
  /**
   * A prebuilt Lambda package (a zip with `bootstrap`, from `cargo lambda build --release --arm64
   * --output-format zip --package flowguard-lambda` at the workspace root) deployed instead of
   * building it with cargo-lambda during the deployment.
   *
   * @default - build flowguard-lambda from the workspace root with cargo-lambda-cdk's RustFunction
   */
  readonly lambdaZip?: string;

  /**
   * Where the delivery role `flowguard-delivery` comes from (with CloudWatch Logs: an S3 destination
   * has no delivery role). With `createdBy`, this stack uses that stack's role by name and depends
   * on that stack, so that CloudFormation creates the role before this stack's function passes it.
   *
   * @default - this stack creates the role, for its own region only
   */
  readonly deliveryRoleSource?: DeliveryRoleSource;
}

/** flowguard in one account and one region: the function acts with its own role. */
export class FlowGuardStack extends Stack {
  public readonly config: FlowGuardConfig;
  public readonly logGroupName: LogGroupName;
  /** The KMS key of this stack's region: its ARN (placeholders rendered) or alias name, if any. */
  public readonly kmsKeyArn?: string;
  /**
   * The delivery role `flowguard-delivery`, created by this stack or by the stack it depends on
   * (`deliveryRoleSource`); undefined with an S3 destination (EC2 takes no role for S3).
   */
  public readonly deliveryRole?: iam.IRole;
  /** The regions whose flow logs the delivery role serves, when this stack creates it. */
  public readonly deliveryRoleRegions?: readonly string[];
  public readonly functionRole: iam.Role;
  public readonly function: lambda.Function;
  public readonly onFailureQueue: sqs.Queue;
  public readonly ruleDeadLetterQueue: sqs.Queue;
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: FlowGuardStackProps = {}) {
    super(scope, id, props);
    this.config = resolveConfig(props);
    const config = this.config;
    // The key of this region: from the per-region map, or the template with {region} and
    // {account_id} filled in, or an alias name as it is; a literal key of another region fails the
    // synth here, as the Lambda would refuse it at start-up (and CloudWatch Logs would refuse it).
    this.kmsKeyArn = kmsKeyFor(config, this.region, this.account);
    this.logGroupName = logGroupName(config.logGroupName, this.region, this.account);

    const cloudWatchLogs = config.s3Destination === undefined;
    if (cloudWatchLogs) {
      this.createManagedLogGroup();
      const source = props.deliveryRoleSource ?? { regions: [this.region] };
      if ('createdBy' in source) {
        this.deliveryRole = this.useDeliveryRoleOf(source.createdBy);
      } else {
        this.deliveryRoleRegions = [...source.regions];
        this.deliveryRole = this.createDeliveryRole(this.deliveryRoleRegions);
      }
    }
    this.functionRole = this.createFunctionRole();
    const created = createFlowGuardFunction(this, {
      role: this.functionRole,
      description: `flowguard: keeps VPC flow logs on (${config.dryRun ? 'dry run' : 'enforcing'})`,
      environment: this.functionEnvironment(),
      timeout: Duration.seconds(60),
      memorySize: 256,
      reservedConcurrency: config.reservedConcurrency,
      lambdaZip: props.lambdaZip,
    });
    this.function = created.function;
    this.onFailureQueue = created.onFailureQueue;
    this.ruleDeadLetterQueue = created.ruleDeadLetterQueue;
    createTriggerRules(this, {
      patterns: triggerPatterns(cloudWatchLogs ? this.logGroupName : undefined, this.account),
      target: created.target,
    });
    createSweepRule(this, config.sweepSchedule, created.target);

    this.alarmTopic = createAlarmTopic(this, config.alarmEmail);
    createAlarms(this, created, this.alarmTopic);

    new CfnOutput(this, 'FunctionNameOutput', { key: 'FunctionName', value: this.function.functionName });
    new CfnOutput(this, 'FunctionLogGroupOutput', {
      key: 'FunctionLogGroup',
      value: this.function.logGroup.logGroupName,
    });
    if (this.deliveryRole !== undefined) {
      new CfnOutput(this, 'DeliveryRoleArnOutput', { key: 'DeliveryRoleArn', value: this.deliveryRole.roleArn });
      new CfnOutput(this, 'FlowLogGroupOutput', { key: 'FlowLogGroup', value: this.logGroupName.name });
    } else {
      new CfnOutput(this, 'FlowLogDestinationOutput', { key: 'FlowLogDestination', value: config.destination });
    }
    new CfnOutput(this, 'AlarmTopicArnOutput', { key: 'AlarmTopicArn', value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'DryRunOutput', { key: 'DryRun', value: String(config.dryRun) });
  }

  /**
   * The flow logs' log group, unless the name has `{vpc_id}` or the key is an alias name: then the
   * Lambda creates the group(s). CloudFormation's LogGroup takes only a key ARN (as CloudWatch Logs
   * does), and the stack cannot resolve an alias, which the Lambda does (kms:DescribeKey) before
   * its CreateLogGroup, with the same key, tag and retention.
   */
  private createManagedLogGroup(): void {
    if (this.logGroupName.perVpc || (this.kmsKeyArn !== undefined && isKmsAlias(this.kmsKeyArn))) {
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

  /**
   * The delivery role, for the flow logs of `regions` of this account: trusted by VPC Flow Logs of
   * each region, writing into the managed group(s) of each (the name rendered for that region).
   */
  private createDeliveryRole(regions: readonly string[]): iam.Role {
    if (!regions.includes(this.region)) {
      throw new Error(`the delivery role of ${this.stackName} must serve its own region, ${this.region}, not only ${regions.join(', ')}`);
    }
    if (new Set(regions).size !== regions.length) {
      throw new Error(`the delivery role of ${this.stackName} lists a region twice: ${regions.join(', ')}`);
    }
    return createDeliveryRole(this, {
      regions: regions.map((region) => ({
        place: { ...this.rolePlace(), region },
        logGroup: logGroupName(this.config.logGroupName, region, this.account),
      })),
    });
  }

  /**
   * The delivery role that `owner`, a stack of the same account, creates: by name (IAM role names
   * are global in an account), immutable here, and `owner` deployed first.
   */
  private useDeliveryRoleOf(owner: FlowGuardStack): iam.IRole {
    if (owner.deliveryRoleRegions === undefined) {
      throw new Error(`${owner.stackName} creates no delivery role for ${this.stackName} to use`);
    }
    if (!owner.deliveryRoleRegions.includes(this.region)) {
      throw new Error(
        `the delivery role of ${owner.stackName} serves ${owner.deliveryRoleRegions.join(', ')}, not ${this.region}, ` +
          `the region of ${this.stackName}`,
      );
    }
    if (owner.config.logGroupName !== this.config.logGroupName) {
      throw new Error(
        `the delivery role of ${owner.stackName} writes into ${owner.config.logGroupName}, ${this.stackName}'s flow logs ` +
          `into ${this.config.logGroupName}`,
      );
    }
    if (owner.account !== this.account) {
      throw new Error(`${owner.stackName} is in account ${owner.account}, ${this.stackName} in ${this.account}: each account needs its own delivery role`);
    }
    this.addStackDependency(owner, `it creates the delivery role ${DELIVERY_ROLE_NAME}, which this stack's flow logs use`);
    return iam.Role.fromRoleName(this, 'DeliveryRole', DELIVERY_ROLE_NAME, { mutable: false });
  }

  /** This stack's account, region and partition, as the facts' role templates name them. */
  private rolePlace(): RolePlace {
    return { partition: this.partition, region: this.region, account: this.account };
  }

  /**
   * The function's role: the statements of `remediationGrants`, each one thing the Lambda needs (a
   * dry run gets only the reads and what EC2's DryRun permission check of CreateFlowLogs evaluates).
   */
  private createFunctionRole(): iam.Role {
    const role = new iam.Role(this, 'FunctionRole', {
      description: `flowguard Lambda (${this.config.dryRun ? 'dry run: plans only' : 'enforcing'})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    new RoleGrants(role)
      .addAll(
        remediationGrants({
          place: this.rolePlace(),
          delivery:
            this.deliveryRole === undefined
              ? { kind: 's3' }
              : { kind: 'cloud-watch-logs', deliveryRoleArn: this.deliveryRole.roleArn, logGroup: this.logGroupName },
          dryRun: this.config.dryRun,
          integrations: this.config,
          kmsAliases: this.kmsKeyArn !== undefined && isKmsAlias(this.kmsKeyArn) ? [this.kmsKeyArn] : [],
        }),
      )
      .acknowledgeWildcards();
    return role;
  }

  /** The Lambda's FLOWGUARD_* variables (docs/design.md, "Configuration"). */
  private functionEnvironment(): Record<string, string> {
    const config = this.config;
    // EC2 takes no delivery role for an S3 destination, and the Lambda refuses one with it.
    const environment: Record<string, string> = {
      ...(this.deliveryRole === undefined ? {} : { FLOWGUARD_DELIVERY_ROLE_ARN: this.deliveryRole.roleArn }),
      ...policyEnvironment(config),
    };
    if (this.kmsKeyArn) {
      // The key of this stack's region, rendered (or the alias name): the Lambda runs in one region only.
      environment.FLOWGUARD_KMS_KEY_ARN = this.kmsKeyArn;
    }
    return environment;
  }
}
