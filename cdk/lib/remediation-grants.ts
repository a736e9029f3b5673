/**
 * What flowguard may do in an account to keep its flow logs on: the single-account function
 * role's statements, which the spokes' member role repeats word for word (docs/design.md,
 * "Organization mode": the member role grants exactly what the single-account role grants). A
 * dry run gets only the reads and what EC2's DryRun check of CreateFlowLogs evaluates.
 *
 * The destination decides the rest: into CloudWatch Logs, flowguard passes the delivery role and
 * manages the log group; into S3, there is neither (EC2 takes no delivery role for S3), and the
 * caller needs what AWS documents for an IAM principal that publishes flow logs to S3 instead.
 *
 * With a KMS alias name as the key of the groups (`alias/NAME`), an enforcing role may also
 * resolve it (kms:DescribeKey), on keys of its own account only and only by that alias.
 *
 * The integrations that are on (Security Hub, AWS Config: ./integration-grants.ts) add their
 * statements last, in an enforcing role only: a dry run calls neither service.
 */
import { MANAGED_BY_TAG, RolePlace, logGroupArn } from './facts';
import { Grant } from './grants';
import { Integrations, integrationGrants } from './integration-grants';
import { LogGroupName } from './log-group-name';

/** Flow logs into the managed log group, through the delivery role. */
export interface CloudWatchLogsDelivery {
  readonly kind: 'cloud-watch-logs';
  /** The role that VPC Flow Logs assumes to deliver (passed with CreateFlowLogs). */
  readonly deliveryRoleArn: string;
  /** The managed log group name, seen from this place. */
  readonly logGroup: LogGroupName;
}

/** Flow logs into an S3 bucket (usually of the log-archive account): no role, no log group. */
export interface S3Delivery {
  readonly kind: 's3';
}

/** Where the statements apply, and what they name. */
export interface RemediationScope {
  /** Partition, region (`*`: every region, as a member role) and account. */
  readonly place: RolePlace;
  /** Where the flow logs deliver. */
  readonly delivery: CloudWatchLogsDelivery | S3Delivery;
  /** Plan only: no write statement at all. */
  readonly dryRun: boolean;
  /** The integrations that are on (their statements only when enforcing). */
  readonly integrations: Integrations;
  /**
   * The KMS alias names (`alias/NAME`) configured as the key of the groups in the regions that the
   * role acts in (config.ts, kmsAliasesIn): the Lambda resolves each with kms:DescribeKey right
   * before CreateLogGroup, with this role. None: no KMS permission at all.
   */
  readonly kmsAliases?: readonly string[];
}

function arn(place: RolePlace, service: string, resource: string): string {
  return `arn:${place.partition}:${service}:${place.region}:${place.account}:${resource}`;
}

/** Why a log-group ARN has a `*` when the name holds `{vpc_id}` (or `{region}` in every region). */
export function perVpcReason(logGroup: LogGroupName): string {
  return logGroup.perVpc
    ? '; the group name contains {vpc_id}, which is only known when the Lambda creates the group, so it is a *'
    : '';
}

/** ARNs of the managed log group(s): the group itself, and its streams (`:*`). */
export function managedLogGroupArns(place: RolePlace, logGroup: LogGroupName): string[] {
  const group = logGroupArn(place, logGroup.iamPattern);
  return [group, `${group}:*`];
}

/**
 * The statements, in order: reads, CreateFlowLogs, the delivery's (PassRole, or the S3 log
 * delivery), and (unless a dry run) the writes, then the integrations that are on.
 */
export function remediationGrants(scope: RemediationScope): Grant[] {
  const grants = flowLogGrants(scope);
  return scope.dryRun ? grants : [...grants, ...integrationGrants(scope.place, scope.integrations)];
}

