/** The Redis version Redeno is compatible with and reports (INFO, HELLO, --version). */
export const REDIS_VERSION = "7.0.15";
