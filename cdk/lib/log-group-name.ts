/**
 * The managed log group name, seen from one stack (one account and region).
 *
 * FLOWGUARD_LOG_GROUP may contain `{region}`, `{account_id}` and `{vpc_id}`. In a stack, region
 * and account are known (or CloudFormation tokens), so they are substituted here; `{vpc_id}` is
 * not known before the Lambda runs, so it becomes a `*` in IAM resources and ends the literal
 * prefix that EventBridge matches on (and so does `{account_id}` on the hub's bus).
 */
import { renderString } from './facts';

export interface LogGroupName {
  /** The configured name, placeholders and all: what the Lambda gets in FLOWGUARD_LOG_GROUP. */
  readonly configured: string;
  /** Region and account substituted; still contains `{vpc_id}` when `perVpc`. */
  readonly name: string;
  /** One group per VPC (`{vpc_id}` in the name): the Lambda creates the groups, not the stack. */
  readonly perVpc: boolean;
  /** The name as an IAM resource pattern: `{vpc_id}` replaced by `*`. */
  readonly iamPattern: string;
  /** No placeholder is left in `name`: EventBridge can match it exactly. */
  readonly exact: boolean;
  /** For EventBridge: the literal text before the first placeholder left (the whole name when `exact`). */
  readonly literalPrefix: string;
}

/** Of the facts' log_group.placeholders, the one a stack cannot fill (a test checks the others). */
const VPC_ID = '{vpc_id}';
const ACCOUNT_ID = '{account_id}';

/**
 * The name seen from `region` and `account`. Without an account (the hub's rules, which see every
 * account of the organization), `{account_id}` stays a placeholder like `{vpc_id}`.
 */
export function logGroupName(configured: string, region: string, account?: string): LogGroupName {
  const values: Record<string, string> = { '{region}': region };
  if (account !== undefined) {
    values[ACCOUNT_ID] = account;
  }
  const name = renderString(configured, values);
  const unknown = [VPC_ID, ACCOUNT_ID].map((p) => name.indexOf(p)).filter((i) => i >= 0);
  return {
    configured,
    name,
    perVpc: name.includes(VPC_ID),
    exact: unknown.length === 0,
    iamPattern: name.split(VPC_ID).join('*').split(ACCOUNT_ID).join('*'),
    literalPrefix: unknown.length === 0 ? name : name.slice(0, Math.min(...unknown)),
  };
}
