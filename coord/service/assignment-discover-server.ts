/**
 * `StreamingCoordAssignmentService.AssignmentDiscover` (Milvus `discover.AssignmentDiscoverServer`,
 * reference `milvus-coord.md` §4.1): every client and node learns the pchannel → node map here.
 *
 * Expected message sequence of one stream:
 * ```
 *   client                                  server
 *   ── open ───────────────────────────────▶
 *                                           ◀── full_assignment (version v0, at once, even if empty)
 *                                           ◀── full_assignment (v1 > v0)   on every version change;
 *                                           ◀── full_assignment (v3 > v1)   intermediate versions may merge
 *   ── report_error {pchannel@term, err} ──▶   balancer.reportError: UNAVAILABLE if still ASSIGNED at
 *                                              that term, then a round re-assigns it at term+1; a stale
 *                                              term or an unknown pchannel is a logged no-op
 *   ── close (or half-close) ──────────────▶
 *                                           ◀── close
 *                                           ◀── status OK
 * ```
 * Other endings: the client cancels (nothing more is sent); the server shuts down or the channel
 * manager closes (status ON_SHUTDOWN); a write fails (the call is broken; ended with its error).
 *
 * Two loops per stream (STYLE §10 rule 13): the send arm takes the latest state, skips it unless
 * its version is newer than the last sent, and writes it, waiting for HTTP/2 to take the write
 * before the next; the recv arm reads one request at a time. State comes from one shared rxjs feed,
 * `combineLatest(channel snapshots, node views)`, through a {@link LatestSlot}: a slow client costs
 * one unsent snapshot plus one in the call, however many versions go by. Node changes reach
 * clients because the balancer bumps the version on each view change (`triggerWatchUpdate`, as
 * Milvus); a node change without a bump goes out with the next version.
 */
import { combineLatest, endWith, ignoreElements, map, shareReplay, takeUntil } from 'rxjs';
import type { Observable } from 'rxjs';
import {
  CallReader,
  Lifecycle,
  StreamingCode,
  StreamingError,
  asStreamingError,
  failServerStream,
  formatPChannelInfo,
  noopLogger,
  pchannelInfoFromProto,
  streamingErrorFromProto,
} from '../../shared/index.js';
import type { Logger, ProtoOutput, StreamingCoordAssignmentServiceHandlers } from '../../shared/index.js';
import type { Balancer } from '../balancer/index.js';
import type { ChannelManager, ChannelManagerSnapshot, VersionPair } from '../channel/index.js';
import { formatVersionPair, isNewerVersion } from '../channel/index.js';
import type { NodeRegistry, NodeView } from '../discovery/index.js';
import { CallWriter, type WriterStats } from './call-writer.js';
import { type AssignmentDiscoverResponseProto, buildFullAssignment, closeResponse, fullAssignmentToProto } from './full-assignment.js';
import { LatestSlot } from './latest-slot.js';

type DiscoverHandler = StreamingCoordAssignmentServiceHandlers['AssignmentDiscover'];
type DiscoverCall = Parameters<DiscoverHandler>[0];
type DiscoverRequest = ProtoOutput<'milvus.proto.streaming.AssignmentDiscoverRequest'>;

/** What the discovery server reads and calls. */
export interface AssignmentDiscoverServerOptions {
  readonly channels: Pick<ChannelManager, 'snapshots$' | 'streamingVersion'>;
  readonly registry: Pick<NodeRegistry, 'views$'>;
  readonly balancer: Pick<Balancer, 'reportError'>;
  readonly logger?: Logger;
}

/** Diagnostics of one open stream. */
export interface DiscoverStreamStats {
  readonly id: number;
  readonly peer: string;
  /** `full_assignment` frames written. */
  readonly sent: number;
  readonly lastSentVersion: VersionPair | undefined;
  /** Backpressure counters: `maxInFlight` / `maxQueued` stay ≤ 1 whatever the client does. */
  readonly writer: WriterStats;
}

/** One state of the feed: a channel snapshot and the node view it was combined with. */
interface FeedState {
  readonly snapshot: ChannelManagerSnapshot;
  readonly view: NodeView;
}

/** Why a stream ended; the first reason wins. */
type StreamEnd = { readonly kind: 'client-closed'; readonly how: 'close' | 'eof' } | { readonly kind: 'cancelled' } | { readonly kind: 'failed'; readonly error: StreamingError };

