/** Write-side transactions of a WAL: sessions and their manager (reference/milvus-node.md §3.5). */
export { TxnSession, type TxnSessionOptions, type TxnSessionState, type TxnWaitOptions } from './txn-session.js';
export { TxnManager, type BeginTxnRequest, type TxnIdAllocator, type TxnManagerOptions } from './txn-manager.js';
