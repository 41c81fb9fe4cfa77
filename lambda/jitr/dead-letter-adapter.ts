import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { PermanentFailureCode } from './errors';
import type { SetAsideCode } from './onboard';

/**
 * Why the function put a message on the dead-letter queue (the `FleetkitFailureCode` attribute): a failure
 * retrying cannot fix, or an event set aside with its certificate left PENDING_ACTIVATION.
 */
export type FleetkitFailureCode = PermanentFailureCode | SetAsideCode;

/** A registration message the function sets aside, with why. */
export interface DeadLetter {
  /** The message body exactly as received, so a redrive hands the same event back to the function. */
  readonly body: string;
  /** The ID of the message the event first arrived in ({@link sourceMessageIdOf}), kept across redrives. */
  readonly messageId: string;
  readonly receiveCount: number;
  readonly code: FleetkitFailureCode;
  /** What failed, for the person reading the queue (the AWS error message, say). */
  readonly detail: string;
}

/** Puts a message on the dead-letter queue; a rejection means it is not there (the caller keeps the original). */
export type DeadLetterSink = (letter: DeadLetter) => Promise<void>;

/** Message attribute names on messages the JITR function dead-letters itself. */
export const DEAD_LETTER_ATTRIBUTES = {
  code: 'FleetkitFailureCode',
  detail: 'FleetkitFailureDetail',
  sourceMessageId: 'FleetkitSourceMessageId',
  receiveCount: 'FleetkitReceiveCount',
} as const;

/**
 * The ID of the message a record began as: a redriven letter carries it in `FleetkitSourceMessageId`; any other
 * record is its own. So the set-aside letter of a redriven event, and a letter of a letter, keep naming the
 * original message (which is also the attempt the JITR function claims a thing with), however often redriven.
 */
export function sourceMessageIdOf(record: Pick<SQSRecord, 'messageId' | 'messageAttributes'>): string {
  return record.messageAttributes?.[DEAD_LETTER_ATTRIBUTES.sourceMessageId]?.stringValue ?? record.messageId;
}

// SQS allows 256 KiB per message, attributes included; the detail is a message for a person, so it is bounded.
const DETAIL_MAX_CHARS = 1_000;

/** The dead-letter queue over SQS. */
export function sqsDeadLetters(client: SQSClient, queueUrl: string): DeadLetterSink {
  return async (letter) => {
    // By code points: cutting a UTF-16 surrogate pair in half leaves a character SQS rejects.
    const characters = Array.from(letter.detail);
    const detail =
      characters.length > DETAIL_MAX_CHARS
        ? `${characters.slice(0, DETAIL_MAX_CHARS - 1).join('')}…`
        : letter.detail;
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: letter.body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.code]: { DataType: 'String', StringValue: letter.code },
          [DEAD_LETTER_ATTRIBUTES.detail]: { DataType: 'String', StringValue: detail || '(no message)' },
          [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: 'String', StringValue: letter.messageId },
          [DEAD_LETTER_ATTRIBUTES.receiveCount]: {
            DataType: 'Number',
            StringValue: String(letter.receiveCount),
          },
        },
      }),
    );
  };
}
