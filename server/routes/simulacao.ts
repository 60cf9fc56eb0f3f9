/**
 * `GET /simulacao-tarifa-branca?matricula=&ciclos=12`: what the customer's
 * past cycles cost (or would have cost) under each modality, from the same
 * readings, tariffs and rules, as ANEEL advises before opting in to the
 * Tarifa Branca. Nothing is stored.
 */
import { z } from 'zod';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../http/api-access.js';
import type { BillingService } from '../../app/billing/billing.js';
import type { MeterAnswers } from '../http/result-cache.js';
import { cycleContaining, cycleMonth } from '../../domain/billing/cycle.js';
import { CENTS_SCALE, formatCents, KWH_SCALE } from '../../domain/billing/money.js';
import type { Answer, Route, RouteInput } from '../http/router.js';
import { decimalJson } from '../../app/views/decimals.js';
import { matriculaSchema, positiveInteger, withFields } from './fields.js';
import type { ProfileStore } from '../../database/profile-store.js';
import { previousMonth } from '../../domain/billing/cycle.js';

export const MAX_SIMULATED_CYCLES = 24;
const schema = z.object({ matricula: matriculaSchema, ciclos: positiveInteger(MAX_SIMULATED_CYCLES).optional() });


export function simulacaoRoute(billing: BillingService, profiles: ProfileStore, access: ApiAccess, timeZone: string, answers?: MeterAnswers<Answer>): Route {
  const handler = withFields(schema, async (input: RouteInput, read): Promise<Answer> => {
    const principal = await access.authenticate(input.request);
    const { matricula, ciclos = 12 } = read();
    access.authorize(principal, matricula);
    // Kept until the meter's newest reading or the rules change (result-cache.ts): the same question twice costs once.
    return answers === undefined ? simulate(matricula, ciclos) : answers.get(`simulacao|${ciclos}`, matricula, () => simulate(matricula, ciclos));
  });
  const simulate = async (matricula: string, ciclos: number): Promise<Answer> => {
    const profile = await profiles.profile(matricula);
    const now = Date.now();
    // The cycle open now is not compared: the newest compared is the one before it.
    let month = previousMonth(cycleMonth(cycleContaining(now, profile.readingDay, timeZone)));
    const comparison = await billing.compareModalities(matricula, month, ciclos, now);
    const { conventional, white, compared } = comparison;
    const rows = comparison.cycles.map((cycle) =>
      'error' in cycle
        ? { ciclo: cycle.month, erro: cycle.error }
        : {
            ciclo: cycle.month,
            consumo_kwh: decimalJson(cycle.conventional.invoice.consumption, KWH_SCALE),
            consumo_por_posto: cycle.white.byPosto === undefined ? null : { ponta: decimalJson(cycle.white.byPosto.ponta, KWH_SCALE), intermediario: decimalJson(cycle.white.byPosto.intermediario, KWH_SCALE), fora_ponta: decimalJson(cycle.white.byPosto.fora_ponta, KWH_SCALE) },
            convencional: decimalJson(cycle.conventional.invoice.total, CENTS_SCALE),
            branca: decimalJson(cycle.white.invoice.total, CENTS_SCALE),
            diferenca: decimalJson(cycle.white.invoice.total - cycle.conventional.invoice.total, CENTS_SCALE),
          },
    );
    const saving = conventional - white;
    const reais = (cents: bigint): string => `R$ ${formatCents(cents < 0n ? -cents : cents).replace('.', ',')}`;
    const withoutTariff = comparison.cycles.some((cycle) => 'error' in cycle && cycle.error === 'tarifa_indisponivel');
    const advice =
      compared === 0
        ? withoutTariff
          ? 'Não há tarifas em vigor para comparar as modalidades nesses ciclos: importe as tarifas da distribuidora, com as três da tarifa branca (ponta, intermediário e fora de ponta).'
          : 'Não há ciclos fechados com medições para comparar.'
        : saving > 0n
          ? `Nos ${compared} ciclos comparados, a tarifa branca teria custado ${reais(saving)} a menos. Ela compensa enquanto o consumo nos horários de ponta e intermediário continuar baixo.`
          : `Nos ${compared} ciclos comparados, a tarifa branca teria custado ${reais(saving)} a mais: a convencional é melhor para este perfil de consumo.`;
    return {
      status: 200,
      body: {
        matricula,
        modalidade_atual: profile.modality,
        gerada_em: formatIsoTimestamp(now),
        ciclos: rows as never,
        ciclos_comparados: compared,
        total_convencional: decimalJson(conventional, CENTS_SCALE),
        total_branca: decimalJson(white, CENTS_SCALE),
        economia_branca: decimalJson(saving, CENTS_SCALE),
        recomendacao: advice,
      },
    };
  };
  return { path: '/simulacao-tarifa-branca', handlers: { GET: handler }, traits: { heavy: true } };
}
