/**
 * ANEEL's open data file of approved tariffs
 * (`tarifas-homologadas-distribuidoras-energia-eletrica.csv`: `;`-separated,
 * fields in double quotes, ISO-8859-1 or UTF-8, decimal comma, values in
 * R$/MWh), read for one distributor: the rows of base "Tarifa de
 * Aplicação", subgroup B1, class Residencial, no detail, in the
 * Convencional and Branca modalities, of the subclasses that bill a
 * customer: Residencial, and (Lei 15.235/2025) the Tarifa Social's and the
 * Desconto Social's rows by band ("Residencial Tarifa Social – faixa 01",
 * "… – faixa 02", "Residencial Desconto Social – faixa 01", "… – faixa 02"). Everything else is counted by the
 * reason it was left out; a row that cannot be read is named by its line;
 * rows whose validities overlap are settled by tariff-overlaps.ts.
 */
import { perMwhToPerKwh, parseScaled } from '../domain/billing/money.js';
import type { Tariff, TariffPosto, TariffSubclass } from './tariff-store.js';
import { resolveOverlaps, type OverlapResolution } from '../domain/billing/tariff-overlaps.js';

/** R$/MWh are published with 2 places; up to 5 are read. */
const MWH_SCALE = 5;
const REQUIRED = ['SigAgente', 'DatInicioVigencia', 'DatFimVigencia', 'DscBaseTarifaria', 'DscSubGrupo', 'DscModalidadeTarifaria', 'DscClasse', 'DscSubClasse', 'DscDetalhe', 'NomPostoTarifario', 'DscUnidadeTerciaria', 'VlrTUSD', 'VlrTE'] as const;
type Column = (typeof REQUIRED)[number] | 'DscREH';

export const SKIP_REASONS = {
  distribuidora: 'of other distributors',
  base: 'not of base "Tarifa de Aplicação"',
  subgrupo: 'not of subgroup B1',
  classe: 'not of class Residencial',
  subclasse: 'of other subclasses (e.g. the legacy "Baixa Renda" row, rural)',
  detalhe: 'with a detail (not "Não se aplica")',
  modalidade: 'of other modalities than Convencional and Branca',
  unidade: 'not in R$/MWh',
} as const;
export type SkipReason = keyof typeof SKIP_REASONS;

export interface AneelTariffs {
  /** The rows kept, with the file's own overlaps settled (tariff-overlaps.ts). */
  readonly tariffs: Tariff[];
  /** The rows trimmed or dropped by that rule, and why. */
  readonly resolutions: OverlapResolution[];
  readonly skipped: Record<SkipReason, number>;
  readonly malformed: Array<{ readonly line: number; readonly problem: string }>;
  readonly rows: number;
}

export class AneelFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AneelFileError';
  }
}

/** Text for comparison: no accents, lower case, single spaces. */
const plain = (text: string): string => text.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, ' ').trim();

const MONTHS = ['janeiro', 'fevereiro', 'marco', 'abril', 'maio', 'junho', 'julho', 'agosto', 'setembro', 'outubro', 'novembro', 'dezembro'];
/** "RESOLUÇÃO HOMOLOGATÓRIA Nº 3.589, DE 26 DE MAIO DE 2026", "DESPACHO Nº 2.783, DE 27 DE NOVEMBRO DE 2018", as plain text. */
const ACT_DATE = /\bde (\d{1,2})[ºo°]? de ([a-z]+) de (\d{4})$/;

/** The date of the act named in ANEEL's `DscREH`, `YYYY-MM-DD`, or undefined when it names none. */
export function actDate(act: string): string | undefined {
  const match = ACT_DATE.exec(plain(act));
  if (match === null) return undefined;
  const month = MONTHS.indexOf(match[2] as string) + 1;
  if (month === 0) return undefined;
  const day = `${match[3]}-${String(month).padStart(2, '0')}-${(match[1] as string).padStart(2, '0')}`;
  return parseDay(day);
}

/** The file's text: UTF-8 when it is valid UTF-8, else ISO-8859-1 (how ANEEL publishes it). */
export function decodeAneelFile(bytes: Uint8Array): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('latin1').decode(bytes);
  }
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** One `;`-separated line; fields may be quoted, with `""` for a quote inside. */
export function splitAneelLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined; // an unclosed quote
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ';') return undefined;
    } else {
      const end = line.indexOf(';', i);
      field = end === -1 ? line.slice(i) : line.slice(i, end);
      i = end === -1 ? line.length : end;
    }
    fields.push(field.trim());
    if (i >= line.length) return fields;
    i++; // the `;`
  }
}

/** `"1.234,56"`, `"412,38"`, `",00"` as R$/MWh at MWH_SCALE. */
function parseMwh(text: string): bigint | undefined {
  const normalized = (text.includes(',') ? text.replace(/\./g, '') : text).replace(/^,/, '0,');
  return parseScaled(normalized, MWH_SCALE);
}

const DAY = /^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$/;
function parseDay(text: string): string | undefined {
  const match = DAY.exec(text);
  if (match === null) return undefined;
  const day = match[1] as string;
  return new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day ? day : undefined;
}

