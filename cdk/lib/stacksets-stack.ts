/**
 * `FlowGuardStackSets`: the two service-managed StackSets that roll the spoke out to every account
 * of the target OUs, accounts created later included (automatic deployment). Deployed in the hub
 * account (a delegated administrator for StackSets, or the management account), home region
 * (`stackSetRegion`, fixed for the life of the deployment: the StackSets are regional, and new ones
 * in another region would create the spokes' named roles again in every account). Nothing here
 * depends on the order of `regions`.
 *
 * The templates are the spoke stacks of the `FlowGuardSpokes` stage, synthesized by the same app
 * and embedded as TemplateBody (CfnStackSet), not uploaded as assets: the spoke has none, so no
 * bucket has to be readable from every account, and `cdk diff` shows every change to them.
 */
import { Lazy, Stack, StackProps, Stage } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import { Construct } from 'constructs';
import { OrganizationConfig, excludedAccounts, sortedRegions } from './organization-config';

/** CloudFormation's limit on a TemplateBody (CreateStackSet), in bytes. */
export const TEMPLATE_BODY_LIMIT = 51_200;

/** The StackSets' names. */
export const SPOKE_ACCOUNT_STACKSET = 'flowguard-spoke-account';
export const SPOKE_REGION_STACKSET = 'flowguard-spoke-region';

export interface StackSetsStackProps extends StackProps {
  readonly organization: OrganizationConfig;
  /** The stage that holds the spoke stacks, and their names in it. */
  readonly spokes: Stage;
  readonly spokeAccountStack: Stack;
  readonly spokeRegionStack: Stack;
}

export class StackSetsStack extends Stack {
  public readonly accountStackSet: cloudformation.CfnStackSet;
  public readonly regionStackSet: cloudformation.CfnStackSet;

  constructor(scope: Construct, id: string, props: StackSetsStackProps) {
    super(scope, id, props);
    const org = props.organization;
    this.accountStackSet = this.stackSet('SpokeAccountStackSet', {
      name: SPOKE_ACCOUNT_STACKSET,
      description: 'flowguard spoke, once per account: the member role that the hub assumes, and the delivery role',
      regions: [org.homeRegion],
      template: () => templateBody(props.spokes, props.spokeAccountStack),
      org,
    });
    this.regionStackSet = this.stackSet('SpokeRegionStackSet', {
      name: SPOKE_REGION_STACKSET,
      description: 'flowguard spoke, every region: rules that forward the trigger events to the hub\'s bus',
      regions: sortedRegions(org),
      template: () => templateBody(props.spokes, props.spokeRegionStack),
      org,
    });
  }

  private stackSet(
    id: string,
    props: { name: string; description: string; regions: string[]; template: () => string; org: OrganizationConfig },
  ): cloudformation.CfnStackSet {
    const excluded = excludedAccounts(props.org);
    return new cloudformation.CfnStackSet(this, id, {
      stackSetName: props.name,
      description: props.description,
      permissionModel: 'SERVICE_MANAGED',
      callAs: props.org.callAs,
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: props.org.retainOnRemoval },
      // The member role and the delivery role have fixed names.
      capabilities: ['CAPABILITY_NAMED_IAM'],
      // Operations queue up instead of failing while another one runs (a new account's deployment).
      managedExecution: { Active: true },
      operationPreferences: {
        regionConcurrencyType: 'PARALLEL',
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      stackInstancesGroup: [
        {
          regions: props.regions,
          deploymentTargets: {
            organizationalUnitIds: props.org.targetOus,
            ...(excluded.length > 0 ? { accountFilterType: 'DIFFERENCE', accounts: excluded } : {}),
          },
        },
      ],
      templateBody: Lazy.string({ produce: props.template }),
    });
  }
}

/**
 * The synthesized template of a spoke stack, as JSON. The app synthesizes nested stages before its
 * own stacks, so the stage's assembly (cached by `Stage.synth`) is ready when this is resolved.
 */
export function templateBody(spokes: Stage, stack: Stack): string {
  const template = spokes.synth().getStackArtifact(stack.artifactId).template;
  const body = JSON.stringify(template);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > TEMPLATE_BODY_LIMIT) {
    throw new Error(
      `the spoke template ${stack.stackName} is ${bytes} bytes, over CloudFormation's TemplateBody limit of ` +
        `${TEMPLATE_BODY_LIMIT}: fewer regions, or an S3 TemplateURL, are needed`,
    );
  }
  return body;
}
