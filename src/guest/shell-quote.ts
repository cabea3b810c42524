// Words that every POSIX shell reads literally without quotes. `=` is left out because a first
// word `A=b` would be an assignment, `%` because bash reads a command `%1` as a job.
const PLAIN_WORD = /^[A-Za-z0-9_@+:,./-]+$/;
// Reserved words change meaning in command position; quoted, they are ordinary words again.
const RESERVED = new Set("if then else elif fi do done case esac while until for in".split(" "));

/**
 * `word` quoted so that a POSIX shell reads it back as exactly one word, unchanged: inside single
 * quotes nothing is special, and a single quote itself is closed, escaped and reopened.
 */
export function quoteShellWord(word: string): string {
  if (PLAIN_WORD.test(word) && !RESERVED.has(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * One command line for the remote shell. ssh joins its arguments with spaces and hands the result
 * to the login shell, so each word must be quoted for that shell or it is split and expanded.
 */
export function remoteCommandLine(command: readonly string[]): string {
  return command.map(quoteShellWord).join(" ");
}
