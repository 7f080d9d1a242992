/**
 * Deliver filters compiled into one predicate (Milvus `options.GetFilterFunc`,
 * reference/milvus-node.md §4.1). The scanner applies it to every raw WAL message before the
 * reorder and txn stages, so it sees BeginTxn, bodies and CommitTxn separately.
 */
import { StreamingError } from '../../../shared/errors/index.js';
import {
  type DeliverFilter,
  type ImmutableMessage,
  isSystemMessageType,
  MessageType,
  messageTypeName,
} from '../../../shared/message/index.js';

/** Keeps a message when it returns true. */
export type MessagePredicate = (message: ImmutableMessage) => boolean;

const KEEP_ALL: MessagePredicate = () => true;

/**
 * Whether the time tick filters judge `message`. A transaction's position in the time tick order
 * is its commit's tick, so only the CommitTxn decides whether the transaction is delivered: its
 * BeginTxn and bodies (older ticks) must pass, or a transaction committing after the filter's
 * tick would be assembled without them. Non-txn messages (TimeTick included) are judged directly.
 */
function judgedByTimeTick(message: ImmutableMessage): boolean {
  return message.txnContext === undefined || message.messageType === MessageType.CommitTxn;
}

function compileOne(filter: DeliverFilter): MessagePredicate {
  switch (filter.kind) {
    case 'timeTickGt': {
      const bound = filter.timeTick;
      return (m) => !judgedByTimeTick(m) || m.timeTick > bound;
    }
    case 'timeTickGte': {
      const bound = filter.timeTick;
      return (m) => !judgedByTimeTick(m) || m.timeTick >= bound;
    }
    case 'messageType': {
      for (const type of filter.types) {
        if (isSystemMessageType(type)) {
          throw StreamingError.invalidArgument('deliver_filters.message_type', `system type ${messageTypeName(type)} cannot be filtered`);
        }
      }
      const types: ReadonlySet<MessageType> = new Set(filter.types);
      // System messages (ticks, txn control) always pass: without them nothing could be ordered
      // or assembled.
      return (m) => {
        const type = m.messageType;
        return isSystemMessageType(type) || types.has(type);
      };
    }
    default:
      throw StreamingError.invalidArgument('deliver_filters', `unknown filter ${JSON.stringify((filter as { kind?: unknown }).kind)}`);
  }
}

/**
 * Compiles AND-combined filters into one predicate:
 * - `timeTickGt` / `timeTickGte` keep messages above (or at) the tick; they judge non-txn messages
 *   and CommitTxn only, the other messages of a transaction always pass;
 * - `messageType` keeps the listed types and every system type (TimeTick, BeginTxn, CommitTxn,
 *   RollbackTxn, Txn).
 *
 * @throws StreamingError INVAILD_ARGUMENT for an unknown filter or a system type in a type filter
 *   (Milvus panics there).
 * @example
 * ```ts
 * const keep = compileDeliverFilters([{ kind: 'timeTickGt', timeTick: checkpoint.timeTick }]);
 * if (keep(message)) reorder.push(message);
 * ```
 */
export function compileDeliverFilters(filters: readonly DeliverFilter[] = []): MessagePredicate {
  const predicates = filters.map(compileOne);
  if (predicates.length === 0) return KEEP_ALL;
  if (predicates.length === 1) return predicates[0] as MessagePredicate;
  return (m) => {
    for (const keep of predicates) if (!keep(m)) return false;
    return true;
  };
}
