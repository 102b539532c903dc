// The in-memory ledger against the backend contract.

import { MemoryLedger } from '../../src/ledger/memory.ts';
import { ledgerContract } from './contract.ts';

const shared = new MemoryLedger();
ledgerContract('memory', () => shared);
