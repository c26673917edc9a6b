// gmemd token create|list|revoke: the token API (admin only).
import type { Command } from '../context.js';

export const tokenCommands: Command[] = [];
