/** Request bodies of the identity endpoints: validation and the OpenAPI document both read these. */
import * as z from 'zod';

const name = z.string().trim().min(1).max(100);
const phone = z.string().trim().min(3).max(32).regex(/^\+?[0-9 ()-]+$/, 'This value is not a valid phone number.').nullable().optional();

export const registerBody = z.strictObject({
  email: z.string().trim().min(5).max(100).pipe(z.email()),
  password: z.string().min(5).max(128),
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
