export {
  startPrivateRedis,
  freePort,
  newAclCredentials,
  type PrivateRedis,
  type PrivateRedisAcl,
} from "../../hack/redis/private-redis.js";
export { waitFor } from "./wait-for.js";
export { uniquePool } from "./unique.js";
export { recordStates } from "./record-states.js";
