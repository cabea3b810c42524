// The CLI's side of the daemon API: JSON and NDJSON calls over the Unix socket, and starting
// the daemon when none answers.
export { callJson, callStream, callText, fromErrorBody, vmPath } from "./http.js";
export { ensureDaemon, ping, daemonEntry } from "./daemon-process.js";
