/**
 * The organization deployment's settings (docs/deploy-organization.md): which organization, which
 * OUs, which account hosts the hub, and how the hub reaches the members. Read from the context
 * (`-c organizationId=o-... -c targetOus=ou-...`) and validated like the single-account settings
 * (./config.ts): a bad value fails the synth with a message that names the key, the value and what
 * is allowed. The id patterns and defaults are the facts' (`crates/core/facts.json`, organization),
 * the ones the Lambda checks at start-up.
 */
import {
  ConfigError,
  ContextReader,
  FlowGuardConfig,
  contextBoolean,
  contextNumber,
  contextString,
  configuredKmsKeys,
  isKmsAlias,
  kmsKeyAccount,
  regionsFromContext,
  resolveConfig,
  settingsFromContext,
} from './config';
import { FACTS, REGION } from './facts';

const ORG = FACTS.organization;

/** AWS Organizations' organization id (the `OrganizationPrincipal` rule of aws-cdk-lib too). */
export const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const ACCOUNT_ID = new RegExp(ORG.account_id.pattern);
const PARENT_ID = new RegExp(ORG.parent_id.pattern);
const MEMBER_ROLE_NAME = new RegExp(ORG.member_role.name_pattern);
const EXTERNAL_ID = new RegExp(ORG.external_id.pattern);

/** Who calls the StackSets API: the management account itself, or a delegated administrator. */
export type CallAs = 'SELF' | 'DELEGATED_ADMIN';

/** The organization settings, validated, defaults applied. */
export interface OrganizationConfig {
  /** `o-...`: the hub bus admits only this organization; the hub may only assume roles in it. */
  readonly organizationId: string;
  /** Roots or OUs: the StackSets deploy the spokes there, and the hub's scope is the same. */
  readonly targetOus: string[];
  /** The account of the hub stacks and the StackSets (a delegated administrator, or the management account). */
  readonly hubAccount: string;
  /** Every region covered: a hub and the regional spoke in each. */
  readonly regions: string[];
  /**
   * The StackSets' home region (`-c stackSetRegion`, default the first of `regions`): where
   * `FlowGuardStackSets` and every account's account spoke live. Fixed for the life of the
   * deployment: in another region, new StackSets would create the same named roles again.
   */
  readonly homeRegion: string;
  /** The member role's name in every account. */
  readonly memberRole: string;
  /** `sts:ExternalId` required by the member role and sent by the hub. */
  readonly externalId?: string;
  /** Accounts never touched (FLOWGUARD_EXCLUDE_ACCOUNTS) and given no spoke. */
  readonly excludeAccounts: string[];
  /** Account×region runs in flight at once (FLOWGUARD_CONCURRENCY). */
  readonly concurrency: number;
  /** The hub account is covered too, with the hub's own role (false: it is excluded). */
  readonly hubInScope: boolean;
  /**
   * With `hubInScope`: the target (one of `targetOus`) that holds the hub account, directly or
   * below it, as the deployer states it (`-c hubOu`); undefined when a root is a target.
   */
  readonly hubOu?: string;
  /** The management account, which service-managed StackSets skip: given plain spoke stacks. */
  readonly managementAccount?: string;
  /** Keep an account's spoke stacks when it leaves the target OUs (false: delete them). */
  readonly retainOnRemoval: boolean;
  readonly callAs: CallAs;
  /** The flowguard settings shared with the single-account stack (dry run, retention, ...). */
  readonly settings: FlowGuardConfig;
}

/** What each organization key feeds, for error messages. */
const FEEDS: Record<string, string> = {
  targetOus: 'FLOWGUARD_ORGANIZATIONAL_UNITS and the StackSets\' target OUs',
  excludeAccounts: 'FLOWGUARD_EXCLUDE_ACCOUNTS',
  memberRole: 'FLOWGUARD_MEMBER_ROLE',
  externalId: 'FLOWGUARD_EXTERNAL_ID',
  concurrency: 'FLOWGUARD_CONCURRENCY',
  stackSetRegion: 'the StackSets\' home region',
  hubOu: 'the target OU that holds the hub account',
};

/** The context keys of organization mode, besides those of ./config.ts. */
export const ORGANIZATION_KEYS = [
  'organizationId',
  'targetOus',
  'hubAccount',
  'memberRole',
  'externalId',
  'excludeAccounts',
  'concurrency',
  'hubInScope',
  'managementAccount',
  'retainOnRemoval',
  'stackSetRegion',
  'hubOu',
] as const;

function refuse(key: string, value: unknown, allowed: string): never {
  throw new ConfigError(key, value, allowed, FEEDS[key]);
}

/** Organization mode is asked for when any of its keys is set. */
export function organizationRequested(read: ContextReader): boolean {
  return ORGANIZATION_KEYS.some((key) => contextString(read, key) !== undefined);
}

