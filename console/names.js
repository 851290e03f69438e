// Names the API uses (events/catalog.hpp), for filters and ordering.

export const LIFECYCLE = ['Queued', 'PendingApproval', 'Allocating', 'Configuring', 'Activating', 'Verifying',
  'Completed', 'Suspended', 'Failed', 'RollingBack', 'RolledBack'];

export const REQUEST_TYPES = ['vps', 'private-cloud', 'managed-database', 'object-storage', 'namespace'];

export const STEPS = ['allocate', 'configure', 'activate', 'verify'];

/** Capacity dimensions of a cluster, with the unit shown after a number. */
export const CAPACITY = [
  { key: 'cpu', label: 'CPU', unit: ' vCPU' },
  { key: 'memoryGb', label: 'Memory', unit: ' GB' },
  { key: 'storageGb', label: 'Storage', unit: ' GB' },
  { key: 'vmSlots', label: 'VM slots', unit: '' },
];

/** Quota dimensions: the usage key and the quota key of GET /v1/tenants/{id}/usage. */
export const QUOTA = [
  { usage: 'instances', quota: 'maxInstances', label: 'Instances', unit: '' },
  { usage: 'cpu', quota: 'maxCpu', label: 'CPU', unit: ' vCPU' },
  { usage: 'memoryGb', quota: 'maxMemoryGb', label: 'Memory', unit: ' GB' },
  { usage: 'storageGb', quota: 'maxStorageGb', label: 'Storage', unit: ' GB' },
];
