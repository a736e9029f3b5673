import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { OrganizationApp, buildOrganizationApp } from '../lib/organization-app';
import { Statement, testApp } from './util';

export const ORG_ID = 'o-abcdef1234';
export const HUB = '222222222222';
export const MANAGEMENT = '333333333333';
export const MEMBER = '444444444444';
export const ROOT = 'r-ab12';
export const OU = 'ou-ab12-11111111';

/** The smallest organization context: what docs/deploy-organization.md starts with. */
export const ORG_CONTEXT = {
  organizationId: ORG_ID,
  hubAccount: HUB,
  targetOus: OU,
  regions: 'us-east-1,eu-west-1',
};

export interface OrganizationSynth {
  readonly app: App;
  readonly built: OrganizationApp;
  /** Hub templates by region. */
  readonly hub: Record<string, Template>;
  readonly stackSets: Template;
  readonly spokeAccount: Template;
  readonly spokeRegion: Template;
}

/** Builds and synthesizes the organization app with `ORG_CONTEXT` and `context` on top. */
export function synthOrganization(context: Record<string, unknown> = {}): OrganizationSynth {
  const app = testApp({ ...ORG_CONTEXT, ...context });
  const built = buildOrganizationApp(app, {});
  return {
    app,
    built,
    hub: Object.fromEntries(built.hubs.map((h) => [h.region, Template.fromStack(h)])),
    stackSets: Template.fromStack(built.stackSets),
    spokeAccount: Template.fromStack(built.spokeAccount),
    spokeRegion: Template.fromStack(built.spokeRegion),
  };
}

/** The statements of every identity policy attached to the role with this logical id. */
export function policyOf(template: Template, roleLogicalId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** The one resource of a type in a template: [logical id, resource]. */
export function only(template: Template, type: string, props: object = {}): [string, { Properties: any }] {
  const found = Object.entries(template.findResources(type, props));
  expect(found).toHaveLength(1);
  return found[0] as [string, { Properties: any }];
}

/** cdk-nag's AwsSolutions findings that no acknowledgement covers, nested stages included. */
export function unacknowledged(app: App): string[] {
  return new AwsSolutionsChecks(undefined, { verbose: true })
    .validateScope(app)
    .violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
}
