/**
 * flowguard's facts, written once in `crates/core/facts.json` and read by both sides: the Lambda
 * and the CLI embed the file (flowguard-core, `include_str!`), and the CDK app imports it here.
 * It holds the configuration's allowed values and defaults, the AWS naming rules they rest on,
 * the managed-by tag and the delivery role's policy templates; its `cases` are run by the Rust
 * tests (crates/core/tests/engine/policy.rs) and by jest (test/facts.test.ts) alike, so the synth's
 * validation cannot drift from the Lambda's start-up again.
 *
 * Patterns are written in the subset that Rust's regex-lite and JavaScript's RegExp read alike
 * (no flags, ASCII classes spelled out, no look-around).
 */
import facts from '../../crates/core/facts.json';

export const FACTS = facts;

/** The tag that marks what flowguard created (flow logs, log groups): the facts' managed_tag. */
export const MANAGED_BY_TAG = { key: facts.managed_tag.key, value: facts.managed_tag.value };

/**
 * The delivery role's one name, in every mode (`flowguard setup-role`'s default too): the last part
 * of the facts' default delivery role ARN, `arn:{partition}:iam::{account_id}:role/flowguard-delivery`.
 * IAM role names are global in an account, so each account has one role of this name, for every
 * region that flowguard covers there.
 */
export const DELIVERY_ROLE_NAME = facts.organization.delivery_role_arn.default.split(':role/')[1];

/** A prefix that AWS reserves for itself, in exact case or in any case. */
export interface ReservedPrefix {
  readonly text: string;
  readonly any_case: boolean;
}

export function startsWithReserved(value: string, prefix: ReservedPrefix): boolean {
  const head = value.slice(0, prefix.text.length);
  return prefix.any_case ? head.toLowerCase() === prefix.text.toLowerCase() : head === prefix.text;
}

export const WHOLE_NUMBER = new RegExp(facts.whole_number.pattern);
export const REGION = new RegExp(facts.region.pattern);
export const KMS_KEY_ARN = new RegExp(facts.kms_key_arn.pattern);
/** A KMS alias name, `alias/NAME`, which FLOWGUARD_KMS_KEY_ARN may hold instead of a key ARN. */
export const KMS_ALIAS = new RegExp(facts.kms_alias.pattern);
export const LOG_GROUP_NAME = new RegExp(facts.log_group.pattern);
/** An S3 destination: `arn:PARTITION:s3:::BUCKET[/PREFIX]` or `s3://BUCKET[/PREFIX]`, and a bucket name like an IP address. */
export const S3_DESTINATION_ARN = new RegExp(facts.destination.s3_arn_pattern);
export const S3_DESTINATION_URL = new RegExp(facts.destination.s3_url_pattern);
export const BUCKET_LIKE_IP = new RegExp(facts.destination.bucket_ip_pattern);
/** One field of a custom flow-log format, `${field}`. */
export const LOG_FORMAT_FIELD = new RegExp(facts.log_format.field_pattern);

/** The retention values a policy may ask for: CloudWatch Logs' values of at least the minimum. */
export const ALLOWED_RETENTION_DAYS = facts.retention_days.cloudwatch_accepts.filter(
  (d) => d >= facts.retention_days.minimum,
);

/** `true`, `false`, or undefined for a word that is neither (trimmed, any case). */
export function parseBoolean(value: string): boolean | undefined {
  const word = value.trim().toLowerCase();
  if (facts.booleans.true.includes(word)) {
    return true;
  }
  if (facts.booleans.false.includes(word)) {
    return false;
  }
  return undefined;
}

/** Every boolean word, true and false in turn: true, false, 1, 0, yes, no. */
export const BOOLEAN_WORDS = facts.booleans.true.flatMap((t, i) => [t, facts.booleans.false[i]]);

/** `"a, b or c"`. */
export function oneOf(items: readonly unknown[]): string {
  const words = items.map(String);
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Replaces each placeholder (`{partition}`, ...) of `text`. Values may be CloudFormation tokens. */
export function renderString(text: string, values: Record<string, string>): string {
  return Object.entries(values).reduce((out, [placeholder, value]) => out.split(placeholder).join(value), text);
}

/** A JSON template with every string rendered by `renderString`. */
export function render<T>(template: T, values: Record<string, string>): T {
  if (typeof template === 'string') {
    return renderString(template, values) as T;
  }
  if (Array.isArray(template)) {
    return template.map((item) => render(item, values)) as T;
  }
  if (template !== null && typeof template === 'object') {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, render(v, values)])) as T;
  }
  return template;
}

/** One statement of an IAM policy template. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: { readonly Service: string };
  readonly Action: string | string[];
  readonly Resource?: string[];
  readonly Condition?: Record<string, Record<string, string>>;
}

export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: PolicyStatement[];
}

/** Where a delivery role's policies apply: partition, region (`*` for every region) and account. */
export interface RolePlace {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

function placeholders(place: RolePlace): Record<string, string> {
  return { '{partition}': place.partition, '{region}': place.region, '{account_id}': place.account };
}

/** The ARN of the managed log group(s); `logGroupPattern` is the name with `{vpc_id}` as `*`. */
export function logGroupArn(place: RolePlace, logGroupPattern: string): string {
  return renderString(facts.delivery_role.log_group_arn.split('{log_group}').join(logGroupPattern), placeholders(place));
}

/** The delivery role's trust policy: only VPC Flow Logs, only for flow logs of `place`. */
export function deliveryTrustPolicy(place: RolePlace): PolicyDocument {
  return render(facts.delivery_role.trust_policy as PolicyDocument, placeholders(place));
}

/** The delivery role's permissions: write flow-log records into the managed log group(s) only. */
export function deliveryInlinePolicy(place: RolePlace, logGroupPattern: string): PolicyDocument {
  return render(facts.delivery_role.inline_policy as PolicyDocument, {
    ...placeholders(place),
    '{log_group_arn}': logGroupArn(place, logGroupPattern),
  });
}
