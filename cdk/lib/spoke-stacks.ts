/**
 * The spoke: what must live in every member account for the hub to act there (docs/design.md,
 * "Organization mode"). No Lambda, no nested stack, no asset: the templates are plain enough for
 * service-managed StackSets to deploy in any account, new ones included.
 *
 * - `SpokeAccountStack`, once per account (IAM is global, so in the home region only): the member
 *   role that the hub assumes, and the delivery role `flowguard-delivery` that VPC Flow Logs assumes
 *   (none with an S3 destination: EC2 takes no role for S3).
 * - `SpokeRegionStack`, in every region: rules on the default bus that forward exactly the trigger
 *   events to the hub's bus of the same region, through a role of their own (EventBridge requires
 *   a role for a target bus in another account whose policy admits an organization).
 *
 * Both read the account, region and partition from CloudFormation (`AWS::AccountId`, ...), so one
 * template serves every account; the hub account and region names are the only literals.
 */
import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { kmsAliasesIn } from './config';
import { createDeliveryRole } from './delivery-role';
import { RoleGrants } from './grants';
import { logGroupName } from './log-group-name';
import { HUB_BUS_NAME, OrganizationConfig, hubRoleName, sortedRegions } from './organization-config';
import { remediationGrants } from './remediation-grants';
import { createTriggerRules, triggerPatterns } from './triggers';

export interface SpokeStackProps extends StackProps {
  readonly organization: OrganizationConfig;
}

/** The member role and (for CloudWatch Logs) the delivery role of one account. */
export class SpokeAccountStack extends Stack {
  public readonly memberRole: iam.Role;
  /** undefined with an S3 destination. */
  public readonly deliveryRole?: iam.Role;

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    super(scope, id, props);
    const org = props.organization;
    // One role for every region: the region is `*` in every ARN the roles name.
    const place = { partition: this.partition, region: '*', account: this.account };
    const logGroup = logGroupName(org.settings.logGroupName, '*', this.account);
    if (org.settings.s3Destination === undefined) {
      this.deliveryRole = createDeliveryRole(this, { regions: [{ place, logGroup }] });
    }
    this.memberRole = this.createMemberRole(org);
    new RoleGrants(this.memberRole)
      .addAll(
        remediationGrants({
          place,
          delivery:
            this.deliveryRole === undefined
              ? { kind: 's3' }
              : { kind: 'cloud-watch-logs', deliveryRoleArn: this.deliveryRole.roleArn, logGroup },
          dryRun: org.settings.dryRun,
          integrations: org.settings,
          // The hub resolves an alias in each account with this role: the aliases of every region.
          kmsAliases: kmsAliasesIn(org.settings, sortedRegions(org)),
        }),
      )
      .acknowledgeWildcards();

    new CfnOutput(this, 'MemberRoleArnOutput', { key: 'MemberRoleArn', value: this.memberRole.roleArn });
    if (this.deliveryRole !== undefined) {
      new CfnOutput(this, 'DeliveryRoleArnOutput', { key: 'DeliveryRoleArn', value: this.deliveryRole.roleArn });
    }
  }

  /**
   * Trusts only the hub functions' roles, by ARN (`aws:PrincipalArn`), with the external id when one
   * is set. The principal is the hub account with that condition, rather than the roles themselves:
   * IAM refuses a trust policy that names a role that does not exist yet (the spoke may be deployed
   * before a new region's hub), and a trust that names a role breaks for good when the role is
   * recreated (IAM keeps the deleted role's internal id).
   */
  private createMemberRole(org: OrganizationConfig): iam.Role {
    // Sorted: the order of `regions` changes no StackSet template.
    const hubRoles = sortedRegions(org).map((region) => `arn:${this.partition}:iam::${org.hubAccount}:role/${hubRoleName(region)}`);
    const conditions: Record<string, Record<string, string | string[]>> = {
      ArnEquals: { 'aws:PrincipalArn': hubRoles },
    };
    if (org.externalId !== undefined) {
      conditions.StringEquals = { 'sts:ExternalId': org.externalId };
    }
    return new iam.Role(this, 'MemberRole', {
      roleName: org.memberRole,
      description:
        `Assumed by the flowguard hub (account ${org.hubAccount}) to keep VPC flow logs on in this account ` +
        `(${org.settings.dryRun ? 'dry run: plans only' : 'enforcing'})`,
      assumedBy: new iam.PrincipalWithConditions(new iam.AccountPrincipal(org.hubAccount), conditions),
    });
  }
}

/** The forwarding rules of one account and region. */
export class SpokeRegionStack extends Stack {
  public readonly forwardingRole: iam.Role;
  public readonly rules: events.Rule[];

  constructor(scope: Construct, id: string, props: SpokeStackProps) {
    super(scope, id, props);
    const org = props.organization;
    const hubBus = events.EventBus.fromEventBusArn(
      this,
      'HubBus',
      `arn:${this.partition}:events:${this.region}:${org.hubAccount}:event-bus/${HUB_BUS_NAME}`,
    );
    this.forwardingRole = new iam.Role(this, 'ForwardingRole', {
      description: 'Assumed by EventBridge to forward flowguard\'s trigger events to the hub\'s bus',
      // Confused deputy: only this account's rules may use it.
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    // The target grants the role events:PutEvents on the hub's bus, and nothing else.
    const target = new targets.EventBus(hubBus, { role: this.forwardingRole });
    // With S3 there is no managed log group to watch: the EC2 rule alone.
    const logGroup =
      org.settings.s3Destination === undefined ? logGroupName(org.settings.logGroupName, this.region, this.account) : undefined;
    this.rules = createTriggerRules(this, { patterns: triggerPatterns(logGroup, this.account), target });
  }
}
