/**
 * The deploy matches the code, read from the real files: every port a process listens on (its
 * flag default) is the one Terraform's variable defaults to, its task definition maps, its
 * environment sets, its security group opens (deploy/terraform/tests/ports.tftest.hcl, run by
 * real `terraform test` on a mock AWS provider) and Prometheus scrapes (deploy/prometheus). Each
 * check is also run on a copy changed on one side only, and must fail there.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import yargs, { type CommandModule } from "yargs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayCommand } from "../../cmd/gateway.js";
import { reconcilerCommand } from "../../cmd/reconciler.js";
import { packageRoot } from "../../pkg/util/index.js";
import { terraformCopy, type TerraformCopy } from "./terraform.js";

interface CodePorts {
  gatewayApi: number;
  gatewayMetrics: number;
  reconcilerMetrics: number;
}

/** A command's parsed options with nothing given: its flag defaults. */
async function flagDefaults(
  cmd: CommandModule<object, never>,
  required: string[],
): Promise<Record<string, unknown>> {
  let got: Record<string, unknown> = {};
  await yargs([String(cmd.command), ...required])
    .command({ ...cmd, handler: (a: Record<string, unknown>) => void (got = a) } as CommandModule)
    .exitProcess(false)
    .parseAsync();
  return got;
}

async function codePorts(): Promise<CodePorts> {
  const gw = await flagDefaults(gatewayCommand as CommandModule<object, never>, ["--pool", "p"]);
  const rec = await flagDefaults(reconcilerCommand as CommandModule<object, never>, [
    "--pool",
    "p",
    "--cluster",
    "c",
    "--task-definition",
    "t",
  ]);
  return {
    gatewayApi: Number(gw.port),
    gatewayMetrics: Number(gw["metrics-port"]),
    reconcilerMetrics: Number(rec["metrics-port"]),
  };
}

/** Ports of every static target of each scrape job. */
function scrapePorts(yamlText: string): Record<string, number[]> {
  const doc = parseYaml(yamlText) as {
    scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
  };
  const out: Record<string, number[]> = {};
  for (const job of doc.scrape_configs) {
    out[job.job_name] = (job.static_configs ?? []).flatMap((s) =>
      s.targets.map((t) => Number(t.split(":").pop())),
    );
  }
  return out;
}

/** What disagrees between the processes' flags and Prometheus' scrape targets. */
function scrapeProblems(code: CodePorts, scrape: Record<string, number[]>): string[] {
  const problems: string[] = [];
  const want: [string, number][] = [
    ["warmpool-reconciler", code.reconcilerMetrics],
    ["warmpool-gateway", code.gatewayMetrics],
  ];
  for (const [job, port] of want) {
    const ports = scrape[job];
    if (!ports?.length) problems.push(`prometheus: no targets for job ${job}`);
    for (const p of ports ?? [])
      if (p !== port)
        problems.push(`prometheus: ${job} scrapes :${p}, the process serves metrics on :${port}`);
  }
  if (code.gatewayMetrics === code.gatewayApi)
    problems.push("gateway: metrics must have their own port, apart from the API");
  return problems;
}

/** A test file, run by real terraform, holding the module's variable defaults to the code's. */
function codeDefaultsTest(code: CodePorts): string {
  const ports = readFileSync(join(packageRoot(), "deploy", "terraform", "tests", "ports.tftest.hcl"), "utf8");
  const head = ports.slice(0, ports.indexOf('run "ports_agree"'));
  const assert = (cond: string, msg: string): string =>
    `  assert {\n    condition     = ${cond}\n    error_message = "${msg}"\n  }\n`;
  return (
    `${head}run "defaults_match_the_code" {\n  command = apply\n` +
    assert(
      `var.gateway_port == ${code.gatewayApi}`,
      `gateway_port must default to the gateway's --port (${code.gatewayApi})`,
    ) +
    assert(
      `var.metrics_port == ${code.gatewayMetrics} && var.metrics_port == ${code.reconcilerMetrics}`,
      `metrics_port must default to --metrics-port of the gateway (${code.gatewayMetrics}) and the reconciler (${code.reconcilerMetrics})`,
    ) +
    "}\n"
  );
}

