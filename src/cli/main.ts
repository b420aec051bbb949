#!/usr/bin/env node
// The `mcim` command: entry point of every role and tool (DESIGN.md "Roles and layers").
import { Command, CommanderError } from 'commander';
import { McimError } from '../errors.js';
import { registerAka } from './commands/aka.js';
import { registerAsn1 } from './commands/asn1.js';
import { registerAuc } from './commands/auc.js';
import { registerDevice } from './commands/device.js';
import { registerEuicc } from './commands/euicc.js';
import { registerFleet } from './commands/fleet.js';
import { registerOperator } from './commands/operator.js';
import { registerPki } from './commands/pki.js';
import { registerProfiles } from './commands/profiles.js';
import { registerSelfcheck } from './commands/selfcheck.js';
import { registerServe } from './commands/serve.js';
import { registerSmdpp } from './commands/smdpp.js';
import { registerSuci } from './commands/suci.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mcim')
    .description('Remote provisioning of subscription credentials for M2M/IoT fleets (GSMA SGP.22/SGP.32, 3GPP AKA)')
    .version('0.1.0')
    .showHelpAfterError();
  registerServe(program);
  registerSmdpp(program);
  registerProfiles(program);
  registerOperator(program);
  registerDevice(program);
  registerEuicc(program);
  registerFleet(program);
  registerSelfcheck(program);
  registerAka(program);
  registerSuci(program);
  registerPki(program);
  registerAsn1(program);
  registerAuc(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Subcommands copy their parent's settings when created, so each one gets the override: usage errors throw here.
  const override = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    // Help and version exit 0; every usage error (unknown option, missing argument, bad choice) exits 2 like bad input.
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof McimError) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);
