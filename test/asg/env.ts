/** An emulator with Auto Scaling groups, and an AsgDriver pointed at it through the real SDKs. */
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { AsgDriver, type AsgDriverOptions } from "../../pkg/asg/index.js";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../hack/emulator/index.js";

// The emulator checks no signature; the SDK still wants credentials to sign with.
process.env.AWS_ACCESS_KEY_ID ||= "test";
process.env.AWS_SECRET_ACCESS_KEY ||= "test";
process.env.AWS_REGION ||= "us-east-1";

export async function startAsgEmulator(opts: EmulatorOptions): Promise<Emulator> {
  return startEmulator({ timeScale: 0.01, rateLimits: false, ...opts });
}

export function driverFor(emu: Emulator, cluster: string, over: Partial<AsgDriverOptions> = {}): AsgDriver {
  return new AsgDriver({
    pool: "p",
    cluster,
    endpoint: emu.endpoint,
    region: emu.region,
    retry: { baseMs: 5, maxMs: 50 },
    ...over,
  });
}

/** Registers a task definition reserving `cpu` units and `memory` MiB; returns its ARN. */
export async function registerTask(
  emu: Emulator,
  family: string,
  cpu: number,
  memory: number,
): Promise<string> {
  const ecs = new ECSClient({ endpoint: emu.endpoint, region: emu.region, maxAttempts: 1 });
  try {
    const out = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family,
        containerDefinitions: [{ name: "agent", image: "warmpool/agent:test", cpu, memory, essential: true }],
      }),
    );
    return out.taskDefinition?.taskDefinitionArn as string;
  } finally {
    ecs.destroy();
  }
}

/** Ground truth of one group from the emulator. */
export function groupTruth(emu: Emulator, name: string) {
  const g = emu.control.autoScalingGroups().find((x) => x.name === name);
  if (!g) throw new Error(`no group ${name} in the emulator`);
  return g;
}

export function callsOf(emu: Emulator, op: string): { ok: number; throttled: number; error: number } {
  return emu.control.calls()[op] ?? { ok: 0, throttled: 0, error: 0 };
}

/** How instances reached InService: resumed from the warm pool, or launched cold. */
export function launchKinds(emu: Emulator, name: string): { resumed: number; cold: number } {
  let resumed = 0;
  let cold = 0;
  for (const i of groupTruth(emu, name).instances) {
    if (!i.history.some((h) => h.state === "InService")) continue;
    if (i.history.some((h) => h.state.startsWith("Warmed:"))) resumed++;
    else cold++;
  }
  return { resumed, cold };
}
