/**
 * flowguard's deployment settings: the stack properties that mirror the Lambda's configuration
 * (docs/design.md, "Configuration"), their defaults, and the same validation as the Rust side, so a
 * bad value fails `cdk synth` with a message that names the setting, the value and what is
 * allowed — instead of a Lambda that refuses to start after the deployment.
 *
 * The allowed values, defaults and naming rules of the settings that the Lambda reads too are
 * the facts (`crates/core/facts.json`, see ./facts.ts), which the Lambda embeds; only the
 * deployment's own settings (sweepSchedule, alarmEmail, reservedConcurrency, regions) are
 * defined here. A `-c` value is read like the Lambda reads its environment: an empty value is
 * unset, and numbers are decimal digits.
 */
import {
  ALLOWED_RETENTION_DAYS as FACTS_ALLOWED_RETENTION_DAYS,
  BOOLEAN_WORDS,
  BUCKET_LIKE_IP,
  FACTS,
  KMS_ALIAS,
  KMS_KEY_ARN,
  LOG_FORMAT_FIELD,
  LOG_GROUP_NAME,
  REGION,
  S3_DESTINATION_ARN,
  S3_DESTINATION_URL,
  WHOLE_NUMBER,
  oneOf,
  parseBoolean,
  startsWithReserved,
} from './facts';

export type TrafficType = 'REJECT' | 'ALL';
export type AggregationInterval = 60 | 600;
/** EC2's FileFormat of an S3 destination (DestinationOptions). */
export type S3FileFormat = 'plain-text' | 'parquet';

/** The destination value that means the policy's CloudWatch Logs group (the default). */
export const CLOUD_WATCH_LOGS = FACTS.destination.cloud_watch_logs;

/** An S3 destination, read from FLOWGUARD_DESTINATION. */
export interface S3Destination {
  /**
   * `arn:PARTITION:s3:::BUCKET[/PREFIX]`, what FLOWGUARD_DESTINATION becomes; PARTITION is
   * `{partition}` when it was given as an `s3://` URL (the Lambda fills in the run's partition).
   */
  readonly arn: string;
  readonly bucket: string;
  /**
   * The folder(s) that the flow-logs service writes `AWSLogs/` under, without leading or trailing
   * slashes (`''` for none): objects land in `BUCKET/PREFIX/AWSLogs/ACCOUNT/vpcflowlogs/...`.
   */
  readonly prefix: string;
}

/** What a caller may set (stack props, or `-c key=value` context). Every field is optional. */
export interface FlowGuardSettings {
  /** Plan only: the Lambda makes no mutating call, and its role gets no write permission. */
  readonly dryRun?: boolean;
  /** Minimum retention of the flow-log group(s), in days (>= 365, a CloudWatch Logs value). */
  readonly retentionDays?: number;
  /** Traffic type of the flow logs flowguard creates. */
  readonly trafficType?: TrafficType;
  /** Log group name; may contain `{vpc_id}`, `{region}` and `{account_id}`. */
  readonly logGroupName?: string;
  /** VPC tag key whose value `true` exempts a VPC. */
  readonly exemptTag?: string;
  /**
   * KMS key for the log group(s) that flowguard creates, for every region: a key ARN, whose region
   * may be `{region}` and whose account may be `{account_id}` (a multi-Region key has the same id
   * in every region; a literal region must be the stack's), or an alias name, `alias/NAME` (the
   * facts' kms_alias), which the Lambda resolves with kms:DescribeKey in each account and region
   * it creates a group in. Organization mode refuses a key ARN with `{account_id}`: no key id is
   * the same in two accounts. Not together with `kmsKeyArns`.
   */
  readonly kmsKeyArn?: string;
  /**
   * KMS keys per region, `{"us-east-1": "arn:aws:kms:us-east-1:...", "eu-west-1": "alias/...", ...}`:
   * each stack takes the key (ARN or alias name) of its own region, and a region without a key
   * fails the synth. Not with `kmsKeyArn`.
   */
  readonly kmsKeyArns?: Record<string, string>;
  /** EventBridge schedule expression of the sweep. */
  readonly sweepSchedule?: string;
  /** Address subscribed to the alarm topic (the subscription must be confirmed by e-mail). */
  readonly alarmEmail?: string;
  /** Max aggregation interval of the flow logs, in seconds. */
  readonly maxAggregationInterval?: number;
  /**
   * Where flowguard's flow logs deliver: `cloud-watch-logs` (the default: the managed log group,
   * the delivery role, the retention step) or an S3 bucket with an optional prefix,
   * `arn:aws:s3:::BUCKET/PREFIX` or `s3://BUCKET/PREFIX` (usually the log-archive bucket). With S3
   * there is no delivery role and no log group: the bucket's lifecycle keeps the objects.
   */
  readonly destination?: string;
  /** A custom flow-log record format, `${field} ${field} ...` (fields EC2 documents); unset: EC2's default. */
  readonly logFormat?: string;
  /** S3 only (EC2's DestinationOptions.FileFormat): `plain-text` (EC2's default) or `parquet`. */
  readonly s3FileFormat?: string;
  /** S3 only (DestinationOptions.HiveCompatiblePartitions): Hive-compatible S3 prefixes. */
  readonly s3HivePartitions?: boolean;
  /** S3 only (DestinationOptions.PerHourPartition): partition the objects per hour, not per day. */
  readonly s3PerHourPartition?: boolean;
  /**
   * After an enforcing run, set the Security Hub findings of the control that the facts name
   * (EC2.6) of the VPCs it remediated a note and workflow NOTIFIED, never RESOLVED (FLOWGUARD_SECURITY_HUB).
   * The function's role (the member role, in organization mode) gains the facts' Security Hub
   * permissions; off by default.
   */
  readonly securityHub?: boolean;
  /**
   * After an enforcing run, ask the AWS Config rules of the facts' managed rule
   * (VPC_FLOW_LOGS_ENABLED) to evaluate again (FLOWGUARD_CONFIG_REEVALUATE). The role gains the
   * facts' AWS Config permissions; off by default.
   */
  readonly configReevaluate?: boolean;
  /**
   * Reserved concurrency of the function, or `none` (the default): no reservation. AWS refuses a
   * reservation that leaves less than 100 unreserved executions in the account and region, and
   * new accounts have a concurrency quota of 10, so a default reservation would fail there.
   */
  readonly reservedConcurrency?: number | 'none';
}

