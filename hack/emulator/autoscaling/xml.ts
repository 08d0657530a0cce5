/**
 * The AWS Query protocol's two halves: flattened form parameters in (`Names.member.1=…`,
 * `Policy.Field=…`) and XML out, with `<member>` wrapping list items and ISO-8601 times.
 */
export type XmlValue = string | number | boolean | Date | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [tag: string]: XmlValue;
}

const escape = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function render(tag: string, v: XmlValue): string {
  if (v === undefined) return "";
  if (Array.isArray(v)) return `<${tag}>${v.map((m) => render("member", m)).join("")}</${tag}>`;
  if (v instanceof Date) return `<${tag}>${v.toISOString()}</${tag}>`;
  if (typeof v === "object") {
    const inner = Object.entries(v)
      .map(([k, c]) => render(k, c))
      .join("");
    return `<${tag}>${inner}</${tag}>`;
  }
  return `<${tag}>${escape(String(v))}</${tag}>`;
}

export const AUTOSCALING_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/";

/** `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…` ({{RequestId}} filled by the server). */
export function queryResponse(action: string, result: XmlNode | undefined): string {
  const body = result ? render(`${action}Result`, result) : "";
  return (
    `<${action}Response xmlns="${AUTOSCALING_NS}">${body}` +
    `<ResponseMetadata><RequestId>{{RequestId}}</RequestId></ResponseMetadata></${action}Response>`
  );
}

export function queryError(code: string, message: string, status: number, requestId: string): string {
  const type = status >= 500 ? "Receiver" : "Sender";
  return (
    `<ErrorResponse xmlns="${AUTOSCALING_NS}"><Error><Type>${type}</Type><Code>${escape(code)}</Code>` +
    `<Message>${escape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** `Prefix.member.N` values in order. */
export function memberList(p: URLSearchParams, prefix: string): string[] {
  const out: [number, string][] = [];
  const re = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.member\\.(\\d+)$`);
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (m) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

/** `Prefix.member.N.Field` structures in order. */
export function memberStructs(p: URLSearchParams, prefix: string): Record<string, string>[] {
  const items = new Map<number, Record<string, string>>();
  const re = new RegExp(`^${prefix.replace(/\./g, "\\.")}\\.member\\.(\\d+)\\.(.+)$`);
  for (const [k, v] of p) {
    const m = re.exec(k);
    if (!m) continue;
    const n = Number(m[1]);
    const item = items.get(n) ?? {};
    item[m[2] as string] = v;
    items.set(n, item);
  }
  return [...items.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}
