import { Match, Template } from 'aws-cdk-lib/assertions';
import { ORGANIZATIONS_LIST_ALL, ORGANIZATIONS_READS } from '../lib/hub-stack';
import { TEMPLATE_BODY_LIMIT } from '../lib/stacksets-stack';
import { EC2_EVENT_NAMES, LOGS_EVENT_NAMES } from '../lib/triggers';
import { HUB, MANAGEMENT, ORG_ID, OU, ROOT, only, policyOf, synthOrganization } from './organization-util';
import { Statement, actionsOf, logicalId, synth as synthSingle } from './util';

/** The integrations that are on (-c securityHub, -c configReevaluate). */
interface IntegrationOptions {
  readonly securityHub?: boolean;
  readonly configReevaluate?: boolean;
}

/** The single-account function role's own statements (those with a Sid). */
function singleAccountStatements(dryRun = false, destination?: string, integrations: IntegrationOptions = {}): Statement[] {
  const { stack, template } = synthSingle({ dryRun, destination, ...integrations });
  return remediation(policyOf(template, logicalId(stack, stack.functionRole)));
}

/** The integrations as -c strings; unset when not given. */
const integrationContext = (integrations: IntegrationOptions) =>
  Object.fromEntries(Object.entries(integrations).map(([key, on]) => [key, String(on)]));

const REGIONS = ['us-east-1', 'eu-west-1'];
const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
const hubRoleArn = (region: string) => partitionArn(`:iam::${HUB}:role/flowguard-hub-${region}`);

function memberRoleId(template: Template): string {
  return only(template, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-member' } })[0];
}

function hubRoleId(template: Template, region: string): string {
  return only(template, 'AWS::IAM::Role', { Properties: { RoleName: `flowguard-hub-${region}` } })[0];
}

function hubEnvironment(template: Template): Record<string, string> {
  return only(template, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;
}

/** Statements without the function's own log group and on-failure queue (no Sid). */
const remediation = (statements: Statement[]) => statements.filter((s) => s.Sid !== undefined);

describe('the organization app', () => {
  const synthesized = synthOrganization({ externalId: 'flowguard-ext-1', managementAccount: MANAGEMENT });
  const { built } = synthesized;

  test('a hub per region and the StackSets in the hub account; the spokes are only templates', () => {
    expect(built.hubs.map((h) => [h.stackName, h.account, h.region])).toEqual([
      ['FlowGuardHub-us-east-1', HUB, 'us-east-1'],
      ['FlowGuardHub-eu-west-1', HUB, 'eu-west-1'],
    ]);
    expect([built.stackSets.stackName, built.stackSets.account, built.stackSets.region]).toEqual([
      'FlowGuardStackSets', HUB, 'us-east-1',
    ]);
    const assembly = synthesized.app.synth();
    // Top-level stacks are what `cdk deploy --all` deploys: the spokes are in a nested stage.
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'FlowGuardHub-eu-west-1',
      'FlowGuardHub-us-east-1',
      'FlowGuardManagementSpoke',
      'FlowGuardManagementSpoke-eu-west-1',
      'FlowGuardManagementSpoke-us-east-1',
      'FlowGuardStackSets',
    ]);
    expect(built.stackSets.dependencies.map((s) => s.stackName).sort()).toEqual([
      'FlowGuardHub-eu-west-1',
      'FlowGuardHub-us-east-1',
    ]);
  });

  test('the management account gets the same spoke as plain stacks', () => {
    const [account, ...regional] = built.managementSpokes;
    expect([account.account, account.region]).toEqual([MANAGEMENT, 'us-east-1']);
    expect(regional.map((s) => [s.account, s.region])).toEqual(REGIONS.map((r) => [MANAGEMENT, r]));
    const types = (t: Template) => Object.values(t.toJSON().Resources).map((r: any) => r.Type).sort();
    expect(types(Template.fromStack(account))).toEqual(types(synthesized.spokeAccount));
    expect(types(Template.fromStack(regional[0]))).toEqual(types(synthesized.spokeRegion));
    expect(synthOrganization().built.managementSpokes).toEqual([]);
  });
});

