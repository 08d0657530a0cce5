/** The in-task bridge (docs/bridge.md): one pool task, one session, then the task ends. */
export { runBridge, EXIT_UNUSED, EXIT_SESSION_OVER, type BridgeConfig } from "./bridge.js";
export { resolveIdentity, taskIdOf, type TaskIdentity } from "./identity.js";
export {
  prepareWorkspace,
  preparePrivateWorkspace,
  secureRoot,
  WorkspaceRefused,
  type Owner,
} from "./workspace.js";
export { parseAgentCommand, agentEnv, type AgentSpec, type Launch } from "./agent.js";
export { FsUidAllocator, UID_DIR, type UidAllocator } from "./uid-allocator.js";
export {
  resolveIsolation,
  readSecretFile,
  secretOnCommandLine,
  scrubEnvironment,
  extraCapabilities,
  localBridgeLaunch,
  BRIDGE_CAPABILITIES,
  type Isolation,
  type IsolationMode,
} from "./isolation.js";
export { SessionServer } from "./session-server.js";
