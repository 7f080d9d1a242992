import { StreamingError } from '../errors/index.js';

/**
 * `milvus.proto.common.WALName`: which WAL implementation wrote a MessageID, and so which codec
 * reads its `id` string. Numbers are the proto's.
 */
export enum WalName {
  Unknown = 0,
  RocksMQ = 1,
  Pulsar = 2,
  Kafka = 3,
  WoodPecker = 4,
  Test = 999,
}

/**
 * Reads a WALName as proto-loader hands it over: the enum name (`enums: String`), its number, or
 * absent. Unknown numbers and names are rejected; absent reads as {@link WalName.Unknown}.
 */
export function parseWalName(value: unknown, field = 'WAL_name'): WalName {
  if (value === undefined || value === null) return WalName.Unknown;
  if (typeof value === 'number') {
    if (typeof WalName[value] === 'string') return value as WalName;
  } else if (typeof value === 'string') {
    const byName = (WalName as unknown as Record<string, unknown>)[value];
    if (typeof byName === 'number') return byName as WalName;
  }
  throw StreamingError.invalidArgument(field, `unknown WAL name ${JSON.stringify(value)}`);
}
