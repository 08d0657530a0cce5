/** Shared setup for tests that drive the ECS emulator over HTTP with the real SDK. */
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { startEmulator, type Emulator, type EmulatorOptions } from "../../hack/emulator/index.js";

// The emulator checks no signature; the SDK still wants credentials to sign with.
process.env.AWS_ACCESS_KEY_ID ||= "test";
process.env.AWS_SECRET_ACCESS_KEY ||= "test";
process.env.AWS_REGION ||= "us-east-1";

export const FAMILY = "warmpool-test";

export async function startTestEmulator(
  opts: EmulatorOptions = {},
): Promise<{ emu: Emulator; client: ECSClient; taskDefinitionArn: string }> {
  const emu = await startEmulator({ timeScale: 0.01, ...opts });
  const client = new ECSClient({ endpoint: emu.endpoint, region: "us-east-1", maxAttempts: 1 });
  const out = await client.send(
    new RegisterTaskDefinitionCommand({
      family: FAMILY,
      containerDefinitions: [{ name: "agent", image: "warmpool/agent:test", essential: true, memory: 128 }],
    }),
  );
  return { emu, client, taskDefinitionArn: out.taskDefinition!.taskDefinitionArn! };
}

/** Calls the emulator answered for one operation, by outcome (ground truth). */
export function callsOf(emu: Emulator, op: string): { ok: number; throttled: number; error: number } {
  return emu.control.calls()[op] ?? { ok: 0, throttled: 0, error: 0 };
}
