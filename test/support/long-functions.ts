/**
 * Finds functions longer than a limit, with the TypeScript compiler's own parser: function
 * declarations and expressions, arrow functions, methods, constructors and accessors, each
 * measured from its first line to its last (a function nested in another counts in both).
 *
 * A long function may stay long when the comment block right above it says why, with
 * `long because: <reason>` (for an arrow function or a function expression, above the line
 * it starts on: `const f = () => {`, `key: async () => {`).
 *
 * Run on its own (after `npm run build`) it lists every function over the limit, longest
 * first: `node dist/test/support/long-functions.js [limit] [folder...]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { repoDir } from './process.js';

export interface LongFunction {
  /** Repository path, posix (`infra/http/server.ts`). */
  file: string;
  /** `Class.method`, the variable or property an arrow function is assigned to, or `<anonymous> in …`. */
  name: string;
  /** First line, 1-based. */
  line: number;
  lines: number;
  /** The reason given by a `long because:` comment right above it, if any. */
  reason: string | null;
}

/** The folders of the application's source (test/ is not one). */
export const SOURCE_FOLDERS = ['domain', 'command-handlers', 'projections', 'read-api', 'infra'] as const;

const REASON = /long because:\s*(\S.*?)\s*(\*\/)?$/;

/** Every .ts file under `folders` (repository paths, posix), sorted. */
export function tsFiles(folders: readonly string[] = SOURCE_FOLDERS): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith('.') ? [] : walk(path);
      return entry.name.endsWith('.ts') ? [relative(repoDir, path).split(sep).join('/')] : [];
    });
  return folders.flatMap((folder) => walk(join(repoDir, folder))).sort();
}

/** Every function in `file` (a repository path) over `limit` lines. */
export function longFunctionsIn(file: string, limit: number): LongFunction[] {
  return longFunctionsInText(file, readFileSync(join(repoDir, file), 'utf8'), limit);
}

/** Every function in `text` (the source of `file`) over `limit` lines. */
export function longFunctionsInText(file: string, text: string, limit: number): LongFunction[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const lines = text.split('\n');
  const found: LongFunction[] = [];
  const visit = (node: ts.Node): void => {
    if (isFunction(node) && node.body) {
      const first = lineOf(source, node.getStart(source));
      const last = lineOf(source, node.getEnd());
      const length = last - first + 1;
      if (length > limit) {
        const anchor = lineOf(source, declarationOf(node).getStart(source));
        found.push({ file, name: nameOf(node), line: first, lines: length, reason: reasonAbove(lines, anchor) });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every function over `limit` lines in the files under `folders`, longest first. */
export function longFunctions(limit: number, folders: readonly string[] = SOURCE_FOLDERS): LongFunction[] {
  return tsFiles(folders)
    .flatMap((file) => longFunctionsIn(file, limit))
    .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
}

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** 1-based line of a character offset. */
function lineOf(source: ts.SourceFile, offset: number): number {
  return source.getLineAndCharacterOfPosition(offset).line + 1;
}

/**
 * The node whose first line a reason is written above: for a function expression or an
 * arrow function, what it is the value of (a variable, a property, an argument on the same
 * line) — the outermost node that starts on the function's first line.
 */
function declarationOf(node: ts.Node): ts.Node {
  const source = node.getSourceFile();
  const line = lineOf(source, node.getStart(source));
  let anchor = node;
  while (anchor.parent && !ts.isSourceFile(anchor.parent) && lineOf(source, anchor.parent.getStart(source)) === line)
    anchor = anchor.parent;
  return anchor;
}

/** The reason in the block of comment lines directly above line `line` (1-based), if it gives one. */
function reasonAbove(lines: string[], line: number): string | null {
  for (let i = line - 2; i >= 0; i--) {
    const text = lines[i]!.trim();
    if (!/^(\/\/|\/\*|\*)/.test(text)) return null;
    const reason = REASON.exec(text);
    if (reason) return reason[1]!;
  }
  return null;
}

function nameOf(node: ts.FunctionLikeDeclaration): string {
  const own = node.name && ts.isIdentifier(node.name) ? node.name.text : node.name?.getText();
  if (ts.isConstructorDeclaration(node)) return `${classOf(node)}.constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) {
    const owner = ts.isClassLike(node.parent) ? classOf(node) : null;
    return owner ? `${owner}.${own}` : `${own}`;
  }
  if (own) return own;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
    return parent.name.getText();
  if (ts.isCallExpression(parent)) return `<anonymous> in ${parent.expression.getText().slice(0, 40)}(…)`;
  return '<anonymous>';
}

function classOf(node: ts.Node): string {
  const owner = node.parent;
  return ts.isClassLike(owner) && owner.name ? owner.name.text : '<class>';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [limit = '60', ...folders] = process.argv.slice(2);
  const found = longFunctions(Number(limit), folders.length > 0 ? folders : SOURCE_FOLDERS);
  for (const f of found)
    console.log(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}${f.reason ? `  (${f.reason})` : ''}`);
}
