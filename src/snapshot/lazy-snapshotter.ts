import type { Snapshotter } from './snapshotter.ts';

/**
 * A snapshotter opened on first use: opening one cleans what dead processes left and reads
 * every snapshot's record, which a build found wholly in the cache never needs.
 */
export function lazySnapshotter(kind: Snapshotter['kind'], open: () => Promise<Snapshotter>): Snapshotter {
  let opened: Promise<Snapshotter> | undefined;
  const get = (): Promise<Snapshotter> => (opened ??= open());
  return {
    kind,
    stat: async (key) => (await get()).stat(key),
    list: async () => (await get()).list(),
    prepare: async (key, parent, options) => (await get()).prepare(key, parent, options),
    view: async (key, parent, options) => (await get()).view(key, parent, options),
    mounts: async (key) => (await get()).mounts(key),
    commit: async (name, key) => (await get()).commit(name, key),
    remove: async (key) => (await get()).remove(key),
    diff: async (parent, key, options) => (await get()).diff(parent, key, options),
    unpack: async (layers, options) => (await get()).unpack(layers, options),
  };
}
