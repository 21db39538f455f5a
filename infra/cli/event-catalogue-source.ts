/**
 * The event definitions as written in `domain/<module>/events.ts`, read with the TypeScript
 * compiler: every `type X = DomainEvent<'X', Data>` with its fields (intersections merged),
 * their declared types and doc comments, the named domain types the fields use (expanded
 * recursively), the unions that group events, and the parameters of the stream functions.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface FieldDefinition {
  name: string;
  /** The type as declared, e.g. `Cents`, `PaymentPurpose`, `string | null`. */
  type: string;
  optional: boolean;
  doc: string;
  /** Named domain types the declared type mentions (documented in `namedTypes`). */
  references: string[];
}

export interface EventDefinition {
  /** The event's type, as stored (`MoneyDeposited`). */
  type: string;
  /** The TypeScript alias declaring it (usually the same). */
  alias: string;
  /** `billing`, `identity`…: the folder under `domain/`. */
  module: string;
  /** Path from the repository root, with forward slashes. */
  file: string;
  doc: string;
  fields: FieldDefinition[];
}

/** A domain type used by event fields: an object (`fields`), a union of objects (`variants`), or anything else (`definition`). */
export interface NamedTypeDefinition {
  name: string;
  file: string;
  doc: string;
  fields?: FieldDefinition[];
  variants?: FieldDefinition[][];
  definition?: string;
}

export interface StreamFunction {
  module: string;
  /** The exported function naming a stream, e.g. `accountStream`. */
  name: string;
  parameters: string[];
}

export interface EventSource {
  events: EventDefinition[];
  namedTypes: NamedTypeDefinition[];
  /** Union aliases of events (`AccountEvent`) → the event types they list. */
  unions: Map<string, string[]>;
  streamFunctions: StreamFunction[];
}

/** `domain/<module>/events.ts` of every module that has one, in folder order. */
export function eventModules(repoDir: string): Array<{ module: string; file: string }> {
  const domain = join(repoDir, 'domain');
  return readdirSync(domain, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(domain, entry.name, 'events.ts')))
    .map((entry) => entry.name)
    .sort()
    .map((module) => ({ module, file: join(domain, module, 'events.ts') }));
}

