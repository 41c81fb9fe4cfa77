/**
 * Fleetkit's device agent, as a library: `new DeviceAgent(options).start()`. The `fleetkit agent` and
 * `fleetkit simulate` commands are built on it.
 *
 * @see docs/agent.md
 */
export {
  DeviceAgent,
  JobRequestRejectedError,
  type AgentEvent,
  type AgentOptions,
  type CertificateOnboarding,
  type CustomHandler,
  type Onboarding,
  type Rebooter,
} from './agent';
export {
  ConnectError,
  ConnectionClosedError,
  MqttRefusedError,
  RequestTimeoutError,
  type Endpoint,
} from './connection';
export {
  DownloadError,
  SlotApplier,
  SlotMismatchError,
  type FirmwareApplier,
  type FirmwareImage,
} from './firmware';
export { ProvisioningRefusedError, type ClaimOnboarding } from './provisioning';
export { CorruptStateError, StateStore, STATE_FILE_MODE } from './state';
export {
  DEFAULT_ONBOARD_TIMEOUT_MS,
  percentile,
  SimulatedDeviceTimeoutError,
  simulateFleet,
  SIMULATION_MODES,
  SimulationOptionsError,
  type SimulationMode,
  type SimulationOptions,
  type SimulationProgress,
  type SimulationSummary,
} from './simulator';
