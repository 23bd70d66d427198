import type { BirdReply } from './reply-reader.js';

/** How BIRD answered a `configure` variant. */
export type BirdConfigureOutcome =
  | 'reconfigured' // 0003
  | 'in-progress' // 0004: accepted, protocols are still shutting down or restarting
  | 'queued' // 0005: another reconfiguration runs; this config is applied after it
  | 'confirmed' // 0018
  | 'nothing-to-do' // 0019
  | 'ok' // 0020: `configure check` found no error
  | 'status'; // `configure status` (0000 final)

export interface BirdConfigureResult {
  readonly outcome: BirdConfigureOutcome;
  /** From `0002-Reading configuration from <file>`. */
  readonly configFile: string | undefined;
  /** Seconds until undo, from `0022-Undo scheduled in 60 s` or `Configuration unconfirmed, undo in 59.994 s`. */
  readonly undoInSeconds: number | undefined;
  readonly messages: readonly string[];
}

const OUTCOMES: Record<number, BirdConfigureOutcome> = {
  0: 'status',
  3: 'reconfigured',
  4: 'in-progress',
  5: 'queued',
  18: 'confirmed',
  19: 'nothing-to-do',
  20: 'ok',
};

/** Parses a successful `configure [check|soft|timeout|confirm|undo|status]` reply; undefined for an unknown final code. */
export function parseConfigureReply(reply: BirdReply): BirdConfigureResult | undefined {
  const outcome = OUTCOMES[reply.code];
  if (!outcome) return undefined;
  const reading = reply.lines.find((l) => l.code === 2)?.text.match(/^Reading configuration from (.+)$/)?.[1];
  const undo = reply.lines
    .find((l) => l.code === 22)
    ?.text.match(/undo in ([\d.]+) s|Undo scheduled in ([\d.]+) s/);
  const seconds = undo?.[1] ?? undo?.[2];
  return {
    outcome,
    configFile: reading,
    undoInSeconds: seconds === undefined ? undefined : Number(seconds),
    messages: reply.lines.map((l) => l.text),
  };
}

/** Location and message of an 8002 configuration error: `file:line:column message`. */
export interface BirdConfigErrorLocation {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly column: number | undefined;
  readonly message: string;
}

export function parseConfigError(text: string): BirdConfigErrorLocation {
  const match = /^(.+?):(\d+):(\d+) (.*)$/s.exec(text);
  if (!match) return { file: undefined, line: undefined, column: undefined, message: text };
  return { file: match[1], line: Number(match[2]), column: Number(match[3]), message: match[4] ?? '' };
}

/** One line of an `enable`/`disable`/`restart`/`reload` reply, e.g. `vol1: disabled`. */
export interface BirdProtocolActionResult {
  readonly protocol: string;
  readonly result: string;
  readonly replyCode: number;
}

export function parseProtocolAction(reply: BirdReply): BirdProtocolActionResult[] {
  return reply.lines.flatMap(({ code, text }) => {
    const match = /^(\S+): (.+)$/.exec(text);
    return match?.[1] && match[2] ? [{ protocol: match[1], result: match[2], replyCode: code }] : [];
  });
}
