/** Request bodies of the billing endpoints. */
import * as z from 'zod';
import { money } from '../validation.js';

export const moneyMovementBody = z.strictObject({
  amount: money(1, 10000),
});
