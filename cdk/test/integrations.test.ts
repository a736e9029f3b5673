/**
 * The integrations (issue 17; docs/design.md "Destinations and integrations"; the facts'
 * `integrations`): `-c securityHub` (FLOWGUARD_SECURITY_HUB) and `-c configReevaluate`
 * (FLOWGUARD_CONFIG_REEVALUATE), both off by default. When on, the role that acts in an account
 * (the single-account function role; in organization mode the member role, and the hub's role when
 * the hub account is in scope) gains exactly the facts' permissions of that option, in an
 * enforcing deployment only, and the Lambda gets the variable; when off, nothing changes.
 */
import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildFlowGuardApp } from '../lib/app';
import { FACTS } from '../lib/facts';
import { SCOPED_ACTIONS, integrationActions } from '../lib/integration-grants';
import { HUB, OU, only, policyOf, synthOrganization, unacknowledged } from './organization-util';
import { ACCOUNT, REGION, Statement, actionsOf, logicalId, resourcesOf, roleStatements, synth, testApp } from './util';

const SECURITY_HUB = FACTS.integrations.permissions.security_hub;
const CONFIG = FACTS.integrations.permissions.config_reevaluate;
const INTEGRATION_ACTIONS = [...SECURITY_HUB, ...CONFIG];

/** The four combinations of the two options, named. */
const COMBINATIONS: Array<[string, { securityHub: boolean; configReevaluate: boolean }]> = [
  ['both off', { securityHub: false, configReevaluate: false }],
  ['Security Hub only', { securityHub: true, configReevaluate: false }],
  ['AWS Config only', { securityHub: false, configReevaluate: true }],
  ['both on', { securityHub: true, configReevaluate: true }],
];

/** The actions a role is expected to have from the integrations, for a combination. */
function expectedActions(options: { securityHub: boolean; configReevaluate: boolean }): string[] {
  return [...(options.securityHub ? SECURITY_HUB : []), ...(options.configReevaluate ? CONFIG : [])];
}

/** The integrations' actions among a role's statements, in order. */
const integrationActionsOf = (statements: Statement[]) =>
  statements.flatMap(actionsOf).filter((a) => INTEGRATION_ACTIONS.includes(a));

function functionOf(props: Parameters<typeof synth>[0]) {
  const synthesized = synth(props);
  const { stack, template } = synthesized;
  const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
  return {
    ...synthesized,
    statements: roleStatements(template, logicalId(stack, stack.functionRole)),
    environment: fn.Properties.Environment.Variables as Record<string, unknown>,
  };
}

