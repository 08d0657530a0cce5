export { DEFAULT_DESIRED, type DesiredState, type AsgDesired } from "./types.js";
