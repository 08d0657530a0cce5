/** Inputs and offline data-source values the deploy tests evaluate the Terraform module with. */
import type { Value } from "./hcl/index.js";
import { EvaluatedModule, loadModule, type KnownData, type TfModule } from "./terraform-module.js";

export const MODULE_DIR = "deploy/terraform";
export const EXAMPLE_DIR = "deploy/terraform/examples/basic";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";

export const KNOWN_DATA: KnownData = {
  aws_partition: { current: { partition: "aws" } },
  aws_region: { current: { name: REGION } },
  aws_caller_identity: { current: { account_id: ACCOUNT } },
};

export const BASE_INPUTS: Record<string, Value> = {
  name: "demo",
  environment: "staging",
  vpc_id: "vpc-0123456789abcdef0",
  private_subnet_ids: ["subnet-aaaa", "subnet-bbbb"],
  control_image: "registry.example/warmpool@sha256:" + "a".repeat(64),
  pool_image: "registry.example/agent-warmpool@sha256:" + "b".repeat(64),
  agent_command: ["optima", "headless"],
  redis_auth_token: "r".repeat(32),
  gateway_tokens: ["g".repeat(40)],
};

let cached: TfModule | undefined;
export function tfModule(): TfModule {
  cached ??= loadModule(MODULE_DIR);
  return cached;
}

export function evaluate(overrides: Record<string, Value> = {}): EvaluatedModule {
  return new EvaluatedModule(tfModule(), { ...BASE_INPUTS, ...overrides }, KNOWN_DATA);
}
