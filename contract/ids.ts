/**
 * The identifier formats both halves check: the registry before it looks anything up, the
 * Action before it sends anything (see API.md, "Conventions").
 */

/** 24 lowercase hex characters, the form of IoTaaP's (MongoDB ObjectId) identifiers. */
export const OBJECT_ID = /^[0-9a-f]{24}$/;

/** What device and group tokens are made of: letters and digits (devices send them in a URL). */
export const TOKEN = /^[A-Za-z0-9]+$/;

/**
 * The lengths the registry accepts for a token it did not make (an imported device's): it
 * generates 16, IoTaaP's are 12.
 */
export const IMPORTED_TOKEN_LENGTH = { min: 8, max: 64 } as const;
