/**
 * The organization's hub in one region (docs/design.md, "Organization mode"), in the hub account:
 *
 *   member accounts' default buses ─(spoke rules)─> HubBus (flowguard-hub, organization only) ─┐
 *   scheduled sweep (default bus) ─────────────────────────────────────────────────────────────┴─>
 *     Lambda (organization mode, role flowguard-hub-<region>) ─ sts:AssumeRole ─> flowguard-member
 *     in each account in scope ──> EC2 / Logs APIs there
 *
 * Retries, queues and alarms are the single-account stack's, plus alarms on AccountsUnreachable
 * and EventsOutOfScope. The function's role may assume only the member role, only in the
 * organization's accounts, and read the organization; it acts in its own account only when the hub
 * account is in scope (`hubInScope`), and then with the single-account role's statements (the
 * integrations' included, when on: Security Hub and AWS Config are called in the account that a
 * run acts in, so through the member role everywhere else).
 *
 * With an S3 destination the function gets it (FLOWGUARD_DESTINATION and the S3 options) and no
 * delivery role: each account's flow logs deliver straight into the bucket, usually the
 * log-archive account's (./log-archive-stack.ts), whose policy admits the organization.
 */
import { CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ACCOUNTS_UNREACHABLE_METRIC, EVENTS_OUT_OF_SCOPE_METRIC, createAlarmTopic, createAlarms } from './alarms';
import { kmsAliasesIn, kmsKeyFor, policyEnvironment } from './config';
import { FACTS } from './facts';
import { createFlowGuardFunction } from './flowguard-function';
import { Grant, RoleGrants } from './grants';
import { logGroupName } from './log-group-name';
import {
  DELIVERY_ROLE_NAME,
  HUB_BUS_NAME,
  OrganizationConfig,
  excludedAccounts,
  hubRoleName,
} from './organization-config';
import { remediationGrants } from './remediation-grants';
import { createSweepRule, createTriggerRules, triggerPatterns } from './triggers';

/**
 * The Organizations calls that the hub makes (crates/aws/src/organization/mod.rs): with target OUs
 * and no root among them, it walks the OUs (`ListAccountsForParent`, `ListOrganizationalUnitsForParent`);
 * with a root among the targets, which holds every account, one `ListAccounts` walk
 * ({@link ORGANIZATIONS_LIST_ALL}) lists the organization in the fewest calls.
 */
export const ORGANIZATIONS_READS = ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'];

/** The hub's call when a root is among the targets: `ListAccounts` (no resource type: `*`). */
export const ORGANIZATIONS_LIST_ALL = 'organizations:ListAccounts';

/**
 * The parents that the hub lists: the roots among the targets, and the organization's OUs (the
 * target OUs and every OU below a target, whose ids are not known in advance). The ARN formats are
 * the Service Authorization Reference's (AWS Organizations: `root`, `organizationalunit`); their
 * account is the management account's, left `*` (the organization id pins the organization).
 */
export function organizationParentArns(partition: string, org: Pick<OrganizationConfig, 'organizationId' | 'targetOus'>): string[] {
  const base = `arn:${partition}:organizations::*`;
  const roots = org.targetOus.filter((id) => id.startsWith('r-')).map((root) => `${base}:root/${org.organizationId}/${root}`);
  return [...roots, `${base}:ou/${org.organizationId}/ou-*`];
}

export interface HubStackProps extends StackProps {
  readonly organization: OrganizationConfig;
  /** A prebuilt Lambda package; see FlowGuardStackProps.lambdaZip. */
  readonly lambdaZip?: string;
}

/** `FlowGuardHub-<region>`: the bus, the organization-mode Lambda, its schedule and alarms. */
export class HubStack extends Stack {
  public readonly bus: events.EventBus;
  public readonly functionRole: iam.Role;
  public readonly function: lambda.Function;
  public readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    super(scope, id, props);
    const org = props.organization;
    const config = org.settings;

    this.bus = this.createBus(org.organizationId);
    this.functionRole = this.createFunctionRole(org);
    const created = createFlowGuardFunction(this, {
      role: this.functionRole,
      description: `flowguard hub: keeps VPC flow logs on in the organization (${config.dryRun ? 'dry run' : 'enforcing'})`,
      environment: this.functionEnvironment(org),
      // A sweep covers every account in scope; 1000 accounts must fit with room to spare.
      timeout: Duration.minutes(15),
      memorySize: 512,
      reservedConcurrency: config.reservedConcurrency,
      lambdaZip: props.lambdaZip,
    });
    this.function = created.function;
    // Every account of the organization arrives on the bus: no account filter, and a log-group
    // name with {account_id} is matched by its prefix (the Lambda checks the rest). With S3 there
    // is no managed group to watch.
    createTriggerRules(this, {
      patterns: triggerPatterns(
        config.s3Destination === undefined ? logGroupName(config.logGroupName, this.region) : undefined,
      ),
      target: created.target,
      eventBus: this.bus,
    });
    // Schedules only exist on the default bus.
    createSweepRule(this, config.sweepSchedule, created.target);

    this.alarmTopic = createAlarmTopic(this, config.alarmEmail);
    createAlarms(this, created, this.alarmTopic, [
      {
        metricName: ACCOUNTS_UNREACHABLE_METRIC,
        description:
          'A sweep could not check at least one account in scope (its member role missing, access denied, ' +
          'throttling); the organization report in the function log names the accounts and the errors.',
      },
      {
        metricName: EVENTS_OUT_OF_SCOPE_METRIC,
        description:
          'The hub received an event of an account that is not in scope and ignored it: a spoke outside the ' +
          'target OUs, or an excluded account that still forwards events.',
      },
    ]);

