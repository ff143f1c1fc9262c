import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** One import (or re-export, or dynamic/type import) in a file under src/. */
export interface ImportEdge {
  /** The importing file, relative to src/ ('registry/pull-handlers.ts'). */
  readonly file: string;
  readonly line: number;
  /** The specifier as written. */
  readonly specifier: string;
  /** For a relative import: the imported file relative to src/ ('.js' read as '.ts'). */
  readonly target: string | null;
  /** For a package import: the package name ('fastify', '@fastify/static', 'node:fs'). */
  readonly pkg: string | null;
  /** The names imported ('*' for a namespace, 'default' for a default import). */
  readonly names: readonly string[];
}

/** A read of `process.env`. */
export interface EnvRead {
  readonly file: string;
  readonly line: number;
}

export interface SourceGraph {
  readonly files: readonly string[];
  readonly imports: readonly ImportEdge[];
  readonly envReads: readonly EnvRead[];
}

/**
 * The module a file belongs to: its first directory under src/, or for a top-level file its
 * name ('app', 'main'); the `stowage` binary's entry src/cli.ts belongs to cli.
 */
export function moduleOf(file: string): string {
  const [first = '', ...rest] = file.split('/');
  if (rest.length > 0) return first;
  const module = first.replace(/\.[mc]?ts$|\.[mc]?js$/, '');
  // The composition root is app.ts and the compose-*.ts files it splits its wiring into.
  return module.startsWith('compose-') ? 'app' : module;
}

function packageName(specifier: string): string {
  if (specifier.startsWith('node:')) return specifier;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function listFiles(dir: string, root: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(full, root);
    return /\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path.relative(root, full)] : [];
  });
}

function importedNames(clause: ts.ImportClause | undefined): string[] {
  if (!clause) return [];
  const names = clause.name ? ['default'] : [];
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) names.push('*');
  if (bindings && ts.isNamedImports(bindings)) names.push(...bindings.elements.map((e) => (e.propertyName ?? e.name).text));
  return names;
}

/** Parses every TypeScript (and .mjs) file under `srcDir` and collects its imports. */
export function readSourceGraph(srcDir: string): SourceGraph {
  const files = listFiles(srcDir, srcDir).sort();
  const imports: ImportEdge[] = [];
  const envReads: EnvRead[] = [];
  for (const file of files) {
    const text = readFileSync(path.join(srcDir, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const lineOf = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    const add = (node: ts.Node, specifier: string, names: string[]): void => {
      const relative = specifier.startsWith('.');
      const target = relative ? path.join(path.dirname(file), specifier).replace(/\.js$/, '.ts') : null;
      imports.push({ file, line: lineOf(node), specifier, target, pkg: relative ? null : packageName(specifier), names });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node, node.moduleSpecifier.text, importedNames(node.importClause));
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const clause = node.exportClause;
        const names = clause && ts.isNamedExports(clause) ? clause.elements.map((e) => (e.propertyName ?? e.name).text) : ['*'];
        add(node, node.moduleSpecifier.text, names);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [argument] = node.arguments;
        if (argument && ts.isStringLiteralLike(argument)) add(node, argument.text, ['*']);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        add(node, node.argument.literal.text, node.qualifier ? [node.qualifier.getText(source)] : ['*']);
      } else if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'process' &&
        node.name.text === 'env'
      ) {
        envReads.push({ file, line: lineOf(node) });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { files, imports, envReads };
}
