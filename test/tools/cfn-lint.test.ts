import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import {
  CFN_LINT_MISSING_MESSAGE,
  CfnLintRunError,
  runCfnLint,
  type CfnLintResult,
} from '../../tools/cfn-lint';

// cfn-lint takes a few seconds to start: lint both templates in one run.
jest.setTimeout(120_000);

const BROKEN_TEMPLATE = `AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Unused:
    Type: String
Resources:
  Thing:
    Type: AWS::IoT::Thing
    Properties:
      ThingNam: misspelt
`;

const VALID_TEMPLATE = JSON.stringify({
  AWSTemplateFormatVersion: '2010-09-09',
  Resources: { Thing: { Type: 'AWS::IoT::Thing', Properties: { ThingName: 'fleetkit-test' } } },
});

let dir: string;
let broken: string;
let valid: string;
let result: CfnLintResult;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fleetkit-cfn-lint-'));
  broken = path.join(dir, 'broken.yaml');
  valid = path.join(dir, 'valid.json');
  writeFileSync(broken, BROKEN_TEMPLATE);
  writeFileSync(valid, VALID_TEMPLATE);
  result = runCfnLint([broken, valid]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runCfnLint', () => {
  it('reports an invalid resource property as an error, with rule, file, line and path', () => {
    expect(result.errors).toEqual([
      expect.objectContaining({
        ruleId: 'E3002',
        level: 'Error',
        file: broken,
        line: 9,
        path: ['Resources', 'Thing', 'Properties', 'ThingNam'],
        message: expect.stringContaining("'ThingNam' was unexpected"),
      }),
    ]);
  });

  it('reports an unused parameter as a warning', () => {
    expect(result.warnings).toEqual([expect.objectContaining({ ruleId: 'W2001', file: broken, line: 3 })]);
  });

  it('finds nothing in a valid template', () => {
    const all = [...result.errors, ...result.warnings, ...result.informational];
    expect(all.filter((finding) => finding.file === valid)).toEqual([]);
  });

  it('fails with what to install when cfn-lint is missing', () => {
    expect(() => runCfnLint([valid], 'cfn-lint-not-installed')).toThrow(new Error(CFN_LINT_MISSING_MESSAGE));
    expect(CFN_LINT_MISSING_MESSAGE).toBe('cfn-lint is not installed: pip install cfn-lint');
  });

  it('fails when a template does not exist', () => {
    expect(() => runCfnLint([path.join(dir, 'absent.yaml')])).toThrow(CfnLintRunError);
  });
});
