// One way to declare an m2fn subcommand: its flags are declared once, in the builder, and the
// handler's argument type is inferred from them, so no command restates its flags as an interface.
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';

export const defineCommand = <T>(c: {
  command: string;
  describe: string;
  builder: (y: Argv) => Argv<T>;
  handler: (a: ArgumentsCamelCase<T>) => void | Promise<void>;
}): CommandModule<object, T> => c;
