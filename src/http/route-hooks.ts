// Hooks placed on the routes that need them (from an onRoute hook) rather than on the app:
// Fastify runs an app-wide hook on every request, and on a cached GET the hooks of writes
// cost about as much as the GET's own work.

/** A route option's hooks as an array (Fastify takes one function or an array). */
export const hooksOf = <T>(h: T | T[] | undefined): T[] => (h === undefined ? [] : Array.isArray(h) ? h : [h]);
