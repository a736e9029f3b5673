import * as iam from 'aws-cdk-lib/aws-iam';
import { buildOrganizationApp } from '../lib/organization-app';
import { ORGANIZATION_KEYS, organizationRequested } from '../lib/organization-config';
import { HUB, MANAGEMENT, MEMBER, ORG_CONTEXT, ORG_ID, OU, ROOT, synthOrganization, unacknowledged } from './organization-util';
import { testApp } from './util';

/** Every template of an organization synth, as one string. */
function everything(context: Record<string, unknown>): Record<string, string> {
  const s = synthOrganization(context);
  return {
    hub: JSON.stringify(Object.values(s.hub).map((t) => t.toJSON())),
    stackSets: JSON.stringify(s.stackSets.toJSON()),
    spokeAccount: JSON.stringify(s.spokeAccount.toJSON()),
    spokeRegion: JSON.stringify(s.spokeRegion.toJSON()),
    stacks: s.app.synth().stacks.map((st) => st.stackName).join(','),
  };
}

describe('every context key reaches the templates', () => {
  const base = everything({});
  const cases: Array<[string, Record<string, unknown>, Record<string, string[]>]> = [
    ['organizationId', { organizationId: 'o-zyxwvu9876' }, {
      hub: ['"aws:PrincipalOrgID":"o-zyxwvu9876"', '"aws:ResourceOrgID":"o-zyxwvu9876"'],
    }],
    ['targetOus', { targetOus: `${ROOT},${OU}` }, {
      hub: [`"FLOWGUARD_ORGANIZATIONAL_UNITS":"${ROOT},${OU}"`],
      stackSets: [`"OrganizationalUnitIds":["${ROOT}","${OU}"]`],
    }],
    ['hubAccount', { hubAccount: '555555555555' }, {
      hub: ['"FLOWGUARD_EXCLUDE_ACCOUNTS":"555555555555"'],
      spokeAccount: [':iam::555555555555:role/flowguard-hub-us-east-1', ':iam::555555555555:root'],
      spokeRegion: [':555555555555:event-bus/flowguard-hub'],
      stackSets: ['"Accounts":["555555555555"]'],
    }],
    ['regions', { regions: 'eu-central-1,ap-southeast-2' }, {
      stacks: ['FlowGuardHub-eu-central-1', 'FlowGuardHub-ap-southeast-2'],
      spokeAccount: ['role/flowguard-hub-ap-southeast-2'],
      // The regional StackSet lists them sorted; the first is the home region (no stackSetRegion).
      stackSets: ['"Regions":["ap-southeast-2","eu-central-1"]', '"Regions":["eu-central-1"]'],
    }],
    ['externalId', { externalId: 'an-external-id' }, {
      hub: ['"FLOWGUARD_EXTERNAL_ID":"an-external-id"'],
      spokeAccount: ['"sts:ExternalId":"an-external-id"'],
    }],
    ['memberRole', { memberRole: 'security-flowguard' }, {
      hub: ['"FLOWGUARD_MEMBER_ROLE":"security-flowguard"', ':iam::*:role/security-flowguard'],
      spokeAccount: ['"RoleName":"security-flowguard"'],
    }],
    ['excludeAccounts', { excludeAccounts: MEMBER }, {
      hub: [`"FLOWGUARD_EXCLUDE_ACCOUNTS":"${MEMBER},${HUB}"`],
      stackSets: [`"Accounts":["${MEMBER}","${HUB}"]`],
    }],
    ['concurrency', { concurrency: '64' }, { hub: ['"FLOWGUARD_CONCURRENCY":"64"'] }],
    ['hubInScope', { hubInScope: 'true', targetOus: ROOT }, {
      hub: [`"Resource":"arn:aws:iam::${HUB}:role/flowguard-delivery"`, '"Sid":"CreateFlowLogsOnVpcs"'],
    }],
    // hubOu reaches no template: it states where the hub is, which lets hubInScope through when no
    // root is a target (ORG_CONTEXT targets one OU).
    ['hubOu', { hubInScope: 'true', hubOu: OU }, {
      hub: [`"Resource":"arn:aws:iam::${HUB}:role/flowguard-delivery"`, '"Sid":"CreateFlowLogsOnVpcs"'],
    }],
    ['stackSetRegion', { stackSetRegion: 'eu-west-1' }, { stackSets: ['"Regions":["eu-west-1"]'] }],
    ['managementAccount', { managementAccount: MANAGEMENT }, {
      stacks: ['FlowGuardManagementSpoke', 'FlowGuardManagementSpoke-us-east-1'],
    }],
    ['retainOnRemoval', { retainOnRemoval: 'true' }, { stackSets: ['"RetainStacksOnAccountRemoval":true'] }],
    ['dryRun', { dryRun: 'true' }, {
      hub: ['"FLOWGUARD_DRY_RUN":"true"'],
      spokeAccount: ['(dry run: plans only)'],
    }],
    ['logGroupName', { logGroupName: '/flow/{account_id}/{region}' }, {
      hub: ['"FLOWGUARD_LOG_GROUP":"/flow/{account_id}/{region}"', '"prefix":"/flow/"'],
      spokeAccount: [':log-group:/flow/",{"Ref":"AWS::AccountId"},"/*"'],
      spokeRegion: ['"logGroupName":[{"Fn::Join":["",["/flow/",{"Ref":"AWS::AccountId"},"/",{"Ref":"AWS::Region"}]]}]'],
    }],
    ['retentionDays', { retentionDays: '400' }, { hub: ['"FLOWGUARD_RETENTION_DAYS":"400"'] }],
    ['alarmEmail', { alarmEmail: 'secops@example.com' }, { hub: ['"Endpoint":"secops@example.com"'] }],
    ['sweepSchedule', { sweepSchedule: 'rate(6 hours)' }, { hub: ['"ScheduleExpression":"rate(6 hours)"'] }],
    ['destination', { destination: 's3://org-flow-logs' }, {
      hub: ['"FLOWGUARD_DESTINATION":"arn:{partition}:s3:::org-flow-logs"', '"FLOWGUARD_S3_FILE_FORMAT":"plain-text"'],
      spokeAccount: ['"Sid":"CreateLogDeliveryToS3"'],
    }],
    ['logFormat', { logFormat: '${version} ${srcaddr} ${action}' }, { hub: ['"FLOWGUARD_LOG_FORMAT":"${version} ${srcaddr} ${action}"'] }],
    ['securityHub', { securityHub: 'true' }, {
      hub: ['"FLOWGUARD_SECURITY_HUB":"true"'],
      spokeAccount: ['"Sid":"FindFindingsOfRemediatedVpcs"', '"Sid":"ResolveFindingsOfRemediatedVpcs"'],
    }],
    ['configReevaluate', { configReevaluate: 'yes' }, {
      hub: ['"FLOWGUARD_CONFIG_REEVALUATE":"true"'],
      spokeAccount: ['"Sid":"FindFlowLogsConfigRules"', '"Sid":"ReevaluateFlowLogsConfigRules"'],
    }],
    ['logArchiveAccount', { destination: 's3://org-flow-logs', logArchiveAccount: '555555555555' }, {
      stacks: ['FlowGuardLogArchive'],
    }],
  ];

  test('the table covers every organization key', () => {
    expect(cases.map(([key]) => key).filter((k) => (ORGANIZATION_KEYS as readonly string[]).includes(k)).sort()).toEqual(
      [...ORGANIZATION_KEYS].sort(),
    );
  });

  test.each(cases)('%s', (_key, context, expected) => {
    const got = everything(context);
    for (const [where, needles] of Object.entries(expected)) {
      for (const needle of needles) {
        expect(got[where]).toContain(needle);
        expect(base[where]).not.toContain(needle);
      }
    }
  });
});

