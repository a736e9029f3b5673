#!/usr/bin/env node
/**
 * Entry point of the CDK app (cdk.json runs it). Settings come from the context:
 *   cdk deploy -c dryRun=true -c regions=us-east-1,eu-west-1 -c alarmEmail=secops@example.com
 * See docs/deploy.md.
 */
import { App } from 'aws-cdk-lib';
import { buildFlowGuardApp } from '../lib/app';

const app = new App();
buildFlowGuardApp(app);
app.synth();
