// Private to the tests: throwaway git repositories and a file-by-file snapshot of a tree
// (type, mode, content hash, symlink target) to compare a guest workspace with its host.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

/** Runs git in `repo` with a fixed identity and no user or system config; returns stdout. */
export function gitIn(repo: string, ...args: string[]): string {
  return execFileSync("git", ["-C", repo, ...args], {
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_AUTHOR_DATE: "2024-01-01T00:00:00Z",
      GIT_COMMITTER_DATE: "2024-01-01T00:00:00Z",
    },
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** A new repository at `dir` on branch `main` with user Tester <tester@example.com>. */
export function newRepo(dir: string): string {
  mkdirSync(dir, { recursive: true });
  gitIn(dir, "init", "-q", "-b", "main");
  gitIn(dir, "config", "user.name", "Tester");
  gitIn(dir, "config", "user.email", "tester@example.com");
  return dir;
}

/** Writes `content` at `rel` under `dir`, making parent directories. */
export function put(dir: string, rel: string, content: string | Buffer, mode = 0o644): void {
  const file = path.join(dir, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
}

export function commitAll(repo: string, message: string): string {
  gitIn(repo, "add", "-A");
  gitIn(repo, "commit", "-q", "-m", message);
  return gitIn(repo, "rev-parse", "HEAD").trim();
}

/** One line per entry under `dir`, sorted: `path type mode sha256-or-target`. */
export function snapshot(dir: string, exclude: (rel: string) => boolean = () => false): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const child = rel === "" ? name : `${rel}/${name}`;
      if (exclude(child)) continue;
      const full = path.join(dir, child);
      const st = lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) lines.push(`${JSON.stringify(child)} link ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        lines.push(`${JSON.stringify(child)} dir ${mode}`);
        walk(child);
      } else {
        const hash = createHash("sha256").update(readFileSync(full)).digest("hex");
        lines.push(`${JSON.stringify(child)} file ${mode} ${hash}`);
      }
    }
  };
  walk("");
  return lines.sort();
}

/** Excludes `.git` (and everything in it) at the top. */
export function notGitDir(rel: string): boolean {
  return rel === ".git" || rel.startsWith(".git/");
}