const bySid = (statements: Statement[], sid: string) => {
  const found = statements.filter((s) => s.Sid === sid);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('the facts of the integrations', () => {
  test('are off by default', () => {
    expect(FACTS.integrations.security_hub.default).toBe(false);
    expect(FACTS.integrations.config_reevaluate.default).toBe(false);
  });

  test('every action of the facts is scoped, and nothing else', () => {
    expect([...SCOPED_ACTIONS].sort()).toEqual([...INTEGRATION_ACTIONS].sort());
    expect(integrationActions('securityHub')).toEqual(SECURITY_HUB);
    expect(integrationActions('configReevaluate')).toEqual(CONFIG);
  });
});

describe('the single-account stack', () => {
  const baseline = functionOf({});

  test.each(COMBINATIONS)('%s: the role gains exactly the facts\' permissions of each option that is on', (_name, options) => {
    const { statements, environment } = functionOf(options);
    expect(integrationActionsOf(statements)).toEqual(expectedActions(options));
    // Everything else is the default stack's, unchanged and in the same order.
    expect(statements.filter((s) => !actionsOf(s).some((a) => INTEGRATION_ACTIONS.includes(a)))).toEqual(baseline.statements);
    expect(environment.FLOWGUARD_SECURITY_HUB).toBe(options.securityHub ? 'true' : undefined);
    expect(environment.FLOWGUARD_CONFIG_REEVALUATE).toBe(options.configReevaluate ? 'true' : undefined);
  });

  test('off, given or not, the template is the default one', () => {
    const off = functionOf({ securityHub: false, configReevaluate: false });
    expect(off.template.toJSON()).toEqual(baseline.template.toJSON());
    expect(Object.keys(baseline.environment).filter((k) => /SECURITY_HUB|CONFIG_REEVALUATE/.test(k))).toEqual([]);
  });

  describe('both on', () => {
    const { statements } = functionOf({ securityHub: true, configReevaluate: true });

    test('Security Hub: GetFindings and BatchUpdateFindings on "*" (Security Hub CSPM has no resource-level permissions)', () => {
      expect(bySid(statements, 'FindFindingsOfRemediatedVpcs')).toEqual({
        Sid: 'FindFindingsOfRemediatedVpcs',
        Effect: 'Allow',
        Action: 'securityhub:GetFindings',
        Resource: '*',
      });
      const resolve = bySid(statements, 'ResolveFindingsOfRemediatedVpcs');
      expect([resolve.Action, resolve.Resource]).toEqual(['securityhub:BatchUpdateFindings', '*']);
    });

    test('BatchUpdateFindings may only set the workflow to NOTIFIED, and no field that rates a finding', () => {
      const { Condition } = bySid(statements, 'ResolveFindingsOfRemediatedVpcs');
      expect(Condition).toEqual({
        StringEqualsIfExists: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'NOTIFIED' },
        Null: {
          'securityhub:ASFFSyntaxPath/Confidence': 'true',
          'securityhub:ASFFSyntaxPath/Criticality': 'true',
          'securityhub:ASFFSyntaxPath/Severity.Label': 'true',
          'securityhub:ASFFSyntaxPath/Severity.Normalized': 'true',
          'securityhub:ASFFSyntaxPath/Severity.Product': 'true',
          'securityhub:ASFFSyntaxPath/Types': 'true',
          'securityhub:ASFFSyntaxPath/VerificationState': 'true',
        },
      });
      // The note is what flowguard writes: never constrained away.
      expect(JSON.stringify(Condition)).not.toContain('Note');
    });

    test('AWS Config: DescribeConfigRules on "*" (a list call), StartConfigRulesEvaluation on this account\'s rules in this region', () => {
      expect(bySid(statements, 'FindFlowLogsConfigRules')).toEqual({
        Sid: 'FindFlowLogsConfigRules',
        Effect: 'Allow',
        Action: 'config:DescribeConfigRules',
        Resource: '*',
      });
      expect(bySid(statements, 'ReevaluateFlowLogsConfigRules')).toEqual({
        Sid: 'ReevaluateFlowLogsConfigRules',
        Effect: 'Allow',
        Action: 'config:StartConfigRulesEvaluation',
        Resource: `arn:aws:config:${REGION}:${ACCOUNT}:config-rule/*`,
      });
    });

    test('on "*": the reads that cannot be scoped, and BatchUpdateFindings (with its conditions)', () => {
      const onStar = statements.filter((s) => resourcesOf(s).includes('*')).flatMap(actionsOf).sort();
      expect(onStar).toEqual([
        'config:DescribeConfigRules',
        'ec2:DescribeFlowLogs',
        'ec2:DescribeVpcs',
        'logs:DescribeLogGroups',
        'securityhub:BatchUpdateFindings',
        'securityhub:GetFindings',
      ]);
    });

    test('no action wildcard, no Deny', () => {
      expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
      expect(statements.filter((s) => s.Effect !== 'Allow')).toEqual([]);
    });
  });

  test('a dry run calls neither service: no integration permission, but the Lambda knows the options (it plans them)', () => {
    const dry = functionOf({ dryRun: true, securityHub: true, configReevaluate: true });
    expect(integrationActionsOf(dry.statements)).toEqual([]);
    expect(dry.statements).toEqual(functionOf({ dryRun: true }).statements);
    expect(dry.environment).toMatchObject({ FLOWGUARD_SECURITY_HUB: 'true', FLOWGUARD_CONFIG_REEVALUATE: 'true' });
  });

  test('into S3, the same statements', () => {
    const s3 = functionOf({ destination: 's3://flowguard-log-archive', securityHub: true, configReevaluate: true });
    expect(integrationActionsOf(s3.statements)).toEqual(INTEGRATION_ACTIONS);
  });

  test('cdk-nag: each wildcard acknowledged with its reason, nothing unacknowledged', () => {
    const { app, stack } = functionOf({ securityHub: true, configReevaluate: true });
    expect(unacknowledged(app)).toEqual([]);
    const acknowledged: Record<string, string> = {};
    for (const construct of stack.functionRole.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          Object.assign(acknowledged, entry.data as Record<string, string>);
        }
      }
    }
    const reason = (resource: string) =>
      Object.entries(acknowledged).find(([id]) => id.endsWith(`AwsSolutions-IAM5[Resource::${resource}]`))?.[1] ?? '';
    expect(reason('*')).toContain('FindFindingsOfRemediatedVpcs: GetFindings finds the EC2.6 findings');
    expect(reason('*')).toContain('ResolveFindingsOfRemediatedVpcs: BatchUpdateFindings notes');
    expect(reason('*')).toContain('Security Hub CSPM supports no resource-level permissions');
    expect(reason('*')).toContain('FindFlowLogsConfigRules: DescribeConfigRules finds the AWS Config rules');
    expect(reason(`arn:aws:config:${REGION}:${ACCOUNT}:config-rule/*`)).toContain(
      'ReevaluateFlowLogsConfigRules: StartConfigRulesEvaluation re-evaluates the VPC_FLOW_LOGS_ENABLED rules',
    );
  });
});

