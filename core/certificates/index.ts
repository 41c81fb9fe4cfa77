/**
 * Certificate toolkit shared by the CLI, the local runtime, the device agent and the tests.
 *
 * Lambda functions import the module they need (`core/certificates/inspect`, say) rather than this index: the index
 * also loads the KMS client, which a handler that only reads certificates does not need.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/x509-client-certs.html
 */
export {
  CertificateParseError,
  certificateIdOfDer,
  describeKeyInfo,
  inspectCertificate,
  isIssuedBy,
  keyInfoOf,
  type CertificateInfo,
  type CertificateKeyInfo,
  type SubjectField,
} from './inspect';
export {
  CertificateIssuer,
  createCertificateAuthority,
  InvalidCertificateAuthorityError,
  InvalidCertificateRequestError,
  createCertificateSigningRequest,
  issueDeviceCertificate,
  issueServerCertificate,
  issueVerificationCertificate,
  KEY_ALGORITHMS,
  localKeySigner,
  REGISTRATION_CODE_PATTERN,
  SignatureVerificationError,
  type CertificateSigner,
  type CreateCertificateAuthorityOptions,
  type DeviceCertificateRequest,
  type DistinguishedName,
  type IntermediateOptions,
  type IssueDeviceCertificateOptions,
  type IssueServerCertificateOptions,
  type IssuedCertificate,
  type IssueVerificationCertificateOptions,
  type IssuingCa,
  type KeyAlgorithm,
  type KeyAndCertificate,
  type SignerCa,
  type VerificationCertificateRequest,
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
  CREATE_KMS_CA_KEY_COMMAND,
  KMS_CA_KEY_REQUIREMENTS,
  KMS_SIGN_RAW_MAX_BYTES,
  KmsKeyNotUsableError,
  KmsRequestError,
  kmsSigner,
} from './kms';
export { certificateChainPem, splitPemCertificates } from './chain';