/** The validated settings, defaults applied. */
export interface FlowGuardConfig {
  readonly dryRun: boolean;
  readonly retentionDays: number;
  readonly trafficType: TrafficType;
  readonly logGroupName: string;
  readonly exemptTag: string;
  /** The key ARN template (placeholders kept) or alias name, when one serves every region. */
  readonly kmsKeyArn?: string;
  /** The key ARN or alias name per region, when given as a map. */
  readonly kmsKeyArns?: Readonly<Record<string, string>>;
  readonly sweepSchedule: string;
  readonly alarmEmail?: string;
  readonly maxAggregationInterval: AggregationInterval;
  /** undefined: no reservation (the default). */
  readonly reservedConcurrency?: number;
  /** `cloud-watch-logs`, or the S3 destination's ARN (`s3Destination.arn`). */
  readonly destination: string;
  /** The S3 destination, parsed; undefined with CloudWatch Logs. */
  readonly s3Destination?: S3Destination;
  /** undefined: EC2's default format. */
  readonly logFormat?: string;
  /** With an S3 destination: EC2's DestinationOptions, defaults applied; undefined with CloudWatch Logs. */
  readonly s3FileFormat?: S3FileFormat;
  readonly s3HivePartitions?: boolean;
  readonly s3PerHourPartition?: boolean;
  /** FLOWGUARD_SECURITY_HUB: resolve the remediated VPCs' findings in Security Hub. */
  readonly securityHub: boolean;
  /** FLOWGUARD_CONFIG_REEVALUATE: ask the AWS Config rule to evaluate again. */
  readonly configReevaluate: boolean;
}

export const DEFAULTS = {
  dryRun: FACTS.dry_run.default,
  retentionDays: FACTS.retention_days.default,
  trafficType: FACTS.traffic_type.default as TrafficType,
  logGroupName: FACTS.log_group.default,
  exemptTag: FACTS.exempt_tag.default,
  sweepSchedule: 'rate(1 hour)',
  maxAggregationInterval: FACTS.max_aggregation_interval.default as AggregationInterval,
  destination: FACTS.destination.default,
  /** With an S3 destination (EC2's defaults). */
  s3FileFormat: FACTS.s3_options.file_format.default as S3FileFormat,
  s3HivePartitions: FACTS.s3_options.hive_compatible_partitions.default,
  s3PerHourPartition: FACTS.s3_options.per_hour_partition.default,
  securityHub: FACTS.integrations.security_hub.default,
  configReevaluate: FACTS.integrations.config_reevaluate.default,
  /** No reserved concurrency unless asked for (see FlowGuardSettings.reservedConcurrency). */
  reservedConcurrency: undefined as number | undefined,
};

/** The retention values that CloudWatch Logs' PutRetentionPolicy accepts. */
export const CLOUDWATCH_RETENTION_DAYS = FACTS.retention_days.cloudwatch_accepts;
/** CIS (and docs/design.md): flow-log data is kept for at least a year. */
export const MIN_RETENTION_DAYS = FACTS.retention_days.minimum;
export const ALLOWED_RETENTION_DAYS = FACTS_ALLOWED_RETENTION_DAYS;

export const PLACEHOLDERS = FACTS.log_group.placeholders;

