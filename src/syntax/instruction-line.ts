import { INSTRUCTION_NAMES } from './ast.ts';
import { goToLower } from './go-case.ts';
import { parseExecForm } from './exec-form.ts';
import { extractFlags } from './flags.ts';
import { splitWords } from './words.ts';
import { BLANKS, isSpace, splitBlanks, skipSpace, trimSpace } from './whitespace.ts';

/** An instruction line taken apart; offsets are into the text given to {@link parseInstructionLine}. */
export interface ParsedLine {
  readonly name: string;
  readonly keyword: string;
  readonly keywordOffset: number;
  readonly flags: readonly string[];
  readonly args: readonly string[];
  readonly json: boolean;
  readonly legacyKeyValue: boolean;
  readonly trigger: ParsedLine | undefined;
  readonly problems: readonly LineProblem[];
}

/** Something wrong with a line, at an offset in it. */
export interface LineProblem {
  readonly code: string;
  readonly message: string;
  readonly hint: string | undefined;
  readonly offset: number;
  readonly endOffset: number;
}

interface Args {
  readonly args: readonly string[];
  readonly json?: boolean;
  readonly legacyKeyValue?: boolean;
  readonly trigger?: ParsedLine;
  readonly problem?: LineProblem;
}

/** How each instruction splits its arguments (BuildKit's dispatch table in parser.go). */
type ArgParser = (text: string, offset: number, escape: string) => Args;

const BY_LOWER_NAME: ReadonlyMap<string, string> = new Map(INSTRUCTION_NAMES.map((n) => [n.toLowerCase(), n]));

/** Instructions ONBUILD may not carry, as BuildKit's instructions.ParseOnBuild decides. */
const NOT_TRIGGERS: ReadonlyMap<string, string> = new Map([
  ['ONBUILD', 'ONBUILD ONBUILD is not allowed: a trigger cannot add another trigger'],
  ['FROM', 'FROM is not allowed as an ONBUILD trigger'],
  ['MAINTAINER', 'MAINTAINER is not allowed as an ONBUILD trigger'],
]);

/**
 * Parses one logical instruction line (continuations already joined, heredoc bodies not
 * included) the way BuildKit's newNodeFromLine does: the first whitespace-separated word is
 * the instruction, builder flags come next, and the rest is split as that instruction splits
 * its arguments. Never throws: problems are returned with their offsets. `base` is added to
 * every offset; `trigger` says the line is an ONBUILD's trigger.
 */
export function parseInstructionLine(text: string, escape: string, base = 0, trigger = false): ParsedLine {
  const trimmed = trimSpace(text);
  const [head, tail] = splitBlanks(trimmed.text, 2);
  const keyword = head?.part ?? '';
  const keywordOffset = base + trimmed.offset;
  // Matched case-insensitively as Go's strings.ToLower folds (BuildKit's dispatch table);
  // an unknown word is upper-cased in ASCII only, so `ſHELL` never reads as SHELL.
  const known = BY_LOWER_NAME.get(goToLower(keyword));
  const name = known ?? keyword.replace(/[a-z]+/g, (m) => m.toUpperCase());
  let flags: readonly string[] = [];
  let rest = '';
  let restOffset = keywordOffset + keyword.length;
  if (tail !== undefined) {
    const extracted = extractFlags(tail.part, escape);
    flags = extracted.flags;
    const args = trimSpace(extracted.rest);
    rest = args.text;
    restOffset = keywordOffset + tail.offset + extracted.restOffset + args.offset;
  }

  const problems: LineProblem[] = [];
  const parse = known === undefined ? undefined : ARG_PARSERS.get(known);
  let result: Args = { args: [] };
  if (parse === undefined) {
    problems.push(unknownInstruction(keyword, keywordOffset));
  } else if (trigger && name === 'ONBUILD') {
    // ONBUILD ONBUILD is refused by the caller; what the inner one carries is left unparsed,
    // since a chain of them would otherwise recurse once per ONBUILD, past the stack's end.
  } else {
    result = parse(rest, restOffset, escape);
    if (result.problem !== undefined) problems.push(result.problem);
    if (result.trigger !== undefined) problems.push(...result.trigger.problems);
  }
  return {
    name,
    keyword,
    keywordOffset,
    flags,
    args: result.args,
    json: result.json ?? false,
    legacyKeyValue: result.legacyKeyValue ?? false,
    trigger: result.trigger,
    problems,
  };
}

function unknownInstruction(keyword: string, offset: number): LineProblem {
  const oddSpace = /[^\x21-\x7e]/u.exec(keyword);
  if (oddSpace !== null && oddSpace.index > 0) {
    const code = (oddSpace[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    return {
      code: 'unknown-instruction',
      message: `unknown instruction: ${JSON.stringify(keyword)}: U+${code} after ${keyword.slice(0, oddSpace.index)} does not separate the instruction from its arguments`,
      hint: 'separate the instruction from its arguments with a space or a tab',
      offset: offset + oddSpace.index,
      endOffset: offset + oddSpace.index + 1,
    };
  }
  const suggestion = closest(keyword.toUpperCase());
  return {
    code: 'unknown-instruction',
    message: keyword === '' ? 'a line continuation continues nothing' : `unknown instruction: ${keyword}`,
    hint:
      keyword === ''
        ? 'remove the trailing escape character, or put an instruction after it'
        : suggestion === undefined
          ? `instructions are ${INSTRUCTION_NAMES.join(', ')}`
          : `did you mean ${suggestion}?`,
    offset,
    endOffset: offset + Math.max(keyword.length, 1),
  };
}

/** The instruction name nearest to `word` by edit distance, when it is near enough. */
function closest(word: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of INSTRUCTION_NAMES) {
    const d = editDistance(word, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: edits and swaps of neighbours (`RNU` is 1 from `RUN`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [Array.from({ length: b.length + 1 }, (_, j) => j)];
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const up = rows[i - 1]?.[j] ?? 0;
      const diagonal = rows[i - 1]?.[j - 1] ?? 0;
      let d = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (rows[i - 2]?.[j - 2] ?? 0) + 1);
      }
      row[j] = d;
    }
    rows.push(row);
  }
  return rows[a.length]?.[b.length] ?? 0;
}

