/**
 * The flowguard CDK app, single-account mode: one FlowGuardStack per region named in the context,
 * every stack checked by cdk-nag's AwsSolutions pack on every synth. With an organization in the
 * context, bin/flowguard.ts builds ./organization-app.ts instead.
 *
 *   cdk deploy -c dryRun=true -c regions=us-east-1,eu-west-1
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { regionsFromContext, settingsFromContext } from './config';
import { FlowGuardStack } from './flowguard-stack';

/** Where the app deploys by default (from the CLI's credentials and profile). */
export interface AppEnvironment {
  /** Default account (the CLI sets CDK_DEFAULT_ACCOUNT from the credentials). */
  readonly account?: string;
  /** Default region, used when the context names none. */
  readonly region?: string;
}

/** The single-account app: one stack per region of the context. */
export function buildFlowGuardApp(
  app: App,
  environment: AppEnvironment = {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
): FlowGuardStack[] {
  const read = (key: string): unknown => app.node.tryGetContext(key);
  const settings = settingsFromContext(read);
  const lambdaZip = read('lambdaZip');
  const stacks = regionsFromContext(read, environment.region).map(
    (region) =>
      new FlowGuardStack(app, `FlowGuard-${region}`, {
        env: { account: environment.account, region },
        description: 'flowguard: keeps VPC flow logging on (CIS AWS Foundations, Security Hub EC2.6)',
        ...settings,
        lambdaZip: typeof lambdaZip === 'string' && lambdaZip !== '' ? lambdaZip : undefined,
      }),
  );
  checkWithCdkNag(app);
  return stacks;
}

/**
 * cdk-nag's AwsSolutions pack on every stack of the app, nested stages included. cdk-nag 3 is a CDK
 * policy-validation plugin (Validations), no longer an Aspect: an unacknowledged finding fails the
 * synth (and so the deploy).
 */
export function checkWithCdkNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