/** The environment variable of the Lambda that each setting feeds, for error messages. */
export const ENV_NAME: Record<keyof FlowGuardSettings, string> = {
  dryRun: 'FLOWGUARD_DRY_RUN',
  retentionDays: 'FLOWGUARD_RETENTION_DAYS',
  trafficType: 'FLOWGUARD_TRAFFIC_TYPE',
  logGroupName: 'FLOWGUARD_LOG_GROUP',
  exemptTag: 'FLOWGUARD_EXEMPT_TAG',
  kmsKeyArn: 'FLOWGUARD_KMS_KEY_ARN',
  kmsKeyArns: 'FLOWGUARD_KMS_KEY_ARN',
  sweepSchedule: 'the scheduled sweep rule',
  alarmEmail: 'the alarm topic subscription',
  maxAggregationInterval: 'FLOWGUARD_MAX_AGGREGATION_INTERVAL',
  reservedConcurrency: 'the function\'s reserved concurrency',
  destination: 'FLOWGUARD_DESTINATION',
  logFormat: 'FLOWGUARD_LOG_FORMAT',
  s3FileFormat: 'FLOWGUARD_S3_FILE_FORMAT',
  s3HivePartitions: 'FLOWGUARD_S3_HIVE_PARTITIONS',
  s3PerHourPartition: 'FLOWGUARD_S3_PER_HOUR_PARTITION',
  securityHub: 'FLOWGUARD_SECURITY_HUB',
  configReevaluate: 'FLOWGUARD_CONFIG_REEVALUATE',
};

export class ConfigError extends Error {
  /** `feeds`: what the setting becomes, when it is not in ENV_NAME (organization settings). */
  constructor(setting: string, value: unknown, allowed: string, feeds?: string) {
    feeds ??= ENV_NAME[setting as keyof FlowGuardSettings];
    super(
      `invalid flowguard setting ${setting}${feeds ? ` (${feeds})` : ''}: ` +
        `${JSON.stringify(value)}: ${allowed}`,
    );
    this.name = 'ConfigError';
  }
}

/** Applies the defaults and validates every setting; throws ConfigError on the first bad one. */
export function resolveConfig(settings: FlowGuardSettings = {}): FlowGuardConfig {
  const retentionDays = settings.retentionDays ?? DEFAULTS.retentionDays;
  if (!Number.isInteger(retentionDays) || !ALLOWED_RETENTION_DAYS.includes(retentionDays)) {
    throw new ConfigError(
      'retentionDays',
      settings.retentionDays,
      `must be a retention that CloudWatch Logs accepts and at least ${MIN_RETENTION_DAYS}: ` +
        ALLOWED_RETENTION_DAYS.join(', '),
    );
  }

  const trafficType = settings.trafficType ?? DEFAULTS.trafficType;
  if (!FACTS.traffic_type.allowed.includes(trafficType)) {
    throw new ConfigError('trafficType', settings.trafficType, `must be ${oneOf(FACTS.traffic_type.allowed)}`);
  }

  const maxAggregationInterval = settings.maxAggregationInterval ?? DEFAULTS.maxAggregationInterval;
  if (!FACTS.max_aggregation_interval.allowed.includes(maxAggregationInterval)) {
    throw new ConfigError(
      'maxAggregationInterval',
      settings.maxAggregationInterval,
      `must be ${oneOf(FACTS.max_aggregation_interval.allowed)} (seconds)`,
    );
  }

  const logGroupName = settings.logGroupName ?? DEFAULTS.logGroupName;
  validateLogGroupName(logGroupName);

  const exemptTag = settings.exemptTag ?? DEFAULTS.exemptTag;
  validateExemptTag(exemptTag);

  const kmsKeyArn = emptyToUndefined(settings.kmsKeyArn);
  if (kmsKeyArn !== undefined) {
    validateKmsKeyArn('kmsKeyArn', kmsKeyArn);
  }
  const kmsKeyArns = validateKmsKeyArns(settings.kmsKeyArns);
  if (kmsKeyArn !== undefined && kmsKeyArns !== undefined) {
    throw new ConfigError(
      'kmsKeyArns',
      settings.kmsKeyArns,
      'give either kmsKeyArn (one ARN, {region} and {account_id} allowed, or one alias name) or kmsKeyArns (one ARN or ' +
        'alias name per region), not both',
    );
  }

  const destination = resolveDestination(settings);
  if (destination.s3Destination !== undefined && (kmsKeyArn !== undefined || kmsKeyArns !== undefined)) {
    // The key is for the log groups that flowguard creates; with S3 it creates none, and a key
    // that silently encrypted nothing would mislead. The bucket's encryption is the log archive's.
    const setting = kmsKeyArn !== undefined ? 'kmsKeyArn' : 'kmsKeyArns';
    throw new ConfigError(
      setting,
      kmsKeyArn ?? settings.kmsKeyArns,
      `is the key of the log groups that flowguard creates, and with an S3 destination (${destination.destination}) ` +
        'it creates none: the bucket\'s own encryption applies (see the log-archive stack); leave it unset',
    );
  }

  const logFormatText = emptyToUndefined(settings.logFormat);
  const logFormat = logFormatText === undefined ? undefined : validateLogFormat(settings.logFormat as string);

  const sweepSchedule = settings.sweepSchedule ?? DEFAULTS.sweepSchedule;
  validateSchedule(sweepSchedule);

  const alarmEmail = emptyToUndefined(settings.alarmEmail);
  if (alarmEmail !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(alarmEmail)) {
    throw new ConfigError('alarmEmail', alarmEmail, 'must be an e-mail address');
  }

  const reservedConcurrency =
    settings.reservedConcurrency === 'none' ? undefined : (settings.reservedConcurrency ?? DEFAULTS.reservedConcurrency);
  if (reservedConcurrency !== undefined && (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1)) {
    throw new ConfigError(
      'reservedConcurrency',
      settings.reservedConcurrency,
      'must be "none" (no reservation, the default) or a whole number of at least 1 that leaves at least 100 ' +
        'unreserved executions in the account and region',
    );
  }

  return {
    dryRun: settings.dryRun ?? DEFAULTS.dryRun,
    retentionDays,
    trafficType,
    logGroupName,
    exemptTag,
    kmsKeyArn,
    kmsKeyArns,
    sweepSchedule,
    alarmEmail,
    maxAggregationInterval: maxAggregationInterval as AggregationInterval,
    reservedConcurrency,
    ...destination,
    logFormat,
    securityHub: settings.securityHub ?? DEFAULTS.securityHub,
    configReevaluate: settings.configReevaluate ?? DEFAULTS.configReevaluate,
  };
}

