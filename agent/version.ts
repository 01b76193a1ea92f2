// The version an agent reports in its node record.
export const VERSION = '0.1.0';
