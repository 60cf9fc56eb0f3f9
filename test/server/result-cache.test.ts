/**
 * Kept answers of the dear analytic routes: the same question twice costs
 * once, concurrent ones share a computation, and an answer is recomputed
 * when the meter's newest reading or the API's state changes, when it ages,
 * or after a failure; memory is bounded.
 */
import fc from 'fast-check';
import t from 'tap';
import { AnswerVersions, MeterAnswers, ResultCache, CACHE_TTL_MS } from '../../server/http/result-cache.js';

t.test('four parallel asks of one meter\'s recommendations cost one computation (regression, issue 26: 4 x 3.6 s of CPU)', async (t) => {
  let now = 0;
  const versions = new AnswerVersions();
  let newest = 1000;
  const answers = new MeterAnswers<string>(async () => newest, versions, () => now);
  let computed = 0;
  const compute = async () => {
    computed++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    return `answer ${computed}`;
  };
  t.same(await Promise.all([1, 2, 3, 4].map(() => answers.get('recomendacoes', '13456789', compute))), Array(4).fill('answer 1'));
  t.equal(computed, 1, 'one computation for four asks');
  t.equal(await answers.get('recomendacoes', '13456789', compute), 'answer 1', 'kept');
  t.equal(await answers.get('previsao', '13456789', compute), 'answer 2', 'another question is its own');
  newest = 2000;
  t.equal(await answers.get('recomendacoes', '13456789', compute), 'answer 3', 'a new reading: computed again');
  versions.changed();
  t.equal(await answers.get('recomendacoes', '13456789', compute), 'answer 4', 'a change made through the API: computed again');
  now += CACHE_TTL_MS;
  t.equal(await answers.get('recomendacoes', '13456789', compute), 'answer 5', 'aged: computed again (time moves the cycle on)');
  t.equal(answers.computed, 5);
});

t.test('a failure is not kept; memory stays bounded; any sequence agrees with a model', async (t) => {
  const cache = new ResultCache<number>(() => 0, 3);
  await t.rejects(cache.get('a', 'v', () => Promise.reject(new Error('falhou'))));
  t.equal(await cache.get('a', 'v', async () => 7), 7, 'computed again after a failure');
  for (const key of ['b', 'c', 'd', 'e']) await cache.get(key, 'v', async () => 1);
  t.equal(cache.size, 3, 'at most its bound');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.constantFrom('v1', 'v2')), { maxLength: 40 }), async (asks) => {
      const model = new Map<string, string>();
      const under = new ResultCache<string>(() => 0, 100);
      let n = 0;
      for (const [key, version] of asks) {
        const expectedFresh = model.get(key) !== version;
        const before = under.computed;
        await under.get(key, version, async () => `${key}${version}${n++}`);
        if ((under.computed > before) !== expectedFresh) return false;
        model.set(key, version);
      }
      return true;
    }),
  );
});
