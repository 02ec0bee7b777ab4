// The provenance label of an energy figure apportioned among the runs in flight on one host (the
// CPU, RAM and wall-meter energy of overlapping runs, shared-energy.ts): the store's provenance
// column holds it, the notes and the report name it. One constant, so that they cannot drift.
export const SHARED_PROVENANCE = "estimated, shared";