/** ASCII lower case, as the Lambda compares words (Rust's to_ascii_lowercase). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * FLOWGUARD_DESTINATION and the S3 options (the facts' destination and s3_options): the options
 * are EC2's DestinationOptions, for an S3 destination only, so one set with CloudWatch Logs is
 * refused, as the Lambda refuses it.
 */
function resolveDestination(
  settings: FlowGuardSettings,
): Pick<FlowGuardConfig, 'destination' | 's3Destination' | 's3FileFormat' | 's3HivePartitions' | 's3PerHourPartition'> {
  const raw = emptyToUndefined(settings.destination) === undefined ? undefined : (settings.destination as string);
  const s3Destination = raw === undefined ? undefined : parseDestination(raw);
  const fileFormat = emptyToUndefined(settings.s3FileFormat);
  if (s3Destination === undefined) {
    const options: Array<[keyof FlowGuardSettings, unknown]> = [
      ['s3FileFormat', fileFormat],
      ['s3HivePartitions', settings.s3HivePartitions],
      ['s3PerHourPartition', settings.s3PerHourPartition],
    ];
    for (const [setting, value] of options) {
      if (value !== undefined) {
        throw new ConfigError(
          setting,
          value,
          `is an option of S3 destinations (EC2's DestinationOptions), and the destination is ${CLOUD_WATCH_LOGS}: ` +
            'set destination to an S3 bucket (arn:aws:s3:::BUCKET/PREFIX or s3://BUCKET/PREFIX), or leave it unset',
        );
      }
    }
    return { destination: CLOUD_WATCH_LOGS };
  }
  let s3FileFormat = DEFAULTS.s3FileFormat;
  if (fileFormat !== undefined) {
    const word = asciiLower(fileFormat);
    if (!FACTS.s3_options.file_format.allowed.includes(word)) {
      throw new ConfigError('s3FileFormat', settings.s3FileFormat, `must be ${oneOf(FACTS.s3_options.file_format.allowed)} (any case)`);
    }
    s3FileFormat = word as S3FileFormat;
  }
  return {
    destination: s3Destination.arn,
    s3Destination,
    s3FileFormat,
    s3HivePartitions: settings.s3HivePartitions ?? DEFAULTS.s3HivePartitions,
    s3PerHourPartition: settings.s3PerHourPartition ?? DEFAULTS.s3PerHourPartition,
  };
}

/**
 * `cloud-watch-logs` (trimmed, any case): undefined; otherwise the S3 destination, as the Lambda
 * reads it: an ARN as it is, an `s3://` URL as `arn:{partition}:s3:::...`, the bucket name checked
 * against S3's naming rules and the prefix against the folder that the service writes under.
 */
