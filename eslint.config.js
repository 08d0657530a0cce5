import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "deploy/**", "dashboards/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
      eqeqeq: ["error", "smart"],
    },
  },
  {
    files: ["pkg/plan/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["ioredis", "@aws-sdk/*", "pino", "node:*", "prom-client", "p-queue"],
              message: "the planner is pure: data in, actions out",
            },
          ],
        },
      ],
      "no-restricted-globals": ["error", { name: "Date", message: "the planner takes `now` as input" }],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: "the planner is deterministic" },
      ],
    },
  },
);
