/** The in-task bridge (docs/bridge.md): one pool task, one session, then the task ends. */
export { runBridge, EXIT_UNUSED, EXIT_SESSION_OVER, type BridgeConfig } from "./bridge.js";
export { resolveIdentity, taskIdOf, type TaskIdentity } from "./identity.js";
export { prepareWorkspace, WorkspaceRefused, type Owner } from "./workspace.js";
export { parseAgentCommand, agentEnv, type AgentSpec } from "./agent.js";
export { SessionServer } from "./session-server.js";
