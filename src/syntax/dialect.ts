import type { Dockerfile } from './ast.ts';
import { errorDiagnostic, type Diagnostic } from './diagnostic.ts';

/**
 * `docker/dockerfile:1`, any 1.x tag (`1.7`, `1.7.1`, `1-labs`, `1.7-labs`), or no tag,
 * `latest` and `labs` (which are 1.x releases), with or without a registry prefix
 * (`docker.io/`), with an optional digest.
 */
const KILN_DIALECT =
  /^(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\/)?docker\/dockerfile(?::1(?:\.\d+){0,2}(?:-labs)?|:latest|:labs)?(?:@sha256:[0-9a-f]{64})?$/;

/**
 * Checks the `# syntax=` directive: kiln implements the docker/dockerfile:1 dialect itself
 * and runs no frontend images, so any other frontend is an error. A build calls this before
 * compiling; `kiln parse` does not, since parsing is the same whatever the frontend.
 */
export function checkSyntaxDirective(ast: Dockerfile): Diagnostic | undefined {
  const directive = ast.directives.find((d) => d.name === 'syntax');
  if (directive === undefined) return undefined;
  // BuildKit takes the frontend reference up to the first space (parser.DetectSyntax).
  const reference = directive.value.split(' ')[0] ?? '';
  if (KILN_DIALECT.test(reference)) return undefined;
  return errorDiagnostic({
    code: 'unsupported-frontend',
    message: `kiln cannot build with the frontend ${reference}: it implements docker/dockerfile:1 itself and runs no frontend images`,
    hint: 'use # syntax=docker/dockerfile:1, or remove the line',
    file: ast.file,
    range: directive.range,
  });
}
