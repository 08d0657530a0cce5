/**
 * SQS on the AWS Query protocol (form in, XML out), which SDKs and CLIs built before SQS moved
 * to JSON (late 2023) still speak — Debian's awscli 2.9 among them. Form parameters are turned
 * into the JSON input the handlers take, and their JSON output into the XML the old model
 * describes (flattened lists: `<Message>`, `<Attribute><Name/><Value/></Attribute>`, …).
 */
import type { SqsError } from "./errors.js";

export const SQS_VERSION = "2012-11-05";
export const SQS_NS = "http://queue.amazonaws.com/doc/2012-11-05/";

/** Query parameters that carry integers in the model. */
const INTEGERS = new Set([
  "DelaySeconds",
  "MaxNumberOfMessages",
  "VisibilityTimeout",
  "WaitTimeSeconds",
  "MaxResults",
]);
/** `Prefix.N` lists → input member. */
const LISTS: Record<string, string> = {
  AttributeName: "AttributeNames",
  MessageSystemAttributeName: "MessageSystemAttributeNames",
  MessageAttributeName: "MessageAttributeNames",
};
/** `Prefix.N.Field` structure lists → input member. */
const ENTRY_LISTS = [
  "DeleteMessageBatchRequestEntry",
  "ChangeMessageVisibilityBatchRequestEntry",
  "SendMessageBatchRequestEntry",
];

const integerOrRaw = (v: string): number | string => (/^-?\d+$/.test(v) ? Number(v) : v);

/** The JSON-protocol input equivalent to a Query request's form. */
export function queryInput(form: URLSearchParams): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const lists: Record<string, [number, string][]> = {};
  const maps: Record<number, { Name?: string; Value?: string }> = {};
  const entries: Record<number, Record<string, unknown>> = {};
  for (const [k, v] of form) {
    if (k === "Action" || k === "Version") continue;
    const parts = k.split(".");
    const [head, n, field] = parts as [string, string | undefined, string | undefined];
    if (parts.length === 1) {
      input[k] = INTEGERS.has(k) ? integerOrRaw(v) : v;
    } else if (parts.length === 2 && head in LISTS) {
      (lists[LISTS[head] as string] ??= []).push([Number(n), v]);
    } else if (parts.length === 3 && head === "Attribute" && (field === "Name" || field === "Value")) {
      (maps[Number(n)] ??= {})[field] = v;
    } else if (parts.length === 3 && ENTRY_LISTS.includes(head) && field) {
      (entries[Number(n)] ??= {})[field] = INTEGERS.has(field) ? integerOrRaw(v) : v;
    }
    // Anything else (tags, message attributes) is not emulated and ignored.
  }
  for (const [name, items] of Object.entries(lists))
    input[name] = items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  const attrs = Object.entries(maps).sort((a, b) => Number(a[0]) - Number(b[0]));
  if (attrs.length)
    input.Attributes = Object.fromEntries(attrs.map(([, a]) => [a.Name ?? "", a.Value ?? ""]));
  const ents = Object.entries(entries).sort((a, b) => Number(a[0]) - Number(b[0]));
  if (ents.length) input.Entries = ents.map(([, e]) => e);
  return input;
}

/** XML text: the five entities, and CR as a reference so a parser does not fold it (the MD5 must hold). */
const esc = (s: string): string =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/\r/g, "&#xD;");

const el = (tag: string, v: unknown): string => (v === undefined ? "" : `<${tag}>${esc(String(v))}</${tag}>`);

const attributes = (m: unknown): string =>
  Object.entries((m ?? {}) as Record<string, string>)
    .map(([k, v]) => `<Attribute>${el("Name", k)}${el("Value", v)}</Attribute>`)
    .join("");

function resultBody(op: string, out: Record<string, unknown>): string | undefined {
  switch (op) {
    case "CreateQueue":
    case "GetQueueUrl":
      return el("QueueUrl", out.QueueUrl);
    case "ListQueues":
      return ((out.QueueUrls ?? []) as string[]).map((u) => el("QueueUrl", u)).join("");
    case "GetQueueAttributes":
      return attributes(out.Attributes);
    case "SendMessage":
      return el("MessageId", out.MessageId) + el("MD5OfMessageBody", out.MD5OfMessageBody);
    case "ReceiveMessage":
      return ((out.Messages ?? []) as Record<string, unknown>[])
        .map(
          (m) =>
            `<Message>${el("MessageId", m.MessageId)}${el("ReceiptHandle", m.ReceiptHandle)}` +
            `${el("MD5OfBody", m.MD5OfBody)}${el("Body", m.Body)}${attributes(m.Attributes)}</Message>`,
        )
        .join("");
    case "DeleteMessageBatch":
    case "ChangeMessageVisibilityBatch": {
      const ok = ((out.Successful ?? []) as { Id: string }[]).map(
        (e) => `<${op}ResultEntry>${el("Id", e.Id)}</${op}ResultEntry>`,
      );
      const failed = ((out.Failed ?? []) as Record<string, unknown>[]).map(
        (e) =>
          `<BatchResultErrorEntry>${el("Id", e.Id)}${el("SenderFault", e.SenderFault)}${el("Code", e.Code)}` +
          `${el("Message", e.Message)}</BatchResultErrorEntry>`,
      );
      return ok.join("") + failed.join("");
    }
    default:
      return undefined; // DeleteMessage, ChangeMessageVisibility, PurgeQueue, …: no result element
  }
}

export function queryResponseXml(op: string, out: Record<string, unknown>, requestId: string): string {
  const body = resultBody(op, out);
  return (
    `<?xml version="1.0"?><${op}Response xmlns="${SQS_NS}">` +
    (body === undefined ? "" : `<${op}Result>${body}</${op}Result>`) +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${op}Response>`
  );
}

export function queryErrorXml(err: SqsError, requestId: string): string {
  return (
    `<?xml version="1.0"?><ErrorResponse xmlns="${SQS_NS}"><Error><Type>${err.fault}</Type>` +
    `${el("Code", err.queryCode)}${el("Message", err.message)}<Detail/></Error>` +
    `<RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}