describe('the hub bus', () => {
  const { hub } = synthOrganization();

  test.each(REGIONS)('%s: named flowguard-hub, its policy admits PutEvents from the organization only', (region) => {
    only(hub[region], 'AWS::Events::EventBus', { Properties: { Name: 'flowguard-hub' } });
    const [, policy] = only(hub[region], 'AWS::Events::EventBusPolicy');
    expect(policy.Properties.Statement).toEqual({
      Sid: 'cdk-PutEventsFromTheOrganizationOnly',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
    });
  });

  test('the trigger rules listen on it, for every account; the sweep is on the default bus', () => {
    const rules = hub['us-east-1'].findResources('AWS::Events::Rule');
    const onBus = Object.values(rules).filter((r) => r.Properties.EventBusName !== undefined);
    expect(onBus.map((r) => r.Properties.EventPattern.detail.eventName)).toEqual([EC2_EVENT_NAMES, LOGS_EVENT_NAMES]);
    for (const rule of onBus) {
      expect(rule.Properties.EventPattern.account).toBeUndefined();
    }
    const [sweep] = Object.values(rules).filter((r) => r.Properties.ScheduleExpression !== undefined);
    expect(sweep.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(sweep.Properties.EventBusName).toBeUndefined();
  });
});

describe('the hub function', () => {
  const { hub } = synthOrganization();
  const template = hub['eu-west-1'];
  const statements = policyOf(template, hubRoleId(template, 'eu-west-1'));

  test('runs in organization mode on the target OUs, the hub account excluded', () => {
    expect(hubEnvironment(template)).toEqual({
      FLOWGUARD_ORGANIZATION: 'true',
      FLOWGUARD_ORGANIZATIONAL_UNITS: OU,
      FLOWGUARD_EXCLUDE_ACCOUNTS: HUB,
      FLOWGUARD_MEMBER_ROLE: 'flowguard-member',
      FLOWGUARD_CONCURRENCY: '48',
      FLOWGUARD_DELIVERY_ROLE_ARN: 'arn:{partition}:iam::{account_id}:role/flowguard-delivery',
      FLOWGUARD_LOG_GROUP: '/vpc/flow-logs',
      FLOWGUARD_RETENTION_DAYS: '365',
      FLOWGUARD_TRAFFIC_TYPE: 'REJECT',
      FLOWGUARD_DRY_RUN: 'false',
      FLOWGUARD_EXEMPT_TAG: 'flowguard:exempt',
      FLOWGUARD_MAX_AGGREGATION_INTERVAL: '600',
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900, Architectures: ['arm64'] });
  });

  test('can assume nothing but the member role, and only in the organization', () => {
    const assuming = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sts:')));
    expect(assuming).toEqual([{
      Sid: 'AssumeMemberRoleInTheOrganization',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: 'arn:aws:iam::*:role/flowguard-member',
      Condition: { StringEquals: { 'aws:ResourceOrgID': ORG_ID } },
    }]);
  });

  test('reads the organization with exactly the calls the Lambda makes, on its target OUs and the OUs below', () => {
    const reads = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('organizations:')));
    expect(ORGANIZATIONS_READS).toEqual(['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent']);
    expect(reads).toEqual([{
      Sid: 'ReadTheOrganization',
      Effect: 'Allow',
      Action: ORGANIZATIONS_READS,
      Resource: `arn:aws:organizations::*:ou/${ORG_ID}/ou-*`,
    }]);
    // A root among the targets holds every account: the Lambda then lists the organization with
    // ListAccounts (the fewest calls), which has no resource type, and walks no OU.
    const withRoot = synthOrganization({ targetOus: `${ROOT},${OU}` }).hub['us-east-1'];
    const rootReads = policyOf(withRoot, hubRoleId(withRoot, 'us-east-1'))
      .filter((s) => actionsOf(s).some((a) => a.startsWith('organizations:')));
    expect(rootReads).toEqual([{ Sid: 'ListTheOrganization', Effect: 'Allow', Action: ORGANIZATIONS_LIST_ALL, Resource: '*' }]);
  });

  test('has no EC2, Logs or IAM permission in its own account when the hub is not in scope', () => {
    const own = statements.flatMap(actionsOf).filter((a) => /^(ec2|iam):/.test(a));
    expect(own).toEqual([]);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('logs:')).sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
    ]);
  });

  test('with hubInScope, gets the single-account statements for its own account, and no exclusion', () => {
    const inScope = synthOrganization({ hubInScope: 'true', hubOu: OU }).hub['eu-west-1'];
    expect(hubEnvironment(inScope).FLOWGUARD_EXCLUDE_ACCOUNTS).toBeUndefined();
    const sids = remediation(policyOf(inScope, hubRoleId(inScope, 'eu-west-1'))).map((s) => s.Sid);
    const single = singleAccountStatements().map((s) => s.Sid);
    expect(sids).toEqual(['AssumeMemberRoleInTheOrganization', 'ReadTheOrganization', ...single]);
    const pass = policyOf(inScope, hubRoleId(inScope, 'eu-west-1')).find((s) => s.Sid === 'PassDeliveryRoleToFlowLogs');
    expect(pass?.Resource).toEqual(`arn:aws:iam::${HUB}:role/flowguard-delivery`);
  });

  test('with hubInScope and the integrations on, the single-account statements of the integrations too', () => {
    const integrations = { securityHub: true, configReevaluate: true };
    const inScope = synthOrganization({ hubInScope: 'true', hubOu: OU, ...integrationContext(integrations) }).hub['eu-west-1'];
    const statements = remediation(policyOf(inScope, hubRoleId(inScope, 'eu-west-1')));
    const shape = (s: Statement) => [s.Sid, actionsOf(s), s.Condition ?? null];
    expect(statements.map(shape)).toEqual([
      ...statements.slice(0, 2).map(shape),
      ...singleAccountStatements(false, undefined, integrations).map(shape),
    ]);
    expect(statements.slice(0, 2).map((s) => s.Sid)).toEqual(['AssumeMemberRoleInTheOrganization', 'ReadTheOrganization']);
  });

  test('alarms on errors, failed deliveries, unreachable accounts and events out of scope', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    const metrics = alarms.map((a) => a.Properties.MetricName).sort();
    expect(metrics).toEqual([
      'AccountsUnreachable',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      'DestinationDeliveryFailures',
      'Errors',
      'EventsOutOfScope',
      'RemediationFailures',
    ]);
    for (const name of ['AccountsUnreachable', 'EventsOutOfScope']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: name,
        Namespace: 'FlowGuard',
        Dimensions: [{ Name: 'FunctionName', Value: Match.anyValue() }],
        Threshold: 1,
      });
    }
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });
});

