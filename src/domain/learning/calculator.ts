import { createRequire } from 'node:module';
import type { MathJsInstance, MathNode } from 'mathjs';

/**
 * The credit calculator of activity types: named variables a member fills in, and one formula per
 * credit type (`semester_hours * 15`, `min(hours, 20) / 2`, `pages > 10 ? 5 : 2`). Formulas are
 * parsed by math.js and must stay arithmetic: numbers, the calculator's variables, + - * / ^,
 * comparisons, `? :`, parentheses and min, max, round, floor, ceil, abs. Anything else (assignments,
 * strings, property access, other functions, units) is refused before evaluation, and evaluation sees
 * only the variables' values, so no formula can reach beyond its inputs. No `eval` anywhere.
 */
let instance: MathJsInstance | undefined;
/**
 * Loaded and built on first use: importing math.js takes seconds, which the server's start (and the
 * CLI) must not pay. `require` keeps the first use synchronous.
 */
const math = () => {
  if (!instance) {
    const m = createRequire(import.meta.url)('mathjs') as typeof import('mathjs');
    instance = m.create(m.all, { number: 'number' });
  }
  return instance;
};

export const FUNCTIONS = ['min', 'max', 'round', 'floor', 'ceil', 'abs'] as const;
const FUNCTION_SET = new Set<string>(FUNCTIONS);
const OPERATORS = new Set([
  'add',
  'subtract',
  'multiply',
  'divide',
  'pow',
  'unaryMinus',
  'unaryPlus',
  'larger',
  'largerEq',
  'smaller',
  'smallerEq',
  'equal',
  'unequal',
  'and',
  'or',
  'not',
]);
const ALLOWED = 'numbers, variables, + - * / ^, comparisons, ? :, parentheses and min, max, round, floor, ceil, abs';

/** A problem with one field (dotted path), as the API reports it in a 400. */
export class CalculatorError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'CalculatorError';
  }
}

export interface CalculatorVariable {
  label: string;
  name?: string;
}
export interface CalculatorFormula {
  credit_type_id: string;
  formula?: string;
}
export interface CalculatorOptions {
  instructions?: string;
  variables?: CalculatorVariable[];
  formulas?: CalculatorFormula[];
}

/** The identifier formulas use for a variable: its name, else its label in snake case ("Semester hours" -> semester_hours). */
export function variableName(v: CalculatorVariable): string {
  if (v.name) return v.name;
  const s = v.label
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z_]/.test(s) ? s : `v_${s}`;
}

interface Parsed {
  node: MathNode;
  symbols: string[];
  evaluate: (scope: Map<string, number>) => unknown;
}

const cache = new Map<string, Parsed | string>();

/** Parses a formula: the compiled expression and the variables it uses, or why it is refused. */
export function parseFormula(formula: string): Parsed | string {
  const hit = cache.get(formula);
  if (hit !== undefined) return hit;
  let out: Parsed | string;
  try {
    const node = math().parse(formula);
    const symbols = new Set<string>();
    const problems: string[] = [];
    node.traverse((n: any, path: string, parent: any) => {
      switch (n.type) {
        case 'ConstantNode':
          if (typeof n.value !== 'number') problems.push(`${n.toString()} is not a number`);
          break;
        case 'SymbolNode':
          if (!(parent?.type === 'FunctionNode' && path === 'fn')) symbols.add(n.name);
          break;
        case 'OperatorNode':
          if (!OPERATORS.has(n.fn)) problems.push(`operator ${n.op} is not allowed`);
          break;
        case 'FunctionNode':
          if (!FUNCTION_SET.has(n.fn?.name)) problems.push(`function ${n.fn?.name ?? n.toString()} is not allowed`);
          break;
        case 'ParenthesisNode':
        case 'ConditionalNode':
          break;
        default:
          problems.push(`"${n.toString()}" is not allowed`);
      }
    });
    if (problems.length) out = `${problems[0]}; a formula may use ${ALLOWED}`;
    else {
      const compiled = node.compile();
      out = { node, symbols: [...symbols], evaluate: (scope) => compiled.evaluate(scope) };
    }
  } catch (e) {
    out = `cannot be parsed: ${(e as Error).message}`;
  }
  if (cache.size > 1000) cache.clear();
  cache.set(formula, out);
  return out;
}

