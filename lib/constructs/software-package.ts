import { RemovalPolicy } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { SOFTWARE_PACKAGE_CATALOG_LIMITS, SOFTWARE_PACKAGE_NAME_PATTERN } from '../../core/limits';
import { iotArn } from '../arn';
import { validateMaxLength, validatePattern } from '../validation';

/** Properties of {@link SoftwarePackage}. */
export interface SoftwarePackageProps {
  /** Fixed: devices report it in their `$package` shadow, and documents and queries name it. */
  readonly packageName: string;
  /** @default - none */
  readonly description?: string;
}

/**
 * A software package of the AWS IoT software package catalog (AWS::IoT::SoftwarePackage). Its versions are
 * registered and published by `fleetkit firmware upload` once a file is signed: CloudFormation's
 * AWS::IoT::SoftwarePackageVersion makes versions in the draft state, which jobs cannot deploy, and cannot
 * publish them (docs/remote-management.md, "Why versions are not CloudFormation resources").
 *
 * Retained when removed: AWS IoT refuses to delete a package that has versions, and devices report it.
 *
 * @see https://docs.aws.amazon.com/iot/latest/developerguide/software-package-catalog.html
 */
export class SoftwarePackage extends Construct {
  public readonly packageName: string;
  public readonly resource: iot.CfnSoftwarePackage;

  constructor(scope: Construct, id: string, props: SoftwarePackageProps) {
    super(scope, id);
    validatePattern(
      this,
      'packageName',
      props.packageName,
      SOFTWARE_PACKAGE_NAME_PATTERN,
      'a package name (1 to 128 of [a-zA-Z0-9._-])',
    );
    validateMaxLength(
      this,
      'description',
      props.description,
      SOFTWARE_PACKAGE_CATALOG_LIMITS.descriptionMaxLength,
    );
    this.packageName = props.packageName;
    this.resource = new iot.CfnSoftwarePackage(this, 'Default', {
      packageName: props.packageName,
      ...(props.description !== undefined && { description: props.description }),
    });
    this.resource.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }

  /** The ARN of one of the package's versions (registered outside CloudFormation). */
  public versionArn(version: string): string {
    return iotArn(this, 'package', `${this.packageName}/version/${version}`);
  }
}
