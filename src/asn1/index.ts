// Public API of mcim's ASN.1 layer: strict DER TLV (X.690), typed codecs, SGP.22 RSP, SAIP and X.509 definitions.
export * from './errors.js';
export * from './tlv.js';
export * from './primitives.js';
export * from './schema.js';
export * as rsp from './definitions/rsp.js';
export * as saip from './definitions/saip.js';
export * as x509 from './definitions/x509.js';
