/**
 * flowguard's alarms and the encrypted topic they publish to. Every alarm fires on one occurrence
 * in five minutes: each stands for an event that was not handled, or a VPC or account that is not
 * covered, and a person should look.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { FlowGuardFunction } from './flowguard-function';

/** The Lambda's CloudWatch Embedded Metric Format namespace (crates/lambda/src/telemetry.rs). */
export const METRIC_NAMESPACE = 'FlowGuard';
export const REMEDIATION_FAILURES_METRIC = 'RemediationFailures';
/** Organization mode: accounts that a sweep could not check, and events of accounts not in scope. */
export const ACCOUNTS_UNREACHABLE_METRIC = 'AccountsUnreachable';
export const EVENTS_OUT_OF_SCOPE_METRIC = 'EventsOutOfScope';

/** An alarm on one of the function's own EMF metrics (namespace FlowGuard, dimension FunctionName). */
export interface MetricAlarm {
  readonly metricName: string;
  readonly description: string;
}

const PERIOD = Duration.minutes(5);

/** `AlarmTopicKey` and `AlarmTopic` in `stack`, with an e-mail subscription when one is given. */
export function createAlarmTopic(stack: Stack, alarmEmail?: string): sns.Topic {
  // CloudWatch alarms can only publish to an encrypted topic whose key lets cloudwatch.amazonaws.com
  // use it, which an AWS-managed key (alias/aws/sns) does not: hence a key of our own.
  const key = new kms.Key(stack, 'AlarmTopicKey', {
    description: 'flowguard: encrypts the alarm topic',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsPublishToTopic',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
    }),
  );
  const topic = new sns.Topic(stack, 'AlarmTopic', {
    displayName: 'flowguard alarms',
    masterKey: key,
    enforceSSL: true,
  });
  // enforceSSL replaces SNS's default access policy, so CloudWatch needs an explicit grant;
  // limited to this account's alarms (confused deputy).
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsOfThisAccount',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  if (alarmEmail) {
    topic.addSubscription(new subscriptions.EmailSubscription(alarmEmail));
  }
  return topic;
}

/**
 * The alarms of a flowguard function: its errors, failed deliveries to its on-failure queue, both
 * queues' depth, RemediationFailures, and `metrics` (each alarm named after its metric).
 */
export function createAlarms(
  stack: Stack,
  fn: FlowGuardFunction,
  topic: sns.Topic,
  metrics: readonly MetricAlarm[] = [],
): cloudwatch.Alarm[] {
  const action = new cloudwatchActions.SnsAction(topic);
  const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
    const created = new cloudwatch.Alarm(stack, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    created.addAlarmAction(action);
    return created;
  };
  const emf = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { FunctionName: fn.function.functionName },
      statistic: cloudwatch.Stats.SUM,
      period: PERIOD,
    });
  const sum = { period: PERIOD, statistic: cloudwatch.Stats.SUM };
  const deepest = { period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM };
  return [
    alarm(
      'FunctionErrors',
      fn.function.metricErrors(sum),
      'The flowguard Lambda returned errors (retryable failures or invalid events); see its log group.',
    ),
    alarm(
      'DestinationDeliveryFailures',
      fn.function.metric('DestinationDeliveryFailures', sum),
      'Lambda could not deliver a failed event to the on-failure queue: the event is lost unless the function ' +
        'log shows it; check the queue and the function role\'s sqs:SendMessage.',
    ),
    alarm(
      REMEDIATION_FAILURES_METRIC,
      emf(REMEDIATION_FAILURES_METRIC),
      'flowguard could not remediate at least one VPC or log group; the report in the function log says which and why.',
    ),
    ...metrics.map((m) => alarm(m.metricName, emf(m.metricName), m.description)),
    alarm(
      'OnFailureQueueDepth',
      fn.onFailureQueue.metricApproximateNumberOfMessagesVisible(deepest),
      'An event failed all Lambda retries and waits in the on-failure queue: read it, fix the cause, re-drive it.',
    ),
    alarm(
      'RuleDeadLetterQueueDepth',
      fn.ruleDeadLetterQueue.metricApproximateNumberOfMessagesVisible(deepest),
      'EventBridge could not deliver an event to the flowguard Lambda: read the dead-letter queue.',
    ),
  ];
}