export function parseDestination(raw: string): S3Destination | undefined {
  const rules = FACTS.destination;
  const value = raw.trim();
  if (asciiLower(value) === rules.cloud_watch_logs) {
    return undefined;
  }
  const refuse = (why = ''): never => {
    throw new ConfigError(
      'destination',
      raw,
      `must be ${rules.cloud_watch_logs} or an S3 bucket with an optional prefix, ${rules.form}${why}`,
    );
  };
  let arn: string;
  if (value.startsWith('s3://')) {
    if (!S3_DESTINATION_URL.test(value)) {
      refuse();
    }
    arn = `arn:{partition}:s3:::${value.slice('s3://'.length)}`;
  } else if (S3_DESTINATION_ARN.test(value)) {
    arn = value;
  } else {
    return refuse();
  }
  const path = arn.split(':').slice(5).join(':');
  const slash = path.indexOf('/');
  const bucket = slash < 0 ? path : path.slice(0, slash);
  const prefix = slash < 0 ? '' : path.slice(slash + 1);
  if (bucket.includes('..') || BUCKET_LIKE_IP.test(bucket)) {
    refuse(': a bucket name has no two adjacent periods and is not an IP address');
  }
  const reserved =
    rules.bucket_reserved_prefixes.find((p) => bucket.startsWith(p)) ??
    rules.bucket_reserved_suffixes.find((p) => bucket.endsWith(p));
  if (reserved !== undefined) {
    refuse(`: S3 reserves ${reserved} in bucket names`);
  }
  if (prefix.split('/')[0] === rules.reserved_folder) {
    refuse(`: the prefix may not begin with ${rules.reserved_folder}, the folder that the flow-logs service writes under`);
  }
  return { arn, bucket, prefix: prefix.replace(/^\/+|\/+$/g, '') };
}

/**
 * A custom record format (the facts' log_format): documented fields written `${field}`, separated
 * by single spaces; trimmed at both ends.
 */
function validateLogFormat(raw: string): string {
  const rules = FACTS.log_format;
  const format = raw.trim();
  for (const token of format.split(' ')) {
    const refuse = (why: string): never => {
      throw new ConfigError(
        'logFormat',
        raw,
        `must be fields written \${field} and separated by single spaces, e.g. ${rules.default}: ${why}`,
      );
    };
    if (!LOG_FORMAT_FIELD.test(token)) {
      refuse(`${JSON.stringify(token)} is not written \${field}`);
    }
    const name = token.slice(2, -1);
    if (!rules.fields.includes(name)) {
      refuse(`${name} is not a field that EC2 documents (${rules.fields.join(', ')})`);
    }
  }
  return format;
}

/** An EC2 tag key: 1 to 128 characters (code points, as AWS counts them), not `aws:` in any case. */
function validateExemptTag(tag: string): void {
  const rules = FACTS.exempt_tag;
  const length = [...tag].length;
  if (length < 1 || length > rules.max_characters || startsWithReserved(tag, rules.reserved_prefix)) {
    throw new ConfigError(
      'exemptTag',
      tag,
      `must be a tag key of 1 to ${rules.max_characters} characters, not starting with "${rules.reserved_prefix.text}" ` +
        '(reserved for AWS, in any case)',
    );
  }
}

/**
 * A KMS key ARN (the facts' kms_key_arn.pattern): `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`, where
 * REGION may be `{region}` and ACCOUNT `{account_id}` (whole segments, as the Lambda's
 * FLOWGUARD_KMS_KEY_ARN accepts them); or a KMS alias name (the facts' kms_alias), `alias/NAME`,
 * not under the prefix that AWS managed keys use.
 */
const KMS_PLACEHOLDERS = FACTS.kms_key_arn.placeholders;

/** Whether a configured key is an alias name rather than a key ARN (as the Lambda tells them apart). */
export function isKmsAlias(key: string): boolean {
  return key.startsWith('alias/');
}

function validateKmsKeyArn(setting: string, key: string): void {
  const alias = FACTS.kms_alias;
  if (isKmsAlias(key)) {
    if (!KMS_ALIAS.test(key) || startsWithReserved(key, alias.reserved_prefix)) {
      throw new ConfigError(
        setting,
        key,
        `must be a KMS alias name, ${alias.form}: at most 256 characters of A-Z a-z 0-9 / _ -, not under ` +
          `${alias.reserved_prefix.text} (AWS managed keys, which CloudWatch Logs cannot use)`,
      );
    }
    return;
  }
  const unknown = (key.match(/\{[^}]*\}?/g) ?? []).filter((p) => !KMS_PLACEHOLDERS.includes(p));
  if (unknown.length > 0) {
    throw new ConfigError(setting, key, `unknown placeholder ${unknown[0]}; the placeholders are {region} and {account_id}`);
  }
  if (!KMS_KEY_ARN.test(key)) {
    const aliasArn = /^arn:[^:]*:kms:[^:]*:[^:]*:alias\//.test(key)
      ? `; for an alias give its name, ${alias.form}, which is resolved in each account and region, not its ARN`
      : '';
    throw new ConfigError(
      setting,
      key,
      `must be the ARN of a KMS key (${FACTS.kms_key_arn.form}, where REGION may be {region} and ACCOUNT ` +
        `{account_id}) or a KMS alias name (${alias.form})${aliasArn}`,
    );
  }
}