/** The handler and the registry of open streams; see the module comment. */
export class AssignmentDiscoverServer {
  readonly #life = new Lifecycle({ name: 'assignment discover server' });
  readonly #feed: Observable<FeedState>;
  readonly #options: AssignmentDiscoverServerOptions;
  readonly #logger: Logger;
  readonly #streams = new Set<DiscoverStream>();
  #nextId = 1;
  #memo: { state: FeedState; message: AssignmentDiscoverResponseProto } | undefined;

  constructor(options: AssignmentDiscoverServerOptions) {
    this.#options = options;
    this.#logger = (options.logger ?? noopLogger).child({ component: 'assignment-discover' });
    // combineLatest completes only when every source has: end the node views with the channel
    // manager, whose completion means the coordinator is shutting down.
    const channelsDone$ = options.channels.snapshots$.pipe(ignoreElements(), endWith(true));
    const views$ = options.registry.views$.pipe(takeUntil(channelsDone$));
    this.#feed = combineLatest([options.channels.snapshots$, views$]).pipe(
      map(([snapshot, view]): FeedState => ({ snapshot, view })),
      shareReplay({ bufferSize: 1, refCount: true }),
    );
    this.#life.markRunning();
  }

  /** The grpc-js bidi handler. */
  readonly handler: DiscoverHandler = (call) => {
    if (!this.#life.isRunning) {
      failServerStream(call, StreamingError.onShutdown('assignment discover server is closed'));
      return;
    }
    const id = this.#nextId++;
    const logger = this.#logger.child({ stream: id, peer: call.getPeer() });
    const stream = new DiscoverStream(id, call, this.#feed, (s) => this.#messageFor(s), this.#options.balancer, logger);
    const untrack = this.#life.track(stream);
    this.#streams.add(stream);
    void stream
      .run()
      .catch((err: unknown) => logger.error({ err }, 'assignment discover stream crashed'))
      .finally(() => {
        untrack();
        this.#streams.delete(stream);
      });
  };

  /** The open streams. */
  streams(): DiscoverStreamStats[] {
    return [...this.#streams].map((s) => s.stats());
  }

  /** Ends every stream with ON_SHUTDOWN and refuses new ones. Idempotent. */
  close(reason?: Error): Promise<void> {
    return this.#life.close(reason);
  }

  /** Resolves (never rejects) once closed. */
  closed(): Promise<void | Error> {
    return this.#life.closed();
  }
  /** Every stream sends the same object for the same state: built once, not once per watcher. */
  #messageFor(state: FeedState): AssignmentDiscoverResponseProto {
    if (this.#memo?.state !== state) {
      const full = buildFullAssignment(state.snapshot, state.view, this.#options.channels.streamingVersion);
      this.#memo = { state, message: fullAssignmentToProto(full) };
    }
    return this.#memo.message;
  }
}

/** One AssignmentDiscover call: the two arms and how the call ends. */
class DiscoverStream {
  readonly #abort = new AbortController();
  readonly #writer: CallWriter<AssignmentDiscoverResponseProto>;
  #end: StreamEnd | undefined;
  #done: Promise<void> | undefined;
  #sent = 0;
  #lastSent: VersionPair | undefined;

  constructor(
    readonly id: number,
    private readonly call: DiscoverCall,
    private readonly feed: Observable<FeedState>,
    private readonly messageFor: (s: FeedState) => AssignmentDiscoverResponseProto,
    private readonly balancer: Pick<Balancer, 'reportError'>,
    private readonly logger: Logger,
  ) {
    this.#writer = new CallWriter(call);
  }

  stats(): DiscoverStreamStats {
    return { id: this.id, peer: this.call.getPeer(), sent: this.#sent, lastSentVersion: this.#lastSent, writer: this.#writer.stats() };
  }

  /** Server shutdown: ends the stream with ON_SHUTDOWN (or `reason` if it is a StreamingError). */
  close(reason?: Error): Promise<void> {
    const error = reason instanceof StreamingError ? reason : StreamingError.onShutdown('coordinator is shutting down');
    this.#stop({ kind: 'failed', error });
    return this.#done ?? Promise.resolve();
  }

  run(): Promise<void> {
    this.#done ??= this.#run();
    return this.#done;
  }

  async #run(): Promise<void> {
    const onCancelled = (): void => this.#stop({ kind: 'cancelled' });
    this.call.on('cancelled', onCancelled);
    const reader = new CallReader<DiscoverRequest>(this.call);
    const slot = new LatestSlot<FeedState>();
    // Subscribed before the arms start: the replayed current state is in the slot at once.
    const subscription = this.feed.subscribe({
      next: (s) => slot.set(s),
      error: (e: unknown) => slot.fail(asStreamingError(e)),
      complete: () => slot.complete(),
    });
    this.logger.info({}, 'assignment discover stream opened');
    try {
      await Promise.all([this.#sendArm(slot), this.#recvArm(reader)]);
    } finally {
      subscription.unsubscribe();
      reader.dispose();
      this.call.off('cancelled', onCancelled);
    }
    this.#finish();
  }

  /** Send arm: the latest state, if newer than the last sent, one write at a time. */
  async #sendArm(slot: LatestSlot<FeedState>): Promise<void> {
    const signal = this.#abort.signal;
    try {
      for (;;) {
        const state = await slot.take(signal);
        if (state === undefined) {
          this.#stop({ kind: 'failed', error: StreamingError.onShutdown('channel manager closed: coordinator is shutting down') });
          return;
        }
        const version = state.snapshot.version;
        if (this.#lastSent !== undefined && !isNewerVersion(version, this.#lastSent)) continue;
        this.#lastSent = version;
        this.#sent++;
        await this.#writer.write(this.messageFor(state), signal);
        this.logger.debug({ version: formatVersionPair(version) }, 'full assignment sent');
      }
    } catch (e) {
      if (!signal.aborted) this.#stop({ kind: 'failed', error: asStreamingError(e) });
    }
  }

  /** Recv arm: report_error → balancer; close / half-close → end the stream. */
  async #recvArm(reader: CallReader<DiscoverRequest>): Promise<void> {
    const signal = this.#abort.signal;
    try {
      for (;;) {
        const req = await reader.next(signal);
        if (req === undefined) return this.#stop({ kind: 'client-closed', how: 'eof' });
        if (req.command === 'close') return this.#stop({ kind: 'client-closed', how: 'close' });
        if (req.command === 'report_error') await this.#report(req.report_error ?? null, signal);
        else this.logger.warn({ command: req.command ?? null }, 'unknown discover command ignored');
      }
    } catch (e) {
      if (!signal.aborted) this.#stop({ kind: 'failed', error: asStreamingError(e) });
    }
  }

  /**
   * One `report_error`. Never ends the stream: a malformed report, a stale term and an unknown
   * pchannel are logged no-ops (a client may report a channel the coordinator no longer has), and
   * a failed mark is logged too, since the client reports again when it fails again.
   */
  async #report(report: NonNullable<DiscoverRequest['report_error']> | null, signal: AbortSignal): Promise<void> {
    let channel;
    try {
      channel = pchannelInfoFromProto(report?.pchannel, 'report_error.pchannel');
    } catch (e) {
      this.logger.warn({ err: e }, 'malformed report_error ignored');
      return;
    }
    const cause = report?.err ? streamingErrorFromProto(report.err).toString() : undefined;
    try {
      await this.balancer.reportError(channel, { signal });
      this.logger.info({ channel: formatPChannelInfo(channel), cause }, 'assignment error reported');
    } catch (e) {
      if (signal.aborted) throw e;
      const error = asStreamingError(e);
      const level = error.code === StreamingCode.CHANNEL_NOT_EXIST ? 'info' : 'warn';
      this.logger[level]({ channel: formatPChannelInfo(channel), cause, err: error }, 'report_error not applied');
    }
  }

  /** Records the first reason the stream ends and stops both arms. */
  #stop(end: StreamEnd): void {
    if (this.#end !== undefined) return;
    this.#end = end;
    this.#abort.abort(end.kind === 'failed' ? end.error : StreamingError.onShutdown(`stream ${end.kind}`));
  }

  #finish(): void {
    const end = this.#end ?? { kind: 'failed', error: StreamingError.inner('discover stream ended without a reason') };
    switch (end.kind) {
      case 'client-closed':
        // Queued behind a write still in flight, so `close` is always the last frame.
        this.call.write(closeResponse());
        this.call.end();
        this.logger.info({ how: end.how, sent: this.#sent }, 'assignment discover stream closed by client');
        return;
      case 'cancelled':
        this.logger.info({ sent: this.#sent }, 'assignment discover stream cancelled by client');
        return;
      case 'failed':
        failServerStream(this.call, end.error);
        this.logger.info({ err: end.error, sent: this.#sent }, 'assignment discover stream ended by server');
        return;
    }
  }
}
