/**
 * The node's serving state, in one place, for everything that reports or depends on it:
 * `GetComponentStates` (Milvus StateCode), the standard gRPC health service (SERVING /
 * NOT_SERVING), and the manager service (which refuses Assign while the node is not serving).
 */

/**
 * - `initializing`: starting, or fenced and re-registering (no session: nobody should send work);
 * - `healthy`: registered and serving;
 * - `stopping`: graceful shutdown began; terminal.
 */
export type NodeServingState = 'initializing' | 'healthy' | 'stopping';

/** Milvus `commonpb.StateCode` names of each state. */
export const STATE_CODE_OF: Readonly<Record<NodeServingState, 'Initializing' | 'Healthy' | 'Stopping'>> = Object.freeze({
  initializing: 'Initializing',
  healthy: 'Healthy',
  stopping: 'Stopping',
});

/** A listener of {@link NodeHealth.onChange}. */
export type NodeHealthListener = (state: NodeServingState) => void;

/**
 * The serving state and current server id of a node. Moves `initializing ⇄ healthy → stopping`;
 * once `stopping`, it stays there.
 *
 * @example
 * ```ts
 * const health = new NodeHealth();
 * const off = health.onChange((s) => log.info({ state: s }, 'node state'));
 * health.setServerId(7n);
 * health.setState('healthy');
 * ```
 */
export class NodeHealth {
  #state: NodeServingState = 'initializing';
  /** 0 until the first session registration (Milvus reports node id 0 before it has one). */
  #serverId = 0n;
  readonly #listeners = new Set<NodeHealthListener>();

  get state(): NodeServingState {
    return this.#state;
  }

  get serverId(): bigint {
    return this.#serverId;
  }

  /** True while `healthy`. */
  isServing(): boolean {
    return this.#state === 'healthy';
  }

  /** Moves to `state` and tells the listeners; ignored once `stopping`, or when nothing changes. */
  setState(state: NodeServingState): void {
    if (this.#state === 'stopping' || this.#state === state) return;
    this.#state = state;
    for (const listener of [...this.#listeners]) listener(state);
  }

  setServerId(serverId: bigint): void {
    this.#serverId = serverId;
  }

  /** Calls `listener` on every state change; returns the function that unsubscribes it. */
  onChange(listener: NodeHealthListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}