/**
 * `{"us-east-1": "arn:...", "eu-west-1": "alias/...", ...}`: every key a region name, every value a
 * key ARN of that region or an alias name (resolved in the region it is listed for).
 */
function validateKmsKeyArns(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      'kmsKeyArns',
      value,
      'must be a JSON object of region to KMS key ARN or alias name, {"us-east-1": "arn:aws:kms:us-east-1:...", ...}',
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) {
    return undefined;
  }
  const keys: Record<string, string> = {};
  for (const [region, arn] of entries) {
    if (!REGION.test(region)) {
      throw new ConfigError('kmsKeyArns', region, 'must be keyed by AWS region names, e.g. {"us-east-1": "arn:..."}');
    }
    if (typeof arn !== 'string') {
      throw new ConfigError('kmsKeyArns', arn, `the key of ${region} must be a KMS key ARN or alias name (a string)`);
    }
    const key = arn.trim();
    validateKmsKeyArn('kmsKeyArns', key);
    const keyRegion = isKmsAlias(key) ? region : kmsKeyRegion(key);
    if (keyRegion !== '{region}' && keyRegion !== region) {
      throw new ConfigError(
        'kmsKeyArns',
        arn,
        `is listed for ${region} but is a key in ${keyRegion}: CloudWatch Logs only uses keys of its own region`,
      );
    }
    keys[region] = key;
  }
  return keys;
}

/** The region of a KMS key ARN (validated by resolveConfig); `{region}` when it is a placeholder. */
export function kmsKeyRegion(kmsKeyArn: string): string {
  return kmsKeyArn.split(':')[3];
}

/** The account of a KMS key ARN (validated by resolveConfig); `{account_id}` when it is a placeholder. */
export function kmsKeyAccount(kmsKeyArn: string): string {
  return kmsKeyArn.split(':')[4];
}

/**
 * The configured keys, each with the setting that gave it: `kmsKeyArn`, or each value of
 * `kmsKeyArns` with its region.
 */
export function configuredKmsKeys(config: FlowGuardConfig): Array<{ setting: 'kmsKeyArn' | 'kmsKeyArns'; region?: string; key: string }> {
  if (config.kmsKeyArn !== undefined) {
    return [{ setting: 'kmsKeyArn', key: config.kmsKeyArn }];
  }
  return Object.entries(config.kmsKeyArns ?? {}).map(([region, key]) => ({ setting: 'kmsKeyArns', region, key }));
}

/**
 * The alias names among the keys of `regions` (`kmsKeyArn`, or the map's entries for those
 * regions), sorted and each once: the aliases that a role acting in those regions resolves.
 */
export function kmsAliasesIn(config: FlowGuardConfig, regions: readonly string[]): string[] {
  const keys = config.kmsKeyArns === undefined
    ? (config.kmsKeyArn === undefined ? [] : [config.kmsKeyArn])
    : regions.map((region) => config.kmsKeyArns?.[region]).filter((key): key is string => key !== undefined);
  return [...new Set(keys.filter(isKmsAlias))].sort();
}

/**
 * The Lambda's policy variables (docs/design.md, "Configuration") that the single-account stack and
 * the organization's hub share; each adds its delivery role, KMS key and mode variables.
 */
export function policyEnvironment(config: FlowGuardConfig): Record<string, string> {
  const environment: Record<string, string> = {
    FLOWGUARD_LOG_GROUP: config.logGroupName,
    FLOWGUARD_RETENTION_DAYS: String(config.retentionDays),
    FLOWGUARD_TRAFFIC_TYPE: config.trafficType,
    FLOWGUARD_DRY_RUN: String(config.dryRun),
    FLOWGUARD_EXEMPT_TAG: config.exemptTag,
    FLOWGUARD_MAX_AGGREGATION_INTERVAL: String(config.maxAggregationInterval),
  };
  // CloudWatch Logs is the Lambda's default destination: its variables are only written for S3,
  // where each option gets its value (EC2's defaults included), like the settings above.
  if (config.s3Destination !== undefined) {
    environment.FLOWGUARD_DESTINATION = config.destination;
    environment.FLOWGUARD_S3_FILE_FORMAT = config.s3FileFormat ?? DEFAULTS.s3FileFormat;
    environment.FLOWGUARD_S3_HIVE_PARTITIONS = String(config.s3HivePartitions ?? DEFAULTS.s3HivePartitions);
    environment.FLOWGUARD_S3_PER_HOUR_PARTITION = String(config.s3PerHourPartition ?? DEFAULTS.s3PerHourPartition);
  }
  // No value means EC2's default format, like the KMS key: written only when set.
  if (config.logFormat !== undefined) {
    environment.FLOWGUARD_LOG_FORMAT = config.logFormat;
  }
  // The integrations are off by default (the facts' integrations): written only when on, so that
  // a deployment without them keeps its template (and its function) as it was.
  if (config.securityHub) {
    environment.FLOWGUARD_SECURITY_HUB = 'true';
  }
  if (config.configReevaluate) {
    environment.FLOWGUARD_CONFIG_REEVALUATE = 'true';
  }
  return environment;
}

