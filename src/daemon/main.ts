#!/usr/bin/env node
// bangerd: owns all state and serves the CLI over HTTP on a Unix socket. VMs outlive it.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { loadConfig } from "../config/index.js";
import { causeChain } from "../errors/index.js";
import { removeStagingDir } from "../image/index.js";
import { createLogger } from "../log/index.js";
import { resolvePaths } from "../paths/index.js";
import { Store } from "../store/index.js";
import { qemuDriver } from "../vmm/index.js";
import { createVmContext, reconcileAll, syncNat } from "../vm/index.js";
import { DnsService } from "./dns.js";
import { buildServer } from "./server.js";

async function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

async function main(): Promise<void> {
  const paths = resolvePaths();
  const logger = createLogger(paths.daemonLogPath);
  const config = await loadConfig(paths.configPath);
  await mkdir(paths.runDir, { recursive: true, mode: 0o755 });
  await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });

  if (await socketAnswers(paths.socketPath)) {
    process.stderr.write(`bangerd: another daemon already answers on ${paths.socketPath}\n`);
    process.exit(1);
  }
  await rm(paths.socketPath, { force: true });
  // Half-built kernels and images from an interrupted daemon are never resumed.
  await removeStagingDir(paths.stagingDir).catch((err: unknown) => {
    logger.error({ err }, "cannot clear the staging dir");
  });

  const store = new Store(paths.dbPath);
  const dns = new DnsService({ config, store, logger });
  const ctx = createVmContext({
    paths,
    config,
    store,
    driver: qemuDriver(),
    logger,
    bridgeReady: () => dns.ensureBridgeListener(),
  });
  await reconcileAll(ctx);
  // The rules of VMs that kept running while no daemon was there.
  await syncNat(ctx).catch((err: unknown) => logger.error({ err }, "cannot restore NAT rules"));
  await dns.startLoopback();
  await dns.ensureBridgeListener();

  const app = buildServer(ctx, logger);
  await app.listen({ path: paths.socketPath });
  await writeFile(paths.daemonPidPath, `${process.pid}\n`);
  logger.info({ socket: paths.socketPath, stateDir: paths.stateDir }, "bangerd ready");

  let closing = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down; VMs keep running");
    await app.close();
    await dns.close();
    store.close();
    await rm(paths.daemonPidPath, { force: true });
    logger.flush();
    process.exit(0);
  };
  // A stray rejection in one operation must not take down the daemon and every stream with it.
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err: unknown) => {
  process.stderr.write(`bangerd: cannot start: ${causeChain(err).join(": ")}\n`);
  process.exit(1);
});
