#!/usr/bin/env node
/**
 * Entry point of the CDK app (cdk.json runs it). Settings come from the context:
 *   cdk deploy -c dryRun=true -c regions=us-east-1,eu-west-1 -c alarmEmail=secops@example.com
 * See docs/deploy.md. With organization keys (-c organizationId=o-... -c hubAccount=...
 * -c targetOus=...), the organization deployment instead: docs/deploy-organization.md.
 */
import { App } from 'aws-cdk-lib';
import { buildFlowGuardApp } from '../lib/app';
import { buildOrganizationApp } from '../lib/organization-app';
import { organizationRequested } from '../lib/organization-config';

const app = new App();
if (organizationRequested((key) => app.node.tryGetContext(key))) {
  buildOrganizationApp(app);
} else {
  buildFlowGuardApp(app);
}
app.synth();
