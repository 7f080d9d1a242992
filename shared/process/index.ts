/** Running a server as a process: ready line, stop signals, exit codes. */
export { describeError, formatReadyLine, type ProcessIoOptions, type ProcessService, runUntilSignal, type RunUntilSignalOptions } from './run-until-signal.js';
