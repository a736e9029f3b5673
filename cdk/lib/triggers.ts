/**
 * The triggers of docs/design.md ("Triggers"): the CloudTrail API calls that may have switched flow
 * logging off, as EventBridge patterns, and the rules that send them somewhere. The same patterns
 * serve the single-account stack (rules on the default bus, to the Lambda), the spokes (rules on
 * each account's default bus, to the hub's bus) and the hub (rules on its bus, to the Lambda).
 */
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { LogGroupName } from './log-group-name';

const API_CALL = 'AWS API Call via CloudTrail';

/** The EC2 calls that make a VPC or remove flow logs. */
export const EC2_EVENT_NAMES = ['CreateVpc', 'CreateDefaultVpc', 'DeleteFlowLogs'];
/** The CloudWatch Logs calls that may remove or weaken the managed log group. */
export const LOGS_EVENT_NAMES = ['DeleteLogGroup', 'PutRetentionPolicy', 'DeleteRetentionPolicy'];

/** The API-call patterns: EC2's, and the managed log group's (none without a managed group). */
export interface TriggerPatterns {
  readonly ec2: events.EventPattern;
  readonly logs?: events.EventPattern;
}

/**
 * The patterns for the managed log group `logGroup`; without one (flow logs into S3), the EC2
 * pattern alone: there is no group of flowguard's to watch. `account`: only that account's calls
 * (a default bus holds only its own account's events, but this keeps it so if the bus is ever
 * opened to others); none on the hub's bus, where every account of the organization arrives.
 */
export function triggerPatterns(logGroup: LogGroupName | undefined, account?: string): TriggerPatterns {
  const accounts = account === undefined ? {} : { account: [account] };
  const ec2: events.EventPattern = {
    source: ['aws.ec2'],
    ...accounts,
    detailType: [API_CALL],
    detail: { eventSource: ['ec2.amazonaws.com'], eventName: EC2_EVENT_NAMES },
  };
  if (logGroup === undefined) {
    return { ec2 };
  }
  const logGroupMatch = logGroup.exact ? [logGroup.name] : events.Match.prefix(logGroup.literalPrefix);
  return {
    ec2,
    logs: {
      source: ['aws.logs'],
      ...accounts,
      detailType: [API_CALL],
      detail: {
        eventSource: ['logs.amazonaws.com'],
        eventName: LOGS_EVENT_NAMES,
        // With a placeholder first in the name there is no literal prefix: all groups are sent,
        // and the Lambda ignores those that are not its own.
        ...(logGroup.literalPrefix === '' ? {} : { requestParameters: { logGroupName: logGroupMatch } }),
      },
    },
  };
}

export interface TriggerRulesProps {
  readonly patterns: TriggerPatterns;
  /** Where the events go. */
  readonly target: events.IRuleTarget;
  /** The bus the rules listen on. @default - the account's default bus */
  readonly eventBus?: events.IEventBus;
}

/** The rules `Ec2ApiCallRule` and (with a managed log group) `LogGroupApiCallRule`, in `scope`. */
export function createTriggerRules(scope: Construct, props: TriggerRulesProps): events.Rule[] {
  const rules = [
    new events.Rule(scope, 'Ec2ApiCallRule', {
      description: 'flowguard: a VPC was created, or flow logs were deleted',
      eventBus: props.eventBus,
      eventPattern: props.patterns.ec2,
      targets: [props.target],
    }),
  ];
  if (props.patterns.logs !== undefined) {
    rules.push(
      new events.Rule(scope, 'LogGroupApiCallRule', {
        description: 'flowguard: the managed flow-log group was deleted or its retention changed',
        eventBus: props.eventBus,
        eventPattern: props.patterns.logs,
        targets: [props.target],
      }),
    );
  }
  return rules;
}

/** The scheduled sweep, `SweepSchedule`: the safety net for missed CloudTrail events. */
export function createSweepRule(scope: Construct, schedule: string, target: events.IRuleTarget): events.Rule {
  return new events.Rule(scope, 'SweepSchedule', {
    description: 'flowguard: sweep the region (the safety net for missed CloudTrail events)',
    schedule: events.Schedule.expression(schedule),
    targets: [target],
  });
}