/** Reads and validates every organization setting; throws ConfigError on the first bad one. */
export function organizationFromContext(read: ContextReader, fallbackRegion?: string): OrganizationConfig {
  const organizationId = required(read, 'organizationId', 'the organization id, o-... (aws organizations describe-organization)');
  if (!ORGANIZATION_ID.test(organizationId)) {
    refuse('organizationId', organizationId, `must be an organization id, ${ORGANIZATION_ID.source}`);
  }
  const hubAccount = required(read, 'hubAccount', 'the 12-digit account of the hub (where you run cdk deploy)');
  checkAccount('hubAccount', hubAccount);
  const targetOus = list(read, 'targetOus');
  if (targetOus.length === 0) {
    refuse('targetOus', read('targetOus') ?? null, 'required: the root (r-...) or OUs (ou-...) to cover, separated by commas');
  }
  for (const id of targetOus) {
    if (!PARENT_ID.test(id)) {
      refuse('targetOus', id, `must be a root (r-...) or an OU (ou-...-...) id: ${ORG.parent_id.pattern}`);
    }
  }
  const excludeAccounts = list(read, 'excludeAccounts');
  excludeAccounts.forEach((id) => checkAccount('excludeAccounts', id));
  const managementAccount = contextString(read, 'managementAccount')?.trim();
  if (managementAccount !== undefined) {
    checkAccount('managementAccount', managementAccount);
  }

  const memberRole = contextString(read, 'memberRole')?.trim() ?? ORG.member_role.default;
  if (!MEMBER_ROLE_NAME.test(memberRole)) {
    refuse('memberRole', memberRole, `must be an IAM role name (the spokes create it): ${ORG.member_role.name_pattern}`);
  }
  const externalId = contextString(read, 'externalId')?.trim();
  if (externalId !== undefined && !EXTERNAL_ID.test(externalId)) {
    refuse('externalId', '(not shown)', '2 to 1224 characters of letters, digits and +=,.@:/_-');
  }
  const concurrency = contextNumber(read, 'concurrency') ?? ORG.concurrency.default;
  if (!Number.isInteger(concurrency) || concurrency < ORG.concurrency.min || concurrency > ORG.concurrency.max) {
    refuse('concurrency', concurrency, `must be a whole number from ${ORG.concurrency.min} to ${ORG.concurrency.max}`);
  }

  const regions = regionsFromContext(read, fallbackRegion);
  const stackSetRegion = contextString(read, 'stackSetRegion')?.trim();
  if (stackSetRegion !== undefined && !REGION.test(stackSetRegion)) {
    refuse('stackSetRegion', stackSetRegion, 'must be an AWS region name, e.g. us-east-1');
  }
  const hubInScope = contextBoolean(read, 'hubInScope') ?? false;
  const hubOu = checkScope({ read, hubAccount, hubInScope, targetOus, excludeAccounts, managementAccount });
  const settings = resolveConfig(settingsFromContext(read));
  checkKmsKeys(settings);
  return {
    organizationId,
    targetOus,
    hubAccount,
    regions,
    homeRegion: stackSetRegion ?? regions[0],
    memberRole,
    externalId,
    excludeAccounts,
    concurrency,
    hubInScope,
    hubOu,
    managementAccount,
    retainOnRemoval: contextBoolean(read, 'retainOnRemoval') ?? false,
    // StackSets is called as SELF only from the management account itself.
    callAs: managementAccount === hubAccount ? 'SELF' : 'DELEGATED_ADMIN',
    settings,
  };
}

/**
 * Refuses a KMS key ARN with `{account_id}` (kmsKeyArn, or any value of kmsKeyArns), as the Lambda
 * does at start-up in organization mode: KMS gives every key its own id, so one ARN template names
 * a key in one account at most, and every other account's CreateLogGroup would fail. An alias name
 * (one alias, each account's own key) or a key ARN of one fixed account is accepted.
 */
function checkKmsKeys(settings: FlowGuardConfig): void {
  for (const { setting, region, key } of configuredKmsKeys(settings)) {
    if (!isKmsAlias(key) && kmsKeyAccount(key) === '{account_id}') {
      throw new ConfigError(
        setting,
        key,
        `${region === undefined ? '' : `(the key of ${region}) `}cannot name a key in more than one account: KMS ` +
          'gives each key its own id, so a key ARN with {account_id} exists in one account at most. In organization ' +
          'mode give a KMS alias name instead (e.g. alias/flowguard-logs), which the Lambda resolves to each ' +
          'account\'s own key in each region (the keys are yours to create: docs/deploy-organization.md), or one ' +
          'key ARN of a fixed account',
      );
    }
  }
}

/**
 * Refuses the combinations of scope settings that cannot work, naming the settings; returns the
 * hub's target OU (`hubOu`) when one is needed and given.
 *
 * - The management account's spoke (plain stacks, deployed whenever `managementAccount` is named
 *   and in scope) for an account in `excludeAccounts`: a spoke whose events the hub ignores.
 * - `hubInScope` for a hub account in `excludeAccounts`.
 * - `hubInScope` with the hub outside every target: the hub's scope is the accounts below the
 *   targets (FLOWGUARD_ORGANIZATIONAL_UNITS), so its own account would never be checked. A root
 *   among the targets holds every account; otherwise the synth cannot read the organization's tree,
 *   so the deployer names the target that holds the hub (`hubOu`), and one that is not a target is
 *   refused.
 */
