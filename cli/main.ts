#!/usr/bin/env node
/**
 * `walctl`: the command line of the streaming WAL service. Each subcommand lives in
 * `cli/commands/`; process-running commands (`node`) print one JSON ready line on stdout and log
 * to stderr.
 *
 * Exit codes: what the command sets (0 = success), 2 for usage or configuration errors.
 */
import { Command, CommanderError } from 'commander';
import { StreamingError } from '../shared/index.js';
import { addCoordCommand } from './commands/coord-command.js';
import { addNodeCommand } from './commands/node-command.js';
import { addStandaloneCommand } from './commands/standalone-command.js';

/** Builds the `walctl` program with every subcommand. */
function buildProgram(): Command {
  const program = new Command('walctl')
    .description('streaming write-ahead-log service (a port of the Milvus 2.6 streaming service)')
    .showHelpAfterError()
    .exitOverride();
  addStandaloneCommand(program);
  addCoordCommand(program);
  addNodeCommand(program);
  return program;
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0 through here; usage errors were already printed by commander.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const invalid = error instanceof TypeError || (error instanceof StreamingError && error.isInvalidArgument());
    console.error(`walctl: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = invalid ? 2 : 1;
  }
  // Everything was closed; if some handle still holds the event loop, do not hang forever.
  setTimeout(() => process.exit(), 2_000).unref();
}

await main(process.argv);
