import {
  ALLOWED_RETENTION_DAYS,
  ConfigError,
  DEFAULTS,
  kmsAliasesIn,
  kmsKeyFor,
  regionsFromContext,
  resolveConfig,
  settingsFromContext,
} from '../lib/config';
import { logGroupName } from '../lib/log-group-name';

const context = (values: Record<string, unknown>) => (key: string) => values[key];

describe('resolveConfig', () => {
  test('applies the defaults of the configuration table', () => {
    expect(resolveConfig({})).toEqual({
      dryRun: false,
      retentionDays: 365,
      trafficType: 'REJECT',
      logGroupName: '/vpc/flow-logs',
      exemptTag: 'flowguard:exempt',
      kmsKeyArn: undefined,
      kmsKeyArns: undefined,
      sweepSchedule: 'rate(1 hour)',
      alarmEmail: undefined,
      maxAggregationInterval: 600,
      reservedConcurrency: undefined,
      destination: 'cloud-watch-logs',
      securityHub: false,
      configReevaluate: false,
    });
    expect(DEFAULTS.reservedConcurrency).toBeUndefined();
  });

  test('accepts every CloudWatch Logs retention of at least 365 days', () => {
    expect(ALLOWED_RETENTION_DAYS).toEqual([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]);
    for (const days of ALLOWED_RETENTION_DAYS) {
      expect(resolveConfig({ retentionDays: days }).retentionDays).toBe(days);
    }
  });

  test.each([30, 180, 0, -1, 366, 500, 3650, 365.5])('refuses retentionDays=%p, naming the setting and what is allowed', (days) => {
    expect(() => resolveConfig({ retentionDays: days })).toThrow(ConfigError);
    expect(() => resolveConfig({ retentionDays: days })).toThrow(
      new RegExp(`retentionDays \\(FLOWGUARD_RETENTION_DAYS\\): ${String(days).replace('.', '\\.')}: .*at least 365: 365, 400, 545`),
    );
  });

  test('trafficType is REJECT or ALL', () => {
    expect(resolveConfig({ trafficType: 'ALL' }).trafficType).toBe('ALL');
    expect(() => resolveConfig({ trafficType: 'ACCEPT' as never })).toThrow(
      'invalid flowguard setting trafficType (FLOWGUARD_TRAFFIC_TYPE): "ACCEPT": must be REJECT or ALL',
    );
  });

  test('maxAggregationInterval is 60 or 600', () => {
    expect(resolveConfig({ maxAggregationInterval: 60 }).maxAggregationInterval).toBe(60);
    expect(() => resolveConfig({ maxAggregationInterval: 300 })).toThrow(
      'maxAggregationInterval (FLOWGUARD_MAX_AGGREGATION_INTERVAL): 300: must be 60 or 600',
    );
  });

  test('logGroupName accepts the three placeholders and refuses others', () => {
    expect(resolveConfig({ logGroupName: '/vpc/{account_id}/{region}/{vpc_id}' }).logGroupName).toBe(
      '/vpc/{account_id}/{region}/{vpc_id}',
    );
    expect(() => resolveConfig({ logGroupName: '/vpc/{vpc}' })).toThrow('unknown placeholder {vpc}');
    expect(() => resolveConfig({ logGroupName: '/vpc/{vpc_id' })).toThrow('unknown placeholder {vpc_id');
    expect(() => resolveConfig({ logGroupName: '/vpc/{vpc_id}/{vpc_id}' })).toThrow('{vpc_id} may appear only once');
  });

  test.each(['', 'has space', 'aws/vpc', '/vpc/*', 'x'.repeat(513)])('refuses the log group name %p', (name) => {
    expect(() => resolveConfig({ logGroupName: name })).toThrow('logGroupName (FLOWGUARD_LOG_GROUP)');
  });

  test('exemptTag must be a usable tag key', () => {
    expect(resolveConfig({ exemptTag: 'security:exempt' }).exemptTag).toBe('security:exempt');
    expect(() => resolveConfig({ exemptTag: '' })).toThrow('exemptTag (FLOWGUARD_EXEMPT_TAG)');
    expect(() => resolveConfig({ exemptTag: 'aws:exempt' })).toThrow('not starting with "aws:"');
  });

  test('kmsKeyArn must be a key ARN or an alias name; empty means none', () => {
    const arn = 'arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(resolveConfig({ kmsKeyArn: arn }).kmsKeyArn).toBe(arn);
    expect(resolveConfig({ kmsKeyArn: '' }).kmsKeyArn).toBeUndefined();
    expect(() => resolveConfig({ kmsKeyArn: 'key/1234abcd' })).toThrow(
      /kmsKeyArn \(FLOWGUARD_KMS_KEY_ARN\): "key\/1234abcd": must be the ARN of a KMS key .* or a KMS alias name \(alias\/NAME\)/,
    );
  });

  test('kmsKeyArn may be a KMS alias name (the facts\' kms_alias), not under alias/aws/ and not an alias ARN', () => {
    for (const alias of ['alias/flowguard-logs', 'alias/flowguard/logs_v2', ` alias/x `]) {
      expect(resolveConfig({ kmsKeyArn: alias }).kmsKeyArn).toBe(alias.trim());
    }
    expect(resolveConfig({ kmsKeyArn: `alias/${'a'.repeat(250)}` }).kmsKeyArn).toHaveLength(256);
    for (const bad of ['alias/', 'alias/my key', `alias/${'a'.repeat(251)}`, 'alias/aws/logs']) {
      expect(() => resolveConfig({ kmsKeyArn: bad })).toThrow(
        /kmsKeyArn \(FLOWGUARD_KMS_KEY_ARN\): .*must be a KMS alias name, alias\/NAME: .*not under alias\/aws\/ \(AWS managed keys/,
      );
    }
    // Only alias/aws/ in exact case is reserved, as the facts say.
    expect(resolveConfig({ kmsKeyArn: 'alias/AWS/logs' }).kmsKeyArn).toBe('alias/AWS/logs');
    expect(() => resolveConfig({ kmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:alias/flowguard-logs' })).toThrow(
      /for an alias give its name, alias\/NAME, which is resolved in each account and region, not its ARN/,
    );
  });

  test('kmsKeyArn may hold {region} and {account_id} as its region and account', () => {
    for (const arn of [
      'arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      'arn:aws:kms:{region}:111111111111:key/mrk-1',
      'arn:aws:kms:eu-west-1:{account_id}:key/abc',
    ]) {
      expect(resolveConfig({ kmsKeyArn: arn }).kmsKeyArn).toBe(arn);
    }
    expect(() => resolveConfig({ kmsKeyArn: 'arn:aws:kms:{vpc_id}:111111111111:key/abc' })).toThrow(
      'unknown placeholder {vpc_id}; the placeholders are {region} and {account_id}',
    );
    // Placeholders stand for whole segments, as the Lambda reads them.
    expect(() => resolveConfig({ kmsKeyArn: 'arn:aws:kms:us-{region}:111111111111:key/abc' })).toThrow(
      'must be the ARN of a KMS key',
    );
    expect(() => resolveConfig({ kmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/{region}' })).toThrow(
      'must be the ARN of a KMS key',
    );
  });

  test('kmsKeyArns maps regions to key ARNs, and excludes kmsKeyArn', () => {
    const keys = { 'us-east-1': 'arn:aws:kms:us-east-1:111111111111:key/a', 'eu-west-1': 'arn:aws:kms:eu-west-1:111111111111:key/b' };
    expect(resolveConfig({ kmsKeyArns: keys }).kmsKeyArns).toEqual(keys);
    expect(resolveConfig({ kmsKeyArns: {} }).kmsKeyArns).toBeUndefined();
    expect(() => resolveConfig({ kmsKeyArns: { Virginia: keys['us-east-1'] } })).toThrow(
      'kmsKeyArns (FLOWGUARD_KMS_KEY_ARN): "Virginia": must be keyed by AWS region names',
    );
    expect(() => resolveConfig({ kmsKeyArns: { 'us-east-1': 'alias/aws/logs' } })).toThrow(
      'kmsKeyArns (FLOWGUARD_KMS_KEY_ARN): "alias/aws/logs": must be a KMS alias name',
    );
    expect(() => resolveConfig({ kmsKeyArns: ['arn'] as never })).toThrow('must be a JSON object of region to KMS key ARN');
    expect(() => resolveConfig({ kmsKeyArns: { 'eu-west-1': keys['us-east-1'] } })).toThrow(
      'is listed for eu-west-1 but is a key in us-east-1',
    );
    expect(resolveConfig({ kmsKeyArns: { 'eu-west-1': 'arn:aws:kms:{region}:{account_id}:key/mrk-1' } }).kmsKeyArns).toEqual({
      'eu-west-1': 'arn:aws:kms:{region}:{account_id}:key/mrk-1',
    });
    expect(() => resolveConfig({ kmsKeyArns: keys, kmsKeyArn: keys['us-east-1'] })).toThrow('not both');
  });

  test('kmsKeyArns may give an alias name for a region (resolved in that region), trimmed', () => {
    const keys = { 'us-east-1': ' alias/flowguard-logs ', 'eu-west-1': 'arn:aws:kms:eu-west-1:111111111111:key/b' };
    expect(resolveConfig({ kmsKeyArns: keys }).kmsKeyArns).toEqual({ ...keys, 'us-east-1': 'alias/flowguard-logs' });
  });

  test('kmsKeyFor renders the key of one region, or refuses a key of another region', () => {
    const template = resolveConfig({ kmsKeyArn: 'arn:aws:kms:{region}:{account_id}:key/mrk-1' });
    expect(kmsKeyFor(template, 'eu-west-1', '222222222222')).toBe('arn:aws:kms:eu-west-1:222222222222:key/mrk-1');
    expect(kmsKeyFor(template, 'us-east-1', '111111111111')).toBe('arn:aws:kms:us-east-1:111111111111:key/mrk-1');
    const literal = resolveConfig({ kmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/a' });
    expect(kmsKeyFor(literal, 'us-east-1', '111111111111')).toBe('arn:aws:kms:us-east-1:111111111111:key/a');
    expect(() => kmsKeyFor(literal, 'eu-west-1', '111111111111')).toThrow(
      /kmsKeyArn \(FLOWGUARD_KMS_KEY_ARN\): "arn:aws:kms:us-east-1:111111111111:key\/a": must be a key in eu-west-1, the stack's region, not in us-east-1/,
    );
    const map = resolveConfig({ kmsKeyArns: { 'us-east-1': 'arn:aws:kms:us-east-1:{account_id}:key/a' } });
    expect(kmsKeyFor(map, 'us-east-1', '333333333333')).toBe('arn:aws:kms:us-east-1:333333333333:key/a');
    expect(() => kmsKeyFor(map, 'eu-west-1', '333333333333')).toThrow('has no key for eu-west-1');
    expect(kmsKeyFor(resolveConfig({}), 'us-east-1', '111111111111')).toBeUndefined();
  });

  test('kmsKeyFor gives an alias name as it is, in every region', () => {
    const alias = resolveConfig({ kmsKeyArn: 'alias/flowguard-logs' });
    expect(kmsKeyFor(alias, 'eu-west-1', '222222222222')).toBe('alias/flowguard-logs');
    expect(kmsKeyFor(alias, 'us-east-1', '{account_id}')).toBe('alias/flowguard-logs');
    const map = resolveConfig({ kmsKeyArns: { 'us-east-1': 'alias/a', 'eu-west-1': 'arn:aws:kms:eu-west-1:111111111111:key/b' } });
    expect(kmsKeyFor(map, 'us-east-1', '111111111111')).toBe('alias/a');
    expect(kmsKeyFor(map, 'eu-west-1', '111111111111')).toBe('arn:aws:kms:eu-west-1:111111111111:key/b');
  });

  test('kmsAliasesIn lists the alias names of the given regions, each once, sorted', () => {
    expect(kmsAliasesIn(resolveConfig({}), ['us-east-1'])).toEqual([]);
    expect(kmsAliasesIn(resolveConfig({ kmsKeyArn: 'arn:aws:kms:{region}:111111111111:key/mrk-1' }), ['us-east-1'])).toEqual([]);
    expect(kmsAliasesIn(resolveConfig({ kmsKeyArn: 'alias/flowguard-logs' }), ['us-east-1', 'eu-west-1'])).toEqual([
      'alias/flowguard-logs',
    ]);
    const map = resolveConfig({
      kmsKeyArns: { 'us-east-1': 'alias/b', 'eu-west-1': 'alias/a', 'ap-south-1': 'alias/b', 'us-west-2': 'arn:aws:kms:us-west-2:111111111111:key/c' },
    });
    expect(kmsAliasesIn(map, ['us-east-1', 'eu-west-1', 'ap-south-1', 'us-west-2'])).toEqual(['alias/a', 'alias/b']);
    expect(kmsAliasesIn(map, ['us-east-1'])).toEqual(['alias/b']);
    expect(kmsAliasesIn(map, ['us-west-2', 'sa-east-1'])).toEqual([]);
  });

  test.each(['rate(1 hour)', 'rate(30 minutes)', 'rate(2 days)', 'cron(0 * * * ? *)'])('accepts the schedule %p', (s) => {
    expect(resolveConfig({ sweepSchedule: s }).sweepSchedule).toBe(s);
  });

  test.each(['rate(1 hours)', 'rate(2 hour)', 'rate(0 minutes)', 'hourly', 'cron(0 * * *)'])('refuses the schedule %p', (s) => {
    expect(() => resolveConfig({ sweepSchedule: s })).toThrow('sweepSchedule');
  });

  test('alarmEmail must look like an address', () => {
    expect(resolveConfig({ alarmEmail: 'secops@example.com' }).alarmEmail).toBe('secops@example.com');
    expect(() => resolveConfig({ alarmEmail: 'secops' })).toThrow('alarmEmail');
  });

  test('reservedConcurrency is off by default, "none", or a positive integer', () => {
    expect(resolveConfig({}).reservedConcurrency).toBeUndefined();
    expect(resolveConfig({ reservedConcurrency: 'none' }).reservedConcurrency).toBeUndefined();
    expect(resolveConfig({ reservedConcurrency: 2 }).reservedConcurrency).toBe(2);
    expect(() => resolveConfig({ reservedConcurrency: 0 })).toThrow(
      'reservedConcurrency (the function\'s reserved concurrency): 0: must be "none" (no reservation, the default) or a whole number of at least 1 that leaves at least 100',
    );
    expect(() => resolveConfig({ reservedConcurrency: 1.5 })).toThrow('reservedConcurrency');
  });
});

describe('the destination', () => {
  test.each([
    ['arn:aws:s3:::archive', { arn: 'arn:aws:s3:::archive', bucket: 'archive', prefix: '' }],
    ['arn:aws:s3:::archive/', { arn: 'arn:aws:s3:::archive/', bucket: 'archive', prefix: '' }],
    ['arn:aws-us-gov:s3:::archive/a/b/', { arn: 'arn:aws-us-gov:s3:::archive/a/b/', bucket: 'archive', prefix: 'a/b' }],
    ['s3://archive/flow', { arn: 'arn:{partition}:s3:::archive/flow', bucket: 'archive', prefix: 'flow' }],
  ])('%s is bucket and prefix', (value, expected) => {
    expect(resolveConfig({ destination: value }).s3Destination).toEqual(expected);
  });

  test('cloud-watch-logs (any case) or nothing is the log group', () => {
    for (const value of [undefined, '', ' ', 'cloud-watch-logs', 'CLOUD-WATCH-LOGS']) {
      const config = resolveConfig({ destination: value });
      expect(config.destination).toBe('cloud-watch-logs');
      expect(config.s3Destination).toBeUndefined();
      expect(config.s3FileFormat).toBeUndefined();
    }
  });

  test('a bad destination is refused, naming the setting, the value and the forms', () => {
    expect(() => resolveConfig({ destination: 'my-bucket' })).toThrow(
      'invalid flowguard setting destination (FLOWGUARD_DESTINATION): "my-bucket": must be cloud-watch-logs or an S3 ' +
        'bucket with an optional prefix, arn:aws:s3:::BUCKET/PREFIX or s3://BUCKET/PREFIX',
    );
    expect(() => resolveConfig({ destination: 's3://logs/AWSLogs' })).toThrow('may not begin with AWSLogs');
    expect(() => resolveConfig({ destination: 's3://a..b' })).toThrow('no two adjacent periods');
    expect(() => resolveConfig({ destination: 's3://sthree-logs' })).toThrow('S3 reserves sthree-');
  });

  test('the S3 options need an S3 destination, even set to their defaults', () => {
    for (const option of [{ s3FileFormat: 'plain-text' }, { s3HivePartitions: false }, { s3PerHourPartition: true }]) {
      expect(() => resolveConfig(option)).toThrow(/is an option of S3 destinations .* the destination is cloud-watch-logs/);
      expect(() => resolveConfig({ ...option, destination: 'arn:aws:s3:::archive' })).not.toThrow();
    }
    expect(() => resolveConfig({ s3FileFormat: 'csv', destination: 's3://archive' })).toThrow(
      's3FileFormat (FLOWGUARD_S3_FILE_FORMAT): "csv": must be plain-text or parquet',
    );
  });

  test('a KMS key is refused with an S3 destination: flowguard creates no log group there', () => {
    const key = 'arn:aws:kms:us-east-1:111111111111:key/abc';
    expect(() => resolveConfig({ destination: 's3://archive', kmsKeyArn: key })).toThrow(
      /kmsKeyArn \(FLOWGUARD_KMS_KEY_ARN\): .* it creates none: the bucket's own encryption applies/,
    );
    expect(() => resolveConfig({ destination: 's3://archive', kmsKeyArns: { 'us-east-1': key } })).toThrow(/kmsKeyArns/);
  });

  test('the log format is documented fields, one space apart', () => {
    expect(resolveConfig({ logFormat: ' ${srcaddr} ${dstaddr} ' }).logFormat).toBe('${srcaddr} ${dstaddr}');
    expect(resolveConfig({ logFormat: '' }).logFormat).toBeUndefined();
    expect(() => resolveConfig({ logFormat: '${srcaddr} ${timestamp}' })).toThrow(
      /logFormat \(FLOWGUARD_LOG_FORMAT\): .*timestamp is not a field that EC2 documents/,
    );
  });
});

describe('settingsFromContext', () => {
  test('reads -c strings like the Lambda reads its environment', () => {
    const settings = settingsFromContext(
      context({
        dryRun: 'YES',
        retentionDays: '400',
        trafficType: 'all',
        logGroupName: '/flow/{vpc_id}',
        exemptTag: 'x:exempt',
        kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/abc',
        sweepSchedule: 'rate(30 minutes)',
        alarmEmail: 'a@example.com',
        maxAggregationInterval: '60',
        reservedConcurrency: '3',
        securityHub: ' True ',
        configReevaluate: 'no',
      }),
    );
    expect(resolveConfig(settings)).toEqual({
      dryRun: true,
      retentionDays: 400,
      trafficType: 'ALL',
      logGroupName: '/flow/{vpc_id}',
      exemptTag: 'x:exempt',
      kmsKeyArn: 'arn:aws:kms:eu-west-1:111111111111:key/abc',
      kmsKeyArns: undefined,
      sweepSchedule: 'rate(30 minutes)',
      alarmEmail: 'a@example.com',
      maxAggregationInterval: 60,
      reservedConcurrency: 3,
      destination: 'cloud-watch-logs',
      securityHub: true,
      configReevaluate: false,
    });
  });

  test('the integrations: booleans of the facts, off by default and when empty; a bad value names its variable', () => {
    expect(resolveConfig(settingsFromContext(context({})))).toMatchObject({ securityHub: false, configReevaluate: false });
    expect(resolveConfig(settingsFromContext(context({ securityHub: '', configReevaluate: ' ' })))).toMatchObject({
      securityHub: false,
      configReevaluate: false,
    });
    // cdk.json keeps JSON booleans as they are.
    expect(resolveConfig(settingsFromContext(context({ securityHub: true, configReevaluate: true })))).toMatchObject({
      securityHub: true,
      configReevaluate: true,
    });
    expect(() => settingsFromContext(context({ securityHub: 'on' }))).toThrow(
      'invalid flowguard setting securityHub (FLOWGUARD_SECURITY_HUB): "on": must be true/false/1/0/yes/no',
    );
    expect(() => settingsFromContext(context({ configReevaluate: 'daily' }))).toThrow(
      'invalid flowguard setting configReevaluate (FLOWGUARD_CONFIG_REEVALUATE): "daily": must be true/false/1/0/yes/no',
    );
  });

  test('reads the destination, the log format and the S3 options', () => {
    const settings = settingsFromContext(
      context({
        destination: ' s3://log-archive/vpc/ ',
        logFormat: '${version} ${vpc-id} ${action}',
        s3FileFormat: 'PARQUET',
        s3HivePartitions: 'yes',
        s3PerHourPartition: '0',
      }),
    );
    expect(resolveConfig(settings)).toMatchObject({
      destination: 'arn:{partition}:s3:::log-archive/vpc/',
      s3Destination: { arn: 'arn:{partition}:s3:::log-archive/vpc/', bucket: 'log-archive', prefix: 'vpc' },
      logFormat: '${version} ${vpc-id} ${action}',
      s3FileFormat: 'parquet',
      s3HivePartitions: true,
      s3PerHourPartition: false,
    });
    expect(() => settingsFromContext(context({ s3PerHourPartition: 'hourly' }))).toThrow(
      'invalid flowguard setting s3PerHourPartition (FLOWGUARD_S3_PER_HOUR_PARTITION): "hourly": must be true/false/1/0/yes/no',
    );
  });

  test('reservedConcurrency=none (any case) or empty means no reservation', () => {
    for (const text of ['none', 'NONE', ' None ', '']) {
      expect(resolveConfig(settingsFromContext(context({ reservedConcurrency: text }))).reservedConcurrency).toBeUndefined();
    }
    expect(resolveConfig(settingsFromContext(context({ reservedConcurrency: 7 }))).reservedConcurrency).toBe(7);
    expect(() => settingsFromContext(context({ reservedConcurrency: 'five' }))).toThrow(
      'reservedConcurrency (the function\'s reserved concurrency): "five": must be "none" (no reservation, the default) or a whole number of at least 1',
    );
  });

  test('kmsKeyArns from -c as a JSON string, or from cdk.json as an object', () => {
    const keys = { 'us-east-1': 'arn:aws:kms:us-east-1:111111111111:key/a' };
    expect(settingsFromContext(context({ kmsKeyArns: JSON.stringify(keys) })).kmsKeyArns).toEqual(keys);
    expect(settingsFromContext(context({ kmsKeyArns: keys })).kmsKeyArns).toEqual(keys);
    expect(settingsFromContext(context({ kmsKeyArns: '' })).kmsKeyArns).toBeUndefined();
    expect(() => settingsFromContext(context({ kmsKeyArns: 'us-east-1=arn' }))).toThrow(
      'kmsKeyArns (FLOWGUARD_KMS_KEY_ARN): "us-east-1=arn": must be a JSON object',
    );
  });

  test('keeps the JSON types of cdk.json values', () => {
    expect(settingsFromContext(context({ dryRun: true, retentionDays: 731 }))).toMatchObject({
      dryRun: true,
      retentionDays: 731,
    });
  });

  test.each([
    ['true', true], ['1', true], ['yes', true], ['TRUE', true],
    ['false', false], ['0', false], ['no', false], ['No', false],
  ])('dryRun=%p is %p', (text, value) => {
    expect(settingsFromContext(context({ dryRun: text })).dryRun).toBe(value);
  });

  test('refuses a boolean or a number it cannot read', () => {
    expect(() => settingsFromContext(context({ dryRun: 'maybe' }))).toThrow(
      'invalid flowguard setting dryRun (FLOWGUARD_DRY_RUN): "maybe": must be true/false/1/0/yes/no',
    );
    expect(() => settingsFromContext(context({ retentionDays: 'a year' }))).toThrow('must be a whole number');
  });

  test('missing keys stay undefined, so the defaults apply', () => {
    expect(resolveConfig(settingsFromContext(context({})))).toEqual(resolveConfig({}));
  });
});

describe('regionsFromContext', () => {
  test('splits -c regions=a,b', () => {
    expect(regionsFromContext(context({ regions: 'us-east-1, eu-west-1' }), undefined)).toEqual(['us-east-1', 'eu-west-1']);
  });

  test('accepts a JSON list from cdk.json', () => {
    expect(regionsFromContext(context({ regions: ['ap-southeast-2'] }), undefined)).toEqual(['ap-southeast-2']);
  });

  test('falls back to the default region', () => {
    expect(regionsFromContext(context({}), 'eu-central-1')).toEqual(['eu-central-1']);
  });

  test('refuses no region, a bad name, or a duplicate', () => {
    expect(() => regionsFromContext(context({}), undefined)).toThrow('no region');
    expect(() => regionsFromContext(context({ regions: 'us-east-1,Europe' }), undefined)).toThrow('"Europe"');
    expect(() => regionsFromContext(context({ regions: 'us-east-1,us-east-1' }), undefined)).toThrow('twice');
  });
});

describe('logGroupName', () => {
  test('a plain name is the managed group itself', () => {
    expect(logGroupName('/vpc/flow-logs', 'us-east-1', '111111111111')).toEqual({
      configured: '/vpc/flow-logs',
      name: '/vpc/flow-logs',
      perVpc: false,
      exact: true,
      iamPattern: '/vpc/flow-logs',
      literalPrefix: '/vpc/flow-logs',
    });
  });

  test('substitutes region and account; {vpc_id} becomes a wildcard and ends the prefix', () => {
    expect(logGroupName('/vpc/{account_id}/{region}/{vpc_id}/flow', 'eu-west-1', '222222222222')).toEqual({
      configured: '/vpc/{account_id}/{region}/{vpc_id}/flow',
      name: '/vpc/222222222222/eu-west-1/{vpc_id}/flow',
      perVpc: true,
      exact: false,
      iamPattern: '/vpc/222222222222/eu-west-1/*/flow',
      literalPrefix: '/vpc/222222222222/eu-west-1/',
    });
  });

  test('without an account (the hub sees every account), {account_id} stays and ends the prefix too', () => {
    expect(logGroupName('/vpc/{region}/{account_id}/flow', 'eu-west-1')).toEqual({
      configured: '/vpc/{region}/{account_id}/flow',
      name: '/vpc/eu-west-1/{account_id}/flow',
      perVpc: false,
      exact: false,
      iamPattern: '/vpc/eu-west-1/*/flow',
      literalPrefix: '/vpc/eu-west-1/',
    });
  });
});