/**
 * Checks a calculator as an activity type is written: variable identifiers unique, every formula
 * parsable, using only the calculator's variables, one formula per credit type. Returns the problems
 * (empty when it is sound), each naming its field under `credit_calculator_options`.
 */
export function calculatorProblems(options: CalculatorOptions, prefix = 'credit_calculator_options'): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  const names = new Map<string, number>();
  (options.variables ?? []).forEach((v, i) => {
    const name = variableName(v);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      problems.push({
        field: `${prefix}.variables.${i}.name`,
        reason: `"${name}" is not an identifier (letters, digits and _, not starting with a digit)`,
      });
    else if (names.has(name))
      problems.push({ field: `${prefix}.variables.${i}.name`, reason: `"${name}" is already variable ${names.get(name)}` });
    else if (FUNCTION_SET.has(name)) problems.push({ field: `${prefix}.variables.${i}.name`, reason: `"${name}" is a function name` });
    names.set(name, i);
  });
  const types = new Map<string, number>();
  (options.formulas ?? []).forEach((f, i) => {
    const at = `${prefix}.formulas.${i}`;
    if (types.has(f.credit_type_id))
      problems.push({
        field: `${at}.credit_type_id`,
        reason: `credit type ${f.credit_type_id} already has formula ${types.get(f.credit_type_id)} (one formula per credit type)`,
      });
    types.set(f.credit_type_id, i);
    if (f.formula === undefined || f.formula.trim() === '') return;
    const p = parseFormula(f.formula);
    if (typeof p === 'string') return problems.push({ field: `${at}.formula`, reason: p });
    const unknown = p.symbols.filter((s) => !names.has(s));
    if (unknown.length) {
      problems.push({
        field: `${at}.formula`,
        reason: `uses ${unknown.join(', ')}, which ${unknown.length > 1 ? 'are not variables' : 'is not a variable'} of the calculator (variables: ${[...names.keys()].join(', ') || 'none'})`,
      });
    }
  });
  return problems;
}

export interface CalculatedCredits {
  credits: { credit_type_id: string; quantity: number }[];
  total_number_of_credits: number;
}

const toNumber = (v: unknown): number | undefined => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
};

/**
 * The credits per credit type for the member's inputs (`credit_calculator_variables`, keyed by
 * variable identifier). A missing or non-numeric input a formula needs, or a formula that is bad or
 * gives no finite non-negative number, is a CalculatorError naming the field.
 */
export function calculateCredits(
  options: CalculatorOptions,
  inputs: Record<string, unknown>,
  inputPrefix = 'credit_calculator_variables',
): CalculatedCredits {
  const problems = calculatorProblems(options);
  if (problems.length) throw new CalculatorError(`activity type ${problems[0]!.field}`, problems[0]!.reason);
  const credits: { credit_type_id: string; quantity: number }[] = [];
  (options.formulas ?? []).forEach((f) => {
    if (f.formula === undefined || f.formula.trim() === '') return;
    const p = parseFormula(f.formula) as Parsed;
    const scope = new Map<string, number>();
    for (const s of p.symbols) {
      const raw = inputs[s];
      if (raw === undefined || raw === null || raw === '')
        throw new CalculatorError(`${inputPrefix}.${s}`, `is required by the formula for credit type ${f.credit_type_id} (${f.formula})`);
      const n = toNumber(raw);
      if (n === undefined) throw new CalculatorError(`${inputPrefix}.${s}`, `must be a number (got ${JSON.stringify(raw)})`);
      scope.set(s, n);
    }
    let value: unknown;
    try {
      value = p.evaluate(scope);
    } catch (e) {
      throw new CalculatorError(`formula for credit type ${f.credit_type_id}`, `${f.formula} cannot be evaluated: ${(e as Error).message}`);
    }
    if (typeof value === 'boolean') value = value ? 1 : 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new CalculatorError(
        `formula for credit type ${f.credit_type_id}`,
        `${f.formula} gives ${String(value)} for these inputs; credits must be a finite number of at least 0`,
      );
    }
    credits.push({ credit_type_id: f.credit_type_id, quantity: Math.round(value * 1e6) / 1e6 });
  });
  const total = Math.round(credits.reduce((s, c) => s + c.quantity, 0) * 1e6) / 1e6;
  return { credits, total_number_of_credits: total };
}
