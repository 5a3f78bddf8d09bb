// Device credentials: a 192-bit random token shown once, stored only as its sha256.
//
// Why sha256 and not scrypt/argon2: those slow down guessing a low-entropy password. A 192-bit
// random token cannot be guessed however fast the hash is, so a fast hash loses nothing, and it
// keeps a reconnect storm of ten thousand devices cheap for the broker.
import { createHash, randomBytes } from 'node:crypto';
import { DEVICE_ID } from '@flotilla/firmware-bundler/wire';

/** A fresh device token: `fdt_` and 24 random bytes in base64url (192 bits). */
export const newDeviceToken = (): string => `fdt_${randomBytes(24).toString('base64url')}`;

/** sha256 hex of a token, the only form the store keeps. */
export const hashDeviceToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A device id for devices provisioned without one: `dev-` and 12 random hex characters. */
export const newDeviceId = (): string => `dev-${randomBytes(6).toString('hex')}`;

/** [WIRE-1.2] device ids; they are also MQTT usernames, client ids and topic levels. */
export const isDeviceId = (id: string): boolean => DEVICE_ID.test(id);

/** Tags and groups: group names become topic levels, so no `/`, `+`, `#` or spaces. */
export const LABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
