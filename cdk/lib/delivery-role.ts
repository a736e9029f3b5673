/**
 * The role that VPC Flow Logs assumes to write into the managed log group(s), made from the facts'
 * templates (`crates/core/facts.json`, delivery_role), which `flowguard setup-role` renders too.
 *
 * It gets no logs:CreateLogGroup, although AWS's example policy has it: flowguard creates the group
 * itself, with its KMS key, tag and retention, before any flow log points at it; a service that
 * could create the group would, after someone deleted it, recreate it never-expiring, unencrypted
 * and untagged. Without the permission, delivery fails instead, and flowguard (triggered by the
 * DeleteLogGroup event, or the next sweep) recreates the group properly.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { RolePlace, deliveryInlinePolicy, deliveryTrustPolicy } from './facts';
import { RoleGrants } from './grants';
import { LogGroupName } from './log-group-name';
import { perVpcReason } from './remediation-grants';

export interface DeliveryRoleProps {
  /** Partition, region (`*` for one role that serves every region) and account of the flow logs. */
  readonly place: RolePlace;
  /** The managed log group name, seen from the role's place. */
  readonly logGroup: LogGroupName;
  /** A fixed name (organization mode: `flowguard-delivery`, the Lambda's default ARN). */
  readonly roleName?: string;
}

/** Creates the delivery role as `<scope>/DeliveryRole`, its policy complete and acknowledged. */
export function createDeliveryRole(scope: Construct, props: DeliveryRoleProps): iam.Role {
  const [trust] = deliveryTrustPolicy(props.place).Statement;
  if (trust.Principal === undefined || trust.Action !== 'sts:AssumeRole') {
    throw new Error('the facts\' delivery trust policy must be one sts:AssumeRole statement for a service');
  }
  const role = new iam.Role(scope, 'DeliveryRole', {
    roleName: props.roleName,
    description: 'Assumed by VPC Flow Logs to deliver the flow logs created by flowguard to its log group(s)',
    // Confused deputy: only flow logs of this account (and region, unless `*`) may use the role.
    assumedBy: new iam.ServicePrincipal(trust.Principal.Service, { conditions: trust.Condition }),
  });
  const everyRegion = props.place.region === '*' ? '; one role serves every region, so the region is a *' : '';
  const grants = new RoleGrants(role);
  for (const statement of deliveryInlinePolicy(props.place, props.logGroup.iamPattern).Statement) {
    grants.add({
      sid: statement.Sid ?? 'DeliverFlowLogs',
      actions: typeof statement.Action === 'string' ? [statement.Action] : statement.Action,
      resources: statement.Resource ?? [],
      wildcardReason:
        'Flow Logs writes one log stream per network interface, named at delivery time, so the streams ' +
        'are granted as <group>:*' + perVpcReason(props.logGroup) + everyRegion,
    });
  }
  grants.acknowledgeWildcards();
  return role;
}
