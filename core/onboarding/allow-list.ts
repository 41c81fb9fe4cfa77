/**
 * The allow-list table's layout, shared by the infrastructure that creates it, the JITR function that reads it
 * and the CLI that fills it.
 */

/** Partition key: the thing name a device certificate maps to. */
export const ALLOW_LIST_KEY = 'thingName';
