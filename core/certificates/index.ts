/**
 * Certificate toolkit shared by the CLI, the local runtime, the device agent and the tests.
 *
 * Lambda functions import `core/certificates/inspect` directly rather than this index: the index also loads the
 * issuing code and its `@peculiar/x509` dependency, which a handler that only reads certificates does not need.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
export {
  CertificateParseError,
  inspectCertificate,
  isIssuedBy,
  type CertificateInfo,
  type CertificateKeyInfo,
  type SubjectField,
} from './inspect';
export {
  createCertificateAuthority,
  InvalidCertificateAuthorityError,
  InvalidCertificateRequestError,
  issueDeviceCertificate,
  issueServerCertificate,
  issueVerificationCertificate,
  KEY_ALGORITHMS,
  REGISTRATION_CODE_PATTERN,
  type CreateCertificateAuthorityOptions,
  type DistinguishedName,
  type IssueDeviceCertificateOptions,
  type IssueServerCertificateOptions,
  type IssueVerificationCertificateOptions,
  type KeyAlgorithm,
  type KeyAndCertificate,
} from './issue';
export {
  CERTIFICATE_FILE_MODE,
  KeyAndCertificateReadError,
  OutputFileExistsError,
  PRIVATE_KEY_FILE_MODE,
  readKeyAndCertificate,
  writeKeyAndCertificate,
  writeOutputFile,
  type CertificateWithOptionalKey,
  type WriteKeyAndCertificateOptions,
  type WrittenFiles,
} from './files';
export {
  createCaCertificateWithKms,
  CREATE_KMS_CA_KEY_COMMAND,
  issueDeviceCertificateWithKms,
  issueVerificationCertificateWithKms,
  KMS_CA_KEY_REQUIREMENTS,
  KMS_SIGN_RAW_MAX_BYTES,
  KmsCertificateRequestError,
  KmsIssuingCaError,
  KmsKeyNotUsableError,
  KmsRequestError,
  KmsSignatureError,
  kmsSigner,
  localKeySigner,
  type CreateCaCertificateWithKmsOptions,
  type IssueDeviceCertificateWithKmsOptions,
  type IssueVerificationCertificateWithKmsOptions,
  type IssuingCa,
  type KmsSigner,
} from './kms';
export { certificateChainPem, splitPemCertificates } from './chain';
