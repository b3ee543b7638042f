export { applyConfigChanges } from './config-changes.ts';
