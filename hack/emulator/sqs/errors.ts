/**
 * SQS errors on the AWS JSON 1.0 wire. SQS is "awsQueryCompatible": the body names the modeled
 * shape (`{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":…}`) and the header
 * `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender` carries the code the
 * old Query protocol used, which the SDKs and the CLI report as the error's `Code`.
 * Codes and HTTP statuses follow the SQS service model (botocore sqs/2012-11-05, @aws-sdk/client-sqs).
 */
import { AwsError } from "../errors.js";

export class SqsError extends AwsError {
  constructor(
    /** The modeled shape name, e.g. QueueDoesNotExist. */
    readonly shape: string,
    /** The Query-era code, e.g. AWS.SimpleQueueService.NonExistentQueue. */
    readonly queryCode: string,
    message: string,
    status = 400,
  ) {
    super(shape, message, status);
  }

  get fault(): "Sender" | "Receiver" {
    return this.status >= 500 ? "Receiver" : "Sender";
  }

  wire(): { body: { __type: string; message: string }; headers: Record<string, string> } {
    return {
      body: { __type: `com.amazonaws.sqs#${this.shape}`, message: this.message },
      headers: { "x-amzn-query-error": `${this.queryCode};${this.fault}` },
    };
  }
}

export const queueDoesNotExist = (): SqsError =>
  new SqsError(
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "The specified queue does not exist.",
  );

export const invalidParameterValue = (message: string): SqsError =>
  new SqsError("InvalidParameterValueException", "InvalidParameterValue", message);

export const missingParameter = (name: string): SqsError =>
  new SqsError("MissingParameter", "MissingParameter", `The request must contain the parameter ${name}.`);

export const invalidAttributeName = (name: string): SqsError =>
  new SqsError("InvalidAttributeName", "InvalidAttributeName", `Unknown Attribute ${name}.`);

export const invalidAttributeValue = (name: string, reason: string): SqsError =>
  new SqsError(
    "InvalidAttributeValue",
    "InvalidAttributeValue",
    `Invalid value for the parameter ${name}. Reason: ${reason}`,
  );

export const receiptHandleIsInvalid = (handle: string): SqsError =>
  new SqsError(
    "ReceiptHandleIsInvalid",
    "ReceiptHandleIsInvalid",
    `The input receipt handle "${handle}" is not a valid receipt handle.`,
    404,
  );

export const messageNotInflight = (): SqsError =>
  new SqsError(
    "MessageNotInflight",
    "AWS.SimpleQueueService.MessageNotInflight",
    "Message does not exist or is not available for visibility timeout change.",
  );

export const queueNameExists = (attr: string): SqsError =>
  new SqsError(
    "QueueNameExists",
    "QueueAlreadyExists",
    `A queue already exists with the same name and a different value for attribute ${attr}`,
  );

export const purgeQueueInProgress = (name: string): SqsError =>
  new SqsError(
    "PurgeQueueInProgress",
    "AWS.SimpleQueueService.PurgeQueueInProgress",
    `Only one PurgeQueue operation on ${name} is allowed every 60 seconds.`,
    403,
  );

export const emptyBatchRequest = (): SqsError =>
  new SqsError(
    "EmptyBatchRequest",
    "AWS.SimpleQueueService.EmptyBatchRequest",
    "There should be at least one SendMessageBatchRequestEntry in the request.",
  );

export const tooManyEntries = (n: number): SqsError =>
  new SqsError(
    "TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    `Maximum number of entries per request are 10. You have sent ${n}.`,
  );

export const batchEntryIdsNotDistinct = (id: string): SqsError =>
  new SqsError(
    "BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    `Id ${id} repeated.`,
  );

export const invalidBatchEntryId = (): SqsError =>
  new SqsError(
    "InvalidBatchEntryId",
    "AWS.SimpleQueueService.InvalidBatchEntryId",
    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
  );

export const unknownOperation = (target: string): SqsError =>
  new SqsError(
    "UnknownOperationException",
    "InvalidAction",
    `The action ${target} is not valid for this web service.`,
  );

export const serialization = (message: string): SqsError =>
  new SqsError("SerializationException", "MalformedQueryString", message);

export const internalError = (message = "We encountered an internal error. Please try again."): SqsError =>
  new SqsError("InternalError", "InternalError", message, 500);

export const serviceUnavailable = (): SqsError =>
  new SqsError(
    "ServiceUnavailable",
    "ServiceUnavailable",
    "The request has failed due to a temporary failure of the server.",
    503,
  );
