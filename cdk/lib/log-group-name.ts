/**
 * The managed log group name, seen from one stack (one account and region).
 *
 * FLOWGUARD_LOG_GROUP may contain `{region}`, `{account_id}` and `{vpc_id}`. In a stack, region
 * and account are known (or CloudFormation tokens), so they are substituted here; `{vpc_id}` is
 * not known before the Lambda runs, so it becomes a `*` in IAM resources and ends the literal
 * prefix that EventBridge matches on.
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
  /** For EventBridge: the literal text before `{vpc_id}` (the whole name when not `perVpc`). */
  readonly literalPrefix: string;
}

/** Of the facts' log_group.placeholders, the one a stack cannot fill (a test checks the others). */
const VPC_ID = '{vpc_id}';

export function logGroupName(configured: string, region: string, account: string): LogGroupName {
  const name = renderString(configured, { '{region}': region, '{account_id}': account });
  const perVpc = name.includes(VPC_ID);
  return {
    configured,
    name,
    perVpc,
    iamPattern: name.split(VPC_ID).join('*'),
    literalPrefix: perVpc ? name.slice(0, name.indexOf(VPC_ID)) : name,
  };
}
