/**
 * The SQL of the rollup tables (migrations 021 and 022) shared by the store
 * that keeps them at ingest and the partition job that drops months.
 */
/** The rollup columns of readings `r` (with `util`), grouped by the caller: count, flagged, usable, oldest and newest usable. */
export const ROLLUP_OF_READINGS_SQL = `count(*), count(qualidade), count(*) FILTER (WHERE util),
    min(data_hora) FILTER (WHERE util), (array_agg(consumo ORDER BY data_hora) FILTER (WHERE util))[1],
    max(data_hora) FILTER (WHERE util), (array_agg(consumo ORDER BY data_hora DESC) FILTER (WHERE util))[1]`;

/** Merges a rollup row being inserted (EXCLUDED) into the one stored as `alias`: domain/readings/rollups.ts mergeRollups. */
export const mergeRollupSql = (alias: string) => `
    leituras = ${alias}.leituras + EXCLUDED.leituras,
    sinalizadas = ${alias}.sinalizadas + EXCLUDED.sinalizadas,
    utilizaveis = ${alias}.utilizaveis + EXCLUDED.utilizaveis,
    primeira_em = CASE WHEN ${alias}.primeira_em IS NULL OR EXCLUDED.primeira_em < ${alias}.primeira_em THEN EXCLUDED.primeira_em ELSE ${alias}.primeira_em END,
    primeira_consumo = CASE WHEN ${alias}.primeira_em IS NULL OR EXCLUDED.primeira_em < ${alias}.primeira_em THEN EXCLUDED.primeira_consumo ELSE ${alias}.primeira_consumo END,
    ultima_em = CASE WHEN ${alias}.ultima_em IS NULL OR EXCLUDED.ultima_em > ${alias}.ultima_em THEN EXCLUDED.ultima_em ELSE ${alias}.ultima_em END,
    ultima_consumo = CASE WHEN ${alias}.ultima_em IS NULL OR EXCLUDED.ultima_em > ${alias}.ultima_em THEN EXCLUDED.ultima_consumo ELSE ${alias}.ultima_consumo END`;

/** The local day of `fuso` an hour belongs to (the day its first instant falls in, as rollUpDays takes it). */
export const DAY_OF_HOUR_SQL = (hour: string) => `(${hour} AT TIME ZONE z.fuso)::date`;

/**
 * Writes again, from consumo_horas, the days of `z.fuso` in [$1, $2) (local
 * dates; all when NULL): what opening with another zone and retention need.
 */
export const DAYS_FROM_HOURS_SQL = `
INSERT INTO consumo_dias
SELECT matricula, ${DAY_OF_HOUR_SQL('hora')}, sum(leituras), sum(sinalizadas), sum(utilizaveis),
  min(primeira_em), (array_agg(primeira_consumo ORDER BY primeira_em) FILTER (WHERE primeira_em IS NOT NULL))[1],
  max(ultima_em), (array_agg(ultima_consumo ORDER BY ultima_em DESC) FILTER (WHERE ultima_em IS NOT NULL))[1]
FROM consumo_horas CROSS JOIN consumo_dias_fuso z
WHERE ($1::date IS NULL OR ${DAY_OF_HOUR_SQL('hora')} >= $1::date) AND ($2::date IS NULL OR ${DAY_OF_HOUR_SQL('hora')} < $2::date)
GROUP BY 1, 2`;
