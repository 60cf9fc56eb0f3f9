import fc from 'fast-check';
import t from 'tap';
import { formatDecimal } from '../../protocol/decimal.js';
import { JsonDecimal, stringifyJson, type JsonValue } from '../../protocol/json.js';

t.test('without decimals, stringifyJson writes exactly what JSON.stringify writes', async (t) => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      if (stringifyJson(value as JsonValue) !== JSON.stringify(value)) throw new Error(`differs for ${JSON.stringify(value)}`);
    }),
    { numRuns: 1000 },
  );
  t.equal(stringifyJson({ a: undefined, b: 1 } as JsonValue), '{"b":1}', 'undefined members are left out');
  t.equal(stringifyJson([Number.NaN, Infinity] as JsonValue), '[null,null]');
});

t.test('decimals are written as their exact text and parse as JSON numbers', async (t) => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 6 }), (units, scale) => {
      const normalized = formatDecimal(units, scale);
      const json = stringifyJson({ valor: new JsonDecimal(normalized), lista: [new JsonDecimal(normalized)] });
      if (json !== `{"valor":${normalized},"lista":[${normalized}]}`) throw new Error(json);
      JSON.parse(json);
    }),
    { numRuns: 500 },
  );
  t.equal(stringifyJson({ valor_pagamento: new JsonDecimal('0.03') }), '{"valor_pagamento":0.03}');
  t.throws(() => new JsonDecimal('1e5'), RangeError);
});
