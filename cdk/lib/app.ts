/**
 * The flowguard CDK app, single-account mode: one FlowGuardStack per region named in the context,
 * every stack checked by cdk-nag's AwsSolutions pack on every synth. With an organization in the
 * context, bin/flowguard.ts builds ./organization-app.ts instead.
 *
 *   cdk deploy -c dryRun=true -c regions=us-east-1,eu-west-1
 *
 * The delivery role `flowguard-delivery` is one per account (IAM role names are global): the stack
 * of the first region of the context creates it, for the flow logs of every region of the context,
 * and the stacks of the other regions use it by name and depend on that stack, so that
 * `cdk deploy --all` creates it first. (With an S3 destination there is no delivery role.)
 *
 * With `-c logArchive=true` (and an S3 destination), also `FlowGuardLogArchive`, the bucket that the
 * flow logs deliver into, in the same account; every FlowGuard stack depends on it, so that
 * `cdk deploy --all` creates the bucket and its policy before any flow log points at it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { regionsFromContext, resolveConfig, settingsFromContext } from './config';
import { FlowGuardStack } from './flowguard-stack';
import { LogArchiveConfig, logArchiveFromContext } from './log-archive-config';
import { LogArchiveStack } from './log-archive-stack';

/** The log-archive stack's name, in both modes. */
export const LOG_ARCHIVE_STACK = 'FlowGuardLogArchive';

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
  const regions = regionsFromContext(read, environment.region);
  const archive = logArchiveFromContext(read, resolveConfig(settings), {
    kind: 'account',
    defaultRegion: regions[0],
    account: environment.account,
  });
  const stacks: FlowGuardStack[] = [];
  for (const region of regions) {
    const first = stacks.length === 0 ? undefined : stacks[0];
    stacks.push(
      new FlowGuardStack(app, `FlowGuard-${region}`, {
        env: { account: environment.account, region },
        description: 'flowguard: keeps VPC flow logging on (CIS AWS Foundations, Security Hub EC2.6)',
        ...settings,
        lambdaZip: typeof lambdaZip === 'string' && lambdaZip !== '' ? lambdaZip : undefined,
        // One delivery role for the account: the first region's stack creates it for all regions.
        deliveryRoleSource: first === undefined ? { regions } : { createdBy: first },
      }),
    );
  }
  if (archive !== undefined) {
    const archiveStack = createLogArchiveStack(app, archive);
    stacks.forEach((stack) => stack.addStackDependency(archiveStack, 'the flow logs deliver into its bucket'));
  }
  checkWithCdkNag(app);
  return stacks;
}

/** `FlowGuardLogArchive`, where `archive` says. */
export function createLogArchiveStack(app: App, archive: LogArchiveConfig): LogArchiveStack {
  return new LogArchiveStack(app, LOG_ARCHIVE_STACK, {
    env: { account: archive.account, region: archive.region },
    description: 'flowguard: the log-archive bucket that the VPC flow logs deliver into (CIS AWS Foundations, Security Hub EC2.6)',
    destination: archive.destination,
    retentionDays: archive.retentionDays,
    expirationDays: archive.expirationDays,
    sources: archive.sources,
  });
}

/**
 * cdk-nag's AwsSolutions pack on every stack of the app, nested stages included. cdk-nag 3 is a CDK
 * policy-validation plugin (Validations), no longer an Aspect: an unacknowledged finding fails the
 * synth (and so the deploy).
 */
export function checkWithCdkNag(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