export function readEventSource(repoDir: string): EventSource {
  const modules = eventModules(repoDir);
  const program = ts.createProgram(
    modules.map((m) => m.file),
    // Only the domain's own declarations matter: no standard library, no @types (seconds saved).
    { strict: true, noEmit: true, noLib: true, types: [], module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
  );
  const checker = program.getTypeChecker();
  // The compiler writes file names with forward slashes on every platform.
  const domainPrefix = join(repoDir, 'domain').split(sep).join('/') + '/';
  const pathOf = (file: string) => relative(repoDir, file).split(sep).join('/');
  const docOf = (symbol: ts.Symbol | undefined) => (symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() : '');

  const named = new Map<string, NamedTypeDefinition>();
  /** The domain type a type name refers to, following imports; null for anything declared elsewhere. */
  const domainDeclaration = (name: ts.EntityName): ts.Declaration | null => {
    let symbol = checker.getSymbolAtLocation(name);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const declaration = symbol?.declarations?.[0];
    if (!declaration || !declaration.getSourceFile().fileName.startsWith(domainPrefix)) return null;
    return ts.isTypeAliasDeclaration(declaration) || ts.isInterfaceDeclaration(declaration) ? declaration : null;
  };
  const referencesIn = (node: ts.Node): string[] => {
    const found: string[] = [];
    const visit = (n: ts.Node) => {
      if (ts.isTypeReferenceNode(n)) {
        const declaration = domainDeclaration(n.typeName);
        if (declaration) {
          const name = n.typeName.getText();
          if (!found.includes(name)) found.push(name);
          describeNamed(name, declaration as ts.TypeAliasDeclaration | ts.InterfaceDeclaration);
        }
      }
      ts.forEachChild(n, visit);
    };
    visit(node);
    return found;
  };
  const fieldOf = (property: ts.Symbol): FieldDefinition => {
    const declaration = property.declarations?.[0];
    const typeNode = declaration && (ts.isPropertySignature(declaration) || ts.isPropertyDeclaration(declaration)) ? declaration.type : undefined;
    const type = typeNode ? typeNode.getText().replace(/\s+/g, ' ') : checker.typeToString(checker.getTypeOfSymbol(property));
    return { name: property.name, type, optional: (property.flags & ts.SymbolFlags.Optional) !== 0, doc: docOf(property), references: typeNode ? referencesIn(typeNode) : [] };
  };
  const fieldsOf = (node: ts.TypeNode | ts.InterfaceDeclaration): FieldDefinition[] => {
    const type = ts.isInterfaceDeclaration(node) ? checker.getTypeAtLocation(node.name) : checker.getTypeFromTypeNode(node);
    return checker.getPropertiesOfType(type).map(fieldOf);
  };
  function describeNamed(name: string, declaration: ts.TypeAliasDeclaration | ts.InterfaceDeclaration): void {
    if (named.has(name)) return;
    const entry: NamedTypeDefinition = { name, file: pathOf(declaration.getSourceFile().fileName), doc: docOf(checker.getSymbolAtLocation(declaration.name)) };
    named.set(name, entry); // before the fields: a type that mentions itself stops here
    if (ts.isInterfaceDeclaration(declaration) || ts.isTypeLiteralNode(declaration.type) || ts.isIntersectionTypeNode(declaration.type)) {
      entry.fields = fieldsOf(ts.isInterfaceDeclaration(declaration) ? declaration : declaration.type);
    } else if (ts.isUnionTypeNode(declaration.type) && declaration.type.types.every(ts.isTypeLiteralNode)) {
      entry.variants = declaration.type.types.map(fieldsOf);
    } else {
      entry.definition = declaration.type.getText().replace(/\s+/g, ' ');
      referencesIn(declaration.type);
    }
  }

  const events: EventDefinition[] = [];
  const unions = new Map<string, string[]>();
  const streamFunctions: StreamFunction[] = [];
  for (const { module, file } of modules) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`cannot read ${file}`);
    const eventOfAlias = new Map<string, string>();
    const unionAliases: ts.TypeAliasDeclaration[] = [];
    for (const statement of source.statements) {
      if (ts.isTypeAliasDeclaration(statement)) {
        const event = domainEventOf(statement);
        if (event) {
          eventOfAlias.set(statement.name.text, event.type);
          events.push({
            type: event.type,
            alias: statement.name.text,
            module,
            file: pathOf(file),
            doc: docOf(checker.getSymbolAtLocation(statement.name)),
            fields: fieldsOf(event.data),
          });
        } else if (ts.isUnionTypeNode(statement.type)) {
          unionAliases.push(statement);
        }
      } else if (ts.isVariableStatement(statement) && statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
        for (const variable of statement.declarationList.declarations) {
          const init = variable.initializer;
          if (ts.isIdentifier(variable.name) && /Stream$/.test(variable.name.text) && init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) {
            streamFunctions.push({ module, name: variable.name.text, parameters: init.parameters.map((p) => p.name.getText()) });
          }
        }
      }
    }
    // Unions of this module's events (`AccountEvent = AccountOpened | …`) say which events travel together.
    for (const alias of unionAliases) {
      const members = (alias.type as ts.UnionTypeNode).types.map((t) => (ts.isTypeReferenceNode(t) ? eventOfAlias.get(t.typeName.getText()) : undefined));
      if (members.length > 0 && members.every((m) => m !== undefined)) unions.set(alias.name.text, members as string[]);
    }
  }
  return { events, namedTypes: [...named.values()].sort((a, b) => a.name.localeCompare(b.name)), unions, streamFunctions };
}

/** `DomainEvent<'X', Data>` → the event type and its data type node; null for any other alias. */
function domainEventOf(alias: ts.TypeAliasDeclaration): { type: string; data: ts.TypeNode } | null {
  const node = alias.type;
  if (!ts.isTypeReferenceNode(node) || node.typeName.getText() !== 'DomainEvent') return null;
  const [typeArgument, data] = node.typeArguments ?? [];
  if (!typeArgument || !data || !ts.isLiteralTypeNode(typeArgument) || !ts.isStringLiteral(typeArgument.literal)) {
    throw new Error(`${alias.name.text}: expected DomainEvent<'<type>', <data>>`);
  }
  return { type: typeArgument.literal.text, data };
}
