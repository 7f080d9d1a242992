import { StreamingError } from '../../errors/index.js';

/**
 * What a process publishes about itself in its session key, in Milvus's `SessionRaw` JSON shape
 * (`ServerID`, `ServerName`, `Address`, `Stopping`, …) so Milvus tooling reads our sessions as its own.
 */
export interface SessionInfo {
  readonly serverId: bigint;
  /** Role, e.g. `streamingnode` or `streamingcoord`. */
  readonly role: string;
  /** `host:port` where the process serves gRPC. */
  readonly address: string;
  /** Set on graceful shutdown: the process is draining and takes no new work. */
  readonly stopping: boolean;
  /** Semver of the process, e.g. `2.6.0`. */
  readonly version: string;
  readonly leaseId: string;
  readonly hostName: string;
}

interface SessionRaw {
  ServerID: number;
  ServerName: string;
  Address: string;
  Exclusive: boolean;
  Stopping: boolean;
  TriggerKill: boolean;
  Version: string;
  LeaseID: number;
  HostName: string;
}

/** Encodes a session as Milvus `SessionRaw` JSON. */
export function encodeSessionInfo(info: SessionInfo): Buffer {
  const raw: SessionRaw = {
    ServerID: Number(info.serverId),
    ServerName: info.role,
    Address: info.address,
    Exclusive: false,
    Stopping: info.stopping,
    TriggerKill: true,
    Version: info.version,
    // Lease ids are int64; JSON numbers lose precision past 2^53, so Milvus readers tolerate a
    // rounded value here (they only log it). The exact id stays in `leaseId` of our own reads via the key's lease.
    LeaseID: Number(info.leaseId),
    HostName: info.hostName,
  };
  return Buffer.from(JSON.stringify(raw));
}

/**
 * Decodes a session value. `key` is only used in error messages.
 * @throws StreamingError INVAILD_ARGUMENT naming the key and the bad field.
 */
export function decodeSessionInfo(key: string, value: Buffer, leaseId?: string): SessionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(value.toString('utf8'));
  } catch (e) {
    throw StreamingError.invalidArgument(`session ${key}`, 'value is not JSON', e);
  }
  if (typeof raw !== 'object' || raw === null) throw StreamingError.invalidArgument(`session ${key}`, 'value is not a JSON object');
  const r = raw as Partial<Record<keyof SessionRaw, unknown>>;
  if (typeof r.ServerID !== 'number' || !Number.isSafeInteger(r.ServerID) || r.ServerID <= 0) {
    throw StreamingError.invalidArgument(`session ${key}.ServerID`, `expected a positive integer, got ${JSON.stringify(r.ServerID)}`);
  }
  if (typeof r.Address !== 'string' || r.Address === '') {
    throw StreamingError.invalidArgument(`session ${key}.Address`, 'expected a non-empty string');
  }
  return {
    serverId: BigInt(r.ServerID),
    role: typeof r.ServerName === 'string' ? r.ServerName : '',
    address: r.Address,
    stopping: r.Stopping === true,
    version: typeof r.Version === 'string' ? r.Version : '',
    leaseId: leaseId ?? (typeof r.LeaseID === 'number' ? String(r.LeaseID) : '0'),
    hostName: typeof r.HostName === 'string' ? r.HostName : '',
  };
}
