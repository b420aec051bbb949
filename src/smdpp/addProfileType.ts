// Defining a profile type (docs/conformance.md, Profile personalization): the template prepared for the type's algorithm,
// its personalization plan proven once, then stored sealed under the operator's data key with the rules.
import type { ProfileStock } from '../store/profileStock.js';
import { planPersonalization, prepareTemplate } from './personalizeProfile.js';
import { checkProfileTypeRules, checkStockName, publicRules, type PublicProfileTypeRules } from './profileType.js';

export interface ProfileTypeDefinition {
  readonly name: string;
  readonly operator: string;
  /** The operator's unprotected profile package (SAIP DER). */
  readonly template: Buffer;
  /** Rules as checkProfileTypeRules reads them. */
  readonly rules: Record<string, unknown>;
}

export interface AddedProfileType {
  readonly name: string;
  readonly operator: string;
  readonly rules: PublicProfileTypeRules;
  /** Bytes of the prepared template. */
  readonly templateSize: number;
}

/**
 * Checks the rules, prepares the template and proves its personalization plan (TEMPLATE_NOT_PATCHABLE otherwise), then
 * stores the type (PROFILE_TYPE_EXISTS when the name is taken). Nothing is written unless every check passes.
 */
export async function addProfileType(stock: ProfileStock, d: ProfileTypeDefinition, now: number): Promise<AddedProfileType> {
  checkStockName(d.name, 'profile type name');
  checkStockName(d.operator, 'operator name');
  const rules = checkProfileTypeRules(d.rules);
  const template = prepareTemplate(d.template, rules);
  planPersonalization(template, rules);
  const shown = publicRules(rules);
  await stock.addType({ name: d.name, operator: d.operator, template, rules: JSON.stringify(shown), secretRules: JSON.stringify(rules) }, now);
  return { name: d.name, operator: d.operator, rules: shown, templateSize: template.length };
}