/** ANEEL's DscSubClasse (plain, dashes as "-") -> the subclass kept. */
const SUBCLASSES_BY_NAME: ReadonlyMap<string, TariffSubclass> = new Map([
  ['residencial', 'residencial'],
  ['residencial tarifa social - faixa 01', 'tarifa_social_1'],
  ['residencial tarifa social - faixa 02', 'tarifa_social_2'],
  ['residencial desconto social - faixa 01', 'desconto_social_1'],
  ['residencial desconto social - faixa 02', 'desconto_social_2'],
]);
/** ANEEL writes these names with an en dash; a re-saved file may have a hyphen or an em dash. */
const subclassName = (text: string): string => plain(text).replace(/\s*[\u2013\u2014-]\s*/g, ' - ');

const POSTOS_BY_NAME: ReadonlyMap<string, TariffPosto> = new Map([
  ['nao se aplica', 'nao_se_aplica'],
  ['ponta', 'ponta'],
  ['intermediario', 'intermediario'],
  ['fora ponta', 'fora_ponta'],
  ['fora de ponta', 'fora_ponta'],
]);

export function parseAneelTariffs(bytes: Uint8Array, distribuidora: string): AneelTariffs {
  const lines = decodeAneelFile(bytes).split(/\r?\n/);
  const header = splitAneelLine(lines[0] ?? '');
  if (header === undefined) throw new AneelFileError('the first line is not a header of ;-separated column names');
  const index = new Map(header.map((name, i) => [name, i]));
  const missing = REQUIRED.filter((name) => !index.has(name));
  if (missing.length > 0) throw new AneelFileError(`not ANEEL's tariff file: missing columns ${missing.join(', ')}`);
  const wanted = plain(distribuidora);
  const skipped = Object.fromEntries(Object.keys(SKIP_REASONS).map((reason) => [reason, 0])) as Record<SkipReason, number>;
  const malformed: Array<{ line: number; problem: string }> = [];
  const tariffs: Tariff[] = [];
  let rows = 0;
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.trim() === '') continue;
    rows++;
    const fields = splitAneelLine(line);
    if (fields === undefined || fields.length < header.length) {
      malformed.push({ line: n + 1, problem: fields === undefined ? 'an unclosed quote' : `${fields.length} fields, the header has ${header.length}` });
      continue;
    }
    const get = (column: Column): string => fields[index.get(column) ?? -1] ?? '';
    if (plain(get('SigAgente')) !== wanted) {
      skipped.distribuidora++;
      continue;
    }
    const checks: Array<[SkipReason, boolean]> = [
      ['base', plain(get('DscBaseTarifaria')) === 'tarifa de aplicacao'],
      ['subgrupo', plain(get('DscSubGrupo')) === 'b1'],
      ['classe', plain(get('DscClasse')) === 'residencial'],
      ['subclasse', SUBCLASSES_BY_NAME.has(subclassName(get('DscSubClasse')))],
      ['detalhe', plain(get('DscDetalhe')) === 'nao se aplica'],
      ['modalidade', ['convencional', 'branca'].includes(plain(get('DscModalidadeTarifaria')))],
      ['unidade', plain(get('DscUnidadeTerciaria')) === 'mwh'],
    ];
    const failed = checks.find(([, ok]) => !ok);
    if (failed !== undefined) {
      skipped[failed[0]]++;
      continue;
    }
    const modalidade = plain(get('DscModalidadeTarifaria')) as Tariff['modalidade'];
    const subclasse = SUBCLASSES_BY_NAME.get(subclassName(get('DscSubClasse'))) as TariffSubclass;
    const posto = POSTOS_BY_NAME.get(plain(get('NomPostoTarifario')));
    const problems: string[] = [];
    if (posto === undefined || (modalidade === 'convencional') !== (posto === 'nao_se_aplica')) problems.push(`NomPostoTarifario "${get('NomPostoTarifario')}" is not a posto of the ${modalidade} modality`);
    const start = parseDay(get('DatInicioVigencia'));
    const endText = get('DatFimVigencia');
    const end = endText === '' ? null : parseDay(endText);
    if (start === undefined) problems.push(`DatInicioVigencia "${get('DatInicioVigencia')}" is not a date (YYYY-MM-DD)`);
    if (end === undefined) problems.push(`DatFimVigencia "${endText}" is not a date (YYYY-MM-DD)`);
    if (start !== undefined && end !== undefined && end !== null && end < start) problems.push(`the validity ends (${end}) before it starts (${start})`);
    const tusd = parseMwh(get('VlrTUSD'));
    const te = parseMwh(get('VlrTE'));
    if (tusd === undefined || tusd < 0n) problems.push(`VlrTUSD "${get('VlrTUSD')}" is not a value in R$/MWh`);
    if (te === undefined || te < 0n) problems.push(`VlrTE "${get('VlrTE')}" is not a value in R$/MWh`);
    if (problems.length > 0) {
      malformed.push({ line: n + 1, problem: problems.join('; ') });
      continue;
    }
    tariffs.push({
      distribuidora: get('SigAgente'),
      modalidade,
      posto: posto as TariffPosto,
      ...(subclasse === 'residencial' ? {} : { subclasse }),
      vigenciaInicio: start as string,
      vigenciaFim: end as string | null,
      te: perMwhToPerKwh(te as bigint, MWH_SCALE),
      tusd: perMwhToPerKwh(tusd as bigint, MWH_SCALE),
      resolucao: get('DscREH'),
    });
  }
  const settled = resolveOverlaps(tariffs, (row) => actDate(row.resolucao));
  return { tariffs: settled.tariffs, resolutions: settled.resolutions, skipped, malformed, rows };
}
