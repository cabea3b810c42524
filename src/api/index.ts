// Wire types shared by the CLI and the daemon: requests, replies and progress events.
export * from "./progress.js";
export * from "./vm.js";
export * from "./agent.js";
