/** SDK clients pointed at an emulator, with dummy credentials and no SDK retries (tests count calls). */
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { ECSClient, RegisterTaskDefinitionCommand } from "@aws-sdk/client-ecs";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Emulator } from "../../hack/emulator/index.js";

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "dummy-secret" };

export function ecsClient(emu: Emulator, maxAttempts = 1): ECSClient {
  return new ECSClient({ endpoint: emu.endpoint, region: emu.region, credentials, maxAttempts });
}

export function autoScalingClient(emu: Emulator, maxAttempts = 1): AutoScalingClient {
  return new AutoScalingClient({ endpoint: emu.endpoint, region: emu.region, credentials, maxAttempts });
}

export function sqsClient(emu: Emulator, maxAttempts = 1): SQSClient {
  return new SQSClient({ endpoint: emu.endpoint, region: emu.region, credentials, maxAttempts });
}

/** Registers a small EC2-compatible task definition and returns its ARN. */
export async function registerSleeper(
  ecs: ECSClient,
  family = "sleeper",
  extra: { stopTimeout?: number; environment?: { name: string; value: string }[] } = {},
): Promise<string> {
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [
        {
          name: "main",
          image: "public.ecr.aws/docker/library/busybox:latest",
          memory: 128,
          cpu: 128,
          essential: true,
          stopTimeout: extra.stopTimeout,
          environment: extra.environment,
        },
      ],
    }),
  );
  return out.taskDefinition?.taskDefinitionArn as string;
}

/** The error's code as the SDK parsed it from the wire (`__type`). */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { name: string }).name;
  }
  return "no error";
}
