/**
 * The facts (crates/core/facts.json) as the CDK app reads them. The Rust side runs the same
 * shared cases (crates/core/tests/engine/policy.rs) and renders the same delivery-role templates
 * (crates/aws/src/iam.rs), so a value that the synth accepts is one the Lambda accepts at start-up.
 */
import {
  ALLOWED_RETENTION_DAYS,
  CLOUDWATCH_RETENTION_DAYS,
  DEFAULTS,
  ENV_NAME,
  FlowGuardConfig,
  FlowGuardSettings,
  MIN_RETENTION_DAYS,
  PLACEHOLDERS,
  resolveConfig,
  settingsFromContext,
} from '../lib/config';
import { FACTS } from '../lib/facts';
import { MANAGED_BY_TAG } from '../lib/flowguard-stack';
import { logGroupName } from '../lib/log-group-name';
import { ACCOUNT, REGION, logicalId, synth } from './util';

/** One of the facts' shared cases. */
interface Case {
  readonly variable: string;
  readonly value: string;
  readonly repeat?: number;
  readonly suffix?: string;
  readonly accepted: boolean;
  readonly becomes?: unknown;
  readonly why?: string;
  /** Other variables set at the same time (an S3 option needs an S3 destination). */
  readonly with?: Record<string, string>;
}

const CASES = FACTS.cases as Case[];

/** The context key of each Lambda variable that the CDK app takes as a setting. */
const SETTING: Record<string, keyof FlowGuardSettings & keyof FlowGuardConfig> = {
  FLOWGUARD_RETENTION_DAYS: 'retentionDays',
  FLOWGUARD_TRAFFIC_TYPE: 'trafficType',
  FLOWGUARD_DRY_RUN: 'dryRun',
  FLOWGUARD_MAX_AGGREGATION_INTERVAL: 'maxAggregationInterval',
  FLOWGUARD_LOG_GROUP: 'logGroupName',
  FLOWGUARD_EXEMPT_TAG: 'exemptTag',
  FLOWGUARD_KMS_KEY_ARN: 'kmsKeyArn',
  FLOWGUARD_DESTINATION: 'destination',
  FLOWGUARD_LOG_FORMAT: 'logFormat',
  FLOWGUARD_S3_FILE_FORMAT: 's3FileFormat',
  FLOWGUARD_S3_HIVE_PARTITIONS: 's3HivePartitions',
  FLOWGUARD_S3_PER_HOUR_PARTITION: 's3PerHourPartition',
  FLOWGUARD_SECURITY_HUB: 'securityHub',
  FLOWGUARD_CONFIG_REEVALUATE: 'configReevaluate',
};

/** Variables that only the Lambda and the CLI read, and why the CDK app takes no setting for them. */
const NOT_A_SETTING: Record<string, string> = {
  FLOWGUARD_DELIVERY_ROLE_ARN: 'the stack creates the delivery role and passes its ARN',
};

const input = (c: Case) => c.value.repeat(c.repeat ?? 1) + (c.suffix ?? '');

/**
 * What the -c value becomes: the resolved setting, or the ConfigError's message. `also`: the
 * case's other variables, given as their settings' -c values at the same time.
 */
function resolve(
  variable: string,
  value: string,
  also: Record<string, string> = {},
): { ok: true; value: unknown } | { ok: false; message: string } {
  const setting = SETTING[variable];
  const context: Record<string, string> = {};
  for (const [other, otherValue] of Object.entries(also)) {
    const otherSetting = SETTING[other];
    if (otherSetting === undefined) {
      throw new Error(`a case sets ${other} with ${variable}, a variable that the CDK app takes no setting for`);
    }
    context[otherSetting] = otherValue;
  }
  context[setting] = value;
  try {
    const config = resolveConfig(settingsFromContext((key) => context[key]));
    return { ok: true, value: config[setting] ?? null };
  } catch (e) {
    return { ok: false, message: (e as Error).message };
  }
}

describe('the shared cases of the facts', () => {
  test('name every variable that the CDK app sets, and only variables the Lambda reads', () => {
    const variables = new Set(CASES.map((c) => c.variable));
    const fed = new Set(Object.values(ENV_NAME).filter((name) => name.startsWith('FLOWGUARD_')));
    expect([...fed].sort()).toEqual(Object.keys(SETTING).sort());
    expect([...variables].sort()).toEqual([...Object.keys(SETTING), ...Object.keys(NOT_A_SETTING)].sort());
    expect(CASES.length).toBeGreaterThan(50);
  });

  test.each(
    CASES.filter((c) => SETTING[c.variable] !== undefined).map((c) => [
      `${c.variable}=${JSON.stringify(input(c))}${Object.entries(c.with ?? {}).map(([k, v]) => ` with ${k}=${JSON.stringify(v)}`).join('')}`,
      c,
    ]),
  )(
    '%s',
    (_label, c) => {
      const result = resolve(c.variable, input(c), c.with);
      if (!c.accepted) {
        expect(result).toMatchObject({ ok: false, message: expect.stringContaining(`(${c.variable})`) });
        return;
      }
      expect(result).toMatchObject({ ok: true });
      if (c.becomes !== undefined && result.ok) {
        expect(result.value).toEqual(c.becomes);
      }
    },
  );
});

