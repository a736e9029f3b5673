/**
 * The log-archive settings (docs/deploy.md, "Flow logs into S3: the log archive"): whether the app
 * also synthesizes `FlowGuardLogArchive`, the stack that creates the bucket that `destination`
 * names, in which account and region, and how long the bucket keeps the flow logs. Read from the
 * context (`-c logArchive=true`, `-c logArchiveAccount=...`) and validated like every other setting:
 * a bad value fails the synth with a message that names the key, the value and what is allowed.
 */
import {
  ConfigError,
  ContextReader,
  FlowGuardConfig,
  S3Destination,
  contextBoolean,
  contextNumber,
  contextString,
} from './config';
import { FACTS, REGION } from './facts';

/** The context keys of the log archive. */
export const LOG_ARCHIVE_KEYS = ['logArchive', 'logArchiveAccount', 'logArchiveRegion', 'logArchiveExpirationDays'] as const;

/** The word that keeps the flow logs forever (no expiration). */
export const NEVER = 'never';

/** What each key sets, for error messages. */
const FEEDS: Record<(typeof LOG_ARCHIVE_KEYS)[number], string> = {
  logArchive: 'the FlowGuardLogArchive stack',
  logArchiveAccount: 'the account of FlowGuardLogArchive',
  logArchiveRegion: 'the region of the log-archive bucket',
  logArchiveExpirationDays: 'the log-archive bucket\'s lifecycle',
};

/** Who may deliver flow logs into the bucket (its policy's confused-deputy condition). */
export type LogArchiveSources =
  /** The flowguard account: `aws:SourceAccount`; undefined: the log-archive stack's own account. */
  | { readonly kind: 'account'; readonly account?: string }
  /** Every account of the organization: `aws:SourceOrgID`. */
  | { readonly kind: 'organization'; readonly organizationId: string };

/** The validated log-archive settings. */
export interface LogArchiveConfig {
  /** The account of `FlowGuardLogArchive`; undefined: the deploying account (single-account mode). */
  readonly account?: string;
  /** The bucket's region. */
  readonly region: string;
  /** The bucket and prefix that `destination` names. */
  readonly destination: S3Destination;
  /** The policy's retention: objects are kept at least this long. */
  readonly retentionDays: number;
  /** When objects (and versions that someone deleted or overwrote) expire; undefined: never. */
  readonly expirationDays?: number;
  readonly sources: LogArchiveSources;
}

/** How the app deploys flowguard itself, which decides the log archive's defaults. */
export type LogArchiveMode =
  | { readonly kind: 'account'; readonly defaultRegion: string; readonly account?: string }
  | { readonly kind: 'organization'; readonly defaultRegion: string; readonly organizationId: string };

function refuse(key: (typeof LOG_ARCHIVE_KEYS)[number], value: unknown, allowed: string): never {
  throw new ConfigError(key, value, allowed, FEEDS[key]);
}

/**
 * The log archive that the context asks for, or undefined. `-c logArchive=true` asks for it (in
 * the deploying account, single-account mode), and so does `-c logArchiveAccount=ID` (required in
 * organization mode: the log-archive account).
 */
export function logArchiveFromContext(
  read: ContextReader,
  settings: FlowGuardConfig,
  mode: LogArchiveMode,
): LogArchiveConfig | undefined {
  let asked: boolean | undefined;
  try {
    asked = contextBoolean(read, 'logArchive');
  } catch {
    refuse('logArchive', read('logArchive'), 'must be true/false/1/0/yes/no: true synthesizes FlowGuardLogArchive');
  }
  const account = contextString(read, 'logArchiveAccount')?.trim();
  if (account !== undefined && !new RegExp(FACTS.organization.account_id.pattern).test(account)) {
    refuse('logArchiveAccount', account, 'must be a 12-digit AWS account id');
  }
  if (asked === false && account !== undefined) {
    refuse('logArchive', false, `is false, but logArchiveAccount (${account}) asks for the log archive: drop one of them`);
  }
  const region = contextString(read, 'logArchiveRegion')?.trim();
  const expiration = contextString(read, 'logArchiveExpirationDays')?.trim();
  if (!(asked ?? account !== undefined)) {
    for (const [key, value] of [['logArchiveRegion', region], ['logArchiveExpirationDays', expiration]] as const) {
      if (value !== undefined) {
        refuse(key, value, 'applies to the log archive only: add -c logArchive=true (or -c logArchiveAccount=ID)');
      }
    }
    return undefined;
  }

  const destination = settings.s3Destination;
  if (destination === undefined) {
    refuse(
      'logArchive',
      true,
      'creates the bucket that destination names, and the destination is cloud-watch-logs: set ' +
        '-c destination=s3://BUCKET[/PREFIX] (the bucket\'s name, which the stack creates)',
    );
  }

  if (mode.kind === 'organization' && account === undefined) {
    refuse(
      'logArchive',
      true,
      'needs -c logArchiveAccount=ID in organization mode: the log-archive account that keeps the bucket ' +
        '(its own credentials deploy FlowGuardLogArchive)',
    );
  }
  if (mode.kind === 'account' && account !== undefined && mode.account !== undefined && account !== mode.account) {
    refuse(
      'logArchiveAccount',
      account,
      `must be the deploying account (${mode.account}) in single-account mode, whose flow logs the bucket admits; ` +
        'a log-archive account for many accounts is organization mode\'s (docs/deploy-organization.md)',
    );
  }

  if (region !== undefined && !REGION.test(region)) {
    refuse('logArchiveRegion', region, 'must be an AWS region name, e.g. us-east-1');
  }

  const expirationDays = readExpiration(read, expiration, settings.retentionDays);
  return {
    account: account ?? (mode.kind === 'account' ? mode.account : undefined),
    region: region ?? mode.defaultRegion,
    destination,
    retentionDays: settings.retentionDays,
    expirationDays,
    sources:
      mode.kind === 'organization'
        ? { kind: 'organization', organizationId: mode.organizationId }
        : { kind: 'account', account: account ?? mode.account },
  };
}

/**
 * Days before the bucket's objects expire: `never`, or a whole number of at least the policy's
 * retention (CIS: a year at least), which is also the default. A shorter expiration is refused,
 * naming both settings: it would delete flow logs that the policy says to keep.
 */
function readExpiration(read: ContextReader, text: string | undefined, retentionDays: number): number | undefined {
  if (text !== undefined && text.toLowerCase() === NEVER) {
    return undefined;
  }
  const allowed =
    `must keep the flow logs at least retentionDays (${retentionDays} days, the policy's retention): a whole ` +
    `number of days of at least ${retentionDays}, or "${NEVER}"`;
  let days: number;
  try {
    days = contextNumber(read, 'logArchiveExpirationDays') ?? retentionDays;
  } catch {
    return refuse('logArchiveExpirationDays', read('logArchiveExpirationDays'), allowed);
  }
  if (!Number.isInteger(days) || days < retentionDays) {
    refuse('logArchiveExpirationDays', read('logArchiveExpirationDays'), allowed);
  }
  return days;
}