/**
 * The KMS key of one stack (region and account, which may be CloudFormation tokens): the map's
 * entry for the region, or the template with `{region}` and `{account_id}` filled in; an alias
 * name as it is (it names a key of the account and region that the Lambda resolves it in). A key
 * whose literal region is not the stack's fails the synth, as the Lambda would refuse it at
 * start-up.
 */
export function kmsKeyFor(config: FlowGuardConfig, region: string, account: string): string | undefined {
  let setting: 'kmsKeyArn' | 'kmsKeyArns';
  let template: string;
  if (config.kmsKeyArns !== undefined) {
    setting = 'kmsKeyArns';
    const found = config.kmsKeyArns[region];
    if (found === undefined) {
      throw new ConfigError(
        setting,
        config.kmsKeyArns,
        `has no key for ${region}, a region deployed to: add "${region}": "arn:aws:kms:${region}:ACCOUNT:key/ID" ` +
          '(or an alias name, "alias/NAME")',
      );
    }
    template = found;
  } else if (config.kmsKeyArn !== undefined) {
    setting = 'kmsKeyArn';
    template = config.kmsKeyArn;
  } else {
    return undefined;
  }
  if (isKmsAlias(template)) {
    return template;
  }
  const keyRegion = kmsKeyRegion(template);
  if (keyRegion !== '{region}' && keyRegion !== region) {
    throw new ConfigError(
      setting,
      template,
      `must be a key in ${region}, the stack's region, not in ${keyRegion} (CloudWatch Logs only uses keys of its own ` +
        'region, and the Lambda refuses another region\'s key at start-up); write {region} in the ARN for a ' +
        'multi-Region key, give an alias name (alias/NAME, resolved in each region), or give one key per region ' +
        'with -c kmsKeyArns=\'{"REGION": "ARN", ...}\'',
    );
  }
  return template.split('{region}').join(region).split('{account_id}').join(account);
}

function validateLogGroupName(name: string): void {
  const unknown = (name.match(/\{[^}]*\}?/g) ?? []).filter((p) => !PLACEHOLDERS.includes(p));
  if (unknown.length > 0) {
    throw new ConfigError(
      'logGroupName',
      name,
      `unknown placeholder ${unknown[0]}; the placeholders are ${PLACEHOLDERS.join(', ')}`,
    );
  }
  const rules = FACTS.log_group;
  for (const once of rules.at_most_once) {
    if (name.split(once).length > 2) {
      throw new ConfigError('logGroupName', name, `${once} may appear only once`);
    }
  }
  // The longest values the placeholders can take, so that the length check is a real bound.
  const sample = Object.entries(rules.sample).reduce((out, [p, value]) => out.split(p).join(value), name);
  if (
    sample.length > rules.max_length ||
    !LOG_GROUP_NAME.test(sample) ||
    startsWithReserved(sample, rules.reserved_prefix)
  ) {
    throw new ConfigError(
      'logGroupName',
      name,
      `must be a CloudWatch Logs group name: 1 to ${rules.max_length} of ${rules.characters}, not starting with ` +
        `"${rules.reserved_prefix.text}" (reserved for AWS) (placeholders ${PLACEHOLDERS.join(', ')} allowed)`,
    );
  }
}

function validateSchedule(expression: string): void {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const singular = !rate[2].endsWith('s');
    if (value >= 1 && singular === (value === 1)) {
      return;
    }
  }
  if (/^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$/.test(expression)) {
    return;
  }
  throw new ConfigError(
    'sweepSchedule',
    expression,
    'must be an EventBridge schedule expression: rate(1 hour), rate(30 minutes), cron(0 * * * ? *), ...',
  );
}

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

// ---------------------------------------------------------------------------------------------
// Context: `cdk deploy -c dryRun=true -c regions=us-east-1,eu-west-1`. Values given with `-c`
// arrive as strings; values written in cdk.json keep their JSON type. Both are accepted.

/** Reads a context value by key; the app passes `(key) => app.node.tryGetContext(key)`. */
export type ContextReader = (key: string) => unknown;

/**
 * The settings found in the context; missing keys stay undefined (the defaults apply later). As
 * the Lambda reads its environment, an empty (or blank) value counts as missing.
 */
