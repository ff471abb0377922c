// The `hookwire` command line: global flags, the command groups (one module each), and how a failure
// becomes one line on stderr and an exit code (exit-codes.ts). Started by bin/hookwire.js.
import { Command, CommanderError, Option } from "commander";
import { baseUrlOf, keySourceOf, type GlobalOptions } from "./context.js";
import { deliveriesCommand, redeliverCommand } from "./deliveries.js";
import { eventTypesCommand } from "./event-types.js";
import { EXIT } from "./exit-codes.js";
import { messagesCommand, triggerCommand } from "./messages.js";
import { printNote } from "./output.js";
import { recoverCommand } from "./recover.js";
import { signCommand, verifyCommand } from "./signatures.js";
import { subscriptionsCommand } from "./subscriptions.js";
import { tailCommand } from "./tail.js";

const program = new Command("hookwire")
  .description("Operate Hookwire: subscriptions, events, the event type catalog, the delivery log, recovery, a live tail, signatures.")
  .option("--api-key <key>", "API key (default: HOOKWIRE_API_KEY, else $HOOKWIRE_DATA_DIR/dev-api-key, .hookwire/dev-api-key when unset: a local npm start's)")
  .option("--url <url>", "Hookwire's address (default: HOOKWIRE_URL, else http://127.0.0.1:8080)")
  .addOption(new Option("--protocol <protocol>", "wire protocol").choices(["grpc", "connect", "grpc-web"]).default("grpc"))
  .option("--json", "print JSON for scripts: one document, or one line per event for tail")
  .addHelpText(
    "after",
    `
Owners are your customers: register each customer's endpoint with --owner <their id>, and trigger an
event for one customer with --owner; it reaches that customer's endpoints only:
  hookwire subscriptions create --owner user-42 --endpoint http://127.0.0.1:9000/hooks --event 'order.*'
  hookwire trigger order.created --owner user-42 --data '{"orderId": 1001}'
Without --owner a trigger reaches the tenant's own subscriptions; --all-owners announces to every owner.

Exit codes: 0 ok, 1 signature does not verify, 2 usage, 3 invalid argument, 4 not found,
5 unauthenticated, 6 unavailable (cannot reach Hookwire or its store), 7 limit, 8 other.`,
  );

for (const command of [
  subscriptionsCommand(),
  eventTypesCommand(),
  triggerCommand(),
  messagesCommand(),
  deliveriesCommand(),
  redeliverCommand(),
  recoverCommand(),
  tailCommand(),
  signCommand(),
  verifyCommand(),
]) {
  program.addCommand(command);
}

// For every command and group (addCommand does not pass settings down): usage problems come back here,
// not to process.exit, to get exit code 2, and their line starts like every other error line.
const configure = (cmd: Command): void => {
  cmd
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(text.startsWith("error: ") ? `hookwire: ${text.slice(7)}` : text) });
  cmd.commands.forEach(configure);
};
configure(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and --version exit 0; every other commander error was printed already and is a usage error.
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else {
    const { describeFailure } = await import("./failure.js");
    const globals = program.opts<GlobalOptions>();
    const failure = describeFailure(err, baseUrlOf(globals), keySourceOf(globals));
    // The line may quote what the server said (a field's value, an error): made safe for a terminal.
    printNote(`hookwire: ${failure.line}`);
    process.exitCode = failure.exitCode;
  }
}
