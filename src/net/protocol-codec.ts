import type { SaslAuthenticator } from '../auth/sasl-session.js';
import type { Request } from '../model/request.js';
import type { Response } from '../model/response.js';
import { BinaryParser } from '../protocol/binary/binary-parser.js';
import { writeBinaryResponse } from '../protocol/binary/binary-serializer.js';
import { writeMetaResponse } from '../protocol/meta/meta-serializer.js';
import { TextParser } from '../protocol/text/text-parser.js';
import { writeTextResponse, type ReplyWriter } from '../protocol/text/text-serializer.js';

/**
 * What a connection queues, whatever the protocol: a request with the way to write its
 * reply, a reply the parser produced on its own, or an order to hang up once replies are out.
 */
export type QueuedEvent =
  | { type: 'request'; request: Request; respond: (response: Response, write: ReplyWriter) => void; parsedAt?: number }
  | { type: 'reply'; data: string | Buffer }
  | { type: 'close' };

export type QueuedSink = (event: QueuedEvent) => void;

/** One connection's protocol: its parser, and the serializer that answers in the same protocol. */
export interface ProtocolCodec {
  feed(chunk: Buffer, push: QueuedSink): void;
}

export interface CodecOptions {
  itemSizeMax: number;
  sasl?: SaslAuthenticator;
}

export function textCodec(options: CodecOptions): ProtocolCodec {
  const parser = new TextParser({ itemSizeMax: options.itemSizeMax });
  return {
    feed(chunk, push) {
      parser.feed(chunk, (event) => {
        if (event.type === 'request') {
          const { request, meta } = event;
          push({
            type: 'request',
            request,
            respond: meta
              ? (response, write) => writeMetaResponse(request, meta, response, write)
              : (response, write) => writeTextResponse(request, response, write),
          });
        } else if (event.type === 'reply') {
          push({ type: 'reply', data: `${event.line}\r\n` });
        } else {
          push(event);
        }
      });
    },
  };
}

export function binaryCodec(options: CodecOptions): ProtocolCodec {
  const parser = new BinaryParser({ itemSizeMax: options.itemSizeMax, sasl: options.sasl });
  return {
    feed(chunk, push) {
      parser.feed(chunk, (event) => {
        if (event.type === 'request') {
          const { request, frame } = event;
          push({ type: 'request', request, respond: (response, write) => writeBinaryResponse(request, frame, response, write) });
        } else {
          push(event);
        }
      });
    },
  };
}

const BINARY_MAGIC = 0x80;

/**
 * memcached picks the protocol from a connection's first byte. With SASL on it speaks binary
 * only (memcached -S), so anything else is read as a binary header with a bad magic and closed.
 */
export function codecFor(firstByte: number, options: CodecOptions): ProtocolCodec {
  return firstByte === BINARY_MAGIC || options.sasl ? binaryCodec(options) : textCodec(options);
}
