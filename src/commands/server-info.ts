import { generalStats } from '../stats/stats-report.js';
import type { CommandHandler } from './handler.js';

export const version = {
  async execute(_request, { settings }) {
    return { kind: 'version', version: settings.version };
  },
} satisfies CommandHandler<'version'>;

// Accepted and answered like memcached; logging verbosity is our logger's setting instead.
export const verbosity = {
  async execute() {
    return { kind: 'ok' };
  },
} satisfies CommandHandler<'verbosity'>;

export const quit = {
  async execute() {
    return { kind: 'quit' };
  },
} satisfies CommandHandler<'quit'>;

export const noop = {
  async execute() {
    return { kind: 'ok' };
  },
} satisfies CommandHandler<'noop'>;

// Slabs, items and sizes describe memcached's memory; a table has none, so they are empty.
const EMPTY_GROUPS = new Set(['items', 'slabs', 'sizes', 'conns']);

export const stats = {
  async execute(request, ctx) {
    const group = request.group;
    if (group === '') {
      const [databaseTime, extra] = await Promise.all([ctx.databaseTime(), ctx.extraStats()]);
      return {
        kind: 'stats',
        entries: generalStats({ stats: ctx.stats, version: ctx.settings.version, databaseTime, extra }),
      };
    }
    const name = group.split(' ')[0]!;
    if (name === 'settings') return { kind: 'stats', entries: ctx.settings.report };
    if (name === 'reset') {
      ctx.stats.reset();
      return { kind: 'reset' };
    }
    if (EMPTY_GROUPS.has(name)) return { kind: 'stats', entries: [] };
    return { kind: 'unknownCommand' };
  },
} satisfies CommandHandler<'stats'>;
