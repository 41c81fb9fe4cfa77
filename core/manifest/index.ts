/**
 * Bulk provisioning's shared logic: device manifests (CSV rows, naming rules), the bulk provisioning profile and
 * its template, the registration file's lines and the task's reports. Pure: no file system, no AWS SDK.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/bulk-provisioning.html
 */
export * from './csv';
export * from './manifest';
export * from './naming';
export * from './profile';
export * from './registration';
