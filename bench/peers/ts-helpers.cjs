// @pwrdrvr/dynamodb-session-store 1.1.0 (its only published version) was compiled by TypeScript
// without importHelpers/esModuleInterop helpers inlined: dist/src/dynamodb-store.js calls
// __importDefault (and would call __importStar) without defining them, so requiring it throws
// "ReferenceError: __importDefault is not defined" on Node 20. Define tslib's versions on globalThis
// before the store is loaded.
'use strict';

if (typeof globalThis.__importDefault !== 'function') {
  globalThis.__importDefault = function __importDefault(mod) {
    return mod && mod.__esModule ? mod : { default: mod };
  };
}

if (typeof globalThis.__importStar !== 'function') {
  globalThis.__importStar = function __importStar(mod) {
    if (mod && mod.__esModule) return mod;
    const result = {};
    if (mod != null) {
      for (const k of Object.keys(mod)) {
        if (k !== 'default') result[k] = mod[k];
      }
    }
    result.default = mod;
    return result;
  };
}
