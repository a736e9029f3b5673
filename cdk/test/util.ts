import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FlowGuardStack, FlowGuardStackProps } from '../lib/flowguard-stack';

export const ACCOUNT = '111111111111';
export const REGION = 'us-east-1';

/** cdk.json's feature flags, so that the tests synthesize what `cdk deploy` deploys. */
const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'cdk.json'), 'utf8')).context;

/**
 * One scratch directory per test file (jest gives each file its own module registry), for the
 * synthesized assemblies and the files tests write; removed after the file's tests, so that runs
 * leave nothing in the temporary folder.
 */
let scratch: string | undefined;
afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** A new, empty directory in this test file's scratch directory. */
export function tempDir(prefix: string): string {
  scratch ??= fs.mkdtempSync(path.join(os.tmpdir(), 'flowguard-cdk-test-'));
  return fs.mkdtempSync(path.join(scratch, prefix));
}

/** An App as the tests and CI use it: cdk.json's context, and no asset bundling (no cargo). */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({
    outdir: tempDir('cdk.out-'),
    context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

export interface Synthesized {
  readonly app: App;
  readonly stack: FlowGuardStack;
  readonly template: Template;
}

export function synth(props: FlowGuardStackProps = {}): Synthesized {
  const app = testApp();
  const stack = new FlowGuardStack(app, 'FlowGuard-test', {
    env: { account: ACCOUNT, region: REGION },
    ...props,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** The statements of the identity policies attached to a role, by the role's logical id. */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleLogicalId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

/** Every statement of every identity policy in the template. */
export function allStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (p) => p.Properties.PolicyDocument.Statement as Statement[],
  );
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The statements that allow a given action. */
export function allowing(statements: Statement[], action: string): Statement[] {
  return statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes(action));
}

export function logicalId(stack: FlowGuardStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}
