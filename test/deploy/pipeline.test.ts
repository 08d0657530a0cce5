/**
 * The golden-AMI pipeline and the module agree: the workflow builds the Dockerfiles and passes
 * only variables the Packer template declares, publishes the AMI where the launch template can
 * resolve it, refreshes the group the module names, and the AMI's agent settings match the
 * launch template's user data.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseHcl } from "./hcl/index.js";
import { evaluate, tfModule } from "./fixtures.js";

const workflow = readFileSync(".github/workflows/ami.yml", "utf8");
const packer = parseHcl(readFileSync("deploy/packer/warmpool-ami.pkr.hcl", "utf8"), "warmpool-ami.pkr.hcl");

describe("golden-AMI pipeline", () => {
  it("builds the repository's Dockerfiles and rebuilds when they, the AMI or the code change", () => {
    const files = [...workflow.matchAll(/-f (\S+)/g)].map((m) => m[1]);
    expect(files).toEqual(["deploy/docker/Dockerfile", "deploy/docker/bridge.Dockerfile"]);
    for (const p of ["deploy/docker/**", "deploy/packer/**", "pkg/**", "cmd/**"])
      expect(workflow).toContain(`"${p}"`);
  });

  it("passes Packer only variables the template declares, and every required one", () => {
    const declared = packer.blocks.filter((b) => b.type === "variable");
    const build = /packer build[\s\S]*?deploy\/packer\n/.exec(workflow)?.[0] ?? "";
    const passed = new Set([...build.matchAll(/-var (\w+)=/g)].map((m) => m[1]));
    expect(passed.size).toBeGreaterThan(1);
    for (const v of passed)
      expect(
        declared.map((b) => b.labels[0]),
        v,
      ).toContain(v);
    for (const v of declared.filter((b) => !b.body.attributes["default"]))
      expect(passed).toContain(v.labels[0]);
  });

  it("starts from the ECS-optimised AL2023 image and encrypts the AMI", () => {
    const src = packer.blocks.find((b) => b.type === "source")!;
    expect(src.labels).toEqual(["amazon-ebs", "ecs_al2023"]);
    expect(src.body.attributes["encrypt_boot"]?.src).toBe("true");
    const filter = src.body.blocks.find((b) => b.type === "source_ami_filter")!;
    expect(filter.body.attributes["filters"]?.src).toMatch(/al2023-ami-ecs-hvm-/);
    expect(filter.body.attributes["owners"]?.src).toBe('["amazon"]');
  });

  it("refreshes the Auto Scaling group the module names and publishes the AMI to an SSM parameter", () => {
    const m = evaluate();
    expect(m.local("asg_name")).toBe("demo-pool");
    expect(workflow).toContain('--auto-scaling-group-name "${{ vars.WARMPOOL_NAME }}-pool"');
    expect(workflow).toMatch(/put-parameter --name "\/warmpool\/\$\{\{ vars.WARMPOOL_NAME \}\}\/ami"/);
    const lt = m.one("aws_launch_template.pool");
    expect(lt["image_id"]).toBe(
      "resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
    );
    const golden = evaluate({ ami_ssm_parameter: "/warmpool/demo/ami" }).one("aws_launch_template.pool");
    expect(golden["image_id"]).toBe("resolve:ssm:/warmpool/demo/ami");
  });

  it("the AMI's ecs.config and the launch template's user data set the same agent behaviour", () => {
    const baked = readFileSync("deploy/packer/files/ecs.config", "utf8");
    const userData = readFileSync(`${tfModule().dir}/templates/user-data.sh.tftpl`, "utf8");
    for (const line of [
      "ECS_WARM_POOLS_CHECK=true",
      "ECS_IMAGE_PULL_BEHAVIOR=prefer-cached",
      "ECS_AWSVPC_BLOCK_IMDS=true",
    ]) {
      expect(baked.split("\n"), line).toContain(line);
      expect(userData.split("\n"), line).toContain(line);
    }
    expect(baked).not.toMatch(/ECS_CLUSTER=/); // the cluster comes from user data at launch
  });

  it("the AMI's root volume is as large as the launch template's", () => {
    const pv = packer.blocks.find((b) => b.type === "variable" && b.labels[0] === "root_volume_size_gb")!;
    const tv = tfModule().variables.get("root_volume_size_gb")!;
    expect(pv.body.attributes["default"]?.src).toBe(tv.body.attributes["default"]?.src);
  });
});

/** What is wrong with the CI and AMI workflows, the CI script and the images' Node, if anything. */
export function pipelineProblems(files: {
  ami: string;
  ci: string;
  ciRun: string;
  dockerfiles: string[];
}): string[] {
  const problems: string[] = [];
  type Job = {
    needs?: string | string[];
    uses?: string;
    steps?: { run?: string }[];
    strategy?: { matrix?: { node?: string[] } };
  };
  const ami = parseYaml(files.ami) as { jobs: Record<string, Job> };
  const ci = parseYaml(files.ci) as { on: Record<string, unknown>; jobs: Record<string, Job> };
  // Every AMI job depends, directly or through another job, on the test job calling ci.yml.
  const gate = Object.entries(ami.jobs).find(([, j]) => j.uses === "./.github/workflows/ci.yml")?.[0];
  if (!gate) problems.push("ami.yml: no job runs ci.yml (the test suite)");
  const needs = (name: string): string[] => {
    const n = ami.jobs[name]?.needs;
    return n === undefined ? [] : Array.isArray(n) ? n : [n];
  };
  const reaches = (name: string, seen = new Set<string>()): boolean =>
    needs(name).some((n) => n === gate || (!seen.has(n) && (seen.add(n), reaches(n, seen))));
  for (const name of Object.keys(ami.jobs)) {
    if (name !== gate && !reaches(name)) problems.push(`ami.yml: job ${name} does not wait for the tests`);
  }
  if (!("workflow_call" in ci.on)) problems.push("ci.yml: cannot be called by ami.yml (no workflow_call)");
  const runs = Object.values(ci.jobs).flatMap((j) => (j.steps ?? []).map((s) => s.run ?? ""));
  for (const cmd of ["npm ci", "npm test"])
    if (!runs.includes(cmd)) problems.push(`ci.yml: no step runs \`${cmd}\``);
  const lts = /^LTS_MAJOR=(\d+)$/m.exec(files.ciRun)?.[1];
  if (!lts) problems.push(".ci/run: no LTS_MAJOR");
  if (!/PATH="\$lts_bin:\$PATH" bash -c 'node --version && npm ci && npm test'/.test(files.ciRun)) {
    problems.push(".ci/run: does not run `npm ci && npm test` on the LTS Node");
  }
  const matrix = Object.values(ci.jobs).flatMap((j) => j.strategy?.matrix?.node ?? []);
  for (const v of ["20", lts])
    if (v && !matrix.includes(v)) problems.push(`ci.yml: Node ${v} is not in the matrix`);
  for (const d of files.dockerfiles) {
    const major = /^ARG NODE_VERSION=(\d+)\./m.exec(d)?.[1];
    if (major !== lts) problems.push(`Dockerfile: NODE_VERSION major ${major} is not the tested LTS ${lts}`);
  }
  return problems;
}