function checkScope(scope: {
  read: ContextReader;
  hubAccount: string;
  hubInScope: boolean;
  targetOus: string[];
  excludeAccounts: string[];
  managementAccount?: string;
}): string | undefined {
  const { read, hubAccount, hubInScope, targetOus, excludeAccounts, managementAccount } = scope;
  const excluded = new Set(excludeAccounts);
  if (hubInScope && excluded.has(hubAccount)) {
    refuse(
      'excludeAccounts',
      excludeAccounts.join(','),
      `lists the hub account (hubAccount ${hubAccount}) while hubInScope is true: drop it from excludeAccounts, or ` +
        'set hubInScope=false',
    );
  }
  if (managementAccount !== undefined && managementAccount !== hubAccount && excluded.has(managementAccount)) {
    refuse(
      'excludeAccounts',
      excludeAccounts.join(','),
      `lists the management account (managementAccount ${managementAccount}), whose spoke the app deploys as plain ` +
        'stacks (FlowGuardManagementSpoke*): its events would reach the hub only to be ignored. Leave managementAccount ' +
        'unset to give it no spoke, or drop it from excludeAccounts to cover it',
    );
  }
  const hubOu = contextString(read, 'hubOu')?.trim();
  if (!hubInScope) {
    if (hubOu !== undefined) {
      refuse('hubOu', hubOu, 'applies with hubInScope=true only (the hub account is excluded otherwise)');
    }
    return undefined;
  }
  if (hubOu !== undefined && !targetOus.includes(hubOu)) {
    refuse(
      'hubOu',
      hubOu,
      `must be one of targetOus (${targetOus.join(',')}): the target that holds the hub account ${hubAccount}, directly ` +
        'or in an OU below it. A hub outside every target is never in scope; add its OU to targetOus, or set ' +
        'hubInScope=false',
    );
  }
  if (hubOu === undefined && !targetOus.some((id) => id.startsWith('r-'))) {
    refuse(
      'hubInScope',
      true,
      `covers the hub account ${hubAccount} only if it lies in one of targetOus (${targetOus.join(',')}), which the ` +
        'synth cannot read from the organization: set -c hubOu=<the one of targetOus that holds it, directly or in an ' +
        `OU below it> (aws organizations list-parents --child-id ${hubAccount}), or target the root, or set ` +
        'hubInScope=false',
    );
  }
  return hubOu;
}

/**
 * The accounts that neither the hub nor the StackSets touch: the listed ones, and the hub's own
 * unless it is in scope.
 */
export function excludedAccounts(config: OrganizationConfig): string[] {
  return [...new Set([...config.excludeAccounts, ...(config.hubInScope ? [] : [config.hubAccount])])];
}

/**
 * Whether the management account gets its spoke as plain stacks: when it is named, and is either
 * a member (not the hub) or the hub in scope. StackSets never deploy to the management account,
 * so a hub there that is in scope needs its delivery role and forwarding rules from these stacks.
 */
export function managementSpokeAccount(config: OrganizationConfig): string | undefined {
  const management = config.managementAccount;
  if (management === undefined || (management === config.hubAccount && !config.hubInScope)) {
    return undefined;
  }
  return management;
}

/** `regions` in a fixed order, for the lists that the StackSets carry: reordering `regions` changes none. */
export function sortedRegions(config: OrganizationConfig): string[] {
  return [...config.regions].sort();
}

function required(read: ContextReader, key: string, what: string): string {
  const value = contextString(read, key)?.trim();
  if (value === undefined) {
    refuse(key, read(key) ?? null, `required in organization mode: ${what}`);
  }
  return value;
}

function checkAccount(key: string, id: string): void {
  if (!ACCOUNT_ID.test(id)) {
    refuse(key, id, 'must be a 12-digit AWS account id');
  }
}

/** `a,b` (spaces ignored) or a JSON list in cdk.json; no duplicates. */
function list(read: ContextReader, key: string): string[] {
  const raw = read(key);
  if (raw === undefined || raw === null || raw === '') {
    return [];
  }
  const items = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (new Set(items).size !== items.length) {
    refuse(key, items.join(','), 'lists an id twice');
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// Names that the hub and the spokes share: the spokes are synthesized apart from the hub (they
// are StackSet templates), so they find the hub's bus and role by these fixed names.

/** The hub's event bus, in every region of the hub account. */
export const HUB_BUS_NAME = 'flowguard-hub';

/** The hub function's role in `region` (roles are global, so one name per region). */
export function hubRoleName(region: string): string {
  return `flowguard-hub-${region}`;
}

/** The delivery role the spokes create: the one name of every mode (./facts.ts). */
export { DELIVERY_ROLE_NAME } from './facts';
