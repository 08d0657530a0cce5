export { isTransientRedisError, redisErrorCode } from "./errors.js";
export { isWritablePrimary } from "./primary.js";
export { redactUrl, redactSecrets } from "./redact.js";
export {
  createRedis,
  redisOptions,
  reconnectDelayMs,
  reconnectOnRoleChange,
  throttledRoleChange,
  ROLE_CHANGE_REDIAL_MS,
  checkRedisUrl,
  parseRedisUrl,
  clusterOptions,
  isClusterUrl,
  CLUSTER_SCHEMES,
  withCredentials,
  type RedisTarget,
  type RedisUse,
  type RedisConnectOptions,
} from "./connect.js";
export {
  REDIS_ROLES,
  POOL_PLACEHOLDER,
  aclUser,
  aclRules,
  aclFile,
  accessString,
  roleAcl,
  terraformAcl,
  aclMarkdownTable,
  type RedisRole,
  type RoleAcl,
  type AclGrant,
} from "./acl.js";