describe("CI and the AMI pipeline", () => {
  const files = {
    ami: workflow,
    ci: readFileSync(".github/workflows/ci.yml", "utf8"),
    ciRun: readFileSync(".ci/run", "utf8"),
    dockerfiles: ["deploy/docker/Dockerfile", "deploy/docker/bridge.Dockerfile"].map((f) =>
      readFileSync(f, "utf8"),
    ),
  };

  it("the AMI is built only after the suite passed; CI runs it on Node 20 and on the LTS the images use", () => {
    expect(pipelineProblems(files)).toEqual([]);
  });

  it("names what is wrong when one side changes", () => {
    const ungated = files.ami.replace("    needs: test\n", "");
    expect(ungated).not.toBe(files.ami);
    expect(pipelineProblems({ ...files, ami: ungated })).toEqual([
      "ami.yml: job images does not wait for the tests",
      "ami.yml: job ami does not wait for the tests",
    ]);
    const old = files.dockerfiles.map((d) => d.replace(/^ARG NODE_VERSION=\d+/m, "ARG NODE_VERSION=20"));
    expect(pipelineProblems({ ...files, dockerfiles: old })).toHaveLength(2);
    expect(
      pipelineProblems({ ...files, ci: files.ci.replace('node: ["20", "24"]', 'node: ["20"]') }),
    ).toEqual(["ci.yml: Node 24 is not in the matrix"]);
  });
});
