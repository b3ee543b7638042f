import { InternalError } from '../../errors/index.ts';

export async function runParse(_file: string, _options: { json: boolean }): Promise<number> {
  throw new InternalError('kiln parse is being written');
}
