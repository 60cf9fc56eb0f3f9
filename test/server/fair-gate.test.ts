/**
 * FairGate: expensive work shared in turn between principals. Against a
 * model (round robin over principals in the order they first waited, each
 * principal's work in order), for any arrival pattern; and the bounds.
 */
import fc from 'fast-check';
import t from 'tap';
import { FairGate } from '../../app/fair-gate.js';

/** Work that finishes when the test says so. */
function controllable(): { promise: Promise<void>; finish: () => void } {
  let finish = (): void => undefined;
  const promise = new Promise<void>((resolve) => (finish = resolve));
  return { promise, finish };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('a freed slot goes to the next principal in turn, never to whoever queued most (regression, issue 26: one customer\'s 4 parallel /recomendacoes made another\'s /consumo wait 6-10 s)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 30 }), async (arrivals) => {
      const gate = new FairGate(1, 100, 1000);
      const blocker = controllable();
      const blocking = gate.run('blocker', () => blocker.promise);
      const started: string[] = [];
      const works = new Map<number, ReturnType<typeof controllable>>();
      const runs = arrivals.map((key, i) => {
        const work = controllable();
        works.set(i, work);
        return gate.run(key, async () => {
          started.push(`${key}${i}`);
          await work.promise;
        });
      });
      // The model: principals in the order each first waited; each round takes the oldest of every principal with work left.
      const queues = new Map<string, string[]>();
      arrivals.forEach((key, i) => queues.set(key, [...(queues.get(key) ?? []), `${key}${i}`]));
      const expected: string[] = [];
      while ([...queues.values()].some((queue) => queue.length > 0)) for (const queue of queues.values()) if (queue.length > 0) expected.push(queue.shift() as string);
      blocker.finish();
      await blocking;
      for (let i = 0; i < arrivals.length; i++) {
        await tick();
        const name = started[i];
        if (name === undefined) return false;
        works.get(Number(name.slice(1)))?.finish();
      }
      await Promise.all(runs);
      return JSON.stringify(started) === JSON.stringify(expected) && gate.load.running === 0 && gate.load.waiting === 0 && gate.load.principals === 0;
    }),
    { numRuns: 200 },
  );
});

t.test('each principal holds a bounded share; past it 429 with Retry-After, and others are not refused', async (t) => {
  const gate = new FairGate(2, 4, 1000);
  const work = controllable();
  const mine = Array.from({ length: 4 }, () => gate.run('cliente:1', () => work.promise));
  await t.rejects(gate.run('cliente:1', async () => undefined), { name: 'DomainError', code: 'muitas_requisicoes', retryAfterS: 1 }, 'a fifth piece of one principal: 429 muitas_requisicoes');
  const other = gate.run('cliente:2', async () => 'served');
  work.finish();
  t.equal(await other, 'served', 'another principal is served in its turn');
  await Promise.all(mine);
  const small = new FairGate(1, 10, 2);
  const held = controllable();
  const running = small.run('x', () => held.promise);
  const waiting = [small.run('y', async () => 1), small.run('z', async () => 2)];
  await t.rejects(small.run('w', async () => 3), { name: 'DomainError', code: 'muitas_requisicoes', retryAfterS: 1 }, 'past the total waiting bound');
  held.finish();
  await Promise.all([running, ...waiting]);
});

t.test('urgent work (a login from an address that has not been failing) goes before the queue of the rest', async (t) => {
  const gate = new FairGate(1, 10, 1000);
  const blocker = controllable();
  const blocking = gate.run('guesser-0', () => blocker.promise);
  const order: string[] = [];
  const guesses = Array.from({ length: 20 }, (_, i) => gate.run(`guesser-${1 + (i % 10)}`, async () => void order.push(`guesser-${1 + (i % 10)}`)));
  const owner = gate.run('owner', async () => void order.push('owner'), true);
  blocker.finish();
  await Promise.all([blocking, owner, ...guesses]);
  t.equal(order[0], 'owner', 'the owner\'s check is next, whatever the guessers queued');
  t.equal(order.length, 21);
});
