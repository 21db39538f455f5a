/** A `find` as SQL: the plan (find-plan.ts) turned into one statement over the declared index, prepared once per shape. */
import type Database from 'better-sqlite3';
import { indexName, storageName, type ScalarValue } from '../../eventsourcing/read-store/catalog.js';
import type { FindPlan } from '../../eventsourcing/read-store/find-plan.js';
import { column } from './collection-tables.js';

/** better-sqlite3 binds no booleans; json_extract gives JSON true/false as 1/0 anyway. */
function bindable(value: ScalarValue): string | number {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}

export function findSql(plan: FindPlan): { sql: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  for (const { field, value } of plan.equal) {
    if (value === null) conditions.push(`${column(field)} IS NULL`);
    else {
      conditions.push(`${column(field)} = ?`);
      params.push(bindable(value));
    }
  }
  const comparison = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;
  for (const { op, value } of plan.range) {
    conditions.push(`${column(plan.sortFields[0]!)} ${comparison[op]} ?`);
    params.push(bindable(value));
  }
  const keyColumns = [...plan.sortFields.map(column), 'id'];
  if (plan.after) {
    // A row value comparison: SQLite seeks the index straight to the cursor.
    const placeholders = keyColumns.map(() => '?').join(', ');
    conditions.push(`(${keyColumns.join(', ')}) ${plan.direction === 'asc' ? '>' : '<'} (${placeholders})`);
    params.push(...plan.after.values.map(bindable), plan.after.id);
  }
  const direction = plan.direction === 'asc' ? 'ASC' : 'DESC';
  const sql =
    `SELECT id, doc FROM ${storageName(plan.collection)} INDEXED BY ${indexName(plan.collection, plan.index)}` +
    (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
    ` ORDER BY ${keyColumns.map((c) => `${c} ${direction}`).join(', ')} LIMIT ?`;
  params.push(plan.limit + 1);
  return { sql, params };
}

/** The rows a plan selects (at most `limit + 1`), through statements kept per SQL text. */
export class FindStatements {
  private readonly statements = new Map<string, Database.Statement<unknown[], { id: string; doc: string }>>();

  constructor(private readonly db: Database.Database) {}

  rows(plan: FindPlan): Array<{ id: string; doc: string }> {
    const { sql, params } = findSql(plan);
    let statement = this.statements.get(sql);
    if (!statement) {
      // INDEXED BY makes SQLite refuse to prepare rather than silently scan the table.
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(...params);
  }

  /** SQLite's EXPLAIN QUERY PLAN lines for the statement `rows` would run. */
  explain(plan: FindPlan): string[] {
    const { sql, params } = findSql(plan);
    return this.db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail);
  }
}
