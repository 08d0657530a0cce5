import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../hack/emulator/index.js";

const md5 = (s: string): string => createHash("md5").update(s, "utf8").digest("hex");

/** What an XML parser gives for an element's text (entities and character references resolved). */
const unescape = (s: string): string =>
  s
    .replace(/&#x([0-9a-fA-F]+);/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
const all = (xml: string, tag: string): string[] =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1] as string);
const one = (xml: string, tag: string): string | undefined => all(xml, tag)[0];

// SQS's AWS Query protocol, as SDKs and CLIs from before SQS's move to JSON send it (Debian's
// awscli 2.9 does): a form body with Action and Version=2012-11-05, XML back.
describe("emulator: SQS over the AWS Query protocol", () => {
  let emu: Emulator;
  let url: string;
  beforeAll(async () => {
    emu = await startEmulator({ timeScale: 0.01 });
  });
  afterAll(async () => {
    await emu?.stop();
  });

  async function call(params: Record<string, string>): Promise<{ status: number; xml: string }> {
    const res = await fetch(`${emu.endpoint}/`, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        Authorization:
          "AWS4-HMAC-SHA256 Credential=x/20261206/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: new URLSearchParams({ Version: "2012-11-05", ...params }).toString(),
    });
    return { status: res.status, xml: await res.text() };
  }

  it("CreateQueue with attributes, SendMessage, ReceiveMessage: XML with the body intact and its MD5", async () => {
    const created = await call({
      Action: "CreateQueue",
      QueueName: "query-q",
      "Attribute.1.Name": "VisibilityTimeout",
      "Attribute.1.Value": "60",
    });
    expect(created.status).toBe(200);
    url = one(created.xml, "QueueUrl") as string;
    expect(url).toBe(`${emu.endpoint}/${emu.accountId}/query-q`);
    expect(created.xml).toMatch(
      /^<\?xml version="1.0"\?><CreateQueueResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/">/,
    );

    const body = 'a <tag> & "quotes"\r\nand a CR';
    const sent = await call({ Action: "SendMessage", QueueUrl: url, MessageBody: body });
    expect(one(sent.xml, "MD5OfMessageBody")).toBe(md5(body));

    const got = await call({
      Action: "ReceiveMessage",
      QueueUrl: url,
      MaxNumberOfMessages: "10",
      WaitTimeSeconds: "1",
      "AttributeName.1": "All",
    });
    const msgs = all(got.xml, "Message");
    expect(msgs).toHaveLength(1);
    const m = msgs[0] as string;
    expect(m).not.toContain("\r"); // a raw CR would be folded to LF by an XML parser: MD5 mismatch
    expect(unescape(one(m, "Body") as string)).toBe(body);
    expect(one(m, "MD5OfBody")).toBe(md5(body));
    expect(m).toContain("<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>");
    const attrs = await call({
      Action: "GetQueueAttributes",
      QueueUrl: url,
      "AttributeName.1": "VisibilityTimeout",
    });
    expect(attrs.xml).toContain(
      "<GetQueueAttributesResult><Attribute><Name>VisibilityTimeout</Name><Value>60</Value></Attribute></GetQueueAttributesResult>",
    );

    const handle = unescape(one(m, "ReceiptHandle") as string);
    const del = await call({
      Action: "DeleteMessageBatch",
      QueueUrl: url,
      "DeleteMessageBatchRequestEntry.1.Id": "ok",
      "DeleteMessageBatchRequestEntry.1.ReceiptHandle": handle,
      "DeleteMessageBatchRequestEntry.2.Id": "bad",
      "DeleteMessageBatchRequestEntry.2.ReceiptHandle": "nope",
    });
    expect(del.xml).toContain("<DeleteMessageBatchResultEntry><Id>ok</Id></DeleteMessageBatchResultEntry>");
    expect(del.xml).toMatch(
      /<BatchResultErrorEntry><Id>bad<\/Id><SenderFault>true<\/SenderFault><Code>ReceiptHandleIsInvalid<\/Code>/,
    );
    expect(emu.control.queues().find((q) => q.name === "query-q")).toMatchObject({ visible: 0, inFlight: 0 });
  });

  it("errors are <ErrorResponse> documents with the Query code and the HTTP status", async () => {
    const missing = await call({ Action: "GetQueueUrl", QueueName: "nope" });
    expect(missing.status).toBe(400);
    expect(one(missing.xml, "Code")).toBe("AWS.SimpleQueueService.NonExistentQueue");
    expect(one(missing.xml, "Type")).toBe("Sender");
    const range = await call({ Action: "ReceiveMessage", QueueUrl: url, MaxNumberOfMessages: "11" });
    expect(range.status).toBe(400);
    expect(one(range.xml, "Code")).toBe("InvalidParameterValue");
    expect(one(range.xml, "Message")).toMatch(/MaxNumberOfMessages/);
    const empty = await call({ Action: "DeleteMessageBatch", QueueUrl: url });
    expect(one(empty.xml, "Code")).toBe("AWS.SimpleQueueService.EmptyBatchRequest");
  });

  it("Auto Scaling's Query calls still reach Auto Scaling", async () => {
    const res = await fetch(`${emu.endpoint}/`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "Action=DescribeAutoScalingGroups&Version=2011-01-01",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("<DescribeAutoScalingGroupsResponse");
    expect(emu.control.calls().DescribeAutoScalingGroups?.ok).toBe(1);
    expect(emu.control.sqsCalls().DescribeAutoScalingGroups).toBeUndefined();
  });
});
