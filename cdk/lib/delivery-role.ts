/**
 * The role that VPC Flow Logs assumes to write into the managed log group(s), made from the facts'
 * templates (`crates/core/facts.json`, delivery_role), which `flowguard setup-role` renders too.
 *
 * It is always named `flowguard-delivery` (DELIVERY_ROLE_NAME, the facts' default ARN): the one
 * delivery role name of every mode. IAM role names are global in an account, so one role serves
 * every region of the account: the spokes render the templates with `*` for the region, the
 * single-account app once for each region of its deployment (./app.ts), in the stack of its first
 * region, which the stacks of the other regions depend on.
 *
 * It gets no logs:CreateLogGroup, although AWS's example policy has it: flowguard creates the group
 * itself, with its KMS key, tag and retention, before any flow log points at it; a service that
 * could create the group would, after someone deleted it, recreate it never-expiring, unencrypted
 * and untagged. Without the permission, delivery fails instead, and flowguard (triggered by the
 * DeleteLogGroup event, or the next sweep) recreates the group properly.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DELIVERY_ROLE_NAME, PolicyStatement, RolePlace, deliveryInlinePolicy, deliveryTrustPolicy } from './facts';
import { RoleGrants } from './grants';
import { LogGroupName } from './log-group-name';
import { perVpcReason } from './remediation-grants';

export { DELIVERY_ROLE_NAME } from './facts';

/** One region whose flow logs the role serves, and the managed log group seen from there. */
export interface DeliveryRoleRegion {
  /** Partition, region (`*` for every region) and account of the flow logs. */
  readonly place: RolePlace;
  /** The managed log group name, seen from that place. */
  readonly logGroup: LogGroupName;
}

export interface DeliveryRoleProps {
  /**
   * Every region whose flow logs deliver with the role (one account, one partition): the trust
   * admits flow logs of each, and the role may write into the managed group(s) of each. One entry
   * with region `*` serves every region of the account.
   */
  readonly regions: readonly DeliveryRoleRegion[];
}

/** Creates the delivery role `flowguard-delivery` as `<scope>/DeliveryRole`, its policy complete and acknowledged. */
export function createDeliveryRole(scope: Construct, props: DeliveryRoleProps): iam.Role {
  if (props.regions.length === 0) {
    throw new Error('the delivery role must serve at least one region');
  }
  const trust = mergedTrust(props.regions);
  const role = new iam.Role(scope, 'DeliveryRole', {
    roleName: DELIVERY_ROLE_NAME,
    description: 'Assumed by VPC Flow Logs to deliver the flow logs created by flowguard to its log group(s)',
    // Confused deputy: only flow logs of this account (and of the regions served) may use the role.
    assumedBy: new iam.ServicePrincipal(trust.service, { conditions: trust.conditions }),
  });
  const everyRegion = props.regions.some((r) => r.place.region === '*')
    ? '; one role serves every region, so the region is a *'
    : '';
  const grants = new RoleGrants(role);
  for (const statement of mergedInlinePolicy(props.regions)) {
    grants.add({
      sid: statement.sid,
      actions: statement.actions,
      resources: statement.resources,
      wildcardReason:
        'Flow Logs writes one log stream per network interface, named at delivery time, so the streams ' +
        'are granted as <group>:*' + perVpcReason(props.regions[0].logGroup) + everyRegion,
    });
  }
  grants.acknowledgeWildcards();
  return role;
}

type Conditions = Record<string, Record<string, string | string[]>>;

/**
 * The facts' trust statement for every region served, as one statement: the same service and
 * conditions, with the values that differ between regions (`aws:SourceArn`, which names the
 * region) listed together. IAM ORs the values of one condition key, so this admits exactly the
 * flow logs that one of the regions' statements admits, as long as only one key differs: a second
 * one would admit combinations that no region's statement does, and is refused.
 */
function mergedTrust(regions: readonly DeliveryRoleRegion[]): { service: string; conditions: Conditions } {
  const statements = regions.map((r) => {
    const document = deliveryTrustPolicy(r.place);
    if (document.Statement.length !== 1) {
      throw new Error('the facts\' delivery trust policy must be one statement');
    }
    return document.Statement[0];
  });
  const [first] = statements;
  if (first.Principal === undefined || first.Action !== 'sts:AssumeRole') {
    throw new Error('the facts\' delivery trust policy must be one sts:AssumeRole statement for a service');
  }
  const values = new Map<string, Map<string, string[]>>();
  for (const statement of statements) {
    if (statement.Principal?.Service !== first.Principal.Service || statement.Action !== first.Action) {
      throw new Error('the delivery trust statements of the regions differ in their principal or action');
    }
    for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
      const byKey = values.get(operator) ?? new Map<string, string[]>();
      values.set(operator, byKey);
      for (const [key, value] of Object.entries(keys)) {
        const seen = byKey.get(key) ?? [];
        byKey.set(key, seen.includes(value) ? seen : [...seen, value]);
      }
    }
  }
  const differing = [...values.values()].flatMap((byKey) => [...byKey.values()]).filter((v) => v.length > 1);
  if (differing.length > 1) {
    throw new Error('the delivery trust statements of the regions differ in more than one condition key');
  }
  const conditions: Conditions = {};
  for (const [operator, byKey] of values) {
    conditions[operator] = Object.fromEntries([...byKey].map(([key, v]) => [key, v.length === 1 ? v[0] : v]));
  }
  return { service: first.Principal.Service, conditions };
}

/**
 * The facts' inline policy for every region served: each statement once, with the resources of
 * every region (the managed group(s) of each region, and their streams).
 */
function mergedInlinePolicy(
  regions: readonly DeliveryRoleRegion[],
): { sid: string; actions: string[]; resources: string[] }[] {
  const documents = regions.map((r) => deliveryInlinePolicy(r.place, r.logGroup.iamPattern).Statement);
  const actionsOf = (s: PolicyStatement) => (typeof s.Action === 'string' ? [s.Action] : s.Action);
  return documents[0].map((statement, i) => {
    const resources: string[] = [];
    for (const document of documents) {
      const each = document[i];
      if (each.Sid !== statement.Sid || actionsOf(each).join() !== actionsOf(statement).join()) {
        throw new Error('the delivery inline policies of the regions differ in their statements');
      }
      resources.push(...(each.Resource ?? []).filter((r) => !resources.includes(r)));
    }
    return { sid: statement.Sid ?? 'DeliverFlowLogs', actions: actionsOf(statement), resources };
  });
}
