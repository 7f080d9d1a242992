/**
 * `StreamingCoordBroadcastService` (Milvus `service/broadcast.go`): `Broadcast` and `Ack` need the
 * broadcaster (persisted tasks, resource-key locks, acks; reference `milvus-coord.md` §5), which
 * is not built yet. Until it is, both answer gRPC UNIMPLEMENTED with a clear message, so a Milvus
 * client fails fast instead of waiting for a broadcast that will never run.
 */
import type { StreamingCoordBroadcastServiceHandlers } from '../../shared/index.js';
import { unimplementedHandler } from './unary-handler.js';

const NOT_YET = 'the coordinator has no broadcaster yet (broadcast tasks are a planned feature)';

/** The handlers of `StreamingCoordBroadcastService`: both UNIMPLEMENTED for now. */
export function broadcastServiceHandlers(): StreamingCoordBroadcastServiceHandlers {
  return {
    Broadcast: unimplementedHandler('Broadcast', NOT_YET),
    Ack: unimplementedHandler('Ack', NOT_YET),
  };
}
