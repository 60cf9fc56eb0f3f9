/**
 * The readings CSV: what `GET /medicoes?formato=csv` writes and
 * `npm run import -- --medicoes FILE` reads back (RFC 4180 lines, CRLF or LF):
 *
 *     data_hora,matricula,consumo,tensao_v,corrente_a,potencia_kw,fator_potencia,frequencia_hz,qualidade
 *     2026-11-20T12:00:00.000Z,13456789,1350.5,219.8,5.12,1.05,0.93,60.01,valida
 *
 * `data_hora` ISO-8601 UTC (`Z`); `consumo` the register (kWh, at most
 * 3 decimals); each quantity empty when not measured; `qualidade` the flags
 * joined by `+` (`valida` when none). No field is quoted: none can hold a
 * comma. Pure: a line in, a reading or the reason it is unreadable out.
 */
import { parseDecimal, parseRegister } from './decimal.js';
import { isMatricula, type Reading } from './meter-protocol.js';
import { QUANTITIES, QUANTITY_SCALE, type Quantities } from './quantities.js';
import { parseIsoTimestamp } from './timestamp.js';

/** The header line, without its line ending. */
export const READINGS_CSV_COLUMNS = ['data_hora', 'matricula', 'consumo', ...QUANTITIES.map((spec) => spec.json), 'qualidade'] as const;
export const READINGS_CSV_HEADER = READINGS_CSV_COLUMNS.join(',');

/** A line no longer than this is never a reading: refused without splitting it. */
export const MAX_CSV_LINE = 400;
const QUANTITY_LIMITS = { scale: QUANTITY_SCALE, maxSignificantDigits: 13 } as const;
const FLAG = /^[a-z_]{1,40}$/;

export type CsvLineProblem = 'campos' | 'data_hora' | 'matricula' | 'consumo' | 'grandeza' | 'qualidade' | 'linha_longa';

export type CsvReading = { readonly ok: true; readonly reading: Reading; readonly flags: readonly string[] } | { readonly ok: false; readonly problem: CsvLineProblem };

/** Whether a first line is the readings CSV's header (its line ending and a UTF-8 BOM ignored). */
export function isReadingsCsvHeader(line: string): boolean {
  return line.replace(/^\uFEFF/, '').replace(/\r?\n?$/, '') === READINGS_CSV_HEADER;
}

/** Parses one data line (its `\r` ignored). */
export function parseReadingsCsvLine(raw: string): CsvReading {
  if (raw.length > MAX_CSV_LINE) return { ok: false, problem: 'linha_longa' };
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const fields = line.split(',');
  if (fields.length !== READINGS_CSV_COLUMNS.length) return { ok: false, problem: 'campos' };
  const timestamp = parseIsoTimestamp(fields[0] as string);
  if (timestamp === undefined) return { ok: false, problem: 'data_hora' };
  const matricula = fields[1] as string;
  if (!isMatricula(matricula)) return { ok: false, problem: 'matricula' };
  const consumo = parseRegister(fields[2] as string);
  if (consumo === undefined) return { ok: false, problem: 'consumo' };
  const quantities: Record<string, number> = {};
  let measured = false;
  for (const [index, spec] of QUANTITIES.entries()) {
    const text = fields[3 + index] as string;
    if (text === '') continue;
    const value = parseDecimal(text, QUANTITY_LIMITS);
    if (value === undefined || value > BigInt(spec.max)) return { ok: false, problem: 'grandeza' };
    quantities[spec.name] = Number(value);
    measured = true;
  }
  const flags = (fields[fields.length - 1] as string).split('+');
  if (!flags.every((flag) => FLAG.test(flag))) return { ok: false, problem: 'qualidade' };
  const reading: Reading = measured ? { matricula, timestamp, consumo, quantities: quantities as Quantities } : { matricula, timestamp, consumo };
  return { ok: true, reading, flags: flags.length === 1 && flags[0] === 'valida' ? [] : flags };
}