describe('a bad context is refused, naming the key', () => {
  const build = (context: Record<string, unknown>) => () => buildOrganizationApp(testApp({ ...ORG_CONTEXT, ...context }), {});

  test.each([
    [{ organizationId: 'o-ABC' }, /organizationId: "o-ABC": must be an organization id/],
    [{ organizationId: '' }, /organizationId: "": required in organization mode/],
    [{ hubAccount: '12345' }, /hubAccount: "12345": must be a 12-digit AWS account id/],
    [{ hubAccount: undefined }, /hubAccount: null: required/],
    [{ targetOus: 'ou-x' }, /targetOus \(FLOWGUARD_ORGANIZATIONAL_UNITS and the StackSets' target OUs\): "ou-x": must be a root/],
    [{ targetOus: '' }, /targetOus .*required: the root \(r-\.\.\.\) or OUs/],
    [{ targetOus: `${OU},${OU}` }, /targetOus .*lists an id twice/],
    [{ regions: 'us-east-1,Europe' }, /regions: "Europe": must be AWS region names/],
    [{ excludeAccounts: '1234' }, /excludeAccounts \(FLOWGUARD_EXCLUDE_ACCOUNTS\): "1234": must be a 12-digit/],
    [{ managementAccount: 'mgmt' }, /managementAccount: "mgmt": must be a 12-digit/],
    [{ memberRole: 'no spaces' }, /memberRole \(FLOWGUARD_MEMBER_ROLE\): "no spaces": must be an IAM role name/],
    [{ externalId: 'x' }, /externalId \(FLOWGUARD_EXTERNAL_ID\): "\(not shown\)": 2 to 1224 characters/],
    [{ concurrency: '0' }, /concurrency \(FLOWGUARD_CONCURRENCY\): 0: must be a whole number from 1 to 128/],
    [{ concurrency: '129' }, /concurrency .*: 129: must be a whole number from 1 to 128/],
    [{ hubInScope: 'maybe' }, /hubInScope: "maybe": must be true\/false/],
    [{ retainOnRemoval: 'maybe' }, /retainOnRemoval: "maybe": must be true\/false/],
    [{ retentionDays: '90' }, /retentionDays \(FLOWGUARD_RETENTION_DAYS\): 90/],
    [{ securityHub: 'enabled' }, /securityHub \(FLOWGUARD_SECURITY_HUB\): "enabled": must be true\/false/],
    [{ configReevaluate: 'sometimes' }, /configReevaluate \(FLOWGUARD_CONFIG_REEVALUATE\): "sometimes": must be true\/false/],
    [{ stackSetRegion: 'Europe' }, /stackSetRegion \(the StackSets' home region\): "Europe": must be an AWS region name/],
  ])('%j', (context, message) => {
    expect(build(context)).toThrow(message);
  });

  // Combinations that cannot work, refused with the settings named.
  test.each([
    ['the management account excluded, its spoke deployed', { managementAccount: MANAGEMENT, excludeAccounts: `${MEMBER},${MANAGEMENT}` },
      /excludeAccounts \(FLOWGUARD_EXCLUDE_ACCOUNTS\): "444444444444,333333333333": lists the management account \(managementAccount 333333333333\).*Leave managementAccount unset/],
    ['the hub in scope and excluded', { hubInScope: 'true', targetOus: ROOT, excludeAccounts: HUB },
      /excludeAccounts .*lists the hub account \(hubAccount 222222222222\) while hubInScope is true/],
    ['the hub, the management account, in scope and excluded', { managementAccount: HUB, hubInScope: 'true', targetOus: ROOT, excludeAccounts: HUB },
      /excludeAccounts .*lists the hub account \(hubAccount 222222222222\) while hubInScope is true/],
    ['the hub in scope, no root among the targets, and no hubOu', { hubInScope: 'true' },
      /hubInScope: true: covers the hub account 222222222222 only if it lies in one of targetOus \(ou-ab12-11111111\).*set -c hubOu=/],
    ['the hub in the management account, in scope, no root among the targets, and no hubOu', { hubInScope: 'true', managementAccount: HUB },
      /hubInScope: true: covers the hub account 222222222222 only if it lies in one of targetOus/],
    ['hubOu not a target', { hubInScope: 'true', hubOu: 'ou-ab12-22222222' },
      /hubOu \(the target OU that holds the hub account\): "ou-ab12-22222222": must be one of targetOus \(ou-ab12-11111111\)/],
    ['hubOu not a target, a root among the targets', { hubInScope: 'true', targetOus: ROOT, hubOu: OU },
      /hubOu .*: "ou-ab12-11111111": must be one of targetOus \(r-ab12\)/],
    ['hubOu without hubInScope', { hubOu: OU }, /hubOu .*: "ou-ab12-11111111": applies with hubInScope=true only/],
  ])('%s', (_name, context, message) => {
    expect(build(context)).toThrow(message);
  });

  test.each([
    ['a root among the targets holds the hub', { hubInScope: 'true', targetOus: `${ROOT},${OU}` }],
    ['hubOu names the target that holds the hub', { hubInScope: 'true', targetOus: `${OU},ou-ab12-22222222`, hubOu: 'ou-ab12-22222222' }],
    ['the hub, the management account, excluded but not in scope: no spoke', { managementAccount: HUB, excludeAccounts: HUB }],
    ['a member management account, not excluded', { managementAccount: MANAGEMENT, excludeAccounts: MEMBER }],
  ])('accepted: %s', (_name, context) => {
    expect(build(context)).not.toThrow();
  });

  test('organization mode starts with any organization key, and then requires the others', () => {
    const read = (values: Record<string, unknown>) => (key: string) => values[key];
    expect(organizationRequested(read({ regions: 'us-east-1', dryRun: 'true' }))).toBe(false);
    expect(organizationRequested(read({ targetOus: OU }))).toBe(true);
    expect(() => buildOrganizationApp(testApp({ targetOus: OU, regions: 'us-east-1' }), {})).toThrow(
      /organizationId: null: required in organization mode/,
    );
    expect(ORG_ID).toMatch(/^o-/);
  });
});

describe('cdk-nag AwsSolutions on the organization app', () => {
  test.each([
    ['defaults', {}],
    ['dry run, external id, management account, hub in scope', {
      dryRun: 'true', externalId: 'an-external-id', managementAccount: MANAGEMENT, hubInScope: 'true', hubOu: OU,
    }],
    ['per-VPC groups, KMS alias, e-mail', {
      logGroupName: '/vpc/{account_id}/{vpc_id}',
      kmsKeyArn: 'alias/flowguard-logs',
      alarmEmail: 'secops@example.com',
    }],
    ['hub in scope, a KMS alias in one region and a central key in the other', {
      hubInScope: 'true',
      hubOu: OU,
      kmsKeyArns: JSON.stringify({
        'us-east-1': 'alias/flowguard-logs',
        'eu-west-1': 'arn:aws:kms:eu-west-1:555555555555:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      }),
    }],
  ])('%s: zero unacknowledged errors or warnings, the spoke templates included', (_name, context) => {
    const { app } = synthOrganization(context);
    expect(unacknowledged(app)).toEqual([]);
  });

  test('is live on the spoke templates: a wildcard grant without a reason is reported', () => {
    const { app, built } = synthOrganization();
    built.spokeAccount.memberRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ec2:Describe*'], resources: ['*'] }));
    expect(unacknowledged(app)).toEqual([
      'error AwsSolutions-IAM5[Action::ec2:Describe*] at FlowGuardSpokes/SpokeAccount/MemberRole/DefaultPolicy/Resource',
    ]);
  });
});
