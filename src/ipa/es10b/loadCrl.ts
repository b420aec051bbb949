// SGP.22 5.7.12 ES10b.LoadCRL: hands the eUICC a CRL of one of its CIs (the CRL of the SM-DP+ side of the chain).
import { decode } from '../../asn1/schema.js';
import { LoadCRLRequest, LoadCRLResponse, LoadCRLResponseError } from '../../asn1/definitions/rsp.js';
import { certificateList } from '../../asn1/definitions/x509.js';
import { decodeEs10Response, type Es10Client } from '../es10Client.js';
import { Es10ResultError } from '../errors.js';

const ERRORS: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(LoadCRLResponseError).map(([name, code]) => [code, name]));

/** Sends the CRL (DER CertificateList; Asn1Error if it is not one); Es10ResultError when the eUICC refuses it. */
export async function loadCrl(client: Es10Client, crlDer: Buffer): Promise<void> {
  const fn = 'LoadCRL';
  const der = await client.command(LoadCRLRequest.encode({ crl: decode(certificateList, crlDer) }), fn);
  const response = decodeEs10Response(LoadCRLResponse, der, fn);
  if (response.type === 'loadCRLResponseError') throw new Es10ResultError(fn, response.value, ERRORS[response.value]);
}
