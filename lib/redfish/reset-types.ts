/** Redfish's `ResetType` values (ComputerSystem.Reset): what Valence's node action accepts and the emulator offers. */
export const RESET_TYPES = [
  "On",
  "ForceOff",
  "GracefulShutdown",
  "GracefulRestart",
  "ForceRestart",
  "Nmi",
  "ForceOn",
  "PushPowerButton",
  "PowerCycle",
] as const;
