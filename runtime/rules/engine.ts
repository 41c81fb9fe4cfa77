/**
 * The local rules engine: the topic rules of the synthesized templates (`AWS::IoT::TopicRule`) run on the
 * runtime's message bus, as AWS IoT rules see messages arriving at the message broker. Any rule runs the same
 * way, whichever capability declared it: its SQL is parsed when it is added (./sql.ts; what the runtime cannot
 * run fails then, naming the rule), its FROM filter subscribes it to the bus, and each matching message runs its
 * actions.
 *
 * Actions: `sqs` (SendMessage to the queue in moto; the queue's event source then polls at once), `lambda` (an
 * asynchronous invocation of the in-process function: the action succeeds once the function is found, as
 * Lambda's acceptance of an event completes it on AWS) and `republish` (to the bus and the broker, the topic a
 * substitution template). When an action fails, the rule's error action gets AWS's error message:
 * `{ ruleName, topic, cloudwatchTraceId, clientId, base64OriginalPayload, failures: [{ failedAction,
 * failedResource, errorMessage }] }`, which is what the JITR function unwraps after a redrive. Basic Ingest
 * (`$aws/rules/<ruleName>/<topic>`) reaches only the named rule, matched on the topic after the prefix.
 *
 * Not modelled: an asynchronous invocation's own retries and on-failure destination (a handler error is logged),
 * the rule's IAM role, other action types (reported when the rule is added).
 *
 * Development and test tooling: never deployed.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-rules.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/rule-error-handling.html
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/iot-basic-ingest.html
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { topicMatches } from '../../core/mqtt/topics';
import { FleetkitError } from '../../core/errors';
import type { BusMessage, MessageBus } from '../bus';
import type { FunctionRegistry } from '../functions';
import type { RuntimeLog } from '../log';
import {
  evaluateRuleSql,
  parseRuleSql,
  RuleSqlError,
  SQL_VERSIONS,
  substitute,
  type SqlMessageContext,
  type SqlStatement,
} from './sql';

/** An action the local rules engine carries out. */
export type RuleAction =
  | { readonly kind: 'sqs'; readonly queueUrl: string; readonly useBase64: boolean }
  | { readonly kind: 'lambda'; readonly functionArn: string }
  | { readonly kind: 'republish'; readonly topic: string; readonly qos: 0 | 1 };

/** A topic rule. */
export interface TopicRule {
  readonly name: string;
  readonly sql: string;
  /** `awsIotSqlVersion`. @default '2015-10-08', as AWS IoT */
  readonly sqlVersion?: string;
  readonly disabled?: boolean;
  readonly actions: readonly RuleAction[];
  readonly errorAction?: RuleAction;
}

/** A rule the runtime cannot run: its SQL or its SQL version. */
export class RuleDefinitionError extends FleetkitError {
  override readonly name = 'RuleDefinitionError';
}

/** What a rule did with one message, for tests and the live view. */
export interface RuleOutcome {
  readonly rule: string;
  readonly topic: string;
  /** Actions that failed, with why; empty when all succeeded. */
  readonly failures: readonly ActionFailure[];
  /** Whether the error action ran and succeeded (undefined when it did not run). */
  readonly errorActionDelivered?: boolean;
}

/** An action's failure, as AWS reports it to the error action. */
export interface ActionFailure {
  readonly failedAction: string;
  readonly failedResource: string;
  readonly errorMessage: string;
}

/** What the engine needs. */
export interface TopicRuleEngineDependencies {
  readonly bus: MessageBus;
  readonly sqs: SQSClient;
  readonly functions: FunctionRegistry;
  readonly log: RuntimeLog;
  /** Called after an SQS action sent a message, with the queue's URL. */
  readonly onQueueMessage?: (queueUrl: string) => void;
}

interface ActiveRule {
  readonly rule: TopicRule;
  readonly statement: SqlStatement;
  readonly unsubscribe: () => void;
}

/** The rules engine. */
export class TopicRuleEngine {
  private readonly active = new Map<string, ActiveRule>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly listeners = new Set<(outcome: RuleOutcome) => void>();

  constructor(private readonly deps: TopicRuleEngineDependencies) {}

  /**
   * Adds a rule and subscribes it to its FROM filter (a disabled rule is kept and sees nothing).
   * @throws {RuleDefinitionError} naming the rule when its SQL or SQL version is not supported, or the name is
   *   taken.
   */
  add(rule: TopicRule): void {
    if (this.active.has(rule.name)) throw new RuleDefinitionError(`rule ${rule.name} exists already`);
    const version = rule.sqlVersion ?? '2015-10-08';
    if (!(SQL_VERSIONS as readonly string[]).includes(version)) {
      throw new RuleDefinitionError(
        `rule ${rule.name}: awsIotSqlVersion ${JSON.stringify(version)} is not one of ${SQL_VERSIONS.join(', ')}`,
      );
    }
    let statement: SqlStatement;
    try {
      statement = parseRuleSql(rule.sql);
    } catch (error) {
      if (!(error instanceof RuleSqlError)) throw error;
      throw new RuleDefinitionError(`rule ${rule.name}: ${error.message} in ${JSON.stringify(rule.sql)}`, {
        cause: error,
      });
    }
    for (const action of [...rule.actions, ...(rule.errorAction ? [rule.errorAction] : [])]) {
      if (action.kind !== 'republish') continue;
      try {
        substitute(action.topic, Buffer.from('{}'), { topic: 'probe', timestamp: 0 });
      } catch (error) {
        throw new RuleDefinitionError(
          `rule ${rule.name}: republish topic ${action.topic}: ${(error as Error).message}`,
        );
      }
    }
    const unsubscribers: (() => void)[] = [];
    if (!rule.disabled) {
      const listener = (message: BusMessage) => this.track(this.run(rule.name, message));
      unsubscribers.push(this.deps.bus.subscribe(statement.topicFilter, listener));
      unsubscribers.push(this.deps.bus.subscribe(`$aws/rules/${rule.name}/#`, listener));
    }
    this.active.set(rule.name, {
      rule,
      statement,
      unsubscribe: () => unsubscribers.forEach((unsubscribe) => unsubscribe()),
    });
  }

