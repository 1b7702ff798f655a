/**
 * What the official SDK (`@commercengine/storefront-sdk`, its `index.d.mts`) declares each `auth`
 * method to resolve with, read by the TypeScript compiler and checked against real answers at run
 * time: a missing field, a null where a string is promised or a number where a boolean is, fails.
 * Structural, as TypeScript is: extra fields are fine, optional ones may be absent. The probe file
 * is made from the SDK's own list of methods, so a method added to the SDK is checked (and must be
 * exercised: see every-auth-method.test.ts) without a change here.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const require = createRequire(import.meta.url);
const SDK_TYPES = join(dirname(require.resolve('@commercengine/storefront-sdk')), 'index.d.mts');
/** A file that exists only in memory, beside the SDK, naming each method's success `data`. */
const PROBE = join(dirname(SDK_TYPES), '__storefront_auth_probe__.mts');

let loaded: { checker: ts.TypeChecker; probe: ts.SourceFile; methods: string[] } | undefined;

function load() {
  if (loaded) return loaded;
  const methodsOf = (checker: ts.TypeChecker, file: ts.SourceFile) => {
    const auth = file.statements.find(
      (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'AuthClient',
    );
    if (!auth) throw new Error('AuthClient is not declared in the SDK types');
    const type = checker.getTypeAtLocation(auth);
    return type
      .getProperties()
      .filter((p) => {
        const decl = p.valueDeclaration;
        return decl && ts.isMethodDeclaration(decl) && decl.parent === auth;
      })
      .map((p) => p.name);
  };
  // First pass: the method names, so the probe can name each one's data type.
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const first = ts.createProgram([SDK_TYPES], options);
  const methods = methodsOf(first.getTypeChecker(), first.getSourceFile(SDK_TYPES)!);
  const source = [
    "import type { AuthClient, UserInfo } from './index.mjs';",
    'export type __UserInfo = UserInfo;',
    'type Data<M extends keyof AuthClient> = AuthClient[M] extends (...args: never[]) => Promise<infer R>',
    '  ? Extract<R, { error: null }> extends { data: infer D } ? D : never',
    '  : never;',
    ...methods.map((m) => `export type ${m} = Data<'${m}'>;`),
  ].join('\n');
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    name === PROBE ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === PROBE || fileExists(name);
  const program = ts.createProgram([PROBE], options, host);
  loaded = { checker: program.getTypeChecker(), probe: program.getSourceFile(PROBE)!, methods };
  return loaded;
}

/** The methods the SDK's `AuthClient` declares (its `sdk.auth` namespace). */
export function declaredAuthMethods(): string[] {
  return [...load().methods].sort();
}

/**
 * Where `value` departs from the type the SDK declares for `method`'s `data` on success: one line
 * per problem (a path and what was expected), empty when it conforms. Values are described by
 * their JavaScript type only, never printed, so a token cannot end up in a test report.
 */
export function conformance(method: string, value: unknown): string[] {
  return conformanceTo(method, value, 'data');
}

/** Like conformance, for the `UserInfo` the SDK decodes from an access token (`sdk.getUserInfo()`). */
export function userInfoConformance(value: unknown): string[] {
  return conformanceTo('__UserInfo', value, 'userInfo');
}

function conformanceTo(name: string, value: unknown, path: string): string[] {
  const { checker, probe } = load();
  const alias = probe.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === name,
  );
  if (!alias) return [`the SDK declares no ${name}`];
  const problems: string[] = [];
  check(checker, checker.getTypeAtLocation(alias.name), value, path, problems, 0);
  return problems;
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

function check(
  checker: ts.TypeChecker,
  type: ts.Type,
  value: unknown,
  path: string,
  problems: string[],
  depth: number,
): void {
  const f = type.flags;
  if (depth > 12 || f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return;
  const expected = () => checker.typeToString(type);
  const fail = () => problems.push(`${path}: expected ${expected()}, got ${kind(value)}`);
  if (type.isUnion()) {
    for (const member of type.types) {
      const found: string[] = [];
      check(checker, member, value, path, found, depth + 1);
      if (found.length === 0) return;
    }
    return void fail();
  }
  if (type.isIntersection()) {
    for (const member of type.types) check(checker, member, value, path, problems, depth + 1);
    return;
  }
  if (f & ts.TypeFlags.Null) return void (value === null || fail());
  if (f & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) return void (value === undefined || fail());
  if (f & ts.TypeFlags.Never) return void fail();
  if (type.isStringLiteral()) return void (value === type.value || fail());
  if (type.isNumberLiteral()) return void (value === type.value || fail());
  if (f & ts.TypeFlags.BooleanLiteral) return void (value === (expected() === 'true') || fail());
  if (f & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral))
    return void (typeof value === 'string' || fail());
  if (f & ts.TypeFlags.Number) return void (typeof value === 'number' || fail());
  if (f & ts.TypeFlags.Boolean) return void (typeof value === 'boolean' || fail());
  if (!(f & ts.TypeFlags.Object)) return;
  if (type.getCallSignatures().length > 0) return void (typeof value === 'function' || fail());
  if (checker.isArrayType(type) || checker.isTupleType(type)) {
    if (!Array.isArray(value)) return void fail();
    const args = checker.getTypeArguments(type as ts.TypeReference);
    value.forEach((item, i) => {
      const element = checker.isTupleType(type) ? args[i] : args[0];
      if (element) check(checker, element, item, `${path}[${i}]`, problems, depth + 1);
    });
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return void fail();
  // A Date is a Date: its declared members are the platform's, not the server's to provide.
  if (type.getSymbol()?.name === 'Date') return void (value instanceof Date || fail());
  const record = value as Record<string, unknown>;
  for (const property of checker.getPropertiesOfType(type)) {
    const at = `${path}.${property.name}`;
    // `in`, not own properties: a Date's methods live on its prototype.
    const present = property.name in record && record[property.name] !== undefined;
    if (!present) {
      if (!(property.flags & ts.SymbolFlags.Optional)) problems.push(`${at}: missing (declared required)`);
      continue;
    }
    check(checker, checker.getTypeOfSymbol(property), record[property.name], at, problems, depth + 1);
  }
  for (const index of checker.getIndexInfosOfType(type)) {
    for (const [key, item] of Object.entries(record)) {
      if (!checker.getPropertyOfType(type, key))
        check(checker, index.type, item, `${path}.${key}`, problems, depth + 1);
    }
  }
}
