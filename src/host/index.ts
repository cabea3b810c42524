// The host machine: running its commands safely and reading its facts (CPUs, memory, tools).
export { run, formatCommand, tailLines, type RunOptions, type RunResult } from "./run.js";
export { which } from "./which.js";
