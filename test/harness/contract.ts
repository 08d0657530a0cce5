/**
 * Checks a real gateway response against the committed OpenAPI document (api/openapi.json) with
 * Ajv's JSON Schema 2020-12 validator, the dialect OpenAPI 3.1 uses: the operation is found by
 * method and path template, the response by status code, then the content type and the body are
 * checked against what the document declares. Throws naming the operation and every violation.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { packageRoot } from "../../pkg/util/index.js";

interface MediaType {
  schema: object;
}
interface ResponseDoc {
  content?: Record<string, MediaType>;
  headers?: Record<string, unknown>;
}
interface Operation {
  operationId: string;
  responses: Record<string, ResponseDoc>;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

const DOC_ID = "openapi.json";
const doc = JSON.parse(readFileSync(join(packageRoot(), "api", "openapi.json"), "utf8")) as OpenApi;
const ajv = new Ajv2020({ strict: false, allErrors: true });
const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
addFormats(ajv);
ajv.addSchema(doc, DOC_ID);

const templates = Object.keys(doc.paths).map((t) => ({
  template: t,
  re: new RegExp(`^${t.replace(/\{[^}]+\}/g, "[^/]+")}$`),
}));

/** How many responses were checked, per operation and status (a test can show coverage). */
export const checkedResponses = new Map<string, number>();

export function checkResponse(
  method: string,
  path: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  const bare = path.split("?")[0] ?? path;
  const t = templates.find((x) => x.re.test(bare));
  if (!t) {
    // Not an API path: it must be the 404 problem.
    const problem = ajv.getSchema(`${DOC_ID}#/components/schemas/Problem`)!;
    if (status !== 404 || !(contentType ?? "").startsWith("application/problem+json") || !problem(body)) {
      throw new Error(`openapi: ${method} ${bare} is no documented path and got ${status} ${contentType}`);
    }
    return;
  }
  const m = method.toLowerCase();
  const op = doc.paths[t.template]?.[m];
  if (!op) {
    // A method the path does not serve must be a 405 problem; the document lists the 405 on the
    // operations of the path, so check against the first one.
    const any = Object.values(doc.paths[t.template] ?? {})[0];
    if (status !== 405 || !any) throw new Error(`openapi: ${method} ${t.template} is not documented`);
    return checkResponse(Object.keys(doc.paths[t.template]!)[0]!, path, status, contentType, body);
  }
  const res = op.responses[String(status)];
  if (!res) throw new Error(`openapi: ${op.operationId} documents no ${status} response`);
  const media = (contentType ?? "").split(";")[0]!.trim();
  const declared = Object.keys(res.content ?? {});
  if (!declared.includes(media)) {
    throw new Error(
      `openapi: ${op.operationId} ${status} is ${media || "untyped"}, documented as ${declared.join(", ")}`,
    );
  }
  const pointer = `${DOC_ID}#/paths/${t.template.replace(/~/g, "~0").replace(/\//g, "~1")}/${m}/responses/${status}/content/${media.replace(/\//g, "~1")}/schema`;
  const validate = ajv.getSchema(pointer);
  if (!validate) throw new Error(`openapi: cannot compile ${pointer}`);
  if (!validate(body)) {
    throw new Error(
      `openapi: ${op.operationId} ${status} body does not match the document: ${ajv.errorsText(validate.errors)}; body ${JSON.stringify(body)}`,
    );
  }
  const key = `${op.operationId} ${status}`;
  checkedResponses.set(key, (checkedResponses.get(key) ?? 0) + 1);
}

/** fetch, then checkResponse on what came back; returns the response and its parsed body. */
export async function fetchChecked(
  url: string,
  init: RequestInit = {},
): Promise<{ res: Response; body: unknown; text: string }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: the content-type check reports it */
  }
  checkResponse(
    init.method ?? "GET",
    new URL(url).pathname,
    res.status,
    res.headers.get("content-type"),
    body,
  );
  return { res, body, text };
}
