/**
 * `walctl coord`: runs a streaming coordinator process. The coordinator parses its own flags
 * (`coord/main.ts`), so this command hands every argument after `coord` to it unchanged.
 *
 * ```
 * walctl coord --etcd 127.0.0.1:2379 --root by-dev/meta --pchannels 16 --port 22220
 * ```
 */
import type { Command } from 'commander';
import { runCoordinatorMain } from '../../coord/index.js';

export function addCoordCommand(program: Command): void {
  program
    .command('coord')
    .description('run a streaming coordinator (assignments, balancing, discovery, TSO, admin); `walctl coord --help` lists its flags')
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[flags...]')
    .action(async (flags: string[]) => {
      process.exitCode = await runCoordinatorMain(flags, { from: 'user' });
    });
}
