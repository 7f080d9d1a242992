/**
 * A committed transaction as the scanner delivers it (Milvus `ImmutableTxnMessage`): one message
 * of type Txn standing for BeginTxn + bodies + CommitTxn, positioned at the commit.
 */
import {
  encodeUint64Property,
  ImmutableMessage,
  marshalMessageType,
  type MessageId,
  MessageType,
  messageTypeVersion,
  PropertyKey,
  type TxnContext,
} from '../../../shared/message/index.js';

/** What the scanner pipeline emits: a plain message or an assembled transaction. */
export type ScannedMessage = ImmutableMessage | ImmutableTxnMessage;

/** True when `message` is an assembled transaction. */
export function isImmutableTxnMessage(message: ScannedMessage): message is ImmutableTxnMessage {
  return message instanceof ImmutableTxnMessage;
}

/**
 * A committed transaction. Its own identity is the commit's: {@link messageId}, {@link timeTick}
 * and {@link lastConfirmedMessageId} are the CommitTxn message's, {@link vchannel} is the
 * BeginTxn's. Consumers therefore see the whole transaction at one point of the time tick order,
 * the commit.
 *
 * - `begin` and `commit` are the WAL's messages unchanged.
 * - `bodies` are re-stamped with the commit's time tick and last confirmed id
 *   (`withTxnCommitStamp`), as Milvus overwrites them, so a consumer that records the position of
 *   any body resumes after the whole transaction.
 * - {@link envelope} is a real {@link ImmutableMessage} of type Txn carrying those properties
 *   (`_t`, `_v`, `_vc`, `_tt`, `_lc`, `_tx`), for code that only needs the header of the transaction
 *   (filters, logs). It has an empty payload.
 * - On a remote stream a transaction is sent flattened ({@link flatten}): Begin, bodies, Commit.
 */
export class ImmutableTxnMessage {
  readonly envelope: ImmutableMessage;
  readonly begin: ImmutableMessage;
  readonly bodies: readonly ImmutableMessage[];
  readonly commit: ImmutableMessage;

  /** Use {@link ImmutableTxnMessage.assemble}. */
  private constructor(envelope: ImmutableMessage, begin: ImmutableMessage, bodies: readonly ImmutableMessage[], commit: ImmutableMessage) {
    this.envelope = envelope;
    this.begin = begin;
    this.bodies = bodies;
    this.commit = commit;
  }

  /**
   * Assembles a transaction from its WAL messages; the bodies are re-stamped here.
   *
   * @throws StreamingError INVAILD_ARGUMENT when the commit lacks `_tt` or `_lc`.
   */
  static assemble(begin: ImmutableMessage, bodies: readonly ImmutableMessage[], commit: ImmutableMessage): ImmutableTxnMessage {
    const timeTick = commit.timeTick;
    const lastConfirmed = commit.lastConfirmedMessageId;
    const properties: Record<string, string> = {
      [PropertyKey.MessageType]: marshalMessageType(MessageType.Txn),
      [PropertyKey.Version]: String(messageTypeVersion(MessageType.Txn)),
      [PropertyKey.Header]: '',
      [PropertyKey.TimeTick]: encodeUint64Property(PropertyKey.TimeTick, timeTick),
      [PropertyKey.LastConfirmed]: lastConfirmed.marshal(),
    };
    const vchannel = begin.vchannel;
    if (vchannel !== undefined) properties[PropertyKey.VChannel] = vchannel;
    const txn = commit.property(PropertyKey.TxnContext);
    if (txn !== undefined) properties[PropertyKey.TxnContext] = txn;
    const envelope = ImmutableMessage.create(commit.messageId, Buffer.alloc(0), properties);
    const stamped = Object.freeze(bodies.map((body) => body.withTxnCommitStamp(timeTick, lastConfirmed)));
    return new ImmutableTxnMessage(envelope, begin, stamped, commit);
  }

  /** Always {@link MessageType.Txn}. */
  get messageType(): MessageType.Txn {
    return MessageType.Txn;
  }

  /** The commit's id. */
  get messageId(): MessageId {
    return this.commit.messageId;
  }

  /** The commit's time tick. */
  get timeTick(): bigint {
    return this.commit.timeTick;
  }

  /** The commit's last confirmed id. */
  get lastConfirmedMessageId(): MessageId {
    return this.commit.lastConfirmedMessageId;
  }

  /** The vchannel of the BeginTxn (undefined = every vchannel). */
  get vchannel(): string | undefined {
    return this.begin.vchannel;
  }

  /** The transaction context carried by the commit. */
  get txnContext(): TxnContext | undefined {
    return this.commit.txnContext;
  }

  /** Sum of the estimated sizes of begin, bodies and commit. */
  estimateSize(): number {
    let size = this.begin.estimateSize() + this.commit.estimateSize();
    for (const body of this.bodies) size += body.estimateSize();
    return size;
  }

  /** The wire form: Begin, each (re-stamped) body, Commit. */
  flatten(): ImmutableMessage[] {
    return [this.begin, ...this.bodies, this.commit];
  }

  toString(): string {
    return `ImmutableTxnMessage(id=${this.messageId}, vchannel=${this.vchannel ?? '*'}, bodies=${this.bodies.length})`;
  }
}