let tf: TerraformCopy;
let code: CodePorts;
const prometheusYml = readFileSync(join(packageRoot(), "deploy", "prometheus", "prometheus.yml"), "utf8");

function terraformTest(file: string): { code: number; out: string } {
  return tf.run(["test", `-filter=tests/${file}`]);
}

beforeAll(async () => {
  code = await codePorts();
  tf = terraformCopy();
}, 120_000);
afterAll(() => tf?.remove());

describe("ports: code = Terraform = security groups = Prometheus", () => {
  it("the processes' flag defaults are what Prometheus scrapes, metrics apart from the API", () => {
    expect(code).toEqual({ gatewayApi: 8080, gatewayMetrics: 9464, reconcilerMetrics: 9464 });
    expect(scrapeProblems(code, scrapePorts(prometheusYml))).toEqual([]);
  });

  it("fails when Prometheus or a flag changes on one side only", () => {
    const moved = prometheusYml.replace('"gateway-0:9464"', '"gateway-0:8080"');
    expect(moved).not.toBe(prometheusYml);
    expect(scrapeProblems(code, scrapePorts(moved))).toEqual([
      "prometheus: warmpool-gateway scrapes :8080, the process serves metrics on :9464",
    ]);
    expect(scrapeProblems({ ...code, gatewayMetrics: 9465 }, scrapePorts(prometheusYml))).toHaveLength(2);
    expect(
      scrapeProblems({ ...code, gatewayMetrics: code.gatewayApi }, scrapePorts(prometheusYml)),
    ).toContain("gateway: metrics must have their own port, apart from the API");
  });

  it("terraform test: variable defaults = flag defaults; task definitions, env, security groups and LB wired to them", () => {
    writeFileSync(join(tf.dir, "tests", "code-defaults.tftest.hcl"), codeDefaultsTest(code));
    const defaults = terraformTest("code-defaults.tftest.hcl");
    expect(defaults.out).toMatch(/Success! 1 passed, 0 failed/);
    const wiring = terraformTest("ports.tftest.hcl");
    expect(wiring.out).toMatch(/Success! 1 passed, 0 failed/);
    expect(wiring.code).toBe(0);
  }, 120_000);

  it("terraform test fails when a port changes on one side only", () => {
    // A flag default moved, Terraform not.
    writeFileSync(
      join(tf.dir, "tests", "code-defaults.tftest.hcl"),
      codeDefaultsTest({ ...code, gatewayMetrics: 9465 }),
    );
    const stale = terraformTest("code-defaults.tftest.hcl");
    expect(stale.code).not.toBe(0);
    expect(stale.out).toMatch(/metrics_port must default to --metrics-port of the gateway \(9465\)/);

    // The gateway's metrics mapping hard-coded in the task definition, the variable not.
    const td = join(tf.dir, "task-definitions.tf");
    const original = readFileSync(td, "utf8");
    const mutated = original.replace(
      '{ containerPort = var.metrics_port, protocol = "tcp", name = "metrics" },',
      '{ containerPort = 9465, protocol = "tcp", name = "metrics" },',
    );
    expect(mutated).not.toBe(original);
    writeFileSync(td, mutated);
    try {
      const r = terraformTest("ports.tftest.hcl");
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/the gateway container must map its API port/);
    } finally {
      writeFileSync(td, original);
    }

    // The metrics ingress opened on another port than the processes serve.
    const net = join(tf.dir, "network.tf");
    const netText = readFileSync(net, "utf8");
    const opened = netText.replace(
      /from_port\s+= var\.metrics_port\n(\s+)to_port\s+= var\.metrics_port/,
      "from_port = 9100\n$1to_port = 9100",
    );
    expect(opened).not.toBe(netText);
    writeFileSync(net, opened);
    try {
      const r = terraformTest("ports.tftest.hcl");
      expect(r.code).not.toBe(0);
      expect(r.out).toMatch(/the metrics ingress must open exactly metrics_port/);
    } finally {
      writeFileSync(net, netText);
    }
  }, 180_000);
});