describe('the spoke, once per account', () => {
  const withExternalId = synthOrganization({ externalId: 'flowguard-ext-1' }).spokeAccount;
  const without = synthOrganization().spokeAccount;

  test('the member role trusts only the hub functions\' roles, with the external id', () => {
    const [, role] = only(withExternalId, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-member' } });
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { AWS: partitionArn(`:iam::${HUB}:root`) },
      Condition: {
        ArnEquals: { 'aws:PrincipalArn': [...REGIONS].sort().map(hubRoleArn) },
        StringEquals: { 'sts:ExternalId': 'flowguard-ext-1' },
      },
    }]);
  });

  test('without an external id, no sts:ExternalId condition', () => {
    const [, role] = only(without, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-member' } });
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      ArnEquals: { 'aws:PrincipalArn': [...REGIONS].sort().map(hubRoleArn) },
    });
  });

  const both = { securityHub: true, configReevaluate: true };
  test.each<[string, boolean, string | undefined, IntegrationOptions]>([
    ['enforcing', false, undefined, {}],
    ['dry run', true, undefined, {}],
    ['enforcing, into S3', false, 's3://flowguard-log-archive/vpc', {}],
    ['dry run, into S3', true, 's3://flowguard-log-archive/vpc', {}],
    ['enforcing, integrations off', false, undefined, { securityHub: false, configReevaluate: false }],
    ['enforcing, Security Hub on', false, undefined, { securityHub: true }],
    ['enforcing, AWS Config on', false, undefined, { configReevaluate: true }],
    ['enforcing, both integrations on', false, undefined, both],
    ['dry run, both integrations on', true, undefined, both],
    ['enforcing, into S3, both integrations on', false, 's3://flowguard-log-archive/vpc', both],
  ])('%s: the member role grants what the single-account role grants, in every region, and no more', (_name, dryRun, destination, integrations) => {
    const spoke = synthOrganization({ dryRun: String(dryRun), destination, ...integrationContext(integrations) }).spokeAccount;
    const member = policyOf(spoke, memberRoleId(spoke));
    const single = singleAccountStatements(dryRun, destination, integrations);
    const shape = (s: Statement) => [s.Sid, actionsOf(s), s.Condition ?? null];
    expect(member.map(shape)).toEqual(single.map(shape));
    // Same resources, with the region `*` and the account of the stack; "*" where the single
    // account has "*".
    const text = JSON.stringify(member.map((s) => s.Resource));
    expect(text).not.toContain('us-east-1');
    expect(text).toContain(':ec2:*:');
    const star = (statements: Statement[]) => statements.map((s) => s.Resource === '*');
    expect(star(member)).toEqual(star(single));
    if (!dryRun && integrations.configReevaluate) {
      expect(text).toContain(':config:*:');
    }
  });

  test('the delivery role is flowguard-delivery, for flow logs of this account in any region', () => {
    const [, role] = only(without, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-delivery' } });
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: {
          'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:*:', { Ref: 'AWS::AccountId' }, ':vpc-flow-log/*']] },
        },
      },
    }]);
  });
});

