/**
 * `GET /simulacao-tarifa-branca?matricula=&ciclos=12`: what the customer's
 * past cycles cost (or would have cost) under each modality, from the same
 * readings, tariffs and rules, as ANEEL advises before opting in to the
 * Tarifa Branca. Nothing is stored.
 */
import { z } from 'zod';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import type { ApiAccess } from '../api-access.js';
import type { BillingService } from '../billing.js';
import { cycleContaining, cycleMonth } from '../domain/billing/cycle.js';
import { CENTS_SCALE, formatCents, KWH_SCALE } from '../domain/billing/money.js';
import { HttpError } from '../http/http-error.js';
import type { Answer, Route, RouteInput } from '../router.js';
import { decimalJson } from './decimals.js';
import { matriculaSchema, positiveInteger, readFields } from './fields.js';
import type { ProfileStore } from '../../database/profile-store.js';
import { previousMonth } from '../domain/billing/cycle.js';

export const MAX_SIMULATED_CYCLES = 24;
const schema = z.object({ matricula: matriculaSchema, ciclos: positiveInteger(MAX_SIMULATED_CYCLES).optional() });


export function simulacaoRoute(billing: BillingService, profiles: ProfileStore, access: ApiAccess, timeZone: string): Route {
  const handler = async (input: RouteInput): Promise<Answer> => {
    const principal = await access.authenticate(input.request);
    const { matricula, ciclos = 12 } = readFields(input, schema);
    access.authorize(principal, matricula);
    const profile = await profiles.profile(matricula);
    const now = Date.now();
    // The cycle open now is not compared: the newest compared is the one before it.
    let month = previousMonth(cycleMonth(cycleContaining(now, profile.readingDay, timeZone)));
    const rows: Array<Record<string, unknown>> = [];
    let conventional = 0n;
    let white = 0n;
    let compared = 0;
    for (let i = 0; i < ciclos; i++, month = previousMonth(month)) {
      try {
        // Only the totals are compared: the 13 previous cycles of each invoice are not read.
        const [a, b] = [await billing.bill(matricula, month, now, { modality: 'convencional', history: false }), await billing.bill(matricula, month, now, { modality: 'branca', history: false })];
        conventional += a.invoice.total;
        white += b.invoice.total;
        compared++;
        rows.push({
          ciclo: month,
          consumo_kwh: decimalJson(a.invoice.consumption, KWH_SCALE),
          consumo_por_posto: b.byPosto === undefined ? null : { ponta: decimalJson(b.byPosto.ponta, KWH_SCALE), intermediario: decimalJson(b.byPosto.intermediario, KWH_SCALE), fora_ponta: decimalJson(b.byPosto.fora_ponta, KWH_SCALE) },
          convencional: decimalJson(a.invoice.total, CENTS_SCALE),
          branca: decimalJson(b.invoice.total, CENTS_SCALE),
          diferenca: decimalJson(b.invoice.total - a.invoice.total, CENTS_SCALE),
        });
      } catch (error) {
        if (!(error instanceof HttpError) || error.codigo === 'faturamento_nao_configurado' || error.codigo === 'usuario_nao_cadastrado') throw error;
        rows.push({ ciclo: month, erro: error.codigo });
      }
    }
    const saving = conventional - white;
    const reais = (cents: bigint): string => `R$ ${formatCents(cents < 0n ? -cents : cents).replace('.', ',')}`;
    const advice =
      compared === 0
        ? 'Não há ciclos fechados com medições para comparar.'
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