  /** The rules added, in order. */
  rules(): TopicRule[] {
    return [...this.active.values()].map((active) => active.rule);
  }

  /** Calls `listener` after each message a rule matched. @returns a function that removes it. */
  onOutcome(listener: (outcome: RuleOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Unsubscribes every rule and waits for the messages in flight. */
  async stop(): Promise<void> {
    for (const active of this.active.values()) active.unsubscribe();
    this.active.clear();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return work;
  }

  private async run(ruleName: string, message: BusMessage): Promise<void> {
    const active = this.active.get(ruleName);
    if (active === undefined) return;
    const { rule, statement } = active;
    const prefix = `$aws/rules/${rule.name}/`;
    let topic = message.topic;
    if (message.basicIngest === true || topic.startsWith(prefix)) {
      // Basic Ingest reaches only the rule it names; the FROM filter applies to the topic after the prefix.
      if (!topic.startsWith(prefix)) return;
      topic = topic.slice(prefix.length);
      if (!topicMatches(statement.topicFilter, topic)) return;
    }
    const context: SqlMessageContext = {
      topic,
      timestamp: Date.now(),
      ...(message.source.kind === 'device' && {
        clientId: message.source.clientId,
        principal: message.source.principal,
      }),
    };
    const result = evaluateRuleSql(statement, message.payload, context);
    if (!result.matched) return;
    const failures: ActionFailure[] = [];
    for (const action of rule.actions) {
      try {
        await this.perform(rule, action, result.payload, result.json, message.payload, context);
      } catch (error) {
        failures.push({
          failedAction: actionName(action),
          failedResource: resourceOf(action),
          errorMessage: `${(error as Error).message ?? String(error)}. Message arrived on: ${topic}`,
        });
      }
    }
    let errorActionDelivered: boolean | undefined;
    if (failures.length > 0) {
      this.deps.log('warn', 'rule action failed', { rule: rule.name, topic, failures });
      if (rule.errorAction !== undefined) {
        const errorMessage = {
          ruleName: rule.name,
          topic,
          cloudwatchTraceId: randomUUID(),
          clientId: context.clientId ?? '',
          base64OriginalPayload: message.payload.toString('base64'),
          failures,
        };
        const bytes = Buffer.from(JSON.stringify(errorMessage), 'utf8');
        try {
          await this.perform(rule, rule.errorAction, bytes, errorMessage, bytes, context);
          errorActionDelivered = true;
        } catch (error) {
          errorActionDelivered = false;
          this.deps.log('error', 'rule error action failed too; the message is lost, as on AWS', {
            rule: rule.name,
            topic,
            error: String(error),
          });
        }
      }
    }
    const outcome: RuleOutcome = {
      rule: rule.name,
      topic,
      failures,
      ...(errorActionDelivered !== undefined && { errorActionDelivered }),
    };
    for (const listener of this.listeners) listener(outcome);
  }

  private async perform(
    rule: TopicRule,
    action: RuleAction,
    payload: Buffer,
    json: unknown,
    original: Buffer,
    context: SqlMessageContext,
  ): Promise<void> {
    switch (action.kind) {
      case 'sqs': {
        await this.deps.sqs.send(
          new SendMessageCommand({
            QueueUrl: action.queueUrl,
            MessageBody: action.useBase64 ? payload.toString('base64') : payload.toString('utf8'),
          }),
        );
        this.deps.onQueueMessage?.(action.queueUrl);
        return;
      }
      case 'lambda': {
        if (!this.deps.functions.has(action.functionArn)) {
          throw new Error(`Function ${action.functionArn} not found (ResourceNotFoundException)`);
        }
        // Asynchronous: the action is done once the event is accepted; the handler's outcome is the function's.
        const event = json ?? payload.toString('utf8');
        this.track(
          this.deps.functions.invoke(action.functionArn, event).then(
            () => undefined,
            (error: unknown) =>
              this.deps.log('error', 'function invoked by a rule failed (asynchronous: no retry locally)', {
                rule: rule.name,
                function: action.functionArn,
                error: String(error),
              }),
          ),
        );
        return;
      }
      case 'republish':
        await this.deps.bus.publish(substitute(action.topic, original, context), payload, action.qos);
        return;
    }
  }
}

function actionName(action: RuleAction): string {
  return action.kind === 'sqs' ? 'SqsAction' : action.kind === 'lambda' ? 'LambdaAction' : 'RepublishAction';
}

function resourceOf(action: RuleAction): string {
  return action.kind === 'sqs'
    ? action.queueUrl
    : action.kind === 'lambda'
      ? action.functionArn
      : action.topic;
}
