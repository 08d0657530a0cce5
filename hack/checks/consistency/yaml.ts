/**
 * Reads the rule, alert-test and scrape files with the `yaml` package, in YAML's failsafe schema:
 * every scalar stays a string (`for: 5m`, `values: "1+0x10"`), as the checks compare them as
 * text. Several documents, anchors/aliases and duplicate keys are refused: the files need none,
 * and a reader of one file should not have to resolve another part of it.
 */
import { isAlias, parseAllDocuments, visit } from "yaml";

export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlError extends Error {}

export function parseYaml(source: string): YamlValue {
  const docs = parseAllDocuments(source, { schema: "failsafe", uniqueKeys: true });
  if (!Array.isArray(docs)) throw new YamlError("not a YAML stream");
  if (docs.length > 1) throw new YamlError(`${docs.length} documents; expected one`);
  const doc = docs[0];
  if (!doc) return null;
  const problem = doc.errors[0];
  if (problem) throw new YamlError(problem.message);
  let anchored = false;
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node) || ("anchor" in node && node.anchor)) anchored = true;
    },
  });
  if (anchored) throw new YamlError("anchors and aliases are not used in these files");
  return (doc.toJS() ?? null) as YamlValue;
}
