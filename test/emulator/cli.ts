/** Drives the AWS CLI against an emulator, with dummy credentials and no config files. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import type { Emulator } from "../../hack/emulator/index.js";

/**
 * WARMPOOL_AWS_CLI when set (to try another CLI, e.g. one that speaks SQS's older Query
 * protocol); else Debian's awscli when present (a pyenv shim may shadow it on PATH); else `aws`.
 */
export const AWS = process.env.WARMPOOL_AWS_CLI || (existsSync("/usr/bin/aws") ? "/usr/bin/aws" : "aws");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function aws(emu: Emulator, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      AWS,
      [...args, "--endpoint-url", emu.endpoint, "--output", "json"],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "dummy-secret",
          AWS_DEFAULT_REGION: "us-east-1",
          AWS_PAGER: "",
          AWS_EC2_METADATA_DISABLED: "true",
          AWS_CONFIG_FILE: "/dev/null",
          AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        if (code !== 0 && !stderr) stderr = String(err);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export const json = <T>(r: CliResult): T => {
  if (r.code !== 0) throw new Error(`aws exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
};

/** AWS CLI v2 exits 254 on a service error, v1 (botocore's `aws`) 255. */
export const SERVICE_ERROR_EXIT = [254, 255];
