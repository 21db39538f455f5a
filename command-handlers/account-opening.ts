/**
 * Every registered user gets a billing account (the workflow: domain/billing/account-opening.ts),
 * run by the core's reactor with this product's account ids.
 */
import { accountOpening as accountOpeningWorkflow } from '../domain/billing/account-opening.js';
import { routeCommands } from '../infra/eventsourcing/command-handling/command-router.js';
import type { EventHandler } from '../infra/eventsourcing/subscriptions/event-handler.js';
import { workflowReactor } from '../infra/eventsourcing/subscriptions/workflow-reactor.js';
import { accountIdOf, type BillingEnvironment } from './billing.js';
import { accountCommands } from './commands.js';

export function accountOpening(env: BillingEnvironment): EventHandler {
  return workflowReactor(env, accountOpeningWorkflow(accountIdOf), { route: routeCommands(accountCommands) });
}
