import type { MetaFrame } from './meta/meta-frame.js';
import type { Request } from '../model/request.js';

/**
 * What a wire parser hands to the connection, in stream order: a request to execute, a reply
 * the parser can give on its own (syntax errors), or an order to hang up after flushing.
 */
export type ParseEvent =
  /** meta: how the meta command wants its reply phrased */
  | { type: 'request'; request: Request; meta?: MetaFrame }
  | { type: 'reply'; line: string }
  | { type: 'close' };

export type ParseSink = (event: ParseEvent) => void;
