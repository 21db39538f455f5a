/**
 * Request validation: zod schemas (declared once, also the source of the OpenAPI
 * document) checked here, with violations worded like the specification's example:
 *   violation at 'price': This value should be greater than or equal to 1.
 */
import * as z from 'zod';
import { HttpError } from './errors.js';

export interface Violation {
  propertyPath: string;
  message: string;
}

/** Parses `value` with `schema` or throws a 422 naming every violated field. */
export function validate<Schema extends z.ZodType>(schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const violations = result.error.issues.flatMap(toViolations);
  const text = violations.map((v) => `violation at '${v.propertyPath}': ${v.message}`).join('\n');
  throw new HttpError(422, text, {}, { violations });
}

function toViolations(issue: z.core.$ZodIssue): Violation[] {
  const at = issue.path.map(String).join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        propertyPath: at ? `${at}.${key}` : key,
        message: 'This field was not expected.',
      }));
    case 'invalid_type':
      if (issue.input === undefined) return [{ propertyPath: at, message: 'This field is missing.' }];
      return [
        {
          propertyPath: at,
          message: `This value should be of type ${issue.expected === 'object' ? 'object' : issue.expected}.`,
        },
      ];
    case 'too_small':
      return [
        {
          propertyPath: at,
          message:
            issue.origin === 'string'
              ? `This value is too short. It should have ${issue.minimum} characters or more.`
              : `This value should be greater than or equal to ${issue.minimum}.`,
        },
      ];
    case 'too_big':
      return [
        {
          propertyPath: at,
          message:
            issue.origin === 'string'
              ? `This value is too long. It should have ${issue.maximum} characters or less.`
              : `This value should be less than or equal to ${issue.maximum}.`,
        },
      ];
    case 'invalid_format':
      return [
        {
          propertyPath: at,
          message: issue.format === 'email' ? 'This value is not a valid email address.' : 'This value is not valid.',
        },
      ];
    default:
      return [{ propertyPath: at, message: issue.message.endsWith('.') ? issue.message : `${issue.message}.` }];
  }
}

/**
 * An amount of money as the API writes it: a JSON number with at most two decimals,
 * turned into integer cents (the only form the domain knows).
 */
export function money(min: number, max: number) {
  return z
    .number()
    .min(min)
    .max(max)
    .refine((value) => Number.isFinite(value) && Math.abs(Math.round(value * 100) - value * 100) < 1e-6, {
      message: 'This value should have at most 2 decimal places.',
    })
    .transform((value) => Math.round(value * 100))
    .meta({ description: `money, at most 2 decimals, ${min}..${max}` });
}

/** Cents back to the API's JSON number (`78000` → `780`, `110` → `1.1`). */
export function toMoney(cents: number): number {
  return cents / 100;
}

/** An amount that may be absent (no bid, no deal yet): null stays null. */
export function moneyOrNull(cents: number | null): number | null {
  return cents === null ? null : toMoney(cents);
}
