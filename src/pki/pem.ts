// PEM (RFC 7468): DER in base64 between BEGIN/END lines with a label, for certificates and CRLs.

/** The DER of each `label` block of PEM input; DER input as it is; an empty list for PEM without such a block. */
export function derBlocks(data: Buffer, label: string): Buffer[] {
  const text = data.toString('latin1');
  if (!text.includes('-----BEGIN')) return [data];
  const blocks = [...text.matchAll(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g'))];
  return blocks.map((m) => Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
}

/** PEM of `der` under `label`, 64 base64 characters a line. */
export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}
