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

// `stats sizes` describes memcached's memory, which a table has not; per-connection details
// (`stats conns`) are not kept. Both answer empty.
const EMPTY_GROUPS = new Set(['sizes', 'conns']);

export const stats = {
  async execute(request, ctx) {
    const group = request.group;
    if (group === '') return { kind: 'stats', entries: await ctx.statsGroup('general') };
    const name = group.split(' ')[0]!;
    // The item table, presented as one slab class (src/stats/slab-report.ts).
    if (name === 'items' || name === 'slabs') return { kind: 'stats', entries: await ctx.statsGroup(name) };
    if (name === 'settings') return { kind: 'stats', entries: ctx.settings.report };
    if (name === 'reset') {
      ctx.stats.reset();
      return { kind: 'reset' };
    }
    if (EMPTY_GROUPS.has(name)) return { kind: 'stats', entries: [] };
    return { kind: 'unknownCommand' };
  },
} satisfies CommandHandler<'stats'>;
