export { isTransientRedisError, redisErrorCode } from "./errors.js";
export { isWritablePrimary } from "./primary.js";
export { redactUrl, redactSecrets } from "./redact.js";
