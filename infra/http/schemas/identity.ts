/** Request and response bodies of the identity endpoints: validation and the OpenAPI document both read these. */
import * as z from 'zod';
import type { Role } from '../../../domain/identity/events.js';
import { timestamp } from './common.js';

/**
 * Names and phones are trimmed before they are checked and stored. The document says so in
 * JSON Schema, on the text as sent: at most so long as sent (checked before trimming), and
 * a pattern that holds exactly when the trimmed text passes (a name is not blank; a phone
 * has 3 or more of its characters between any spaces around it).
 */
const name = z.string().max(100).trim().min(1).meta({ pattern: '\\S' });
const phone = z
  .string()
  .max(32)
  .trim()
  .min(3)
  .regex(/^\+?[0-9 ()-]+$/, 'This value is not a valid phone number.')
  .meta({ pattern: '^\\s*(\\+[0-9 ()-]+|[0-9()-][0-9 ()-]+)[0-9()-]\\s*$' })
  .nullable()
  .optional();

/** The specification's password rule, for every new password. */
const newPassword = z.string().min(5).max(128);
/** A password given to prove who one is: checked against the stored hash, not against the rule (an older rule may have made it). */
const currentPassword = z.string().max(1024);

/**
 * An email address: zod's rule for the part before the `@`, and a domain of host names
 * (no label starts or ends with `-`), so that every address accepted is also an `email`
 * by JSON Schema's format, as the document says of a user's email.
 */
const EMAIL =
  /^(?:[A-Za-z0-9_'+-]+\.)*[A-Za-z0-9_'+-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$/;

export const registerBody = z.strictObject({
  email: z
    .string()
    .max(100)
    .trim()
    .min(5)
    .pipe(z.email({ pattern: EMAIL }))
    .meta({
      description: 'an email address (spaces around it are dropped)',
      pattern: `^\\s*${EMAIL.source.slice(1, -1)}\\s*$`,
    }),
  password: newPassword,
  firstName: name,
  lastName: name,
  phone,
});

export const loginBody = z.strictObject({
  email: z.string().max(320),
  password: z.string().max(1024),
});

export const updateProfileBody = z.strictObject({
  firstName: name,
  lastName: name,
  phone,
});

export const changePasswordBody = z.strictObject({
  oldPassword: currentPassword,
  newPassword,
});

export const deleteProfileBody = z.strictObject({
  password: currentPassword,
});

export const role = z.enum({ trader: 'trader', broker: 'broker', admin: 'admin' } satisfies { [R in Role]: R });

export const user = z
  .strictObject({
    id: z.string(),
    email: z.email(),
    role,
    firstName: z.string(),
    lastName: z.string(),
    phone: z.string().nullable(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ description: 'A user as the API shows it.' });
export type User = z.infer<typeof user>;

export const accessToken = z.strictObject({
  accessToken: z.string().meta({ description: 'a signed JWT; send it as `Authorization: Bearer <token>`' }),
});
export type AccessToken = z.infer<typeof accessToken>;

/** The public signing keys (RFC 7517); a key's members depend on its type, so more are allowed. */
export const jwks = z
  .strictObject({
    // `kty` is always there; the JWK type of the signing library (what the route sends) has it optional.
    keys: z.array(
      z.looseObject({ kty: z.string().optional(), kid: z.string(), alg: z.string(), use: z.literal('sig') }),
    ),
  })
  .meta({ description: 'The public keys that verify access tokens (a JSON Web Key Set).' });
export type Jwks = z.infer<typeof jwks>;
