/**
 * What the WAL checks before a producer's message enters the append path (DESIGN.md §9.5): bad
 * input gets a clear INVAILD_ARGUMENT, nothing is written, and the WAL keeps serving.
 */
import {
  MutableMessage,
  pchannelOfChannel,
  PropertyKey,
  StreamingError,
  validateProducerVChannel,
} from '../../../shared/index.js';

/** Vchannels remembered as belonging to the pchannel; the set starts over when it is full. */
const KNOWN_VCHANNELS_LIMIT = 4096;

/**
 * Checks producer messages for the WAL of one pchannel:
 * - the properties, with shared's `validateProducerProperties` (its allocation-free form): a known, producible `_t`; no
 *   node-only keys (`_tt _lc _lcs _wt _np`) or unknown `_` keys; well-formed reserved values;
 * - `_vc` names a vchannel of this pchannel (or the pchannel itself, for pchannel-level copies of a
 *   broadcast); vchannels that passed are remembered, so the hot path skips re-parsing them;
 * - the size (payload + property keys and values) is at most `maxMessageBytes`.
 * Transaction problems (unknown txn id, a body of another vchannel than its BeginTxn) are found
 * later by the txn interceptor (TRANSACTION_EXPIRED / INVAILD_ARGUMENT), before anything is written.
 */
export class AppendValidator {
  readonly #pchannel: string;
  readonly #maxMessageBytes: number;
  readonly #knownVChannels = new Set<string>();

  constructor(pchannel: string, maxMessageBytes: number) {
    this.#pchannel = pchannel;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** @throws StreamingError INVAILD_ARGUMENT naming the offending field. */
  validate(message: unknown): asserts message is MutableMessage {
    if (!(message instanceof MutableMessage)) throw StreamingError.invalidArgument('message', 'append takes a MutableMessage');
    const vchannel = validateProducerVChannel(message.properties);
    if (vchannel !== undefined && !this.#knownVChannels.has(vchannel)) {
      const owner = pchannelOfChannel(vchannel, PropertyKey.VChannel);
      if (owner !== this.#pchannel) {
        throw StreamingError.invalidArgument(PropertyKey.VChannel, `${JSON.stringify(vchannel)} belongs to pchannel ${owner}, not to ${this.#pchannel}`);
      }
      if (this.#knownVChannels.size >= KNOWN_VCHANNELS_LIMIT) this.#knownVChannels.clear();
      this.#knownVChannels.add(vchannel);
    }
    const size = message.estimateSize();
    if (size > this.#maxMessageBytes) {
      throw StreamingError.invalidArgument('message size', `${size} bytes (payload and properties) exceeds the limit of ${this.#maxMessageBytes} bytes`);
    }
  }
}

/**
 * One-off form of {@link AppendValidator.validate}.
 *
 * @throws StreamingError INVAILD_ARGUMENT naming the offending field.
 */
export function validateAppendMessage(message: unknown, pchannel: string, maxMessageBytes: number): asserts message is MutableMessage {
  const validator: AppendValidator = new AppendValidator(pchannel, maxMessageBytes);
  validator.validate(message);
}
