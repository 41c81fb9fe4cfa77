import {
  choice,
  days,
  keyAlgorithm,
  keyValues,
  matching,
  positiveInteger,
  templateType,
  wholeNumber,
} from '../../cli/option-values';
import { UsageError } from '../../cli/options';

describe('option values', () => {
  test.each([
    [days, '30', 30],
    [wholeNumber, '0', 0],
    [wholeNumber, '12', 12],
    [positiveInteger({ max: { value: 100, source: 'doc' } }), '100', 100],
    [keyAlgorithm, 'ec_p384', 'EC_P384'],
    [templateType, 'jitp', 'JITP'],
    [choice(['AWS_Things', 'AWS_ThingGroups']), 'AWS_Things', 'AWS_Things'],
    [matching(/^[0-9a-f]{4}$/i, '4 hex characters', (v) => v.toLowerCase()), 'ABCD', 'abcd'],
    [keyValues, 'a=1,b=x=y,,', { a: '1', b: 'x=y' }],
  ])('%#: accepts %p', (parse, text, value) => {
    expect((parse as (value: string, option: string) => unknown)(text, 'opt')).toEqual(value);
  });

  test.each([
    [days, '0', '--opt must be a whole number of days greater than 0; got "0".'],
    [days, '1.5', '--opt must be a whole number of days greater than 0; got "1.5".'],
    [positiveInteger(), '-1', '--opt must be a whole number greater than 0; got "-1".'],
    [
      positiveInteger({ max: { value: 100, source: 'doc' } }),
      '101',
      '--opt must be a whole number from 1 to 100 (doc); got "101".',
    ],
    [wholeNumber, '-1', '--opt must be a whole number of 0 or more; got "-1".'],
    [keyAlgorithm, 'DSA', '--opt must be one of EC_P256, EC_P384, RSA_2048, RSA_3072; got "DSA".'],
    [
      choice(['AWS_Things', 'AWS_ThingGroups']),
      'aws_things',
      '--opt must be AWS_Things or AWS_ThingGroups; got "aws_things".',
    ],
    [matching(/^a$/, 'the letter a'), 'b', '--opt must be the letter a; got "b".'],
    [keyValues, 'SerialNumber', '--opt takes NAME=VALUE pairs separated by ","; got "SerialNumber".'],
    [keyValues, '=x', '--opt takes NAME=VALUE pairs separated by ","; got "=x".'],
  ])('%#: refuses %p with a usage error naming the option and the value', (parse, text, message) => {
    const attempt = () => (parse as (value: string, option: string) => unknown)(text, 'opt');
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(message);
  });
});
