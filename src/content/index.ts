export type { BlobInfo, ContentStore, ContentWriter, Expected } from './content-store.ts';
export { Digester, digestHex, digestOf, isDigest, parseDigest, type Digest } from './digest.ts';
export { openContentStore } from './local-content-store.ts';