describe('the facts', () => {
  test('give the defaults of the configuration table', () => {
    expect(DEFAULTS).toMatchObject({
      dryRun: FACTS.dry_run.default,
      retentionDays: FACTS.retention_days.default,
      trafficType: FACTS.traffic_type.default,
      logGroupName: FACTS.log_group.default,
      exemptTag: FACTS.exempt_tag.default,
      maxAggregationInterval: FACTS.max_aggregation_interval.default,
      destination: FACTS.destination.default,
      s3FileFormat: FACTS.s3_options.file_format.default,
      s3HivePartitions: FACTS.s3_options.hive_compatible_partitions.default,
      s3PerHourPartition: FACTS.s3_options.per_hour_partition.default,
      securityHub: FACTS.integrations.security_hub.default,
      configReevaluate: FACTS.integrations.config_reevaluate.default,
    });
    // The S3 options exist only with an S3 destination, which then takes EC2's defaults.
    const { s3FileFormat, s3HivePartitions, s3PerHourPartition, ...cloudWatch } = DEFAULTS;
    expect(resolveConfig({})).toMatchObject({ ...cloudWatch, sweepSchedule: DEFAULTS.sweepSchedule });
    expect(resolveConfig({})).not.toHaveProperty('s3FileFormat', expect.anything());
    expect(resolveConfig({ destination: 's3://flowguard-log-archive' })).toMatchObject({
      s3FileFormat,
      s3HivePartitions,
      s3PerHourPartition,
    });
    expect(CLOUDWATCH_RETENTION_DAYS).toEqual(FACTS.retention_days.cloudwatch_accepts);
    expect(MIN_RETENTION_DAYS).toBe(FACTS.retention_days.minimum);
    expect(PLACEHOLDERS).toEqual(FACTS.log_group.placeholders);
    expect(MANAGED_BY_TAG).toEqual({ key: FACTS.managed_tag.key, value: FACTS.managed_tag.value });
  });

  test('every CloudWatch Logs retention of at least the minimum is accepted, its neighbours are refused', () => {
    const accepts = FACTS.retention_days.cloudwatch_accepts;
    expect(ALLOWED_RETENTION_DAYS[0]).toBe(FACTS.retention_days.minimum);
    for (const days of accepts) {
      if (days >= FACTS.retention_days.minimum) {
        expect(resolveConfig({ retentionDays: days }).retentionDays).toBe(days);
        expect(resolve('FLOWGUARD_RETENTION_DAYS', String(days))).toEqual({ ok: true, value: days });
      } else {
        expect(() => resolveConfig({ retentionDays: days })).toThrow('retentionDays');
      }
      for (const neighbour of [days - 1, days + 1].filter((d) => !accepts.includes(d))) {
        expect(() => resolveConfig({ retentionDays: neighbour })).toThrow('retentionDays');
      }
    }
  });

  test('names that AWS reserves are refused', () => {
    for (const name of ['aws/flow-logs', 'aws/{region}/{vpc_id}']) {
      expect(() => resolveConfig({ logGroupName: name })).toThrow('not starting with "aws/"');
    }
    expect(resolveConfig({ logGroupName: '/aws/flow-logs' }).logGroupName).toBe('/aws/flow-logs');
    for (const tag of ['aws:exempt', 'AWS:exempt', 'aWs:exempt']) {
      expect(() => resolveConfig({ exemptTag: tag })).toThrow('not starting with "aws:"');
    }
  });

  test('a stack fills every log-group placeholder but {vpc_id}', () => {
    const all = FACTS.log_group.placeholders.join('/');
    const name = logGroupName(all, REGION, ACCOUNT).name;
    expect(FACTS.log_group.placeholders.filter((p) => name.includes(p))).toEqual(['{vpc_id}']);
  });
});

/** A template of the facts with its placeholders replaced, by plain text substitution. */
function rendered(template: unknown, values: Record<string, string>): unknown {
  let text = JSON.stringify(template);
  for (const [placeholder, value] of Object.entries(values)) {
    text = text.split(placeholder).join(value);
  }
  return JSON.parse(text);
}

/** IAM treats a statement's actions as a set; CDK sorts them when it minimizes policies. */
function sortedActions(document: { Statement: { Action: string | string[] }[] }): unknown {
  return {
    ...document,
    Statement: document.Statement.map((s) => ({ ...s, Action: Array.isArray(s.Action) ? [...s.Action].sort() : s.Action })),
  };
}

describe('the delivery role is the facts\' templates, rendered for the stack', () => {
  test.each([
    ['/vpc/flow-logs', '/vpc/flow-logs'],
    ['/vpc/{account_id}/{region}/{vpc_id}/flow', `/vpc/${ACCOUNT}/${REGION}/*/flow`],
  ])('log group %p', (configured, pattern) => {
    const { stack, template } = synth({ logGroupName: configured });
    const place = { '{partition}': 'aws', '{region}': REGION, '{account_id}': ACCOUNT };
    const role = template.toJSON().Resources[logicalId(stack, stack.deliveryRole!)];
    expect(role.Properties.AssumeRolePolicyDocument).toEqual(rendered(FACTS.delivery_role.trust_policy, place));

    const groupArn = rendered(FACTS.delivery_role.log_group_arn, { '{log_group}': pattern, ...place }) as string;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter(
      (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: logicalId(stack, stack.deliveryRole!) }]),
    );
    expect(policies).toHaveLength(1);
    expect(sortedActions(policies[0].Properties.PolicyDocument)).toEqual(
      sortedActions(rendered(FACTS.delivery_role.inline_policy, { '{log_group_arn}': groupArn, ...place }) as never),
    );
  });
});
