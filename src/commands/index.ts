import type { Request } from '../model/request.js';
import type { Response } from '../model/response.js';
import arithmetic from './arithmetic.js';
import deleteHandler from './delete.js';
import flushAll from './flush-all.js';
import get from './get.js';
import type { CommandContext, CommandHandler, CommandRegistry } from './handler.js';
import metaDebug from './meta-debug.js';
import metaGet from './meta-get.js';
import { noop, quit, stats, verbosity, version } from './server-info.js';
import store from './store.js';
import tooLarge from './too-large.js';
import touch from './touch.js';

export const handlers: CommandRegistry = {
  get, store, tooLarge, delete: deleteHandler, arith: arithmetic, touch, flush: flushAll, version, verbosity, quit, noop, stats,
  metaGet, metaDebug,
};

/** The handler of a request's kind, typed for any request (the registry is keyed by kind). */
export function handlerFor(request: Request): CommandHandler<Request['kind']> {
  return handlers[request.kind] as unknown as CommandHandler<Request['kind']>;
}

/** Runs the handler for a request; infrastructure errors propagate to the caller. */
export function executeCommand(request: Request, ctx: CommandContext): Promise<Response> {
  return handlerFor(request).execute(request, ctx);
}
