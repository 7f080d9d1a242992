/** The `Consume` stream of StreamingNodeHandlerService. */
export { serveConsume } from './consume-handler.js';
export { ConsumeServer, type ConsumeServerOptions, type ConsumerStats } from './consume-server.js';
export { VChannelConsumer, type VChannelConsumerOptions, type VChannelConsumerStats } from './vchannel-consumer.js';
export { FlatMessageSource } from './flat-message-source.js';
export {
  type BatchSettings,
  consumeFrame,
  type ConsumeRequestFrame,
  type ConsumeResponseFrame,
  type CreateVChannelConsumerRequest,
  vchannelConsumerSpec,
  type VChannelConsumerSpec,
} from './consume-frames.js';