describe('the spoke, in every region', () => {
  const { spokeRegion } = synthOrganization();
  const hubBus = {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':events:', { Ref: 'AWS::Region' }, `:${HUB}:event-bus/flowguard-hub`]],
  };

  test('forwards exactly the trigger events of its own account to the hub bus of its region', () => {
    const rules = Object.values(spokeRegion.findResources('AWS::Events::Rule'));
    const single = Object.values(synthSingle().template.findResources('AWS::Events::Rule'))
      .filter((r) => r.Properties.EventPattern !== undefined)
      .map((r) => r.Properties.EventPattern);
    const patterns = rules.map((r) => r.Properties.EventPattern);
    // The single-account stack's patterns, with this account as a CloudFormation reference.
    expect(JSON.stringify(patterns)).toEqual(JSON.stringify(single).split('"111111111111"').join('{"Ref":"AWS::AccountId"}'));
    for (const rule of rules) {
      expect(rule.Properties.EventBusName).toBeUndefined();
      expect(rule.Properties.Targets).toEqual([{ Id: 'Target0', Arn: hubBus, RoleArn: { 'Fn::GetAtt': [expect.any(String), 'Arn'] } }]);
    }
  });

  test('through a role that EventBridge of this account assumes, allowed PutEvents on the hub bus only', () => {
    const [id, role] = only(spokeRegion, 'AWS::IAM::Role');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { Service: 'events.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    }]);
    expect(policyOf(spokeRegion, id)).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: hubBus }]);
  });
});

describe('the spoke templates', () => {
  const { spokeAccount, spokeRegion } = synthOrganization({ regions: 'us-east-1,eu-west-1,ap-southeast-2,sa-east-1' });

  test.each([
    ['account', spokeAccount],
    ['region', spokeRegion],
  ])('%s: no Lambda, no nested stack, no asset, no bootstrap check, no CDK metadata', (_name, template) => {
    const json = template.toJSON();
    const types = Object.values(json.Resources).map((r: any) => r.Type);
    expect(types.filter((t) => !['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::Events::Rule'].includes(t))).toEqual([]);
    expect(json.Parameters).toBeUndefined();
    expect(json.Rules).toBeUndefined();
    expect(json.Conditions).toBeUndefined();
    expect(Buffer.byteLength(JSON.stringify(json))).toBeLessThan(TEMPLATE_BODY_LIMIT / 4);
  });
});

describe('the StackSets', () => {
  const synthesized = synthOrganization();
  const sets = synthesized.stackSets.findResources('AWS::CloudFormation::StackSet');
  const byName: Record<string, any> = Object.fromEntries(
    Object.values(sets).map((s) => [s.Properties.StackSetName, s.Properties]),
  );

  test('two, service-managed, deployed automatically to the target OUs, the hub account left out', () => {
    expect(Object.keys(byName).sort()).toEqual(['flowguard-spoke-account', 'flowguard-spoke-region']);
    for (const props of Object.values(byName)) {
      expect(props).toMatchObject({
        PermissionModel: 'SERVICE_MANAGED',
        AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
        CallAs: 'DELEGATED_ADMIN',
        Capabilities: ['CAPABILITY_NAMED_IAM'],
        ManagedExecution: { Active: true },
      });
      expect(props.StackInstancesGroup[0].DeploymentTargets).toEqual({
        OrganizationalUnitIds: [OU],
        AccountFilterType: 'DIFFERENCE',
        Accounts: [HUB],
      });
    }
  });

  test('the account part in the home region only, the regional part in every region (sorted)', () => {
    expect(byName['flowguard-spoke-account'].StackInstancesGroup[0].Regions).toEqual(['us-east-1']);
    expect(byName['flowguard-spoke-region'].StackInstancesGroup[0].Regions).toEqual([...REGIONS].sort());
  });

  test('each template body is its synthesized spoke template', () => {
    expect(JSON.parse(byName['flowguard-spoke-account'].TemplateBody)).toEqual(synthesized.spokeAccount.toJSON());
    expect(JSON.parse(byName['flowguard-spoke-region'].TemplateBody)).toEqual(synthesized.spokeRegion.toJSON());
  });

  test('retained on account removal, called as SELF from the management account, when the context says so', () => {
    const other = synthOrganization({ retainOnRemoval: 'yes', managementAccount: HUB, hubInScope: 'true', targetOus: `${ROOT}` });
    for (const set of Object.values(other.stackSets.findResources('AWS::CloudFormation::StackSet'))) {
      expect(set.Properties.AutoDeployment.RetainStacksOnAccountRemoval).toBe(true);
      expect(set.Properties.CallAs).toBe('SELF');
      expect(set.Properties.StackInstancesGroup[0].DeploymentTargets).toEqual({ OrganizationalUnitIds: [ROOT] });
    }
  });
});