/** USER, WORKDIR, MAINTAINER, STOPSIGNAL: the whole rest as one string. */
const oneString: ArgParser = (text) => ({ args: text === '' ? [] : [text] });

/** FROM, EXPOSE: whitespace-separated words, quotes not special. */
const blankSeparated: ArgParser = (text) => ({ args: text === '' ? [] : text.split(BLANKS) });

/** The exec form when the text is one, else what `otherwise` makes of the text. */
function execFormOr(otherwise: ArgParser): ArgParser {
  return (text, offset, escape) => {
    const form = parseExecForm(text);
    switch (form.kind) {
      case 'exec':
        return { args: form.elements, json: true };
      case 'non-string':
        return { args: [], problem: nonString(form.found, offset + form.offset) };
      case 'not-json':
        return otherwise(text, offset, escape);
    }
  };
}

/** RUN, CMD, ENTRYPOINT, SHELL: the exec form, else the whole rest as one shell string. */
const maybeJson: ArgParser = execFormOr(oneString);

/** COPY, ADD, VOLUME: the exec form, else whitespace-separated words. */
const maybeJsonList: ArgParser = execFormOr(blankSeparated);

function nonString(found: string, offset: number): LineProblem {
  return {
    code: 'exec-form-not-strings',
    message: `an exec-form (JSON) array must hold strings only, and this one holds ${found}`,
    hint: 'quote the element ("…"), or write the command in shell form without brackets',
    offset,
    endOffset: offset + 1,
  };
}

/** ARG: words, quotes kept; `name`, `name=`, `name=value` are all fine here. */
const words: ArgParser = (text, _offset, escape) => ({ args: splitWords(text, escape) });

/** ENV and LABEL: `k=v k2=v2…`, or the legacy `k v` whose value is the whole rest. */
function keyValues(instruction: 'ENV' | 'LABEL'): ArgParser {
  return (text, offset, escape) => {
    const found = splitWords(text, escape);
    const first = found[0];
    if (first === undefined) return { args: [] };
    if (!first.includes('=')) {
      const [key, value] = splitBlanks(text, 2);
      if (key === undefined || value === undefined) {
        return {
          args: [],
          problem: {
            code: 'missing-value',
            message: `${instruction} ${first} has no value: ${instruction} needs a name and a value`,
            hint: `write ${instruction} ${first}=value (or ${instruction} ${first} value)`,
            offset,
            endOffset: offset + text.length,
          },
        };
      }
      return { args: [key.part, value.part], legacyKeyValue: true };
    }
    const args: string[] = [];
    for (const word of found) {
      const eq = word.indexOf('=');
      if (eq < 0) {
        const at = text.indexOf(word);
        return {
          args: [],
          problem: {
            code: 'missing-equals',
            message: `${instruction} expects name=value pairs, and ${JSON.stringify(word)} has no =`,
            hint: `once the first pair uses =, every pair must: write ${word}=value`,
            offset: offset + Math.max(at, 0),
            endOffset: offset + Math.max(at, 0) + word.length,
          },
        };
      }
      args.push(word.slice(0, eq), word.slice(eq + 1));
    }
    return { args };
  };
}

/** HEALTHCHECK: a type word (`CMD`, `NONE`), then RUN-like arguments. */
const healthcheck: ArgParser = (text, offset, escape) => {
  let sep = 0;
  while (sep < text.length && !isSpace(text.charCodeAt(sep))) sep++;
  if (sep === 0) return { args: [] };
  const next = skipSpace(text, sep);
  const command = maybeJson(text.slice(next), offset + next, escape);
  return { ...command, args: [text.slice(0, sep), ...command.args] };
};

/** ONBUILD: the rest is an instruction line of its own (flags included). */
const onbuild: ArgParser = (text, offset, escape) => {
  if (text === '') return { args: [] };
  const trigger = parseInstructionLine(text, escape, offset, true);
  const refused = NOT_TRIGGERS.get(trigger.name);
  const problem: LineProblem | undefined =
    refused === undefined
      ? undefined
      : {
          code: 'onbuild-trigger',
          message: refused,
          hint: 'ONBUILD takes RUN, COPY, ADD, ENV, … : any instruction but ONBUILD, FROM and MAINTAINER',
          offset: trigger.keywordOffset,
          endOffset: trigger.keywordOffset + trigger.keyword.length,
        };
  return {
    args: [trigger.name, ...trigger.flags, ...trigger.args],
    trigger,
    ...(problem === undefined ? {} : { problem }),
  };
};

const ARG_PARSERS: ReadonlyMap<string, ArgParser> = new Map([
  ['ADD', maybeJsonList],
  ['ARG', words],
  ['CMD', maybeJson],
  ['COPY', maybeJsonList],
  ['ENTRYPOINT', maybeJson],
  ['ENV', keyValues('ENV')],
  ['EXPOSE', blankSeparated],
  ['FROM', blankSeparated],
  ['HEALTHCHECK', healthcheck],
  ['LABEL', keyValues('LABEL')],
  ['MAINTAINER', oneString],
  ['ONBUILD', onbuild],
  ['RUN', maybeJson],
  ['SHELL', maybeJson],
  ['STOPSIGNAL', oneString],
  ['USER', oneString],
  ['VOLUME', maybeJsonList],
  ['WORKDIR', oneString],
]);

