// Row validation rules as SQL. Each rejected row gets exactly one reason: the first rule it
// breaks, in the order of REQUIRED_COLUMNS, then unknown image, then malicious user. The rules are
// pure functions of a row's values, so prepare applies them to groups of identical raw rows
// (far fewer than rows) and weights by the group size. Documented in docs/data.md.
import { sqlIdent, sqlString } from './duck.ts';
import { REQUIRED_COLUMNS, type LogColumn } from './log-columns.ts';

const INTEGER_TYPES = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FLOAT_TYPES = /^(FLOAT|DOUBLE|DECIMAL.*|REAL)$/;

/** SQL giving the column as BIGINT, or NULL when the value is not an integer. */
export function integerExpr(name: string, duckType: string): string {
  const col = sqlIdent(name);
  if (INTEGER_TYPES.test(duckType)) return `${col}::BIGINT`;
  if (FLOAT_TYPES.test(duckType)) return `CASE WHEN ${col} = round(${col}) THEN ${col}::BIGINT END`;
  // Text: only an optionally signed run of digits counts ("1.0", "1e0" and " " do not).
  return `CASE WHEN regexp_full_match(trim(${col}::VARCHAR), '[+-]?[0-9]{1,18}') THEN trim(${col}::VARCHAR)::BIGINT END`;
}

export interface ValidationSql {
  /** SELECT list producing typed columns `v_<name>` and the raw-null flags. */
  typed: string;
  /** CASE expression naming the first broken rule, NULL for a valid row. */
  reason: string;
  reasons: string[];
}

export interface ValidationOptions {
  columns: Record<string, string>;
  /** Table with one column `image` of known image names. */
  knownImagesTable: string;
  /** The input has a boolean column `malicious` (the row's user was judged malicious). */
  hasMaliciousFlag: boolean;
  /** Per free-text column, a table (one column of that name) of its values holding control characters. */
  controlCharTables?: Record<string, string>;
}

const CONTROL_CHARS = `'[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]'`;

/** Free-text columns (no fixed value set): checked once per distinct value, not per row. */
export const FREE_TEXT_COLUMNS = REQUIRED_COLUMNS.filter((c) => c.kind === 'text' && !c.values).map((c) => c.name);

/** SQL creating `bad_<column>` tables of distinct values with control characters, from `source`. */
export function controlCharTablesSql(source: string): { tables: Record<string, string>; statements: string[] } {
  const tables: Record<string, string> = {};
  const statements = FREE_TEXT_COLUMNS.map((c) => {
    tables[c] = `bad_${c}`;
    return `CREATE OR REPLACE TABLE bad_${c} AS SELECT DISTINCT ${sqlIdent(c)}::VARCHAR AS ${sqlIdent(c)} FROM ${source} WHERE regexp_matches(${sqlIdent(c)}::VARCHAR, ${CONTROL_CHARS})`;
  });
  return { tables, statements };
}

function columnRules(c: LogColumn, duckType: string, controlCharTables: Record<string, string>): { when: string; reason: string }[] {
  const raw = sqlIdent(c.name);
  const v = sqlIdent(`v_${c.name}`);
  const isText = !INTEGER_TYPES.test(duckType) && !FLOAT_TYPES.test(duckType);
  if (c.kind === 'int') {
    return [
      { when: isText ? `${raw} IS NULL OR trim(${raw}) = ''` : `${raw} IS NULL`, reason: `${c.name}_missing` },
      { when: `${v} IS NULL`, reason: `${c.name}_not_an_integer` },
      { when: `${v} NOT BETWEEN ${c.min} AND ${c.max}`, reason: `${c.name}_out_of_range` },
    ];
  }
  const rules = [{ when: `${raw} IS NULL${c.allowEmpty ? '' : ` OR trim(${raw}::VARCHAR) = ''`}`, reason: `${c.name}_missing` }];
  if (c.values) rules.push({ when: `${v} NOT IN (${c.values.map(sqlString).join(', ')})`, reason: `${c.name}_unknown_level` });
  // Control characters in text fields are how injected or binary garbage shows up in logs.
  else
    rules.push({
      when: controlCharTables[c.name] ? `${v} IN (SELECT ${raw} FROM ${controlCharTables[c.name]})` : `regexp_matches(${v}, ${CONTROL_CHARS})`,
      reason: `${c.name}_control_characters`,
    });
  return rules;
}

export function validationSql(o: ValidationOptions): ValidationSql {
  const typed = REQUIRED_COLUMNS.map((c) => {
    const raw = sqlIdent(c.name);
    const v = sqlIdent(`v_${c.name}`);
    return c.kind === 'int' ? `${integerExpr(c.name, o.columns[c.name])} AS ${v}` : `${raw}::VARCHAR AS ${v}`;
  });
  const rules = REQUIRED_COLUMNS.flatMap((c) => columnRules(c, o.columns[c.name], o.controlCharTables ?? {}));
  rules.push({ when: `v_image NOT IN (SELECT image FROM ${o.knownImagesTable})`, reason: 'image_unknown' });
  if (o.hasMaliciousFlag) rules.push({ when: 'malicious', reason: 'malicious_user' });
  const reason = `CASE ${rules.map((r) => `WHEN ${r.when} THEN '${r.reason}'`).join(' ')} END`;
  return { typed: typed.join(', '), reason, reasons: rules.map((r) => r.reason) };
}
