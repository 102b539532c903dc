// This process's name among the replicas of a fleet: /stats shows which replica answered, and
// shared-store reservations are held under it (governance/fleet.ts). Unique per process start.

import { hostname } from 'node:os';
import { crypto } from './builtins.ts';

export const REPLICA = `${hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
