// Binary protocol constants as memcached 1.6.18 defines them (protocol_binary.h).

export const REQUEST_MAGIC = 0x80;
export const RESPONSE_MAGIC = 0x81;
export const HEADER_LENGTH = 24;

export const Opcode = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  REPLACE: 0x03,
  DELETE: 0x04,
  INCREMENT: 0x05,
  DECREMENT: 0x06,
  QUIT: 0x07,
  FLUSH: 0x08,
  GETQ: 0x09,
  NOOP: 0x0a,
  VERSION: 0x0b,
  GETK: 0x0c,
  GETKQ: 0x0d,
  APPEND: 0x0e,
  PREPEND: 0x0f,
  STAT: 0x10,
  SETQ: 0x11,
  ADDQ: 0x12,
  REPLACEQ: 0x13,
  DELETEQ: 0x14,
  INCREMENTQ: 0x15,
  DECREMENTQ: 0x16,
  QUITQ: 0x17,
  FLUSHQ: 0x18,
  APPENDQ: 0x19,
  PREPENDQ: 0x1a,
  TOUCH: 0x1c,
  GAT: 0x1d,
  GATQ: 0x1e,
  SASL_LIST_MECHS: 0x20,
  SASL_AUTH: 0x21,
  SASL_STEP: 0x22,
  GATK: 0x23,
  GATKQ: 0x24,
} as const;

/** Quiet opcodes and the loud opcode memcached treats them as (dispatch_bin_command). */
export const QUIET_TO_LOUD: ReadonlyMap<number, number> = new Map([
  [Opcode.SETQ, Opcode.SET],
  [Opcode.ADDQ, Opcode.ADD],
  [Opcode.REPLACEQ, Opcode.REPLACE],
  [Opcode.DELETEQ, Opcode.DELETE],
  [Opcode.INCREMENTQ, Opcode.INCREMENT],
  [Opcode.DECREMENTQ, Opcode.DECREMENT],
  [Opcode.QUITQ, Opcode.QUIT],
  [Opcode.FLUSHQ, Opcode.FLUSH],
  [Opcode.APPENDQ, Opcode.APPEND],
  [Opcode.PREPENDQ, Opcode.PREPEND],
  [Opcode.GETQ, Opcode.GET],
  [Opcode.GETKQ, Opcode.GETK],
  [Opcode.GATQ, Opcode.GAT],
  [Opcode.GATKQ, Opcode.GATK],
]);

export const Status = {
  SUCCESS: 0x00,
  KEY_ENOENT: 0x01,
  KEY_EEXISTS: 0x02,
  E2BIG: 0x03,
  EINVAL: 0x04,
  NOT_STORED: 0x05,
  DELTA_BADVAL: 0x06,
  AUTH_ERROR: 0x20,
  AUTH_CONTINUE: 0x21,
  UNKNOWN_COMMAND: 0x81,
  ENOMEM: 0x82,
  /**
   * Not in memcached 1.6.18's header but in the protocol's later revisions and in libmemcached
   * (ETMPFAIL): what a gateway answers when its database cannot be reached.
   */
  ETMPFAIL: 0x86,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

/** The text memcached puts in the body of an error reply (write_bin_error). */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  [Status.ENOMEM]: 'Out of memory',
  [Status.UNKNOWN_COMMAND]: 'Unknown command',
  [Status.KEY_ENOENT]: 'Not found',
  [Status.EINVAL]: 'Invalid arguments',
  [Status.KEY_EEXISTS]: 'Data exists for key.',
  [Status.E2BIG]: 'Too large.',
  [Status.DELTA_BADVAL]: 'Non-numeric server-side value for incr or decr',
  [Status.NOT_STORED]: 'Not stored.',
  [Status.AUTH_ERROR]: 'Auth failure.',
};

/** memcached's MAX_SASL_MECH_LEN */
export const MAX_SASL_MECH_LENGTH = 32;
