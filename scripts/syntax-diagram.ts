// Writes grammar/diagram.html, the railroad diagram of the exec-form grammar, from the
// parser's own productions: `node --import tsx scripts/syntax-diagram.ts`.
import { createSyntaxDiagramsCode } from 'chevrotain';
import { writeFile } from 'node:fs/promises';
import { ExecFormParser } from '../grammar/index.ts';

const html = createSyntaxDiagramsCode(new ExecFormParser().getSerializedGastProductions());
await writeFile(new URL('../grammar/diagram.html', import.meta.url), html);
