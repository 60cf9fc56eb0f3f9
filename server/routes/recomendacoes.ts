/** `GET /recomendacoes?matricula=`: rule-based savings suggestions, each with its evidence and estimated monthly saving. */
import { z } from 'zod';
import type { ApiAccess } from '../http/api-access.js';
import type { Recommending } from '../../app/recommending.js';
import type { Evidence } from '../../domain/recommendations.js';
import type { JsonValue } from '../../protocol/json.js';
import type { Answer, Route } from '../http/router.js';
import type { MeterAnswers } from '../http/result-cache.js';
import { consumoJson, decimalJson } from '../../app/views/decimals.js';
import { matriculaHandler, matriculaSchema } from './fields.js';

/** `{kwh}` -> `<name>_kwh`, `{cents}` -> `<name>_reais`, `{watts}` -> `<name>_w`, as exact decimals; others as they are. */
function evidenceJson(name: string, value: Evidence): [string, JsonValue] {
  if (value === null || typeof value !== 'object') return [name, value];
  if ('kwh' in value) return [`${name}_kwh`, consumoJson(value.kwh)];
  if ('cents' in value) return [`${name}_reais`, decimalJson(value.cents, 2)];
  return [`${name}_w`, decimalJson(value.watts, 0)];
}

export function recomendacoesRoute(recommending: Recommending, access: ApiAccess, answers?: MeterAnswers<Answer>): Route {
  const compute = async (matricula: string): Promise<Answer> => {
    const { recommendations } = await recommending.recommendations(matricula);
    return {
      status: 200,
      body: {
        matricula,
        recomendacoes: recommendations.map((r) => ({
          codigo: r.code,
          titulo: r.title,
          evidencias: Object.fromEntries(Object.entries(r.evidence).map(([name, value]) => evidenceJson(name, value))),
          economia_mensal_kwh: consumoJson(r.savingKwh),
          economia_mensal_reais: decimalJson(r.savingCents, 2),
        })),
      },
    };
  };
  // Kept until the meter's newest reading or the rules change (result-cache.ts): the same question twice costs once.
  const handler = matriculaHandler(z.object({ matricula: matriculaSchema }), access, ({ matricula }) => (answers === undefined ? compute(matricula) : answers.get('recomendacoes', matricula, () => compute(matricula))));
  return { path: '/recomendacoes', handlers: { GET: handler }, traits: { heavy: true } };
}
