/**
 * The flowguard Lambda and what makes it lose no event: its log group, asynchronous retries into
 * an on-failure queue, and the rule target (with its own dead-letter queue) that the trigger rules
 * share. The single-account stack and the organization's hub both deploy it; only the role, the
 * environment and the time limit differ.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Bundling } from 'cargo-lambda-cdk/lib/bundling';

/**
 * The workspace root's Cargo.toml, relative to this file (cdk/lib). The Lambda is built from the
 * root, not from crates/lambda: that crate inherits its version, edition, rust-version, lints and
 * dependencies from the root manifest (`*.workspace = true`), and Cargo.lock lives there too.
 * cargo-lambda-cdk runs `cargo lambda build` in the manifest's directory (and mounts that
 * directory in Docker), so anything narrower than the root cannot build it.
 */
export const WORKSPACE_MANIFEST = path.join(__dirname, '..', '..', 'Cargo.toml');
/** The Lambda's package in the workspace, and its binary (crates/lambda/Cargo.toml). */
export const LAMBDA_PACKAGE = 'flowguard-lambda';
export const LAMBDA_BINARY = 'flowguard-lambda';

export interface FlowGuardFunctionProps {
  /** The function's role; it gets write access to the function's log group and the queue here. */
  readonly role: iam.Role;
  readonly description: string;
  /** FLOWGUARD_* variables (docs/design.md, "Configuration"). */
  readonly environment: Record<string, string>;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** undefined: no reservation (AWS refuses one that leaves less than 100 unreserved). */
  readonly reservedConcurrency?: number;
  /** A prebuilt package (zip with `bootstrap`); otherwise cargo-lambda-cdk builds the workspace. */
  readonly lambdaZip?: string;
}

/** The function, its queues, and the target that every trigger rule uses. */
export interface FlowGuardFunction {
  readonly function: lambda.Function;
  readonly onFailureQueue: sqs.Queue;
  readonly ruleDeadLetterQueue: sqs.Queue;
  readonly target: targets.LambdaFunction;
}

/** Creates `Function`, `FunctionLogGroup`, `OnFailureQueue` and `RuleDeadLetterQueue` in `stack`. */
export function createFlowGuardFunction(stack: Stack, props: FlowGuardFunctionProps): FlowGuardFunction {
  // The Lambda's reports: one JSON summary line per invocation; a year of them.
  const logGroup = new logs.LogGroup(stack, 'FunctionLogGroup', {
    retention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // With a role of its own, the function gets no implicit logging permission: this group only.
  logGroup.grantWrite(props.role);
  const options: lambda.FunctionOptions = {
    description: props.description,
    role: props.role,
    architecture: lambda.Architecture.ARM_64,
    timeout: props.timeout,
    memorySize: props.memorySize,
    // Off unless asked for: AWS refuses a reservation that leaves less than 100 unreserved
    // executions, which is every reservation in a new account (quota 10).
    reservedConcurrentExecutions: props.reservedConcurrency,
    // JSON makes Lambda set AWS_LAMBDA_LOG_FORMAT=JSON, which the Rust tracing setup follows.
    loggingFormat: lambda.LoggingFormat.JSON,
    logGroup,
    environment: props.environment,
  };
  const fn = props.lambdaZip
    ? new lambda.Function(stack, 'Function', {
        ...options,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(props.lambdaZip),
      })
    : withoutCargoProbe(!stack.bundlingRequired, () =>
        new RustFunction(stack, 'Function', {
          ...options,
          runtime: 'provided.al2023',
          manifestPath: WORKSPACE_MANIFEST,
          binaryName: LAMBDA_BINARY,
          // `--bin` alone would resolve features over every member of the workspace.
          bundling: { cargoLambdaFlags: ['--package', LAMBDA_PACKAGE] },
        }),
      );

  const queueProps: sqs.QueueProps = {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  };
  const onFailureQueue = new sqs.Queue(stack, 'OnFailureQueue', queueProps);
  const ruleDeadLetterQueue = new sqs.Queue(stack, 'RuleDeadLetterQueue', queueProps);
  Validations.of(onFailureQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'OnFailureQueue is itself the last stop: the on-failure destination of the Lambda\'s asynchronous ' +
      'invocations, watched by the OnFailureQueueDepth alarm and read by a person.',
  });
  Validations.of(ruleDeadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'RuleDeadLetterQueue is itself the dead-letter queue of the EventBridge rule targets, watched by ' +
      'the RuleDeadLetterQueueDepth alarm and read by a person.',
  });
  fn.configureAsyncInvoke({
    retryAttempts: 2,
    maxEventAge: Duration.hours(1),
    onFailure: new destinations.SqsDestination(onFailureQueue),
  });
  const target = new targets.LambdaFunction(fn, {
    deadLetterQueue: ruleDeadLetterQueue,
    retryAttempts: 4,
    maxEventAge: Duration.hours(1),
  });
  return { function: fn, onFailureQueue, ruleDeadLetterQueue, target };
}

/**
 * cargo-lambda-cdk's RustFunction runs `cargo lambda --version` in its constructor, to choose
 * between local and Docker bundling, even when the stack is not bundled (tests, CI synths with
 * `aws:cdk:bundling-stacks=[]`). When no bundling will happen, the probe's cached answer is
 * preset for the duration of the constructor so that no cargo process is started; it is
 * restored afterwards, so a stack that does bundle probes as usual.
 */
function withoutCargoProbe<T>(skip: boolean, build: () => T): T {
  if (!skip) {
    return build();
  }
  const cache = Bundling as unknown as { runsLocally?: boolean };
  const saved = cache.runsLocally;
  cache.runsLocally = saved ?? false;
  try {
    return build();
  } finally {
    cache.runsLocally = saved;
  }
}
