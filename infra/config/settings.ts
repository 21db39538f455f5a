/**
 * Every environment variable the system reads, declared once: name, default, meaning and
 * how its text is checked. `loadConfig` and the README's configuration table both come
 * from this list (see `npm run docs:config`).
 */
export interface Setting<T> {
  name: string;
  description: string;
  /** Shown in the docs; `undefined` means "no default" (optional or required by another setting). */
  defaultText?: string;
  /**
   * A password, a key, or a connection string that may carry credentials: a refused value
   * is never quoted (the error names the variable and what is allowed, and says why the value
   * is not shown), since configuration errors end up in terminals, logs and CI output.
   */
  secret?: true;
  parse(raw: string | undefined): T;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function invalid(name: string, raw: string, allowed: string, secret = false): never {
  if (secret) throw new ConfigError(`${name} is not valid (its value is not shown: it is a secret): ${allowed}`);
  throw new ConfigError(`${name}=${JSON.stringify(raw)} is not valid: ${allowed}`);
}

export function oneOf<const T extends string>(
  name: string,
  values: readonly T[],
  fallback: T,
  description: string,
): Setting<T> {
  return {
    name,
    description,
    defaultText: fallback,
    parse(raw) {
      if (raw === undefined || raw === '') return fallback;
      if ((values as readonly string[]).includes(raw)) return raw as T;
      return invalid(name, raw, `expected one of ${values.join(', ')}`);
    },
  };
}

export function integer(
  name: string,
  fallback: number,
  min: number,
  max: number,
  description: string,
): Setting<number> {
  return {
    name,
    description,
    defaultText: String(fallback),
    parse(raw) {
      if (raw === undefined || raw === '') return fallback;
      const value = Number(raw);
      if (!/^\d+$/.test(raw.trim()) || value < min || value > max) {
        return invalid(name, raw, `expected a whole number from ${min} to ${max}`);
      }
      return value;
    },
  };
}

type Pattern = { test: RegExp; allowed: string };

/** How a text setting is checked: a pattern, and whether its value is a secret never to quote. */
type TextRules = (Pattern & { secret?: true }) | { secret: true };

function checked(name: string, value: string, rules?: TextRules): string {
  if (rules && 'test' in rules && !rules.test.test(value)) return invalid(name, value, rules.allowed, rules.secret);
  return value;
}

export function text(name: string, fallback: string, description: string, rules?: TextRules): Setting<string> {
  return {
    name,
    description,
    defaultText: fallback,
    ...(rules?.secret ? { secret: true as const } : {}),
    parse: (raw) => checked(name, raw === undefined || raw === '' ? fallback : raw, rules),
  };
}

export function optionalText(name: string, description: string, rules?: TextRules): Setting<string | undefined> {
  return {
    name,
    description,
    ...(rules?.secret ? { secret: true as const } : {}),
    parse: (raw) => (raw === undefined || raw === '' ? undefined : checked(name, raw, rules)),
  };
}

/** Web origins, comma-separated: each `http(s)://host[:port]` exactly as a browser sends it in `Origin` (no path, no `*`). */
export function originList(name: string, description: string): Setting<string[]> {
  return {
    name,
    description,
    defaultText: '',
    parse(raw) {
      const origins = (raw ?? '')
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== '');
      for (const origin of origins) {
        if (!/^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(origin)) {
          invalid(
            name,
            origin,
            'expected origins such as https://app.example.com or http://localhost:3000, separated by commas (no path, no trailing slash, no *)',
          );
        }
      }
      return origins;
    },
  };
}
