/** `/medicoes/ultima-medicao`: the newest stored reading of a meter. */
import type { Store } from '../../database/store.js';
import { formatIsoTimestamp } from '../../protocol/timestamp.js';
import { HttpError } from '../http/http-error.js';
import type { ApiAccess } from '../http/api-access.js';
import type { Route } from '../http/router.js';
import { consumoJson, readingDetailsJson } from '../../app/views/decimals.js';
import { matriculaFields, matriculaRoute } from './fields.js';

export function ultimaMedicaoRoute(store: Store, access: ApiAccess): Route {
  return matriculaRoute('/medicoes/ultima-medicao', matriculaFields, access, async ({ matricula }) => {
    const [newest] = await store.recentReadings(matricula, 1);
    if (newest === undefined) throw new HttpError('sem_medicoes', `Nenhuma medição armazenada para a matrícula ${matricula}.`);
    return { status: 200, body: { matricula, data_hora: formatIsoTimestamp(newest.timestamp), consumo: consumoJson(newest.consumo), ...readingDetailsJson(newest) } };
  });
}
