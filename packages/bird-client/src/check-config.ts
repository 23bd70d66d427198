import { dirname, resolve } from 'node:path';

/** A BIRD config file as read from disk. */
export interface BirdConfigFile {
  readonly path: string;
  readonly text: string;
}

/** One thing missing from the BIRD config, and the protocol it is about (none for the include line). */
export interface BirdConfigProblem {
  readonly message: string;
  readonly protocol?: string;
  /** Not a mistake yet: e.g. a protocol the agent has not written yet (it does at its first apply). */
  readonly pending?: boolean;
}

/** Whether an operator's BIRD config wires in the injector: the include line and an export of each protocol. */
export interface BirdConfigCheck {
  readonly ok: boolean;
  readonly includesFile: boolean;
  readonly protocols: readonly {
    readonly name: string;
    readonly exported: boolean;
    readonly running: boolean | undefined;
  }[];
  readonly problems: readonly BirdConfigProblem[];
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/#[^\n]*/g, '');
}

/** `include "x";` targets of one file, resolved against its directory (BIRD resolves relative to the including file). */
export function includeTargets(file: BirdConfigFile): string[] {
  return [...stripComments(file.text).matchAll(/^\s*include\s+"([^"]+)"\s*;/gm)].map((m) =>
    resolve(dirname(file.path), m[1] ?? ''),
  );
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/**
 * Checks config text (the main file and the files it includes) for the include line and for filters that
 * match each protocol by name (`proto = "vol1"` or `proto ~ "vol*"`). `running` comes from BIRD, if asked.
 */
export function checkBirdConfig(
  files: readonly BirdConfigFile[],
  expected: {
    readonly includePath: string;
    readonly protocols: readonly string[];
    readonly running?: ReadonlySet<string>;
    /** The protocols our include file declares now: one it does not yet is written by the agent's first apply. */
    readonly declared?: ReadonlySet<string>;
  },
): BirdConfigCheck {
  const includePath = resolve(expected.includePath);
  const includesFile = files.some((f) => includeTargets(f).includes(includePath));
  const text = files.map((f) => stripComments(f.text)).join('\n');
  const equals = new Set([...text.matchAll(/\bproto\s*=\s*"([^"]*)"/g)].map((m) => m[1] ?? ''));
  const globs = [...text.matchAll(/\bproto\s*~\s*"([^"]*)"/g)].map((m) => globToRegExp(m[1] ?? ''));
  const protocols = expected.protocols.map((name) => ({
    name,
    exported: equals.has(name) || globs.some((g) => g.test(name)),
    running: expected.running ? expected.running.has(name) : undefined,
  }));
  const problems: BirdConfigProblem[] = [
    ...(includesFile ? [] : [{ message: `no line include "${includePath}"; in the BIRD config` }]),
    ...protocols
      .filter((p) => !p.exported)
      .map((p) => ({
        message: `no filter matches protocol ${p.name} (e.g. export where proto = "${p.name}";)`,
        protocol: p.name,
      })),
    ...protocols
      .filter((p) => p.running === false)
      .map((p) =>
        expected.declared && !expected.declared.has(p.name)
          ? {
              message: `BIRD has no protocol ${p.name} yet: rhi-agent run writes it into the include and runs configure`,
              protocol: p.name,
              pending: true,
            }
          : {
              message: `BIRD is not running protocol ${p.name} (configure not yet run, or include missing)`,
              protocol: p.name,
            },
      ),
  ];
  return { ok: problems.every((p) => p.pending), includesFile, protocols, problems };
}