export function settingsFromContext(read: ContextReader): FlowGuardSettings {
  return {
    dryRun: contextBoolean(read, 'dryRun'),
    retentionDays: contextNumber(read, 'retentionDays'),
    trafficType: contextString(read, 'trafficType')?.trim().toUpperCase() as TrafficType | undefined,
    logGroupName: contextString(read, 'logGroupName'),
    exemptTag: contextString(read, 'exemptTag'),
    kmsKeyArn: contextString(read, 'kmsKeyArn'),
    kmsKeyArns: contextJsonObject(read, 'kmsKeyArns'),
    sweepSchedule: contextString(read, 'sweepSchedule'),
    alarmEmail: contextString(read, 'alarmEmail'),
    maxAggregationInterval: contextNumber(read, 'maxAggregationInterval'),
    reservedConcurrency: contextReservedConcurrency(read),
    destination: contextString(read, 'destination'),
    logFormat: contextString(read, 'logFormat'),
    s3FileFormat: contextString(read, 's3FileFormat'),
    s3HivePartitions: contextBoolean(read, 's3HivePartitions'),
    s3PerHourPartition: contextBoolean(read, 's3PerHourPartition'),
    securityHub: contextBoolean(read, 'securityHub'),
    configReevaluate: contextBoolean(read, 'configReevaluate'),
  };
}

/** The regions to deploy to: `-c regions=a,b` (or a JSON list in cdk.json), else the fallback. */
export function regionsFromContext(read: ContextReader, fallback: string | undefined): string[] {
  const raw = read('regions');
  let regions: string[];
  if (raw === undefined || raw === null || raw === '') {
    regions = fallback ? [fallback] : [];
  } else if (Array.isArray(raw)) {
    regions = raw.map((r) => String(r).trim());
  } else {
    regions = String(raw).split(',').map((r) => r.trim()).filter((r) => r !== '');
  }
  if (regions.length === 0) {
    throw new ConfigError(
      'regions',
      raw ?? null,
      'no region: pass -c regions=us-east-1[,eu-west-1...] or configure a default region (AWS_REGION / profile)',
    );
  }
  for (const region of regions) {
    if (!REGION.test(region)) {
      throw new ConfigError('regions', region, 'must be AWS region names separated by commas, e.g. us-east-1,eu-west-1');
    }
  }
  if (new Set(regions).size !== regions.length) {
    throw new ConfigError('regions', regions.join(','), 'lists a region twice');
  }
  return regions;
}

/** A context value, or undefined when it is missing or blank (as the Lambda reads "" as unset). */
function contextValue(read: ContextReader, key: string): unknown {
  const value = read(key);
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return undefined;
  }
  return value;
}

export function contextString(read: ContextReader, key: string): string | undefined {
  const value = contextValue(read, key);
  return value === undefined ? undefined : String(value);
}

/** Booleans accept true/false/1/0/yes/no in any case, like the Lambda's configuration. */
export function contextBoolean(read: ContextReader, key: string): boolean | undefined {
  const value = contextValue(read, key);
  if (value === undefined || typeof value === 'boolean') {
    return value;
  }
  const parsed = parseBoolean(String(value));
  if (parsed === undefined) {
    throw new ConfigError(key, value, `must be ${BOOLEAN_WORDS.join('/')}`);
  }
  return parsed;
}

/** A whole number in decimal digits (surrounding spaces ignored), like the Lambda reads one. */
export function contextNumber(read: ContextReader, key: string): number | undefined {
  const value = contextValue(read, key);
  if (value === undefined || typeof value === 'number') {
    return value;
  }
  const text = String(value).trim();
  if (!WHOLE_NUMBER.test(text)) {
    throw new ConfigError(key, value, 'must be a whole number');
  }
  return Number(text);
}

/** `none` (any case), an empty value or no value: no reservation; otherwise a whole number. */
function contextReservedConcurrency(read: ContextReader): number | 'none' | undefined {
  const value = read('reservedConcurrency');
  if (typeof value === 'string' && ['none', ''].includes(value.trim().toLowerCase())) {
    return 'none';
  }
  try {
    return contextNumber(read, 'reservedConcurrency');
  } catch {
    throw new ConfigError(
      'reservedConcurrency',
      value,
      'must be "none" (no reservation, the default) or a whole number of at least 1',
    );
  }
}

/** A JSON object: as written in cdk.json, or as a JSON string given with -c. */
function contextJsonObject(read: ContextReader, key: string): Record<string, string> | undefined {
  const value = read(key);
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
    return undefined;
  }
  if (typeof value !== 'string') {
    return value as Record<string, string>; // resolveConfig checks its shape
  }
  try {
    return JSON.parse(value) as Record<string, string>;
  } catch {
    throw new ConfigError(key, value, 'must be a JSON object, e.g. {"us-east-1": "arn:aws:kms:us-east-1:111122223333:key/ID"}');
  }
}
