// SGP.32 v1.2 3.2.2 indirect profile download: SGP.22 3.1.3 with the SM-DP+ reached through the eIM (ESipa InitiateAuthentication, AuthenticateClient, GetBoundProfilePackage, CancelSession), for an IPA without its own path to the SM-DP+; the installation result goes to the eIM with the trigger's result.
import type { DownloadServer } from '../profileDownload.js';
import { authenticateClient } from './authenticateClient.js';
import { cancelSession } from './cancelSession.js';
import type { EsipaClient } from './esipaClient.js';
import { getBoundProfilePackage } from './getBoundProfilePackage.js';
import { initiateAuthentication } from './initiateAuthentication.js';

/**
 * The eIM as the download's server side, for the trigger `eimTransactionId` (the eIM relays only for the device its
 * trigger went to). The PIR is not delivered to the SM-DP+ here: the eIM takes it with the trigger's result and
 * forwards it. An eIM refusal may leave the SM-DP+'s session open, so every failure cancels the session on the eUICC
 * and asks the eIM to relay the cancellation.
 */
export function esipaDownloadServer(client: EsipaClient, eimTransactionId: Buffer | undefined): DownloadServer {
  return {
    initiateAuthentication: (euiccChallenge, euiccInfo1, smdpAddress) =>
      initiateAuthentication(client, { euiccChallenge, euiccInfo1, smdpAddress, ...(eimTransactionId === undefined ? {} : { eimTransactionId }) }),
    authenticateClient: (transactionId, response) => authenticateClient(client, transactionId, response),
    getBoundProfilePackage: (transactionId, response) => getBoundProfilePackage(client, transactionId, response),
    cancelSession: (transactionId, response) => cancelSession(client, transactionId, response),
    endedBy: () => false,
    // The IPAd's ESipa connection outlives the download.
    close: () => undefined,
  };
}
