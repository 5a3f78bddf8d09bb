// Fixed Ed25519 keys for agent tests: the fleet's trusted signer and a rogue one no device trusts.
import { createEd25519Signer, generateKeyPair, toHex, type Signer } from '@flotilla/firmware-bundler';

const seed = (byte: number) => new Uint8Array(32).fill(byte);

/** The key every test device is provisioned with. */
export const TRUSTED = generateKeyPair(seed(7));
/** A valid key that no device trusts. */
export const ROGUE = generateKeyPair(seed(9));

export const trustedSigner: Signer = createEd25519Signer(TRUSTED.secretKey);
export const rogueSigner: Signer = createEd25519Signer(ROGUE.secretKey);
/** The trusted public key as 64 hex characters (the CLI's --trusted-key form). */
export const TRUSTED_HEX = toHex(TRUSTED.publicKey);
