// m2fn: the data and evaluation command line. Each subcommand lives in tools/commands/<name>.ts
// and exports a yargs CommandModule; adding one means adding it to COMMANDS.
import yargs, { type CommandModule } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { synthCommand } from './commands/synth.ts';
import { prepareCommand } from './commands/prepare.ts';
import { insightsCommand } from './commands/insights.ts';
import { colourCommand } from './commands/colour.ts';
import { ocrCommand } from './commands/ocr.ts';
import { avaCommand } from './commands/ava.ts';
import { evalCommand } from './commands/eval.ts';
import { replicateCommand } from './commands/replicate.ts';
import { quantizeCommand } from './commands/quantize.ts';
import { scoreCommand } from './commands/score.ts';
import { serveCommand } from './commands/serve.ts';
import { explainCommand } from './commands/explain.ts';
import { whatifCommand } from './commands/whatif.ts';
import { rankCommand } from './commands/rank.ts';
import { exitWithError } from './cli-errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const COMMANDS: CommandModule<any, any>[] = [synthCommand, prepareCommand, insightsCommand, colourCommand, ocrCommand, avaCommand, evalCommand, replicateCommand, quantizeCommand, scoreCommand, serveCommand, explainCommand, whatifCommand, rankCommand];

let cli = yargs(hideBin(process.argv)).scriptName('m2fn').usage('$0 <command> [options]');
for (const c of COMMANDS) cli = cli.command(c);
try {
  await cli.demandCommand(1, 'name a command').strict().help().fail((msg, err, y) => {
    if (err) throw err;
    console.error(`${y.help()}\n\n${msg}`);
    process.exit(2);
  }).parseAsync();
} catch (e) {
  exitWithError('m2fn', e);
}
