/**
 * The transaction side of one append in the time tick interceptor (Milvus `handleBegin`,
 * `handleCommit`, `handleRollback`, `handleTxnMessage`): what to check before the message is
 * appended and what to record after.
 */
import {
  isExclusiveRequiredMessageType,
  MessageType,
  messageTypeName,
  type MutableMessage,
  readBeginTxnKeepaliveMs,
  StreamingError,
} from '../../../../shared/index.js';
import type { TxnManager, TxnSession } from '../txn/index.js';

/** A prepared transaction step: append {@link message}, then call {@link finish} exactly once. */
export interface TxnStep {
  readonly session: TxnSession;
  /** The message to append (BeginTxn gets its `_tx` here). */
  readonly message: MutableMessage;
  /** Records the append's outcome in the session. */
  finish(appended: boolean): void;
}

/**
 * Prepares the transaction step of `message` (stamped with `timeTick`), or returns undefined for a
 * message outside any transaction. A promise only for CommitTxn / RollbackTxn.
 *
 * - BeginTxn: opens a session; appended → in flight, failed → rolled back.
 * - CommitTxn / RollbackTxn: the session moves to onCommit / onRollback and the call waits for
 *   its bodies in flight; afterwards the session is finished whether or not the append
 *   succeeded, as in Milvus: nothing can be appended to it any more, so the client starts over.
 * - Body (any other message with `_tx`): counted in flight; appended → the lease is refreshed to
 *   its tick, failed → no refresh.
 *
 * @throws StreamingError TRANSACTION_EXPIRED (unknown, expired or failed transaction, or the
 *   manager is closing), INVALID_TRANSACTION_STATE (e.g. a body after the commit started),
 *   INVAILD_ARGUMENT (missing `_tx` on commit/rollback, vchannel other than the BeginTxn's, an
 *   exclusive message type inside a transaction), synchronously or as the rejection of the
 *   returned promise; the abort reason while waiting for bodies.
 */
export function prepareTxn(
  txns: TxnManager,
  message: MutableMessage,
  timeTick: bigint,
  signal: AbortSignal | undefined,
): TxnStep | undefined | Promise<TxnStep> {
  // Only commit and rollback wait; everything else is prepared synchronously, so the append path
  // of a plain message spends no promise and no turn here.
  switch (message.messageType) {
    case MessageType.BeginTxn:
      return beginStep(txns, message, timeTick);
    case MessageType.CommitTxn:
      return commitStep(txns, message, timeTick, signal);
    case MessageType.RollbackTxn:
      return rollbackStep(txns, message, timeTick, signal);
    default: {
      if (message.txnContext === undefined) return undefined;
      if (isExclusiveRequiredMessageType(message.messageType)) {
        // Its lock release would fail its own transaction (see the lock interceptor).
        throw StreamingError.invalidArgument('_tx', `${messageTypeName(message.messageType)} cannot be part of a transaction`);
      }
      const session = sessionOf(txns, message);
      session.addNewMessage(timeTick);
      return {
        session,
        message,
        finish: (appended) => (appended ? session.addNewMessageDoneAndKeepalive(timeTick) : session.addNewMessageFail()),
      };
    }
  }
}

async function commitStep(txns: TxnManager, message: MutableMessage, timeTick: bigint, signal: AbortSignal | undefined): Promise<TxnStep> {
  const session = sessionOf(txns, message);
  await session.requestCommitAndWait(timeTick, { signal });
  return { session, message, finish: () => session.commitDone() };
}

async function rollbackStep(txns: TxnManager, message: MutableMessage, timeTick: bigint, signal: AbortSignal | undefined): Promise<TxnStep> {
  const session = sessionOf(txns, message);
  await session.requestRollback(timeTick, { signal });
  return { session, message, finish: () => session.rollbackDone() };
}

function beginStep(txns: TxnManager, message: MutableMessage, timeTick: bigint): TxnStep {
  const vchannel = message.vchannel;
  if (vchannel === undefined) throw StreamingError.invalidArgument('_vc', 'BeginTxn needs a vchannel');
  const keepaliveMs = readBeginTxnKeepaliveMs(message);
  const session = txns.beginNewTxn({ vchannel, timeTick, keepaliveMs });
  return {
    session,
    message: message.withTxnContext(session.txnContext),
    finish: (appended) => (appended ? session.beginDone() : session.beginRollback()),
  };
}

/** The open session a message of a transaction belongs to, checked against its vchannel. */
function sessionOf(txns: TxnManager, message: MutableMessage): TxnSession {
  const txn = message.txnContext;
  if (txn === undefined) {
    throw StreamingError.invalidArgument('_tx', `${messageTypeName(message.messageType)} must carry the transaction context`);
  }
  const session = txns.getSessionOfTxn(txn.txnId);
  if (message.vchannel !== session.vchannel) {
    throw StreamingError.invalidArgument(
      '_vc',
      `transaction ${txn.txnId} belongs to vchannel ${session.vchannel}, not ${message.vchannel ?? '(none)'}`,
    );
  }
  return session;
}
