export { LeaderLease, LeaseLostError, type LeaderLeaseOptions } from "./lease.js";
