// `mcim euicc attach`: a software eUICC served to an LPA tool over the stdio APDU/HTTP bridge (docs/lpa-bridge.md); `mcim euicc vpcd`: the same eUICC as a PC/SC card through vsmartcard-vpcd (docs/operations.md).
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { Card } from '../../euicc/card.js';
import { Euicc } from '../../euicc/euicc.js';
import { runVpcdClient, VPCD_DEFAULT_PORT } from '../../euicc/vpcd.js';
import { BRIDGE_LOGICAL_CHANNELS, runStdioBridge } from '../../ipa/stdioBridge.js';
import { deviceSecret, httpOptions } from './device.js';

export interface AttachOptions {
  readonly state: string;
  readonly secretFile?: string;
  readonly ca?: readonly string[];
  readonly connect?: string;
}

/**
 * Runs `command` with the eUICC behind the stdio bridge; resolves with the command's exit code.
 * The eUICC saves its sealed state itself after every state-changing ES10 command.
 */
export async function euiccAttach(command: readonly string[], o: AttachOptions): Promise<number> {
  const [program, ...args] = command;
  if (program === undefined) throw new McimError('INVALID_ARGUMENT', 'no LPA command given: mcim euicc attach --state FILE -- <command...>');
  const euicc = Euicc.open(o.state, deviceSecret({ state: o.state, secretFile: o.secretFile }));
  // The bridge document promises the LPA every logical channel ISO/IEC 7816-4 can address.
  const card = new Card({ logicalChannels: BRIDGE_LOGICAL_CHANNELS });
  euicc.attach(card);
  return runStdioBridge({ command: program, args, card, http: httpOptions(o), output: process.stdout });
}

export interface VpcdOptions {
  readonly state: string;
  readonly secretFile?: string;
  readonly host: string;
  readonly port: string;
}

/**
 * Serves the eUICC as the card in vpcd's virtual reader until `signal` aborts (the command wires SIGINT and SIGTERM to
 * it). The eUICC saves its sealed state itself after every state-changing ES10 command, so stopping between two
 * commands loses nothing; the card answers one command at a time, so a signal never interrupts one half way.
 */
export async function euiccVpcd(o: VpcdOptions, signal: AbortSignal, log: (message: string) => void): Promise<void> {
  const port = Number(o.port);
  if (!/^[0-9]{1,5}$/.test(o.port) || port < 1 || port > 0xffff) throw new McimError('INVALID_ARGUMENT', `--port must be 1 to 65535, got '${o.port}'`);
  const euicc = Euicc.open(o.state, deviceSecret({ state: o.state, secretFile: o.secretFile }));
  const card = new Card({ onInternalError: (e) => log(`internal error answered 6F00: ${e instanceof Error ? e.message : String(e)}`) });
  euicc.attach(card);
  log(`eUICC ${euicc.eid} as a PC/SC card through vpcd at ${o.host}:${port}`);
  await runVpcdClient({ card, host: o.host, port, signal, log });
  log('stopped');
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerEuicc(program: Command): void {
  const euicc = program.command('euicc').description('the software eUICC as a card for other tools');
  euicc
    .command('attach')
    .description('run an LPA tool speaking the stdio APDU/HTTP bridge with this eUICC as its card (docs/lpa-bridge.md)')
    .addHelpText(
      'after',
      "\nExamples:\n  $ mcim euicc attach --state device.state -- my-lpa profile list\n  $ mcim euicc attach --state device.state --ca data/pki/p256/ci.pem --connect 127.0.0.1:8443 -- my-lpa profile download -a 'LPA:1$localhost:8443$TS48V2'",
    )
    .argument('<command...>', 'the LPA command line, after --')
    .requiredOption('--state <file>', "the eUICC's sealed state file")
    .option('--secret-file <file>', 'the device secret (hex; default <state>.secret; or $MCIM_DEVICE_SECRET)')
    .option('--ca <pem>', "trusted CA certificate file for the LPA's HTTPS requests (repeatable)", collect)
    .option('--connect <host:port>', "connect the LPA's HTTPS requests there instead of resolving their host")
    .action(async (command: string[], o: AttachOptions) => {
      process.exitCode = await euiccAttach(command, o);
    });
  euicc
    .command('vpcd')
    .description("present this eUICC as a PC/SC card through pcscd's virtual reader (Debian vsmartcard-vpcd); runs until SIGINT/SIGTERM")
    .addHelpText('after', '\nExample (docs/operations.md, "PC/SC card through vpcd"):\n  $ mcim euicc vpcd --state device.state\n  $ opensc-tool -r "Virtual PCD 00 00" -s 00A4040010A0000005591010FFFFFFFF8900000100 -s 80E2910006BF3E035C015A00')
    .requiredOption('--state <file>', "the eUICC's sealed state file")
    .option('--secret-file <file>', 'the device secret (hex; default <state>.secret; or $MCIM_DEVICE_SECRET)')
    .option('--host <host>', "vpcd's host", '127.0.0.1')
    .option('--port <port>', "vpcd's port (its first slot; the second is the next port)", String(VPCD_DEFAULT_PORT))
    .action(async (o: VpcdOptions) => {
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await euiccVpcd(o, controller.signal, (message) => void process.stderr.write(`${message}\n`));
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