    new CfnOutput(this, 'FunctionNameOutput', { key: 'FunctionName', value: this.function.functionName });
    new CfnOutput(this, 'FunctionLogGroupOutput', { key: 'FunctionLogGroup', value: this.function.logGroup.logGroupName });
    new CfnOutput(this, 'FunctionRoleArnOutput', { key: 'FunctionRoleArn', value: this.functionRole.roleArn });
    new CfnOutput(this, 'HubBusArnOutput', { key: 'HubBusArn', value: this.bus.eventBusArn });
    new CfnOutput(this, 'AlarmTopicArnOutput', { key: 'AlarmTopicArn', value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'DryRunOutput', { key: 'DryRun', value: String(config.dryRun) });
  }

  /** `flowguard-hub`: events:PutEvents from principals of the organization, and nobody else. */
  private createBus(organizationId: string): events.EventBus {
    const bus = new events.EventBus(this, 'HubBus', {
      eventBusName: HUB_BUS_NAME,
      description: 'flowguard: the trigger events that the spokes forward from every account of the organization',
    });
    bus.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'PutEventsFromTheOrganizationOnly',
        principals: [new iam.AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: { StringEquals: { 'aws:PrincipalOrgID': organizationId } },
      }),
    );
    return bus;
  }

  /**
   * `flowguard-hub-<region>`, the name the spokes' member roles trust. It may assume the member role
   * in the organization's accounts, read the organization's accounts and OUs, and, only when the hub
   * account is in scope, act in its own account as the single-account function does.
   */
  private createFunctionRole(org: OrganizationConfig): iam.Role {
    const role = new iam.Role(this, 'FunctionRole', {
      roleName: hubRoleName(this.region),
      description: `flowguard hub Lambda in ${this.region} (${org.settings.dryRun ? 'dry run: plans only' : 'enforcing'})`,
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const grants: Grant[] = [
      {
        sid: 'AssumeMemberRoleInTheOrganization',
        actions: ['sts:AssumeRole'],
        resources: [`arn:${this.partition}:iam::*:role/${org.memberRole}`],
        conditions: { StringEquals: { 'aws:ResourceOrgID': org.organizationId } },
        wildcardReason:
          `the member role (${org.memberRole}) of any account, because accounts join the organization after the ` +
          'deployment; only in accounts of this organization (condition aws:ResourceOrgID), and each member role ' +
          'trusts this role by ARN',
      },
      org.targetOus.some((id) => id.startsWith('r-'))
        ? {
          sid: 'ListTheOrganization',
          actions: [ORGANIZATIONS_LIST_ALL],
          resources: ['*'],
          wildcardReason:
            'a root is among the targets, so the hub lists every account of the organization with ListAccounts, ' +
            'the fewest calls (20 accounts a page); ListAccounts has no resource type in the Service ' +
            'Authorization Reference (AWS Organizations): "*" only',
        }
        : {
          sid: 'ReadTheOrganization',
          actions: ORGANIZATIONS_READS,
          resources: organizationParentArns(this.partition, org),
          wildcardReason:
            'ListAccountsForParent and ListOrganizationalUnitsForParent walk the target OUs and every OU below them, ' +
            `whose ids are not known in advance, so the OUs of organization ${org.organizationId} are granted by prefix; ` +
            'the management account in their ARNs is a * as well',
        },
    ];
    if (org.hubInScope) {
      grants.push(
        ...remediationGrants({
          place: { partition: this.partition, region: this.region, account: this.account },
          delivery:
            org.settings.s3Destination === undefined
              ? {
                  kind: 'cloud-watch-logs',
                  deliveryRoleArn: `arn:${this.partition}:iam::${this.account}:role/${DELIVERY_ROLE_NAME}`,
                  logGroup: logGroupName(org.settings.logGroupName, this.region, this.account),
                }
              : { kind: 's3' },
          dryRun: org.settings.dryRun,
          integrations: org.settings,
          // In its own account the hub resolves an alias with this role, in this region only.
          kmsAliases: kmsAliasesIn(org.settings, [this.region]),
        }),
      );
    }
    new RoleGrants(role).addAll(grants).acknowledgeWildcards();
    return role;
  }

  /** The Lambda's variables: the single-account ones, and organization mode's. */
  private functionEnvironment(org: OrganizationConfig): Record<string, string> {
    const config = org.settings;
    const environment: Record<string, string> = {
      FLOWGUARD_ORGANIZATION: 'true',
      FLOWGUARD_ORGANIZATIONAL_UNITS: org.targetOus.join(','),
      FLOWGUARD_MEMBER_ROLE: org.memberRole,
      FLOWGUARD_CONCURRENCY: String(org.concurrency),
      // Each account's own delivery role, the one its spoke creates; none for an S3 destination,
      // where EC2 takes no role (and the Lambda refuses one).
      ...(config.s3Destination === undefined
        ? { FLOWGUARD_DELIVERY_ROLE_ARN: FACTS.organization.delivery_role_arn.default }
        : {}),
      ...policyEnvironment(config),
    };
    const excluded = excludedAccounts(org);
    if (excluded.length > 0) {
      environment.FLOWGUARD_EXCLUDE_ACCOUNTS = excluded.join(',');
    }
    if (org.externalId !== undefined) {
      environment.FLOWGUARD_EXTERNAL_ID = org.externalId;
    }
    // The key of this region: an alias name, which the Lambda resolves in each account, or a key
    // ARN of one fixed account (a key ARN with {account_id} is refused in organization mode).
    const kmsKeyArn = kmsKeyFor(config, this.region, '{account_id}');
    if (kmsKeyArn !== undefined) {
      environment.FLOWGUARD_KMS_KEY_ARN = kmsKeyArn;
    }
    return environment;
  }
}