describe('the hub in the management account', () => {
  // StackSets never deploy to the management account, so its spoke comes from the plain stacks.
  const inScope = synthOrganization({ managementAccount: HUB, hubInScope: 'true', targetOus: ROOT });

  test('in scope: gets the management spoke, whose delivery role is the one its hub role passes', () => {
    const [account, ...regional] = inScope.built.managementSpokes;
    expect([account.stackName, account.account, account.region]).toEqual(['FlowGuardManagementSpoke', HUB, 'us-east-1']);
    expect(regional.map((s) => [s.stackName, s.account, s.region])).toEqual(
      REGIONS.map((r) => [`FlowGuardManagementSpoke-${r}`, HUB, r]),
    );
    const spoke = Template.fromStack(account);
    only(spoke, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-delivery' } });
    const pass = policyOf(inScope.hub['eu-west-1'], hubRoleId(inScope.hub['eu-west-1'], 'eu-west-1'))
      .find((s) => s.Sid === 'PassDeliveryRoleToFlowLogs');
    expect(pass?.Resource).toEqual(`arn:aws:iam::${HUB}:role/flowguard-delivery`);
    // Its events reach its own bus: each regional spoke forwards there, after that region's hub exists.
    for (const [i, stack] of regional.entries()) {
      expect(JSON.stringify(Template.fromStack(stack).toJSON())).toContain(`:${HUB}:event-bus/flowguard-hub`);
      expect(stack.dependencies.map((d) => d.stackName)).toEqual([`FlowGuardHub-${REGIONS[i]}`]);
    }
    // And the hub's function covers it (nothing excludes it).
    expect(hubEnvironment(inScope.hub['us-east-1']).FLOWGUARD_EXCLUDE_ACCOUNTS).toBeUndefined();
  });

  test('out of scope: no spoke, and the hub account is excluded', () => {
    const out = synthOrganization({ managementAccount: HUB });
    expect(out.built.managementSpokes).toEqual([]);
    expect(hubEnvironment(out.hub['us-east-1']).FLOWGUARD_EXCLUDE_ACCOUNTS).toBe(HUB);
  });

  test('a member management account\'s spoke stacks depend on no hub (other credentials deploy them)', () => {
    const member = synthOrganization({ managementAccount: MANAGEMENT });
    expect(member.built.managementSpokes.flatMap((s) => s.dependencies)).toEqual([]);
  });
});

describe('the StackSets\' home region (stackSetRegion)', () => {
  /** What the StackSets deployment is: its stack, its template, and where the account spokes go. */
  function homeOf(context: Record<string, unknown>) {
    const s = synthOrganization({ managementAccount: MANAGEMENT, ...context });
    return {
      stack: [s.built.stackSets.stackName, s.built.stackSets.account, s.built.stackSets.region],
      template: s.stackSets.toJSON(),
      managementAccountSpoke: [s.built.managementSpokes[0].stackName, s.built.managementSpokes[0].region],
      stacks: s.app.synth().stacks.map((st) => `${st.stackName}@${st.environment.region}`).sort(),
    };
  }

  test('defaults to the first of regions, as before', () => {
    const home = homeOf({});
    expect(home.stack).toEqual(['FlowGuardStackSets', HUB, 'us-east-1']);
    expect(home.managementAccountSpoke).toEqual(['FlowGuardManagementSpoke', 'us-east-1']);
  });

  test('set explicitly, reordering regions changes no StackSet: same stacks, logical ids and template', () => {
    const before = homeOf({ regions: 'us-east-1,eu-west-1,ap-southeast-2', stackSetRegion: 'us-east-1' });
    const after = homeOf({ regions: 'ap-southeast-2,eu-west-1,us-east-1', stackSetRegion: 'us-east-1' });
    expect(after.stack).toEqual(before.stack);
    expect(after.stacks).toEqual(before.stacks);
    expect(Object.keys(after.template.Resources)).toEqual(Object.keys(before.template.Resources));
    expect(after.template).toEqual(before.template);
    expect(after.managementAccountSpoke).toEqual(['FlowGuardManagementSpoke', 'us-east-1']);
    // Without the setting, the same reordering would move the StackSets to another region.
    expect(homeOf({ regions: 'ap-southeast-2,eu-west-1,us-east-1' }).stack).toEqual(['FlowGuardStackSets', HUB, 'ap-southeast-2']);
  });

  test('names where the StackSets and the account spoke live, in regions or not', () => {
    const home = homeOf({ stackSetRegion: 'eu-west-1' });
    expect(home.stack).toEqual(['FlowGuardStackSets', HUB, 'eu-west-1']);
    expect(home.managementAccountSpoke).toEqual(['FlowGuardManagementSpoke', 'eu-west-1']);
    const sets = Object.values(synthOrganization({ stackSetRegion: 'eu-central-1' }).stackSets.findResources('AWS::CloudFormation::StackSet'));
    const regionsOf = (name: string) =>
      sets.find((set) => set.Properties.StackSetName === name)!.Properties.StackInstancesGroup[0].Regions;
    // A region dropped from regions can stay the home region: the account spoke (IAM only) stays there.
    expect(regionsOf('flowguard-spoke-account')).toEqual(['eu-central-1']);
    expect(regionsOf('flowguard-spoke-region')).toEqual([...REGIONS].sort());
  });
});

describe('KMS keys in organization mode', () => {
  const MRK = 'mrk-1234abcd12ab34cd56ef1234567890ab';

  test.each([
    ['kmsKeyArn', { kmsKeyArn: `arn:aws:kms:{region}:{account_id}:key/${MRK}` }, `"arn:aws:kms:{region}:{account_id}:key/${MRK}"`],
    [
      'kmsKeyArns',
      { kmsKeyArns: JSON.stringify({ 'us-east-1': 'alias/flowguard-logs', 'eu-west-1': `arn:aws:kms:eu-west-1:{account_id}:key/${MRK}` }) },
      `"arn:aws:kms:eu-west-1:{account_id}:key/${MRK}": (the key of eu-west-1) `,
    ],
  ])('a key ARN with {account_id} in %s fails the synth, naming the setting and suggesting an alias', (setting, context, value) => {
    // KMS gives each key its own id: one ARN cannot name a key in every account (the Lambda refuses it too).
    let message = '';
    try {
      synthOrganization(context);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain(`invalid flowguard setting ${setting} (FLOWGUARD_KMS_KEY_ARN): ${value}`);
    expect(message).toContain('cannot name a key in more than one account');
    expect(message).toContain('give a KMS alias name instead (e.g. alias/flowguard-logs)');
    expect(message).toContain('or one key ARN of a fixed account');
  });

  test('an alias, or a key ARN of a fixed account (one central key), is the hub\'s FLOWGUARD_KMS_KEY_ARN as it is', () => {
    const alias = synthOrganization({ kmsKeyArn: 'alias/flowguard-logs' });
    for (const region of REGIONS) {
      expect(hubEnvironment(alias.hub[region]).FLOWGUARD_KMS_KEY_ARN).toBe('alias/flowguard-logs');
    }
    const central = synthOrganization({ kmsKeyArn: `arn:aws:kms:{region}:555555555555:key/${MRK}` });
    expect(REGIONS.map((region) => hubEnvironment(central.hub[region]).FLOWGUARD_KMS_KEY_ARN)).toEqual(
      REGIONS.map((region) => `arn:aws:kms:${region}:555555555555:key/${MRK}`),
    );
    const map = synthOrganization({
      kmsKeyArns: JSON.stringify({ 'us-east-1': 'alias/flowguard-logs', 'eu-west-1': `arn:aws:kms:eu-west-1:555555555555:key/${MRK}` }),
    });
    expect(hubEnvironment(map.hub['us-east-1']).FLOWGUARD_KMS_KEY_ARN).toBe('alias/flowguard-logs');
    expect(hubEnvironment(map.hub['eu-west-1']).FLOWGUARD_KMS_KEY_ARN).toBe(`arn:aws:kms:eu-west-1:555555555555:key/${MRK}`);
  });

  test('with an alias, the member role may resolve it in its own account, every region, and nothing more of KMS', () => {
    const { spokeAccount } = synthOrganization({ kmsKeyArn: 'alias/flowguard-logs' });
    const member = policyOf(spokeAccount, memberRoleId(spokeAccount));
    expect(member.flatMap(actionsOf).filter((a) => a.startsWith('kms:'))).toEqual(['kms:DescribeKey']);
    expect(member.filter((s) => actionsOf(s).includes('kms:DescribeKey'))).toEqual([
      {
        Sid: 'ResolveKmsAlias',
        Effect: 'Allow',
        Action: 'kms:DescribeKey',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:*:', { Ref: 'AWS::AccountId' }, ':key/*']] },
        Condition: { StringEquals: { 'kms:RequestAlias': ['alias/flowguard-logs'] } },
      },
    ]);
    // The statement is the single-account role's, placed for every region: the same shape.
    const single = synthSingle({ kmsKeyArn: 'alias/flowguard-logs' });
    const shape = (s: Statement) => [s.Sid, actionsOf(s), s.Condition ?? null];
    expect(remediation(member).map(shape)).toEqual(remediation(policyOf(single.template, logicalId(single.stack, single.stack.functionRole))).map(shape));
  });

  test('with an alias per region, the member role names every region\'s alias; a key ARN adds none', () => {
    const { spokeAccount } = synthOrganization({
      kmsKeyArns: JSON.stringify({ 'us-east-1': 'alias/b', 'eu-west-1': 'alias/a', 'ap-south-1': 'alias/not-deployed' }),
    });
    const resolve = policyOf(spokeAccount, memberRoleId(spokeAccount)).find((s) => s.Sid === 'ResolveKmsAlias');
    expect(resolve?.Condition).toEqual({ StringEquals: { 'kms:RequestAlias': ['alias/a', 'alias/b'] } });

    const central = synthOrganization({ kmsKeyArn: `arn:aws:kms:{region}:555555555555:key/${MRK}` });
    for (const template of [central.spokeAccount, ...Object.values(central.hub)]) {
      expect(JSON.stringify(template.toJSON())).not.toContain('kms:DescribeKey');
    }
  });

  test('a dry run resolves no alias: neither the member role nor the hub role gets kms:DescribeKey', () => {
    const dryRun = synthOrganization({ kmsKeyArn: 'alias/flowguard-logs', dryRun: 'true', hubInScope: 'true', hubOu: OU });
    for (const template of [dryRun.spokeAccount, ...Object.values(dryRun.hub)]) {
      expect(JSON.stringify(template.toJSON())).not.toContain('kms:DescribeKey');
    }
    expect(JSON.stringify(dryRun.spokeAccount.toJSON())).not.toContain('kms:');
  });

  test('the hub role resolves the alias of its region in its own account when the hub is in scope, else not at all', () => {
    const context = { kmsKeyArns: JSON.stringify({ 'us-east-1': 'alias/b', 'eu-west-1': 'alias/a' }) };
    const outOfScope = synthOrganization(context);
    for (const region of REGIONS) {
      expect(policyOf(outOfScope.hub[region], hubRoleId(outOfScope.hub[region], region)).flatMap(actionsOf)).not.toContain('kms:DescribeKey');
    }
    const inScope = synthOrganization({ ...context, hubInScope: 'true', hubOu: OU });
    const resolve = policyOf(inScope.hub['eu-west-1'], hubRoleId(inScope.hub['eu-west-1'], 'eu-west-1')).filter((s) => s.Sid === 'ResolveKmsAlias');
    expect(resolve).toEqual([
      {
        Sid: 'ResolveKmsAlias',
        Effect: 'Allow',
        Action: 'kms:DescribeKey',
        Resource: `arn:aws:kms:eu-west-1:${HUB}:key/*`,
        Condition: { StringEquals: { 'kms:RequestAlias': ['alias/a'] } },
      },
    ]);
  });
});
