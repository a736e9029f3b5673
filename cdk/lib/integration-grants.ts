/**
 * What the integrations need (docs/design.md, "Destinations and integrations"; the facts'
 * `integrations`): after an enforcing run, Security Hub (`FLOWGUARD_SECURITY_HUB`) and AWS Config
 * (`FLOWGUARD_CONFIG_REEVALUATE`), each off by default. The actions are the facts' `permissions`,
 * granted exactly, each only when its option is on; a dry run calls neither service (it only plans
 * the actions), so it gets none of them.
 *
 * The facts say which actions; this module says how tightly each can be scoped, from AWS's own
 * documentation (cited at each entry). An action of the facts without an entry here fails the
 * synth, so a new permission cannot be granted without deciding its resource.
 */
import { FACTS, RolePlace } from './facts';
import { Grant } from './grants';

/** The integrations that are on. */
export interface Integrations {
  /** FLOWGUARD_SECURITY_HUB: note on the remediated VPCs' findings of the facts' control (NOTIFIED). */
  readonly securityHub: boolean;
  /** FLOWGUARD_CONFIG_REEVALUATE: re-evaluate the AWS Config rules of the facts' managed rule. */
  readonly configReevaluate: boolean;
}

/** The option of each list of the facts' `integrations.permissions`. */
const OPTION: Record<keyof typeof FACTS.integrations.permissions, keyof Integrations> = {
  security_hub: 'securityHub',
  config_reevaluate: 'configReevaluate',
};

/** How one action is granted: its statement id, resource and conditions, and why. */
interface ActionScope {
  readonly sid: string;
  readonly resource: (place: RolePlace) => string;
  readonly conditions?: Record<string, Record<string, string | string[]>>;
  readonly wildcardReason: (place: RolePlace) => string;
}

const CONTROL = FACTS.integrations.control_id;
const RULE_SOURCE = FACTS.integrations.config_rule_source;

/**
 * Security Hub CSPM supports no resource-level permissions: "Policy resources: No" (Security Hub
 * User Guide, "How Security Hub CSPM works with IAM"). The Service Authorization Reference lists
 * `hub` (`arn:...:securityhub:REGION:ACCOUNT:hub/default`) for GetFindings and BatchUpdateFindings
 * as an optional resource type only, so a statement scoped to it could deny the calls: "*".
 */
const SECURITY_HUB_RESOURCE = '*';
const SECURITY_HUB_NO_RESOURCES =
  'Security Hub CSPM supports no resource-level permissions (Security Hub User Guide, "How Security Hub CSPM works ' +
  'with IAM": policy resources "No"), so IAM only accepts "*"';

/**
 * The BatchUpdateFindings fields that flowguard never sets. "Security Hub also provides context keys
 * to allow you to restrict access to fields and field values" (Security Hub User Guide,
 * "Configuring access to BatchUpdateFindings": `securityhub:ASFFSyntaxPath/<fieldName>`, with
 * Workflow.Status and Severity.Label as its examples); the other names follow the same pattern.
 * A name that Security Hub does not fill in is never present, so its `Null: true` always holds:
 * a wrong name could only make the condition weaker, never deny flowguard's own requests.
 */
const FIELDS_NEVER_SET = [
  'Confidence',
  'Criticality',
  'Severity.Label',
  'Severity.Normalized',
  'Severity.Product',
  'Types',
  'VerificationState',
];

/**
 * Each action of the facts' integrations.permissions, as tightly as AWS allows. The keys are the
 * facts' action names; `integrationGrants` refuses an action of the facts that has no entry.
 */
