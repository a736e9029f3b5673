/**
 * Least-privilege role policies, one statement at a time, each wildcard with its reason.
 *
 * Every role that flowguard's stacks make (the single-account function role, the delivery role,
 * the hub's function role, the spokes' member role) is written through `RoleGrants`: a statement
 * whose resource contains a `*` must say why, and the reason becomes cdk-nag's acknowledgement of
 * exactly that resource (AwsSolutions-IAM5), so an unexplained wildcard fails the synth.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';

/** One statement of a role's policy; `wildcardReason` is required when a resource has a `*`. */
export interface Grant {
  readonly sid: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, string | string[]>>;
  readonly wildcardReason?: string;
}

/** The statements of one role's identity policy, and the reasons for its wildcards. */
export class RoleGrants {
  private readonly reasons = new Map<string, string[]>();

  constructor(public readonly role: iam.Role) {}

  /**
   * Adds one statement. A statement with a `*` in a resource must say why; several statements
   * may share a wildcard resource, whose acknowledgement then gives every reason.
   */
  public add(statement: Grant): this {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: statement.sid,
        actions: statement.actions,
        resources: statement.resources,
        conditions: statement.conditions,
      }),
    );
    for (const resource of statement.resources) {
      // The same flattening as cdk-nag's, so the acknowledged finding id matches exactly.
      const flat = flattenCfnReference(Stack.of(this.role).resolve(resource));
      if (!flat.includes('*')) {
        continue;
      }
      if (!statement.wildcardReason) {
        throw new Error(`statement ${statement.sid} grants a wildcard resource (${flat}) without a reason`);
      }
      const id = `AwsSolutions-IAM5[Resource::${flat}]`;
      this.reasons.set(id, [...(this.reasons.get(id) ?? []), `${statement.sid}: ${statement.wildcardReason}.`]);
    }
    return this;
  }

  /** Adds every statement of a list, in order. */
  public addAll(statements: readonly Grant[]): this {
    statements.forEach((s) => this.add(s));
    return this;
  }

  /** Records the cdk-nag acknowledgements of the wildcard resources, once the policy is complete. */
  public acknowledgeWildcards(): void {
    for (const [id, reasons] of this.reasons) {
      Validations.of(this.role).acknowledge({ id, reason: reasons.join(' ') });
    }
  }
}
