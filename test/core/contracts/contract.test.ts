import { z } from 'zod';
import {
  ContractError,
  defineContract,
  integer,
  integerRange,
  json,
  list,
  text,
  variable,
} from '../../../core/contracts/contract';

/** A contract with one setting of each kind and a check across two of them. */
const contract = defineContract({
  functionName: 'example',
  service: 'fleetkit-example',
  variables: {
    table: text('FLEETKIT_EXAMPLE_TABLE', z.string().min(1)),
    attempts: integer('FLEETKIT_EXAMPLE_ATTEMPTS', integerRange(1, 5).default(3)),
    rules: json('FLEETKIT_EXAMPLE_RULES', z.object({ strict: z.boolean().default(false) }).strict()),
    ids: list('FLEETKIT_EXAMPLE_IDS', z.array(z.string().regex(/^[a-f]+$/, { message: 'must be a-f' }))),
    queueUrl: text('FLEETKIT_EXAMPLE_QUEUE_URL', z.string().startsWith('https://').optional()),
    mode: variable({
      name: 'FLEETKIT_EXAMPLE_MODE',
      schema: z.enum(['on', 'off']).default('on'),
      emptyIsUnset: false,
    }),
  },
  refine: (settings, ctx) => {
    if (settings.rules.strict && settings.queueUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['queueUrl'], message: 'must be set when the rules are strict' });
    }
  },
});
const NAMES = contract.names;
const GIVEN = { table: 'items', rules: {}, ids: ['ab', 'cd'] };

/** A CDK token as `Token.isUnresolved` sees one. */
const TOKEN = '${Token[TOKEN.42]}';
const isUnresolved = (value: unknown) => typeof value === 'string' && value.includes('${Token[');

describe('defineContract', () => {
  test('names each setting by its variable', () => {
    expect(NAMES).toEqual({
      table: 'FLEETKIT_EXAMPLE_TABLE',
      attempts: 'FLEETKIT_EXAMPLE_ATTEMPTS',
      rules: 'FLEETKIT_EXAMPLE_RULES',
      ids: 'FLEETKIT_EXAMPLE_IDS',
      queueUrl: 'FLEETKIT_EXAMPLE_QUEUE_URL',
      mode: 'FLEETKIT_EXAMPLE_MODE',
    });
  });

  test('encode writes every setting, defaults applied, each in its own format; an unset optional is left out', () => {
    expect(contract.encode(GIVEN)).toEqual({
      FLEETKIT_EXAMPLE_TABLE: 'items',
      FLEETKIT_EXAMPLE_ATTEMPTS: '3',
      FLEETKIT_EXAMPLE_RULES: '{"strict":false}',
      FLEETKIT_EXAMPLE_IDS: 'ab,cd',
      FLEETKIT_EXAMPLE_MODE: 'on',
    });
  });

  test('decode reads back what encode wrote', () => {
    const settings = {
      ...GIVEN,
      attempts: 5,
      rules: { strict: true },
      queueUrl: 'https://q',
      mode: 'off' as const,
    };
    expect(contract.decode(contract.encode(settings))).toEqual({ ok: true, settings });
  });

  test('decode applies defaults to unset and empty variables, and reads a list with blanks around its items', () => {
    expect(
      contract.decode({
        [NAMES.table]: 'items',
        [NAMES.rules]: '{}',
        [NAMES.ids]: ' ab , ,cd ',
        [NAMES.attempts]: '',
      }),
    ).toEqual({ ok: true, settings: { ...GIVEN, attempts: 3, rules: { strict: false }, mode: 'on' } });
  });

  test('encode writes an unresolved value as it is, unchecked, and the checks across settings see it as given', () => {
    expect(
      contract.encode(
        { ...GIVEN, ids: ['ab', TOKEN], rules: { strict: true }, queueUrl: TOKEN },
        { isUnresolved },
      ),
    ).toMatchObject({ FLEETKIT_EXAMPLE_IDS: `ab,${TOKEN}`, FLEETKIT_EXAMPLE_QUEUE_URL: TOKEN });
  });

  test('fails to encode settings the function would refuse, naming each setting', () => {
    expect(() => contract.encode({ ...GIVEN, attempts: 9, ids: ['xy'] })).toThrow(
      new ContractError(
        'invalid example settings: attempts: must be an integer from 1 to 5; got 9; ids.0: must be a-f; got "xy"',
        [],
      ),
    );
    expect(() => contract.encode({ ...GIVEN, rules: { strict: true } })).toThrow(
      'invalid example settings: queueUrl: must be set when the rules are strict',
    );
  });

  test('a ContractError lists its problems', () => {
    try {
      contract.encode({ ...GIVEN, attempts: 0, table: '' });
      throw new Error('encode accepted invalid settings');
    } catch (error) {
      expect((error as ContractError).problems).toEqual([
        'table: Too small: expected string to have >=1 characters; got ""',
        'attempts: must be an integer from 1 to 5; got 0',
      ]);
    }
  });

  test.each([
    [
      'a required variable is unset',
      {},
      [`${NAMES.table} is not set`, `${NAMES.rules} is not set`, `${NAMES.ids} is not set`],
    ],
    ['a required variable is empty', { [NAMES.table]: '' }, [`${NAMES.table} is not set`]],
    [
      'a JSON variable is not JSON',
      { [NAMES.rules]: '{' },
      [expect.stringMatching(/^FLEETKIT_EXAMPLE_RULES is not JSON: /)],
    ],
    [
      'a number is out of range',
      { [NAMES.attempts]: '7' },
      [`${NAMES.attempts}: must be an integer from 1 to 5; got 7`],
    ],
    [
      'a number is not one',
      { [NAMES.attempts]: 'many' },
      [`${NAMES.attempts}: must be an integer from 1 to 5; got "many"`],
    ],
    ['an item of a list is invalid', { [NAMES.ids]: 'ab,XY' }, [`${NAMES.ids}.1: must be a-f; got "XY"`]],
    [
      'a JSON value has an unknown key',
      { [NAMES.rules]: '{"loose":1}' },
      [`${NAMES.rules}: unknown key(s) "loose"; got {"loose":1}`],
    ],
    [
      'an empty value is not taken for unset',
      { [NAMES.mode]: '' },
      [`${NAMES.mode}: must be one of "on", "off"; got ""`],
    ],
    [
      'a check across settings fails',
      { [NAMES.rules]: '{"strict":true}' },
      [`${NAMES.queueUrl}: must be set when the rules are strict`],
    ],
  ])('fails to decode when %s, naming the variable', (_title, env, problems) => {
    const base = { [NAMES.table]: 'items', [NAMES.rules]: '{}', [NAMES.ids]: 'ab' };
    const given = Object.keys(env).length === 0 ? {} : { ...base, ...env };
    expect(contract.decode(given)).toEqual({ ok: false, problems });
  });
});
