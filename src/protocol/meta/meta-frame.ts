/**
 * How a meta reply is phrased: what the parser keeps beside a request for the serializer,
 * as BinaryFrame does for the binary protocol. Handlers never see it.
 */
export interface MetaFrame {
  /**
   * Flags that return something, in request order: single letters (s t c f l h k) or a
   * whole opaque token ('O…', echoed as sent).
   */
  returns: string[];
  /** the key as the command named it (decoded when base64), for k on a miss */
  key: Buffer;
  /** b: the key travels base64-encoded */
  base64: boolean;
  /** q: nominal replies are left out */
  quiet: boolean;
  /** v: the value comes back in a data block */
  value: boolean;
  /** an opaque token longer than memcached echoes: the reply is an error once the command ran */
  opaqueTooLong: boolean;
}
