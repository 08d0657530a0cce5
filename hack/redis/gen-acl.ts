/**
 * Writes deploy/terraform/redis-acl.auto.tf from pkg/redis/acl.ts (the ElastiCache access
 * string of each role). `--check` only compares and exits 1 on drift; `--pool NAME` prints each
 * role's ACL SETUSER rules for a self-managed Redis instead.
 *   npx tsc -p . && node dist/hack/redis/gen-acl.js [--check | --pool NAME]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { aclRules, aclUser, REDIS_ROLES, terraformAcl } from "../../pkg/redis/index.js";
import { packageRoot } from "../../pkg/util/index.js";

export const TERRAFORM_ACL_FILE = "deploy/terraform/redis-acl.auto.tf";

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
  console.log(`wrote ${TERRAFORM_ACL_FILE}`);
  return 0;
}

if (process.argv[1]?.endsWith("gen-acl.js")) process.exitCode = main(process.argv.slice(2));
