import type { Request } from '../model/request.js';
import type { Response } from '../model/response.js';
import arithmetic from './arithmetic.js';
import deleteHandler from './delete.js';
import flushAll from './flush-all.js';
import get, { executeGets, isPlainGet } from './get.js';
import type { AnyCommandHandler, CommandContext } from './handler.js';
import metaDebug from './meta-debug.js';
import metaGet from './meta-get.js';
import { noop, quit, stats, verbosity, version } from './server-info.js';
import store, { executeSets, isPlainSetRequest } from './store.js';
import tooLarge from './too-large.js';
import touch from './touch.js';

const handlers: readonly AnyCommandHandler[] = [
  get, store, tooLarge, deleteHandler, arithmetic, touch, flushAll, version, verbosity, quit, noop, stats,
  metaGet, metaDebug,
];

const byKind = new Map(handlers.map((h) => [h.kind, h]));

/** Runs the handler for a request; infrastructure errors propagate to the caller. */
export function executeCommand(request: Request, ctx: CommandContext): Promise<Response> {
  const handler = byKind.get(request.kind) as { execute(r: Request, c: CommandContext): Promise<Response> };
  return handler.execute(request, ctx);
}

export { executeGets, executeSets, isPlainGet, isPlainSetRequest };
