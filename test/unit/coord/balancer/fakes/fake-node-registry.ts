/**
 * An in-memory {@link NodeRegistry} for balancer tests: nodes join, leave and start stopping on
 * command, each change publishes a new view (revision + 1), and every node is a
 * {@link FakeNodeClient} writing into one shared call log.
 */
import { BehaviorSubject, type Observable } from 'rxjs';
import type { NodeRegistry, NodeView, StreamingNodeStatus } from '../../../../../coord/discovery/index.js';
import { FakeNodeClient, type NodeCall, type NodeOp } from './fake-node-client.js';

export class FakeNodeRegistry implements NodeRegistry {
  /** Every call to every node, in arrival order. */
  readonly calls: NodeCall[] = [];
  /** Clients by server id, including nodes that left (their open WALs stay inspectable). */
  readonly clients = new Map<bigint, FakeNodeClient>();
  readonly #subject = new BehaviorSubject<NodeView>({ revision: 0, nodes: new Map() });
  readonly views$: Observable<NodeView> = this.#subject.asObservable();
  closeCalls = 0;

  current(): NodeView {
    return this.#subject.getValue();
  }

  client(serverId: bigint): FakeNodeClient | undefined {
    return this.current().nodes.has(serverId) ? this.clients.get(serverId) : undefined;
  }

  /** The client of a node, present or gone; throws if it never existed. */
  node(serverId: bigint | number): FakeNodeClient {
    const c = this.clients.get(BigInt(serverId));
    if (c === undefined) throw new Error(`no fake node ${serverId}`);
    return c;
  }

  /** Nodes join (one new view for all of them). Re-joining a left id reuses its client. */
  join(...serverIds: (bigint | number)[]): void {
    this.#update((nodes) => {
      for (const raw of serverIds) {
        const serverId = BigInt(raw);
        const address = `10.0.0.${serverId}:22222`;
        if (!this.clients.has(serverId)) this.clients.set(serverId, new FakeNodeClient(serverId, address, this.calls));
        nodes.set(serverId, { serverId, address, stopping: false });
      }
    });
  }

  /** Nodes leave (their sessions are gone). */
  leave(...serverIds: (bigint | number)[]): void {
    this.#update((nodes) => {
      for (const id of serverIds) nodes.delete(BigInt(id));
    });
  }

  /** A node's session turns `stopping`. */
  stop(serverId: bigint | number): void {
    this.#update((nodes) => {
      const n = nodes.get(BigInt(serverId));
      if (n !== undefined) nodes.set(n.serverId, { ...n, stopping: true });
    });
  }

  /** Calls of `op`, optionally on one node only. */
  callsOf(op: NodeOp, serverId?: bigint | number): NodeCall[] {
    return this.calls.filter((c) => c.op === op && (serverId === undefined || c.serverId === BigInt(serverId)));
  }

  /** Channel → term open on each node still present, e.g. for "every channel open exactly once". */
  openWals(): Map<string, { serverId: bigint; term: bigint }[]> {
    const out = new Map<string, { serverId: bigint; term: bigint }[]>();
    for (const id of this.current().nodes.keys()) {
      for (const [name, term] of this.node(id).open) {
        const list = out.get(name) ?? [];
        list.push({ serverId: id, term });
        out.set(name, list);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.closeCalls++;
  }

  #update(change: (nodes: Map<bigint, StreamingNodeStatus>) => void): void {
    const view = this.current();
    const nodes = new Map(view.nodes);
    change(nodes);
    this.#subject.next({ revision: view.revision + 1, nodes });
  }
}
