/**
 * What flowguard may do in an account to keep its flow logs on: the single-account function
 * role's statements, which the spokes' member role repeats word for word (DESIGN.md,
 * "Organization mode": the member role grants exactly what the single-account role grants). A
 * dry run gets only the reads and what EC2's DryRun check of CreateFlowLogs evaluates.
 */
import { MANAGED_BY_TAG, RolePlace, logGroupArn } from './facts';
import { Grant } from './grants';
import { LogGroupName } from './log-group-name';

/** Where the statements apply, and what they name. */
export interface RemediationScope {
  /** Partition, region (`*`: every region, as a member role) and account. */
  readonly place: RolePlace;
  /** The role that VPC Flow Logs assumes to deliver (passed with CreateFlowLogs). */
  readonly deliveryRoleArn: string;
  /** The managed log group name, seen from this place. */
  readonly logGroup: LogGroupName;
  /** Plan only: no write statement at all. */
  readonly dryRun: boolean;
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

/** The statements, in order: reads, CreateFlowLogs, PassRole, and (unless a dry run) the writes. */
export function remediationGrants(scope: RemediationScope): Grant[] {
  const { place, logGroup } = scope;
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
    // Only the delivery role, and no iam:PassedToService condition: AWS documents no value of
    // that key for CreateFlowLogs' DeliverLogsPermissionArn, and a wrong one would deny every
    // CreateFlowLogs. What the role can be used for is bounded by its own trust policy instead
    // (vpc-flow-logs.amazonaws.com, for flow logs of this account only).
    {
      sid: 'PassDeliveryRoleToFlowLogs',
      actions: ['iam:PassRole'],
      resources: [scope.deliveryRoleArn],
    },
    {
      sid: 'ReadDeliveryRole',
      actions: ['iam:GetRole'],
      resources: [scope.deliveryRoleArn],
    },
  ];
  if (scope.dryRun) {
    return grants;
  }
  return [
    ...grants,
    {
      sid: 'ReplaceOwnFailingFlowLogs',
      actions: ['ec2:DeleteFlowLogs'],
      resources: [flowLogs],
      conditions: { StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG.key}`]: MANAGED_BY_TAG.value } },
      wildcardReason:
        'deletes only flow logs tagged managed-by=flowguard (condition aws:ResourceTag), i.e. the ones ' +
        'flowguard created and found failing delivery; their ids are not known in advance' + everyRegion,
    },
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
  ];
}