/** What keeping the flow logs on needs: everything but the integrations. */
function flowLogGrants(scope: RemediationScope): Grant[] {
  const { place, delivery } = scope;
  const vpcs = arn(place, 'ec2', 'vpc/*');
  const flowLogs = arn(place, 'ec2', 'vpc-flow-log/*');
  const everyRegion = place.region === '*' ? '; the role serves every region, so the region is a * too' : '';
  const grants: Grant[] = [
    {
      sid: 'ReadInventory',
      actions: ['ec2:DescribeVpcs', 'ec2:DescribeFlowLogs', 'logs:DescribeLogGroups'],
      resources: ['*'],
      wildcardReason:
        'ec2:DescribeVpcs, ec2:DescribeFlowLogs and logs:DescribeLogGroups are list calls that support ' +
        'no resource-level permission: IAM only accepts "*" for them',
    },
    // CreateFlowLogs is authorized on two resource types (Service Authorization Reference, Amazon
    // EC2): the resource it watches (here `vpc`, which carries the VPC's own tags, ec2:ResourceTag)
    // and the `vpc-flow-log` being created, the only one whose condition keys include the request's
    // tags (aws:RequestTag/${TagKey}, aws:TagKeys). A condition key that a resource type does not
    // have is absent from the request context when that resource is evaluated, and StringEquals on
    // an absent key is false, so one statement with the aws:RequestTag condition on both ARNs would
    // deny every call: hence two statements. The flow log may only be created carrying the tag
    // managed-by=flowguard, the tag that the DeleteFlowLogs grant below trusts; the same request
    // (with DryRun=true) is what the dry run's permission check sends.
    {
      sid: 'CreateFlowLogsOnVpcs',
      actions: ['ec2:CreateFlowLogs'],
      resources: [vpcs],
      wildcardReason:
        'flowguard puts a flow log on every VPC of the region, including VPCs created after the deployment, ' +
        'so the VPCs are granted by prefix' + everyRegion,
    },
    {
      sid: 'CreateManagedFlowLogs',
      actions: ['ec2:CreateFlowLogs'],
      resources: [flowLogs],
      conditions: { StringEquals: { [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      wildcardReason:
        'a new flow log has no id before CreateFlowLogs, so flow logs are granted by prefix, and only when the ' +
        'request tags them managed-by=flowguard (condition aws:RequestTag)' + everyRegion,
    },
    // Tags given in CreateFlowLogs' TagSpecifications are authorized as ec2:CreateTags as well
    // (EC2 User Guide, "Grant permission to tag resources during creation"): only inside
    // CreateFlowLogs (ec2:CreateAction), and only the managed-by=flowguard tag.
    {
      sid: 'TagFlowLogsAtCreation',
      actions: ['ec2:CreateTags'],
      resources: [flowLogs],
      conditions: {
        StringEquals: {
          'ec2:CreateAction': 'CreateFlowLogs',
          [`aws:RequestTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value,
        },
      },
      wildcardReason:
        'tags (managed-by=flowguard) only a flow log being created by CreateFlowLogs (condition ' +
        'ec2:CreateAction), whose id is not known in advance' + everyRegion,
    },
  ];
  if (delivery.kind === 'cloud-watch-logs') {
    // Only the delivery role, and no iam:PassedToService condition: AWS documents no value of
    // that key for CreateFlowLogs' DeliverLogsPermissionArn, and a wrong one would deny every
    // CreateFlowLogs. What the role can be used for is bounded by its own trust policy instead
    // (vpc-flow-logs.amazonaws.com, for flow logs of this account only).
    grants.push(
      {
        sid: 'PassDeliveryRoleToFlowLogs',
        actions: ['iam:PassRole'],
        resources: [delivery.deliveryRoleArn],
      },
      {
        sid: 'ReadDeliveryRole',
        actions: ['iam:GetRole'],
        resources: [delivery.deliveryRoleArn],
      },
    );
  } else {
    // "The IAM principal that creates the flow log must be using an IAM role that has the
    // following permissions, which are required to publish flow logs to the destination Amazon
    // S3 bucket": logs:CreateLogDelivery and logs:DeleteLogDelivery on "*" (VPC User Guide,
    // "Create a flow log that publishes to Amazon S3"). EC2 sets up the flow log's log delivery
    // with them; a dry run keeps CreateLogDelivery, as it keeps iam:PassRole for CloudWatch Logs,
    // so that EC2's DryRun check meets what a real CreateFlowLogs would. No s3:PutBucketPolicy:
    // the bucket's policy is the log archive's (EC2 would otherwise overwrite a policy of a bucket
    // of this account with its own).
    grants.push(s3LogDelivery('CreateLogDeliveryToS3', 'logs:CreateLogDelivery', 'created'));
  }
  if (scope.dryRun) {
    return grants;
  }
  grants.push({
    sid: 'ReplaceOwnFailingFlowLogs',
    actions: ['ec2:DeleteFlowLogs'],
    resources: [flowLogs],
    conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
    wildcardReason:
      'deletes only flow logs tagged managed-by=flowguard (condition aws:ResourceTag), i.e. the ones ' +
      'flowguard created and found failing delivery; their ids are not known in advance' + everyRegion,
  });
  if (delivery.kind === 's3') {
    // Deleting an S3 flow log (one of flowguard's own, being replaced) ends its log delivery.
    grants.push(s3LogDelivery('DeleteLogDeliveryToS3', 'logs:DeleteLogDelivery', 'deleted'));
    return grants;
  }
  const logGroup = delivery.logGroup;
  const aliases = scope.kmsAliases ?? [];
  return [
    ...grants,
    // CreateLogGroup with `tags` (flowguard always tags its groups managed-by=flowguard) needs
    // logs:TagResource or the deprecated logs:TagLogGroup besides logs:CreateLogGroup (CloudWatch
    // Logs API reference, CreateLogGroup's `tags`): TagResource only.
    {
      sid: 'ManageFlowLogGroups',
      actions: ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:TagResource'],
      resources: managedLogGroupArns(place, logGroup),
      wildcardReason:
        'the managed flow-log group only; CloudWatch Logs authorizes PutRetentionPolicy and CreateLogGroup ' +
        'on the <group>:* form of the ARN' + perVpcReason(logGroup) + everyRegion,
    },
    ...(aliases.length === 0 ? [] : [resolveKmsAlias(place, aliases, everyRegion)]),
  ];
}

/**
 * CloudWatch Logs takes only a key ARN, so the Lambda turns the configured alias name into the
 * ARN of the key it names with kms:DescribeKey (KeyId = the alias name) before CreateLogGroup. KMS
 * authorizes DescribeKey on the key, not on the alias (KMS Developer Guide, "Use aliases to control
 * access to KMS keys": an alias in a policy's Resource element applies to the alias resource only),
 * so the grant names the keys of this account, whose ids are not known here, and holds the call to
 * the configured alias names with kms:RequestAlias (the alias that identifies the key in the
 * request), a condition key that the Service Authorization Reference lists for DescribeKey. The key
 * policy must let the account's IAM policies apply (the default key policy does). No other KMS
 * permission: CloudWatch Logs uses the key itself, as its service principal.
 */
function resolveKmsAlias(place: RolePlace, aliases: readonly string[], everyRegion: string): Grant {
  return {
    sid: 'ResolveKmsAlias',
    actions: ['kms:DescribeKey'],
    resources: [arn(place, 'kms', 'key/*')],
    conditions: { StringEquals: { 'kms:RequestAlias': [...aliases] } },
    wildcardReason:
      `resolves the configured KMS alias (${aliases.join(', ')}) to the ARN of the key it names in this account, ` +
      'whose id is not known at deployment, so the keys of this account are granted by prefix, and only when the ' +
      'request names the key by that alias (condition kms:RequestAlias)' + everyRegion,
  };
}

/** One of the two log-delivery permissions that an S3 flow log needs from its creator. */
function s3LogDelivery(sid: string, action: string, done: string): Grant {
  return {
    sid,
    actions: [action],
    resources: ['*'],
    wildcardReason:
      `EC2 needs ${action} from the caller when a flow log into S3 is ${done}; the VPC User Guide ("Create a flow ` +
      'log that publishes to Amazon S3") grants it on "*" and documents no narrower resource. It is used through ' +
      'CreateFlowLogs and DeleteFlowLogs, which the statements above confine to flowguard\'s own flow logs',
  };
}
