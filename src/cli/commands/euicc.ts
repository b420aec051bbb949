// `mcim euicc attach`: a software eUICC served to an LPA tool over the stdio APDU/HTTP bridge (docs/lpa-bridge.md).
import type { Command } from 'commander';
import { McimError } from '../../errors.js';
import { Card } from '../../euicc/card.js';
import { Euicc } from '../../euicc/euicc.js';
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
}
