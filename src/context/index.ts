/**
 * The build context's ignore rules: reading `.dockerignore` files, choosing which one
 * applies, and matching paths against them with moby/patternmatcher's semantics.
 */
export { cleanPath, parentPath } from './clean-path.ts';
export { type IgnoreFile, type IgnoreRule, parseIgnoreFile, readIgnorePatterns } from './ignore-file.ts';
export {
  type ExactPattern,
  type Pattern,
  type PrefixPattern,
  type RegexpPattern,
  type SuffixPattern,
  compilePattern,
  matchPattern,
} from './pattern.ts';
export { type MatchInfo, type MatchResult, NO_PARENT_INFO, PatternMatcher } from './pattern-matcher.ts';
export { CONTEXT_IGNORE_NAME, type SelectedIgnoreFile, selectIgnoreFile } from './select-ignore-file.ts';
