// mcim's layer order (docs/architecture.md, Layers) as an ESLint rule: a file under src/ imports its own folder and lower layers only.
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * Lowest first. A unit is a folder under src/ (or the file src/errors.ts). A file may import from its own unit
 * and from units of lower layers; units of one layer never import one another (roles talk only
 * through wire protocols; the store and the HTTP plumbing are independent).
 */
export const LAYERS = [
  { name: 'errors', units: ['errors'] },
  { name: 'asn1', units: ['asn1'] },
  { name: 'crypto', units: ['crypto'] },
  { name: 'pki', units: ['pki'] },
  { name: 'store and http', units: ['store', 'http'] },
  { name: 'roles', units: ['smdpp', 'euicc', 'ipa', 'eim', 'auc', 'operator'] },
  { name: 'cli', units: ['cli'] },
];

const LAYER_OF = new Map(LAYERS.flatMap((layer, index) => layer.units.map((unit) => [unit, index])));
const ORDER = LAYERS.map((l) => l.units.join(', ')).join(' < ');

/** The unit of a path relative to the project root (a folder under src/, or a file there without extension), undefined outside src/. */
function unitOf(path) {
  const parts = path.split(sep);
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  return parts.length === 2 ? parts[1].replace(/\.[cm]?[jt]s$/, '') : parts[1];
}

const layersRule = {
  meta: {
    type: 'problem',
    docs: { description: 'files under src/ import only their own folder and lower layers (docs/architecture.md, Layers)' },
    schema: [],
    messages: {
      upward: "src/{{from}} (layer '{{fromLayer}}') must not import src/{{to}} (layer '{{toLayer}}'): the order is {{order}}",
      sibling: "src/{{from}} must not import src/{{to}}: both are in layer '{{layer}}', whose units never import one another",
      outside: 'a file under src/ imports only from src/ and from packages, not {{target}}',
      unassigned: 'src/{{unit}} has no layer: add it to LAYERS in scripts/layers.mjs and to docs/architecture.md',
    },
  },
  create(context) {
    const file = relative(ROOT, context.filename);
    const from = unitOf(file);
    if (from === undefined) return {};
    const fromLayer = LAYER_OF.get(from);
    if (fromLayer === undefined) {
      return { Program: (node) => context.report({ node, messageId: 'unassigned', data: { unit: from } }) };
    }
    const check = (source) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const target = relative(ROOT, resolve(dirname(context.filename), source.value));
      const to = unitOf(target);
      if (to === undefined) {
        context.report({ node: source, messageId: 'outside', data: { target: source.value } });
        return;
      }
      if (to === from) return;
      const toLayer = LAYER_OF.get(to);
      if (toLayer === undefined) {
        context.report({ node: source, messageId: 'unassigned', data: { unit: to } });
      } else if (toLayer === fromLayer) {
        context.report({ node: source, messageId: 'sibling', data: { from, to, layer: LAYERS[toLayer].name } });
      } else if (toLayer > fromLayer) {
        context.report({
          node: source,
          messageId: 'upward',
          data: { from, to, fromLayer: LAYERS[fromLayer].name, toLayer: LAYERS[toLayer].name, order: ORDER },
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
      TSImportType: (node) => check(node.argument?.literal ?? node.argument),
      TSExternalModuleReference: (node) => check(node.expression),
    };
  },
};

export const layersPlugin = { meta: { name: 'mcim' }, rules: { layers: layersRule } };
