/**
 * The organization deployment (docs/deploy-organization.md): in the hub account, one
 * `FlowGuardHub-<region>` per region and `FlowGuardStackSets` in the home region (`stackSetRegion`);
 * the spoke templates in the `FlowGuardSpokes` stage (synthesized, never deployed by `cdk deploy`
 * itself: the StackSets deploy them); and, when the management account is named, its spoke as plain
 * stacks (service-managed StackSets skip the management account), the hub's own when the hub is the
 * management account and in scope; with `-c logArchiveAccount=...`,
 * `FlowGuardLogArchive`, the bucket of an S3 destination, in the log-archive account.
 *
 *   cdk deploy -c organizationId=o-... -c hubAccount=... -c targetOus=r-... -c regions=... --all
 */
import { App, BootstraplessSynthesizer, Stack, Stage } from 'aws-cdk-lib';
import { AppEnvironment, checkWithCdkNag, createLogArchiveStack } from './app';
import { logArchiveFromContext } from './log-archive-config';
import { LogArchiveStack } from './log-archive-stack';
import { HubStack } from './hub-stack';
import { OrganizationConfig, managementSpokeAccount, organizationFromContext } from './organization-config';
import { SpokeAccountStack, SpokeRegionStack } from './spoke-stacks';
import { StackSetsStack } from './stacksets-stack';

/** Everything the organization app made, for tests and callers. */
export interface OrganizationApp {
  readonly config: OrganizationConfig;
  readonly hubs: HubStack[];
  readonly stackSets: StackSetsStack;
  /** The StackSets' templates (in the FlowGuardSpokes stage). */
  readonly spokeAccount: SpokeAccountStack;
  readonly spokeRegion: SpokeRegionStack;
  /** The management account's spoke: its account stack, then one stack per region. */
  readonly managementSpokes: Stack[];
  /** `FlowGuardLogArchive`, in the log-archive account, with `-c logArchiveAccount=...`. */
  readonly logArchive?: LogArchiveStack;
}

const SPOKE_DESCRIPTION = 'flowguard spoke (organization mode): ';

export function buildOrganizationApp(
  app: App,
  environment: AppEnvironment = { region: process.env.CDK_DEFAULT_REGION },
): OrganizationApp {
  const read = (key: string): unknown => app.node.tryGetContext(key);
  const config = organizationFromContext(read, environment.region);
  const lambdaZip = read('lambdaZip');

  const hubs = config.regions.map(
    (region) =>
      new HubStack(app, `FlowGuardHub-${region}`, {
        env: { account: config.hubAccount, region },
        description: 'flowguard hub: keeps VPC flow logging on in every account of the organization',
        organization: config,
        lambdaZip: typeof lambdaZip === 'string' && lambdaZip !== '' ? lambdaZip : undefined,
      }),
  );

  // The StackSets' templates: environment-agnostic (one template for every account and region),
  // with no bootstrap version check (member accounts are not bootstrapped) and no CDK metadata.
  const spokes = new Stage(app, 'FlowGuardSpokes');
  const agnostic = () => ({ synthesizer: new BootstraplessSynthesizer(), analyticsReporting: false, organization: config });
  const spokeAccount = new SpokeAccountStack(spokes, 'SpokeAccount', {
    ...agnostic(),
    description: `${SPOKE_DESCRIPTION}the member role and the delivery role of this account`,
  });
  const spokeRegion = new SpokeRegionStack(spokes, 'SpokeRegion', {
    ...agnostic(),
    description: `${SPOKE_DESCRIPTION}forwards the trigger events of this region to the hub`,
  });

  const stackSets = new StackSetsStack(app, 'FlowGuardStackSets', {
    env: { account: config.hubAccount, region: config.homeRegion },
    description: 'flowguard: the StackSets that deploy the spoke to every account of the target OUs',
    organization: config,
    spokes,
    spokeAccountStack: spokeAccount,
    spokeRegionStack: spokeRegion,
  });
  // The hubs' buses exist before any spoke forwards to them.
  hubs.forEach((hub) => stackSets.addStackDependency(hub));

  // The management account's spoke, as plain stacks (StackSets never deploy there): for a member
  // management account, and for a hub in the management account that is in scope, whose own
  // account needs its delivery role and the forwarding of its events to its bus like any other.
  const managementSpokes: Stack[] = [];
  const management = managementSpokeAccount(config);
  if (management !== undefined) {
    managementSpokes.push(
      new SpokeAccountStack(app, 'FlowGuardManagementSpoke', {
        env: { account: management, region: config.homeRegion },
        description: `${SPOKE_DESCRIPTION}the management account's member role and delivery role`,
        organization: config,
      }),
      ...config.regions.map((region, i) => {
        const spoke = new SpokeRegionStack(app, `FlowGuardManagementSpoke-${region}`, {
          env: { account: management, region },
          description: `${SPOKE_DESCRIPTION}forwards the management account's trigger events to the hub`,
          organization: config,
        });
        // In the hub's own account (same credentials), its bus first. Not for another account: the
        // dependency would make `cdk deploy 'FlowGuardManagementSpoke*'` deploy the hubs too.
        if (management === config.hubAccount) {
          spoke.addStackDependency(hubs[i], 'its rules forward to the hub bus of this region');
        }
        return spoke;
      }),
    );
  }
  // The bucket lives in the log-archive account: deployed with that account's credentials, before
  // the hubs (no stack dependency, which would make `cdk deploy 'FlowGuardHub-*'` deploy it too).
  const archive = logArchiveFromContext(read, config.settings, {
    kind: 'organization',
    defaultRegion: config.homeRegion,
    organizationId: config.organizationId,
  });
  const logArchive = archive === undefined ? undefined : createLogArchiveStack(app, archive);
  checkWithCdkNag(app);
  return { config, hubs, stackSets, spokeAccount, spokeRegion, managementSpokes, logArchive };
}