const SCOPES: Record<string, ActionScope> = {
  'securityhub:GetFindings': {
    sid: 'FindFindingsOfRemediatedVpcs',
    resource: () => SECURITY_HUB_RESOURCE,
    wildcardReason: () =>
      `GetFindings finds the ${CONTROL} findings of the VPCs that the run remediated (filtered by the control and ` +
      `the VPCs' ARNs); ${SECURITY_HUB_NO_RESOURCES}`,
  },
  // Only the workflow status NOTIFIED (or none, for a note alone), and none of the fields that
  // rate or classify a finding: the role cannot resolve or suppress a finding, reopen one, or
  // change its severity. The Note (Note.Text, Note.UpdatedBy) is what flowguard writes besides.
  'securityhub:BatchUpdateFindings': {
    sid: 'ResolveFindingsOfRemediatedVpcs',
    resource: () => SECURITY_HUB_RESOURCE,
    conditions: {
      StringEqualsIfExists: { 'securityhub:ASFFSyntaxPath/Workflow.Status': 'NOTIFIED' },
      Null: Object.fromEntries(FIELDS_NEVER_SET.map((field) => [`securityhub:ASFFSyntaxPath/${field}`, 'true'])),
    },
    wildcardReason: () =>
      `BatchUpdateFindings notes on the ${CONTROL} findings of the remediated VPCs what was done (workflow NOTIFIED, never RESOLVED), ` +
      'and may set no other workflow status and none of the severity, confidence, criticality, type or ' +
      `verification fields (conditions on securityhub:ASFFSyntaxPath); ${SECURITY_HUB_NO_RESOURCES}`,
  },
  // DescribeConfigRules has no resource type in the Service Authorization Reference (AWS Config):
  // a list call, "*" only.
  'config:DescribeConfigRules': {
    sid: 'FindFlowLogsConfigRules',
    resource: () => '*',
    wildcardReason: () =>
      `DescribeConfigRules finds the AWS Config rules whose source is the managed rule ${RULE_SOURCE} ` +
      '(Security Hub names its own securityhub-vpc-flow-logs-enabled-...); the Service Authorization Reference ' +
      '(AWS Config) gives it no resource type, so IAM only accepts "*"',
  },
  // StartConfigRulesEvaluation requires the ConfigRule resource type, whose ARN is
  // `arn:${Partition}:config:${Region}:${Account}:config-rule/${ConfigRuleId}` (Service
  // Authorization Reference, AWS Config): the rule's id, which AWS Config assigns when the rule is
  // created (by Security Hub, for its rule), not its name. So the rules of the place, by prefix.
  'config:StartConfigRulesEvaluation': {
    sid: 'ReevaluateFlowLogsConfigRules',
    resource: (place) => `arn:${place.partition}:config:${place.region}:${place.account}:config-rule/*`,
    wildcardReason: (place) =>
      `StartConfigRulesEvaluation re-evaluates the ${RULE_SOURCE} rules that DescribeConfigRules found; a rule's ` +
      'ARN ends with the id that AWS Config gives it at creation (config-rule/${ConfigRuleId}, Service ' +
      'Authorization Reference, AWS Config), not known in advance, so the rules of this account are granted by ' +
      `prefix${place.region === '*' ? ', in every region (the role serves every region)' : ', in this region'}`,
  },
};

/** The actions of one option, as the facts list them. */
export function integrationActions(option: keyof Integrations): string[] {
  const entry = Object.entries(OPTION).find(([, name]) => name === option);
  return [...FACTS.integrations.permissions[entry![0] as keyof typeof OPTION]];
}

/** The statements of the integrations that are on, one per action of the facts, in their order. */
export function integrationGrants(place: RolePlace, integrations: Integrations): Grant[] {
  const grants: Grant[] = [];
  for (const [list, option] of Object.entries(OPTION) as Array<[keyof typeof OPTION, keyof Integrations]>) {
    if (!integrations[option]) {
      continue;
    }
    for (const action of FACTS.integrations.permissions[list]) {
      const scope = SCOPES[action];
      if (scope === undefined) {
        throw new Error(
          `the facts' integrations.permissions.${list} names ${action}, which cdk/lib/integration-grants.ts does not ` +
            'scope: add it to SCOPES with its resource and the AWS documentation that says so',
        );
      }
      grants.push({
        sid: scope.sid,
        actions: [action],
        resources: [scope.resource(place)],
        conditions: scope.conditions,
        wildcardReason: scope.wildcardReason(place),
      });
    }
  }
  return grants;
}

/** The actions that SCOPES knows, for the test that keeps it equal to the facts. */
export const SCOPED_ACTIONS = Object.keys(SCOPES);
