/**
 * Real Terraform for the deploy tests: a copy of deploy/terraform initialised from the local
 * provider mirror (no registry, no network), on which `terraform test` runs. A machine without
 * terraform or without the mirror fails here with how to get them: never a silent skip.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../pkg/util/index.js";

export const TERRAFORM_HINT =
  "install terraform (HashiCorp's apt repository, or the release zip) and an AWS provider filesystem " +
  "mirror (WARMPOOL_TF_PROVIDER_MIRROR, default /opt/tf-plugins); .ci/run does both";

export function providerMirror(): string {
  const candidates = [
    process.env.WARMPOOL_TF_PROVIDER_MIRROR,
    "/opt/tf-plugins",
    "/usr/share/terraform/plugins",
  ];
  const found = candidates.find((d) => d && existsSync(join(d, "registry.terraform.io", "hashicorp", "aws")));
  if (!found) throw new Error(`no AWS provider mirror found: ${TERRAFORM_HINT}`);
  return found;
}

export interface TerraformCopy {
  dir: string;
  /** Runs terraform; never throws for a non-zero exit (the caller asserts). */
  run(args: string[]): { code: number; out: string };
  remove(): void;
}

/** Copies deploy/terraform (or `source`) to a temp dir and runs `terraform init` there. */
export function terraformCopy(source = join(packageRoot(), "deploy", "terraform")): TerraformCopy {
  const probe = spawnSync("terraform", ["version"], { encoding: "utf8" });
  if (probe.error) throw new Error(`terraform not found: ${TERRAFORM_HINT}`);
  const mirror = providerMirror();
  const root = mkdtempSync(join(tmpdir(), "wp-tf-"));
  const dir = join(root, "terraform");
  cpSync(source, dir, {
    recursive: true,
    filter: (p) => !p.includes(`${join("terraform", ".terraform")}`) && !p.endsWith(".terraform.lock.hcl"),
  });
  const rc = join(root, "terraformrc");
  writeFileSync(
    rc,
    `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/*/*"]\n  }\n}\n`,
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CLI_CONFIG_FILE: rc,
    TF_IN_AUTOMATION: "1",
    TF_DATA_DIR: join(dir, ".terraform"),
  };
  delete env.TF_PLUGIN_CACHE_DIR;
  const run = (args: string[]): { code: number; out: string } => {
    const r = spawnSync("terraform", [...args, "-no-color"], { cwd: dir, env, encoding: "utf8" });
    return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
  };
  const init = run(["init", "-backend=false", "-input=false"]);
  if (init.code !== 0) throw new Error(`terraform init failed:\n${init.out}`);
  return { dir, run, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** `terraform version`'s first line, for messages. */
export function terraformVersion(): string {
  return execFileSync("terraform", ["version"], { encoding: "utf8" }).split("\n")[0] ?? "";
}
