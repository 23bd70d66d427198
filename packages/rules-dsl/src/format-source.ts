import type { Diagnostic } from './diagnostics.js';
import { formatRule } from './format.js';
import type { ParseOptions } from './parser.js';
import { parse } from './parser.js';

/** What {@link formatSource} returns: the formatted text, or the diagnostics that stopped it. */
export type FormatSourceResult =
  | {
      readonly ok: true;
      readonly text: string;
      readonly changed: boolean;
      readonly diagnostics: readonly Diagnostic[];
    }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

/**
 * Formats a rules file canonically while keeping its comments and (collapsed) blank lines. A file with
 * errors is not formatted.
 */
export function formatSource(text: string, options: ParseOptions = {}): FormatSourceResult {
  const result = parse(text, options);
  if (!result.ok) return { ok: false, diagnostics: result.diagnostics };
  const lines: string[] = [];
  let previousEnd = 0;
  for (const item of result.items) {
    if (previousEnd > 0 && item.line > previousEnd + 1) lines.push('');
    previousEnd = item.endLine;
    if (item.kind === 'comment') lines.push(item.text.trimStart());
    else if (item.rule) {
      // A rule is printed on one line; comments from inside it go on their own lines above it.
      lines.push(...(item.innerComments ?? []));
      lines.push(item.comment ? `${formatRule(item.rule)}  ${item.comment}` : formatRule(item.rule));
    }
  }
  const formatted = lines.length ? `${lines.join('\n')}\n` : '';
  return { ok: true, text: formatted, changed: formatted !== text, diagnostics: result.diagnostics };
}
