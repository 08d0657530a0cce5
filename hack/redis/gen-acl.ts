/**
 * Writes deploy/terraform/redis-acl.auto.tf from pkg/redis/acl.ts (the ElastiCache access
 * string of each role) and the role → permissions table of docs/redis-acl.md. `--check` only compares and exits 1 on drift; `--pool NAME` prints each
 * role's ACL SETUSER rules for a self-managed Redis instead.
 *   npx tsc -p . && node dist/hack/redis/gen-acl.js [--check | --pool NAME]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aclMarkdownTable, aclRules, aclUser, REDIS_ROLES, terraformAcl } from "../../pkg/redis/index.js";
import { packageRoot } from "../../pkg/util/index.js";

export const TERRAFORM_ACL_FILE = "deploy/terraform/redis-acl.auto.tf";
export const DOCS_FILE = "docs/redis-acl.md";

/** docs/redis-acl.md with its generated table replaced (run prettier on it afterwards). */
function withTable(doc: string): string {
  const start = doc.indexOf("<!-- generated:");
  const end = doc.indexOf("<!-- end generated -->");
  if (start < 0 || end < 0) throw new Error(`${DOCS_FILE}: the generated-table markers are missing`);
  const open = doc.indexOf("\n", start) + 1;
  return `${doc.slice(0, open)}\n${aclMarkdownTable()}\n${doc.slice(end)}`;
}

function main(argv: string[]): number {
  const poolAt = argv.indexOf("--pool");
  if (poolAt >= 0) {
    const pool = argv[poolAt + 1] ?? "";
    for (const role of REDIS_ROLES)
      console.log(`ACL SETUSER ${aclUser(role)} reset on ><password> ${aclRules(role, pool).join(" ")}`);
    return 0;
  }
  const path = join(packageRoot(), TERRAFORM_ACL_FILE);
  const want = terraformAcl();
  if (argv.includes("--check")) {
    const have = readFileSync(path, "utf8");
    if (have === want) return 0;
    console.error(`${TERRAFORM_ACL_FILE} is out of date: run node dist/hack/redis/gen-acl.js`);
    return 1;
  }
  writeFileSync(path, want);
  const docs = join(packageRoot(), DOCS_FILE);
  writeFileSync(docs, withTable(readFileSync(docs, "utf8")));
  console.log(`wrote ${TERRAFORM_ACL_FILE} and the table of ${DOCS_FILE} (run prettier --write on it)`);
  return 0;
}

if (process.argv[1]?.endsWith("gen-acl.js")) process.exitCode = main(process.argv.slice(2));
