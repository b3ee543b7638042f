export {
  claimDirectory,
  currentOwner,
  formatOwner,
  isAbandoned,
  isAlive,
  parseOwner,
  OWNER_FILE,
  type Owner,
} from './owner.ts';