describe('the context keys', () => {
  const appStack = (context: Record<string, unknown>) => {
    const [stack] = buildFlowGuardApp(testApp({ regions: REGION, ...context }), { account: ACCOUNT });
    return Template.fromStack(stack);
  };
  const variables = (template: Template) =>
    Object.values(template.findResources('AWS::Lambda::Function'))[0].Properties.Environment.Variables;

  test('-c securityHub=yes -c configReevaluate=1 reach the Lambda and the role', () => {
    const template = appStack({ securityHub: 'yes', configReevaluate: '1' });
    expect(variables(template)).toMatchObject({ FLOWGUARD_SECURITY_HUB: 'true', FLOWGUARD_CONFIG_REEVALUATE: 'true' });
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf),
    );
    expect(actions.filter((a) => INTEGRATION_ACTIONS.includes(a))).toEqual(INTEGRATION_ACTIONS);
  });

  test('-c securityHub=false, -c configReevaluate= (empty: unset) give the default template', () => {
    expect(appStack({ securityHub: 'false', configReevaluate: '' }).toJSON()).toEqual(appStack({}).toJSON());
  });

  test.each([
    [{ securityHub: 'enabled' }, /securityHub \(FLOWGUARD_SECURITY_HUB\): "enabled": must be true\/false\/1\/0\/yes\/no/],
    [{ configReevaluate: 'sometimes' }, /configReevaluate \(FLOWGUARD_CONFIG_REEVALUATE\): "sometimes": must be true\/false/],
  ])('a bad value is refused, naming the key and the variable: %j', (context, message) => {
    expect(() => appStack(context)).toThrow(message);
  });
});

describe('organization mode', () => {
  const memberId = (template: Template) => only(template, 'AWS::IAM::Role', { Properties: { RoleName: 'flowguard-member' } })[0];
  const hubId = (template: Template, region: string) =>
    only(template, 'AWS::IAM::Role', { Properties: { RoleName: `flowguard-hub-${region}` } })[0];
  const hubVariables = (template: Template) => only(template, 'AWS::Lambda::Function')[1].Properties.Environment.Variables;

  describe.each(COMBINATIONS)('%s', (_name, options) => {
    const context = { securityHub: String(options.securityHub), configReevaluate: String(options.configReevaluate) };
    const outOfScope = synthOrganization(context);
    const inScope = synthOrganization({ ...context, hubInScope: 'true', hubOu: OU });

    test('the member role gains exactly the facts\' permissions of each option that is on, in every region', () => {
      const member = policyOf(outOfScope.spokeAccount, memberId(outOfScope.spokeAccount));
      expect(integrationActionsOf(member)).toEqual(expectedActions(options));
      if (options.configReevaluate) {
        expect(bySid(member, 'ReevaluateFlowLogsConfigRules').Resource).toEqual({
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':config:*:', { Ref: 'AWS::AccountId' }, ':config-rule/*']],
        });
      }
    });

    test.each(['us-east-1', 'eu-west-1'])('hub %s, not in scope: no integration permission; the variables when on', (region) => {
      const hub = outOfScope.hub[region];
      expect(integrationActionsOf(policyOf(hub, hubId(hub, region)))).toEqual([]);
      expect(hubVariables(hub).FLOWGUARD_SECURITY_HUB).toBe(options.securityHub ? 'true' : undefined);
      expect(hubVariables(hub).FLOWGUARD_CONFIG_REEVALUATE).toBe(options.configReevaluate ? 'true' : undefined);
    });

    test.each(['us-east-1', 'eu-west-1'])('hub %s, in scope: its own role gains them for its own account and region', (region) => {
      const hub = inScope.hub[region];
      const statements = policyOf(hub, hubId(hub, region));
      expect(integrationActionsOf(statements)).toEqual(expectedActions(options));
      if (options.configReevaluate) {
        expect(bySid(statements, 'ReevaluateFlowLogsConfigRules').Resource).toEqual(
          `arn:aws:config:${region}:${HUB}:config-rule/*`,
        );
      }
    });

    test('cdk-nag: nothing unacknowledged, the spoke templates included', () => {
      expect(unacknowledged(inScope.app)).toEqual([]);
    });
  });

  test('a dry run: no integration permission in the member role or the hub\'s', () => {
    const dry = synthOrganization({ dryRun: 'true', hubInScope: 'true', hubOu: OU, securityHub: 'true', configReevaluate: 'true' });
    expect(integrationActionsOf(policyOf(dry.spokeAccount, memberId(dry.spokeAccount)))).toEqual([]);
    const hub = dry.hub['us-east-1'];
    expect(integrationActionsOf(policyOf(hub, hubId(hub, 'us-east-1')))).toEqual([]);
    expect(hubVariables(hub)).toMatchObject({ FLOWGUARD_SECURITY_HUB: 'true', FLOWGUARD_CONFIG_REEVALUATE: 'true' });
  });
});
