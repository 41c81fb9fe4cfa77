/**
 * Options several commands declare alike, declared here once: a command puts them in its declaration as they
 * are, or spreads one and changes a field (`days: { ...VALIDITY_DAYS, defaultDescription: '7' }`).
 */
import { KEY_ALGORITHMS } from '../core/certificates';
import { days, keyAlgorithm, wholeNumber } from './option-values';

/** `--json`: the command's result as JSON on stdout. */
export const JSON_OUTPUT = { type: 'boolean', description: 'print JSON instead of text' } as const;

/** `--force`: files the command writes replace existing ones. */
export const FORCE = { type: 'boolean', description: 'overwrite existing files' } as const;

/** `--out-dir DIR`: where the command writes its files. */
export const OUT_DIR = { type: 'string', valueName: 'DIR', description: 'where to write the files' } as const;

/** `--ca-dir DIR`: a CA directory whose key is local or in AWS KMS. */
export const CA_DIR = {
  type: 'string',
  valueName: 'DIR',
  required: true,
  description: 'directory holding ca.pem and ca.key or ca.kms.json',
} as const;

/** `--kms-key-id ID`: the KMS key that is `owner`'s private key (`"the CA's"`, `"the root's"`). */
export function kmsKeyId(owner: string) {
  return {
    type: 'string',
    valueName: 'ID',
    description: `the KMS key (ID, ARN or alias/NAME) that is ${owner} private key`,
  } as const;
}

/** `--days N`: a certificate's validity; the command adds its default. */
export const VALIDITY_DAYS = {
  type: 'string',
  valueName: 'N',
  parse: days,
  description: 'validity in days',
} as const;

/** `--key-algorithm ALG`: the algorithm of a key the command generates. */
export const KEY_ALGORITHM = {
  type: 'string',
  valueName: 'ALG',
  parse: keyAlgorithm,
  description: KEY_ALGORITHMS.join(', '),
  defaultDescription: KEY_ALGORITHMS[0],
} as const;

/** `--common-name CN`: the subject CN of a certificate the command makes; the command adds its default. */
export const COMMON_NAME = { type: 'string', valueName: 'CN', description: 'subject CN' } as const;

/** `--organization O`: the subject O of a certificate the command makes. */
export const ORGANIZATION = { type: 'string', valueName: 'O', description: 'subject O' } as const;

/** `--path-length N`: how many CAs may follow a new CA in a chain; the command adds its default. */
export const PATH_LENGTH = {
  type: 'string',
  valueName: 'N',
  parse: wholeNumber,
  description: 'how many CAs may follow this one in a chain',
} as const;
